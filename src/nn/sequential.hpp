// A chain of single-input modules applied in order.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "nn/module.hpp"

namespace matnn::nn {

/// forward(x) = m_{k-1}(...m_1(m_0(x))). Children are named by position, "0", "1", ..., so a
/// parameter of the third layer is "2.weight" (or "layers.2.weight" inside a parent that
/// registers the Sequential as "layers"). Layers without parameters (activations, dropout)
/// still take a position, so names depend only on the architecture.
class Sequential : public Module {
 public:
  Sequential() = default;

  /// Appends a module (shared ownership) and returns a reference to it, typed.
  template <typename M>
  M& add(std::shared_ptr<M> module) {
    M& ref = *module;
    append(std::shared_ptr<Module>(std::move(module)));
    return ref;
  }
  /// Constructs a module in place: seq.emplace<Linear>(4, 8, rng).
  template <typename M, typename... Args>
  M& emplace(Args&&... args) {
    return add(std::make_shared<M>(std::forward<Args>(args)...));
  }

  ad::Tensor forward(const ad::Tensor& x) override;
  std::string type_name() const override { return "Sequential"; }

  std::size_t size() const noexcept { return modules_.size(); }
  Module& operator[](std::size_t i) const;

 private:
  void append(std::shared_ptr<Module> module);
  std::vector<std::shared_ptr<Module>> modules_;
};

}  // namespace matnn::nn
