// Force training in miniature: forces are -dE/dx recorded with create_graph, a loss on the
// forces is differentiated w.r.t. the parameters (gradient of a gradient).
#include <gtest/gtest.h>

#include "gradcheck.hpp"

namespace {

using namespace matnn::ad;
using matnn::ad::testing::gradcheck;
using matnn::ad::testing::input_normal;
using Ts = std::vector<Tensor>;

// E = sum(tanh(x W1) W2); F = -dE/dx (create_graph); loss = sum(F^2).
Tensor force_loss(const Tensor& x, const Tensor& w1, const Tensor& w2) {
  const Tensor energy = sum(matmul(tanh(matmul(x, w1)), w2));
  const Tensor forces = neg(grad({energy}, {x}, {}, true)[0]);
  return sum(square(forces));
}

TEST(DoubleBackward, ForceLossGradientMatchesFiniteDifferences) {
  std::mt19937_64 rng(2024);
  const Tensor x = input_normal({6, 3}, rng);
  const Tensor w1 = input_normal({3, 8}, rng);
  const Tensor w2 = input_normal({8, 1}, rng);
  const Tensor loss = force_loss(x, w1, w2);
  const std::vector<Tensor> g = grad({loss}, {w1, w2});
  const double eps = 1e-6;
  for (std::size_t p = 0; p < 2; ++p) {
    const Tensor& param = p == 0 ? w1 : w2;
    double* data = param.data<double>();
    const std::vector<double> analytic = g[p].to_vector();
    for (int64_t j = 0; j < param.numel(); ++j) {
      const double orig = data[j];
      data[j] = orig + eps;
      const double up = force_loss(x, w1, w2).item();
      data[j] = orig - eps;
      const double down = force_loss(x, w1, w2).item();
      data[j] = orig;
      const double numeric = (up - down) / (2 * eps);
      EXPECT_NEAR(analytic[static_cast<std::size_t>(j)], numeric, 1e-6 + 1e-5 * std::abs(numeric))
          << "parameter " << p << " element " << j;
    }
  }
  // Training uses backward(): same numbers in the leaves' .grad().
  backward(loss);
  const std::vector<double> acc = w1.grad().to_vector(), ref = g[0].to_vector();
  for (std::size_t i = 0; i < acc.size(); ++i) EXPECT_NEAR(acc[i], ref[i], 1e-12);
}

TEST(DoubleBackward, ForcesOfAnMlpPassGradcheck) {
  std::mt19937_64 rng(99);
  auto forces = [](const Ts& t) {
    const Tensor energy = sum(linear(silu(linear(t[0], t[1], t[2])), t[3]));
    return neg(grad({energy}, {t[0]}, {}, true)[0]);
  };
  // First order = d forces / d (positions, params); second order = third derivatives of E.
  EXPECT_TRUE(gradcheck(forces, {input_normal({4, 3}, rng), input_normal({3, 5}, rng), input_normal({5}, rng),
                                 input_normal({5, 1}, rng)}));
}

TEST(DoubleBackward, PairPotentialOverEdgesPassesGradcheck) {
  // A message-passing-shaped potential: edge vectors by gather, lengths by norm, edge energies
  // from a small network of the length, summed onto atoms by scatter_add.
  const int32_t n_atoms = 4;
  std::vector<int32_t> src, dst;
  for (int32_t i = 0; i < n_atoms; ++i)
    for (int32_t j = 0; j < n_atoms; ++j)
      if (i != j) {
        src.push_back(i);
        dst.push_back(j);
      }
  const Index isrc = make_index(src), idst = make_index(dst);
  auto forces = [&](const Ts& t) {
    const Tensor& pos = t[0];
    const Tensor vec = sub(gather_rows(pos, idst), gather_rows(pos, isrc));
    const Tensor r = norm(vec, -1, true);  // (edges, 1)
    const Tensor h = tanh(linear(r, t[1], t[2]));
    const Tensor envelope = exp(neg(square(r)));
    const Tensor e_edge = mul(matmul(h, t[3]), envelope);
    const Tensor e_atom = scatter_add_rows(e_edge, isrc, n_atoms);
    const Tensor energy = sum(e_atom);
    return neg(grad({energy}, {pos}, {}, true)[0]);
  };
  std::mt19937_64 rng(5);
  const Tensor pos = rand({n_atoms, 3}, rng, DType::f64, 0.0, 2.0).set_requires_grad(true);
  EXPECT_TRUE(gradcheck(forces, {pos, input_normal({1, 6}, rng), input_normal({6}, rng), input_normal({6, 1}, rng)}));
  // Newton's third law: pair forces sum to zero.
  const Tensor f = forces({pos, input_normal({1, 6}, rng), input_normal({6}, rng), input_normal({6, 1}, rng)});
  for (double s : sum(f, 0).to_vector()) EXPECT_NEAR(s, 0.0, 1e-12);
}

TEST(DoubleBackward, FirstOrderPassRecordsNothingWithoutCreateGraph) {
  std::mt19937_64 rng(1);
  const Tensor x = input_normal({3, 3}, rng);
  const Tensor w = input_normal({3, 2}, rng);
  const Tensor energy = sum(tanh(matmul(x, w)));
  const Tensor f = grad({energy}, {x})[0];
  EXPECT_FALSE(f.requires_grad());
  EXPECT_EQ(f.grad_fn(), nullptr);
  const Tensor f2 = grad({energy}, {x}, {}, true)[0];
  EXPECT_TRUE(f2.requires_grad());
  const std::vector<double> a = f.to_vector(), b = f2.to_vector();
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_DOUBLE_EQ(a[i], b[i]);
}

}  // namespace
