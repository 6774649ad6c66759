// Storage of tensor data: 64-byte aligned buffers, with large ones recycled.
//
// Why: glibc serves allocations above its mmap threshold (at most 32 MiB) with fresh mmap calls,
// and every page of a fresh mapping is faulted in and zeroed by the kernel on first touch. A
// NequIP evaluation of a 4096-atom cell allocates edge tensors of tens of MiB on every call and
// spent about half its time in those page faults. Buffers of at least `min_pooled_bytes` are
// therefore kept when their tensor dies and handed to the next request of the same size class
// (size classes are powers of two split in four).
//
// The pool holds at most a bounded number of idle bytes, a quarter of the physical memory by
// default or MATNN_TENSOR_CACHE_MB from the environment (0 turns recycling off); a buffer that
// would exceed it is freed. A request takes an idle buffer of its class or of the smallest class
// up to twice its size. Pooled sizes are mapped pages, so a buffer the pool frees leaves the
// process at once (from malloc it stayed in glibc's heap, and a force call held twice the memory
// its tensors did). Peak memory does not grow with the bound (a call reuses idle buffers before
// it allocates); what grows is the memory held between calls, up to the working set of the
// largest call. The pool is shared by all threads and guarded by a mutex. Builds with
// AddressSanitizer recycle nothing, so that a use after free is still reported.
#pragma once

#include <cstddef>
#include <memory>

namespace matnn::ad {

/// Buffers smaller than this go straight to the system allocator.
inline constexpr std::size_t min_pooled_bytes = std::size_t{1} << 20;

/// A buffer of at least `bytes` bytes, 64-byte aligned, released to the pool (or freed) when the
/// last owner goes. Throws matnn::Error (MATNN_ERROR_OUT_OF_MEMORY) when memory is exhausted.
std::shared_ptr<void> allocate_buffer(std::size_t bytes);

/// Frees every idle buffer the pool holds (for hosts that want their memory back between runs).
void release_cached_buffers() noexcept;

/// Bytes held idle by the pool now.
std::size_t cached_buffer_bytes() noexcept;

}  // namespace matnn::ad
