// The Kalman filter: on a linear least-squares problem it is recursive least squares, so one
// pass over the data must give the regularised normal-equation solution whatever the grouping
// of measurements; on a nonlinear one it must converge; its state must resume bit-identically;
// bad settings and oversized models are refused. The layer-wise (block-diagonal) filter equals
// the global one where the measurements keep P block-diagonal, and still fits where they do not.
#include <gtest/gtest.h>

#include <omp.h>

#include <Eigen/Dense>
#include <random>
#include <string>

#include "autodiff/ops.hpp"
#include "nn/kalman.hpp"
#include "nn/kalman_covariance.hpp"
#include "nn_test_util.hpp"

namespace matnn::nn {
namespace {

using testing::status_of;

struct LinearProblem {
  Eigen::MatrixXd x;
  Eigen::VectorXd y;
};

LinearProblem make_problem(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  LinearProblem p{Eigen::MatrixXd(rows, cols), Eigen::VectorXd(rows)};
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < cols; ++j) p.x(i, j) = normal(rng);
    p.y[i] = 0.3 * i - 1.0 + 0.1 * normal(rng);
  }
  return p;
}

// Weights split over two named tensors (3 + 2), to check that the filter flattens them in order.
NamedTensors two_params() {
  ad::Tensor a = ad::zeros({3}, ad::DType::f64), b = ad::zeros({2}, ad::DType::f64);
  a.set_requires_grad(true);
  b.set_requires_grad(true);
  return {{"a.weight", a}, {"b.weight", b}};
}

Eigen::VectorXd flat(const NamedTensors& params) {
  std::vector<double> all;
  for (const auto& [name, t] : params) {
    const auto v = t.to_vector();
    all.insert(all.end(), v.begin(), v.end());
  }
  return Eigen::Map<Eigen::VectorXd>(all.data(), static_cast<Eigen::Index>(all.size()));
}

// Residuals x_rows . w - y_rows, recorded by the engine.
ad::Tensor residuals(const LinearProblem& p, const NamedTensors& params, Eigen::Index first, Eigen::Index count) {
  std::vector<double> rows, targets;
  for (Eigen::Index i = first; i < first + count; ++i) {
    for (Eigen::Index j = 0; j < p.x.cols(); ++j) rows.push_back(p.x(i, j));
    targets.push_back(p.y[i]);
  }
  const ad::Tensor w = ad::reshape(ad::concat({params[0].second, params[1].second}, 0), {p.x.cols(), 1});
  const ad::Tensor predicted = ad::reshape(ad::matmul(ad::from_vector(rows, {count, p.x.cols()}), w), {count});
  return ad::sub(predicted, ad::from_vector(targets, {count}));
}

// No process noise and a constant eta: the filter is recursive least squares with prior N(0, P0).
KalmanOptions recursive_least_squares(double epsilon, double eta) {
  return {.epsilon = epsilon, .q0 = 0.0, .q_min = 0.0, .q_decay = 1.0, .eta0 = eta, .eta_max = eta, .eta_growth = 1.0};
}

TEST(NnKalman, OnePassIsTheRegularisedLeastSquaresSolutionForAnyGrouping) {
  const LinearProblem p = make_problem(40, 5, 7);
  const double epsilon = 0.5, eta = 4.0;
  // Posterior mean with prior N(0, I / epsilon) and noise variance 1 / eta.
  const Eigen::MatrixXd normal = p.x.transpose() * p.x * eta + epsilon * Eigen::MatrixXd::Identity(5, 5);
  const Eigen::VectorXd expected = normal.ldlt().solve(p.x.transpose() * p.y * eta);
  for (Eigen::Index group : {1, 3, 8, 40}) {
    const NamedTensors params = two_params();
    KalmanFilter filter(params, recursive_least_squares(epsilon, eta), 1);
    for (Eigen::Index first = 0; first < p.x.rows(); first += group) {
      filter.update(residuals(p, params, first, std::min(group, p.x.rows() - first)));
    }
    EXPECT_LT((flat(params) - expected).cwiseAbs().maxCoeff(), 1e-10) << "measurements per update " << group;
    EXPECT_EQ(filter.updates(), (40 + group - 1) / group);
  }
}

