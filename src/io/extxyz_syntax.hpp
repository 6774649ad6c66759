// Internal to matnn_extxyz: the lexical layer of extended XYZ shared by the reader and the
// writer (comment-line key=value grammar, number and logical tokens, ISO 8601 dates, quoting).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace matnn::extxyz_detail {

/// One entry of a comment line: `key=value`, `key="quoted value"`, `key={1 2 3}` or a bare `key`.
struct KeyValue {
  std::string key;
  std::string value;       ///< quotes/brackets removed, escapes resolved
  bool has_value = false;  ///< false for a bare key (which means True)
};

/// Thrown by split_comment_line(); the reader adds the file name and line number.
struct SyntaxError {
  std::size_t column;  ///< 1-based
  std::string message;
};

/// Splits a comment line the way ASE's key_val_str_to_dict does: pairs separated by white
/// space; a value may be bare, or enclosed in "..." '...' {...} [...]; a backslash takes the next
/// character literally (so \" inside quotes); spaces around '=' are allowed; a bare key has no value.
/// Throws SyntaxError for an unterminated quote or bracket and for '=' without a key.
std::vector<KeyValue> split_comment_line(std::string_view line);

constexpr bool is_blank(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
std::string_view trim(std::string_view s) noexcept;
/// Splits on white space and commas (as ASE does for info values).
std::vector<std::string_view> split_list(std::string_view s);

/// A whole token as a real number (Python float syntax minus underscores: optional sign,
/// decimal or exponent form, nan, inf). False if anything is left over.
bool parse_double(std::string_view s, double& out) noexcept;
/// A whole token as a decimal integer with optional sign.
bool parse_int(std::string_view s, std::int64_t& out) noexcept;
/// T, F, True, False (also lower-case true/false).
bool parse_logical(std::string_view s, bool& out) noexcept;

/// "2021-03-04", "2021-03-04T05:06:07", "2021-03-04 05:06", with optional fractional seconds
/// (dropped) and optional "Z" or "+hh:mm"/"-hh:mm" offset (no offset means UTC): seconds since
/// 1970-01-01T00:00:00Z; nullopt if the text is not such a date.
std::optional<std::int64_t> parse_iso8601(std::string_view s);

/// Appends `s` as a comment-line key or value, quoted with "..." and escaped with backslashes
/// when it is empty or contains white space, quotes, brackets, '=', ',' or a backslash.
void append_quoted(std::string& out, std::string_view s);

/// Appends the shortest text that reads back as exactly `v` (std::to_chars).
void append_double(std::string& out, double v);

}  // namespace matnn::extxyz_detail
