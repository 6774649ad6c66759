// The geometric changes of a spectrum or image that training augmentation applies (the random
// draws stay in signal_learner.cpp). Each works on one channel in place, with a scratch buffer of
// at least one channel's size, so a batch is augmented without allocating per sample.
#pragma once

#include <cstdint>
#include <vector>

namespace matnn::workflows {

/// A powder diffraction pattern on a 2theta grid (degrees) as the same crystal strained
/// isotropically by `strain` would give it: every d-spacing times (1 + strain), so by Bragg's law
/// sin(theta') = sin(theta) / (1 + strain) at any wavelength. Point i takes the input at the 2theta
/// whose sine of half is (1 + strain) sin(theta'_i), interpolated linearly on the grid (which
/// must increase); outside the grid the edge value.
void strain_pattern(float* values, const std::vector<double>& two_theta, double strain, std::vector<float>& scratch);

/// Moves a spectrum by `shift` points (positive: towards larger positions), repeating the edge
/// value into the gap.
void shift_spectrum(float* values, std::int64_t points, std::int64_t shift, std::vector<float>& scratch);

/// One of the eight symmetries of a square: bit 0 mirrors columns, bit 1 mirrors rows, bit 2
/// transposes (square images only; ignored for others, which have four symmetries).
void flip_image(float* values, std::int64_t height, std::int64_t width, int symmetry, std::vector<float>& scratch);

/// A window of the image magnified back to its full size: output pixel (y, x) samples the input
/// bilinearly at (row0 + zoom * y, column0 + zoom * x), in pixel-centre coordinates, so the
/// window spans zoom * (size - 1) pixel spacings and the new pixel edge is `zoom` times the old.
/// Needs 0 < zoom <= 1 and the window inside the image: 0 <= row0 <= (1 - zoom) * (height - 1),
/// and the same for column0 (checked; MATNN_ERROR_INTERNAL otherwise). Linear intensity ramps
/// are reproduced exactly.
void zoom_window(float* values, std::int64_t height, std::int64_t width, double zoom, double row0, double column0,
                 std::vector<float>& scratch);

}  // namespace matnn::workflows
