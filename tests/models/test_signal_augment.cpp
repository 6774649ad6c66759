// The geometry of training augmentation (workflows/signal_augment.hpp): spectrum shifts, the
// eight symmetries of a square, and crops magnified back to full size, which must reproduce a
// linear intensity ramp exactly at the zoomed coordinates.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

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
  std::vector<float> v = pattern(30, 80), scratch(axis.size());
  const std::vector<float> original = v;
  workflows::strain_pattern(v.data(), axis, 0.0, scratch);
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_NEAR(v[i], original[i], 1e-6);
  workflows::strain_pattern(v.data(), axis, 0.03, scratch);
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
