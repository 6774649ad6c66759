#include "workflows/dataset_rows.hpp"

#include <algorithm>
#include <exception>

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

// Where each of `ranks` runs of consecutive items starts (and the end), so that the runs hold
// near-equal sums of `weights` (an item of weight 0 counts 1, so that empty frames are shared too).
std::vector<std::size_t> run_starts(const std::vector<double>& weights, int ranks) {
  const std::size_t n = weights.size();
  std::vector<double> prefix(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + std::max(weights[i], 1.0);
  std::vector<std::size_t> starts;
  for (int r = 0; r < ranks; ++r) {
    const double from = prefix[n] * r / ranks;
    starts.push_back(static_cast<std::size_t>(std::lower_bound(prefix.begin(), prefix.end() - 1, from) - prefix.begin()));
  }
  starts.push_back(n);
  return starts;
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
    : comm_(comm) {
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
  comm_.rethrow_first(failure);

  const std::vector<std::size_t> starts = run_starts(atoms, comm_.size());
  home_of_.resize(atoms.size());
  for (int r = 0; r < comm_.size(); ++r) {
    for (std::size_t row = starts[static_cast<std::size_t>(r)]; row < starts[static_cast<std::size_t>(r) + 1]; ++row) {
      home_of_[row] = r;
      if (r == comm_.rank()) home_rows_.push_back(row);
    }
  }
  std::vector<RowSummary> mine;
  try {
    home_records_ = read_rows(home_rows_);
    reset_kept();
    for (std::size_t k = 0; k < home_rows_.size(); ++k) {
      try {
        mine.push_back(summarise(home_records_[k], kind));
      } catch (const Error& e) {
        fail(e.status(), "{}: {}", origin(home_rows_[k]), e.what());
      }
    }
  } catch (...) {
    failure = std::current_exception();
  }
  comm_.rethrow_first(failure);
  summaries_ = gather(mine, comm_);
  if (summaries_.size() != atoms.size()) {
    fail(MATNN_ERROR_INTERNAL, "gathered {} row summaries for {} rows", summaries_.size(), atoms.size());
  }
}

void ShardedRows::rehome(const std::vector<std::vector<std::size_t>>& parts) {
  std::vector<std::vector<std::size_t>> all_parts = parts;
  std::vector<bool> placed(size(), false);
  for (const auto& part : parts)
    for (std::size_t row : part) {
      if (row >= size() || placed[row]) fail(MATNN_ERROR_INTERNAL, "rehome: row {} is out of range or in two parts", row);
      placed[row] = true;
    }
  std::vector<std::size_t> rest;
  for (std::size_t row = 0; row < size(); ++row)
    if (!placed[row]) rest.push_back(row);
  all_parts.push_back(rest);

  std::vector<std::size_t> mine;
  for (const auto& part : all_parts) {
    std::vector<double> atoms;
    for (std::size_t row : part) atoms.push_back(static_cast<double>(summary(row).atoms));
    const std::vector<std::size_t> starts = run_starts(atoms, comm_.size());
    for (int r = 0; r < comm_.size(); ++r) {
      for (std::size_t k = starts[static_cast<std::size_t>(r)]; k < starts[static_cast<std::size_t>(r) + 1]; ++k) {
        home_of_[part[k]] = r;
        if (r == comm_.rank()) mine.push_back(part[k]);
      }
    }
  }
  std::sort(mine.begin(), mine.end());

  std::exception_ptr failure;
  try {
    std::vector<std::size_t> missing;
    for (std::size_t row : mine)
      if (home_position(row) == home_rows_.size()) missing.push_back(row);
    std::vector<Record> read = read_rows(missing);
    std::vector<Record> records;
    records.reserve(mine.size());
    std::size_t next_read = 0;
    for (std::size_t row : mine) {
      const std::size_t at = home_position(row);
      records.push_back(at < home_rows_.size() ? std::move(home_records_[at]) : std::move(read[next_read++]));
    }
    home_rows_ = std::move(mine);
    home_records_ = std::move(records);
    reset_kept();
  } catch (...) {
    failure = std::current_exception();
  }
  comm_.rethrow_first(failure);
}

void ShardedRows::reset_kept() {
  double atoms = 0.0;
  for (const Record& r : home_records_) atoms += static_cast<double>(r.structure.size());
  kept_.reset(kKeptShare * atoms);
}

std::size_t ShardedRows::home_position(std::size_t row) const {
  const auto it = std::lower_bound(home_rows_.begin(), home_rows_.end(), row);
  return it != home_rows_.end() && *it == row ? static_cast<std::size_t>(it - home_rows_.begin()) : home_rows_.size();
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
  if (comm_.size() == 1) return -1;  // read by one process: whoever built it holds every row
  return home_of_.at(row);
}

std::vector<Record> ShardedRows::read_rows(const std::vector<std::size_t>& rows) {
  std::vector<Record> out(rows.size());
  std::map<std::size_t, std::vector<std::size_t>> positions_by_file;  // positions in `rows`
  for (std::size_t k = 0; k < rows.size(); ++k) positions_by_file[locate(rows[k]).first].push_back(k);
  for (const auto& [file, positions] : positions_by_file) {
    std::vector<std::size_t> indices;
    for (std::size_t k : positions) indices.push_back(locate(rows[k]).second);
    // Contiguous indices (a range) in one hyperslab; scattered ones by the list.
    const bool contiguous = std::is_sorted(indices.begin(), indices.end()) &&
                            indices.back() - indices.front() + 1 == indices.size();
    std::vector<Record> read = contiguous ? readers_[file].read(indices.front(), indices.back() + 1) : readers_[file].read(indices);
    for (std::size_t j = 0; j < positions.size(); ++j) out[positions[j]] = std::move(read[j]);
    structures_read_ += positions.size();
  }
  return out;
}

std::vector<const Record*> ShardedRows::records(std::span<const std::size_t> rows) {
  const auto held = [&](std::size_t row) -> const Record* {
    const std::size_t at = home_position(row);
    return at < home_rows_.size() ? &home_records_[at] : nullptr;
  };
  const auto read = [&](const std::vector<std::size_t>& positions) {
    std::vector<std::size_t> missing;
    for (std::size_t k : positions) missing.push_back(rows[k]);
    return read_rows(missing);
  };
  return kept_.get(rows, held, read, [&](std::size_t row) { return static_cast<double>(summary(row).atoms); });
}

}  // namespace matnn::workflows
