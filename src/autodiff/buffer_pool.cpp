#include "autodiff/buffer_pool.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include "matnn/error.hpp"

namespace matnn::ad {
namespace {

constexpr std::size_t alignment = 64;
constexpr std::size_t page = 4096;
// A new chunk is at least this large, and at least half of what is mapped already, so that a
// growing working set takes few chunks (ranges never merge across chunks).
constexpr std::size_t min_chunk_bytes = std::size_t{64} << 20;

std::size_t round_up(std::size_t bytes, std::size_t to) { return (bytes + to - 1) / to * to; }

std::size_t limit_from_environment() {
  // A quarter of the physical memory: enough to keep a large cell's whole working set between
  // calls (a 4096-atom NequIP evaluation with forces touches about 4.5 GB).
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  const std::size_t default_bytes =
      pages > 0 && page_size > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page_size) / 4 : std::size_t{1} << 30;
  const char* text = std::getenv("MATNN_TENSOR_CACHE_MB");
  if (text == nullptr || *text == '\0') return default_bytes;
  char* end = nullptr;
  const unsigned long long mb = std::strtoull(text, &end, 10);
  if (*end != '\0') {
    std::fprintf(stderr, "matnn: MATNN_TENSOR_CACHE_MB=\"%s\" is not a whole number of MiB; idle tensor memory is "
                 "bounded by the default, a quarter of the physical memory\n", text);
    return default_bytes;
  }
  return static_cast<std::size_t>(mb) << 20;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kArena = false;  // AddressSanitizer must see every free to report a use after free
#else
constexpr bool kArena = true;
#endif

void* allocate_aligned(std::size_t bytes) {
  void* p = std::aligned_alloc(alignment, bytes);
  if (p == nullptr) fail(MATNN_ERROR_OUT_OF_MEMORY, "tensor: cannot allocate {} bytes", bytes);
  return p;
}

// Large buffers are carved from mapped chunks. A free range is merged with its free neighbours, so
// the memory a call frees serves its later requests of any size.
//
// A request takes the smallest free range that fits among those whose resident pages cover it,
// else the smallest that fits, else a new chunk. Resident is tracked as an upper bound: a range
// counts as touched from its start. When a request must fault in fresh pages, as many resident
// free bytes elsewhere are given back to the system (madvise(MADV_DONTNEED): they leave the
// process but keep their addresses). Free ranges too small or too awkwardly placed for the
// requests that come are what a call's peak resident memory held beyond its live tensors (a 4096-
// atom NequIP force call: 13.3 kB per atom resident for 8.5 of tensors; 9.9 with them given
// back, at 0 to 2 % in time for the pages faulted in again).
//
// Idle bytes are the resident free bytes. Above the limit, wholly free chunks are unmapped and
// then free ranges given back.
class Arena {
 public:
  // Returns a page-aligned range of `bytes` (a multiple of the page size).
  void* take(std::size_t bytes) {
    std::lock_guard lock(mutex_);
    Chunk* chosen = nullptr;
    std::map<std::size_t, FreeRange>::iterator best;
    bool best_resident = false;
    for (Chunk* chunk : order_) {
      for (auto it = chunk->free.begin(); it != chunk->free.end(); ++it) {
        if (it->second.bytes < bytes) continue;
        const bool resident = it->second.touched >= bytes;
        if (chosen == nullptr || (resident && !best_resident) ||
            (resident == best_resident && it->second.bytes < best->second.bytes)) {
          chosen = chunk;
          best = it;
          best_resident = resident;
        }
      }
    }
    void* p = nullptr;
    std::size_t fresh = bytes;
    if (chosen != nullptr) {
      const std::size_t offset = best->first;
      const FreeRange range = best->second;
      chosen->free.erase(best);
      const std::size_t reused = std::min(range.touched, bytes);
      idle_bytes_ -= reused;
      fresh -= reused;
      if (range.bytes > bytes) chosen->free.emplace(offset + bytes, FreeRange{range.bytes - bytes, range.touched - reused});
      p = chosen->base + offset;
    } else {
      p = map_chunk(bytes);
    }
    if (fresh > 0) release_resident(fresh);
    return p;
  }

  void give(void* p, std::size_t bytes) noexcept {
    std::lock_guard lock(mutex_);
    char* address = static_cast<char*>(p);
    Chunk& chunk = *std::prev(by_address_.upper_bound(address))->second;
    auto [it, inserted] = chunk.free.emplace(static_cast<std::size_t>(address - chunk.base), FreeRange{bytes, bytes});
    idle_bytes_ += bytes;
    if (auto next = std::next(it); next != chunk.free.end() && it->first + it->second.bytes == next->first) {
      it->second.bytes += next->second.bytes;
      it->second.touched += next->second.touched;
      chunk.free.erase(next);
    }
    if (it != chunk.free.begin()) {
      if (auto before = std::prev(it); before->first + before->second.bytes == it->first) {
        before->second.bytes += it->second.bytes;
        before->second.touched += it->second.touched;
        chunk.free.erase(it);
      }
    }
    if (idle_bytes_ > limit_) trim(limit_);
  }

  void clear() noexcept {
    std::lock_guard lock(mutex_);
    trim(0);
  }

  std::size_t idle_bytes() noexcept {
    std::lock_guard lock(mutex_);
    return idle_bytes_;
  }

