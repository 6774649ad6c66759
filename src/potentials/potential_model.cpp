#include "potentials/potential_model.hpp"

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::potentials {

ad::Tensor PotentialModel::weighted_sum(const ad::Tensor& outputs, std::span<const double> weights) {
  if (weights.size() != static_cast<std::size_t>(outputs.numel()))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} weights for {} atomic outputs", weights.size(), outputs.numel());
  const ad::Tensor w = ad::to(ad::from_vector(std::vector<double>(weights.begin(), weights.end()),
                                              {static_cast<std::int64_t>(weights.size())}),
                              outputs.dtype());
  return ad::sum(ad::mul(outputs, w));
}

AtomicEvaluation PotentialModel::evaluate(const AtomGraph& graph, std::span<const double> weights, bool gradient) {
  ad::GradModeGuard record(gradient);
  // Only gradients by the edge vectors are asked for: what would serve weight gradients alone is
  // neither recorded nor kept, which is most of a force call's memory.
  const ad::FrozenParametersGuard constants;
  const ad::Tensor outputs = atomic_outputs(graph);
  AtomicEvaluation out;
  out.outputs = outputs.to_vector();
  if (gradient) {
    const ad::Tensor total = weighted_sum(outputs, weights);
    out.edge_gradient = ad::grad({total}, {graph.edge_vectors}, {}, false, true)[0].to_vector();
  }
  return out;
}

}  // namespace matnn::potentials
