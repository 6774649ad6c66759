#include "extxyz_syntax.hpp"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <system_error>

#include <fmt/format.h>

namespace matnn::extxyz_detail {

namespace {

char closing_delimiter(char c) noexcept {
  switch (c) {
    case '"': return '"';
    case '\'': return '\'';
    case '{': return '}';
    case '[': return ']';
    default: return 0;
  }
}

// One key or value starting at `i`. Outside delimiters it stops at white space, and at '=' when
// reading a key; a delimited part may contain anything but its closing delimiter (unless
// escaped). Delimited and bare parts concatenate, as in ASE ("a"b -> ab).
std::string read_word(std::string_view line, std::size_t& i, bool stop_at_equals) {
  std::string out;
  const std::size_t n = line.size();
  while (i < n) {
    const char c = line[i];
    if (c == '\\') {
      if (i + 1 < n) {
        out += line[i + 1];
        i += 2;
      } else {
        out += c;
        ++i;
      }
      continue;
    }
    if (is_blank(c) || (stop_at_equals && c == '=')) break;
    if (const char close = closing_delimiter(c)) {
      const std::size_t open = i++;
      for (;;) {
        if (i >= n) {
          throw SyntaxError{open + 1, fmt::format("unterminated {} opened at column {}: expected a closing {}",
                                                  c, open + 1, close)};
        }
        const char d = line[i];
        if (d == '\\' && i + 1 < n) {
          out += line[i + 1];
          i += 2;
        } else if (d == close) {
          ++i;
          break;
        } else {
          out += d;
          ++i;
        }
      }
      continue;
    }
    out += c;
    ++i;
  }
  return out;
}

void skip_blanks(std::string_view s, std::size_t& i) noexcept {
  while (i < s.size() && is_blank(s[i])) ++i;
}

bool read_fixed_digits(std::string_view s, std::size_t& i, int count, int& out) noexcept {
  if (i + static_cast<std::size_t>(count) > s.size()) return false;
  int v = 0;
  for (int k = 0; k < count; ++k) {
    const char c = s[i + static_cast<std::size_t>(k)];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  i += static_cast<std::size_t>(count);
  out = v;
  return true;
}

}  // namespace

std::vector<KeyValue> split_comment_line(std::string_view line) {
  std::vector<KeyValue> pairs;
  std::size_t i = 0;
  for (;;) {
    skip_blanks(line, i);
    if (i >= line.size()) break;
    if (line[i] == '=') throw SyntaxError{i + 1, "expected a key before '='"};
    const std::size_t key_start = i;
    KeyValue kv;
    kv.key = read_word(line, i, true);
    if (kv.key.empty()) throw SyntaxError{key_start + 1, "expected a non-empty key"};
    std::size_t j = i;
    skip_blanks(line, j);
    if (j < line.size() && line[j] == '=') {
      i = j + 1;
      skip_blanks(line, i);
      kv.has_value = true;
      kv.value = read_word(line, i, false);
    }
    pairs.push_back(std::move(kv));
  }
  return pairs;
}

std::string_view trim(std::string_view s) noexcept {
  std::size_t b = 0, e = s.size();
  while (b < e && is_blank(s[b])) ++b;
  while (e > b && is_blank(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::vector<std::string_view> split_list(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    while (i < n && (is_blank(s[i]) || s[i] == ',')) ++i;
    const std::size_t b = i;
    while (i < n && !is_blank(s[i]) && s[i] != ',') ++i;
    if (i > b) out.push_back(s.substr(b, i - b));
  }
  return out;
}

bool parse_double(std::string_view s, double& out) noexcept {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (first != last && *first == '+') {
    ++first;
    if (first != last && (*first == '-' || *first == '+')) return false;
  }
  if (first == last) return false;
  const auto [ptr, ec] = std::from_chars(first, last, out, std::chars_format::general);
  if (ptr != last) return false;
  if (ec == std::errc::result_out_of_range) {
    // Like Python's float(): overflow gives +-inf, underflow gives (signed) zero.
    const std::string copy(s);
    out = std::strtod(copy.c_str(), nullptr);
    return true;
  }
  return ec == std::errc();
}

bool parse_int(std::string_view s, std::int64_t& out) noexcept {
  const char* first = s.data();
  const char* last = s.data() + s.size();
  if (first != last && *first == '+') {
    ++first;
    if (first != last && *first == '-') return false;
  }
  if (first == last) return false;
  const auto [ptr, ec] = std::from_chars(first, last, out, 10);
  return ec == std::errc() && ptr == last;
}

bool parse_logical(std::string_view s, bool& out) noexcept {
  if (s == "T" || s == "True" || s == "true" || s == "TRUE") {
    out = true;
    return true;
  }
  if (s == "F" || s == "False" || s == "false" || s == "FALSE") {
    out = false;
    return true;
  }
  return false;
}

std::optional<std::int64_t> parse_iso8601(std::string_view s) {
  std::size_t i = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!read_fixed_digits(s, i, 4, y) || i >= s.size() || s[i++] != '-') return std::nullopt;
  if (!read_fixed_digits(s, i, 2, mo) || i >= s.size() || s[i++] != '-') return std::nullopt;
  if (!read_fixed_digits(s, i, 2, d)) return std::nullopt;
  std::int64_t offset = 0;
  if (i < s.size()) {
    if (s[i] != 'T' && s[i] != 't' && s[i] != ' ') return std::nullopt;
    ++i;
    if (!read_fixed_digits(s, i, 2, h) || i >= s.size() || s[i++] != ':') return std::nullopt;
    if (!read_fixed_digits(s, i, 2, mi)) return std::nullopt;
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!read_fixed_digits(s, i, 2, sec)) return std::nullopt;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        ++i;
        const std::size_t b = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == b) return std::nullopt;
      }
    }
    if (i < s.size()) {
      if (s[i] == 'Z' || s[i] == 'z') {
        ++i;
      } else if (s[i] == '+' || s[i] == '-') {
        const int sign = s[i] == '-' ? -1 : 1;
        ++i;
        int oh = 0, om = 0;
        if (!read_fixed_digits(s, i, 2, oh)) return std::nullopt;
        if (i < s.size() && s[i] == ':') ++i;
        if (i < s.size() && !read_fixed_digits(s, i, 2, om)) return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset = sign * (oh * 3600 + om * 60);
      }
    }
    if (i != s.size()) return std::nullopt;
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  const std::int64_t days = std::chrono::sys_days{ymd}.time_since_epoch().count();
  return days * 86400 + h * 3600 + mi * 60 + sec - offset;
}

void append_quoted(std::string& out, std::string_view s) {
  bool quote = s.empty();
  for (const char c : s) {
    if (is_blank(c) || c == '"' || c == '\'' || c == '{' || c == '}' || c == '[' || c == ']' || c == '=' ||
        c == ',' || c == '\\') {
      quote = true;
      break;
    }
  }
  if (!quote) {
    out += s;
    return;
  }
  out += '"';
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void append_double(std::string& out, double v) {
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 64 characters always suffice for a double
  out.append(buf, ptr);
}

}  // namespace matnn::extxyz_detail
