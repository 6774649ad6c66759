// Linear interpolation of one channel of a spectrum from one increasing grid onto another: how
// a spectrum model puts a measurement on its trained grid, and how strain augmentation moves
// peaks.
#pragma once

#include <algorithm>
#include <cstddef>
#include <vector>

namespace matnn::models::cnn {

/// `values` (one channel on `from`, increasing, at least 2 points) interpolated linearly at the
/// increasing positions `to`; positions outside `from` take its edge value.
inline void resample_linear(const float* values, const std::vector<double>& from, const std::vector<double>& to,
                            float* out) {
  std::size_t j = 0;
  for (std::size_t i = 0; i < to.size(); ++i) {
    while (j + 2 < from.size() && from[j + 1] < to[i]) ++j;
    const double t = std::clamp((to[i] - from[j]) / (from[j + 1] - from[j]), 0.0, 1.0);
    out[i] = static_cast<float>((1 - t) * values[j] + t * values[j + 1]);
  }
}

}  // namespace matnn::models::cnn
