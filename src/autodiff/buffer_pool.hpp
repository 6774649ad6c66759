// Storage of tensor data: 64-byte aligned buffers, with large ones recycled.
//
// Why: glibc serves allocations above its mmap threshold (at most 32 MiB) with fresh mmap calls,
// and every page of a fresh mapping is faulted in and zeroed by the kernel on first touch. A
// NequIP evaluation of a 4096-atom cell allocates edge tensors of tens of MiB on every call and
// spent about half its time in those page faults. Buffers of at least `min_pooled_bytes` are
// therefore carved from an arena of mapped chunks and given back to it when their tensor dies.
// Freed ranges merge with their free neighbours, so the memory a call frees serves its later
// requests of any size, and the resident memory follows the bytes alive at once. (A pool of
// buffers per size class held, at a force call's peak, idle buffers of the classes that peaked
// earlier: a 4096-atom NequIP call resided in twice the memory its tensors used.)
//
// The arena keeps at most a bounded number of idle resident bytes, a quarter of the physical
// memory by default or MATNN_TENSOR_CACHE_MB from the environment (0 turns recycling off); above
// it, wholly free chunks are unmapped and free ranges given back to the system
// (madvise(MADV_DONTNEED)), so that memory leaves the process. Peak memory does not grow with
// the bound (a call reuses free memory before it maps more); what grows is the memory held
// between calls, up to the working set of the largest call. The arena is shared by all threads
// and guarded by a mutex. Builds with AddressSanitizer recycle nothing, so that a use after free
// is still reported.
#pragma once

#include <cstddef>
#include <memory>

namespace matnn::ad {

/// Buffers smaller than this go straight to the system allocator.
inline constexpr std::size_t min_pooled_bytes = std::size_t{1} << 14;

/// A buffer of at least `bytes` bytes, 64-byte aligned, released to the pool (or freed) when the
/// last owner goes. Throws matnn::Error (MATNN_ERROR_OUT_OF_MEMORY) when memory is exhausted.
std::shared_ptr<void> allocate_buffer(std::size_t bytes);

/// Frees every idle buffer the pool holds (for hosts that want their memory back between runs).
void release_cached_buffers() noexcept;

/// Bytes held idle by the pool now (an upper bound on the idle memory it keeps resident).
std::size_t cached_buffer_bytes() noexcept;

/// Bytes of tensor storage alive now, and the most alive at once since the last reset (every
/// buffer counts, pooled or not, at its requested size rounded to 64 bytes): what a computation
/// needs, apart from how the allocator lays it out.
std::size_t tensor_bytes_in_use() noexcept;
std::size_t peak_tensor_bytes() noexcept;
void reset_peak_tensor_bytes() noexcept;

/// Sets the bound on idle bytes (MATNN_TENSOR_CACHE_MB sets it at start-up), gives back what is
/// above it, and returns the previous bound. 0 in AddressSanitizer builds, which keep nothing.
std::size_t set_cached_buffer_limit(std::size_t bytes) noexcept;

}  // namespace matnn::ad
