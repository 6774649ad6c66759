// The inputs of property models as jobs hold them: every row's structure and, for the kinds that
// read a spectrum or an image, its signal. A SampleSet owns them; models see models::Samples.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "matnn/record.hpp"
#include "models/property_model.hpp"

namespace matnn::workflows {

struct SampleSet {
  std::vector<Structure> structures;
  std::vector<Signal> signals;  ///< empty, or one per structure

  std::size_t size() const noexcept { return structures.size(); }
  models::Samples view() const {
    return {std::span<const Structure>(structures), std::span<const Signal>(signals)};
  }
  /// The rows `rows`, in that order.
  SampleSet pick(std::span<const std::size_t> rows) const;
};

/// Every record's structure and, when `signal` is not empty, its signal of that name
/// (MATNN_ERROR_INVALID_ARGUMENT naming `dataset_path` and the row when a record lacks it).
SampleSet samples_of(const std::vector<Record>& records, const std::string& signal, const std::string& dataset_path);

}  // namespace matnn::workflows
