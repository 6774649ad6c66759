#include "workflows/described_rows.hpp"

#include <algorithm>
#include <unordered_map>

namespace matnn::workflows {

DescribedRows::DescribedRows(const potentials::BehlerParrinello& model, ad::DType dtype,
                             const potentials::CoreRepulsion& core, const std::vector<std::size_t>& upfront,
                             const std::vector<const Record*>& records)
    : model_(model), dtype_(dtype), core_(core) {
  for (std::size_t k = 0; k < upfront.size(); ++k) {
    kept_.emplace(upfront[k], potentials::describe(model_, records[k]->structure, dtype_, core_));
    room_atoms_ += kKeptShare * static_cast<double>(records[k]->structure.size());
  }
}

std::vector<const potentials::DescribedStructure*> DescribedRows::get(std::span<const std::size_t> rows,
                                                                     const std::vector<const Record*>& records) {
  transient_.clear();
  std::vector<const potentials::DescribedStructure*> out(rows.size(), nullptr);
  std::vector<std::size_t> missing;  // positions in rows, one per distinct row
  for (std::size_t k = 0; k < rows.size(); ++k) {
    if (const auto kept = kept_.find(rows[k]); kept != kept_.end()) {
      out[k] = &kept->second;
    } else if (std::none_of(missing.begin(), missing.end(), [&](std::size_t j) { return rows[j] == rows[k]; })) {
      missing.push_back(k);
    }
  }
  if (missing.empty()) return out;
  transient_.reserve(missing.size());  // pointers into it must stay valid while it fills
  std::unordered_map<std::size_t, const potentials::DescribedStructure*> computed;
  for (std::size_t k : missing) {
    potentials::DescribedStructure d = potentials::describe(model_, records.at(k)->structure, dtype_, core_);
    const auto atoms = static_cast<double>(records.at(k)->structure.size());
    if (atoms <= room_atoms_) {
      room_atoms_ -= atoms;
      computed[rows[k]] = &kept_.emplace(rows[k], std::move(d)).first->second;
    } else {
      transient_.push_back(std::move(d));
      computed[rows[k]] = &transient_.back();
    }
  }
  for (std::size_t k = 0; k < rows.size(); ++k)
    if (!out[k]) out[k] = computed.at(rows[k]);
  return out;
}

std::size_t DescribedRows::bytes() const {
  std::size_t total = 0;
  for (const auto& [row, d] : kept_) total += d.bytes();
  return total;
}

}  // namespace matnn::workflows
