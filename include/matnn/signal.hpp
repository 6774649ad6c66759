// Array-valued samples: a spectrum (a powder diffraction pattern, an XAFS or XPS spectrum, a
// noise waveform) on a named axis, or an image (a micrograph) with a pixel size. A dataset row
// may hold signals beside, or instead of, its atoms; spectrum and image models read them.
//
// Layout in memory is the layout in the file (docs/dataset-format.md, /signals): channels first,
// row-major, float32 (measurements rarely carry more than seven digits, and the networks that
// read them compute in float32).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace matnn {

enum class SignalKind { spectrum, image };

/// "spectrum" / "image"; signal_kind_from_name throws MATNN_ERROR_FORMAT for anything else.
const char* signal_kind_name(SignalKind kind) noexcept;
SignalKind signal_kind_from_name(const std::string& name);

struct Signal {
  SignalKind kind = SignalKind::spectrum;
  /// spectrum: {channels, points}; image: {channels, height, width}.
  std::vector<std::int64_t> shape;
  /// Row-major over shape: values[(c * points) + i] or values[(c * height + y) * width + x].
  std::vector<float> values;
  /// spectrum: the position of every point on the axis, strictly increasing (for example 2theta
  /// in degrees or the photon energy in eV). Every spectrum of a dataset signal shares one grid,
  /// so readers share one copy.
  std::shared_ptr<const std::vector<double>> axis;
  /// spectrum: what the axis measures and its unit ("2theta", "degree"); image: axis_name is
  /// unused and axis_unit is the unit of pixel_size ("nm", "um").
  std::string axis_name, axis_unit;
  /// image: the edge length of one pixel, in axis_unit (> 0).
  double pixel_size = 0;

  std::int64_t channels() const noexcept { return shape.empty() ? 0 : shape[0]; }
  /// Values per channel (points, or height * width).
  std::int64_t plane() const noexcept;

  /// Throws matnn::Error naming the problem: a shape of the wrong rank or with a zero extent,
  /// values or axis of the wrong length, an axis that does not increase, a pixel size that is not
  /// positive (MATNN_ERROR_FORMAT); a NaN or infinite value (MATNN_ERROR_NON_FINITE).
  void validate() const;
};

/// A spectrum of one channel on `axis`.
Signal make_spectrum(std::vector<double> axis, std::vector<float> values, std::string axis_name, std::string axis_unit);
/// An image of `channels` x height x width values with square pixels of `pixel_size` `unit`.
Signal make_image(std::int64_t channels, std::int64_t height, std::int64_t width, std::vector<float> values,
                  double pixel_size, std::string unit);

}  // namespace matnn