TEST(NnKalman, FitsANonlinearModelAndAnnealsItsSchedules) {
  // y = tanh(a x + b) c, fitted from a wrong start by repeated passes (an extended Kalman filter).
  ad::Tensor w = ad::from_vector(std::vector<double>{0.2, 0.0, 0.5}, {3});
  w.set_requires_grad(true);
  const NamedTensors params{{"w.weight", w}};
  std::vector<double> xs, ys;
  for (int i = 0; i < 30; ++i) {
    xs.push_back(-1.5 + 0.1 * i);
    ys.push_back(2.0 * std::tanh(1.3 * xs.back() - 0.4));
  }
  KalmanOptions options;  // the defaults: eta grows 10x per epoch, q decays 10x per epoch
  KalmanFilter filter(params, options, 30);
  for (int epoch = 0; epoch < 20; ++epoch) {
    for (int i = 0; i < 30; ++i) {
      const ad::Tensor a = ad::slice(w, 0, 0, 1), b = ad::slice(w, 0, 1, 2), c = ad::slice(w, 0, 2, 3);
      const ad::Tensor predicted = ad::mul(ad::tanh(ad::add(ad::mul(a, xs[i]), b)), c);
      filter.update(ad::sub(predicted, ad::from_vector(std::vector<double>{ys[i]}, {1})));
    }
  }
  const auto v = w.to_vector();
  EXPECT_NEAR(v[0], 1.3, 1e-4);
  EXPECT_NEAR(v[1], -0.4, 1e-4);
  EXPECT_NEAR(v[2], 2.0, 1e-4);
  EXPECT_DOUBLE_EQ(filter.eta(), options.eta_max);
  EXPECT_DOUBLE_EQ(filter.process_noise(), options.q_min);
}

// Measurements that each depend on one tensor only keep the global filter's P block-diagonal
// (it starts diagonal, and each update X X^T / a stays inside one block), so the layer-wise
// filter with a block per tensor must give the same weights. Measurements that mix the tensors
// correlate them: there the blocks differ from the global filter, but still fit.
TEST(NnKalman, LayerWiseBlocksMatchTheGlobalFilterWhenMeasurementsSeparate) {
  const NamedTensors global = two_params(), layered = two_params();
  KalmanFilter one_block(global, {.q0 = 0.0, .q_min = 0.0}, 10);
  KalmanFilter blocks(layered, {.q0 = 0.0, .q_min = 0.0, .block_size = 3}, 10);
  EXPECT_EQ(one_block.n_blocks(), 1u);
  EXPECT_EQ(blocks.n_blocks(), 2u);
  // Only lower triangles are kept: 5 weights in one block are 15 values, blocks of 3 and 2 are 6 + 3.
  EXPECT_EQ(one_block.covariance_size(), 15u);
  EXPECT_EQ(blocks.covariance_size(), 9u);
  auto separate = [](const NamedTensors& params, int k) {
    const ad::Tensor& t = params[k % 2].second;
    const double target = 0.5 * k - 1.0;
    return ad::reshape(ad::sub(ad::sum(ad::mul(t, ad::from_vector(k % 2 ? std::vector<double>{1.0, -2.0}
                                                                        : std::vector<double>{0.5, 1.0, 3.0},
                                                                  t.shape()))),
                               target),
                       {1});
  };
  for (int k = 0; k < 12; ++k) {
    one_block.update(separate(global, k));
    blocks.update(separate(layered, k));
  }
  EXPECT_LT((flat(global) - flat(layered)).cwiseAbs().maxCoeff(), 1e-12);

  const LinearProblem p = make_problem(200, 5, 4);
  const NamedTensors mixed_global = two_params(), mixed_layered = two_params();
  KalmanFilter g(mixed_global, {.q0 = 0.0, .q_min = 0.0, .eta0 = 1.0}, 200);
  KalmanFilter l(mixed_layered, {.q0 = 0.0, .q_min = 0.0, .eta0 = 1.0, .block_size = 3}, 200);
  for (int epoch = 0; epoch < 3; ++epoch) {
    for (Eigen::Index i = 0; i < 200; i += 4) {
      g.update(residuals(p, mixed_global, i, 4));
      l.update(residuals(p, mixed_layered, i, 4));
    }
  }
  const Eigen::VectorXd best = p.x.colPivHouseholderQr().solve(p.y);
  EXPECT_GT((flat(mixed_global) - flat(mixed_layered)).norm(), 1e-9);  // not the global filter
  EXPECT_LT((p.x * flat(mixed_layered) - p.y).norm(), 1.01 * (p.x * best - p.y).norm());
}

