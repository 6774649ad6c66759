#include "nn/module.hpp"

#include <cstring>

#include "autodiff/graph.hpp"
#include "autodiff/ops.hpp"
#include "matnn/error.hpp"

namespace matnn::nn {

ad::Tensor Module::forward(const ad::Tensor&) {
  fail(MATNN_ERROR_UNSUPPORTED, "{}: this module does not take a single input tensor", type_name());
}

void Module::check_new_name(const std::string& name) const {
  if (name.empty() || name.find('.') != std::string::npos)
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: invalid member name '{}' (non-empty, no dots)", type_name(), name);
  auto taken = [&](const auto& list) {
    for (const auto& entry : list)
      if (entry.first == name) return true;
    return false;
  };
  if (taken(parameters_) || taken(buffers_) || taken(children_))
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: member name '{}' registered twice", type_name(), name);
}

void Module::register_parameter(const std::string& name, ad::Tensor* slot) {
  check_new_name(name);
  if (!slot || !slot->defined())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: parameter '{}' is undefined", type_name(), name);
  slot->set_requires_grad(true);
  slot->impl()->parameter = true;
  parameters_.emplace_back(name, slot);
}

void Module::register_buffer(const std::string& name, ad::Tensor* slot) {
  check_new_name(name);
  if (!slot || !slot->defined())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: buffer '{}' is undefined", type_name(), name);
  buffers_.emplace_back(name, slot);
}

void Module::register_module(const std::string& name, Module* child) {
  check_new_name(name);
  if (!child) fail(MATNN_ERROR_INVALID_ARGUMENT, "{}: child module '{}' is null", type_name(), name);
  child->train(training_);
  children_.emplace_back(name, child);
}

void Module::collect(const std::string& prefix, bool buffers, NamedTensors& out) const {
  for (const auto& [name, slot] : buffers ? buffers_ : parameters_) out.emplace_back(prefix + name, *slot);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", buffers, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", false, out);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  collect("", true, out);
  return out;
}

std::vector<ad::Tensor> Module::parameters() const { return tensors_of(named_parameters()); }

std::vector<std::pair<std::string, Module*>> Module::children() const { return children_; }

std::map<std::string, ad::Tensor> Module::state() const {
  std::map<std::string, ad::Tensor> out;
  for (const auto& [name, t] : named_parameters()) out.emplace(name, t.clone_data());
  for (const auto& [name, t] : named_buffers()) out.emplace(name, t.clone_data());
  return out;
}

void Module::load_state(const std::map<std::string, ad::Tensor>& values) {
  const NamedTensors params = named_parameters();
  const NamedTensors buffers = named_buffers();
  // Validate everything before writing anything, so a bad file leaves the model untouched.
  std::size_t matched = 0;
  auto check = [&](const NamedTensors& expected, const char* kind) {
    for (const auto& [name, t] : expected) {
      auto it = values.find(name);
      if (it == values.end()) fail(MATNN_ERROR_MODEL, "{} {} is missing from the loaded state", kind, name);
      if (!it->second.defined()) fail(MATNN_ERROR_MODEL, "{} {} is undefined in the loaded state", kind, name);
      if (it->second.shape() != t.shape())
        fail(MATNN_ERROR_MODEL, "{} {} has shape {}, expected {}", kind, name, ad::shape_str(it->second.shape()),
             ad::shape_str(t.shape()));
      ++matched;
    }
  };
  check(params, "parameter");
  check(buffers, "buffer");
  if (matched != values.size()) {
    for (const auto& [name, t] : values) {
      bool known = false;
      for (const auto* list : {&params, &buffers})
        for (const auto& entry : *list) known = known || entry.first == name;
      if (!known) fail(MATNN_ERROR_MODEL, "the loaded state has an unexpected tensor {}", name);
    }
  }
  for (const auto* list : {&params, &buffers})
    for (const auto& [name, t] : *list) copy_values(t, values.at(name));
}

void Module::train(bool on) {
  training_ = on;
  for (const auto& [name, child] : children_) child->train(on);
}

void Module::to(ad::DType dtype) {
  for (const auto& [name, t] : named_parameters()) convert_in_place(t, dtype);
  for (const auto& [name, t] : named_buffers()) convert_in_place(t, dtype);
}

void Module::zero_grad() { ad::zero_grad(parameters()); }

void convert_in_place(const ad::Tensor& t, ad::DType dtype) {
  if (t.dtype() == dtype) return;
  ad::Tensor converted;
  {
    ad::NoGradGuard no_grad;
    converted = ad::to(t.detach(), dtype);
  }
  // Parameters are leaves, so swapping their storage cannot invalidate a recorded graph that
  // is still wanted; the handles in optimisers and EMAs keep pointing at this same impl.
  ad::TensorImpl* impl = t.impl();
  impl->storage = converted.impl()->storage;
  impl->dtype = dtype;
  impl->grad.reset();
}

void copy_values(const ad::Tensor& dst, const ad::Tensor& src) {
  if (src.shape() != dst.shape())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "copy_values: shape {} into {}", ad::shape_str(src.shape()),
         ad::shape_str(dst.shape()));
  ad::Tensor s = src;
  if (s.dtype() != dst.dtype()) {
    ad::NoGradGuard no_grad;
    s = ad::to(src.detach(), dst.dtype());
  }
  if (dst.numel() > 0 && s.raw_data() != dst.raw_data())
    std::memcpy(dst.raw_data(), s.raw_data(), static_cast<std::size_t>(dst.numel()) * ad::dtype_size(dst.dtype()));
}

}  // namespace matnn::nn
