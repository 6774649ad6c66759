// The recorded graph and the reverse pass.
//
// Every op whose output depends on a tensor that requires grad (while recording is on) gives
// its output a Node: the op's input handles and a backward function mapping grad_output to the
// gradients of the inputs. Backward functions are written with the same differentiable ops as
// the forward pass, so when grad() runs with create_graph = true the gradients are themselves
// recorded and can be differentiated again (forces -> force loss -> parameter gradients).
// With create_graph = false the reverse pass runs under NoGradGuard and records nothing.
#pragma once

#include <functional>
#include <vector>

#include "autodiff/tensor.hpp"

namespace matnn::ad {

/// What a backward function sees. `needs[i]` tells whether input i's gradient is wanted;
/// for the others it may return an undefined Tensor (and should, to save work).
struct BackwardContext {
  const std::vector<Tensor>& inputs;
  const Tensor& output;
  const Tensor& grad_output;
  const std::vector<bool>& needs;
};

/// Returns one gradient per input (same shape and dtype as the input, or undefined).
using BackwardFn = std::function<std::vector<Tensor>(const BackwardContext&)>;

/// Which values an op's backward reads besides the incoming gradient. The node keeps only
/// those; every other input stays in the graph as a link (shape, dtype and its own node, no
/// values), so its memory is freed as soon as the forward pass lets go of it. A force call then
/// holds what its reverse pass reads, not every intermediate of every layer. Ops that say
/// nothing keep everything.
struct Reads {
  enum class Inputs {
    all,     // every input's values
    none,    // shapes only (add, reshape, concat, ...)
    others,  // input i only for the other inputs' gradients (mul, matmul)
  };
  Inputs inputs = Inputs::all;
  bool output = true;  // the op's own output (exp, sigmoid, ...)
};
inline constexpr Reads kReadsEverything{};
inline constexpr Reads kReadsInputs{Reads::Inputs::all, false};
inline constexpr Reads kReadsShapes{Reads::Inputs::none, false};
inline constexpr Reads kReadsOtherInputs{Reads::Inputs::others, false};

struct Node {
  const char* name;  // op name, for messages
  std::vector<Tensor> inputs;
  BackwardFn backward;
  bool output_read = true;  // Reads::output: consumers must keep this node's output values
};

/// Whether ops record graph nodes on this thread (true by default).
bool grad_mode_enabled() noexcept;

/// Scope that sets the thread's recording mode and restores the previous one on exit.
class GradModeGuard {
 public:
  explicit GradModeGuard(bool enabled);
  ~GradModeGuard();
  GradModeGuard(const GradModeGuard&) = delete;
  GradModeGuard& operator=(const GradModeGuard&) = delete;

 private:
  bool previous_;
};

/// Scope in which ops record nothing (inference, optimiser updates, finite differences).
class NoGradGuard : public GradModeGuard {
 public:
  NoGradGuard() : GradModeGuard(false) {}
};

/// Scope in which module parameters count as constants on this thread: ops that depend on
/// parameters alone record nothing, and recorded ops drop the values that only a parameter's
/// gradient would read. For forces and other input gradients at inference, where the graph
/// would otherwise keep every layer's input for weight gradients nobody asks for.
class FrozenParametersGuard {
 public:
  FrozenParametersGuard();
  ~FrozenParametersGuard();
  FrozenParametersGuard(const FrozenParametersGuard&) = delete;
  FrozenParametersGuard& operator=(const FrozenParametersGuard&) = delete;

 private:
  bool previous_;
};

/// Whether a FrozenParametersGuard is active on this thread.
bool parameters_frozen() noexcept;

/// True when recording is on and some input requires grad: the op must then call record().
bool should_record(const std::vector<Tensor>& inputs);

/// Attaches a node to `out` when should_record(inputs); returns `out` (engine use by ops).
/// `reads` says which values the backward reads (see Reads).
Tensor record(Tensor out, const char* name, std::vector<Tensor> inputs, BackwardFn backward,
              Reads reads = kReadsEverything);

/// Gradients of `outputs` w.r.t. `inputs`, like torch.autograd.grad.
///  - grad_outputs: one per output (same shape); empty means ones for every output.
///  - create_graph: record the reverse pass so the returned gradients can be differentiated.
///  - allow_unused: an input that no output depends on gets zeros instead of an error.
/// Inputs may be leaves or intermediate tensors; each must require grad. A tensor used several
/// times receives the sum of its gradients. The graph is kept, so grad() may be called again.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {}, bool create_graph = false,
                         bool allow_unused = false);

/// Accumulates d loss / d leaf into leaf.grad() for every leaf that requires grad and that the
/// loss depends on (adds to an existing .grad()). `loss` must have one element unless
/// `grad_output` (same shape as loss) is given. Nothing is recorded.
void backward(const Tensor& loss, const Tensor& grad_output = {});

/// Clears .grad() of each tensor (it becomes undefined, as before the first backward()).
void zero_grad(const std::vector<Tensor>& params);

}  // namespace matnn::ad