TEST(NnKalman, ResumesBitIdenticallyFromItsState) {
  const LinearProblem p = make_problem(20, 5, 3);
  const NamedTensors straight = two_params(), resumed = two_params();
  // Two covariance blocks, so that the state carries more than one.
  const KalmanOptions options{.block_size = 3};
  KalmanFilter a(straight, options, 10);
  for (Eigen::Index i = 0; i < 20; ++i) a.update(residuals(p, straight, i, 1));

  KalmanFilter first(resumed, options, 10);
  for (Eigen::Index i = 0; i < 12; ++i) first.update(residuals(p, resumed, i, 1));
  KalmanFilter second(resumed, options, 10);
  ASSERT_EQ(second.n_blocks(), 2u);
  second.load_state(first.state());
  for (Eigen::Index i = 12; i < 20; ++i) second.update(residuals(p, resumed, i, 1));
  EXPECT_EQ(flat(straight), flat(resumed));
  EXPECT_EQ(a.eta(), second.eta());
  EXPECT_EQ(a.process_noise(), second.process_noise());
}

TEST(NnKalman, RefusesBadSettingsOversizedModelsAndNonFiniteMeasurements) {
  const NamedTensors params = two_params();
  EXPECT_EQ(status_of([&] { KalmanFilter(params, {.epsilon = 0.0}, 1); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { KalmanFilter(params, {.q_decay = 1.5}, 1); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { KalmanFilter(params, {.eta0 = 2.0, .eta_max = 1.0}, 1); }), MATNN_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(status_of([&] { KalmanFilter(params, {.block_size = 0}, 1); }), MATNN_ERROR_INVALID_ARGUMENT);
  // 17000 weights in one block: 2.3 GB of covariance, refused before anything is allocated.
  ad::Tensor big = ad::zeros({17000}, ad::DType::f64);
  big.set_requires_grad(true);
  EXPECT_EQ(status_of([&] { KalmanFilter({{"big.weight", big}}, {.block_size = 17000}, 1); }),
            MATNN_ERROR_INVALID_ARGUMENT);

  KalmanFilter filter(params, {}, 1);
  const ad::Tensor w = ad::concat({params[0].second, params[1].second}, 0);
  const ad::Tensor nan = ad::mul(ad::sum(w), std::nan(""));
  EXPECT_EQ(status_of([&] { filter.update(ad::reshape(nan, {1})); }), MATNN_ERROR_NON_FINITE);
  EXPECT_EQ(filter.updates(), 0);

  KalmanFilter other(params, {}, 1);
  TrainingState wrong = filter.state();
  wrong.tensors["covariance.0"] = ad::zeros({4, 4}, ad::DType::f64);
  EXPECT_EQ(status_of([&] { other.load_state(wrong); }), MATNN_ERROR_MODEL);
}

// The covariance kernels against Eigen's dense products, on one thread and on two (each thread
// takes its own columns of the triangle), for odd sizes and measurement counts that are and are
// not multiples of the kernels' group of four, on the whole packed lower triangle and on shares
// of its columns (as the ranks of a data-parallel run keep them), whose products sum to the
// whole. A downdate settled alone and then a product give the fused kernel's results bit for
// bit (what a resumed filter relies on).
TEST(NnKalman, CovarianceKernelsEqualDenseProductsOnTheLowerTriangle) {
  const int threads_before = omp_get_max_threads();
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    for (Eigen::Index n : {7, 301}) {
      for (Eigen::Index m : {1, 4, 10}) {
        for (int parts : {1, 3, 9}) {  // 9: more shares than n = 7 has columns
          const std::string where = "threads " + std::to_string(threads) + ", n " + std::to_string(n) + ", m " +
                                    std::to_string(m) + ", shares " + std::to_string(parts);
          std::mt19937 rng(static_cast<unsigned>(n * 100 + m));
          std::normal_distribution<double> normal;
          const auto random = [&](Eigen::Index rows, Eigen::Index cols) {
            Eigen::MatrixXd a(rows, cols);
            for (double& v : a.reshaped()) v = normal(rng);
            return a;
          };
          const Eigen::MatrixXd root = random(n, n);
          const Eigen::MatrixXd symmetric = root * root.transpose();
          const Eigen::MatrixXd ht = random(n, m), w = random(n, m + 1);
          const Eigen::MatrixXd h = ht.transpose();
          const Eigen::MatrixXd expected = symmetric - w * w.transpose() + 0.25 * Eigen::MatrixXd::Identity(n, n);
          const double tolerance = 1e-10 * symmetric.cwiseAbs().maxCoeff() * static_cast<double>(n);

          const std::vector<std::int64_t> shares = detail::LowerColumns::shares(n, 0, n, parts);
          ASSERT_EQ(shares.front(), 0) << where;
          ASSERT_EQ(shares.back(), n) << where;
          Eigen::MatrixXd x_sum = Eigen::MatrixXd::Zero(n, m), x_fused_sum = Eigen::MatrixXd::Zero(n, m);
          for (int k = 0; k < parts; ++k) {
            const std::int64_t first = shares[static_cast<std::size_t>(k)], last = shares[static_cast<std::size_t>(k) + 1];
            detail::LowerColumns p(n, first, last);
            ASSERT_EQ(p.values().size(), detail::LowerColumns::count(n, first, last)) << where;
            for (std::int64_t j = first; j < last; ++j) {
              for (std::int64_t i = j; i < n; ++i) p.column(j)[i - j] = symmetric(i, j);
            }
            detail::LowerColumns settled = p;
            Eigen::MatrixXd x(n, m);
            detail::downdate_then_product(p, nullptr, 0, 0.0, h.data(), m, x.data());
            x_sum += x;

            detail::downdate_then_product(p, w.data(), m + 1, 0.25, h.data(), m, x.data());
            x_fused_sum += x;
            double worst = 0.0;
            for (std::int64_t j = first; j < last; ++j) {
              for (std::int64_t i = j; i < n; ++i) worst = std::max(worst, std::abs(p.column(j)[i - j] - expected(i, j)));
            }
            EXPECT_LT(worst, tolerance) << where;

            detail::symmetric_downdate(settled, w.data(), m + 1, 0.25);
            Eigen::MatrixXd x_after(n, m);
            detail::downdate_then_product(settled, nullptr, 0, 0.0, h.data(), m, x_after.data());
            EXPECT_TRUE(settled.values() == p.values()) << where;
            EXPECT_TRUE(x_after == x) << where;
          }
          EXPECT_LT((x_sum - symmetric * ht).cwiseAbs().maxCoeff(), tolerance) << where;
          EXPECT_LT((x_fused_sum - expected * ht).cwiseAbs().maxCoeff(), tolerance) << where;
        }
      }
    }
  }
  omp_set_num_threads(threads_before);
}

}  // namespace
}  // namespace matnn::nn
