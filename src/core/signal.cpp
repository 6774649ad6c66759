#include "matnn/signal.hpp"

#include <cmath>

#include <fmt/ranges.h>

#include "matnn/error.hpp"

namespace matnn {

const char* signal_kind_name(SignalKind kind) noexcept { return kind == SignalKind::spectrum ? "spectrum" : "image"; }

SignalKind signal_kind_from_name(const std::string& name) {
  if (name == "spectrum") return SignalKind::spectrum;
  if (name == "image") return SignalKind::image;
  fail(MATNN_ERROR_FORMAT, "signal kind \"{}\" is neither \"spectrum\" nor \"image\"", name);
}

std::int64_t Signal::plane() const noexcept {
  std::int64_t n = 1;
  for (std::size_t d = 1; d < shape.size(); ++d) n *= shape[d];
  return shape.empty() ? 0 : n;
}

void Signal::validate() const {
  const std::size_t rank = kind == SignalKind::spectrum ? 2 : 3;
  if (shape.size() != rank)
    fail(MATNN_ERROR_FORMAT, "a {} has a shape of {} numbers ({}), not {}", signal_kind_name(kind), rank,
         kind == SignalKind::spectrum ? "channels, points" : "channels, height, width", shape.size());
  std::int64_t count = 1;
  for (std::int64_t extent : shape) {
    if (extent < 1) fail(MATNN_ERROR_FORMAT, "a {} has an empty extent in its shape", signal_kind_name(kind));
    count *= extent;
  }
  if (static_cast<std::int64_t>(values.size()) != count)
    fail(MATNN_ERROR_FORMAT, "a {} of shape {} needs {} values, got {}", signal_kind_name(kind),
         fmt::join(shape, " x "), count, values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) fail(MATNN_ERROR_NON_FINITE, "{} value {} is not finite", signal_kind_name(kind), i);
  if (kind == SignalKind::spectrum) {
    if (!axis || static_cast<std::int64_t>(axis->size()) != shape[1])
      fail(MATNN_ERROR_FORMAT, "a spectrum of {} points needs an axis of {} positions, got {}", shape[1], shape[1],
           axis ? axis->size() : 0);
    for (std::size_t i = 0; i < axis->size(); ++i) {
      if (!std::isfinite((*axis)[i])) fail(MATNN_ERROR_NON_FINITE, "spectrum axis position {} is not finite", i);
      if (i > 0 && !((*axis)[i] > (*axis)[i - 1]))
        fail(MATNN_ERROR_FORMAT, "the spectrum axis must increase, but position {} ({}) follows {}", i, (*axis)[i],
             (*axis)[i - 1]);
    }
    if (axis_name.empty()) fail(MATNN_ERROR_FORMAT, "a spectrum needs the name of its axis (for example 2theta)");
  } else if (!(pixel_size > 0) || !std::isfinite(pixel_size)) {
    fail(MATNN_ERROR_FORMAT, "an image needs a positive pixel size, got {}", pixel_size);
  }
}

Signal make_spectrum(std::vector<double> axis, std::vector<float> values, std::string axis_name, std::string axis_unit) {
  Signal s;
  s.kind = SignalKind::spectrum;
  s.shape = {1, static_cast<std::int64_t>(values.size())};
  s.values = std::move(values);
  s.axis = std::make_shared<const std::vector<double>>(std::move(axis));
  s.axis_name = std::move(axis_name);
  s.axis_unit = std::move(axis_unit);
  return s;
}

Signal make_image(std::int64_t channels, std::int64_t height, std::int64_t width, std::vector<float> values,
                  double pixel_size, std::string unit) {
  Signal s;
  s.kind = SignalKind::image;
  s.shape = {channels, height, width};
  s.values = std::move(values);
  s.pixel_size = pixel_size;
  s.axis_unit = std::move(unit);
  return s;
}

}  // namespace matnn
