// Every differentiable op against finite differences, to first and second order (float64).
#include <gtest/gtest.h>

#include "gradcheck.hpp"

namespace {

using namespace matnn::ad;
using matnn::ad::testing::gradcheck;
using matnn::ad::testing::input_away_from_zero;
using matnn::ad::testing::input_normal;
using matnn::ad::testing::input_uniform;
using Ts = std::vector<Tensor>;

class OpGradcheck : public ::testing::Test {
 protected:
  std::mt19937_64 rng{42};
};

// ---- the checker itself ------------------------------------------------------------------------

// exp with a hand-written backward: `detached` makes the backward use a constant copy of the
// output (first derivative right, second derivative wrong); `scale` breaks the first derivative.
Tensor custom_exp(const Tensor& x, bool detached, double scale) {
  Tensor out = exp(x.detach());
  return record(out, "custom_exp", {x}, [=](const BackwardContext& c) {
    const Tensor y = detached ? c.output.detach() : c.output;
    return std::vector<Tensor>{mul(mul(c.grad_output, y), scale)};
  });
}

TEST_F(OpGradcheck, CheckerDetectsWrongFirstAndSecondDerivatives) {
  const Tensor x = input_normal({3}, rng);
  EXPECT_TRUE(gradcheck([](const Ts& t) { return custom_exp(t[0], false, 1.0); }, {x}));
  EXPECT_FALSE(matnn::ad::testing::check_first_order([](const Ts& t) { return custom_exp(t[0], false, 1.01); }, {x}));
  EXPECT_TRUE(matnn::ad::testing::check_first_order([](const Ts& t) { return custom_exp(t[0], true, 1.0); }, {x}));
  EXPECT_FALSE(matnn::ad::testing::check_second_order([](const Ts& t) { return custom_exp(t[0], true, 1.0); }, {x}));
}

// ---- elementwise -----------------------------------------------------------------------------

TEST_F(OpGradcheck, SmoothUnaryOps) {
  const Shape s{3, 4};
  EXPECT_TRUE(gradcheck([](const Ts& t) { return exp(t[0]); }, {input_normal(s, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return log(t[0]); }, {input_uniform(s, rng, 0.5, 2.0)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return sqrt(t[0]); }, {input_uniform(s, rng, 0.5, 2.0)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(t[0]); }, {input_normal(s, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return tanh(t[0]); }, {input_normal(s, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return sigmoid(t[0]); }, {input_normal(s, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return silu(t[0]); }, {input_normal(s, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return gelu(t[0]); }, {input_normal(s, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return erf(t[0]); }, {input_normal(s, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return cos(t[0]); }, {input_normal(s, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return sin(t[0]); }, {input_normal(s, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return neg(t[0]); }, {input_normal(s, rng)}));
}

TEST_F(OpGradcheck, SiluToThirdOrder) {
  // silu's first and second derivatives are ops of their own: check them through the gradient.
  const auto silu_gradient = [](const Ts& t) { return grad({sum(silu(t[0]))}, {t[0]}, {}, true)[0]; };
  EXPECT_TRUE(gradcheck(silu_gradient, {input_normal({3, 4}, rng)}));
  EXPECT_TRUE(gradcheck(silu_gradient, {input_uniform({2, 3}, rng, -12.0, 12.0)}));
}

TEST_F(OpGradcheck, SoftplusIncludingLargeArguments) {
  EXPECT_TRUE(gradcheck([](const Ts& t) { return softplus(t[0]); }, {input_normal({3, 4}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return softplus(mul(t[0], 30.0)); }, {input_normal({2, 3}, rng)}));
  Tensor big = from_vector(std::vector<double>{-800.0, 800.0}, {2});
  const std::vector<double> v = softplus(big).to_vector();
  EXPECT_EQ(v[0], 0.0);
  EXPECT_EQ(v[1], 800.0);
}

TEST_F(OpGradcheck, IntegerPowersAndPolynomial) {
  for (int n : {0, 1, 2, 3, 5, -1, -2})
    EXPECT_TRUE(gradcheck([n](const Ts& t) { return pow(t[0], n); }, {input_away_from_zero({3, 2}, rng, 0.5, 1.5)}))
        << "n = " << n;
  const std::vector<double> c{0.5, -1.0, 0.25, 0.3, -0.1};
  EXPECT_TRUE(gradcheck([&](const Ts& t) { return polynomial(t[0], c); }, {input_normal({4, 3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return polynomial(t[0], {2.0}); }, {input_normal({2}, rng)}));
  // Cosine-cutoff-like smooth envelope 1 - 10 x^3 + 15 x^4 - 6 x^5.
  EXPECT_TRUE(gradcheck([](const Ts& t) { return polynomial(t[0], {1, 0, 0, -10, 15, -6}); },
                        {input_uniform({5}, rng, 0.0, 1.0)}));
}

TEST_F(OpGradcheck, KinkedOpsAwayFromZero) {
  // Composed with square so the second derivative of the kinked op's mask is exercised.
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(relu(t[0])); }, {input_away_from_zero({4, 3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(abs(t[0])); }, {input_away_from_zero({4, 3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return relu(t[0]); }, {input_away_from_zero({4, 3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return abs(t[0]); }, {input_away_from_zero({4, 3}, rng)}));
}

// ---- broadcasting binary -------------------------------------------------------------------------

TEST_F(OpGradcheck, BroadcastingBinaryOps) {
  const std::vector<std::pair<Shape, Shape>> cases{
      {{3, 4}, {3, 4}}, {{3, 4}, {4}}, {{3, 1}, {1, 4}}, {{2, 3, 4}, {3, 1}},
      {{5}, {}},        {{}, {2, 3}},  {{2, 1, 3, 1}, {4, 1, 2}}};
  for (const auto& [sa, sb] : cases) {
    SCOPED_TRACE(shape_str(sa) + " with " + shape_str(sb));
    EXPECT_TRUE(gradcheck([](const Ts& t) { return add(t[0], t[1]); }, {input_normal(sa, rng), input_normal(sb, rng)}));
    EXPECT_TRUE(gradcheck([](const Ts& t) { return sub(t[0], t[1]); }, {input_normal(sa, rng), input_normal(sb, rng)}));
    EXPECT_TRUE(gradcheck([](const Ts& t) { return mul(t[0], t[1]); }, {input_normal(sa, rng), input_normal(sb, rng)}));
    EXPECT_TRUE(gradcheck([](const Ts& t) { return div(t[0], t[1]); },
                          {input_normal(sa, rng), input_uniform(sb, rng, 0.5, 2.0)}));
    // Nonlinear in both operands, so the broadcast backward itself gets differentiated.
    EXPECT_TRUE(gradcheck([](const Ts& t) { return square(add(t[0], t[1])); },
                          {input_normal(sa, rng), input_normal(sb, rng)}));
  }
  EXPECT_EQ(add(zeros({2, 1, 3, 1}), zeros({4, 1, 2})).shape(), (Shape{2, 4, 3, 2}));
}

TEST_F(OpGradcheck, ScalarVariants) {
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(add(t[0], 2.5)); }, {input_normal({3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(sub(t[0], 1.5)); }, {input_normal({3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(mul(t[0], -3.0)); }, {input_normal({3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(div(t[0], 4.0)); }, {input_normal({3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(rsub(1.0, t[0])); }, {input_normal({3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return rdiv(2.0, t[0]); }, {input_uniform({3}, rng, 0.5, 2.0)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return (2.0 - t[0] * t[1]) / 3.0 + 1.0; },
                        {input_normal({2, 2}, rng), input_normal({2}, rng)}));
}

// ---- reductions -----------------------------------------------------------------------------------

TEST_F(OpGradcheck, Reductions) {
  const Shape s{3, 4, 2};
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(sum(t[0])); }, {input_normal(s, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(mean(t[0])); }, {input_normal(s, rng)}));
  for (int64_t axis : {0, 1, 2, -1})
    for (bool keep : {false, true}) {
      SCOPED_TRACE("axis " + std::to_string(axis) + (keep ? " keepdim" : ""));
      EXPECT_TRUE(gradcheck([=](const Ts& t) { return square(sum(t[0], axis, keep)); }, {input_normal(s, rng)}));
      EXPECT_TRUE(gradcheck([=](const Ts& t) { return square(mean(t[0], axis, keep)); }, {input_normal(s, rng)}));
    }
  EXPECT_EQ(sum(zeros(s), 1, false).shape(), (Shape{3, 2}));
  EXPECT_EQ(sum(zeros(s), 1, true).shape(), (Shape{3, 1, 2}));
}

TEST_F(OpGradcheck, SumToAndBroadcastTo) {
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(sum_to(t[0], {4})); }, {input_normal({3, 4}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(sum_to(t[0], {3, 1})); }, {input_normal({2, 3, 4}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(sum_to(t[0], {})); }, {input_normal({2, 3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(broadcast_to(t[0], {3, 4})); }, {input_normal({4}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(expand(t[0], {2, 3, 4})); }, {input_normal({3, 1}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(broadcast_to(t[0], {2, 2})); }, {input_normal({}, rng)}));
}

// ---- index and shape ops --------------------------------------------------------------------------

TEST_F(OpGradcheck, GatherAndScatterWithRepeatedIndices) {
  const Index idx = make_index({0, 2, 2, 1, 0, 3, 2});
  EXPECT_TRUE(gradcheck([&](const Ts& t) { return square(gather_rows(t[0], idx)); }, {input_normal({4, 3}, rng)}));
  EXPECT_TRUE(gradcheck([&](const Ts& t) { return tanh(gather_rows(t[0], idx)); }, {input_normal({4, 2, 2}, rng)}));
  EXPECT_TRUE(gradcheck([&](const Ts& t) { return square(gather_rows(t[0], idx)); }, {input_normal({4}, rng)}));
  // Row 4 of the output receives nothing; rows 0 and 2 receive several rows.
  EXPECT_TRUE(gradcheck([&](const Ts& t) { return square(scatter_add_rows(t[0], idx, 5)); },
                        {input_normal({7, 3}, rng)}));
  EXPECT_TRUE(gradcheck([&](const Ts& t) { return square(scatter_add_rows(t[0], idx, 4)); },
                        {input_normal({7, 2, 2}, rng)}));
  const Tensor out = scatter_add_rows(ones({7, 2}, DType::f64), idx, 5);
  EXPECT_EQ(out.to_vector(), (std::vector<double>{2, 2, 1, 1, 3, 3, 1, 1, 0, 0}));
}

TEST_F(OpGradcheck, ConcatAndSlice) {
  for (int64_t axis : {0, 1, -1}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const Shape sa = axis == 0 ? Shape{2, 3} : Shape{3, 2};
    const Shape sb = axis == 0 ? Shape{1, 3} : Shape{3, 1};
    const Shape sc = axis == 0 ? Shape{3, 3} : Shape{3, 4};
    EXPECT_TRUE(gradcheck([=](const Ts& t) { return square(concat({t[0], t[1], t[2]}, axis)); },
                          {input_normal(sa, rng), input_normal(sb, rng), input_normal(sc, rng)}));
  }
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(slice(t[0], 1, 1, 3)); }, {input_normal({3, 4}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(slice(t[0], 0, 0, 2)); }, {input_normal({3, 4}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(slice(t[0], -1, 2, 4)); }, {input_normal({2, 3, 4}, rng)}));
  // Reassembling slices gives the input back.
  const Tensor x = input_normal({3, 5}, rng);
  EXPECT_EQ(concat({slice(x, 1, 0, 2), slice(x, 1, 2, 5)}, 1).to_vector(), x.to_vector());
}

TEST_F(OpGradcheck, ReshapeAndTranspose) {
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(reshape(t[0], {4, -1})); }, {input_normal({2, 3, 2}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return mul(transpose(t[0]), t[1]); },
                        {input_normal({3, 2}, rng), input_normal({2, 3}, rng)}));
  const Tensor x = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(transpose(x).to_vector(), (std::vector<double>{1, 4, 2, 5, 3, 6}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(transpose(t[0])); }, {input_normal({3, 2, 4}, rng)}));
  const Tensor batch = from_vector(std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, {2, 2, 3});
  EXPECT_EQ(transpose(batch).shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(transpose(batch).to_vector(), (std::vector<double>{1, 4, 2, 5, 3, 6, 7, 10, 8, 11, 9, 12}));
  EXPECT_EQ(reshape(x, {-1}).shape(), (Shape{6}));
}

// ---- linear algebra ---------------------------------------------------------------------------------

TEST_F(OpGradcheck, MatmulAllTransposes) {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      SCOPED_TRACE(std::string("trans_a ") + (ta ? "1" : "0") + " trans_b " + (tb ? "1" : "0"));
      const Shape sa = ta ? Shape{4, 3} : Shape{3, 4};
      const Shape sb = tb ? Shape{2, 4} : Shape{4, 2};
      EXPECT_TRUE(gradcheck([=](const Ts& t) { return matmul(t[0], t[1], ta, tb); },
                            {input_normal(sa, rng), input_normal(sb, rng)}));
      EXPECT_TRUE(gradcheck([=](const Ts& t) { return tanh(matmul(t[0], t[1], ta, tb)); },
                            {input_normal(sa, rng), input_normal(sb, rng)}));
    }
}

TEST_F(OpGradcheck, LinearWithAndWithoutBias) {
  EXPECT_TRUE(gradcheck([](const Ts& t) { return tanh(linear(t[0], t[1], t[2])); },
                        {input_normal({5, 3}, rng), input_normal({3, 4}, rng), input_normal({4}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return tanh(linear(t[0], t[1])); },
                        {input_normal({5, 3}, rng), input_normal({3, 4}, rng)}));
  // Matches matmul + broadcast add.
  const Tensor x = input_normal({4, 3}, rng), w = input_normal({3, 2}, rng), b = input_normal({2}, rng);
  const std::vector<double> a = linear(x, w, b).to_vector(), ref = add(matmul(x, w), b).to_vector();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], ref[i], 1e-12);
}

TEST_F(OpGradcheck, NormAlongAxes) {
  EXPECT_TRUE(gradcheck([](const Ts& t) { return norm(t[0]); }, {input_normal({5, 3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return exp(norm(t[0], -1, true)); }, {input_normal({5, 3}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return norm(t[0], 0); }, {input_normal({3, 4}, rng)}));
  EXPECT_TRUE(gradcheck([](const Ts& t) { return norm(t[0], 1); }, {input_normal({2, 3, 2}, rng)}));
}

TEST_F(OpGradcheck, NormOfZeroVectorHasZeroGradient) {
  const Tensor x = from_vector(std::vector<double>{0, 0, 0, 3, 4, 0}, {2, 3}).set_requires_grad(true);
  const Tensor r = norm(x);
  EXPECT_EQ(r.to_vector(), (std::vector<double>{0, 5}));
  const Tensor g = grad({sum(r)}, {x}, {}, true)[0];
  const std::vector<double> gv = g.to_vector(), expected{0, 0, 0, 0.6, 0.8, 0};
  for (std::size_t i = 0; i < gv.size(); ++i) EXPECT_NEAR(gv[i], expected[i], 1e-15);
  for (double h : grad({sum(square(g))}, {x}, {}, false, true)[0].to_vector()) EXPECT_TRUE(std::isfinite(h));
}

TEST_F(OpGradcheck, DtypeCast) {
  const Tensor x = input_normal({3}, rng);
  const Tensor y = to(x, DType::f32);
  EXPECT_EQ(y.dtype(), DType::f32);
  const Tensor g = grad({sum(mul(y, y))}, {x})[0];
  EXPECT_EQ(g.dtype(), DType::f64);
  const std::vector<double> xv = x.to_vector(), gv = g.to_vector();
  for (std::size_t i = 0; i < xv.size(); ++i) EXPECT_NEAR(gv[i], 2 * xv[i], 1e-6);
  EXPECT_TRUE(gradcheck([](const Ts& t) { return square(to(t[0], DType::f64)); }, {x}));
}

}  // namespace
