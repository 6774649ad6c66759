// Training augmentation of spectrum and image batches (model.augment, docs/training-config.md):
// the random draws per sample and the geometric changes they drive. The single-channel changes
// work in place with a scratch buffer of at least one channel's size, so a batch is augmented
// without allocating per sample.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace matnn::workflows {

struct AugmentOptions {
  std::int64_t shift_points = 0;  ///< spectra: largest shift, in grid points
  double scale = 0;               ///< intensity factor drawn from [1 - scale, 1 + scale]
  double noise = 0;               ///< Gaussian noise sigma, in normalised units
  bool flip = false;              ///< images: mirrors and (square images) quarter turns
  double crop = 0;                ///< images: smallest window edge, as a fraction of the image's
  double strain = 0;              ///< 2theta patterns: largest isotropic strain
  bool strain_length = false;     ///< the label is a length that strains with the pattern

  bool any() const noexcept {
    return shift_points > 0 || scale > 0 || noise > 0 || flip || crop > 0 || strain > 0;
  }
};

/// Augments a batch in place: values (n, channels, height, width) for images or (n, channels,
/// width) spectra with height 1, on the spectra's `axis` (2theta in degrees when straining).
/// Each sample draws its own change, the same for all its channels. A crop multiplies the
/// sample's pixel size by its zoom, so `log_pixel_size` (n entries, or nullptr for spectra) gets
/// log(zoom) added. Returns each sample's label factor, 1 + strain, when options.strain_length
/// (empty otherwise).
std::vector<double> augment_batch(float* values, std::int64_t n, std::int64_t channels, std::int64_t height,
                                  std::int64_t width, const std::vector<double>& axis, const AugmentOptions& options,
                                  std::mt19937_64& rng, float* log_pixel_size);

/// Where each point of a 2theta grid (degrees) reads the unstrained pattern once the crystal is
/// strained isotropically by `strain`: every d-spacing times (1 + strain), so by Bragg's law
/// sin(theta') = sin(theta) / (1 + strain) at any wavelength, and point i reads the 2theta whose
/// half has the sine (1 + strain) sin(theta'_i) (180 degrees beyond the largest sine).
std::vector<double> bragg_source_angles(const std::vector<double>& two_theta, double strain);

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
