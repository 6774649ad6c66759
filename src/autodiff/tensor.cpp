#include "autodiff/tensor.hpp"

#include <cstdlib>
#include <cstring>

#include "autodiff/buffer_pool.hpp"
#include "autodiff/graph.hpp"
#include "autodiff/kernels.hpp"

namespace matnn::ad {

const char* dtype_name(DType dtype) noexcept { return dtype == DType::f32 ? "float32" : "float64"; }

std::size_t dtype_size(DType dtype) noexcept { return dtype == DType::f32 ? 4 : 8; }

Index make_index(std::vector<int32_t> values) {
  return std::make_shared<const std::vector<int32_t>>(std::move(values));
}

std::string shape_str(const Shape& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

// ---- detail helpers ----------------------------------------------------------------------------

namespace detail {

void invalid(std::string_view op, const std::string& what) {
  fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: {}", op, what);
}

void check_defined(std::string_view op, const Tensor& t, const char* name) {
  if (!t.defined()) invalid(op, fmt::format("{} is an undefined tensor", name));
}

void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    invalid(op, fmt::format("dtype mismatch: {} {} vs {} {} (use to() to convert)",
                            dtype_name(a.dtype()), shape_str(a.shape()), dtype_name(b.dtype()),
                            shape_str(b.shape())));
}

void check_rank(std::string_view op, const Tensor& t, int64_t rank) {
  if (t.rank() != rank)
    invalid(op, fmt::format("expected a rank-{} tensor, got shape {}", rank, shape_str(t.shape())));
}

int64_t normalize_axis(std::string_view op, int64_t axis, const Shape& shape) {
  const auto rank = static_cast<int64_t>(shape.size());
  const int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    invalid(op, fmt::format("axis {} out of range for shape {}", axis, shape_str(shape)));
  return a;
}

}  // namespace detail

// ---- Tensor ------------------------------------------------------------------------------------

void Tensor::check_defined() const {
  if (!impl_) fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor: use of an undefined tensor");
}

void Tensor::check_dtype(DType expected) const {
  check_defined();
  if (impl_->dtype != expected)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor: data<{}>() on a {} tensor", dtype_name(expected),
         dtype_name(impl_->dtype));
}

const Shape& Tensor::shape() const {
  check_defined();
  return impl_->shape;
}

int64_t Tensor::rank() const { return static_cast<int64_t>(shape().size()); }

int64_t Tensor::dim(int64_t i) const {
  return shape()[static_cast<std::size_t>(detail::normalize_axis("dim", i, shape()))];
}

int64_t Tensor::numel() const {
  check_defined();
  return impl_->numel;
}

DType Tensor::dtype() const {
  check_defined();
  return impl_->dtype;
}

void* Tensor::raw_data() const {
  check_defined();
  if (!impl_->storage && impl_->numel > 0)
    fail(MATNN_ERROR_INTERNAL, "tensor: the values of a {} tensor {} were released (a graph link); the op that "
         "reads them must say so in record()", dtype_name(impl_->dtype), shape_str(impl_->shape));
  return impl_->storage.get();
}

double Tensor::item() const {
  if (numel() != 1)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "item: tensor of shape {} has {} elements, not 1",
         shape_str(shape()), numel());
  return to_vector()[0];
}

std::vector<double> Tensor::to_vector() const {
  std::vector<double> v(static_cast<std::size_t>(numel()));
  detail::dispatch(dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* p = data<T>();
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(p[i]);
  });
  return v;
}

Tensor Tensor::detach() const {
  check_defined();
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->numel = impl_->numel;
  impl->dtype = impl_->dtype;
  return Tensor(std::move(impl));
}

Tensor Tensor::clone_data() const {
  Tensor out = empty(shape(), dtype());
  if (numel() > 0)
    std::memcpy(out.raw_data(), raw_data(), static_cast<std::size_t>(numel()) * dtype_size(dtype()));
  return out;
}

bool Tensor::requires_grad() const {
  check_defined();
  return impl_->requires_grad && !(impl_->parameter && parameters_frozen());
}

Tensor& Tensor::set_requires_grad(bool enabled) {
  check_defined();
  if (impl_->grad_fn)
    fail(MATNN_ERROR_INVALID_ARGUMENT,
         "set_requires_grad: only leaf tensors can change requires_grad (this one is the output "
         "of '{}'; use detach())",
         impl_->grad_fn->name);
  impl_->requires_grad = enabled;
  return *this;
}

bool Tensor::is_leaf() const {
  check_defined();
  return impl_->grad_fn == nullptr;
}

const std::shared_ptr<Node>& Tensor::grad_fn() const {
  check_defined();
  return impl_->grad_fn;
}

Tensor Tensor::grad() const {
  check_defined();
  return Tensor(impl_->grad);
}

void Tensor::set_grad(const Tensor& grad) const {
  check_defined();
  impl_->grad = grad.impl_ptr();
}

// ---- factories ---------------------------------------------------------------------------------

Tensor empty(const Shape& shape, DType dtype) {
  if (shape.size() > static_cast<std::size_t>(kMaxRank))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor: rank {} of shape {} exceeds the maximum of {}",
         shape.size(), shape_str(shape), kMaxRank);
  for (int64_t d : shape)
    if (d < 0) fail(MATNN_ERROR_INVALID_ARGUMENT, "tensor: negative dimension in shape {}", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->shape = shape;
  impl->numel = shape_numel(shape);
  impl->dtype = dtype;
  const std::size_t bytes = static_cast<std::size_t>(impl->numel) * dtype_size(dtype);
  try {
    impl->storage = allocate_buffer(bytes);
  } catch (const Error&) {
    fail(MATNN_ERROR_OUT_OF_MEMORY, "tensor: cannot allocate {} bytes for shape {}", bytes, shape_str(shape));
  }
  return Tensor(std::move(impl));
}

Tensor full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  detail::dispatch(dtype, [&](auto zero) {
    using T = decltype(zero);
    std::fill_n(t.data<T>(), t.numel(), static_cast<T>(value));
  });
  return t;
}

Tensor zeros(const Shape& shape, DType dtype) { return full(shape, 0.0, dtype); }
Tensor ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Tensor scalar(double value, DType dtype) { return full({}, value, dtype); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype()); }

namespace {
template <typename T>
Tensor from_values(const std::vector<T>& values, const Shape& shape) {
  Tensor t = empty(shape, dtype_of<T>);
  if (static_cast<int64_t>(values.size()) != t.numel())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "from_vector: {} values for shape {} ({} elements)",
         values.size(), shape_str(shape), t.numel());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

template <typename Dist>
Tensor sample(const Shape& shape, DType dtype, Dist dist, std::mt19937_64& rng) {
  Tensor t = empty(shape, dtype);
  detail::dispatch(dtype, [&](auto zero) {
    using T = decltype(zero);
    T* p = t.data<T>();
    for (int64_t i = 0; i < t.numel(); ++i) p[i] = static_cast<T>(dist(rng));
  });
  return t;
}
}  // namespace

Tensor from_vector(const std::vector<float>& values, const Shape& shape) { return from_values(values, shape); }
Tensor from_vector(const std::vector<double>& values, const Shape& shape) { return from_values(values, shape); }

Tensor randn(const Shape& shape, std::mt19937_64& rng, DType dtype, double mean, double stddev) {
  return sample(shape, dtype, std::normal_distribution<double>(mean, stddev), rng);
}

Tensor rand(const Shape& shape, std::mt19937_64& rng, DType dtype, double low, double high) {
  return sample(shape, dtype, std::uniform_real_distribution<double>(low, high), rng);
}

}  // namespace matnn::ad
