// Subnormal floats in training: flushed to zero, because x86 cores take a microcode assist of
// about a hundred cycles for every arithmetic result or operand that is subnormal.
#pragma once

#include <vector>

namespace matnn::ad {

/// While alive, the calling thread and the OpenMP threads flush subnormal results to zero (FTZ)
/// and read subnormal operands as zero (DAZ); the destructor gives every thread back the mode it
/// had. Values below 1.2e-38 (float) or 2.2e-308 (double) carry nothing a network can learn
/// from, but one of them in a GEMM operand slows every product it enters: CGCNN's Gaussian
/// distance features multiplied by small weights ran an epoch eleven times slower than with
/// flushing. Training holds one for its whole run (workflows::train_model); inference does not,
/// so a host that calls the library for energies keeps IEEE gradual underflow in its own code.
/// On CPUs without SSE control registers it does nothing.
class FlushSubnormals {
 public:
  FlushSubnormals();
  ~FlushSubnormals();
  FlushSubnormals(const FlushSubnormals&) = delete;
  FlushSubnormals& operator=(const FlushSubnormals&) = delete;

 private:
  unsigned caller_;                // the calling thread's control word before
  std::vector<unsigned> workers_;  // each OpenMP thread's, by thread number
};

}  // namespace matnn::ad
