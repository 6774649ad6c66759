// TIFF micrographs through Debian's libtiff. Microscopes write TIFF more than any other format,
// often as 16-bit or float grey levels, in strips or tiles, with planes stored separately, and
// with a reduced-resolution preview after the image. The common sample layouts are read as
// stored, so 16-bit and float intensities keep their resolution; the rest (palette, bilevel,
// YCbCr, CMYK, ...) go through libtiff's own conversion to 8-bit RGB.
#include <tiffio.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "io/signal_files.hpp"
#include "matnn/error.hpp"
#include "matnn/input_file.hpp"

namespace matnn {
namespace {

/// libtiff reports errors through a handler; this one keeps the first message of the handle.
int keep_error(TIFF*, void* user, const char* module, const char* format, va_list args) {
  auto* message = static_cast<std::string*>(user);
  if (!message->empty()) return 1;
  char text[512];
  std::vsnprintf(text, sizeof text, format, args);
  *message = module != nullptr && *module != '\0' ? std::string(module) + ": " + text : std::string(text);
  return 1;
}

/// Warnings (unknown private tags of microscope vendors, mostly) say nothing about the pixels.
int drop_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

struct TiffCloser {
  void operator()(TIFF* tif) const noexcept { TIFFClose(tif); }
};
using TiffHandle = std::unique_ptr<TIFF, TiffCloser>;

struct Layout {
  std::uint32_t width = 0, height = 0;
  std::uint16_t samples = 1, bits = 1, format = SAMPLEFORMAT_UINT, photometric = PHOTOMETRIC_MINISBLACK;
  std::uint16_t planar = PLANARCONFIG_CONTIG;
  std::size_t colour_samples() const noexcept { return photometric == PHOTOMETRIC_RGB ? 3 : 1; }
  /// Layouts read sample by sample: grey or RGB (alpha or other extra samples after them), in
  /// 8- or 16-bit unsigned integers or 32-bit floats.
  bool direct() const noexcept {
    const bool kind = photometric == PHOTOMETRIC_MINISBLACK || photometric == PHOTOMETRIC_MINISWHITE ||
                      photometric == PHOTOMETRIC_RGB;
    const bool type = (format == SAMPLEFORMAT_UINT && (bits == 8 || bits == 16)) ||
                      (format == SAMPLEFORMAT_IEEEFP && bits == 32);
    return kind && type && samples >= colour_samples();
  }
};

/// One stored sample as a float: integers scaled to [0, 1], floats as stored; MINISWHITE
/// (0 is white) inverted so that larger is brighter, as in every other layout.
float sample_value(const unsigned char* data, std::size_t index, const Layout& l) {
  float v = 0;
  if (l.format == SAMPLEFORMAT_IEEEFP) {
    std::memcpy(&v, data + 4 * index, 4);
    return l.photometric == PHOTOMETRIC_MINISWHITE ? -v : v;
  }
  if (l.bits == 8) v = static_cast<float>(data[index]) / 255.0f;
  else {
    std::uint16_t w = 0;
    std::memcpy(&w, data + 2 * index, 2);  // libtiff returns native byte order
    v = static_cast<float>(w) / 65535.0f;
  }
  return l.photometric == PHOTOMETRIC_MINISWHITE ? 1.0f - v : v;
}

/// Reads the direct layouts tile by tile or row by row into channels-first values.
std::vector<float> read_direct(TIFF* tif, const Layout& l, const std::string& path, const std::string& error) {
  const std::size_t channels = l.colour_samples(), width = l.width, height = l.height;
  const bool separate = l.planar == PLANARCONFIG_SEPARATE;
  const std::size_t per_pixel = separate ? 1 : l.samples;  // samples interleaved in one buffer
  std::vector<float> values(channels * height * width);
  auto store = [&](const unsigned char* data, std::size_t index, std::size_t c, std::size_t y, std::size_t x) {
    values[(c * height + y) * width + x] = sample_value(data, index, l);
  };
  auto failed = [&](const char* what) {
    fail(MATNN_ERROR_FORMAT, "{}: cannot decode the TIFF {}: {}", path, what, error.empty() ? "unknown error" : error);
  };
  const std::size_t planes = separate ? channels : 1;
  if (TIFFIsTiled(tif)) {
    std::uint32_t tile_width = 0, tile_height = 0;
    TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_width);
    TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_height);
    std::vector<unsigned char> tile(static_cast<std::size_t>(TIFFTileSize(tif)));
    for (std::size_t plane = 0; plane < planes; ++plane)
      for (std::uint32_t y0 = 0; y0 < l.height; y0 += tile_height)
        for (std::uint32_t x0 = 0; x0 < l.width; x0 += tile_width) {
          if (TIFFReadTile(tif, tile.data(), x0, y0, 0, static_cast<std::uint16_t>(plane)) < 0) failed("tile");
          for (std::size_t y = y0; y < std::min<std::size_t>(height, y0 + tile_height); ++y)
            for (std::size_t x = x0; x < std::min<std::size_t>(width, x0 + tile_width); ++x)
              for (std::size_t c = 0; c < (separate ? 1 : channels); ++c)
                store(tile.data(), ((y - y0) * tile_width + (x - x0)) * per_pixel + c, separate ? plane : c, y, x);
        }
  } else {
    std::vector<unsigned char> row(static_cast<std::size_t>(TIFFScanlineSize(tif)));
    for (std::size_t plane = 0; plane < planes; ++plane)
      for (std::uint32_t y = 0; y < l.height; ++y) {
        if (TIFFReadScanline(tif, row.data(), y, static_cast<std::uint16_t>(plane)) < 0) failed("row");
        for (std::size_t x = 0; x < width; ++x)
          for (std::size_t c = 0; c < (separate ? 1 : channels); ++c)
            store(row.data(), x * per_pixel + c, separate ? plane : c, y, x);
      }
  }
  return values;
}

