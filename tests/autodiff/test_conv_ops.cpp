// Convolution and pooling: values against direct loops written here, derivatives of first and
// second order against finite differences (float64), and oneDNN's float32 primitives against
// the plain path for the geometries the spectrum and image models use.
#include <gtest/gtest.h>

#include <cmath>

#include "autodiff/gemm.hpp"
#include "gradcheck.hpp"
#include "matnn/error.hpp"

namespace {

using namespace matnn::ad;
using matnn::ad::testing::gradcheck;
using matnn::ad::testing::input_normal;
using Ts = std::vector<Tensor>;

class ConvOps : public ::testing::Test {
 protected:
  std::mt19937_64 rng{7};
  void TearDown() override { set_gemm_backend(GemmBackend::onednn); }
};

/// A 2-D geometry given as (h, w) pairs; 1-D cases use h = 1.
struct Case {
  const char* name;
  Shape x, w;
  ConvOptions options;
};

std::vector<Case> conv_cases() {
  return {
      {"1d", {2, 3, 11}, {4, 3, 3}, {}},
      {"1d stride 2 padding 2", {2, 2, 12}, {3, 2, 5}, {{2}, {2}, {}}},
      {"1d dilation 3 padding 1", {1, 2, 13}, {2, 2, 3}, {{}, {1}, {3}}},
      {"2d", {2, 2, 5, 6}, {3, 2, 3, 3}, {}},
      {"2d stride (2, 1) padding (1, 2)", {1, 3, 7, 5}, {2, 3, 3, 2}, {{2, 1}, {1, 2}, {}}},
      {"2d dilation 2 stride 2 padding 2", {2, 1, 9, 8}, {2, 1, 3, 3}, {{2}, {2}, {2}}},
  };
}

/// Direct evaluation of the definition: out[n][o][p][q] = sum_c,i,j w[o][c][i][j] x[n][c][..][..].
std::vector<double> direct_conv(const Tensor& x4, const Tensor& w4, const ConvOptions& o, Shape& out_shape) {
  const Shape& xs = x4.shape();
  const Shape& ws = w4.shape();
  const bool one_d = xs.size() == 3;
  const int64_t N = xs[0], C = xs[1], H = one_d ? 1 : xs[2], W = xs.back();
  const int64_t O = ws[0], KH = one_d ? 1 : ws[2], KW = ws.back();
  auto pick = [&](const std::vector<int64_t>& v, int axis, int64_t fallback) -> int64_t {
    if ((one_d && axis == 0) || v.empty()) return fallback;  // a 1-D problem has height 1
    return v.size() == 1 ? v[0] : v[static_cast<std::size_t>(axis)];
  };
  const int64_t sh = pick(o.stride, 0, 1), sw = pick(o.stride, 1, 1);
  const int64_t ph = pick(o.padding, 0, 0), pw = pick(o.padding, 1, 0);
  const int64_t dh = pick(o.dilation, 0, 1), dw = pick(o.dilation, 1, 1);
  const int64_t OH = (H + 2 * ph - dh * (KH - 1) - 1) / sh + 1, OW = (W + 2 * pw - dw * (KW - 1) - 1) / sw + 1;
  out_shape = one_d ? Shape{N, O, OW} : Shape{N, O, OH, OW};
  const std::vector<double> xv = x4.to_vector(), wv = w4.to_vector();
  std::vector<double> out(static_cast<std::size_t>(N * O * OH * OW), 0.0);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t oc = 0; oc < O; ++oc)
      for (int64_t p = 0; p < OH; ++p)
        for (int64_t q = 0; q < OW; ++q) {
          double acc = 0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < KH; ++i)
              for (int64_t j = 0; j < KW; ++j) {
                const int64_t h = p * sh - ph + i * dh, w = q * sw - pw + j * dw;
                if (h < 0 || h >= H || w < 0 || w >= W) continue;
                acc += wv[static_cast<std::size_t>(((oc * C + c) * KH + i) * KW + j)] *
                       xv[static_cast<std::size_t>(((n * C + c) * H + h) * W + w)];
              }
          out[static_cast<std::size_t>(((n * O + oc) * OH + p) * OW + q)] = acc;
        }
  return out;
}

TEST_F(ConvOps, ValuesMatchTheDefinition) {
  for (const Case& k : conv_cases()) {
    SCOPED_TRACE(k.name);
    const Tensor x = input_normal(k.x, rng), w = input_normal(k.w, rng), b = input_normal({k.w[0]}, rng);
    Shape expected_shape;
    const std::vector<double> ref = direct_conv(x, w, k.options, expected_shape);
    const Tensor y = conv(x, w, b, k.options);
    ASSERT_EQ(y.shape(), expected_shape);
    const std::vector<double> got = y.to_vector();
    const int64_t plane = y.numel() / (y.dim(0) * y.dim(1));
    for (std::size_t i = 0; i < got.size(); ++i) {
      const double bias = b.to_vector()[static_cast<std::size_t>((static_cast<int64_t>(i) / plane) % y.dim(1))];
      EXPECT_NEAR(got[i], ref[i] + bias, 1e-12) << "element " << i;
    }
  }
}

