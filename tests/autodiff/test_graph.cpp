// Graph recording, grad()/backward() semantics, factories and error reporting.
#include <cmath>

#include <gtest/gtest.h>

#include "autodiff/buffer_pool.hpp"
#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace {

using namespace matnn::ad;

Tensor leaf(const std::vector<double>& v, const Shape& s) { return from_vector(v, s).set_requires_grad(true); }

void expect_near(const std::vector<double>& a, const std::vector<double>& b, double tol = 1e-12) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], tol) << "element " << i;
}

// Runs f and returns the status of the matnn::Error it throws (MATNN_SUCCESS if none).
template <typename F>
matnn_status status_of(F f, std::string* message = nullptr) {
  try {
    f();
  } catch (const matnn::Error& e) {
    if (message) *message = e.what();
    return e.status();
  }
  return MATNN_SUCCESS;
}

TEST(Graph, NoGradGuardRecordsNothing) {
  const Tensor x = leaf({1, 2, 3}, {3});
  EXPECT_TRUE(grad_mode_enabled());
  {
    NoGradGuard no_grad;
    EXPECT_FALSE(grad_mode_enabled());
    const Tensor y = tanh(mul(x, x));
    EXPECT_FALSE(y.requires_grad());
    EXPECT_EQ(y.grad_fn(), nullptr);
    {
      NoGradGuard nested;
      EXPECT_FALSE(grad_mode_enabled());
    }
    EXPECT_FALSE(grad_mode_enabled());
    {
      GradModeGuard enable(true);
      EXPECT_TRUE(mul(x, x).requires_grad());
    }
  }
  EXPECT_TRUE(grad_mode_enabled());
  const Tensor y = mul(x, x);
  EXPECT_TRUE(y.requires_grad());
  ASSERT_NE(y.grad_fn(), nullptr);
  EXPECT_STREQ(y.grad_fn()->name, "mul");
  // Constants do not record either.
  EXPECT_FALSE(mul(x.detach(), 2.0).requires_grad());
}

// Whether a node holds the values of its input k or only a link to it (graph.hpp, Reads).
bool holds_values(const Tensor& out, std::size_t k) { return out.grad_fn()->inputs.at(k).impl()->storage != nullptr; }

TEST(Graph, NodesKeepOnlyTheValuesTheirBackwardReads) {
  const Tensor x = leaf({0.1, 0.7, -1.3}, {3});
  const Tensor h = sin(x);            // its backward reads x, not h
  const Tensor y = mul(h, 3.0);       // reads nothing but shapes: h is a link
  const Tensor e = exp(x);            // its backward reads its output...
  const Tensor z = add(e, 1.0);       // ...so z keeps e's values though it needs only shapes
  const Tensor u = mul(h, h);         // each factor is read for the other's gradient
  EXPECT_FALSE(holds_values(y, 0));
  EXPECT_TRUE(holds_values(z, 0));
  EXPECT_TRUE(holds_values(u, 0));
  EXPECT_TRUE(holds_values(h, 0));    // a leaf stays whole
  std::string message;
  EXPECT_EQ(status_of([&] { (void)y.grad_fn()->inputs[0].to_vector(); }, &message), MATNN_ERROR_INTERNAL);
  EXPECT_NE(message.find("released"), std::string::npos) << message;

  // h reaches the loss through a link (y) and whole (u): one tensor, gradients summed once.
  const Tensor loss = add(add(sum(y), sum(z)), sum(u));
  const std::vector<double> g = grad({loss}, {x})[0].to_vector();
  for (int i = 0; i < 3; ++i) {
    const double xi = x.to_vector()[static_cast<std::size_t>(i)];
    EXPECT_NEAR(g[static_cast<std::size_t>(i)], 3 * std::cos(xi) + std::exp(xi) + 2 * std::sin(xi) * std::cos(xi), 1e-12);
  }
  // Asked for h itself, both paths count: the link is the same tensor as h.
  const std::vector<double> gh = grad({loss}, {h})[0].to_vector();
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(gh[static_cast<std::size_t>(i)], 3 + 2 * h.to_vector()[static_cast<std::size_t>(i)], 1e-12);
  // Differentiated again (create_graph): links carry second derivatives.
  const Tensor first = grad({loss}, {x}, {}, true)[0];
  const std::vector<double> second = grad({sum(first)}, {x})[0].to_vector();
  for (int i = 0; i < 3; ++i) {
    const double xi = x.to_vector()[static_cast<std::size_t>(i)];
    EXPECT_NEAR(second[static_cast<std::size_t>(i)], -3 * std::sin(xi) + std::exp(xi) + 2 * std::cos(2 * xi), 1e-12);
  }
}

