#include "autodiff/graph.hpp"

#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace matnn::ad {

namespace {
thread_local bool t_grad_mode = true;
}

bool grad_mode_enabled() noexcept { return t_grad_mode; }

GradModeGuard::GradModeGuard(bool enabled) : previous_(t_grad_mode) { t_grad_mode = enabled; }
GradModeGuard::~GradModeGuard() { t_grad_mode = previous_; }

bool should_record(const std::vector<Tensor>& inputs) {
  if (!t_grad_mode) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn backward) {
  if (!should_record(inputs)) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
  return out;
}

namespace {

// Post-order (children before parents) over the tensors that require grad and are reachable
// from `roots` through grad_fn inputs. Iterative, so deep graphs do not exhaust the stack.
using ImplPtr = std::shared_ptr<TensorImpl>;

std::vector<ImplPtr> post_order(const std::vector<Tensor>& roots) {
  std::vector<ImplPtr> order;
  std::unordered_set<TensorImpl*> visited;
  std::vector<std::pair<ImplPtr, std::size_t>> stack;
  for (const Tensor& r : roots) {
    if (!r.requires_grad() || !visited.insert(r.impl()).second) continue;
    stack.emplace_back(r.impl_ptr(), 0);
    while (!stack.empty()) {
      auto& [impl, next] = stack.back();
      const Node* node = impl->grad_fn.get();
      if (node && next < node->inputs.size()) {
        const ImplPtr& child = node->inputs[next++].impl_ptr();
        if (child && child->requires_grad && visited.insert(child.get()).second) stack.emplace_back(child, 0);
      } else {
        order.push_back(impl);
        stack.pop_back();
      }
    }
  }
  return order;
}

void accumulate(std::unordered_map<TensorImpl*, Tensor>& grads, TensorImpl* impl, const Tensor& g) {
  auto [it, inserted] = grads.try_emplace(impl, g);
  if (!inserted) it->second = add(it->second, g);
}

// The shared reverse pass: returns the gradient of every tensor in `targets` (undefined when
// no output depends on it).
std::vector<Tensor> reverse_pass(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                                 const std::vector<TensorImpl*>& targets, bool create_graph) {
  const std::vector<ImplPtr> order = post_order(outputs);
  std::unordered_set<TensorImpl*> target_set(targets.begin(), targets.end());

  // A tensor is needed when it is a target or leads to one; the rest of the graph is skipped
  // (e.g. forces need no parameter gradients).
  std::unordered_set<TensorImpl*> needed;
  for (const ImplPtr& p : order) {
    TensorImpl* impl = p.get();
    bool need = target_set.count(impl) > 0;
    if (!need && impl->grad_fn)
      for (const Tensor& in : impl->grad_fn->inputs)
        if (in.defined() && needed.count(in.impl())) {
          need = true;
          break;
        }
    if (need) needed.insert(impl);
  }

  GradModeGuard mode(create_graph);
  std::unordered_map<TensorImpl*, Tensor> grads;
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].requires_grad() && needed.count(outputs[i].impl()))
      accumulate(grads, outputs[i].impl(), grad_outputs[i]);

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    TensorImpl* impl = it->get();
    const Node* node = impl->grad_fn.get();
    if (!node || !needed.count(impl)) continue;
    auto git = grads.find(impl);
    if (git == grads.end()) continue;
    const Tensor gout = git->second;
    if (!target_set.count(impl)) grads.erase(git);  // intermediate: no longer needed

    std::vector<bool> needs(node->inputs.size());
    bool any = false;
    for (std::size_t k = 0; k < needs.size(); ++k) {
      const Tensor& in = node->inputs[k];
      needs[k] = in.defined() && in.requires_grad() && needed.count(in.impl()) > 0;
      any = any || needs[k];
    }
    if (!any) continue;
    const Tensor out(*it);  // owning: a recorded backward may keep it in the new graph
    std::vector<Tensor> in_grads = node->backward(BackwardContext{node->inputs, out, gout, needs});
    for (std::size_t k = 0; k < needs.size(); ++k) {
      if (!needs[k] || k >= in_grads.size() || !in_grads[k].defined()) continue;
      const Tensor& in = node->inputs[k];
      const Tensor& g = in_grads[k];
      if (g.shape() != in.shape() || g.dtype() != in.dtype())
        fail(MATNN_ERROR_INTERNAL, "backward of '{}': gradient {} {} for input {} {} {}", node->name,
             dtype_name(g.dtype()), shape_str(g.shape()), k, dtype_name(in.dtype()), shape_str(in.shape()));
      accumulate(grads, in.impl(), g);
    }
  }

  std::vector<Tensor> result;
  result.reserve(targets.size());
  for (TensorImpl* t : targets) {
    auto git = grads.find(t);
    result.push_back(git == grads.end() ? Tensor() : git->second);
  }
  return result;
}

