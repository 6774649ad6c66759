// The geometry of training augmentation (workflows/signal_augment.hpp): spectrum shifts, the
// eight symmetries of a square, and crops magnified back to full size, which must reproduce a
// linear intensity ramp exactly at the zoomed coordinates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <numeric>
#include <vector>

#include "models/cnn/resample.hpp"
#include "test_helpers.hpp"
#include "workflows/signal_augment.hpp"

namespace matnn {
namespace {

using matnn::testing::status_of;

TEST(SignalAugment, ShiftMovesThePatternAndRepeatsTheEdge) {
  std::vector<float> v = {1, 2, 3, 4, 5}, scratch(5);
  workflows::shift_spectrum(v.data(), 5, 2, scratch);
  EXPECT_EQ(v, (std::vector<float>{1, 1, 1, 2, 3}));
  workflows::shift_spectrum(v.data(), 5, -1, scratch);
  EXPECT_EQ(v, (std::vector<float>{1, 1, 2, 3, 3}));
}

TEST(SignalAugment, StrainMovesEachPeakAsBraggsLawSays) {
  // Peaks at 30 and 80 degrees 2theta on a 0.01 degree grid, strained by +3 %: every d-spacing
  // grows 3 %, so each peak moves to lower angle by its own amount (sin theta' = sin theta / 1.03).
  std::vector<double> axis;
  for (int i = 0; i <= 8000; ++i) axis.push_back(10.0 + 0.01 * i);
  auto pattern = [&](double a, double b) {
    std::vector<float> v(axis.size());
    for (std::size_t i = 0; i < axis.size(); ++i)
      v[i] = static_cast<float>(std::exp(-0.5 * std::pow((axis[i] - a) / 0.1, 2)) +
                                std::exp(-0.5 * std::pow((axis[i] - b) / 0.1, 2)));
    return v;
  };
  const std::vector<float> original = pattern(30, 80);
  std::vector<float> v(axis.size());
  models::cnn::resample_linear(original.data(), axis, workflows::bragg_source_angles(axis, 0.0), v.data());
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_NEAR(v[i], original[i], 1e-6);
  models::cnn::resample_linear(original.data(), axis, workflows::bragg_source_angles(axis, 0.03), v.data());
  // With Cu K-alpha (1.5406 A) the 30 degree peak is d = 2.9762 A; 3 % longer, 3.0655 A diffracts at
  // 29.107 degrees. The 80 degree one (1.1986 A -> 1.2345 A) moves to 77.227: 2.8 degrees, not 0.9.
  const auto peak = [&](double from, double to) {
    std::size_t best = 0;
    for (std::size_t i = 0; i < axis.size(); ++i)
      if (axis[i] > from && axis[i] < to && (best == 0 || v[i] > v[best])) best = i;
    return axis[best];
  };
  EXPECT_NEAR(peak(20, 50), 29.107, 0.011);
  EXPECT_NEAR(peak(50, 90), 77.227, 0.011);
  EXPECT_NEAR(*std::max_element(v.begin(), v.end()), 1.0f, 0.01f);  // moved, not damped
}

TEST(SignalAugment, BatchCropsScaleThePixelSizeByTheirZoom) {
  // Images of a vertical ramp (value = row): a crop magnified back to full size has the ramp's
  // slope times its zoom, and the sample's log pixel size must grow by log(zoom).
  const std::int64_t n = 16, height = 9, width = 7;
  std::vector<float> images(n * height * width), log_pixel(n, 0.5f);
  for (std::int64_t s = 0; s < n; ++s)
    for (std::int64_t y = 0; y < height; ++y)
      for (std::int64_t x = 0; x < width; ++x) images[static_cast<std::size_t>((s * height + y) * width + x)] = y;
  workflows::AugmentOptions options;
  options.crop = 0.5;
  std::mt19937_64 rng(8);
  EXPECT_TRUE(workflows::augment_batch(images.data(), n, 1, height, width, {}, options, rng, log_pixel.data()).empty());
  for (std::int64_t s = 0; s < n; ++s) {
    const float* image = images.data() + s * height * width;
    const double slope = (image[(height - 1) * width] - image[0]) / static_cast<double>(height - 1);
    EXPECT_GE(slope, 0.5 - 1e-6);
    EXPECT_NEAR(log_pixel[static_cast<std::size_t>(s)], 0.5 + std::log(slope), 1e-5) << "sample " << s;
  }
}

TEST(SignalAugment, BatchStrainReturnsTheLabelFactorOfThePeakShift) {
  // One peak at 60 degrees 2theta: a strain that moves it to 2theta' makes every d-spacing
  // sin(30) / sin(theta') times longer, and that is the factor the label must take.
  std::vector<double> axis;
  for (int i = 0; i <= 4000; ++i) axis.push_back(40.0 + 0.01 * i);
  const std::int64_t n = 8, points = static_cast<std::int64_t>(axis.size());
  std::vector<float> patterns(n * points);
  for (std::int64_t s = 0; s < n; ++s)
    for (std::int64_t i = 0; i < points; ++i)
      patterns[static_cast<std::size_t>(s * points + i)] =
          static_cast<float>(std::exp(-0.5 * std::pow((axis[static_cast<std::size_t>(i)] - 60) / 0.1, 2)));
  workflows::AugmentOptions options;
  options.strain = 0.04;
  options.strain_length = true;
  std::mt19937_64 rng(2);
  const std::vector<double> factors = workflows::augment_batch(patterns.data(), n, 1, 1, points, axis, options, rng, nullptr);
  ASSERT_EQ(factors.size(), static_cast<std::size_t>(n));
  const double degree = 0.017453292519943295;
  for (std::int64_t s = 0; s < n; ++s) {
    const float* p = patterns.data() + s * points;
    const double peak = axis[static_cast<std::size_t>(std::max_element(p, p + points) - p)];
    EXPECT_NEAR(std::sin(30 * degree) / std::sin(0.5 * peak * degree), factors[static_cast<std::size_t>(s)], 3e-4)
        << "sample " << s << ": peak at " << peak;
  }
}

TEST(SignalAugment, FlipsAreTheSymmetriesOfTheSquare) {
  // 2 x 2: [a b; c d]
  const std::vector<float> image = {1, 2, 3, 4};
  const std::vector<std::vector<float>> expected = {{1, 2, 3, 4}, {2, 1, 4, 3}, {3, 4, 1, 2}, {4, 3, 2, 1},
                                                    {1, 3, 2, 4}, {3, 1, 4, 2}, {2, 4, 1, 3}, {4, 2, 3, 1}};
  std::vector<float> scratch(4);
  for (int symmetry = 0; symmetry < 8; ++symmetry) {
    std::vector<float> v = image;
    workflows::flip_image(v.data(), 2, 2, symmetry, scratch);
    EXPECT_EQ(v, expected[static_cast<std::size_t>(symmetry)]) << "symmetry " << symmetry;
  }
  // A 1 x 3 image has no transpose: bit 2 leaves it as the mirrors alone make it.
  std::vector<float> row = {1, 2, 3}, other(3);
  workflows::flip_image(row.data(), 1, 3, 5, other);
  EXPECT_EQ(row, (std::vector<float>{3, 2, 1}));
}

TEST(SignalAugment, ZoomedWindowSamplesALinearRampExactly) {
  const std::int64_t height = 7, width = 9;
  auto ramp = [](double y, double x) { return 0.5 + 0.25 * y - 0.125 * x; };
  std::vector<float> image(height * width), scratch(height * width);
  for (std::int64_t y = 0; y < height; ++y)
    for (std::int64_t x = 0; x < width; ++x)
      image[static_cast<std::size_t>(y * width + x)] = static_cast<float>(ramp(y, x));
  std::vector<float> same = image;
  workflows::zoom_window(same.data(), height, width, 1.0, 0, 0, scratch);
  EXPECT_EQ(same, image);
  const double zoom = 0.75, row0 = 1.2, column0 = 0.5;
  std::vector<float> v = image;
  workflows::zoom_window(v.data(), height, width, zoom, row0, column0, scratch);
  for (std::int64_t y = 0; y < height; ++y)
    for (std::int64_t x = 0; x < width; ++x)
      EXPECT_NEAR(v[static_cast<std::size_t>(y * width + x)], ramp(row0 + zoom * y, column0 + zoom * x), 1e-6)
          << y << ", " << x;
  // The largest window origin reaches the last row and column.
  v = image;
  workflows::zoom_window(v.data(), height, width, zoom, (1 - zoom) * (height - 1), (1 - zoom) * (width - 1), scratch);
  EXPECT_NEAR(v.back(), image.back(), 1e-6);
  // A window that leaves the image, or a zoom out of (0, 1], is a caller's bug.
  EXPECT_EQ(status_of([&] { workflows::zoom_window(v.data(), height, width, zoom, 2.0, 0, scratch); }),
            MATNN_ERROR_INTERNAL);
  EXPECT_EQ(status_of([&] { workflows::zoom_window(v.data(), height, width, 1.5, 0, 0, scratch); }),
            MATNN_ERROR_INTERNAL);
}

}  // namespace
}  // namespace matnn
