#include "matnn/composition.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <numeric>
#include <vector>

#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace matnn {
namespace {

// Recursive-descent parser for formulas with nested groups: "Ca(OH)2", "K4[Fe(CN)6]".
class FormulaParser {
 public:
  explicit FormulaParser(std::string_view text) : text_(text) {}

  std::map<int, double> parse() {
    std::map<int, double> result = group(0);
    if (pos_ != text_.size()) error("unexpected '{}'", text_[pos_]);
    if (result.empty()) error("no elements", ' ');
    return result;
  }

 private:
  std::map<int, double> group(int depth) {
    std::map<int, double> amounts;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '(' || c == '[') {
        const char close = c == '(' ? ')' : ']';
        ++pos_;
        std::map<int, double> inner = group(depth + 1);
        if (pos_ >= text_.size() || text_[pos_] != close) error("missing '{}'", close);
        ++pos_;
        const double factor = number();
        for (const auto& [z, amount] : inner) amounts[z] += amount * factor;
      } else if (c == ')' || c == ']') {
        if (depth == 0) error("unbalanced '{}'", c);
        return amounts;
      } else if (c >= 'A' && c <= 'Z') {
        std::size_t end = pos_ + 1;
        while (end < text_.size() && text_[end] >= 'a' && text_[end] <= 'z') ++end;
        const int z = atomic_number(text_.substr(pos_, end - pos_));
        pos_ = end;
        amounts[z] += number();
      } else {
        error("unexpected '{}'", c);
      }
    }
    return amounts;
  }

  // An optional amount after an element or group; 1 if absent.
  double number() {
    std::size_t end = pos_;
    while (end < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[end])) || text_[end] == '.')) ++end;
    if (end == pos_) return 1.0;
    double value = 0.0;
    const auto [ptr, ec] = std::from_chars(text_.data() + pos_, text_.data() + end, value);
    if (ec != std::errc() || ptr != text_.data() + end || !(value > 0.0)) {
      error("bad amount '{}'", std::string(text_.substr(pos_, end - pos_)));
    }
    pos_ = end;
    return value;
  }

  template <typename T>
  [[noreturn]] void error(const char* what, const T& detail) {
    fail(MATNN_ERROR_FORMAT, "formula \"{}\": {} at position {}", text_, fmt::format(fmt::runtime(what), detail), pos_);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

// Hill order: carbon first, then hydrogen, then the rest alphabetically; without carbon, all alphabetical.
std::vector<int> hill_order(const std::map<int, double>& amounts) {
  std::vector<int> order;
  for (const auto& entry : amounts) order.push_back(entry.first);
  const bool has_carbon = amounts.count(6) > 0;
  auto rank = [&](int z) {
    if (has_carbon && z == 6) return 0;
    if (has_carbon && z == 1) return 1;
    return 2;
  };
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    return std::string_view(element(a).symbol) < std::string_view(element(b).symbol);
  });
  return order;
}

std::string format_amount(double amount) {
  if (amount == 1.0) return "";
  if (amount == std::round(amount) && amount < 1e15) return fmt::format("{}", static_cast<long long>(amount));
  return fmt::format("{:.6g}", amount);
}

std::string write_formula(const std::map<int, double>& amounts) {
  std::string out;
  for (int z : hill_order(amounts)) out += element(z).symbol + format_amount(amounts.at(z));
  return out;
}

}  // namespace

Composition::Composition(std::map<int, double> amounts) : amounts_(std::move(amounts)) {
  for (const auto& [z, amount] : amounts_) {
    element(z);  // throws for unknown elements
    if (!(amount > 0.0) || !std::isfinite(amount)) {
      fail(MATNN_ERROR_INVALID_ARGUMENT, "composition: amount of {} must be positive and finite, got {}",
           element(z).symbol, amount);
    }
  }
}

Composition Composition::from_formula(std::string_view formula) {
  return Composition(FormulaParser(formula).parse());
}

double Composition::total() const noexcept {
  double sum = 0.0;
  for (const auto& entry : amounts_) sum += entry.second;
  return sum;
}

std::map<int, double> Composition::fractions() const {
  const double sum = total();
  std::map<int, double> out;
  for (const auto& [z, amount] : amounts_) out[z] = amount / sum;
  return out;
}

std::string Composition::formula() const { return write_formula(amounts_); }

std::string Composition::reduced_formula() const {
  if (amounts_.empty()) return "";
  const bool all_integer = std::all_of(amounts_.begin(), amounts_.end(), [](const auto& e) {
    return e.second == std::round(e.second) && e.second < 1e15;
  });
  std::map<int, double> reduced;
  if (all_integer) {
    long long divisor = 0;
    for (const auto& entry : amounts_) divisor = std::gcd(divisor, static_cast<long long>(entry.second));
    for (const auto& [z, amount] : amounts_) reduced[z] = amount / static_cast<double>(divisor);
  } else {
    double smallest = amounts_.begin()->second;
    for (const auto& entry : amounts_) smallest = std::min(smallest, entry.second);
    for (const auto& [z, amount] : amounts_) reduced[z] = amount / smallest;
  }
  return write_formula(reduced);
}

std::string Composition::chemical_system() const {
  std::vector<std::string> symbols;
  for (const auto& entry : amounts_) symbols.emplace_back(element(entry.first).symbol);
  std::sort(symbols.begin(), symbols.end());
  std::string out;
  for (const auto& s : symbols) out += (out.empty() ? "" : "-") + s;
  return out;
}

}  // namespace matnn
