#include "workflows/dataset_rows.hpp"

#include <algorithm>
#include <exception>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "matnn/error.hpp"
#include "workflows/job_common.hpp"
#include "workflows/reference_energies.hpp"

namespace matnn::workflows {
namespace {

using Json = nlohmann::json;

Json to_json(const RowSummary& s) {
  Json composition = Json::array();
  for (const auto& [z, n] : s.composition) composition.push_back({z, n});
  return Json::array({s.atoms, composition, s.energy ? Json(*s.energy) : Json(), s.forces, s.force_sum_sq, s.stress,
                      s.volume_per_atom, s.isolated_atom, s.config_type, s.key.group,
                      s.key.timestamp ? Json(*s.key.timestamp) : Json()});
}

RowSummary from_json(const Json& j) {
  RowSummary s;
  s.atoms = j.at(0).get<std::int64_t>();
  for (const Json& zn : j.at(1)) s.composition.emplace_back(zn.at(0).get<int>(), zn.at(1).get<std::int64_t>());
  if (!j.at(2).is_null()) s.energy = j.at(2).get<double>();
  s.forces = j.at(3).get<bool>();
  s.force_sum_sq = j.at(4).get<double>();
  s.stress = j.at(5).get<bool>();
  s.volume_per_atom = j.at(6).get<double>();
  s.isolated_atom = j.at(7).get<bool>();
  s.config_type = j.at(8).get<std::string>();
  s.key.group = j.at(9).get<std::string>();
  if (!j.at(10).is_null()) s.key.timestamp = j.at(10).get<std::int64_t>();
  return s;
}

// Every rank's summaries, concatenated in rank order (MessagePack keeps doubles exact).
std::vector<RowSummary> gather(const std::vector<RowSummary>& mine, const parallel::Communicator& comm) {
  Json packed = Json::array();
  for (const RowSummary& s : mine) packed.push_back(to_json(s));
  const std::vector<std::uint8_t> bytes = Json::to_msgpack(packed);
  std::vector<RowSummary> all;
  for (const std::vector<std::uint8_t>& theirs : comm.all_gather(std::span<const std::uint8_t>(bytes))) {
    for (const Json& j : Json::from_msgpack(theirs)) all.push_back(from_json(j));
  }
  return all;
}

}  // namespace

RowSummary summarise(const Record& record, data::SplitKind kind) {
  RowSummary s;
  const Structure& structure = record.structure;
  s.atoms = static_cast<std::int64_t>(structure.size());
  std::map<int, std::int64_t> counts;
  for (int z : structure.numbers) ++counts[z];
  s.composition.assign(counts.begin(), counts.end());
  s.energy = record.energy();
  if (const AtomValues* f = record.forces()) {
    s.forces = true;
    s.force_sum_sq = f->squaredNorm();
  }
  s.stress = record.stress() && structure.fully_periodic();
  if (structure.fully_periodic() && structure.size() > 0) s.volume_per_atom = structure.volume() / static_cast<double>(structure.size());
  s.isolated_atom = is_isolated_atom(record);
  const auto tag = record.tags.find("config_type");
  if (tag != record.tags.end()) s.config_type = tag->second;
  s.key = split_key(record, kind);
  return s;
}

InMemoryRows::InMemoryRows(std::span<const Record> records, data::SplitKind kind, std::string path)
    : records_(records), path_(std::move(path)) {
  for (const Record& r : records_) summaries_.push_back(summarise(r, kind));
}

std::vector<std::size_t> InMemoryRows::local_rows() const {
  std::vector<std::size_t> rows(records_.size());
  for (std::size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  return rows;
}

std::vector<const Record*> InMemoryRows::records(std::span<const std::size_t> rows) {
  std::vector<const Record*> out;
  for (std::size_t row : rows) out.push_back(&records_[row]);
  return out;
}

std::string InMemoryRows::origin(std::size_t row) const { return fmt::format("{}: structure {}", path_, row); }

ShardedRows::ShardedRows(const std::vector<std::string>& paths, data::SplitKind kind, const parallel::Communicator& comm)
    : rank_(comm.rank()) {
  // Every rank opens every file (the per-structure index only) and finds the same ranges.
  std::exception_ptr failure;
  std::vector<double> atoms;
  try {
    first_row_.push_back(0);
    for (const std::string& path : paths) {
      DatasetReader reader(path);
      if (reader.size() == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: the dataset holds no structure", path);
      for (std::size_t i = 0; i < reader.size(); ++i) atoms.push_back(static_cast<double>(reader.atom_count(i)));
      first_row_.push_back(first_row_.back() + reader.size());
      readers_.push_back(std::move(reader));
    }
  } catch (...) {
    failure = std::current_exception();
  }
  comm.rethrow_first(failure);

  // Contiguous ranges of near-equal atom counts (a structure of no atoms still counts one, so
  // that a file of empty frames is shared too).
  const std::size_t n = atoms.size();
  std::vector<double> prefix(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + std::max(atoms[i], 1.0);
  const int ranks = comm.size();
  for (int r = 0; r < ranks; ++r) {
    const double from = prefix[n] * r / ranks;
    range_start_.push_back(static_cast<std::size_t>(std::lower_bound(prefix.begin(), prefix.end() - 1, from) - prefix.begin()));
  }
  range_start_.push_back(n);

  std::vector<RowSummary> mine;
  try {
    std::vector<std::size_t> rows;
    for (std::size_t row = range_start_[static_cast<std::size_t>(rank_)]; row < range_start_[static_cast<std::size_t>(rank_) + 1]; ++row) {
      rows.push_back(row);
    }
    home_records_ = read_rows(rows);
    for (std::size_t k = 0; k < rows.size(); ++k) {
      try {
        mine.push_back(summarise(home_records_[k], kind));
      } catch (const Error& e) {
        fail(e.status(), "{}: {}", origin(rows[k]), e.what());
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  comm.rethrow_first(failure);
  summaries_ = gather(mine, comm);
  if (summaries_.size() != n) fail(MATNN_ERROR_INTERNAL, "gathered {} row summaries for {} rows", summaries_.size(), n);
}

std::pair<std::size_t, std::size_t> ShardedRows::locate(std::size_t row) const {
  if (row >= first_row_.back()) fail(MATNN_ERROR_INTERNAL, "row {} of {}", row, first_row_.back());
  const auto file = static_cast<std::size_t>(std::upper_bound(first_row_.begin(), first_row_.end(), row) - first_row_.begin()) - 1;
  return {file, row - first_row_[file]};
}

std::string ShardedRows::origin(std::size_t row) const {
  const auto [file, index] = locate(row);
  return fmt::format("{}: structure {}", readers_[file].path(), index);
}

int ShardedRows::home(std::size_t row) const {
  if (range_start_.size() == 2) return -1;  // read by one rank: whoever built it holds every row
  return static_cast<int>(std::upper_bound(range_start_.begin(), range_start_.end() - 1, row) - range_start_.begin()) - 1;
}

std::vector<std::size_t> ShardedRows::local_rows() const {
  std::vector<std::size_t> rows;
  for (std::size_t row = range_start_[static_cast<std::size_t>(rank_)]; row < range_start_[static_cast<std::size_t>(rank_) + 1]; ++row) {
    rows.push_back(row);
  }
  return rows;
}

std::vector<Record> ShardedRows::read_rows(const std::vector<std::size_t>& rows) {
  std::vector<Record> out(rows.size());
  std::map<std::size_t, std::vector<std::size_t>> positions_by_file;  // positions in `rows`
  for (std::size_t k = 0; k < rows.size(); ++k) positions_by_file[locate(rows[k]).first].push_back(k);
  for (const auto& [file, positions] : positions_by_file) {
    std::vector<std::size_t> indices;
    for (std::size_t k : positions) indices.push_back(locate(rows[k]).second);
    // Contiguous indices (a home range) in one hyperslab; scattered ones by the list.
    const bool contiguous = indices.back() - indices.front() + 1 == indices.size() &&
                            std::is_sorted(indices.begin(), indices.end());
    std::vector<Record> read = contiguous ? readers_[file].read(indices.front(), indices.back() + 1) : readers_[file].read(indices);
    for (std::size_t j = 0; j < positions.size(); ++j) out[positions[j]] = std::move(read[j]);
    structures_read_ += positions.size();
  }
  return out;
}

std::vector<const Record*> ShardedRows::records(std::span<const std::size_t> rows) {
  transient_.clear();
  const std::size_t home_begin = range_start_[static_cast<std::size_t>(rank_)];
  const std::size_t home_end = range_start_[static_cast<std::size_t>(rank_) + 1];
  std::vector<const Record*> out(rows.size(), nullptr);
  std::vector<std::size_t> missing;
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const std::size_t row = rows[k];
    if (row >= home_begin && row < home_end) {
      out[k] = &home_records_[row - home_begin];
    } else if (const auto kept = kept_.find(row); kept != kept_.end()) {
      out[k] = &kept->second;
    } else if (std::find(missing.begin(), missing.end(), row) == missing.end()) {
      missing.push_back(row);
    }
  }
  if (missing.empty()) return out;
  std::vector<Record> read = read_rows(missing);
  transient_.reserve(read.size());  // pointers into it must stay valid while it fills
  std::unordered_map<std::size_t, const Record*> fetched;
  for (std::size_t j = 0; j < missing.size(); ++j) {
    if (kept_.size() < home_records_.size()) {
      fetched[missing[j]] = &kept_.emplace(missing[j], std::move(read[j])).first->second;
    } else {
      transient_.push_back(std::move(read[j]));
      fetched[missing[j]] = &transient_.back();
    }
  }
  for (std::size_t k = 0; k < rows.size(); ++k)
    if (!out[k]) out[k] = fetched.at(rows[k]);
  return out;
}

}  // namespace matnn::workflows
