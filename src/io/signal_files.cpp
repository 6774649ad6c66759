#include "io/signal_files.hpp"

#include <png.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "matnn/error.hpp"
#include "matnn/input_file.hpp"

namespace matnn {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r") - first + 1);
}

/// Cells of a line split at commas (when it has one) or at runs of spaces and tabs.
std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  if (line.find(',') != std::string::npos) {
    std::stringstream in(line);
    std::string cell;
    while (std::getline(in, cell, ',')) cells.push_back(trim(cell));
    if (!line.empty() && line.back() == ',') cells.emplace_back();
  } else {
    std::stringstream in(line);
    std::string cell;
    while (in >> cell) cells.push_back(cell);
  }
  return cells;
}

bool parse_number(const std::string& text, double& value) {
  if (text.empty()) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

std::ifstream open_text(const std::string& path, const char* what) {
  check_input_file(path, what);
  std::ifstream in(path);
  if (!in) fail(MATNN_ERROR_IO, "{}: cannot open {}", path, what);
  return in;
}

}  // namespace

Signal read_spectrum_text(const std::string& path, const std::string& axis_name, const std::string& axis_unit) {
  std::ifstream in = open_text(path, "a spectrum file");
  std::vector<double> axis;
  std::vector<float> values;
  std::string line;
  bool header_allowed = true;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    const std::vector<std::string> cells = cells_of(text);
    double x = 0, y = 0;
    const bool numbers = cells.size() == 2 && parse_number(cells[0], x) && parse_number(cells[1], y);
    if (!numbers && header_allowed && axis.empty()) {
      header_allowed = false;  // one header line of names
      continue;
    }
    if (!numbers)
      fail(MATNN_ERROR_FORMAT, "{}:{}: expected two numbers (position and intensity), got \"{}\"", path, number, text);
    if (!std::isfinite(x) || !std::isfinite(y)) fail(MATNN_ERROR_NON_FINITE, "{}:{}: a value is not finite", path, number);
    if (!axis.empty() && !(x > axis.back()))
      fail(MATNN_ERROR_FORMAT, "{}:{}: position {} does not increase (previous {})", path, number, x, axis.back());
    axis.push_back(x);
    values.push_back(static_cast<float>(y));
  }
  if (axis.size() < 2) fail(MATNN_ERROR_FORMAT, "{}: a spectrum needs at least 2 points, found {}", path, axis.size());
  return make_spectrum(std::move(axis), std::move(values), axis_name, axis_unit);
}

Signal read_png(const std::string& path, double pixel_size, const std::string& unit) {
  check_input_file(path, "a PNG image");
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str()))
    fail(MATNN_ERROR_FORMAT, "{}: not a readable PNG image: {}", path, image.message);
  // libpng's simplified API converts every PNG (palette, grey+alpha) to grey or RGB. It treats
  // 16-bit files as linear and 8-bit ones as sRGB-encoded; asking each for its own encoding
  // returns the stored values unchanged (no gamma conversion of the intensities).
  const bool colour = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
  const bool sixteen = (image.format & PNG_FORMAT_FLAG_LINEAR) != 0;
  image.format = colour ? (sixteen ? PNG_FORMAT_LINEAR_RGB : PNG_FORMAT_RGB)
                        : (sixteen ? PNG_FORMAT_LINEAR_Y : PNG_FORMAT_GRAY);
  const std::size_t channels = colour ? 3 : 1, height = image.height, width = image.width;
  std::vector<unsigned char> buffer(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, buffer.data(), 0, nullptr)) {
    const std::string message = image.message;
    png_image_free(&image);
    fail(MATNN_ERROR_FORMAT, "{}: cannot decode the PNG image: {}", path, message);
  }
  // Interleaved (y, x, c) -> channels first (c, y, x), scaled to [0, 1].
  const auto* wide = reinterpret_cast<const png_uint_16*>(buffer.data());
  std::vector<float> values(channels * height * width);
  for (std::size_t y = 0; y < height; ++y)
    for (std::size_t x = 0; x < width; ++x)
      for (std::size_t c = 0; c < channels; ++c) {
        const std::size_t at = (y * width + x) * channels + c;
        values[(c * height + y) * width + x] =
            sixteen ? static_cast<float>(wide[at]) / 65535.0f : static_cast<float>(buffer[at]) / 255.0f;
      }
  return make_image(static_cast<std::int64_t>(channels), static_cast<std::int64_t>(height),
                    static_cast<std::int64_t>(width), std::move(values), pixel_size, unit);
}

ImageReader image_reader_for(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".png") return read_png;
  if (ext == ".tif" || ext == ".tiff") return read_tiff;
  return nullptr;
}

std::map<std::string, FileLabels> read_label_table(const std::string& path) {
  std::ifstream in = open_text(path, "a label table");
  std::string line;
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> row_lines;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#') continue;
    std::vector<std::string> cells = cells_of(text);
    if (header.empty()) {
      header = std::move(cells);
      continue;
    }
    if (cells.size() != header.size())
      fail(MATNN_ERROR_FORMAT, "{}:{}: {} cells, but the header has {}", path, number, cells.size(), header.size());
    rows.push_back(std::move(cells));
    row_lines.push_back(number);
  }
  std::size_t file_column = header.size();
  for (std::size_t c = 0; c < header.size(); ++c)
    if (header[c] == "file") file_column = c;
  if (file_column == header.size()) fail(MATNN_ERROR_FORMAT, "{}: the header has no \"file\" column", path);
  // A column is numeric when every non-empty cell is a number.
  std::vector<bool> numeric(header.size(), true);
  for (const auto& row : rows)
    for (std::size_t c = 0; c < header.size(); ++c) {
      double v = 0;
      if (!row[c].empty() && !parse_number(row[c], v)) numeric[c] = false;
    }
  std::map<std::string, FileLabels> out;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::string& file = rows[r][file_column];
    if (file.empty()) fail(MATNN_ERROR_FORMAT, "{}:{}: the file cell is empty", path, row_lines[r]);
    auto [it, inserted] = out.try_emplace(file);
    if (!inserted) fail(MATNN_ERROR_FORMAT, "{}:{}: file \"{}\" is listed twice", path, row_lines[r], file);
    for (std::size_t c = 0; c < header.size(); ++c) {
      if (c == file_column || rows[r][c].empty()) continue;
      double v = 0;
      if (numeric[c] && parse_number(rows[r][c], v)) {
        if (!std::isfinite(v)) fail(MATNN_ERROR_NON_FINITE, "{}:{}: {} is not finite", path, row_lines[r], header[c]);
        it->second.properties[header[c]] = v;
      } else {
        it->second.tags[header[c]] = rows[r][c];
      }
    }
  }
  return out;
}

}  // namespace matnn
