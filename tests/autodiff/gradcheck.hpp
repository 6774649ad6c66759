// Finite-difference checks of the autodiff engine, in float64.
//  - First order: the gradient of sum(w * f(inputs)) (w random) against central differences.
//  - Second order: for each input x, g = grad(sum(w * f), x) with create_graph = true, then the
//    gradient of sum(v * g) (v random) w.r.t. every input against central differences of
//    sum(v * g) recomputed at perturbed inputs.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <random>
#include <vector>

#include "autodiff/ops.hpp"

namespace matnn::ad::testing {

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
  double eps = 1e-6;   // central-difference step
  double atol = 1e-6;  // pass when |analytic - numeric| <= atol + rtol * |numeric|
  double rtol = 1e-5;
  uint64_t seed = 20240601;  // for the random weights w and v
  bool second_order = true;
};

/// First-order check; every input must be float64 and require grad.
::testing::AssertionResult check_first_order(const Function& f, const std::vector<Tensor>& inputs,
                                             const GradcheckOptions& options = {});
/// Second-order check (double backward), see the file comment.
::testing::AssertionResult check_second_order(const Function& f, const std::vector<Tensor>& inputs,
                                              const GradcheckOptions& options = {});
/// Both checks (the second unless options.second_order is false).
::testing::AssertionResult gradcheck(const Function& f, const std::vector<Tensor>& inputs,
                                     const GradcheckOptions& options = {});

/// float64 leaves that require grad: normal(0, 1) values.
Tensor input_normal(const Shape& shape, std::mt19937_64& rng);
/// Uniform in [low, high) (e.g. positive inputs for log, sqrt and denominators).
Tensor input_uniform(const Shape& shape, std::mt19937_64& rng, double low, double high);
/// |value| uniform in [low, high) with a random sign (away from the kinks of relu and abs).
Tensor input_away_from_zero(const Shape& shape, std::mt19937_64& rng, double low = 0.2, double high = 1.5);

}  // namespace matnn::ad::testing
