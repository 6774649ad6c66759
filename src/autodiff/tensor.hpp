// Dense tensors of the autodiff engine: contiguous row-major storage of rank 0..4, float32 or
// float64 chosen at run time, held through a cheap value handle (`Tensor`). A tensor that
// requires grad and was produced by an op while recording was on carries the graph node
// (`grad_fn`) that the reverse pass follows; see graph.hpp.
//
// Storage is shared, never copied, by handles, by detach() and by reshape(). Writing through
// data<T>() into a tensor that a recorded graph still uses gives wrong gradients: the engine
// has no version counters, so treat tensors that took part in a graph as immutable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace matnn::ad {

enum class DType { f32, f64 };

/// "float32" or "float64".
const char* dtype_name(DType dtype) noexcept;
/// Bytes per element (4 or 8).
std::size_t dtype_size(DType dtype) noexcept;

template <typename T>
struct DTypeOf;
template <>
struct DTypeOf<float> {
  static constexpr DType value = DType::f32;
};
template <>
struct DTypeOf<double> {
  static constexpr DType value = DType::f64;
};
template <typename T>
inline constexpr DType dtype_of = DTypeOf<T>::value;

using Shape = std::vector<int64_t>;
inline constexpr int kMaxRank = 4;

/// Row indices shared (not copied) by the gather/scatter ops of a graph and their backward.
using Index = std::shared_ptr<const std::vector<int32_t>>;
Index make_index(std::vector<int32_t> values);

/// "(2, 3)"; "()" for a scalar.
std::string shape_str(const Shape& shape);
/// Product of the dimensions (1 for rank 0).
int64_t shape_numel(const Shape& shape);

struct Node;
struct TensorImpl;

/// A value handle on a tensor. Copies share the same tensor (storage, graph node and .grad()).
/// A default-constructed Tensor is "undefined" (e.g. an absent bias); most accessors throw on it.
class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const noexcept { return impl_ != nullptr; }

  const Shape& shape() const;
  /// Number of dimensions (0..4).
  int64_t rank() const;
  /// Size along axis i; negative i counts from the end (-1 is the last axis).
  int64_t dim(int64_t i) const;
  int64_t numel() const;
  DType dtype() const;

  /// Pointer to the first element; T must match dtype() (else MATNN_ERROR_INVALID_ARGUMENT).
  template <typename T>
  T* data() const {
    check_dtype(dtype_of<T>);
    return static_cast<T*>(raw_data());
  }
  void* raw_data() const;

  /// The single element as double (numel() must be 1).
  double item() const;
  /// All elements converted to double, row-major.
  std::vector<double> to_vector() const;

  /// A handle on the same storage with no graph and requires_grad() == false.
  Tensor detach() const;
  /// A new tensor with its own copy of the data, no graph.
  Tensor clone_data() const;

  /// False for a module parameter under FrozenParametersGuard (graph.hpp).
  bool requires_grad() const;
  /// Marks a leaf as a variable to differentiate w.r.t. Only leaves (no grad_fn) may change.
  /// Returns *this for chaining: `auto w = randn(...).set_requires_grad(true);`
  Tensor& set_requires_grad(bool enabled);
  /// True when the tensor has no grad_fn (created by a factory, detach(), or under no-grad).
  bool is_leaf() const;
  const std::shared_ptr<Node>& grad_fn() const;

  /// Gradient accumulated by backward() into a leaf; undefined until the first backward().
  Tensor grad() const;
  void set_grad(const Tensor& grad) const;

  TensorImpl* impl() const noexcept { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const noexcept { return impl_; }

 private:
  void check_defined() const;
  void check_dtype(DType expected) const;
  std::shared_ptr<TensorImpl> impl_;
};

/// Engine-private state behind a Tensor handle.
struct TensorImpl {
  std::shared_ptr<void> storage;  // 64-byte aligned, numel * dtype_size bytes
  Shape shape;
  int64_t numel = 0;
  DType dtype = DType::f32;
  bool requires_grad = false;
  bool parameter = false;  // a module's parameter: a constant under FrozenParametersGuard
  std::shared_ptr<Node> grad_fn;
  std::shared_ptr<TensorImpl> grad;
};

// ---- factories -------------------------------------------------------------------------------
// Shapes must have rank <= 4 and non-negative dimensions (MATNN_ERROR_INVALID_ARGUMENT).

/// Uninitialised contents.
Tensor empty(const Shape& shape, DType dtype = DType::f32);
Tensor zeros(const Shape& shape, DType dtype = DType::f32);
Tensor ones(const Shape& shape, DType dtype = DType::f32);
Tensor full(const Shape& shape, double value, DType dtype = DType::f32);
/// Rank-0 tensor.
Tensor scalar(double value, DType dtype = DType::f32);
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
/// Copies `values` (size must equal the product of `shape`); float -> f32, double -> f64.
Tensor from_vector(const std::vector<float>& values, const Shape& shape);
Tensor from_vector(const std::vector<double>& values, const Shape& shape);
/// Normal(mean, stddev) samples drawn in row-major order from `rng` (deterministic for a seed).
Tensor randn(const Shape& shape, std::mt19937_64& rng, DType dtype = DType::f32, double mean = 0.0,
             double stddev = 1.0);
/// Uniform[low, high) samples drawn in row-major order from `rng`.
Tensor rand(const Shape& shape, std::mt19937_64& rng, DType dtype = DType::f32, double low = 0.0,
            double high = 1.0);

}  // namespace matnn::ad
