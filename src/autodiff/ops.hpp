// The differentiable operations of the autodiff engine.
//
// Conventions for every op below:
//  - Inputs of one op must share a dtype (float32 or float64); otherwise, and on any shape
//    error, the op throws matnn::Error(MATNN_ERROR_INVALID_ARGUMENT) naming the op and shapes.
//  - Outputs are new contiguous tensors (reshape/detach share storage).
//  - When recording is on (see graph.hpp) and an input requires grad, the output records a
//    node whose backward is written with these same ops, so derivatives of any order exist.
//  - Axes may be negative (counted from the end).
//  - Broadcasting follows numpy: shapes are aligned at the trailing axis and a dimension of 1
//    (or a missing leading dimension) stretches to the other's size.
#pragma once

#include <vector>

#include "autodiff/gemm.hpp"
#include "autodiff/graph.hpp"
#include "autodiff/tensor.hpp"

namespace matnn::ad {

// ---- dtype -------------------------------------------------------------------------------------

/// Differentiable cast; returns x itself when it already has `dtype`.
Tensor to(const Tensor& x, DType dtype);

// ---- broadcasting binary ops (ops_binary.cpp) ----------------------------------------------------

/// Elementwise a + b, a - b, a * b, a / b of broadcast shapes; out shape = broadcast(a, b).
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
/// Tensor-scalar variants (the scalar is a constant of x's dtype).
Tensor add(const Tensor& x, double s);
Tensor sub(const Tensor& x, double s);
Tensor mul(const Tensor& x, double s);
Tensor div(const Tensor& x, double s);
/// s - x.
Tensor rsub(double s, const Tensor& x);
/// s / x.
Tensor rdiv(double s, const Tensor& x);
/// -x.
Tensor neg(const Tensor& x);

/// The broadcast shape of a and b (error naming `op` when incompatible).
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast");
/// x stretched to `shape` (x's shape must broadcast to it). Alias: expand.
Tensor broadcast_to(const Tensor& x, const Shape& shape);
inline Tensor expand(const Tensor& x, const Shape& shape) { return broadcast_to(x, shape); }
/// Sums x over the axes along which `shape` was broadcast to x's shape (the adjoint of
/// broadcast_to): sum_to(broadcast_to(y, s), y.shape()) has y's shape.
Tensor sum_to(const Tensor& x, const Shape& shape);

// ---- reductions (ops_reduce.cpp) -----------------------------------------------------------------

/// Sum of all elements: rank-0 result.
Tensor sum(const Tensor& x);
/// Sum along `axis`; the axis is kept with size 1 when keepdim, else removed.
Tensor sum(const Tensor& x, int64_t axis, bool keepdim = false);
/// Mean of all elements (rank 0) / along an axis. An empty reduction gives NaN.
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, int64_t axis, bool keepdim = false);

// ---- elementwise unary ops (ops_elementwise.cpp) -------------------------------------------------
// Same shape out as in. Derivatives are exact to every order unless stated.