TEST(Graph, FrozenParametersAreConstantsAndTheirGradientsKeepNothing) {
  Tensor w = leaf({1.0, -2.0, 0.5, 3.0}, {2, 2});
  w.impl()->parameter = true;  // as nn::Module::register_parameter marks it
  const Tensor x = leaf({0.3, -0.4}, {1, 2});
  {
    FrozenParametersGuard frozen;
    EXPECT_TRUE(parameters_frozen());
    EXPECT_FALSE(w.requires_grad());
    const Tensor h = silu(x);
    const Tensor y = matmul(h, w);
    EXPECT_FALSE(holds_values(y, 0));  // h would serve only dL/dw
    EXPECT_TRUE(holds_values(y, 1));
    EXPECT_EQ(transpose(w).grad_fn(), nullptr);  // parameters alone record nothing
    const std::vector<double> g = grad({sum(y)}, {x})[0].to_vector();
    // d/dx_j sum_k silu(x_j) w_jk = silu'(x_j) (w_j0 + w_j1)
    const auto silu_prime = [](double v) {
      const double s = 1 / (1 + std::exp(-v));
      return s * (1 + v * (1 - s));
    };
    EXPECT_NEAR(g[0], silu_prime(0.3) * (1.0 - 2.0), 1e-12);
    EXPECT_NEAR(g[1], silu_prime(-0.4) * (0.5 + 3.0), 1e-12);
  }
  EXPECT_FALSE(parameters_frozen());
  EXPECT_TRUE(w.requires_grad());
  const Tensor y = matmul(silu(x), w);
  EXPECT_TRUE(holds_values(y, 0));  // now dL/dw may be asked for
  EXPECT_EQ(grad({sum(y)}, {w})[0].numel(), 4);
}

TEST(Graph, TensorUsedSeveralTimesAccumulates) {
  const Tensor x = leaf({0.5, -1.0, 2.0}, {3});
  // y = x*x + x + 3x*x (x enters four times): dy/dx = 8x + 1
  const Tensor y = sum(add(add(mul(x, x), x), mul(mul(x, 3.0), x)));
  expect_near(grad({y}, {x})[0].to_vector(), {5.0, -7.0, 17.0});
  // Diamond: a = exp(x); b = a * a; c = a + b (a used twice downstream).
  const Tensor a = exp(x);
  const Tensor c = sum(add(a, mul(a, a)));
  const std::vector<double> xv = x.to_vector();
  std::vector<double> expected;
  for (double v : xv) expected.push_back(std::exp(v) + 2 * std::exp(2 * v));
  expect_near(grad({c}, {x})[0].to_vector(), expected, 1e-10);
}

TEST(Graph, GradientsOfATensorReadByManyOpsAreSummedInOneBuffer) {
  // x is read by eight products. Without a recorded graph the reverse pass adds each incoming
  // gradient into the sum in place, so at most the sum, one incoming gradient and the upstream
  // gradient (1 MiB each) are alive; a new sum per addition would need a fourth.
  const int64_t n = int64_t{1} << 18;
  const std::size_t bytes = static_cast<std::size_t>(n) * 4;
  Tensor x = full({n}, 1.0, DType::f32).set_requires_grad(true);
  Tensor y;
  for (int k = 1; k <= 8; ++k) y = y.defined() ? add(y, mul(x, static_cast<double>(k))) : mul(x, static_cast<double>(k));
  const Tensor loss = sum(y);
  const std::size_t before = tensor_bytes_in_use();
  reset_peak_tensor_bytes();
  const std::vector<Tensor> g = grad({loss}, {x});
  EXPECT_LE(peak_tensor_bytes() - before, 3 * bytes + 4096);
  const std::vector<double> values = g[0].to_vector();
  for (int64_t i : {int64_t{0}, n - 1}) EXPECT_EQ(values[static_cast<std::size_t>(i)], 36.0);
  // With a recorded graph (double backward), sums are new tensors and the result is the same.
  const std::vector<Tensor> recorded = grad({loss}, {x}, {}, true);
  EXPECT_EQ(recorded[0].to_vector()[0], 36.0);
}

