#include "workflows/signal_augment.hpp"

#include <algorithm>
#include <cmath>

#include "matnn/error.hpp"

namespace matnn::workflows {

void strain_pattern(float* values, const std::vector<double>& two_theta, double strain, std::vector<float>& scratch) {
  const double degree = 0.017453292519943295;
  const std::size_t n = two_theta.size();
  for (std::size_t i = 0; i < n; ++i) {
    const double s = (1 + strain) * std::sin(0.5 * degree * two_theta[i]);
    const double source = s >= 1 ? 180.0 : 2 * std::asin(s) / degree;
    if (source <= two_theta.front() || source >= two_theta.back()) {
      scratch[i] = source <= two_theta.front() ? values[0] : values[n - 1];
      continue;
    }
    const std::size_t upper = static_cast<std::size_t>(
        std::upper_bound(two_theta.begin(), two_theta.end(), source) - two_theta.begin());
    const double w = (source - two_theta[upper - 1]) / (two_theta[upper] - two_theta[upper - 1]);
    scratch[i] = static_cast<float>((1 - w) * values[upper - 1] + w * values[upper]);
  }
  std::copy(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(n), values);
}

void shift_spectrum(float* values, std::int64_t points, std::int64_t shift, std::vector<float>& scratch) {
  for (std::int64_t i = 0; i < points; ++i)
    scratch[static_cast<std::size_t>(i)] = values[std::clamp<std::int64_t>(i - shift, 0, points - 1)];
  std::copy(scratch.begin(), scratch.begin() + points, values);
}

void flip_image(float* values, std::int64_t height, std::int64_t width, int symmetry, std::vector<float>& scratch) {
  const bool transpose = (symmetry & 4) != 0 && height == width;
  for (std::int64_t y = 0; y < height; ++y)
    for (std::int64_t x = 0; x < width; ++x) {
      std::int64_t sy = (symmetry & 2) ? height - 1 - y : y, sx = (symmetry & 1) ? width - 1 - x : x;
      if (transpose) std::swap(sy, sx);
      scratch[static_cast<std::size_t>(y * width + x)] = values[sy * width + sx];
    }
  std::copy(scratch.begin(), scratch.begin() + height * width, values);
}

void zoom_window(float* values, std::int64_t height, std::int64_t width, double zoom, double row0, double column0,
                 std::vector<float>& scratch) {
  const double slack = 1e-9;
  if (!(zoom > 0 && zoom <= 1) || row0 < 0 || column0 < 0 ||
      row0 > (1 - zoom) * static_cast<double>(height - 1) + slack ||
      column0 > (1 - zoom) * static_cast<double>(width - 1) + slack)
    fail(MATNN_ERROR_INTERNAL, "zoom_window: zoom {} at ({}, {}) does not fit a {} x {} image", zoom, row0, column0,
         height, width);
  // Source coordinate and the weight of the next pixel, per output row and per output column.
  auto source = [zoom](double origin, std::int64_t i, std::int64_t size) {
    const double at = std::min(origin + zoom * static_cast<double>(i), static_cast<double>(size - 1));
    const std::int64_t last_cell = std::max<std::int64_t>(0, size - 2);  // the cell left of the last pixel
    const std::int64_t lower = std::min<std::int64_t>(static_cast<std::int64_t>(at), last_cell);
    return std::pair<std::int64_t, double>{lower, at - static_cast<double>(lower)};
  };
  for (std::int64_t y = 0; y < height; ++y) {
    const auto [y0, wy] = height > 1 ? source(row0, y, height) : std::pair<std::int64_t, double>{0, 0.0};
    const std::int64_t y1 = std::min(y0 + 1, height - 1);
    for (std::int64_t x = 0; x < width; ++x) {
      const auto [x0, wx] = width > 1 ? source(column0, x, width) : std::pair<std::int64_t, double>{0, 0.0};
      const std::int64_t x1 = std::min(x0 + 1, width - 1);
      const double top = (1 - wx) * values[y0 * width + x0] + wx * values[y0 * width + x1];
      const double bottom = (1 - wx) * values[y1 * width + x0] + wx * values[y1 * width + x1];
      scratch[static_cast<std::size_t>(y * width + x)] = static_cast<float>((1 - wy) * top + wy * bottom);
    }
  }
  std::copy(scratch.begin(), scratch.begin() + height * width, values);
}

}  // namespace matnn::workflows
