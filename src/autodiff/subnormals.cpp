#include "autodiff/subnormals.hpp"

#include <omp.h>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

namespace matnn::ad {
namespace {

#if defined(__SSE2__)
// MXCSR bits: flush to zero (15) and denormals are zero (6).
constexpr unsigned kFlushBits = 0x8040u;
unsigned read_mode() { return _mm_getcsr(); }
void write_mode(unsigned mode) { _mm_setcsr(mode); }
#else
constexpr unsigned kFlushBits = 0u;
unsigned read_mode() { return 0u; }
void write_mode(unsigned) {}
#endif

}  // namespace

// The control word is per thread, so each OpenMP thread sets its own. libgomp keeps its threads
// between parallel regions, and a thread it starts copies the mode of the thread that starts it:
// the caller (thread 0 of the team) is therefore set inside the region, with the others, so that
// threads started for this region record the mode they would otherwise have had.
FlushSubnormals::FlushSubnormals() : caller_(read_mode()), workers_(static_cast<std::size_t>(omp_get_max_threads())) {
#pragma omp parallel num_threads(static_cast<int>(workers_.size()))
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    workers_[t] = read_mode();
    write_mode(workers_[t] | kFlushBits);
  }
  write_mode(caller_ | kFlushBits);
}

FlushSubnormals::~FlushSubnormals() {
#pragma omp parallel num_threads(static_cast<int>(workers_.size()))
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    if (t < workers_.size()) write_mode(workers_[t]);
  }
  write_mode(caller_);
}

}  // namespace matnn::ad
