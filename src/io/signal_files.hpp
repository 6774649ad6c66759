// Spectra and images from the plain files instruments and codes write, for `matnn import`:
// two-column text or CSV spectra, PNG and TIFF images (through libpng and libtiff), and a CSV
// table of labels.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "matnn/signal.hpp"

namespace matnn {

/// A spectrum from a text file of two columns, position and intensity, separated by spaces,
/// tabs or one comma. Blank lines and lines starting with '#' are skipped, and so is one header
/// line of non-numbers at the top (a CSV header such as "2theta,intensity"). Errors name the
/// file and line: MATNN_ERROR_IO (unreadable), MATNN_ERROR_FORMAT (a line that is not two
/// numbers, fewer than 2 points, positions that do not increase), MATNN_ERROR_NON_FINITE.
Signal read_spectrum_text(const std::string& path, const std::string& axis_name, const std::string& axis_unit);

/// An image from a PNG file: grey (1 channel) or colour (3 channels; alpha is dropped), 8 or 16
/// bits, the stored values (no gamma conversion) scaled to [0, 1], with the given pixel size. MATNN_ERROR_IO / MATNN_ERROR_FORMAT
/// naming the file.
Signal read_png(const std::string& path, double pixel_size, const std::string& unit);

/// An image from a TIFF file (tiff_image.cpp): grey (1 channel) or RGB (3 channels; alpha and
/// other extra samples are dropped) in strips or tiles, interleaved or planar. 8- and 16-bit
/// integers are scaled to [0, 1], 32-bit floats kept as stored; MINISWHITE images are inverted
/// so that larger is brighter. Other layouts (palette, bilevel, YCbCr, CMYK) are converted by
/// libtiff to 8-bit RGB. Reduced-resolution previews are skipped; a file of several full-size
/// images (a stack) is MATNN_ERROR_FORMAT, as is anything libtiff cannot decode; a NaN or
/// infinite float pixel is MATNN_ERROR_NON_FINITE naming its row and column.
Signal read_tiff(const std::string& path, double pixel_size, const std::string& unit);

/// The image reader for a file name: read_png for .png, read_tiff for .tif and .tiff (any case),
/// nullptr for anything else (a spectrum).
using ImageReader = Signal (*)(const std::string& path, double pixel_size, const std::string& unit);
ImageReader image_reader_for(const std::string& path);

/// Labels per input file from a CSV table whose header names the columns: "file" (required:
/// the input path as given, or its file name), then one column per label. A column whose
/// every non-empty cell is a number becomes a per-structure property, any other a tag; an empty
/// cell leaves that label absent. MATNN_ERROR_FORMAT naming file and line for a row with
/// another number of cells, a repeated file, or no "file" column.
struct FileLabels {
  std::map<std::string, double> properties;
  std::map<std::string, std::string> tags;
};
std::map<std::string, FileLabels> read_label_table(const std::string& path);

}  // namespace matnn
