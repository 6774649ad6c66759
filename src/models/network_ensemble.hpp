// What the property kinds that are ensembles of networks (CGCNN, the spectrum and image CNNs)
// share: the standardisation of a regression target, and the loop of their predict() over
// batches, members and Monte-Carlo passes.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "autodiff/graph.hpp"
#include "nn/dropout.hpp"
#include "nn/losses.hpp"
#include "models/property_model.hpp"

namespace matnn::models {

/// A (rows, cols) tensor as a double matrix.
Eigen::MatrixXd to_matrix(const ad::Tensor& t);

/// Regression targets standardised with the training set's mean and standard deviation, as the
/// networks train on them (the reference CGCNN's Normalizer).
struct TargetScaling {
  double mean = 0.0, std = 1.0;

  /// Fits mean and std (a constant target keeps std 1).
  void fit(const Eigen::VectorXd& training_targets);
  /// (n, 1) float32 standardised targets.
  ad::Tensor standardize(const Eigen::VectorXd& targets) const;
  /// Stores as "target_mean" and "target_std" in a model file's scalar group.
  void write(std::map<std::string, double>& scalars) const;
  /// Reads them back; MATNN_ERROR_MODEL naming `path` when absent, not finite or std <= 0.
  void read(const std::map<std::string, double>& scalars, const std::string& path);
};

/// The predict() loop of a network ensemble, over `n` samples in chunks of `batch`:
/// make_input(first, count) builds the networks' input for a chunk once, and
/// forward(member, input) returns {output (count, outputs), embedding (count, width)}. Each
/// member runs once, or once per Monte-Carlo pass with a stream of its own; outputs become values
/// in the target's unit (regression) or class probabilities. Fills value, sigma, probabilities
/// and, when `embeddings`, the first member's embeddings (width wide) of `out`.
template <typename Network, typename MakeInput, typename Forward>
void predict_with_members(const std::vector<std::shared_ptr<Network>>& members, std::size_t n, std::size_t batch,
                          const PropertyTarget& target, const TargetScaling& scaling, const PredictOptions& options,
                          bool embeddings, std::int64_t width, MakeInput&& make_input, Forward&& forward,
                          PropertyPrediction& out) {
  ad::NoGradGuard no_grad;
  // Evaluation mode (a no-op, so no write, unless the members come straight from training):
  // predictions never modify the model, so threads may share it.
  for (const auto& member : members)
    if (member->is_training()) member->eval();
  const int passes = std::max(options.mc_samples, 1);
  const std::int64_t outputs = target.task == TaskKind::regression ? 1 : target.n_classes;
  const auto rows = static_cast<Eigen::Index>(n);
  std::vector<Eigen::MatrixXd> draws(members.size() * static_cast<std::size_t>(passes), Eigen::MatrixXd(rows, outputs));
  if (embeddings) out.embedding.resize(rows, width);
  for (std::size_t first = 0; first < n; first += batch) {
    const std::size_t count = std::min(batch, n - first);
    const auto input = make_input(first, count);
    const auto top = static_cast<Eigen::Index>(first), span = static_cast<Eigen::Index>(count);
    for (std::size_t m = 0; m < members.size(); ++m) {
      for (int pass = 0; pass < passes; ++pass) {
        std::optional<nn::McDropoutStream> stream;  // each pass its own masks, each row its own
        if (options.mc_samples > 0) stream.emplace(PropertyModel::mc_seed(options, m, pass), options.first_row + first);
        const auto [output, embedding] = forward(*members[m], input);
        Eigen::MatrixXd y = to_matrix(target.task == TaskKind::classification ? nn::softmax(output) : output);
        if (target.task == TaskKind::regression) y = y.array() * scaling.std + scaling.mean;
        draws[m * static_cast<std::size_t>(passes) + static_cast<std::size_t>(pass)].middleRows(top, span) = y;
        if (embeddings && m == 0 && pass == 0 && options.mc_samples == 0) out.embedding.middleRows(top, span) = to_matrix(embedding);
      }
      if (embeddings && m == 0 && options.mc_samples > 0)  // without dropout masks
        out.embedding.middleRows(top, span) = to_matrix(forward(*members[m], input).second);
    }
  }
  summarize_samples(draws, target.task, out);
}

}  // namespace matnn::models