/// Any other layout through libtiff's RGBA conversion (8 bits per channel), alpha dropped.
std::vector<float> read_converted(TIFF* tif, const Layout& l, const std::string& path, const std::string& error) {
  const std::size_t width = l.width, height = l.height;
  std::vector<std::uint32_t> rgba(width * height);
  if (!TIFFReadRGBAImageOriented(tif, l.width, l.height, rgba.data(), ORIENTATION_TOPLEFT, 0))
    fail(MATNN_ERROR_FORMAT, "{}: cannot decode the TIFF image ({} bits per sample, photometric {}): {}", path, l.bits,
         l.photometric, error.empty() ? "unsupported layout" : error);
  std::vector<float> values(3 * height * width);
  for (std::size_t i = 0; i < width * height; ++i) {
    values[i] = static_cast<float>(TIFFGetR(rgba[i])) / 255.0f;
    values[height * width + i] = static_cast<float>(TIFFGetG(rgba[i])) / 255.0f;
    values[2 * height * width + i] = static_cast<float>(TIFFGetB(rgba[i])) / 255.0f;
  }
  return values;
}

/// Full-resolution images in the file. Reduced-resolution subfiles (previews, pyramid levels)
/// are views of the first image, not more data.
std::size_t full_images(TIFF* tif) {
  std::size_t count = 0;
  do {
    std::uint32_t subfile = 0;
    TIFFGetField(tif, TIFFTAG_SUBFILETYPE, &subfile);
    if ((subfile & FILETYPE_REDUCEDIMAGE) == 0) ++count;
  } while (TIFFReadDirectory(tif));
  TIFFSetDirectory(tif, 0);
  return count;
}

}  // namespace

Signal read_tiff(const std::string& path, double pixel_size, const std::string& unit) {
  check_input_file(path, "a TIFF image");
  std::string error;
  TIFFOpenOptions* options = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(options, keep_error, &error);
  TIFFOpenOptionsSetWarningHandlerExtR(options, drop_warning, nullptr);
  TiffHandle tif(TIFFOpenExt(path.c_str(), "r", options));
  TIFFOpenOptionsFree(options);
  if (!tif)
    fail(MATNN_ERROR_FORMAT, "{}: not a readable TIFF image: {}", path, error.empty() ? "unknown error" : error);

  const std::size_t images = full_images(tif.get());
  if (images != 1)
    fail(MATNN_ERROR_FORMAT, "{}: holds {} full-size images (a stack); matnn import reads one image per file", path,
         images);
  Layout l;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &l.width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &l.height);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &l.samples);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &l.bits);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLEFORMAT, &l.format);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_PLANARCONFIG, &l.planar);
  if (!TIFFGetField(tif.get(), TIFFTAG_PHOTOMETRIC, &l.photometric))
    l.photometric = l.samples >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
  if (l.width == 0 || l.height == 0) fail(MATNN_ERROR_FORMAT, "{}: the TIFF image has no pixels", path);
  if (l.format == SAMPLEFORMAT_IEEEFP && !l.direct())
    fail(MATNN_ERROR_FORMAT, "{}: {}-bit floating-point TIFF samples with photometric {} are not supported (32-bit "
         "grey or RGB are)", path, l.bits, l.photometric);

  std::vector<float> values = l.direct() ? read_direct(tif.get(), l, path, error)
                                         : read_converted(tif.get(), l, path, error);
  const std::int64_t channels = l.direct() ? static_cast<std::int64_t>(l.colour_samples()) : 3;
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!std::isfinite(values[i])) {
      const std::size_t plane = static_cast<std::size_t>(l.width) * l.height, at = i % plane;
      fail(MATNN_ERROR_NON_FINITE, "{}: pixel (row {}, column {}) of channel {} is not finite", path, at / l.width,
           at % l.width, i / plane);
    }
  return make_image(channels, l.height, l.width, std::move(values), pixel_size, unit);
}

}  // namespace matnn
