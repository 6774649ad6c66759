// The structures of a potential job by row: the rows of its dataset files one after the other
// (the main file, then a validation file, then a test file). Every rank knows a short summary of
// every row (RowSummary: atoms, composition, which labels it has, its split key); the records
// themselves (positions, forces) may be held by one rank only.
//
//  - InMemoryRows: records the caller holds, every one on every rank (a serial job, `matnn eval`
//    and `matnn predict`, tests).
//  - ShardedRows: the files of a data-parallel job split among its ranks. Each rank reads one
//    contiguous range of rows by hyperslab (ranges balanced by atom count), and the summaries of
//    all ranks are gathered on every rank: each structure is read once, by one rank. Once the
//    job has split the rows, rehome() shares each part (training, validation, test rows) among
//    the ranks in the same way, so that every rank holds an equal share of the training
//    structures (a test file, or a split by time, would otherwise leave them all to a few
//    ranks); a rank then reads the rows of its new share it did not read at first. A rank asked
//    for a row it does not hold reads that row from its file, and keeps such rows up to
//    kKeptShare times its own rows' atoms (reading any further ones again when asked): a rank
//    never holds much more than twice its share of the data, and on two ranks it can keep
//    everything it is dealt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "data/splits.hpp"
#include "matnn/dataset.hpp"
#include "matnn/record.hpp"
#include "parallel/communicator.hpp"
#include "workflows/kept_rows.hpp"

namespace matnn::workflows {

/// Rows from elsewhere that a rank keeps: up to this many times the atoms of its own rows (so
/// that on two ranks, whose shares differ by a few structures, each can keep the other's).
inline constexpr double kKeptShare = 1.1;

/// What a job needs to know of a row without its record: for the split, the species, the
/// reference energies and energy scale, the loss normalisation and the dealing by cost.
struct RowSummary {
  std::int64_t atoms = 0;
  std::vector<std::pair<int, std::int64_t>> composition;  ///< (Z, atoms of it), ascending Z
  std::optional<double> energy;                           ///< eV
  bool forces = false;
  double force_sum_sq = 0.0;     ///< sum of the squared reference force components, (eV/A)^2
  bool stress = false;           ///< a stress label on a fully periodic cell (the only ones trained on)
  double volume_per_atom = 0.0;  ///< A^3, fully periodic cells; 0 otherwise
  bool isolated_atom = false;    ///< reference_energies.hpp: defines E0, never trained on
  std::string config_type;       ///< "" when untagged
  data::SplitKey key;            ///< of the split kind the rows were summarised for
};

/// The summary of one record; the split key only for `kind` (a prototype key runs spglib).
RowSummary summarise(const Record& record, data::SplitKind kind);

class DatasetRows {
 public:
  virtual ~DatasetRows() = default;

  std::size_t size() const noexcept { return summaries_.size(); }
  const RowSummary& summary(std::size_t row) const { return summaries_.at(row); }
  /// The rank that holds `row` in memory; -1 when every rank does (rows read by one process,
  /// each of a job's ranks having read them all).
  virtual int home(std::size_t row) const = 0;
  /// The rows this rank holds, ascending.
  virtual std::vector<std::size_t> local_rows() const = 0;
  /// The records of `rows` (duplicates allowed), in order; valid until the next call.
  virtual std::vector<const Record*> records(std::span<const std::size_t> rows) = 0;
  /// "FILE: structure I": where a row comes from, for messages.
  virtual std::string origin(std::size_t row) const = 0;

 protected:
  std::vector<RowSummary> summaries_;
};

class InMemoryRows : public DatasetRows {
 public:
  /// `records` must outlive this object; `path` names them in messages.
  InMemoryRows(std::span<const Record> records, data::SplitKind kind, std::string path = "the dataset");

  int home(std::size_t) const override { return -1; }
  std::vector<std::size_t> local_rows() const override;
  std::vector<const Record*> records(std::span<const std::size_t> rows) override;
  std::string origin(std::size_t row) const override;

 private:
  std::span<const Record> records_;
  std::string path_;
};

class ShardedRows : public DatasetRows {
 public:
  /// Collective over `comm`: opens `paths` (each must hold a structure), reads this rank's
  /// range of rows and gathers every rank's summaries. An unreadable file or record stops every
  /// rank with that rank's message.
  ShardedRows(const std::vector<std::string>& paths, data::SplitKind kind, const parallel::Communicator& comm);

  /// Collective over the constructor's communicator: each of `parts` (disjoint lists of rows;
  /// any row in none forms one more part) is cut, in order, into one run of rows per rank with
  /// near-equal atom counts, and each rank's home rows become its runs of all parts. Reads the
  /// new home rows this rank does not hold, drops the old ones (and any rows kept from elsewhere).
  void rehome(const std::vector<std::vector<std::size_t>>& parts);

  int home(std::size_t row) const override;
  std::vector<std::size_t> local_rows() const override { return home_rows_; }
  std::vector<const Record*> records(std::span<const std::size_t> rows) override;
  std::string origin(std::size_t row) const override;

  /// Rows of each file: file k holds rows [first_row(k), first_row(k + 1)).
  std::size_t first_row(std::size_t file) const { return first_row_.at(file); }
  /// Structures this rank has read from the files so far (its home rows included).
  std::size_t structures_read() const noexcept { return structures_read_; }
  /// Records this rank holds: home rows and the other rows it keeps.
  std::size_t structures_held() const noexcept { return home_records_.size() + kept_.size(); }

 private:
  /// The file of a row and its index there.
  std::pair<std::size_t, std::size_t> locate(std::size_t row) const;
  /// Reads rows (any order, no duplicates), grouped by file; in the order given.
  std::vector<Record> read_rows(const std::vector<std::size_t>& rows);
  /// The position of `row` among the home rows, or home_rows_.size().
  std::size_t home_position(std::size_t row) const;
  /// Starts keeping rows from elsewhere anew, within kKeptShare times the home rows' atoms.
  void reset_kept();

  parallel::Communicator comm_;
  std::vector<DatasetReader> readers_;
  std::vector<std::size_t> first_row_;  // per file, and the total at the end
  std::vector<int> home_of_;            // per row
  std::vector<std::size_t> home_rows_;  // this rank's, ascending
  std::vector<Record> home_records_;    // in the order of home_rows_
  KeptRows<Record> kept_;               // rows from elsewhere, up to kKeptShare times the home atoms
  std::size_t structures_read_ = 0;
};

}  // namespace matnn::workflows
