#include "nn/sequential.hpp"

#include <string>

#include "matnn/error.hpp"

namespace matnn::nn {

void Sequential::append(std::shared_ptr<Module> module) {
  if (!module) fail(MATNN_ERROR_INVALID_ARGUMENT, "Sequential: cannot add a null module");
  register_module(std::to_string(modules_.size()), module.get());
  modules_.push_back(std::move(module));
}

ad::Tensor Sequential::forward(const ad::Tensor& x) {
  ad::Tensor y = x;
  for (const auto& m : modules_) y = m->forward(y);
  return y;
}

Module& Sequential::operator[](std::size_t i) const {
  if (i >= modules_.size())
    fail(MATNN_ERROR_INVALID_ARGUMENT, "Sequential: index {} out of range for {} modules", i, modules_.size());
  return *modules_[i];
}

}  // namespace matnn::nn