TEST(Graph, BackwardAccumulatesIntoLeavesAndZeroGradClears) {
  std::mt19937_64 rng(7);
  const Tensor x = randn({4, 3}, rng, DType::f64);
  Tensor w = randn({3, 2}, rng, DType::f64).set_requires_grad(true);
  Tensor b = zeros({2}, DType::f64).set_requires_grad(true);
  const Tensor loss = sum(square(linear(x, w, b)));
  EXPECT_FALSE(w.grad().defined());
  backward(loss);
  ASSERT_TRUE(w.grad().defined());
  ASSERT_TRUE(b.grad().defined());
  EXPECT_FALSE(w.grad().requires_grad());
  const std::vector<Tensor> g = grad({loss}, {w, b});
  expect_near(w.grad().to_vector(), g[0].to_vector());
  expect_near(b.grad().to_vector(), g[1].to_vector());
  backward(loss);  // the graph is kept: a second pass adds
  std::vector<double> twice = g[0].to_vector();
  for (double& v : twice) v *= 2;
  expect_near(w.grad().to_vector(), twice);
  zero_grad({w, b});
  EXPECT_FALSE(w.grad().defined());
  EXPECT_FALSE(b.grad().defined());
  // x does not require grad: it never gets a .grad().
  EXPECT_FALSE(x.grad().defined());
}

TEST(Graph, GradOptions) {
  const Tensor x = leaf({1, 2}, {2});
  const Tensor unused = leaf({3}, {1});
  const Tensor y = sum(square(x));
  EXPECT_EQ(status_of([&] { grad({y}, {x, unused}); }), MATNN_ERROR_INVALID_ARGUMENT);
  const std::vector<Tensor> g = grad({y}, {x, unused}, {}, false, true);
  expect_near(g[1].to_vector(), {0.0});
  EXPECT_FALSE(g[0].requires_grad());
  // create_graph: the gradient is differentiable.
  const Tensor gx = grad({y}, {x}, {}, true)[0];
  EXPECT_TRUE(gx.requires_grad());
  expect_near(grad({sum(gx)}, {x})[0].to_vector(), {2.0, 2.0});
  // Gradient w.r.t. an intermediate tensor, and explicit grad_outputs on a non-scalar output.
  const Tensor h = mul(x, 3.0);
  const Tensor z = square(h);
  expect_near(grad({z}, {h}, {from_vector(std::vector<double>{1.0, 0.5}, {2})})[0].to_vector(), {6.0, 6.0});
  // Several outputs: gradients add.
  expect_near(grad({sum(x), sum(mul(x, 2.0))}, {x})[0].to_vector(), {3.0, 3.0});
  // An input that does not require grad is an error.
  EXPECT_EQ(status_of([&] { grad({y}, {x.detach()}); }), MATNN_ERROR_INVALID_ARGUMENT);
  // Non-leaves cannot change requires_grad.
  EXPECT_EQ(status_of([&] { Tensor t = y; t.set_requires_grad(false); }), MATNN_ERROR_INVALID_ARGUMENT);
}