TEST_F(ConvOps, FirstAndSecondDerivativesMatchFiniteDifferences) {
  for (const Case& k : conv_cases()) {
    SCOPED_TRACE(k.name);
    const ConvOptions o = k.options;
    // tanh makes the second derivative in x and w (and their mixed term) non-zero.
    EXPECT_TRUE(gradcheck([o](const Ts& t) { return tanh(conv(t[0], t[1], t[2], o)); },
                          {input_normal(k.x, rng), input_normal(k.w, rng), input_normal({k.w[0]}, rng)}));
  }
}

TEST_F(ConvOps, AdjointsAreDifferentiableToo) {
  for (const Case& k : conv_cases()) {
    SCOPED_TRACE(k.name);
    const ConvOptions o = k.options;
    const Shape y_shape = conv(input_normal(k.x, rng), input_normal(k.w, rng), Tensor(), o).shape();
    const Shape xs = k.x, ws = k.w;
    EXPECT_TRUE(gradcheck([o, xs](const Ts& t) { return tanh(conv_input_grad(t[0], t[1], xs, o)); },
                          {input_normal(y_shape, rng), input_normal(k.w, rng)}));
    EXPECT_TRUE(gradcheck([o, ws](const Ts& t) { return tanh(conv_weight_grad(t[0], t[1], ws, o)); },
                          {input_normal(k.x, rng), input_normal(y_shape, rng)}));
  }
}

