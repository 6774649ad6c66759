#include "models/property_uncertainty.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include <Eigen/SVD>

#include "matnn/error.hpp"

namespace matnn::models {
namespace {

ad::Tensor tensor_of(const Eigen::MatrixXd& m) {
  // float32: the reference is the bulk of the calibration, and distances need no more digits.
  std::vector<float> values(static_cast<std::size_t>(m.size()));
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(values.data(), m.rows(), m.cols()) =
      m.cast<float>();
  return ad::from_vector(values, {m.rows(), m.cols()});
}

Eigen::MatrixXd matrix_of(const ad::Tensor& t) {
  if (t.rank() != 2) fail(MATNN_ERROR_MODEL, "uncertainty tensor of rank {} (expected 2)", t.rank());
  const std::vector<double> v = t.to_vector();
  return Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(v.data(), t.dim(0),
t.dim(1));
}

}  // namespace

void UncertaintyCalibration::set_reference(const Eigen::MatrixXd& embeddings, int k) {
  if (embeddings.rows() < 2) fail(MATNN_ERROR_INVALID_ARGUMENT, "an embedding reference needs at least 2 structures");
  if (k < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "ood neighbours must be >= 1, got {}", k);
  neighbors = k;
  mean = embeddings.colwise().mean();
  const Eigen::MatrixXd centred = embeddings.rowwise() - mean;
  const Eigen::BDCSVD<Eigen::MatrixXd> svd(centred, Eigen::ComputeThinV);
  const Eigen::VectorXd& singular = svd.singularValues();
  Eigen::Index rank = 0;
  while (rank < singular.size() && singular[rank] > 1e-4 * singular[0]) ++rank;
  if (rank == 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "the training embeddings do not vary: no OOD reference");
  // Axis j's standard deviation is singular[j] / sqrt(n).
  const double root_n = std::sqrt(static_cast<double>(embeddings.rows()));
  whitening = svd.matrixV().leftCols(rank) * (root_n / singular.head(rank).array()).matrix().asDiagonal();
  reference = centred * whitening;
}

Eigen::MatrixXd UncertaintyCalibration::whiten(const Eigen::MatrixXd& embeddings) const {
  if (!has_reference()) fail(MATNN_ERROR_INTERNAL, "whitening without a reference");
  if (embeddings.cols() != whitening.rows())
    fail(MATNN_ERROR_INTERNAL, "embedding width {} against a reference of width {}", embeddings.cols(), whitening.rows());
  return (embeddings.rowwise() - mean) * whitening;
}

Eigen::VectorXd UncertaintyCalibration::distance(const Eigen::MatrixXd& embeddings, bool exclude_self) const {
  const Eigen::MatrixXd x = whiten(embeddings);
  // |a - b|^2 = |a|^2 + |b|^2 - 2 a.b: one matrix product instead of a loop over pairs.
  Eigen::MatrixXd d2 = -2.0 * x * reference.transpose();
  d2.colwise() += x.rowwise().squaredNorm();
  d2.rowwise() += reference.rowwise().squaredNorm().transpose();
  const auto available = static_cast<int>(reference.rows()) - (exclude_self ? 1 : 0);
  const int k = std::max(1, std::min(neighbors, available));
  const double per_dimension = std::sqrt(static_cast<double>(reference.cols()));
  Eigen::VectorXd out(x.rows());
  std::vector<double> row(static_cast<std::size_t>(reference.rows()));
  for (Eigen::Index i = 0; i < x.rows(); ++i) {
    for (Eigen::Index j = 0; j < reference.rows(); ++j) row[static_cast<std::size_t>(j)] = std::max(0.0, d2(i, j));
    if (exclude_self) row[static_cast<std::size_t>(i)] = std::numeric_limits<double>::infinity();
    std::partial_sort(row.begin(), row.begin() + k, row.end());
    double sum = 0.0;
    for (int n = 0; n < k; ++n) sum += std::sqrt(row[static_cast<std::size_t>(n)]);
    out[i] = sum / k / per_dimension;
  }
  return out;
}

void UncertaintyCalibration::save(StateFile& file) const {
  file.scalars["uncertainty"] = {{"sigma_scale", sigma_scale},
                                 {"neighbors", static_cast<double>(neighbors)},
                                 {"threshold", std::isfinite(threshold) ? threshold : -1.0}};
  if (has_reference()) {
    file.tensors["uncertainty"] = {{"reference", tensor_of(reference)},
                                   {"mean", tensor_of(mean)},
                                   {"whitening", tensor_of(whitening)}};
  }
}

UncertaintyCalibration UncertaintyCalibration::load(const StateFile& file, const std::string& path) {
  UncertaintyCalibration out;
  const auto scalars = file.scalars.find("uncertainty");
  if (scalars == file.scalars.end()) return out;
  try {
    out.sigma_scale = scalars->second.at("sigma_scale");
    out.neighbors = static_cast<int>(scalars->second.at("neighbors"));
    const double threshold = scalars->second.at("threshold");
    out.threshold = threshold < 0 ? std::numeric_limits<double>::infinity() : threshold;
    const auto tensors = file.tensors.find("uncertainty");
    if (tensors != file.tensors.end()) {
      out.reference = matrix_of(tensors->second.at("reference"));
      const Eigen::MatrixXd mean = matrix_of(tensors->second.at("mean"));
      if (mean.rows() != 1) fail(MATNN_ERROR_MODEL, "the mean must be a single row");
      out.mean = mean;
      out.whitening = matrix_of(tensors->second.at("whitening"));
    }
  } catch (const std::out_of_range&) {
    fail(MATNN_ERROR_MODEL, "{}: the uncertainty calibration is incomplete", path);
  } catch (const Error& e) {
    fail(MATNN_ERROR_MODEL, "{}: uncertainty calibration: {}", path, e.what());
  }
  const bool consistent = std::isfinite(out.sigma_scale) && out.sigma_scale > 0 && out.neighbors >= 1 &&
                          (!out.has_reference() || (out.whitening.cols() == out.reference.cols() &&
                                                    out.mean.size() == out.whitening.rows() && out.reference.allFinite() &&
                                                    out.whitening.allFinite()));
  if (!consistent) fail(MATNN_ERROR_MODEL, "{}: the uncertainty calibration is inconsistent", path);
  return out;
}

}  // namespace matnn::models
