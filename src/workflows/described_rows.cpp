#include "workflows/described_rows.hpp"

#include <unordered_map>

namespace matnn::workflows {

DescribedRows::DescribedRows(const potentials::BehlerParrinello& model, ad::DType dtype,
                             const potentials::CoreRepulsion& core, const std::vector<std::size_t>& upfront,
                             const std::vector<const Record*>& records)
    : model_(model), dtype_(dtype), core_(core) {
  double room = 0.0;
  for (const Record* r : records) room += kKeptShare * static_cast<double>(r->structure.size());
  described_.reset(room);
  for (std::size_t k = 0; k < upfront.size(); ++k) {
    described_.keep_always(upfront[k], potentials::describe(model_, records[k]->structure, dtype_, core_));
  }
}

std::vector<const potentials::DescribedStructure*> DescribedRows::get(std::span<const std::size_t> rows,
                                                                     const std::vector<const Record*>& records) {
  const auto none = [](std::size_t) -> const potentials::DescribedStructure* { return nullptr; };
  const auto describe = [&](const std::vector<std::size_t>& positions) {
    std::vector<potentials::DescribedStructure> made;
    for (std::size_t k : positions) made.push_back(potentials::describe(model_, records.at(k)->structure, dtype_, core_));
    return made;
  };
  std::unordered_map<std::size_t, double> atoms;
  for (std::size_t k = 0; k < rows.size(); ++k) atoms[rows[k]] = static_cast<double>(records.at(k)->structure.size());
  return described_.get(rows, none, describe, [&](std::size_t row) { return atoms.at(row); });
}

std::size_t DescribedRows::bytes() const {
  std::size_t total = 0;
  for (const auto& [row, d] : described_.kept()) total += d.bytes();
  return total;
}

}  // namespace matnn::workflows
