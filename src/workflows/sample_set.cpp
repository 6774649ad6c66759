#include "workflows/sample_set.hpp"

#include "matnn/error.hpp"

namespace matnn::workflows {

SampleSet SampleSet::pick(std::span<const std::size_t> rows) const {
  SampleSet out;
  out.structures.reserve(rows.size());
  for (std::size_t r : rows) out.structures.push_back(structures.at(r));
  if (!signals.empty()) {
    out.signals.reserve(rows.size());
    for (std::size_t r : rows) out.signals.push_back(signals.at(r));
  }
  return out;
}

SampleSet samples_of(const std::vector<Record>& records, const std::string& signal, const std::string& dataset_path) {
  SampleSet out;
  out.structures.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    out.structures.push_back(records[i].structure);
    if (signal.empty()) continue;
    const auto it = records[i].signals.find(signal);
    if (it == records[i].signals.end())
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: structure {} has no signal \"{}\", which the model reads", dataset_path, i,
           signal);
    out.signals.push_back(it->second);
  }
  return out;
}

}  // namespace matnn::workflows
