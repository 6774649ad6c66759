// Configuration documents: a training config is YAML or JSON on disk and nlohmann::json in
// memory (YAML is read with yaml-cpp and converted), so every consumer reads one type and every
// model file records its configuration as JSON.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace matnn::train {

using Json = nlohmann::json;

/// Reads a .yaml/.yml or .json file. MATNN_ERROR_IO if it cannot be read, MATNN_ERROR_FORMAT
/// with the file name and position if it does not parse.
Json load_config_file(const std::string& path);

/// A view of one section of a config with typed, checked access. Every message names the full
/// key path ("optimizer.lr must be a positive number, got -1"), and finish() rejects keys that
/// nothing read, so a misspelt option is an error instead of being silently ignored.
class ConfigSection {
 public:
  ConfigSection(const Json& json, std::string path);
  ~ConfigSection() = default;

  bool has(const std::string& key) const;
  std::string string(const std::string& key, const std::string& fallback) const;
  std::string required_string(const std::string& key) const;
  double number(const std::string& key, double fallback) const;
  /// A number > 0 (or >= 0 with `allow_zero`).
  double positive(const std::string& key, double fallback, bool allow_zero = false) const;
  std::int64_t integer(const std::string& key, std::int64_t fallback, std::int64_t min_value) const;
  bool boolean(const std::string& key, bool fallback) const;
  std::vector<std::int64_t> integers(const std::string& key, const std::vector<std::int64_t>& fallback) const;
  /// A mapping of names to finite numbers ({} when absent), e.g. per-config_type weights.
  std::map<std::string, double> number_map(const std::string& key) const;
  /// The value of a key that may take several shapes (nullptr when absent); the caller checks it.
  const Json* raw(const std::string& key) const { return value(key); }
  /// A sub-section ({} when absent).
  ConfigSection section(const std::string& key) const;
  /// Throws MATNN_ERROR_INVALID_ARGUMENT naming any key of this section that was never read.
  void finish() const;

  const std::string& path() const noexcept { return path_; }

 private:
  const Json* value(const std::string& key) const;
  std::string key_path(const std::string& key) const;

  Json json_;
  std::string path_;
  mutable std::vector<std::string> read_;
};

}  // namespace matnn::train
