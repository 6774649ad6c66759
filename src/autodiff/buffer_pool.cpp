#include "autodiff/buffer_pool.hpp"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "matnn/error.hpp"

namespace matnn::ad {
namespace {

constexpr std::size_t alignment = 64;

// Rounds up to the next of 2^k, 1.25 2^k, 1.5 2^k, 1.75 2^k (multiples of the alignment).
std::size_t size_class(std::size_t bytes) {
  const std::size_t power = std::bit_floor(bytes);
  const std::size_t quarter = power >= 4 * alignment ? power / 4 : alignment;
  return (bytes + quarter - 1) / quarter * quarter;
}

std::size_t limit_from_environment() {
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer must see every free to report a use after free: nothing is recycled.
  return 0;
#endif
  // A quarter of the physical memory: enough to keep a large cell's whole working set between
  // calls (a 4096-atom NequIP evaluation with forces touches about 4.5 GB).
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  const std::size_t default_bytes =
      pages > 0 && page_size > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_size) / 4 : std::size_t{1} << 30;
  const char* text = std::getenv("MATNN_TENSOR_CACHE_MB");
  if (text == nullptr || *text == '\0') return default_bytes;
  char* end = nullptr;
  const unsigned long long mb = std::strtoull(text, &end, 10);
  if (*end != '\0') return default_bytes;  // not a number: keep the default
  return static_cast<std::size_t>(mb) << 20;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kMapped = false;  // AddressSanitizer watches malloc'd memory, not mappings
#else
constexpr bool kMapped = true;
#endif

void* allocate_aligned(std::size_t bytes) {
  void* p = std::aligned_alloc(alignment, bytes);
  if (p == nullptr) fail(MATNN_ERROR_OUT_OF_MEMORY, "tensor: cannot allocate {} bytes", bytes);
  return p;
}

// Pooled sizes are mapped directly, so a buffer the pool lets go of leaves the process at once.
// From malloc, it would stay in the heap whenever glibc's adaptive mmap threshold had grown
// past its size, and the resident memory of a force call was twice the tensors it held.
void* allocate_large(std::size_t bytes) {
  if (!kMapped) return allocate_aligned(bytes);
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) fail(MATNN_ERROR_OUT_OF_MEMORY, "tensor: cannot allocate {} bytes", bytes);
  return p;
}

void free_large(void* p, std::size_t bytes) noexcept {
  if (kMapped)
    munmap(p, bytes);
  else
    std::free(p);
}

class Pool {
 public:
  // An idle buffer of class `cls` or of the smallest class up to twice that (the slack is less
  // than a fresh buffer would cost in page faults), or new memory. Returns it and its class.
  std::pair<void*, std::size_t> take(std::size_t cls) {
    {
      std::lock_guard lock(mutex_);
      for (auto it = idle_.lower_bound(cls); it != idle_.end() && it->first <= 2 * cls; ++it) {
        if (it->second.empty()) continue;
        void* p = it->second.back();
        it->second.pop_back();
        idle_bytes_ -= it->first;
        return {p, it->first};
      }
    }
    return {allocate_large(cls), cls};
  }

  void give(void* p, std::size_t cls) {
    {
      std::lock_guard lock(mutex_);
      if (idle_bytes_ + cls <= limit_) {
        idle_[cls].push_back(p);
        idle_bytes_ += cls;
        return;
      }
    }
    free_large(p, cls);
  }

  void clear() noexcept {
    std::lock_guard lock(mutex_);
    for (auto& [cls, buffers] : idle_)
      for (void* p : buffers) free_large(p, cls);
    idle_.clear();
    idle_bytes_ = 0;
  }

  std::size_t idle_bytes() noexcept {
    std::lock_guard lock(mutex_);
    return idle_bytes_;
  }

 private:
  std::mutex mutex_;
  std::map<std::size_t, std::vector<void*>> idle_;
  std::size_t idle_bytes_ = 0;
  const std::size_t limit_ = limit_from_environment();
};

// Never destroyed: tensors held by other static objects may die after any static pool would.
Pool& pool() {
  static Pool* instance = new Pool;
  return *instance;
}

}  // namespace

std::shared_ptr<void> allocate_buffer(std::size_t bytes) {
  bytes = std::max(alignment, (bytes + alignment - 1) / alignment * alignment);
  if (bytes < min_pooled_bytes) return std::shared_ptr<void>(allocate_aligned(bytes), [](void* p) { std::free(p); });
  const std::size_t cls = size_class(bytes);
  const std::pair<void*, std::size_t> taken = pool().take(cls);
  const std::size_t held = taken.second;  // not a structured binding: clang 14 cannot capture those
  return std::shared_ptr<void>(taken.first, [held](void* q) { pool().give(q, held); });
}

void release_cached_buffers() noexcept { pool().clear(); }

std::size_t cached_buffer_bytes() noexcept { return pool().idle_bytes(); }

}  // namespace matnn::ad