TEST(Graph, FactoriesAndAccessors) {
  std::mt19937_64 r1(3), r2(3);
  EXPECT_EQ(randn({5}, r1, DType::f64).to_vector(), randn({5}, r2, DType::f64).to_vector());
  const Tensor u = rand({1000}, r1, DType::f32, -1.0, 2.0);
  for (double v : u.to_vector()) {
    EXPECT_GE(v, -1.0);
    EXPECT_LT(v, 2.0);
  }
  const Tensor f = full({2, 3}, 1.5, DType::f32);
  EXPECT_EQ(f.numel(), 6);
  EXPECT_EQ(f.dim(-1), 3);
  EXPECT_EQ(f.rank(), 2);
  EXPECT_EQ(f.data<float>()[5], 1.5f);
  EXPECT_EQ(scalar(2.0, DType::f64).item(), 2.0);
  EXPECT_EQ(sum(ones({3, 4}, DType::f32)).item(), 12.0);
  EXPECT_EQ(status_of([&] { f.data<double>(); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { f.item(); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { zeros({1, 1, 1, 1, 1}); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { from_vector(std::vector<float>{1, 2}, {3}); }), MATNN_ERROR_INVALID_ARGUMENT);
  // detach shares storage but not the graph.
  const Tensor x = leaf({1, 2}, {2});
  const Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.raw_data(), x.raw_data());
  EXPECT_FALSE(Tensor().defined());
}

TEST(Graph, ShapeAndDtypeErrorsNameTheOp) {
  const Tensor a = zeros({3, 4}, DType::f64), b = zeros({5}, DType::f64), c = zeros({3, 4}, DType::f32);
  std::string msg;
  EXPECT_EQ(status_of([&] { add(a, b); }, &msg), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("add"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(3, 4)"), std::string::npos) << msg;
  EXPECT_EQ(status_of([&] { mul(a, c); }, &msg), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("float32"), std::string::npos) << msg;
  EXPECT_EQ(status_of([&] { matmul(a, a); }, &msg), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("matmul"), std::string::npos) << msg;
  EXPECT_EQ(status_of([&] { matmul(a, to(a, DType::f32), false, true); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { matmul(b, a); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { linear(a, zeros({4, 2}, DType::f64), zeros({3}, DType::f64)); }),
            MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { linear(a, zeros({4, 2}, DType::f32)); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { gather_rows(a, make_index({0, 3})); }, &msg), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(msg.find("index[1] = 3"), std::string::npos) << msg;
  EXPECT_EQ(status_of([&] { gather_rows(a, make_index({-1})); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { scatter_add_rows(a, make_index({0, 1}), 4); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { scatter_add_rows(a, make_index({0, 1, 9}), 4); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { concat({a, zeros({2, 3}, DType::f64)}, 0); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { concat({a, c}, 0); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { slice(a, 1, 2, 5); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { slice(a, 2, 0, 1); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { reshape(a, {5, -1}); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { reshape(a, {2, 2}); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { transpose(b); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { sum(a, 2); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { broadcast_to(a, {4, 4}); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { sum_to(a, {2, 4}); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { norm(scalar(1.0)); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { exp(Tensor()); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { backward(zeros({2}, DType::f64).set_requires_grad(true)); }),
            MATNN_ERROR_INVALID_ARGUMENT);
}

TEST(Graph, DeepChainsAndSharedIndices) {
  // The topological sort is iterative: a long chain of ops must not exhaust the stack.
  const Tensor x = leaf({0.5}, {1});
  Tensor y = x;
  for (int i = 0; i < 3000; ++i) y = add(mul(y, 1.0), 0.001);
  EXPECT_NEAR(y.item(), 3.5, 1e-9);
  EXPECT_NEAR(grad({sum(y)}, {x})[0].item(), 1.0, 1e-12);
  // Index lists are shared by the forward op and its backward, never copied.
  const Index idx = make_index({0, 1, 1});
  const Tensor g = gather_rows(leaf({1, 2}, {2}), idx);
  EXPECT_GE(idx.use_count(), 2);
}

TEST(Graph, LargeTensorsTakeTheParallelPaths) {
  // Sizes above the OpenMP threshold, checked against closed forms.
  const int64_t n = 1 << 17;
  const Tensor x = full({n / 64, 64}, 0.5, DType::f32).set_requires_grad(true);
  const Tensor y = add(mul(x, x), from_vector(std::vector<float>(64, 1.0f), {64}));
  EXPECT_NEAR(sum(y).item(), 1.25 * n, 1e-6 * n);
  const std::vector<double> col = sum(y, 0).to_vector();
  EXPECT_NEAR(col[7], 1.25 * (n / 64), 1e-3);
  const Tensor g = grad({sum(tanh(y))}, {x})[0];
  const double expected = (1 - std::tanh(1.25) * std::tanh(1.25)) * 1.0;
  EXPECT_NEAR(g.to_vector()[12345], expected, 1e-6);
  std::vector<int32_t> idx(static_cast<std::size_t>(n / 64));
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int32_t>(i % 10);
  const Tensor s = scatter_add_rows(x, make_index(idx), 10);
  EXPECT_NEAR(s.to_vector()[3 * 64 + 5], 0.5 * 205, 1e-4);  // row 3 receives 205 rows of 0.5
}

}  // namespace
