// Clebsch-Gordan coefficients for the real spherical harmonics of spherical_harmonics.hpp.
//
// complex_clebsch_gordan() is the standard <l1 m1 l2 m2 | l3 m3> (Condon-Shortley phase) by
// Racah's formula. real_clebsch_gordan() transforms it to the real basis, Y_real = U Y_complex:
//     C[i, j, k] = sum U3[k, m3] <l1 m1 l2 m2 | l3 m3> conj(U1[i, m1]) conj(U2[j, m2]),
// which is either purely real or purely imaginary (odd l1 + l2 + l3, e.g. the cross product);
// the non-zero part is kept and the other is checked to vanish. The result is the matrix of the
// equivariant bilinear map x (2l1+1) (x) y (2l2+1) -> z (2l3+1),
//     z_k = sum_ij C[i, j, k] x_i y_j,   stored row-major as ((2l1+1)(2l2+1), 2l3+1), row i (2l2+1) + j,
// with orthonormal columns (so unit-variance inputs give unit-variance outputs), satisfying
// C (D1 x (x) D2 y) = D3 C (x (x) y) for the Wigner matrices D of the real harmonics.
// Coefficients are computed on first use and cached (thread-safe).
#pragma once

#include <complex>
#include <vector>

namespace matnn::potentials::nequip {

/// <l1 m1 l2 m2 | l3 m3>; zero when m1 + m2 != m3 or the triangle rule fails.
double complex_clebsch_gordan(int l1, int m1, int l2, int m2, int l3, int m3);

/// U^l with Y_real = U Y_complex: (2l+1)^2 entries, row-major, rows real m = -l..l, columns
/// complex m = -l..l.
std::vector<std::complex<double>> real_from_complex(int l);

/// The real coupling matrix described above. Throws MATNN_ERROR_INVALID_ARGUMENT unless
/// |l1 - l2| <= l3 <= l1 + l2 (all in [0, 8]).
const std::vector<double>& real_clebsch_gordan(int l1, int l2, int l3);

}  // namespace matnn::potentials::nequip