/// float32 on `backend` against float64 for the forward value and both gradients.
void expect_float32_matches_float64(const Case& k, GemmBackend backend, std::mt19937_64& rng) {
  set_gemm_backend(backend);
  const Tensor x = input_normal(k.x, rng), w = input_normal(k.w, rng);
  const Tensor y = conv(x, w, Tensor(), k.options);
  const Tensor gy = input_normal(y.shape(), rng);
  const Ts g64 = grad({y}, {x, w}, {gy});
  const Tensor x32 = to(x.detach(), DType::f32).set_requires_grad(true);
  const Tensor w32 = to(w.detach(), DType::f32).set_requires_grad(true);
  const Tensor y32 = conv(x32, w32, Tensor(), k.options);
  const Ts g32 = grad({y32}, {x32, w32}, {to(gy.detach(), DType::f32)});
  const std::vector<std::pair<Tensor, Tensor>> pairs{{y, y32}, {g64[0], g32[0]}, {g64[1], g32[1]}};
  const char* what[] = {"forward", "backward data", "backward weights"};
  for (std::size_t p = 0; p < pairs.size(); ++p) {
    const std::vector<double> a = pairs[p].first.to_vector(), b = pairs[p].second.to_vector();
    ASSERT_EQ(a.size(), b.size());
    // Sums of many terms: float32 rounding scales with the largest result, not each one.
    double scale = 1;
    for (double v : a) scale = std::max(scale, std::abs(v));
    for (std::size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(b[i], a[i], 2e-6 * scale) << what[p] << " element " << i;
  }
}

TEST_F(ConvOps, OneDnnAndThePlainPathAgreeInFloat32) {
  std::vector<Case> cases = conv_cases();
  // Shapes of the spectrum and image models: many channels, long axes, odd sizes.
  cases.push_back({"spectrum layer", {3, 16, 301}, {32, 16, 7}, {{2}, {3}, {}}});
  cases.push_back({"image layer", {2, 8, 33, 30}, {16, 8, 3, 3}, {{1}, {1}, {}}});
  for (const Case& k : cases)
    for (GemmBackend backend : {GemmBackend::onednn, GemmBackend::eigen}) {
      SCOPED_TRACE(std::string(k.name) + " on " + gemm_backend_name(backend));
      expect_float32_matches_float64(k, backend, rng);
    }
}

TEST_F(ConvOps, BadShapesAndOptionsAreRefusedWithTheirSizes) {
  const Tensor x = input_normal({2, 3, 10}, rng);
  auto message = [](auto&& call) {
    try {
      call();
    } catch (const matnn::Error& e) {
      EXPECT_EQ(e.status(), MATNN_ERROR_INVALID_ARGUMENT);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([&] { conv(x, input_normal({4, 2, 3}, rng)); }).find("input channels"), std::string::npos);
  EXPECT_NE(message([&] { conv(x, input_normal({4, 3, 11}, rng)); }).find("does not fit"), std::string::npos);
  EXPECT_NE(message([&] { conv(x, input_normal({4, 3, 3}, rng), Tensor(), {{1, 2}, {}, {}}); }).find("stride"),
            std::string::npos);
  EXPECT_NE(message([&] { conv(x, input_normal({4, 3, 3}, rng), Tensor(), {{0}, {}, {}}); }).find("below 1"),
            std::string::npos);
  EXPECT_NE(message([&] { conv(x, input_normal({4, 3, 3}, rng), input_normal({3}, rng)); }).find("bias"),
            std::string::npos);
  EXPECT_NE(message([&] { conv(input_normal({3, 10}, rng), input_normal({4, 3, 3}, rng)); }).find("(N, C, W)"),
            std::string::npos);
  EXPECT_NE(message([&] { max_pool(x, {{2}, {}, {2}}); }).find("half the window"), std::string::npos);
  EXPECT_NE(message([&] { avg_pool(x, {}); }).find("window"), std::string::npos);
}

// ---- pooling -------------------------------------------------------------------------------------

/// Direct pooling of one (n, c) plane of width W and height H.
std::vector<double> direct_pool(const Tensor& x, const PoolOptions& o, bool max) {
  const Shape& s = x.shape();
  const bool one_d = s.size() == 3;
  const int64_t planes = s[0] * s[1], H = one_d ? 1 : s[2], W = s.back();
  const int64_t kh = one_d ? 1 : o.kernel.front(), kw = o.kernel.back();
  const std::vector<int64_t> stride = o.stride.empty() ? o.kernel : o.stride;
  const int64_t sh = one_d ? 1 : stride.front(), sw = stride.back();
  const int64_t ph = one_d || o.padding.empty() ? 0 : o.padding.front(), pw = o.padding.empty() ? 0 : o.padding.back();
  const int64_t OH = (H + 2 * ph - kh) / sh + 1, OW = (W + 2 * pw - kw) / sw + 1;
  const std::vector<double> v = x.to_vector();
  std::vector<double> out;
  for (int64_t p = 0; p < planes; ++p)
    for (int64_t a = 0; a < OH; ++a)
      for (int64_t b = 0; b < OW; ++b) {
        double best = -INFINITY, total = 0;
        int count = 0;
        for (int64_t i = 0; i < kh; ++i)
          for (int64_t j = 0; j < kw; ++j) {
            const int64_t h = a * sh - ph + i, w = b * sw - pw + j;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const double e = v[static_cast<std::size_t>((p * H + h) * W + w)];
            best = std::max(best, e);
            total += e;
            ++count;
          }
        out.push_back(max ? best : total / count);
      }
  return out;
}

TEST_F(ConvOps, PoolingValuesAndDerivatives) {
  const std::vector<std::pair<Shape, PoolOptions>> cases{
      {{2, 3, 12}, {{2}, {}, {}}},
      {{2, 2, 13}, {{3}, {2}, {1}}},
      {{1, 2, 7, 6}, {{2}, {}, {}}},
      {{2, 1, 7, 9}, {{3, 2}, {2, 1}, {1, 1}}},
  };
  for (const auto& [shape, o] : cases) {
    SCOPED_TRACE("x " + shape_str(shape));
    const Tensor x = input_normal(shape, rng);
    for (bool max : {true, false}) {
      const std::vector<double> ref = direct_pool(x, o, max), got = (max ? max_pool(x, o) : avg_pool(x, o)).to_vector();
      ASSERT_EQ(got.size(), ref.size());
      for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], ref[i], 1e-14) << (max ? "max " : "avg ") << i;
    }
    const PoolOptions po = o;
    EXPECT_TRUE(gradcheck([po](const Ts& t) { return tanh(max_pool(t[0], po)); }, {input_normal(shape, rng)}));
    EXPECT_TRUE(gradcheck([po](const Ts& t) { return tanh(avg_pool(t[0], po)); }, {input_normal(shape, rng)}));
    const Shape pooled = avg_pool(x, o).shape();
    EXPECT_TRUE(gradcheck([po, shape](const Ts& t) { return tanh(avg_pool_adjoint(t[0], shape, po)); },
                          {input_normal(pooled, rng)}));
    // float32: oneDNN's pooling against the plain loops.
    const Tensor x32 = to(x.detach(), DType::f32);
    set_gemm_backend(GemmBackend::eigen);
    const std::vector<double> plain = avg_pool(x32, o).to_vector();
    const std::vector<double> plain_adj = avg_pool_adjoint(avg_pool(x32, o), shape, o).to_vector();
    set_gemm_backend(GemmBackend::onednn);
    const std::vector<double> dnn = avg_pool(x32, o).to_vector();
    const std::vector<double> dnn_adj = avg_pool_adjoint(avg_pool(x32, o), shape, o).to_vector();
    for (std::size_t i = 0; i < plain.size(); ++i) EXPECT_NEAR(dnn[i], plain[i], 1e-6);
    for (std::size_t i = 0; i < plain_adj.size(); ++i) EXPECT_NEAR(dnn_adj[i], plain_adj[i], 1e-6);
  }
}

TEST_F(ConvOps, GlobalPoolsReduceEveryPosition) {
  const Tensor x = from_vector(std::vector<double>{1, 5, 3, -2, -7, 0, 4, 4}, {2, 2, 2});
  EXPECT_EQ(global_avg_pool(x).to_vector(), (std::vector<double>{3, 0.5, -3.5, 4}));
  EXPECT_EQ(global_max_pool(x).to_vector(), (std::vector<double>{5, 3, 0, 4}));
  EXPECT_EQ(global_max_pool(input_normal({2, 3, 4, 5}, rng)).shape(), (Shape{2, 3}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return tanh(global_avg_pool(t[0])); }, {input_normal({2, 3, 3, 4}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return tanh(global_max_pool(t[0])); }, {input_normal({2, 3, 7}, rng)}));
}

}  // namespace
