#include "nn/dropout.hpp"

#include <type_traits>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::nn {
namespace {

thread_local McDropoutStream* current_stream = nullptr;

}  // namespace

McDropoutStream::McDropoutStream(uint64_t seed) : engine_(seed), enclosing_(current_stream) { current_stream = this; }

McDropoutStream::~McDropoutStream() { current_stream = enclosing_; }

McDropoutStream* McDropoutStream::current() noexcept { return current_stream; }

Dropout::Dropout(double p, uint64_t seed) : p_(p), rng_(seed) {
  if (!(p >= 0.0 && p < 1.0)) fail(MATNN_ERROR_INVALID_ARGUMENT, "Dropout: p = {} is outside [0, 1)", p);
}

ad::Tensor Dropout::forward(const ad::Tensor& x) {
  McDropoutStream* stream = McDropoutStream::current();
  if (p_ == 0.0 || (stream == nullptr && !is_training())) return x;
  std::mt19937_64& engine = stream != nullptr ? stream->engine() : rng_;
  const double keep = 1.0 - p_;
  const double scale = 1.0 / keep;
  ad::Tensor mask = ad::empty(x.shape(), x.dtype());
  auto fill = [&](auto* m) {
    using T = std::remove_pointer_t<decltype(m)>;
    for (int64_t i = 0; i < x.numel(); ++i) {
      const double u = static_cast<double>(engine() >> 11) * 0x1.0p-53;
      m[i] = u < keep ? static_cast<T>(scale) : T(0);
    }
  };
  if (x.dtype() == ad::DType::f32)
    fill(mask.data<float>());
  else
    fill(mask.data<double>());
  return ad::mul(x, mask);
}

}  // namespace matnn::nn
