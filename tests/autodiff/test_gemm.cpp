// float32 matmul/linear on both GEMM backends against a float64 reference.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <array>
#include <cmath>

#include "autodiff/ops.hpp"

namespace {

using namespace matnn::ad;

// max |a - ref| / max |ref|
double relative_error(const Tensor& a, const Tensor& ref) {
  const std::vector<double> x = a.to_vector(), r = ref.to_vector();
  double num = 0, den = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    num = std::max(num, std::abs(x[i] - r[i]));
    den = std::max(den, std::abs(r[i]));
  }
  return den > 0 ? num / den : num;
}

class GemmBackends : public ::testing::TestWithParam<GemmBackend> {
 protected:
  void SetUp() override {
    saved_ = gemm_backend();
    set_gemm_backend(GetParam());
  }
  void TearDown() override { set_gemm_backend(saved_); }
  GemmBackend saved_{};
  std::mt19937_64 rng{11};
};

TEST_P(GemmBackends, MatmulMatchesFloat64Reference) {
  for (const auto& [m, k, n] : std::vector<std::array<int64_t, 3>>{{37, 53, 29}, {200, 300, 150}, {1, 64, 1}, {64, 1, 8}})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        SCOPED_TRACE(fmt::format("{}x{}x{} ta={} tb={}", m, k, n, ta, tb));
        const Tensor a = randn(ta ? Shape{k, m} : Shape{m, k}, rng, DType::f64);
        const Tensor b = randn(tb ? Shape{n, k} : Shape{k, n}, rng, DType::f64);
        const Tensor ref = matmul(a, b, ta, tb);
        const Tensor c = matmul(to(a, DType::f32), to(b, DType::f32), ta, tb);
        EXPECT_EQ(c.dtype(), DType::f32);
        EXPECT_EQ(c.shape(), (Shape{m, n}));
        EXPECT_LT(relative_error(c, ref), 1e-5);
      }
}

TEST_P(GemmBackends, LinearAndItsGradientsMatchFloat64Reference) {
  const Tensor x = randn({300, 96}, rng, DType::f64);
  const Tensor w = randn({96, 80}, rng, DType::f64).set_requires_grad(true);
  const Tensor b = randn({80}, rng, DType::f64).set_requires_grad(true);
  const Tensor w32 = to(w, DType::f32).detach().set_requires_grad(true);
  const Tensor b32 = to(b, DType::f32).detach().set_requires_grad(true);
  const Tensor g = randn({300, 80}, rng, DType::f64);
  const Tensor ref = linear(x, w, b);
  const Tensor out = linear(to(x, DType::f32), w32, b32);
  EXPECT_LT(relative_error(out, ref), 1e-5);
  EXPECT_LT(relative_error(linear(to(x, DType::f32), w32), linear(x, w)), 1e-5);
  const std::vector<Tensor> gr = grad({ref}, {w, b}, {g});
  const std::vector<Tensor> g32 = grad({out}, {w32, b32}, {to(g, DType::f32)});
  EXPECT_LT(relative_error(g32[0], gr[0]), 1e-5);
  EXPECT_LT(relative_error(g32[1], gr[1]), 1e-5);
}

TEST_P(GemmBackends, EmptyInnerDimensionGivesZerosOrBias) {
  const Tensor x = zeros({4, 0}, DType::f32), w = zeros({0, 3}, DType::f32);
  EXPECT_EQ(matmul(x, w).to_vector(), std::vector<double>(12, 0.0));
  const Tensor b = from_vector(std::vector<float>{1, 2, 3}, {3});
  EXPECT_EQ(linear(x, w, b).to_vector()[5], 3.0);
  EXPECT_EQ(matmul(zeros({0, 5}, DType::f32), zeros({5, 2}, DType::f32)).shape(), (Shape{0, 2}));
}

INSTANTIATE_TEST_SUITE_P(Backends, GemmBackends, ::testing::Values(GemmBackend::onednn, GemmBackend::eigen),
                         [](const auto& info) { return std::string(gemm_backend_name(info.param)); });

TEST(Gemm, BackendsAgreeOnFloat32) {
  std::mt19937_64 rng(5);
  const Tensor a = randn({129, 65}, rng), b = randn({65, 257}, rng);
  const GemmBackend saved = gemm_backend();
  set_gemm_backend(GemmBackend::onednn);
  const Tensor c1 = matmul(a, b);
  set_gemm_backend(GemmBackend::eigen);
  EXPECT_EQ(gemm_backend(), GemmBackend::eigen);
  const Tensor c2 = matmul(a, b);
  set_gemm_backend(saved);
  EXPECT_LT(relative_error(c1, c2), 1e-5);
}

}  // namespace
