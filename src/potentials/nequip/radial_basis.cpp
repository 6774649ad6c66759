#include "potentials/nequip/radial_basis.hpp"

#include <cmath>
#include <numbers>
#include <vector>

#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::potentials::nequip {

ad::Tensor polynomial_envelope(const ad::Tensor& r, double cutoff, int p) {
  if (!(cutoff > 0) || p < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "polynomial envelope: need cutoff > 0 and p >= 1");
  const double q = p;
  std::vector<double> coeffs(static_cast<std::size_t>(p + 3), 0.0);
  coeffs[0] = 1.0;
  coeffs[static_cast<std::size_t>(p)] = -(q + 1.0) * (q + 2.0) / 2.0;
  coeffs[static_cast<std::size_t>(p + 1)] = q * (q + 2.0);
  coeffs[static_cast<std::size_t>(p + 2)] = -q * (q + 1.0) / 2.0;
  const ad::Tensor x = ad::mul(r, 1.0 / cutoff);
  // Zero beyond the cutoff; the mask is a constant, and u vanishes to second order at x = 1.
  return ad::mul(ad::polynomial(x, coeffs), ad::step(ad::rsub(1.0, x)));
}

ad::Tensor bessel_basis(const ad::Tensor& r, int num_basis, double cutoff, int p) {
  if (r.rank() != 2 || r.dim(1) != 1)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "bessel basis: expected lengths (n, 1), got {}", ad::shape_str(r.shape()));
  if (num_basis < 1) fail(MATNN_ERROR_INVALID_ARGUMENT, "bessel basis: num_basis must be >= 1");
  std::vector<double> freq(static_cast<std::size_t>(num_basis));
  for (int n = 0; n < num_basis; ++n) freq[static_cast<std::size_t>(n)] = (n + 1) * std::numbers::pi / cutoff;
  ad::Tensor f = ad::from_vector(freq, {1, num_basis});
  if (r.dtype() != ad::DType::f64) f = ad::to(f, r.dtype());
  const ad::Tensor envelope_over_r = ad::div(ad::mul(polynomial_envelope(r, cutoff, p), std::sqrt(2.0 / cutoff)), r);
  return ad::mul(ad::sin(ad::mul(r, f)), envelope_over_r);
}

}  // namespace matnn::potentials::nequip
