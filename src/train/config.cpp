#include "train/config.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include "matnn/error.hpp"
#include "matnn/input_file.hpp"

namespace matnn::train {
namespace {

// YAML scalars carry no type; take what a YAML 1.2 reader would: booleans, integers, floats,
// null, else a string. Quoted scalars stay strings.
Json scalar_to_json(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (text == "null" || text == "~" || text.empty()) return nullptr;
  try {
    std::size_t used = 0;
    const long long i = std::stoll(text, &used);
    if (used == text.size()) return i;
  } catch (const std::exception&) {
  }
  try {
    std::size_t used = 0;
    const double d = std::stod(text, &used);
    if (used == text.size()) return d;
  } catch (const std::exception&) {
  }
  return text;
}

Json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (const auto& item : node) out[item.first.as<std::string>()] = yaml_to_json(item.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Scalar: return scalar_to_json(node);
    default: return nullptr;
  }
}

// Offset of the first byte that does not start or continue a valid UTF-8 sequence, or npos.
// Valid means what the JSON library accepts: no overlong forms, no surrogates, at most U+10FFFF.
std::size_t first_invalid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return i;
    char32_t code = length == 1 ? c : length == 2 ? (c & 0x1F) : length == 3 ? (c & 0x0F) : (c & 0x07);
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return i;
      code = (code << 6) | (next & 0x3F);
    }
    static constexpr char32_t smallest[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF) return i;
    i += length;
  }
  return std::string_view::npos;
}

// A key or string value of the parsed config that is not UTF-8 (YAML can turn control bytes and
// escapes in the text into bytes that are not), or nullptr. Every message and model file quotes config strings as JSON,
// which must be UTF-8.
const std::string* first_non_utf8_string(const Json& j) {
  if (j.is_string()) {
    const auto& s = j.get_ref<const std::string&>();
    return first_invalid_utf8(s) == std::string_view::npos ? nullptr : &s;
  }
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (first_invalid_utf8(it.key()) != std::string_view::npos) return &it.key();
      if (const std::string* bad = first_non_utf8_string(it.value())) return bad;
    }
  } else if (j.is_array()) {
    for (const Json& x : j)
      if (const std::string* bad = first_non_utf8_string(x)) return bad;
  }
  return nullptr;
}

}  // namespace

Json load_config_file(const std::string& path) {
  check_input_file(path, "a config file");
  std::ifstream in(path);
  if (!in) fail(MATNN_ERROR_IO, "{}: cannot open the config file", path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  if (const std::size_t at = first_invalid_utf8(text); at != std::string_view::npos)
    fail(MATNN_ERROR_FORMAT, "{}:{}: not UTF-8 text (a config must be YAML or JSON)", path,
         1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(at), '\n'));
  const bool is_json = path.ends_with(".json");
  Json config;
  try {
    config = is_json ? Json::parse(text) : yaml_to_json(YAML::Load(text));
  } catch (const Json::exception& e) {
    fail(MATNN_ERROR_FORMAT, "{}: not valid JSON: {}", path, e.what());
  } catch (const YAML::Exception& e) {
    fail(MATNN_ERROR_FORMAT, "{}:{}: not valid YAML: {}", path, e.mark.line + 1, e.msg);
  }
  if (!config.is_object()) fail(MATNN_ERROR_FORMAT, "{}: the config must be a mapping of keys to values", path);
  if (first_non_utf8_string(config) != nullptr)
    fail(MATNN_ERROR_FORMAT, "{}: a key or string is not valid UTF-8 once parsed (a raw control byte or an escape "
         "inside it)", path);
  return config;
}

ConfigSection::ConfigSection(const Json& json, std::string path) : json_(json), path_(std::move(path)) {
  if (!json_.is_null() && !json_.is_object()) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be a mapping", path_);
}

std::string ConfigSection::key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

const Json* ConfigSection::value(const std::string& key) const {
  read_.push_back(key);
  if (!json_.is_object()) return nullptr;
  const auto it = json_.find(key);
  return it == json_.end() || it->is_null() ? nullptr : &*it;
}

bool ConfigSection::has(const std::string& key) const { return value(key) != nullptr; }

std::string ConfigSection::string(const std::string& key, const std::string& fallback) const {
  const Json* v = value(key);
  if (!v) return fallback;
  if (!v->is_string()) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be a string, got {}", key_path(key), v->dump());
  return v->get<std::string>();
}

std::string ConfigSection::required_string(const std::string& key) const {
  if (!has(key)) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} is required", key_path(key));
  return string(key, "");
}

double ConfigSection::number(const std::string& key, double fallback) const {
  const Json* v = value(key);
  if (!v) return fallback;
  if (!v->is_number() || !std::isfinite(v->get<double>())) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be a finite number, got {}", key_path(key), v->dump());
  }
  return v->get<double>();
}

std::map<std::string, double> ConfigSection::number_map(const std::string& key) const {
  const Json* v = value(key);
  if (!v) return {};
  if (!v->is_object()) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be a mapping of names to numbers, got {}", key_path(key), v->dump());
  std::map<std::string, double> out;
  for (const auto& [name, x] : v->items()) {
    if (!x.is_number() || !std::isfinite(x.get<double>())) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "{}.{} must be a finite number, got {}", key_path(key), name, x.dump());
    }
    out[name] = x.get<double>();
  }
  return out;
}

double ConfigSection::positive(const std::string& key, double fallback, bool allow_zero) const {
  const double x = number(key, fallback);
  if (!(allow_zero ? x >= 0 : x > 0)) {
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be a {} number, got {}", key_path(key),
         allow_zero ? "non-negative" : "positive", x);
  }
  return x;
}

std::int64_t ConfigSection::integer(const std::string& key, std::int64_t fallback, std::int64_t min_value) const {
  const Json* v = value(key);
  if (!v) return fallback;
  if (!v->is_number_integer()) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be an integer, got {}", key_path(key), v->dump());
  const auto x = v->get<std::int64_t>();
  if (x < min_value) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be >= {}, got {}", key_path(key), min_value, x);
  return x;
}

bool ConfigSection::boolean(const std::string& key, bool fallback) const {
  const Json* v = value(key);
  if (!v) return fallback;
  if (!v->is_boolean()) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be true or false, got {}", key_path(key), v->dump());
  return v->get<bool>();
}

std::vector<std::int64_t> ConfigSection::integers(const std::string& key, const std::vector<std::int64_t>& fallback) const {
  const Json* v = value(key);
  if (!v) return fallback;
  const bool ok = v->is_array() && std::all_of(v->begin(), v->end(), [](const Json& x) { return x.is_number_integer(); });
  if (!ok) fail(MATNN_ERROR_INVALID_ARGUMENT, "{} must be a list of integers, got {}", key_path(key), v->dump());
  return v->get<std::vector<std::int64_t>>();
}

ConfigSection ConfigSection::section(const std::string& key) const {
  const Json* v = value(key);
  return ConfigSection(v ? *v : Json::object(), key_path(key));
}

void ConfigSection::finish() const {
  if (!json_.is_object()) return;
  for (const auto& item : json_.items()) {
    if (std::find(read_.begin(), read_.end(), item.key()) == read_.end()) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "unknown config key {}", key_path(item.key()));
    }
  }
}

}  // namespace matnn::train
