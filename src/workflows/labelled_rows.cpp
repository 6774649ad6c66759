#include "workflows/labelled_rows.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "io/content_hash.hpp"
#include "matnn/error.hpp"
#include "workflows/job_common.hpp"

namespace matnn::workflows {
namespace {

// Record `row`'s target value, or none when it lacks the target (or the signal the model reads).
std::optional<double> label_of(const Record& r, const std::string& origin, const std::string& target,
                               models::TaskKind task, const std::string& signal) {
  const auto it = r.properties.find(target);
  if (it == r.properties.end()) return std::nullopt;
  if (!signal.empty() && !r.signals.contains(signal)) return std::nullopt;
  if (it->second.size() != 1) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: target \"{}\" has {} values; a property model predicts one", origin,
         target, it->second.size());
  }
  const double y = it->second.front();
  if (task == models::TaskKind::classification && (y < 0 || y != std::floor(y)))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: class label {} of \"{}\" is not an integer >= 0", origin, y, target);
  return y;
}

// The rank that contributes a row: its home, or rank 0 when every rank holds every row.
int contributor(int home) { return std::max(home, 0); }

}  // namespace

LabelledRows::LabelledRows(DatasetRows& rows, std::string path, const std::string& target, models::TaskKind task,
                           std::string signal, const parallel::Communicator& comm)
    : rows_(rows), path_(std::move(path)), signal_(std::move(signal)), comm_(comm) {
  std::vector<double> mine;  // (row, target) of this rank's labelled rows
  std::exception_ptr failure;
  try {
    for (std::size_t row : rows_.local_rows()) {
      if (contributor(rows_.home(row)) != comm_.rank()) continue;
      const std::size_t one[1] = {row};
      if (const auto y = label_of(*rows_.records(one).front(), rows_.origin(row), target, task, signal_))
        mine.insert(mine.end(), {static_cast<double>(row), *y});
    }
  } catch (...) {
    failure = std::current_exception();
  }
  comm_.rethrow_first(failure);
  std::vector<std::pair<std::size_t, double>> labelled;
  for (const std::vector<double>& part : comm_.all_gather(mine)) {
    for (std::size_t k = 0; k + 1 < part.size(); k += 2) labelled.emplace_back(static_cast<std::size_t>(part[k]), part[k + 1]);
  }
  std::sort(labelled.begin(), labelled.end());  // the ranks' rows are runs in any order once rehomed
  index_.reserve(labelled.size());
  target_.resize(static_cast<Eigen::Index>(labelled.size()));
  for (std::size_t i = 0; i < labelled.size(); ++i) {
    index_.push_back(labelled[i].first);
    target_[static_cast<Eigen::Index>(i)] = labelled[i].second;
  }
}

std::vector<data::SplitKey> LabelledRows::keys(const data::SplitOptions& split) const {
  std::vector<data::SplitKey> out;
  out.reserve(index_.size());
  for (std::size_t row : index_) out.push_back(rows_.summary(row).key);
  if (split.kind == data::SplitKind::cluster) {
    std::vector<Composition> compositions;
    for (std::size_t i = 0; i < index_.size(); ++i) compositions.push_back(composition(i));
    assign_cluster_groups(out, compositions, split.clusters, split.seed);
  }
  return out;
}

Composition LabelledRows::composition(std::size_t position) const {
  std::map<int, double> amounts;
  for (const auto& [z, count] : rows_.summary(index_.at(position)).composition) amounts[z] = static_cast<double>(count);
  return Composition(std::move(amounts));
}

std::vector<int> LabelledRows::elements(std::span<const std::size_t> positions) const {
  std::set<int> out;
  for (std::size_t i : positions) {
    for (const auto& [z, count] : rows_.summary(index_.at(i)).composition) out.insert(z);
  }
  return {out.begin(), out.end()};
}

std::vector<std::size_t> LabelledRows::dataset_rows(std::span<const std::size_t> positions) const {
  std::vector<std::size_t> out;
  out.reserve(positions.size());
  for (std::size_t i : positions) out.push_back(index_.at(i));
  return out;
}

SampleSet LabelledRows::samples(std::span<const std::size_t> positions) {
  SampleSet out;
  out.structures.reserve(positions.size());
  const std::vector<std::size_t> rows = dataset_rows(positions);
  for (const Record* r : rows_.records(rows)) {
    out.structures.push_back(r->structure);
    if (!signal_.empty()) out.signals.push_back(r->signals.at(signal_));  // labelled rows have it
  }
  return out;
}

std::string LabelledRows::hash() const {
  static_assert(std::is_trivially_copyable_v<h5::ContentHash>, "the hash state passes between ranks as bytes");
  // Rank r hashes its rows after rank r - 1's, which must precede them all: the homes of the
  // labelled rows may not decrease (checked on every rank alike, so all fail together).
  for (std::size_t i = 1; i < index_.size(); ++i) {
    if (contributor(home(i)) < contributor(home(i - 1)))
      fail(MATNN_ERROR_INTERNAL, "LabelledRows::hash: the rows are no longer in runs in rank order");
  }
  h5::ContentHash hash;
  auto add = [&](const void* bytes, std::size_t size) {
    hash.update(std::span<const unsigned char>(static_cast<const unsigned char*>(bytes), size));
  };
  std::array<std::uint8_t, sizeof(h5::ContentHash)> state{};
  for (int rank = 0; rank < comm_.size(); ++rank) {
    if (rank == comm_.rank()) {
      for (std::size_t i = 0; i < index_.size(); ++i) {
        if (contributor(home(i)) != rank) continue;
        const std::size_t one[1] = {index_[i]};
        const Record& r = *rows_.records(one).front();
        const Structure& s = r.structure;
        const std::uint64_t header[2] = {index_[i], s.size()};
        add(header, sizeof header);
        add(s.numbers.data(), s.numbers.size() * sizeof(int));
        add(s.positions.data(), static_cast<std::size_t>(s.positions.size()) * sizeof(double));
        add(s.cell.data(), static_cast<std::size_t>(s.cell.size()) * sizeof(double));
        const unsigned char pbc[3] = {s.pbc[0], s.pbc[1], s.pbc[2]};
        add(pbc, sizeof pbc);
        const double y = target_[static_cast<Eigen::Index>(i)];
        add(&y, sizeof y);
        if (!signal_.empty()) {
          const std::vector<float>& values = r.signals.at(signal_).values;
          add(values.data(), values.size() * sizeof(float));
        }
      }
      std::memcpy(state.data(), &hash, sizeof hash);
    }
    comm_.broadcast(std::span<std::uint8_t>(state), rank);
    std::memcpy(&hash, state.data(), sizeof hash);
  }
  return fmt::format("{:016x}", hash.digest());
}

}  // namespace matnn::workflows
