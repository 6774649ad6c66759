#include <cstdint>
#include <cstring>

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

TEST(BufferPool, LargeBuffersAreRecycledWithinTheirSizeClass) {
  if (!recycling) GTEST_SKIP() << "AddressSanitizer build: buffers are not recycled";
  release_cached_buffers();
  const std::size_t bytes = 3 * min_pooled_bytes + 100000;  // class 3.5 MiB
  void* first = nullptr;
  {
    std::shared_ptr<void> buffer = allocate_buffer(bytes);
    first = buffer.get();
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % 64, 0u);
    std::memset(first, 1, bytes);  // the whole request is writable (ASan checks the size)
  }
  EXPECT_GE(cached_buffer_bytes(), bytes);
  {
    // A slightly smaller request of the same size class gets the same memory back.
    std::shared_ptr<void> again = allocate_buffer(bytes - 1000);
    EXPECT_EQ(again.get(), first);
    EXPECT_EQ(cached_buffer_bytes(), 0u);
  }
  release_cached_buffers();
  EXPECT_EQ(cached_buffer_bytes(), 0u);
}

TEST(BufferPool, ARequestTakesTheSmallestIdleBufferUpToTwiceItsSize) {
  if (!recycling) GTEST_SKIP() << "AddressSanitizer build: buffers are not recycled";
  release_cached_buffers();
  void* three = nullptr;
  void* five = nullptr;
  {
    std::shared_ptr<void> a = allocate_buffer(3 * min_pooled_bytes);  // classes 3 and 5 MiB, idle after this
    std::shared_ptr<void> b = allocate_buffer(5 * min_pooled_bytes);
    three = a.get();
    five = b.get();
  }
  EXPECT_EQ(cached_buffer_bytes(), 8 * min_pooled_bytes);
  {
    // 2.5 MiB: the 3 MiB buffer, whole (its writable extent is the class, not the request).
    std::shared_ptr<void> c = allocate_buffer(2 * min_pooled_bytes + min_pooled_bytes / 2);
    EXPECT_EQ(c.get(), three);
    std::memset(c.get(), 1, 3 * min_pooled_bytes);
    EXPECT_EQ(cached_buffer_bytes(), 5 * min_pooled_bytes);
    // 2 MiB: the 5 MiB buffer is more than twice that, so new memory.
    std::shared_ptr<void> d = allocate_buffer(2 * min_pooled_bytes);
    EXPECT_NE(d.get(), five);
    EXPECT_EQ(cached_buffer_bytes(), 5 * min_pooled_bytes);
  }
  // The 3 MiB buffer went back under its own class: a 3 MiB request gets it again.
  std::shared_ptr<void> e = allocate_buffer(3 * min_pooled_bytes);
  EXPECT_EQ(e.get(), three);
  e.reset();
  release_cached_buffers();
  EXPECT_EQ(cached_buffer_bytes(), 0u);
}

TEST(BufferPool, SmallBuffersAreNotKept) {
  release_cached_buffers();
  { std::shared_ptr<void> small = allocate_buffer(1000); }
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
