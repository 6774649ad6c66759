// The labelled rows of a property job: the dataset rows that carry the model's target (and,
// for a spectrum or image model, the signal it reads). Every rank knows every labelled row's
// target value, split key and composition; the records themselves stay with the rank that
// holds them (dataset_rows.hpp) and are fetched by position, so a data-parallel job reads each
// structure once, on one rank, whatever the model kind.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "data/splits.hpp"
#include "matnn/composition.hpp"
#include "matnn/record.hpp"
#include "models/property_model.hpp"
#include "parallel/communicator.hpp"
#include "workflows/dataset_rows.hpp"
#include "workflows/sample_set.hpp"

namespace matnn::workflows {

class LabelledRows {
 public:
  /// Collective over `comm`, the communicator `rows` shares its records over (a serial one for
  /// InMemoryRows): each rank reads the labels of the rows it holds, and every rank learns all
  /// of them. `rows` must outlive this object. A label of several values, or a class label that
  /// is not an integer >= 0, stops every rank with a message naming `path` and the row.
  LabelledRows(DatasetRows& rows, std::string path, const std::string& target, models::TaskKind task,
               std::string signal, const parallel::Communicator& comm);

  std::size_t size() const noexcept { return index_.size(); }
  /// The dataset row of each labelled row, ascending: what a given split lists.
  const std::vector<std::size_t>& index() const noexcept { return index_; }
  /// The target value of each labelled row.
  const Eigen::VectorXd& target() const noexcept { return target_; }
  /// The rows in the dataset, labelled or not.
  std::size_t dataset_size() const noexcept { return rows_.size(); }
  /// The split keys of the labelled rows, of the kind the rows were summarised for; a cluster
  /// split's groups are assigned here (k-means on the compositions, split.clusters, split.seed).
  std::vector<data::SplitKey> keys(const data::SplitOptions& split) const;
  Composition composition(std::size_t position) const;
  /// The atoms of labelled row `position`.
  std::int64_t atoms(std::size_t position) const { return rows_.summary(index_.at(position)).atoms; }
  /// The elements of the labelled rows `positions`, ascending.
  std::vector<int> elements(std::span<const std::size_t> positions) const;
  /// The rank that holds labelled row `position`; -1 when every rank does.
  int home(std::size_t position) const { return rows_.home(index_.at(position)); }
  /// Labelled rows `positions` (dataset order) as dataset rows.
  std::vector<std::size_t> dataset_rows(std::span<const std::size_t> positions) const;
  /// The samples of labelled rows `positions`, in order: structures, and signals when the model
  /// reads one. A row held by another rank is read from its file (dataset_rows.hpp).
  SampleSet samples(std::span<const std::size_t> positions);
  /// The structures and labels of every labelled row as 16 hex digits, the data hash a model
  /// records so that `--subset` refuses a dataset that changed (any atom, cell, target or
  /// signal value, or which rows carry the label). Collective; each rank hashes its own rows,
  /// in turn, so the rows must still lie in runs in rank order (before ShardedRows::rehome).
  std::string hash() const;

 private:
  DatasetRows& rows_;
  std::string path_;
  std::string signal_;
  parallel::Communicator comm_;
  std::vector<std::size_t> index_;
  Eigen::VectorXd target_;
};

}  // namespace matnn::workflows
