#include "nn/dropout.hpp"

#include <type_traits>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"
#include "nn/seed_mix.hpp"

namespace matnn::nn {
namespace {

thread_local McDropoutStream* current_stream = nullptr;

}  // namespace

McDropoutStream::McDropoutStream(uint64_t seed, uint64_t first_row)
    : seed_(seed), first_row_(first_row), enclosing_(current_stream) {
  current_stream = this;
}

std::mt19937_64 McDropoutStream::row_engine(uint64_t row) const {
  return std::mt19937_64(splitmix64(splitmix64(splitmix64(seed_) ^ calls_) ^ (first_row_ + row)));
}

McDropoutStream::~McDropoutStream() { current_stream = enclosing_; }

McDropoutStream* McDropoutStream::current() noexcept { return current_stream; }

Dropout::Dropout(double p, uint64_t seed) : p_(p), rng_(seed) {
  if (!(p >= 0.0 && p < 1.0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "Dropout: p = {} is outside [0, 1)", p);
}

ad::Tensor Dropout::forward(const ad::Tensor& x) {
  McDropoutStream* stream = McDropoutStream::current();
  if (p_ == 0.0 || (stream == nullptr && !is_training())) return x;
  const double keep = 1.0 - p_;
  const double scale = 1.0 / keep;
  ad::Tensor mask = ad::empty(x.shape(), x.dtype());
  auto fill = [&](auto* m) {
    using T = std::remove_pointer_t<decltype(m)>;
    auto draw = [&](std::mt19937_64& engine, int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const double u = static_cast<double>(engine() >> 11) * 0x1.0p-53;
        m[i] = u < keep ? static_cast<T>(scale) : T(0);
      }
    };
    if (stream == nullptr) {  // training: one sequence from the layer's own generator
      draw(rng_, 0, x.numel());
      return;
    }
    const int64_t rows = x.shape().empty() ? 1 : x.shape().front();  // Monte-Carlo: a generator per row
    const int64_t width = rows > 0 ? x.numel() / rows : 0;
    for (int64_t r = 0; r < rows; ++r) {
      std::mt19937_64 engine = stream->row_engine(static_cast<uint64_t>(r));
      draw(engine, r * width, (r + 1) * width);
    }
  };
  if (x.dtype() == ad::DType::f32)
    fill(mask.data<float>());
  else
    fill(mask.data<double>());
  if (stream != nullptr) stream->next_call();
  return ad::mul(x, mask);
}

}  // namespace matnn::nn
