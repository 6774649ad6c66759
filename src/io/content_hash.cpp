#include "content_hash.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

namespace matnn::h5 {
namespace {

constexpr std::uint64_t prime1 = 0x9E3779B185EBCA87ULL;
constexpr std::uint64_t prime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr std::uint64_t prime3 = 0x165667B19E3779F9ULL;
constexpr std::uint64_t prime4 = 0x85EBCA77C2B2AE63ULL;
constexpr std::uint64_t prime5 = 0x27D4EB2F165667C5ULL;

// Little-endian loads, whatever the host's byte order, so a digest means the same everywhere.
std::uint64_t load64(const unsigned char* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint32_t load32(const unsigned char* p) noexcept {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::uint64_t mix_lane(std::uint64_t lane, std::uint64_t input) noexcept {
  lane += input * prime2;
  return std::rotl(lane, 31) * prime1;
}

std::uint64_t merge_lane(std::uint64_t hash, std::uint64_t lane) noexcept {
  hash ^= mix_lane(0, lane);
  return hash * prime1 + prime4;
}

void consume_stripe(std::array<std::uint64_t, 4>& lanes, const unsigned char* stripe) noexcept {
  for (int i = 0; i < 4; ++i) lanes[i] = mix_lane(lanes[i], load64(stripe + 8 * i));
}

}  // namespace

ContentHash::ContentHash(std::uint64_t seed) noexcept
    : lanes_{seed + prime1 + prime2, seed + prime2, seed, seed - prime1}, seed_(seed) {}

void ContentHash::update(std::span<const unsigned char> bytes) noexcept {
  // An empty span may hold a null pointer (a structure without atoms), which memcpy must not see.
  if (bytes.empty()) return;
  const unsigned char* p = bytes.data();
  std::size_t n = bytes.size();
  total_ += n;
  if (pending_size_ > 0) {
    const std::size_t take = std::min(n, pending_.size() - pending_size_);
    std::memcpy(pending_.data() + pending_size_, p, take);
    pending_size_ += take;
    p += take;
    n -= take;
    if (pending_size_ < pending_.size()) return;
    consume_stripe(lanes_, pending_.data());
    pending_size_ = 0;
  }
  for (; n >= 32; p += 32, n -= 32) consume_stripe(lanes_, p);
  std::memcpy(pending_.data(), p, n);
  pending_size_ = n;
}

std::uint64_t ContentHash::digest() const noexcept {
  std::uint64_t hash = 0;
  if (total_ >= 32) {
    hash = std::rotl(lanes_[0], 1) + std::rotl(lanes_[1], 7) + std::rotl(lanes_[2], 12) + std::rotl(lanes_[3], 18);
    for (const std::uint64_t lane : lanes_) hash = merge_lane(hash, lane);
  } else {
    hash = seed_ + prime5;
  }
  hash += total_;
  const unsigned char* p = pending_.data();
  std::size_t n = pending_size_;
  for (; n >= 8; p += 8, n -= 8) hash = std::rotl(hash ^ mix_lane(0, load64(p)), 27) * prime1 + prime4;
  if (n >= 4) {
    hash = std::rotl(hash ^ (static_cast<std::uint64_t>(load32(p)) * prime1), 23) * prime2 + prime3;
    p += 4;
    n -= 4;
  }
  for (; n > 0; ++p, --n) hash = std::rotl(hash ^ (*p * prime5), 11) * prime1;
  hash ^= hash >> 33;
  hash *= prime2;
  hash ^= hash >> 29;
  hash *= prime3;
  hash ^= hash >> 32;
  return hash;
}

}  // namespace matnn::h5
