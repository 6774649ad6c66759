// Spherical harmonics, Clebsch-Gordan coefficients and the fused convolution of the NequIP model:
// normalisation, known values, selection rules, equivariance under random rotations (Wigner
// matrices obtained numerically from the harmonics themselves), a direct sum as reference, and
// finite-difference checks of every slot of the convolution op to second order.
#include <cmath>
#include <numbers>
#include <random>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include "autodiff/ops.hpp"
#include "gradcheck.hpp"
#include "matnn/error.hpp"
#include "potentials/nequip/clebsch_gordan.hpp"
#include "potentials/nequip/radial_basis.hpp"
#include "potentials/nequip/spherical_harmonics.hpp"
#include "potentials/nequip/tensor_product.hpp"

namespace matnn::potentials::nequip {
namespace {

using Eigen::MatrixXd;
using Eigen::Matrix3d;
using Eigen::Vector3d;

Matrix3d random_rotation(std::mt19937_64& rng) {
  std::normal_distribution<double> n(0.0, 1.0);
  Eigen::Quaterniond q(n(rng), n(rng), n(rng), n(rng));
  q.normalize();
  return q.toRotationMatrix();
}

Vector3d random_unit(std::mt19937_64& rng) {
  std::normal_distribution<double> n(0.0, 1.0);
  Vector3d v(n(rng), n(rng), n(rng));
  return v.normalized();
}

// Block l of the harmonics at v.
Eigen::VectorXd harmonics_l(const SphericalHarmonics& sh, const Vector3d& v, int l) {
  const std::vector<double> y = sh.values(v.x(), v.y(), v.z());
  Eigen::VectorXd out(2 * l + 1);
  for (int m = 0; m < 2 * l + 1; ++m) out(m) = y[static_cast<std::size_t>(l * l + m)];
  return out;
}

// D^l(R) by least squares of Y(R r) = D Y(r) over random points.
MatrixXd wigner(const SphericalHarmonics& sh, const Matrix3d& rot, int l, std::mt19937_64& rng) {
  const int d = 2 * l + 1, n = 10 * d + 20;
  MatrixXd a(n, d), b(n, d);
  for (int k = 0; k < n; ++k) {
    const Vector3d r = random_unit(rng);
    a.row(k) = harmonics_l(sh, r, l).transpose();
    b.row(k) = harmonics_l(sh, rot * r, l).transpose();
  }
  // b = a D^T
  const MatrixXd dt = a.colPivHouseholderQr().solve(b);
  return dt.transpose();
}

// Gauss-Legendre nodes and weights on [-1, 1].
void gauss_legendre(int n, std::vector<double>& x, std::vector<double>& w) {
  x.resize(static_cast<std::size_t>(n));
  w.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    double z = std::cos(std::numbers::pi * (i + 0.75) / (n + 0.5)), dp = 0.0;
    for (int it = 0; it < 100; ++it) {
      double p0 = 1.0, p1 = z;
      for (int k = 2; k <= n; ++k) {
        const double p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      dp = n * (z * p1 - p0) / (z * z - 1.0);
      const double dz = p1 / dp;
      z -= dz;
      if (std::abs(dz) < 1e-16) break;
    }
    x[static_cast<std::size_t>(i)] = z;
    w[static_cast<std::size_t>(i)] = 2.0 / ((1.0 - z * z) * dp * dp);
  }
}

TEST(SphericalHarmonics, ComponentNormalisedAndOrthogonalByQuadrature) {
  const int l_max = 3;
  const SphericalHarmonics sh(l_max);
  const int d = sh.dim();
  std::vector<double> zs, ws;
  gauss_legendre(12, zs, ws);  // exact for polynomials of degree 23 in z
  const int n_phi = 16;        // exact for trigonometric polynomials of degree < 16
  MatrixXd gram = MatrixXd::Zero(d, d);
  for (std::size_t a = 0; a < zs.size(); ++a)
    for (int b = 0; b < n_phi; ++b) {
      const double phi = 2 * std::numbers::pi * b / n_phi, s = std::sqrt(1 - zs[a] * zs[a]);
      const std::vector<double> y = sh.values(s * std::cos(phi), s * std::sin(phi), zs[a]);
      const Eigen::Map<const Eigen::VectorXd> v(y.data(), d);
      gram += (ws[a] * 2 * std::numbers::pi / n_phi) * v * v.transpose();
    }
  gram /= 4 * std::numbers::pi;  // mean over the sphere
  EXPECT_LT((gram - MatrixXd::Identity(d, d)).cwiseAbs().maxCoeff(), 1e-12) << gram;
}

TEST(SphericalHarmonics, KnownValuesAndOrder) {
  const SphericalHarmonics sh(3);
  const double s3 = std::sqrt(3.0), s5 = std::sqrt(5.0), s15 = std::sqrt(15.0);
  std::vector<double> y = sh.values(0, 0, 2.5);  // along z; only m = 0 survives
  EXPECT_NEAR(y[0], 1.0, 1e-14);
  EXPECT_NEAR(y[1], 0.0, 1e-14);
  EXPECT_NEAR(y[2], s3, 1e-14);
  EXPECT_NEAR(y[3], 0.0, 1e-14);
  EXPECT_NEAR(y[6], s5, 1e-14);            // Y_2^0 = sqrt5 (3z^2 - 1) / 2
  EXPECT_NEAR(y[12], std::sqrt(7.0), 1e-13);  // Y_3^0(z = 1) = sqrt7
  y = sh.values(0.3, -0.7, 0.2);            // l = 1 is sqrt3 (y, z, x)
  const double r = std::sqrt(0.09 + 0.49 + 0.04);
  EXPECT_NEAR(y[1], s3 * -0.7 / r, 1e-14);
  EXPECT_NEAR(y[2], s3 * 0.2 / r, 1e-14);
  EXPECT_NEAR(y[3], s3 * 0.3 / r, 1e-14);
  y = sh.values(1, 1, 0);                   // Y_2^-2 = sqrt15 x y, Y_2^2 = sqrt15 (x^2 - y^2) / 2
  EXPECT_NEAR(y[4], s15 / 2, 1e-14);
  EXPECT_NEAR(y[8], 0.0, 1e-14);
  y = sh.values(1, 0, 0);
  EXPECT_NEAR(y[8], s15 / 2, 1e-14);
  EXPECT_NEAR(y[6], -s5 / 2, 1e-14);
}

TEST(SphericalHarmonics, TensorEvaluationMatchesValuesInBothDtypes) {
  std::mt19937_64 rng(3);
  const SphericalHarmonics sh(3);
  std::vector<double> u;
  for (int k = 0; k < 7; ++k) {
    const Vector3d v = random_unit(rng);
    u.insert(u.end(), {v.x(), v.y(), v.z()});
  }
  const ad::Tensor u64 = ad::from_vector(u, {7, 3});
  const std::vector<double> y64 = sh(u64).to_vector(), y32 = sh(ad::to(u64, ad::DType::f32)).to_vector();
  ASSERT_EQ(y64.size(), 7u * 16u);
  for (int k = 0; k < 7; ++k) {
    const auto y = sh.values(u[3 * k], u[3 * k + 1], u[3 * k + 2]);
    for (int j = 0; j < 16; ++j) {
      EXPECT_NEAR(y64[static_cast<std::size_t>(16 * k + j)], y[static_cast<std::size_t>(j)], 1e-13);
      EXPECT_NEAR(y32[static_cast<std::size_t>(16 * k + j)], y[static_cast<std::size_t>(j)], 1e-5);
    }
  }
}

TEST(SphericalHarmonics, EquivariantWithOrthogonalWignerMatrices) {
  std::mt19937_64 rng(5);
  const SphericalHarmonics sh(4);
  for (int trial = 0; trial < 3; ++trial) {
    const Matrix3d rot = random_rotation(rng);
    for (int l = 0; l <= 4; ++l) {
      const MatrixXd d = wigner(sh, rot, l, rng);
      EXPECT_LT((d * d.transpose() - MatrixXd::Identity(2 * l + 1, 2 * l + 1)).cwiseAbs().maxCoeff(), 1e-11);
      for (int k = 0; k < 5; ++k) {
        const Vector3d r = random_unit(rng);
        EXPECT_LT((harmonics_l(sh, rot * r, l) - d * harmonics_l(sh, r, l)).cwiseAbs().maxCoeff(), 1e-11);
      }
      // Parity: Y^l(-r) = (-1)^l Y^l(r).
      const Vector3d r = random_unit(rng);
      EXPECT_LT((harmonics_l(sh, -r, l) - (l % 2 ? -1.0 : 1.0) * harmonics_l(sh, r, l)).cwiseAbs().maxCoeff(), 1e-13);
    }
    // l = 1 in the order (y, z, x): D^1 is R with rows and columns permuted.
    const MatrixXd d1 = wigner(sh, rot, 1, rng);
    const int perm[3] = {1, 2, 0};
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) EXPECT_NEAR(d1(i, j), rot(perm[i], perm[j]), 1e-11);
  }
}

TEST(ClebschGordan, ComplexKnownValues) {
  EXPECT_NEAR(complex_clebsch_gordan(1, 0, 1, 0, 0, 0), -1.0 / std::sqrt(3.0), 1e-14);
  EXPECT_NEAR(complex_clebsch_gordan(1, 1, 1, -1, 0, 0), 1.0 / std::sqrt(3.0), 1e-14);
  EXPECT_NEAR(complex_clebsch_gordan(1, 1, 1, 0, 1, 1), 1.0 / std::sqrt(2.0), 1e-14);
  EXPECT_NEAR(complex_clebsch_gordan(1, 1, 1, 1, 2, 2), 1.0, 1e-14);
  EXPECT_NEAR(complex_clebsch_gordan(2, 0, 1, 0, 1, 0), -std::sqrt(2.0 / 5.0), 1e-14);
  EXPECT_EQ(complex_clebsch_gordan(1, 1, 1, 0, 1, 0), 0.0);  // m1 + m2 != m3
  EXPECT_EQ(complex_clebsch_gordan(1, 0, 1, 0, 3, 0), 0.0);  // triangle
}

TEST(ClebschGordan, SelectionRulesAndOrthonormalColumns) {
  EXPECT_THROW(real_clebsch_gordan(1, 1, 3), Error);
  EXPECT_THROW(real_clebsch_gordan(3, 1, 1), Error);
  EXPECT_THROW(real_clebsch_gordan(0, 2, 1), Error);
  for (int l1 = 0; l1 <= 3; ++l1)
    for (int l2 = 0; l2 <= 3; ++l2)
      for (int l3 = std::abs(l1 - l2); l3 <= l1 + l2; ++l3) {
        const std::vector<double>& c = real_clebsch_gordan(l1, l2, l3);
        const int d1 = 2 * l1 + 1, d2 = 2 * l2 + 1, d3 = 2 * l3 + 1;
        const Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> m(c.data(), d1 * d2, d3);
        EXPECT_LT((m.transpose() * m - MatrixXd::Identity(d3, d3)).cwiseAbs().maxCoeff(), 1e-12) << l1 << l2 << l3;
      }
  // 1 x 1 -> 0 is the dot product: C[i, j] = +-delta_ij / sqrt3.
  const std::vector<double>& dot = real_clebsch_gordan(1, 1, 0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(std::abs(dot[static_cast<std::size_t>(3 * i + j)]), i == j ? 1 / std::sqrt(3.0) : 0.0, 1e-14);
  // 1 x 1 -> 1 is the cross product: antisymmetric in (i, j).
  const std::vector<double>& cross = real_clebsch_gordan(1, 1, 1);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k)
        EXPECT_NEAR(cross[static_cast<std::size_t>((3 * i + j) * 3 + k)], -cross[static_cast<std::size_t>((3 * j + i) * 3 + k)], 1e-14);
}

TEST(ClebschGordan, EquivariantUnderRandomRotations) {
  std::mt19937_64 rng(7);
  const SphericalHarmonics sh(4);
  std::normal_distribution<double> n(0.0, 1.0);
  for (int trial = 0; trial < 2; ++trial) {
    const Matrix3d rot = random_rotation(rng);
    std::vector<MatrixXd> d;
    for (int l = 0; l <= 4; ++l) d.push_back(wigner(sh, rot, l, rng));
    for (int l1 = 0; l1 <= 2; ++l1)
      for (int l2 = 0; l2 <= 2; ++l2)
        for (int l3 = std::abs(l1 - l2); l3 <= l1 + l2; ++l3) {
          const std::vector<double>& c = real_clebsch_gordan(l1, l2, l3);
          const int d1 = 2 * l1 + 1, d2 = 2 * l2 + 1, d3 = 2 * l3 + 1;
          auto couple = [&](const Eigen::VectorXd& x, const Eigen::VectorXd& y) {
            Eigen::VectorXd z = Eigen::VectorXd::Zero(d3);
            for (int i = 0; i < d1; ++i)
              for (int j = 0; j < d2; ++j)
                for (int k = 0; k < d3; ++k) z(k) += c[static_cast<std::size_t>((i * d2 + j) * d3 + k)] * x(i) * y(j);
            return z;
          };
          Eigen::VectorXd x(d1), y(d2);
          for (int i = 0; i < d1; ++i) x(i) = n(rng);
          for (int j = 0; j < d2; ++j) y(j) = n(rng);
          const Eigen::VectorXd lhs = couple(d[static_cast<std::size_t>(l1)] * x, d[static_cast<std::size_t>(l2)] * y);
          const Eigen::VectorXd rhs = d[static_cast<std::size_t>(l3)] * couple(x, y);
          EXPECT_LT((lhs - rhs).cwiseAbs().maxCoeff(), 1e-10) << l1 << " x " << l2 << " -> " << l3;
        }
  }
}

// Four atoms and nine edges, sorted by centre, with repeated neighbours (periodic images) and an
// atom without edges of its own: every accumulation pattern of the convolution kernels.
std::shared_ptr<const EdgeTopology> small_topology() {
  return std::make_shared<const EdgeTopology>(4, std::vector<int32_t>{0, 0, 0, 0, 1, 1, 3, 3, 3},
                                              std::vector<int32_t>{1, 2, 2, 3, 0, 3, 0, 1, 1});
}

// Applies `op` (d x d) to the component axis of an (n, d, c) row-major array.
std::vector<double> act_on_components(const std::vector<double>& v, int64_t n, int64_t d, int64_t c, const MatrixXd& op) {
  std::vector<double> out(v.size(), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t a = 0; a < d; ++a)
      for (int64_t b = 0; b < d; ++b)
        for (int64_t k = 0; k < c; ++k)
          out[static_cast<std::size_t>((i * d + a) * c + k)] += op(a, b) * v[static_cast<std::size_t>((i * d + b) * c + k)];
  return out;
}

TEST(ClebschGordan, ConvolutionIsEquivariantWithParity) {
  std::mt19937_64 rng(11);
  const int l_max = 2;
  const SphericalHarmonics sh(l_max);
  const std::vector<Irrep> ins = all_irreps(l_max, true);
  const TensorProduct tp(ins, l_max, all_irreps(l_max, true), true, 0.5);
  // 6 inputs, each l1 = 0: 3 paths, l1 = 1: 6, l1 = 2: 6 per parity.
  EXPECT_EQ(tp.num_paths(), 30);
  for (const TensorProductPath& p : tp.paths()) {
    EXPECT_EQ(p.out.p, p.in.p * (p.l_sh % 2 ? -1 : 1));
    EXPECT_TRUE(p.out.l >= std::abs(p.in.l - p.l_sh) && p.out.l <= std::min(p.in.l + p.l_sh, l_max));
  }
  const TensorProduct first({Irrep{0, 1}}, l_max, all_irreps(l_max, true), true);
  ASSERT_EQ(first.num_paths(), 3);
  EXPECT_EQ(first.paths()[1].out, (Irrep{1, -1}));
  EXPECT_EQ(first.paths()[2].out, (Irrep{2, 1}));

  const auto topo = small_topology();
  const int64_t n = topo->n_centers, e = topo->n_edges, c = 3;
  const Matrix3d rot = random_rotation(rng);
  std::vector<MatrixXd> d;
  for (int l = 0; l <= l_max; ++l) d.push_back(wigner(sh, rot, l, rng));
  std::vector<ad::Tensor> w;  // per output group: (E, its paths, c)
  for (const OutputGroup& group : tp.output_groups())
    w.push_back(ad::randn({e, static_cast<int64_t>(group.paths.size()), c}, rng, ad::DType::f64));
  for (int mode = 0; mode < 2; ++mode) {  // 0: rotation, 1: inversion
    const auto transform = [&](const Irrep& ir) {
      return mode == 0 ? d[static_cast<std::size_t>(ir.l)] : MatrixXd(ir.p * MatrixXd::Identity(ir.dim(), ir.dim()));
    };
    Features x, xr;
    for (const Irrep& ir : ins) {
      const std::vector<double> v = ad::randn({n, ir.dim(), c}, rng, ad::DType::f64).to_vector();
      x[ir] = ad::from_vector(v, {n, ir.dim(), c});
      xr[ir] = ad::from_vector(act_on_components(v, n, ir.dim(), c, transform(ir)), {n, ir.dim(), c});
    }
    std::vector<double> u, ur;
    for (int64_t k = 0; k < e; ++k) {
      const Vector3d v = random_unit(rng), vr = mode == 0 ? Vector3d(rot * v) : Vector3d(-v);
      u.insert(u.end(), {v.x(), v.y(), v.z()});
      ur.insert(ur.end(), {vr.x(), vr.y(), vr.z()});
    }
    const ad::Tensor y = sh(ad::from_vector(u, {e, 3})), yr = sh(ad::from_vector(ur, {e, 3}));
    const Features out = tp.convolve(tp.pack(x), y, w, topo);
    const Features outr = tp.convolve(tp.pack(xr), yr, w, topo);
    ASSERT_EQ(out.size(), 6u);
    for (const auto& [ir, t] : out) {
      ASSERT_EQ(t.dim(1), ir.dim());
      EXPECT_EQ(t.dim(2), c * tp.output_counts().at(ir));
      const std::vector<double> expect = act_on_components(t.to_vector(), n, ir.dim(), t.dim(2), transform(ir));
      const std::vector<double> got = outr.at(ir).to_vector();
      double worst = 0.0, largest = 0.0;
      for (std::size_t k = 0; k < got.size(); ++k) {
        worst = std::max(worst, std::abs(got[k] - expect[k]));
        largest = std::max(largest, std::abs(expect[k]));
      }
      EXPECT_LT(worst, 1e-10) << ir.name() << (mode == 0 ? " rotation" : " inversion");
      EXPECT_GT(largest, 0.1) << ir.name();
    }
  }
}

TEST(ClebschGordan, ConvolutionMatchesDirectSum) {
  // Every path by hand, from the dense Clebsch-Gordan matrices: for path q into o,
  //   m_o[i, k, q c + ch] = scale * sum_{e: centre i} w_o[e, q, ch] sum_ab C[a, b, k] x_in[nbr e, a, ch] Y^l2[e, b].
  std::mt19937_64 rng(13);
  const int l_max = 2;
  const double scale = 0.25;
  const SphericalHarmonics sh(l_max);
  const std::vector<Irrep> ins{Irrep{0, 1}, Irrep{1, -1}, Irrep{2, 1}};
  const TensorProduct tp(ins, l_max, all_irreps(l_max, true), true, scale);
  const auto topo = small_topology();
  const int64_t n = topo->n_centers, e = topo->n_edges;
  // 16 channels take the kernels compiled for that width, 3 and 70 (two chunks) the general ones.
  for (const int64_t c : {3, 16, 70}) {
    SCOPED_TRACE(c);
    Features x;
    for (const Irrep& ir : ins) x[ir] = ad::randn({n, ir.dim(), c}, rng, ad::DType::f64);
    const ad::Tensor u = ad::randn({e, 3}, rng, ad::DType::f64);
    const ad::Tensor y = sh(ad::div(u, ad::norm(u, -1, true)));
    std::vector<ad::Tensor> w;
    for (const OutputGroup& group : tp.output_groups())
      w.push_back(ad::randn({e, static_cast<int64_t>(group.paths.size()), c}, rng, ad::DType::f64));
    const Features got = tp.convolve(tp.pack(x), y, w, topo);
    const std::vector<double> yv = y.to_vector();
    ASSERT_EQ(got.size(), tp.output_groups().size());
    for (std::size_t g = 0; g < tp.output_groups().size(); ++g) {
      const OutputGroup& group = tp.output_groups()[g];
      const Irrep o = group.out;
      const auto k_paths = static_cast<int64_t>(group.paths.size());
      const std::vector<double> wv = w[g].to_vector(), gv = got.at(o).to_vector();
      std::vector<double> expect(static_cast<std::size_t>(n * o.dim() * k_paths * c), 0.0);
      for (int64_t q = 0; q < k_paths; ++q) {
        const TensorProductPath& path = tp.paths()[static_cast<std::size_t>(group.paths[static_cast<std::size_t>(q)])];
        const int d1 = path.in.dim(), d2 = 2 * path.l_sh + 1, d3 = o.dim();
        const std::vector<double>& cg = real_clebsch_gordan(path.in.l, path.l_sh, o.l);
        const std::vector<double> xv = x.at(path.in).to_vector();
        for (int64_t edge = 0; edge < e; ++edge) {
          const int64_t i = topo->center[static_cast<std::size_t>(edge)], j = topo->neighbor[static_cast<std::size_t>(edge)];
          for (int64_t ch = 0; ch < c; ++ch)
            for (int k = 0; k < d3; ++k) {
              double s = 0.0;
              for (int a = 0; a < d1; ++a)
                for (int b = 0; b < d2; ++b)
                  s += cg[static_cast<std::size_t>((a * d2 + b) * d3 + k)] * xv[static_cast<std::size_t>((j * d1 + a) * c + ch)] *
                       yv[static_cast<std::size_t>(edge * sh.dim() + path.l_sh * path.l_sh + b)];
              expect[static_cast<std::size_t>((i * d3 + k) * k_paths * c + q * c + ch)] +=
                  scale * wv[static_cast<std::size_t>((edge * k_paths + q) * c + ch)] * s;
            }
        }
      }
      ASSERT_EQ(gv.size(), expect.size()) << o.name();
      double worst = 0.0;
      for (std::size_t k = 0; k < gv.size(); ++k) worst = std::max(worst, std::abs(gv[k] - expect[k]));
      EXPECT_LT(worst, 1e-12) << o.name() << ", " << k_paths << " paths";
      // Atom 2 is only ever a neighbour: its messages are zero.
      for (int64_t k = 0; k < o.dim() * k_paths * c; ++k)
        EXPECT_EQ(gv[static_cast<std::size_t>(2 * o.dim() * k_paths * c + k)], 0.0);
    }
  }
}

TEST(ClebschGordan, EveryConvolutionSlotPassesGradcheckToSecondOrder) {
  // The forward op and the three gradients that forces and force training use are one op family
  // (edge_convolution.hpp): each must be right to first and second order in all its inputs.
  std::mt19937_64 rng(17);
  const TensorProduct tp({Irrep{0, 1}, Irrep{1, -1}, Irrep{2, 1}}, 2, all_irreps(2, true), true, 0.5);
  const auto topo = small_topology();
  for (const OutputGroup& group : tp.output_groups()) {
    const CouplingTable& t = *group.table;
    for (const int64_t c : {2, 8}) {  // the general kernels and those compiled for 8 channels
      const int64_t n = topo->n_centers, e = topo->n_edges;
      const std::array<ad::Shape, 4> shapes{ad::Shape{n, t.in_rows, c}, ad::Shape{e, t.sh_cols},
                                            ad::Shape{e, t.num_paths(), c}, ad::Shape{n, t.out_rows, c}};
      for (int wanted = 0; wanted < 4; ++wanted) {
        std::vector<ad::Tensor> inputs;
        for (int s = 0; s < 4; ++s)
          if (s != wanted) inputs.push_back(ad::testing::input_normal(shapes[static_cast<std::size_t>(s)], rng));
        const auto f = [&](const std::vector<ad::Tensor>& in) {
          std::array<ad::Tensor, 4> args;
          std::size_t k = 0;
          for (int s = 0; s < 4; ++s)
            if (s != wanted) args[static_cast<std::size_t>(s)] = in[k++];
          return convolution_partial(group.table, topo, static_cast<ConvolutionSlot>(wanted), args);
        };
        EXPECT_TRUE(ad::testing::gradcheck(f, inputs))
            << group.out.name() << " slot " << wanted << ", " << c << " channels";
      }
    }
  }
}

TEST(ClebschGordan, ConvolutionRejectsBadShapesAndTopologies) {
  const TensorProduct tp({Irrep{0, 1}}, 1, all_irreps(1, true), true);
  const auto topo = small_topology();
  const ad::Tensor h = ad::zeros({4, 1, 2}, ad::DType::f64), y = ad::zeros({9, 4}, ad::DType::f64);
  ASSERT_EQ(tp.output_groups().size(), 2u);  // 0e and 1o, one path each
  const auto weights = [](int64_t c, ad::DType dtype) {
    return std::vector<ad::Tensor>{ad::zeros({9, 1, c}, dtype), ad::zeros({9, 1, c}, dtype)};
  };
  EXPECT_NO_THROW(tp.convolve(h, y, weights(2, ad::DType::f64), topo));
  EXPECT_THROW(tp.convolve(h, y, weights(3, ad::DType::f64), topo), Error);  // channels differ
  EXPECT_THROW(tp.convolve(h, ad::zeros({8, 4}, ad::DType::f64), weights(2, ad::DType::f64), topo), Error);
  EXPECT_THROW(tp.convolve(h, y, weights(2, ad::DType::f32), topo), Error);  // float32 among float64
  EXPECT_THROW(tp.convolve(h, y, {ad::zeros({9, 1, 2}, ad::DType::f64)}, topo), Error);  // one group's weights
  EXPECT_THROW(EdgeTopology(2, {1, 0}, {0, 1}), Error);                              // not sorted by centre
  EXPECT_THROW(EdgeTopology(2, {0, 1}, {0, 2}), Error);                              // neighbour out of range
}

TEST(SphericalHarmonics, RadialBasisVanishesSmoothlyAtTheCutoff) {
  const double rc = 4.0;
  auto at = [&](double r) { return bessel_basis(ad::full({1, 1}, r, ad::DType::f64), 8, rc, 6).to_vector(); };
  for (double v : at(rc)) EXPECT_EQ(v, 0.0);
  for (double v : at(rc + 0.5)) EXPECT_EQ(v, 0.0);
  // The envelope has a third-order zero and sin(n pi r / rc) a simple one: b(rc - h) = O(h^4).
  const auto a = at(rc - 1e-2), b = at(rc - 2e-2);
  for (std::size_t n = 0; n < a.size(); ++n) {
    EXPECT_LT(std::abs(a[n]), 1e-4);
    if (std::abs(b[n]) > 1e-12) {
      EXPECT_NEAR(a[n] / b[n], 1.0 / 16.0, 0.01);
    }
  }
  // Envelope values and derivatives at the cutoff vanish; u(0) = 1.
  const ad::Tensor r = ad::full({1}, rc - 1e-7, ad::DType::f64).set_requires_grad(true);
  const ad::Tensor u = polynomial_envelope(r, rc, 6);
  const ad::Tensor du = ad::grad({u}, {r}, {}, true)[0];
  const ad::Tensor d2u = ad::grad({du}, {r})[0];
  EXPECT_NEAR(u.item(), 0.0, 1e-14);  // the exact value is ~1e-21; rounding of terms up to 48 x^8
  EXPECT_NEAR(du.item(), 0.0, 1e-10);
  EXPECT_NEAR(d2u.item(), 0.0, 1e-4);
  EXPECT_NEAR(polynomial_envelope(ad::full({1}, 0.0, ad::DType::f64), rc, 6).item(), 1.0, 1e-15);
}

}  // namespace
}  // namespace matnn::potentials::nequip
