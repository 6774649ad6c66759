// Real spherical harmonics Y_l^m of a unit vector, as differentiable tensors.
//
// Convention (the one every other part of the model and the tests rely on):
//  - Real harmonics without the Condon-Shortley phase: for m > 0, Y_l^m ~ P_l^m(z) cos(m phi),
//    for m < 0, Y_l^m ~ P_l^|m|(z) sin(|m| phi), phi measured from x towards y.
//  - m order -l, ..., l; the l-blocks are concatenated, so Y_l^m is column l^2 + l + m of the
//    (n, (l_max + 1)^2) output. For l = 1 this gives (y, z, x) times sqrt(3).
//  - "Component" normalisation: sum_m Y_l^m(u)^2 = 2l + 1 for every unit u, i.e. each
//    component has mean square 1 over the sphere (the integral normalisation times sqrt(4 pi)).
//    Y_0 = 1, Y_1 = sqrt(3) (y, z, x), Y_2^0 = sqrt(5) (3 z^2 - 1) / 2.
//
// r^l Y_l^m are the real regular solid harmonics, homogeneous polynomials of degree l in
// (x, y, z), whose coefficients are computed once at construction. Evaluation builds every
// degree-l tensor-power monomial u_i1 ... u_il with l - 1 broadcast products and maps all of
// them to all harmonics with one GEMM against the coefficient matrix: a few ops for any l_max.
#pragma once

#include <vector>

#include "autodiff/tensor.hpp"

namespace matnn::potentials::nequip {

class SphericalHarmonics {
 public:
  /// l_max in [0, 8].
  explicit SphericalHarmonics(int l_max);

  int l_max() const noexcept { return l_max_; }
  /// (l_max + 1)^2.
  int dim() const noexcept { return (l_max_ + 1) * (l_max_ + 1); }

  /// Y of unit vectors `unit` (n, 3) -> (n, (l_max + 1)^2), differentiable to any order. The
  /// input is not normalised here (the polynomials are homogeneous: pass u = r / |r|).
  ad::Tensor operator()(const ad::Tensor& unit) const;

  /// Plain values at the direction of (x, y, z) (normalised here; must be non-zero).
  std::vector<double> values(double x, double y, double z) const;

 private:
  ad::Tensor monomials(const ad::Tensor& unit) const;

  int l_max_;
  int n_monomials_;              // sum_l 3^l
  std::vector<double> coeff_;    // (n_monomials, dim) row-major
  ad::Tensor coeff32_, coeff64_;
};

}  // namespace matnn::potentials::nequip