  std::size_t set_limit(std::size_t bytes) noexcept {
    std::lock_guard lock(mutex_);
    const std::size_t previous = limit_;
    limit_ = bytes;
    if (idle_bytes_ > limit_) trim(limit_);
    return previous;
  }

 private:
  struct FreeRange {
    std::size_t bytes;
    std::size_t touched;  // of them, how many may be resident (from the start of the range)
  };
  struct Chunk {
    char* base = nullptr;
    std::size_t bytes = 0;
    std::map<std::size_t, FreeRange> free;  // by offset; neighbours are always merged
  };

  // A new chunk whose first `bytes` are the request; the rest is free and untouched.
  void* map_chunk(std::size_t bytes) {
    const std::size_t size = std::max({round_up(bytes, std::size_t{2} << 20), min_chunk_bytes, mapped_bytes_ / 2});
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) fail(MATNN_ERROR_OUT_OF_MEMORY, "tensor: cannot allocate {} bytes", bytes);
    auto chunk = std::make_unique<Chunk>();
    chunk->base = static_cast<char*>(p);
    chunk->bytes = size;
    if (size > bytes) chunk->free.emplace(bytes, FreeRange{size - bytes, 0});
    order_.push_back(chunk.get());
    by_address_.emplace(chunk->base, std::move(chunk));
    mapped_bytes_ += size;
    return p;
  }

  // Gives back up to `amount` bytes of resident free memory, from the top of the newest chunk down.
  void release_resident(std::size_t amount) noexcept {
    std::size_t released = 0;
    for (auto chunk = order_.rbegin(); chunk != order_.rend() && released < amount; ++chunk) {
      for (auto it = (*chunk)->free.rbegin(); it != (*chunk)->free.rend() && released < amount; ++it) {
        // The resident part is the range's first `touched` bytes: give back the end of it.
        const std::size_t x = std::min(it->second.touched, round_up(amount - released, page));
        if (x == 0) continue;
        it->second.touched -= x;
        madvise((*chunk)->base + it->first + it->second.touched, x, MADV_DONTNEED);
        idle_bytes_ -= x;
        released += x;
      }
    }
  }

  // Lowers the idle bytes to at most `target`: wholly free chunks go first, newest first (they
  // are the largest), then resident free memory as release_resident gives it back.
  void trim(std::size_t target) noexcept {
    for (std::size_t k = order_.size(); k-- > 0 && idle_bytes_ > target;) {
      const Chunk* chunk = order_[k];
      if (chunk->free.size() != 1 || chunk->free.begin()->second.bytes != chunk->bytes) continue;
      char* const base = chunk->base;
      idle_bytes_ -= chunk->free.begin()->second.touched;
      mapped_bytes_ -= chunk->bytes;
      munmap(base, chunk->bytes);
      order_.erase(order_.begin() + static_cast<std::ptrdiff_t>(k));
      by_address_.erase(base);  // destroys *chunk
    }
    if (idle_bytes_ > target) release_resident(idle_bytes_ - target);
  }

  std::mutex mutex_;
  std::map<char*, std::unique_ptr<Chunk>> by_address_;
  std::vector<Chunk*> order_;  // in the order they were mapped
  std::size_t mapped_bytes_ = 0;
  std::size_t idle_bytes_ = 0;
  std::size_t limit_ = limit_from_environment();
};

std::atomic<std::size_t> bytes_in_use{0};
std::atomic<std::size_t> peak_bytes{0};

void count_allocation(std::size_t bytes) noexcept {
  const std::size_t now = bytes_in_use.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  std::size_t peak = peak_bytes.load(std::memory_order_relaxed);
  while (now > peak && !peak_bytes.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void count_release(std::size_t bytes) noexcept { bytes_in_use.fetch_sub(bytes, std::memory_order_relaxed); }

// Never destroyed: tensors held by other static objects may die after any static arena would.
Arena& arena() {
  static Arena* instance = new Arena;
  return *instance;
}

}  // namespace

std::shared_ptr<void> allocate_buffer(std::size_t bytes) {
  bytes = std::max(alignment, round_up(bytes, alignment));
  const bool pooled = kArena && bytes >= min_pooled_bytes;
  const std::size_t held = pooled ? round_up(bytes, page) : bytes;
  void* p = pooled ? arena().take(held) : allocate_aligned(bytes);
  count_allocation(bytes);
  return std::shared_ptr<void>(p, [pooled, held, bytes](void* q) {
    count_release(bytes);
    if (pooled)
      arena().give(q, held);
    else
      std::free(q);
  });
}

std::size_t tensor_bytes_in_use() noexcept { return bytes_in_use.load(std::memory_order_relaxed); }
std::size_t peak_tensor_bytes() noexcept { return peak_bytes.load(std::memory_order_relaxed); }
void reset_peak_tensor_bytes() noexcept { peak_bytes.store(bytes_in_use.load(std::memory_order_relaxed), std::memory_order_relaxed); }

void release_cached_buffers() noexcept {
  if (kArena) arena().clear();
}

std::size_t cached_buffer_bytes() noexcept { return kArena ? arena().idle_bytes() : 0; }

std::size_t set_cached_buffer_limit(std::size_t bytes) noexcept { return kArena ? arena().set_limit(bytes) : 0; }

}  // namespace matnn::ad
