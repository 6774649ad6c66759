#include "workflows/similarity_job.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "matnn/error.hpp"

namespace matnn::workflows {
namespace {

Eigen::MatrixXd coordinates(const models::PropertyModel& model, const SampleSet& samples) {
  models::PredictOptions options;
  options.embeddings = true;
  const Eigen::MatrixXd e = model.predict(samples.view(), options).embedding;
  return model.calibration().has_reference() ? model.calibration().whiten(e) : e;
}

}  // namespace

const char* similarity_metric(const models::PropertyModel& model) noexcept {
  return model.calibration().has_reference() ? "whitened embedding distance" : "Euclidean embedding distance";
}

std::vector<std::vector<Neighbour>> nearest_samples(const models::PropertyModel& model, const SampleSet& searched,
                                                    const SampleSet& queries, std::size_t k) {
  if (k == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "k must be >= 1");
  if (searched.size() == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "nothing to search");
  const Eigen::MatrixXd x = coordinates(model, searched), q = coordinates(model, queries);
  const std::size_t keep = std::min(k, searched.size());
  std::vector<std::vector<Neighbour>> out(queries.size());
  std::vector<std::size_t> order(searched.size());
  Eigen::VectorXd d(x.rows());
  for (std::size_t i = 0; i < queries.size(); ++i) {
    d = (x.rowwise() - q.row(static_cast<Eigen::Index>(i))).rowwise().norm();
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                      [&](std::size_t a, std::size_t b) {
                        const auto da = d[static_cast<Eigen::Index>(a)], db = d[static_cast<Eigen::Index>(b)];
                        return da != db ? da < db : a < b;
                      });
    for (std::size_t n = 0; n < keep; ++n) out[i].push_back({order[n], d[static_cast<Eigen::Index>(order[n])]});
  }
  return out;
}

}  // namespace matnn::workflows
