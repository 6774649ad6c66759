// Inverted dropout, and Monte-Carlo dropout at inference through a per-thread mask stream.
#pragma once

#include <cstdint>
#include <random>

#include "nn/module.hpp"

namespace matnn::nn {

/// Each element is zeroed with probability p and the survivors are scaled by 1 / (1 - p), so
/// the expected output equals the input and evaluation needs no rescaling ("inverted"
/// dropout). Active in training mode, drawing masks from the layer's own std::mt19937_64
/// (seeded at construction, reseeded by the trainer). In evaluation mode the layer is the
/// identity (it returns its input handle) unless the calling thread holds a McDropoutStream.
///
/// Masks are drawn in row-major order with a portable bit-to-uniform map, so a seed gives the
/// same masks everywhere. The mask is a constant of the graph: gradients flow through the kept
/// entries only, scaled like the values.
class Dropout : public Module {
 public:
  /// p in [0, 1); p = 0 is the identity.
  explicit Dropout(double p, uint64_t seed = 0x5eed);

  ad::Tensor forward(const ad::Tensor& x) override;
  std::string type_name() const override { return "Dropout"; }

  double p() const noexcept { return p_; }
  /// Restarts the training mask sequence (e.g. identical masks across resumed runs).
  void reseed(uint64_t seed) { rng_.seed(seed); }

 private:
  double p_;
  std::mt19937_64 rng_;
};

/// Monte-Carlo dropout for the calling thread: while a stream is alive, every Dropout layer
/// that runs on this thread samples its mask from the stream, in evaluation mode too, and
/// leaves its own state alone. The model is therefore never modified by a Monte-Carlo pass,
/// so several threads may predict with one model at once, each from its own stream, and a
/// seed reproduces the samples exactly. Streams nest (the innermost one is used); a stream
/// belongs to the thread that made it and must not be moved.
///
/// The rows of a layer's input are samples, numbered from `first_row`: row r's mask in the
/// k-th Dropout call of the stream's lifetime is drawn from its own generator, seeded by (seed,
/// k, first_row + r). A sample's masks thus depend on its number and not on which other rows
/// share its batch, so a dataset predicted whole or in blocks (each block's stream starting at
/// its first row) gets the same samples: what lets ranks share Monte-Carlo predictions.
class McDropoutStream {
 public:
  explicit McDropoutStream(uint64_t seed, uint64_t first_row = 0);
  ~McDropoutStream();
  McDropoutStream(const McDropoutStream&) = delete;
  McDropoutStream& operator=(const McDropoutStream&) = delete;

  /// The calling thread's innermost stream, or nullptr.
  static McDropoutStream* current() noexcept;
  /// The generator of row `row` (of the input) of the next Dropout call; next_call() moves on.
  std::mt19937_64 row_engine(uint64_t row) const;
  void next_call() noexcept { ++calls_; }

 private:
  uint64_t seed_, first_row_;
  uint64_t calls_ = 0;
  McDropoutStream* enclosing_;
};

}  // namespace matnn::nn
