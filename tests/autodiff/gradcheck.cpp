#include "gradcheck.hpp"

#include <cmath>
#include <sstream>

namespace matnn::ad::testing {

namespace {

// Compares analytic gradients with central differences of `scalar` (a function of the inputs'
// current values) and describes the first mismatch.
::testing::AssertionResult compare(const char* what, const std::function<double()>& scalar,
                                   const std::vector<Tensor>& inputs, const std::vector<Tensor>& analytic,
                                   const GradcheckOptions& o) {
  double worst = 0.0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    double* p = inputs[i].data<double>();
    const std::vector<double> a = analytic[i].to_vector();
    for (int64_t j = 0; j < inputs[i].numel(); ++j) {
      const double orig = p[j];
      p[j] = orig + o.eps;
      const double up = scalar();
      p[j] = orig - o.eps;
      const double down = scalar();
      p[j] = orig;
      const double numeric = (up - down) / (2 * o.eps);
      const double err = std::abs(a[static_cast<std::size_t>(j)] - numeric);
      worst = std::max(worst, err);
      if (!(err <= o.atol + o.rtol * std::abs(numeric)))
        return ::testing::AssertionFailure()
               << what << ": input " << i << " " << shape_str(inputs[i].shape()) << " element " << j
               << ": analytic " << a[static_cast<std::size_t>(j)] << " vs numeric " << numeric << " (error " << err
               << ")";
    }
  }
  return ::testing::AssertionSuccess() << what << ": max error " << worst;
}

::testing::AssertionResult check_inputs(const std::vector<Tensor>& inputs) {
  for (std::size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i].defined() || inputs[i].dtype() != DType::f64 || !inputs[i].requires_grad() || !inputs[i].is_leaf())
      return ::testing::AssertionFailure() << "gradcheck: input " << i << " must be a float64 leaf requiring grad";
  return ::testing::AssertionSuccess();
}

}  // namespace

::testing::AssertionResult check_first_order(const Function& f, const std::vector<Tensor>& inputs,
                                             const GradcheckOptions& o) {
  if (auto ok = check_inputs(inputs); !ok) return ok;
  std::mt19937_64 rng(o.seed);
  const Tensor y = f(inputs);
  const Tensor w = randn(y.shape(), rng, DType::f64);
  const Tensor loss = sum(mul(w, y));
  std::vector<Tensor> analytic;
  if (loss.requires_grad()) {
    analytic = grad({loss}, inputs, {}, false, true);
  } else {
    for (const Tensor& x : inputs) analytic.push_back(zeros_like(x));
  }
  // Not under NoGradGuard: f may itself call grad() (forces from an energy).
  auto scalar = [&] { return sum(mul(w, f(inputs))).item(); };
  return compare("first order", scalar, inputs, analytic, o);
}

::testing::AssertionResult check_second_order(const Function& f, const std::vector<Tensor>& inputs,
                                              const GradcheckOptions& o) {
  if (auto ok = check_inputs(inputs); !ok) return ok;
  std::mt19937_64 rng(o.seed + 1);
  const Tensor w = randn(f(inputs).shape(), rng, DType::f64);
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor v = randn(inputs[k].shape(), rng, DType::f64);
    // S = sum(v * d sum(w f) / d x_k), recorded when create_graph.
    auto s_of = [&](bool create_graph) {
      const Tensor y = f(inputs);
      const Tensor loss = sum(mul(w, y));
      if (!loss.requires_grad()) return scalar(0.0, DType::f64);
      const Tensor g = grad({loss}, {inputs[k]}, {}, create_graph, true)[0];
      return sum(mul(v, g));
    };
    const Tensor s = s_of(true);
    std::vector<Tensor> analytic;
    if (s.requires_grad()) {
      analytic = grad({s}, inputs, {}, false, true);
    } else {
      for (const Tensor& x : inputs) analytic.push_back(zeros_like(x));
    }
    std::ostringstream what;
    what << "second order (d/dinputs of v . dL/dinput " << k << ")";
    auto result = compare(what.str().c_str(), [&] { return s_of(false).item(); }, inputs, analytic, o);
    if (!result) return result;
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult gradcheck(const Function& f, const std::vector<Tensor>& inputs,
                                     const GradcheckOptions& o) {
  if (auto r = check_first_order(f, inputs, o); !r) return r;
  if (o.second_order) return check_second_order(f, inputs, o);
  return ::testing::AssertionSuccess();
}

Tensor input_normal(const Shape& shape, std::mt19937_64& rng) {
  return randn(shape, rng, DType::f64).set_requires_grad(true);
}

Tensor input_uniform(const Shape& shape, std::mt19937_64& rng, double low, double high) {
  return rand(shape, rng, DType::f64, low, high).set_requires_grad(true);
}

Tensor input_away_from_zero(const Shape& shape, std::mt19937_64& rng, double low, double high) {
  Tensor t = rand(shape, rng, DType::f64, low, high);
  std::bernoulli_distribution coin(0.5);
  double* p = t.data<double>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (coin(rng)) p[i] = -p[i];
  return t.set_requires_grad(true);
}

}  // namespace matnn::ad::testing
