// Elementwise unary ops and the dtype cast. Each backward is written with differentiable ops,
// so the derivatives compose to any order.
#include <cmath>
#include <numbers>
#include <type_traits>

#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace matnn::ad {

using detail::map_unary;

namespace {

using Grads = std::vector<Tensor>;

template <typename F>
Tensor unary(const char* op, const Tensor& x, F f) {
  detail::check_defined(op, x);
  return map_unary(x, f);
}

template <typename T>
T int_pow(T v, int n) {
  const bool invert = n < 0;
  unsigned e = invert ? static_cast<unsigned>(-(n + 1)) + 1u : static_cast<unsigned>(n);
  T result = 1, base = v;
  while (e) {
    if (e & 1u) result *= base;
    base *= base;
    e >>= 1u;
  }
  return invert ? T(1) / result : result;
}

template <typename T>
T stable_sigmoid(T v) {
  // float: 1 / (1 + e^-v) with the clamped exponential is exact to rounding at both ends and
  // branch-free, so it vectorises; double keeps libm and the two-sided form.
  if constexpr (std::is_same_v<T, float>) {
    return 1.0f / (1.0f + detail::exp_vectorisable(-v));
  } else {
    if (v >= 0) return T(1) / (T(1) + std::exp(-v));
    const T e = std::exp(v);
    return e / (T(1) + e);
  }
}

}  // namespace

Tensor to(const Tensor& x, DType dtype) {
  detail::check_defined("to", x);
  if (x.dtype() == dtype) return x;
  Tensor out = empty(x.shape(), dtype);
  detail::dispatch(x.dtype(), [&](auto zs) {
    using S = decltype(zs);
    detail::dispatch(dtype, [&](auto zd) {
      using D = decltype(zd);
      const S* px = x.data<S>();
      D* po = out.data<D>();
      detail::parallel_for(x.numel(), x.numel(), [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) po[i] = static_cast<D>(px[i]);
      });
    });
  });
  return record(out, "to", {x}, [](const BackwardContext& c) {
    return Grads{to(c.grad_output, c.inputs[0].dtype())};
  }, kReadsShapes);
}

Tensor exp(const Tensor& x) {
  Tensor out = unary("exp", x, [](auto v) { return std::exp(v); });
  return record(out, "exp", {x}, [](const BackwardContext& c) { return Grads{mul(c.grad_output, c.output)}; });
}

Tensor log(const Tensor& x) {
  Tensor out = unary("log", x, [](auto v) { return std::log(v); });
  return record(out, "log", {x}, [](const BackwardContext& c) { return Grads{div(c.grad_output, c.inputs[0])}; }, kReadsInputs);
}

Tensor sqrt(const Tensor& x) {
  Tensor out = unary("sqrt", x, [](auto v) { return std::sqrt(v); });
  return record(out, "sqrt", {x}, [](const BackwardContext& c) {
    return Grads{div(mul(c.grad_output, 0.5), c.output)};
  });
}

Tensor square(const Tensor& x) {
  Tensor out = unary("square", x, [](auto v) { return v * v; });
  return record(out, "square", {x}, [](const BackwardContext& c) {
    return Grads{mul(c.grad_output, mul(c.inputs[0], 2.0))};
  }, kReadsInputs);
}

Tensor pow(const Tensor& x, int n) {
  Tensor out = unary("pow", x, [n](auto v) { return int_pow(v, n); });
  return record(out, "pow", {x}, [n](const BackwardContext& c) {
    const Tensor& in = c.inputs[0];
    if (n == 0) return Grads{zeros_like(in)};
    if (n == 1) return Grads{c.grad_output};
    return Grads{mul(c.grad_output, mul(pow(in, n - 1), static_cast<double>(n)))};
  }, kReadsInputs);
}

Tensor polynomial(const Tensor& x, const std::vector<double>& coefficients) {
  Tensor out = unary("polynomial", x, [&coefficients](auto v) {
    using T = decltype(v);
    T acc = 0;
    for (auto it = coefficients.rbegin(); it != coefficients.rend(); ++it) acc = acc * v + static_cast<T>(*it);
    return acc;
  });
  std::vector<double> derivative;
  for (std::size_t k = 1; k < coefficients.size(); ++k) derivative.push_back(static_cast<double>(k) * coefficients[k]);
  return record(out, "polynomial", {x}, [derivative = std::move(derivative)](const BackwardContext& c) {
    if (derivative.empty()) return Grads{zeros_like(c.inputs[0])};
    return Grads{mul(c.grad_output, polynomial(c.inputs[0], derivative))};
  }, kReadsInputs);
}

Tensor tanh(const Tensor& x) {
  Tensor out = unary("tanh", x, [](auto v) { return std::tanh(v); });
  return record(out, "tanh", {x}, [](const BackwardContext& c) {
    return Grads{mul(c.grad_output, rsub(1.0, square(c.output)))};
  });
}

Tensor sigmoid(const Tensor& x) {
  Tensor out = unary("sigmoid", x, [](auto v) { return stable_sigmoid(v); });
  return record(out, "sigmoid", {x}, [](const BackwardContext& c) {
    return Grads{mul(c.grad_output, mul(c.output, rsub(1.0, c.output)))};
  });
}

