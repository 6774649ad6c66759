// The base class of every network layer and model: a tree of modules owning named tensors.
//
// Naming. A module registers its own parameters ("weight", "bias"), its buffers (non-trained
// state such as "running_mean") and its child modules ("layers", "0", "1", ...). Recursive
// names join these with dots: "layers.2.weight". The order is registration order, depth first
// with a module's own tensors before its children's, so it depends only on how the model was
// built, never on addresses or hashing: model files and optimiser checkpoints rely on it.
//
// Ownership. Registration stores pointers to the subclass's member Tensors and Modules, which
// is why modules can be neither copied nor moved (keep them in place or in smart pointers).
// Replacing a whole tensor object behind a slot is allowed (the registry sees the member), but
// to() and load_state() deliberately keep the tensor *objects* and change their storage in
// place, so handles held by optimisers and EMAs stay valid.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "autodiff/tensor.hpp"
#include "nn/state.hpp"

namespace matnn::nn {

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;
  Module(Module&&) = delete;
  Module& operator=(Module&&) = delete;

  /// The module applied to one input tensor (sequential use). Modules that take several
  /// inputs (graphs, neighbour lists) define their own call and leave this one failing with
  /// MATNN_ERROR_UNSUPPORTED.
  virtual ad::Tensor forward(const ad::Tensor& x);
  ad::Tensor operator()(const ad::Tensor& x) { return forward(x); }

  /// A short class name for messages and printing ("Linear", "Sequential").
  virtual std::string type_name() const { return "Module"; }

  /// Trainable tensors of this module and all descendants, with dotted names, in the
  /// deterministic order described above.
  NamedTensors named_parameters() const;
  /// Non-trained state (e.g. batch-norm running statistics), same naming and order rules.
  NamedTensors named_buffers() const;
  /// named_parameters() without the names.
  std::vector<ad::Tensor> parameters() const;
  /// Direct children with their names, in registration order.
  std::vector<std::pair<std::string, Module*>> children() const;

  /// Copies (not aliases) of every parameter and buffer, keyed by dotted name: what a model
  /// file or checkpoint stores. Names of parameters and buffers never collide (checked at
  /// registration).
  std::map<std::string, ad::Tensor> state() const;
  /// Overwrites every parameter and buffer from `values`, in place. Every expected name must
  /// be present with exactly the registered shape and no unknown name may appear; otherwise
  /// nothing is changed and MATNN_ERROR_MODEL is thrown naming the offending tensor, e.g.
  /// "parameter layers.2.weight has shape (64, 32), expected (64, 16)". Values of another
  /// dtype are converted to the module's dtype.
  void load_state(const std::map<std::string, ad::Tensor>& values);

  /// Training mode (dropout active, batch statistics) or evaluation mode; recursive.
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const noexcept { return training_; }

  /// Converts every parameter and buffer to `dtype` in place (same tensor objects, new
  /// storage; gradients are cleared). Create optimisers after this call: their moment
  /// estimates are allocated in the parameters' dtype.
  void to(ad::DType dtype);

  /// Sets .grad() of every parameter back to undefined.
  void zero_grad();

 protected:
  /// Registers `*slot` (a member of the subclass) as a parameter named `name`; the tensor is
  /// marked requires_grad. `name` must be non-empty, dot-free and unique in this module.
  void register_parameter(const std::string& name, ad::Tensor* slot);
  /// Registers a buffer: saved and converted like a parameter, but never trained.
  void register_buffer(const std::string& name, ad::Tensor* slot);
  /// Registers a child (a member or an object the subclass owns through a pointer).
  void register_module(const std::string& name, Module* child);

 private:
  void check_new_name(const std::string& name) const;
  void collect(const std::string& prefix, bool buffers, NamedTensors& out) const;

  std::vector<std::pair<std::string, ad::Tensor*>> parameters_;
  std::vector<std::pair<std::string, ad::Tensor*>> buffers_;
  std::vector<std::pair<std::string, Module*>> children_;
  bool training_ = true;
};

/// Converts `t` to `dtype` keeping the same tensor object (every handle sees the new storage);
/// requires_grad is kept and .grad() cleared. A no-op when the dtype already matches.
void convert_in_place(const ad::Tensor& t, ad::DType dtype);
/// Copies the values of `src` (same shape, any dtype) into the storage of `dst`.
void copy_values(const ad::Tensor& dst, const ad::Tensor& src);

}  // namespace matnn::nn