std::vector<Tensor> seed_gradients(const char* op, const std::vector<Tensor>& outputs,
                                   const std::vector<Tensor>& grad_outputs) {
  if (!grad_outputs.empty() && grad_outputs.size() != outputs.size())
    detail::invalid(op, fmt::format("{} grad_outputs for {} outputs", grad_outputs.size(), outputs.size()));
  std::vector<Tensor> seeds;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    detail::check_defined(op, outputs[i], "output");
    if (grad_outputs.empty() || !grad_outputs[i].defined()) {
      seeds.push_back(ones_like(outputs[i]));
      continue;
    }
    const Tensor& g = grad_outputs[i];
    if (g.shape() != outputs[i].shape())
      detail::invalid(op, fmt::format("grad_output {} has shape {}, output has shape {}", i,
                                      shape_str(g.shape()), shape_str(outputs[i].shape())));
    detail::check_same_dtype(op, outputs[i], g);
    seeds.push_back(g);
  }
  return seeds;
}

}  // namespace

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, bool create_graph, bool allow_unused) {
  const std::vector<Tensor> seeds = seed_gradients("grad", outputs, grad_outputs);
  std::vector<TensorImpl*> targets;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    detail::check_defined("grad", inputs[i], "input");
    if (!inputs[i].requires_grad())
      detail::invalid("grad", fmt::format("input {} (shape {}) does not require grad", i,
                                          shape_str(inputs[i].shape())));
    targets.push_back(inputs[i].impl());
  }
  std::vector<Tensor> result = reverse_pass(outputs, seeds, targets, create_graph);
  for (std::size_t i = 0; i < result.size(); ++i) {
    if (result[i].defined()) continue;
    if (!allow_unused)
      detail::invalid("grad", fmt::format("input {} (shape {}) is not used by the outputs (pass "
                                          "allow_unused = true to get zeros)",
                                          i, shape_str(inputs[i].shape())));
    result[i] = zeros_like(inputs[i]);
  }
  return result;
}

void backward(const Tensor& loss, const Tensor& grad_output) {
  detail::check_defined("backward", loss, "loss");
  if (!grad_output.defined() && loss.numel() != 1)
    detail::invalid("backward", fmt::format("loss of shape {} is not a single value; pass grad_output",
                                            shape_str(loss.shape())));
  if (!loss.requires_grad()) detail::invalid("backward", "the loss does not require grad");
  const std::vector<Tensor> seeds = seed_gradients("backward", {loss}, {grad_output});
  std::vector<TensorImpl*> leaves;
  for (const ImplPtr& impl : post_order({loss}))
    if (!impl->grad_fn) leaves.push_back(impl.get());
  const std::vector<Tensor> grads = reverse_pass({loss}, seeds, leaves, false);
  NoGradGuard no_grad;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    if (!grads[i].defined()) continue;
    Tensor g = grads[i].detach();
    if (leaves[i]->grad) g = add(Tensor(leaves[i]->grad), g);
    leaves[i]->grad = g.impl_ptr();
  }
}

void zero_grad(const std::vector<Tensor>& params) {
  for (const Tensor& p : params)
    if (p.defined()) p.impl()->grad.reset();
}

}  // namespace matnn::ad
