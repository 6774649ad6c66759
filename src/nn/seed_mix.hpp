// splitmix64 (Steele, Lea and Flood, OOPSLA 2014): unrelated, well-mixed generator seeds from
// nearby numbers (a seed and an epoch, an ensemble member, a Monte-Carlo pass, a row). Every
// derived random stream in matnn mixes its coordinates with this one function.
#pragma once

#include <cstdint>

namespace matnn::nn {

constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

}  // namespace matnn::nn
