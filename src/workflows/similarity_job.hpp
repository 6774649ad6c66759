// `matnn similar`: the samples of a dataset nearest to query samples in a property model's
// learned embedding space ("find materials like this one", "find patterns like this one"). Distances are taken in the
// whitened coordinates of the model's OOD reference (training covariance, so every learned
// direction counts by its spread in the training data), or as plain Euclidean distances of the
// embeddings for a model without one (trained before matnn kept a reference).
#pragma once

#include <cstddef>
#include <vector>

#include "models/property_model.hpp"
#include "workflows/sample_set.hpp"

namespace matnn::workflows {

struct Neighbour {
  std::size_t index;  ///< row of the searched samples
  double distance;
};

/// For each query, the `k` nearest of `searched` (fewer when there are fewer), nearest first,
/// ties by index. MATNN_ERROR_INVALID_ARGUMENT for k = 0 or nothing to search.
std::vector<std::vector<Neighbour>> nearest_samples(const models::PropertyModel& model, const SampleSet& searched,
                                                    const SampleSet& queries, std::size_t k);

/// Whether distances are whitened (the model keeps an embedding reference) or plain Euclidean.
const char* similarity_metric(const models::PropertyModel& model) noexcept;

}  // namespace matnn::workflows
