#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "autodiff/buffer_pool.hpp"
#include "autodiff/tensor.hpp"

namespace matnn::ad {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool recycling = false;  // buffer_pool.hpp: sanitizer builds free every buffer
#else
constexpr bool recycling = true;
#endif

constexpr std::size_t MiB = std::size_t{1} << 20;

// Resident memory of this process (kB), from /proc/self/status.
double resident_kB() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6));
  return -1;
}

TEST(BufferPool, FreedMemoryServesLaterRequestsOfAnySize) {
  if (!recycling) GTEST_SKIP() << "AddressSanitizer build: buffers are not recycled";
  release_cached_buffers();
  std::shared_ptr<void> keep = allocate_buffer(1 * MiB);  // the chunk stays mapped
  void* first = nullptr;
  {
    std::shared_ptr<void> a = allocate_buffer(3 * MiB);
    std::shared_ptr<void> b = allocate_buffer(5 * MiB);
    first = a.get();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % 64, 0u);
    std::memset(a.get(), 1, 3 * MiB);  // the whole request is writable (ASan checks the size)
    std::memset(b.get(), 1, 5 * MiB);
  }
  EXPECT_EQ(cached_buffer_bytes(), 8 * MiB);
  {
    // The two freed buffers merged: a 7 MiB request takes them, and 1 MiB of them stays idle.
    std::shared_ptr<void> c = allocate_buffer(7 * MiB);
    EXPECT_EQ(c.get(), first);
    EXPECT_EQ(cached_buffer_bytes(), 1 * MiB);
  }
  // Their 8 resident MiB now start a free range that runs on, untouched, to the chunk's end:
  // releasing gives back the resident part.
  release_cached_buffers();
  EXPECT_EQ(cached_buffer_bytes(), 0u);
  keep.reset();
  release_cached_buffers();
}

TEST(BufferPool, ARequestTakesTheSmallestFreeRangeThatFitsResidentFirst) {
  if (!recycling) GTEST_SKIP() << "AddressSanitizer build: buffers are not recycled";
  release_cached_buffers();
  std::vector<std::shared_ptr<void>> kept;  // between the freed ranges, so that they cannot merge
  std::shared_ptr<void> a = allocate_buffer(6 * MiB);
  kept.push_back(allocate_buffer(1 * MiB));
  std::shared_ptr<void> c = allocate_buffer(4 * MiB);
  kept.push_back(allocate_buffer(1 * MiB));
  std::shared_ptr<void> e = allocate_buffer(3 * MiB);
  kept.push_back(allocate_buffer(1 * MiB));
  for (const auto& [buffer, bytes] : {std::pair{a, 6 * MiB}, {c, 4 * MiB}, {e, 3 * MiB}}) std::memset(buffer.get(), 1, bytes);
  void* const address_a = a.get();
  void* const address_e = e.get();
  c.reset();
  e.reset();
  // Resident free ranges of 4 and 3 MiB (first fit would take the 4 MiB one at the lower address).
  std::shared_ptr<void> d = allocate_buffer(2 * MiB);
  EXPECT_EQ(d.get(), address_e);
  d.reset();
  // Both given back, then the 6 MiB one freed: resident, it is taken before the smaller ones.
  release_cached_buffers();
  a.reset();
  std::shared_ptr<void> f = allocate_buffer(3 * MiB);
  EXPECT_EQ(f.get(), address_a);
  EXPECT_EQ(cached_buffer_bytes(), 3 * MiB);
  f.reset();
  kept.clear();
  release_cached_buffers();
  EXPECT_EQ(cached_buffer_bytes(), 0u);
}

TEST(BufferPool, FaultingInFreshPagesGivesBackIdleResidentOnes) {
  if (!recycling) GTEST_SKIP() << "AddressSanitizer build: buffers are not recycled";
  release_cached_buffers();
  std::shared_ptr<void> keep;
  {
    std::shared_ptr<void> a = allocate_buffer(8 * MiB);
    keep = allocate_buffer(1 * MiB);
    std::memset(a.get(), 1, 8 * MiB);
  }
  EXPECT_EQ(cached_buffer_bytes(), 8 * MiB);
  // 16 MiB fit in no resident range: fresh pages, and the idle 8 MiB leave the process.
  std::shared_ptr<void> big = allocate_buffer(16 * MiB);
  EXPECT_EQ(cached_buffer_bytes(), 0u);
  big.reset();
  keep.reset();
  release_cached_buffers();
}

TEST(BufferPool, IdleMemoryAboveTheLimitLeavesTheProcess) {
  if (!recycling) GTEST_SKIP() << "AddressSanitizer build: buffers are not recycled";
  release_cached_buffers();
  const std::size_t previous = set_cached_buffer_limit(0);
  double touched_kB = 0, freed_kB = 0;
  {
    std::shared_ptr<void> a = allocate_buffer(64 * MiB);
    std::memset(a.get(), 1, 64 * MiB);
    touched_kB = resident_kB();
  }
  freed_kB = resident_kB();
  EXPECT_EQ(cached_buffer_bytes(), 0u);
  EXPECT_GT(touched_kB - freed_kB, 60 * 1024.0) << "resident " << touched_kB << " kB with the buffer, " << freed_kB
                                                << " kB after";
  // Under a limit the same memory stays for the next request.
  set_cached_buffer_limit(128 * MiB);
  {
    std::shared_ptr<void> b = allocate_buffer(64 * MiB);
    std::memset(b.get(), 1, 64 * MiB);
  }
  EXPECT_EQ(cached_buffer_bytes(), 64 * MiB);
  EXPECT_GT(resident_kB() - freed_kB, 60 * 1024.0);
  set_cached_buffer_limit(previous);
  release_cached_buffers();
  EXPECT_EQ(cached_buffer_bytes(), 0u);
}

TEST(BufferPool, CountsTheTensorBytesAliveAndTheirPeak) {
  const std::size_t before = tensor_bytes_in_use();
  reset_peak_tensor_bytes();
  {
    std::shared_ptr<void> a = allocate_buffer(2 * MiB);
    std::shared_ptr<void> b = allocate_buffer(1000);
    EXPECT_EQ(tensor_bytes_in_use(), before + 2 * MiB + 1024);  // rounded to 64 bytes
  }
  EXPECT_EQ(tensor_bytes_in_use(), before);
  EXPECT_EQ(peak_tensor_bytes(), before + 2 * MiB + 1024);
  release_cached_buffers();
}

TEST(BufferPool, SmallBuffersAreNotKept) {
  release_cached_buffers();
  { std::shared_ptr<void> small = allocate_buffer(min_pooled_bytes - 4096); }
  EXPECT_EQ(cached_buffer_bytes(), 0u);
}

TEST(BufferPool, TensorsUseItAndKeepTheirValues) {
  release_cached_buffers();
  if (!recycling) GTEST_SKIP() << "AddressSanitizer build: buffers are not recycled";
  const std::int64_t n = static_cast<std::int64_t>(min_pooled_bytes);  // 4 n bytes of float32
  {
    Tensor t = full({n}, 2.5, DType::f32);
    EXPECT_EQ(t.data<float>()[n - 1], 2.5f);
  }
  EXPECT_GE(cached_buffer_bytes(), static_cast<std::size_t>(4 * n));
  Tensor u = zeros({n}, DType::f32);  // recycled memory is filled like fresh memory
  EXPECT_EQ(u.data<float>()[0], 0.0f);
  EXPECT_EQ(u.data<float>()[n - 1], 0.0f);
  release_cached_buffers();
}

}  // namespace
}  // namespace matnn::ad
