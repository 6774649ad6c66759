// Element look-ups by atomic number and by symbol. The data live in element_data.cpp.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "matnn/elements.hpp"
#include "matnn/error.hpp"

namespace matnn {
namespace {

// Every symbol is one upper-case letter, optionally followed by one lower-case letter, so a
// symbol maps to a slot of a 26 x 27 grid (second index 0: no second letter). The grid holds
// the atomic number, 0 for no element: one range check and one load per look-up.
constexpr int second_letters = 27;
using SymbolGrid = std::array<std::uint8_t, 26 * second_letters>;

constexpr bool is_upper(char c) noexcept { return c >= 'A' && c <= 'Z'; }
constexpr bool is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }

// Grid slot of a well-formed symbol, -1 for anything else.
constexpr int slot_of(std::string_view symbol) noexcept {
  if (symbol.empty() || symbol.size() > 2 || !is_upper(symbol[0])) return -1;
  int second = 0;
  if (symbol.size() == 2) {
    if (!is_lower(symbol[1])) return -1;
    second = symbol[1] - 'a' + 1;
  }
  return (symbol[0] - 'A') * second_letters + second;
}

const SymbolGrid& symbol_grid() {
  // Built once, on first use; initialisation of a function-local static is thread-safe.
  static const SymbolGrid grid = [] {
    SymbolGrid g{};
    for (const ElementData& e : periodic_table()) {
      const int slot = slot_of(e.symbol);
      if (slot < 0 || g[static_cast<std::size_t>(slot)] != 0) {
        fail(MATNN_ERROR_INTERNAL, "periodic table: malformed or duplicate symbol \"{}\"", e.symbol);
      }
      g[static_cast<std::size_t>(slot)] = static_cast<std::uint8_t>(e.z);
    }
    return g;
  }();
  return grid;
}

}  // namespace

const ElementData& element(int z) {
  if (!is_known_atomic_number(z)) {
    fail(MATNN_ERROR_UNKNOWN_ELEMENT, "unknown atomic number {} (matnn knows 1..{})", z,
         max_atomic_number);
  }
  return periodic_table()[static_cast<std::size_t>(z - 1)];
}

int atomic_number(std::string_view symbol) {
  const int slot = slot_of(symbol);
  if (slot >= 0) {
    const int z = symbol_grid()[static_cast<std::size_t>(slot)];
    if (z != 0) return z;
  }
  // Quote at most a line's worth of whatever was passed (it may be a whole malformed field).
  constexpr std::size_t max_quoted = 40;
  if (symbol.size() > max_quoted) {
    fail(MATNN_ERROR_UNKNOWN_ELEMENT, "unknown element symbol \"{}...\" ({} characters)",
         symbol.substr(0, max_quoted), symbol.size());
  }
  fail(MATNN_ERROR_UNKNOWN_ELEMENT, "unknown element symbol \"{}\"", symbol);
}

}  // namespace matnn
