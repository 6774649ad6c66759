#include "driver_settings.hpp"

#include <fstream>
#include <set>
#include <sstream>

namespace matnn::kim {

bool read_settings(const std::string& path, DriverSettings* settings, std::string* problem) {
  std::ifstream in(path);
  if (!in) {
    *problem = path + ": cannot read the settings file";
    return false;
  }
  std::set<std::string> seen;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream words(line.substr(0, line.find('#')));
    std::string key, value, extra;
    if (!(words >> key)) continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    auto refuse = [&](const std::string& why) {
      *problem = where + why;
      return false;
    };
    if (!(words >> value) || (words >> extra)) return refuse("expected `key value`, got \"" + line + "\"");
    if (!seen.insert(key).second) return refuse("\"" + key + "\" is set twice");
    if (key == "precision") {
      if (value != "float32" && value != "float64") return refuse("precision must be float32 or float64, got \"" + value + "\"");
      settings->precision = value == "float32" ? MATNN_PRECISION_FLOAT32 : MATNN_PRECISION_FLOAT64;
    } else if (key == "deviation_file") {
      settings->deviation_file = value;
    } else if (key == "deviation_every") {
      std::size_t used = 0;
      int every = 0;
      try {
        every = std::stoi(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != value.size() || every < 1) return refuse("deviation_every must be a whole number >= 1, got \"" + value + "\"");
      settings->deviation_every = every;
    } else {
      return refuse("unknown setting \"" + key + "\" (known: precision, deviation_file, deviation_every)");
    }
  }
  if (seen.count("deviation_every") > 0 && settings->deviation_file.empty()) {
    *problem = path + ": deviation_every without deviation_file (there is no deviation to write)";
    return false;
  }
  return true;
}

}  // namespace matnn::kim
