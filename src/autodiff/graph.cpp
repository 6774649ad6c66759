#include "autodiff/graph.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "autodiff/kernels.hpp"
#include "autodiff/ops.hpp"

namespace matnn::ad {

namespace {
thread_local bool t_grad_mode = true;
thread_local bool t_parameters_frozen = false;

// A handle that keeps `t` in the graph without its values: same shape, dtype and node. Leaves
// stay whole: the reverse pass identifies them by their impl, and their values belong to
// someone else anyway (parameters, inputs, constants). So does an output its own backward reads.
Tensor graph_link(const Tensor& t) {
  if (!t.defined() || !t.grad_fn() || t.grad_fn()->output_read || !t.impl()->storage) return t;
  auto link = std::make_shared<TensorImpl>();
  link->shape = t.impl()->shape;
  link->numel = t.impl()->numel;
  link->dtype = t.impl()->dtype;
  link->requires_grad = true;
  link->grad_fn = t.grad_fn();
  return Tensor(std::move(link));
}

// The identity of a tensor in the graph: its node, which it shares with its links; a leaf's
// impl.
const void* graph_key(const TensorImpl* impl) {
  return impl->grad_fn ? static_cast<const void*>(impl->grad_fn.get()) : static_cast<const void*>(impl);
}

}  // namespace

bool grad_mode_enabled() noexcept { return t_grad_mode; }

GradModeGuard::GradModeGuard(bool enabled) : previous_(t_grad_mode) { t_grad_mode = enabled; }
GradModeGuard::~GradModeGuard() { t_grad_mode = previous_; }

bool parameters_frozen() noexcept { return t_parameters_frozen; }

FrozenParametersGuard::FrozenParametersGuard() : previous_(t_parameters_frozen) { t_parameters_frozen = true; }
FrozenParametersGuard::~FrozenParametersGuard() { t_parameters_frozen = previous_; }

bool should_record(const std::vector<Tensor>& inputs) {
  if (!t_grad_mode) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn backward, Reads reads) {
  if (!should_record(inputs)) return out;
  auto node = std::make_shared<Node>();
  node->name = name;
  node->output_read = reads.output;
  if (reads.inputs != Reads::Inputs::all) {
    const auto wants_grad = [](const Tensor& t) { return t.defined() && t.requires_grad(); };
    const auto wanting = std::count_if(inputs.begin(), inputs.end(), wants_grad);
    for (Tensor& t : inputs) {
      // `others`: read when another input wants its gradient.
      const bool read = reads.inputs == Reads::Inputs::others && wanting > (wants_grad(t) ? 1 : 0);
      if (!read) t = graph_link(t);
    }
  }
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
  std::unordered_set<const void*> visited;
  std::vector<std::pair<ImplPtr, std::size_t>> stack;
  for (const Tensor& r : roots) {
    if (!r.requires_grad() || !visited.insert(graph_key(r.impl())).second) continue;
    stack.emplace_back(r.impl_ptr(), 0);
    while (!stack.empty()) {
      auto& [impl, next] = stack.back();
      const Node* node = impl->grad_fn.get();
      if (node && next < node->inputs.size()) {
        const ImplPtr& child = node->inputs[next++].impl_ptr();
        if (child && child->requires_grad && visited.insert(graph_key(child.get())).second) stack.emplace_back(child, 0);
      } else {
        order.push_back(impl);
        stack.pop_back();
      }
    }
  }
  return order;
}

// Adds `g` to the gradient summed so far. Without a recorded graph, in place where nothing else
// can see the sum's storage (a backward may return one tensor for several inputs, or a view of
// another gradient): a tensor read by many ops (NequIP's edge harmonics, by every output irrep of
// every layer) then has one gradient buffer alive at a time instead of three at every sum.
void accumulate(std::unordered_map<const void*, Tensor>& grads, const TensorImpl* impl, const Tensor& g) {
  auto [it, inserted] = grads.try_emplace(graph_key(impl), g);
  if (inserted) return;
  Tensor& sum = it->second;
  const bool private_sum = !grad_mode_enabled() && !sum.requires_grad() && sum.impl_ptr().use_count() == 1 &&
                           sum.impl()->storage.use_count() == 1;
  if (!private_sum) {
    sum = add(sum, g);
    return;
  }
  detail::dispatch(sum.dtype(), [&](auto zero) {
    using T = decltype(zero);
    T* out = sum.data<T>();
    const T* in = g.data<T>();
    detail::parallel_for(sum.numel(), sum.numel(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out[i] += in[i];
    });
  });
}

// The shared reverse pass: returns the gradient of every tensor in `targets` (undefined when
// no output depends on it).
std::vector<Tensor> reverse_pass(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
                                 const std::vector<TensorImpl*>& targets, bool create_graph) {
  const std::vector<ImplPtr> order = post_order(outputs);
  std::unordered_set<const void*> target_set;
  for (const TensorImpl* t : targets) target_set.insert(graph_key(t));

  // A tensor is needed when it is a target or leads to one; the rest of the graph is skipped
  // (e.g. forces need no parameter gradients).
  std::unordered_set<const void*> needed;
  for (const ImplPtr& p : order) {
    const void* key = graph_key(p.get());
    bool need = target_set.count(key) > 0;
    if (!need && p->grad_fn)
      for (const Tensor& in : p->grad_fn->inputs)
        if (in.defined() && needed.count(graph_key(in.impl()))) {
          need = true;
          break;
        }
    if (need) needed.insert(key);
  }

  GradModeGuard mode(create_graph);
  std::unordered_map<const void*, Tensor> grads;
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].requires_grad() && needed.count(graph_key(outputs[i].impl())))
      accumulate(grads, outputs[i].impl(), grad_outputs[i]);

  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    const void* key = graph_key(it->get());
    const Node* node = (*it)->grad_fn.get();
    if (!node || !needed.count(key)) continue;
    auto git = grads.find(key);
    if (git == grads.end()) continue;
    const Tensor gout = git->second;
    if (!target_set.count(key)) grads.erase(git);  // intermediate: no longer needed

    std::vector<bool> needs(node->inputs.size());
    bool any = false;
    for (std::size_t k = 0; k < needs.size(); ++k) {
      const Tensor& in = node->inputs[k];
      needs[k] = in.defined() && in.requires_grad() && needed.count(graph_key(in.impl())) > 0;
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
  for (const TensorImpl* t : targets) {
    auto git = grads.find(graph_key(t));
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
