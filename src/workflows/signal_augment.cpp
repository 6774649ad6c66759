#include "workflows/signal_augment.hpp"

#include <algorithm>
#include <cmath>

#include "matnn/error.hpp"
#include "models/cnn/resample.hpp"

namespace matnn::workflows {
namespace {

/// Uniform in [0, 1) from 53 bits, portably.
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }
double normal(std::mt19937_64& rng) {
  const double u1 = std::max(uniform(rng), 1e-300), u2 = uniform(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

}  // namespace

std::vector<double> augment_batch(float* values, std::int64_t n, std::int64_t channels, std::int64_t height,
                                  std::int64_t width, const std::vector<double>& axis, const AugmentOptions& options,
                                  std::mt19937_64& rng, float* log_pixel_size) {
  const std::int64_t plane = height * width;
  std::vector<float> scratch(static_cast<std::size_t>(plane));
  std::vector<double> factors;
  for (std::int64_t s = 0; s < n; ++s) {
    const std::int64_t range = 2 * options.shift_points + 1;
    const std::int64_t shift =
        options.shift_points > 0 ? static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(range)) - options.shift_points : 0;
    const double factor = 1.0 + options.scale * (2.0 * uniform(rng) - 1.0);
    const int symmetry = options.flip ? static_cast<int>(rng() % 8) : 0;
    const double strain = options.strain > 0 ? options.strain * (2.0 * uniform(rng) - 1.0) : 0.0;
    if (options.strain_length) factors.push_back(1 + strain);
    const std::vector<double> source = strain != 0 ? bragg_source_angles(axis, strain) : std::vector<double>();
    double zoom = 1, row0 = 0, column0 = 0;
    if (options.crop > 0) {
      zoom = options.crop + (1 - options.crop) * uniform(rng);
      row0 = uniform(rng) * (1 - zoom) * static_cast<double>(height - 1);
      column0 = uniform(rng) * (1 - zoom) * static_cast<double>(width - 1);
      if (log_pixel_size == nullptr) fail(MATNN_ERROR_INTERNAL, "augment_batch: a crop needs the pixel sizes");
      log_pixel_size[s] += static_cast<float>(std::log(zoom));  // pixels zoom times as large
    }
    for (std::int64_t c = 0; c < channels; ++c) {
      float* p = values + (s * channels + c) * plane;
      if (strain != 0) {
        models::cnn::resample_linear(p, axis, source, scratch.data());
        std::copy(scratch.begin(), scratch.end(), p);
      }
      if (shift != 0) shift_spectrum(p, plane, shift, scratch);
      if (zoom < 1) zoom_window(p, height, width, zoom, row0, column0, scratch);
      if (symmetry != 0) flip_image(p, height, width, symmetry, scratch);
      for (std::int64_t i = 0; i < plane; ++i) {
        double value = p[i] * factor;
        if (options.noise > 0) value += options.noise * normal(rng);
        p[i] = static_cast<float>(value);
      }
    }
  }
  return factors;
}

std::vector<double> bragg_source_angles(const std::vector<double>& two_theta, double strain) {
  const double degree = 0.017453292519943295;
  std::vector<double> source(two_theta.size());
  for (std::size_t i = 0; i < two_theta.size(); ++i) {
    const double s = (1 + strain) * std::sin(0.5 * degree * two_theta[i]);
    source[i] = s >= 1 ? 180.0 : 2 * std::asin(s) / degree;
  }
  return source;
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
