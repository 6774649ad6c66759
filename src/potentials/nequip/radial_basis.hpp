// Radial features of an edge: Bessel functions times NequIP's polynomial envelope.
//
//     b_n(r) = sqrt(2 / rc) sin(n pi r / rc) / r * u(r / rc),   n = 1..num_basis,
//     u(x)   = 1 - (p+1)(p+2)/2 x^p + p(p+2) x^(p+1) - p(p+1)/2 x^(p+2)   for x < 1, else 0,
// (Batzner et al. 2022; Gasteiger et al. 2020 for the envelope) with p = 6 by default:
// u(1) = u'(1) = u''(1) = 0, so everything built from b (by maps that send 0 to 0) goes to zero
// smoothly at the cutoff: energies and forces are continuous as a neighbour crosses it. The
// frequencies are fixed (not trained).
#pragma once

#include "autodiff/tensor.hpp"

namespace matnn::potentials::nequip {

/// The envelope u(r / rc) of lengths r (any shape): differentiable, exactly 0 for r >= rc.
ad::Tensor polynomial_envelope(const ad::Tensor& r, double cutoff, int p);

/// Bessel basis times envelope of lengths r (n, 1) -> (n, num_basis). r must be positive.
ad::Tensor bessel_basis(const ad::Tensor& r, int num_basis, double cutoff, int p);

}  // namespace matnn::potentials::nequip
