// The gated nonlinearity of NequIP (Weiler et al. 2018): a pointwise nonlinearity would break
// equivariance for l > 0, so those features are multiplied by invariant gates instead.
//
// Layout of the input: every irrep of `y` is (n, 2l+1, c) except the even scalars (0e, or 0
// without parity), which carry c * (1 + n_gated) channels: the first c are the scalar
// features, followed by c gate channels for each gated irrep (every l > 0 irrep of y, in irrep
// order). Output: even scalars through silu, odd scalars (0o) through tanh (odd, so the
// parity is kept), and each l > 0 irrep times sigmoid(its gates) (one gate per channel,
// broadcast over m). Gates are even scalars, so gating keeps parity.
#pragma once

#include "potentials/nequip/irreps.hpp"

namespace matnn::potentials::nequip {

/// How many irreps of `irreps` need gates (those with l > 0).
int64_t num_gated(const std::vector<Irrep>& irreps);

Features gate(const Features& y, int64_t channels, bool parity);

}  // namespace matnn::potentials::nequip