Tensor exp(const Tensor& x);
/// Natural log; x must be positive for finite results (not checked).
Tensor log(const Tensor& x);
/// Square root; the derivative 1/(2 sqrt x) is infinite at 0 (keep inputs positive).
Tensor sqrt(const Tensor& x);
Tensor square(const Tensor& x);
/// x^n for an integer n (negative n: 1/x^|n|; n = 0: ones, zero gradient).
Tensor pow(const Tensor& x, int n);
/// sum_k coefficients[k] * x^k (Horner). Empty coefficients: zeros.
Tensor polynomial(const Tensor& x, const std::vector<double>& coefficients);
Tensor tanh(const Tensor& x);
/// 1 / (1 + exp(-x)), evaluated without overflow.
Tensor sigmoid(const Tensor& x);
/// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)) (no overflow); derivative sigmoid(x).
Tensor softplus(const Tensor& x);
/// x * sigmoid(x).
Tensor silu(const Tensor& x);
/// max(x, 0). Derivative: step(x) (0 at x = 0), a constant mask: second derivative 0.
Tensor relu(const Tensor& x);
/// Exact GELU x * Phi(x) = x/2 (1 + erf(x / sqrt 2)).
Tensor gelu(const Tensor& x);
Tensor erf(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor sin(const Tensor& x);
/// |x|; derivative sign(x) (0 at x = 0), a constant mask.
Tensor abs(const Tensor& x);
/// Not differentiable (output never requires grad): 1 where x > 0, else 0.
Tensor step(const Tensor& x);
/// Not differentiable (output never requires grad): -1, 0 or 1.
Tensor sign(const Tensor& x);

// ---- index and shape ops (ops_index.cpp, ops_shape.cpp) ----------------------------------------

/// out[k, ...] = x[index[k], ...]: x of shape (n, ...), out of shape (index.size(), ...).
/// Every index must lie in [0, n). Backward: scatter_add_rows.
Tensor gather_rows(const Tensor& x, const Index& index);
/// out[index[k], ...] += src[k, ...]: src of shape (m, ...) with m = index.size(), out of shape
/// (n_rows, ...) starting from zeros; repeated indices accumulate. Backward: gather_rows.
Tensor scatter_add_rows(const Tensor& src, const Index& index, int64_t n_rows);
/// Joins tensors of equal rank and dtype along `axis` (other dimensions must agree).
Tensor concat(const std::vector<Tensor>& tensors, int64_t axis);
/// Elements [start, end) along `axis`; 0 <= start <= end <= x.dim(axis).
Tensor slice(const Tensor& x, int64_t axis, int64_t start, int64_t end);
/// Same elements with a new shape (one dimension may be -1: inferred). Shares storage.
Tensor reshape(const Tensor& x, const Shape& shape);
/// Transpose of a 2-D tensor, or of each matrix of a 3-D batch (batch, m, n) -> (batch, n, m)
/// (a new contiguous tensor).
Tensor transpose(const Tensor& x);

// ---- linear algebra (ops_linalg.cpp) ---------------------------------------------------------------

/// op(a) * op(b) for 2-D tensors, op = transpose when the flag is set: op(a) (m, k),
/// op(b) (k, n) -> (m, n). float32 uses the gemm backend of gemm.hpp, float64 Eigen.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false);
/// x (n, in) * weight (in, out) + bias (out), with bias optional (undefined Tensor): one GEMM
/// writing onto the broadcast bias. -> (n, out).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
/// Euclidean norm sqrt(sum x^2) along `axis` (e.g. edge lengths from (n_edges, 3) vectors).
/// At a zero vector the value is 0 and the gradient is defined as 0 (not NaN): the backward is
/// x * g / (r + [r == 0]). Higher derivatives at exactly zero are finite but not meaningful.
Tensor norm(const Tensor& x, int64_t axis = -1, bool keepdim = false);

// ---- convolution and pooling (ops_conv.cpp, ops_pool.cpp) ----------------------------------------
// Channels-first tensors: spectra x (N, C, W), images x (N, C, H, W). Per-axis options hold one
// value per spatial axis, or one value for all of them; empty means the default.

struct ConvOptions {
  std::vector<int64_t> stride;    // default 1
  std::vector<int64_t> padding;   // zeros added at both ends of each axis; default 0
  std::vector<int64_t> dilation;  // spacing of the kernel taps; default 1
};

/// Cross-correlation (what deep-learning codes call convolution) of x (N, C_in, [H,] W) with
/// weight (C_out, C_in, [kH,] kW), plus bias (C_out) when defined: out (N, C_out, [H_out,] W_out)
/// with H_out = floor((H + 2 p - d (kH - 1) - 1) / s) + 1. float32 runs on oneDNN's primitives
/// (or the plain im2col path when the Eigen GEMM backend is selected), float64 on the plain path.
/// Backward: conv_input_grad and conv_weight_grad, whose own backward passes are these three
/// ops again, so derivatives of any order exist.
Tensor conv(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), const ConvOptions& options = {});
/// The adjoint of conv in x: the gradient of <grad_output, conv(x, weight)> with respect to an
/// x of shape input_shape (a transposed convolution; the stride makes input_shape necessary).
Tensor conv_input_grad(const Tensor& grad_output, const Tensor& weight, const Shape& input_shape,
                       const ConvOptions& options = {});
/// The adjoint of conv in weight: the gradient of <grad_output, conv(x, weight)> with respect to
/// a weight of shape weight_shape, summed over the batch.
Tensor conv_weight_grad(const Tensor& x, const Tensor& grad_output, const Shape& weight_shape,
                        const ConvOptions& options = {});

struct PoolOptions {
  std::vector<int64_t> kernel;   // the window; required
  std::vector<int64_t> stride;   // default: the window (non-overlapping windows)
  std::vector<int64_t> padding;  // at most half the window; default 0
};

/// The largest element of each window (padding never wins). The winners' positions are found
/// first, then gathered (gather_rows), so every derivative is a gather or scatter of them.
Tensor max_pool(const Tensor& x, const PoolOptions& options);
/// The mean of each window's elements; padding is left out of the count. Linear; backward
/// avg_pool_adjoint. float32 runs on oneDNN's pooling primitives unless Eigen is selected.
Tensor avg_pool(const Tensor& x, const PoolOptions& options);
/// The adjoint of avg_pool: spreads each grad_output element evenly over its window in an x of
/// shape input_shape. Backward: avg_pool.
Tensor avg_pool_adjoint(const Tensor& grad_output, const Shape& input_shape, const PoolOptions& options);
/// Mean / maximum over all spatial positions: (N, C, [H,] W) -> (N, C).
Tensor global_avg_pool(const Tensor& x);
Tensor global_max_pool(const Tensor& x);

// ---- operators -------------------------------------------------------------------------------------

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator-(const Tensor& x) { return neg(x); }
inline Tensor operator+(const Tensor& x, double s) { return add(x, s); }
inline Tensor operator-(const Tensor& x, double s) { return sub(x, s); }
inline Tensor operator*(const Tensor& x, double s) { return mul(x, s); }
inline Tensor operator/(const Tensor& x, double s) { return div(x, s); }
inline Tensor operator+(double s, const Tensor& x) { return add(x, s); }
inline Tensor operator-(double s, const Tensor& x) { return rsub(s, x); }
inline Tensor operator*(double s, const Tensor& x) { return mul(x, s); }
inline Tensor operator/(double s, const Tensor& x) { return rdiv(s, x); }

}  // namespace matnn::ad
