// A fast 64-bit content hash (the XXH64 algorithm, written here from its public specification)
// for detecting damaged files: it catches truncation, bit rot and stray writes, not deliberate
// forgery. Incremental, so a file of any size is hashed in fixed-size pieces.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace matnn::h5 {

class ContentHash {
 public:
  explicit ContentHash(std::uint64_t seed = 0) noexcept;
  void update(std::span<const unsigned char> bytes) noexcept;
  /// The hash of everything given so far (update may continue afterwards).
  std::uint64_t digest() const noexcept;

 private:
  std::array<std::uint64_t, 4> lanes_{};
  std::array<unsigned char, 32> pending_{};  // bytes not yet forming a whole 32-byte stripe
  std::size_t pending_size_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t seed_ = 0;
};

}  // namespace matnn::h5