Tensor softplus(const Tensor& x) {
  Tensor out = unary("softplus", x, [](auto v) {
    using T = decltype(v);
    // float: branch-free, so that it vectorises; double keeps libm.
    if constexpr (std::is_same_v<T, float>)
      return std::max(v, 0.0f) + detail::log1p_unit_vectorisable(detail::exp_vectorisable(-std::abs(v)));
    else
      return std::max(v, T(0)) + std::log1p(std::exp(-std::abs(v)));
  });
  return record(out, "softplus", {x}, [](const BackwardContext& c) {
    return Grads{mul(c.grad_output, sigmoid(c.inputs[0]))};
  }, kReadsInputs);
}

namespace {

// The first and second derivatives of silu, each one pass over memory (silu is the activation of
// the NequIP radial networks, whose derivatives run on every edge for forces and training).
// silu' = s (1 + x (1 - s)) and silu'' = s (1 - s) (2 + x (1 - 2 s)), with s = sigmoid(x); the
// third derivative (third-order use only) is composed of ops, so every order still exists.
Tensor silu_second_derivative(const Tensor& x) {
  Tensor out = unary("silu_second_derivative", x, [](auto v) {
    using T = decltype(v);
    const T s = stable_sigmoid(v);
    return s * (T(1) - s) * (T(2) + v * (T(1) - T(2) * s));
  });
  return record(out, "silu_second_derivative", {x}, [](const BackwardContext& c) {
    // d/dx silu'' = ds ((1 - 2 s) (3 + x (1 - 2 s)) - 2 x ds),  ds = s (1 - s)
    const Tensor& in = c.inputs[0];
    const Tensor s = sigmoid(in);
    const Tensor ds = mul(s, rsub(1.0, s));
    const Tensor a = rsub(1.0, mul(s, 2.0));
    const Tensor third = mul(ds, sub(mul(a, add(mul(in, a), 3.0)), mul(mul(in, ds), 2.0)));
    return Grads{mul(c.grad_output, third)};
  }, kReadsInputs);
}

Tensor silu_derivative(const Tensor& x) {
  Tensor out = unary("silu_derivative", x, [](auto v) {
    using T = decltype(v);
    const T s = stable_sigmoid(v);
    return s * (T(1) + v * (T(1) - s));
  });
  return record(out, "silu_derivative", {x}, [](const BackwardContext& c) {
    return Grads{mul(c.grad_output, silu_second_derivative(c.inputs[0]))};
  }, kReadsInputs);
}

}  // namespace

Tensor silu(const Tensor& x) {
  Tensor out = unary("silu", x, [](auto v) { return v * stable_sigmoid(v); });
  return record(out, "silu", {x}, [](const BackwardContext& c) {
    return Grads{mul(c.grad_output, silu_derivative(c.inputs[0]))};
  }, kReadsInputs);
}

Tensor relu(const Tensor& x) {
  Tensor out = unary("relu", x, [](auto v) { return v > 0 ? v : decltype(v)(0); });
  return record(out, "relu", {x}, [](const BackwardContext& c) {
    return Grads{mul(c.grad_output, step(c.inputs[0]))};
  }, kReadsInputs);
}

Tensor gelu(const Tensor& x) {
  Tensor out = unary("gelu", x, [](auto v) {
    using T = decltype(v);
    return T(0.5) * v * (T(1) + std::erf(v * static_cast<T>(std::numbers::sqrt2 / 2)));
  });
  return record(out, "gelu", {x}, [](const BackwardContext& c) {
    // d/dx x Phi(x) = Phi(x) + x phi(x)
    const Tensor& in = c.inputs[0];
    const Tensor cdf = mul(add(erf(mul(in, std::numbers::sqrt2 / 2)), 1.0), 0.5);
    const Tensor pdf = mul(exp(mul(square(in), -0.5)), 0.5 * std::numbers::inv_sqrtpi * std::numbers::sqrt2);
    return Grads{mul(c.grad_output, add(cdf, mul(in, pdf)))};
  }, kReadsInputs);
}

Tensor erf(const Tensor& x) {
  Tensor out = unary("erf", x, [](auto v) { return std::erf(v); });
  return record(out, "erf", {x}, [](const BackwardContext& c) {
    const Tensor d = mul(exp(neg(square(c.inputs[0]))), 2.0 * std::numbers::inv_sqrtpi);
    return Grads{mul(c.grad_output, d)};
  }, kReadsInputs);
}

Tensor cos(const Tensor& x) {
  Tensor out = unary("cos", x, [](auto v) { return std::cos(v); });
  return record(out, "cos", {x}, [](const BackwardContext& c) {
    return Grads{neg(mul(c.grad_output, sin(c.inputs[0])))};
  }, kReadsInputs);
}

Tensor sin(const Tensor& x) {
  Tensor out = unary("sin", x, [](auto v) { return std::sin(v); });
  return record(out, "sin", {x}, [](const BackwardContext& c) {
    return Grads{mul(c.grad_output, cos(c.inputs[0]))};
  }, kReadsInputs);
}

Tensor abs(const Tensor& x) {
  Tensor out = unary("abs", x, [](auto v) { return std::abs(v); });
  return record(out, "abs", {x}, [](const BackwardContext& c) {
    return Grads{mul(c.grad_output, sign(c.inputs[0]))};
  }, kReadsInputs);
}

Tensor step(const Tensor& x) {
  return unary("step", x, [](auto v) { return v > 0 ? decltype(v)(1) : decltype(v)(0); });
}

Tensor sign(const Tensor& x) {
  return unary("sign", x, [](auto v) {
    using T = decltype(v);
    return v > 0 ? T(1) : (v < 0 ? T(-1) : T(0));
  });
}

}  // namespace matnn::ad
