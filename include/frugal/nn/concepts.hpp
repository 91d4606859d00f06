#pragma once
/// \file
/// The seams of the nn substrate, as concepts, so a wrong policy fails at compile time with a
/// readable message instead of deep inside a template.

#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

#include "../core/checkpoint.hpp"
#include "../core/execution.hpp"
#include "../core/rng.hpp"
#include "parameter.hpp"
#include "tensor.hpp"

namespace frugal::nn {

/// How a Linear or Conv2d layer stores its weight W (out_features x in_features) and multiplies
/// with it on the layer's execution space `Exec`. The layer owns activations, bias and gradients
/// of activations; the policy owns the weight storage and the two products. Batches are
/// column-major: x is in x n, y is out x n.
///
/// - `forward(exec, x, y)`: y = W x
/// - `backward(exec, x, dy, dx)`: accumulates dW += dy xᵀ into its parameters' gradients and,
///   when `dx` is non-null, writes dx = Wᵀ dy
/// - `register_parameters(registry, prefix)`: exposes its *true* trainable tensors (a BCR policy
///   exposes compact blocks, a circulant policy its defining vectors)
/// - `reset_parameters(rng, bound)`: draws the weight uniformly from [-bound, bound]
template <class P, class Exec>
concept WeightPolicyFor = ExecutionSpace<Exec> &&
    requires(P& p, const P& cp, const Exec& exec, const_column_map<typename P::scalar_type> x,
             column_map<typename P::scalar_type> y, column_map<typename P::scalar_type>* dx,
             parameter_registry<typename P::scalar_type>& registry, const std::string& prefix, rng& gen,
             typename P::scalar_type bound) {
  requires Scalar<typename P::scalar_type>;
  { cp.out_features() } -> std::convertible_to<index_t>;
  { cp.in_features() } -> std::convertible_to<index_t>;
  cp.forward(exec, x, y);
  p.backward(exec, x, x, dx);
  p.register_parameters(registry, prefix);
  p.reset_parameters(gen, bound);
};

/// A weight policy usable on frugal's default host space (`WeightPolicyFor` it).
template <class P>
concept WeightPolicy = WeightPolicyFor<P, default_host_space>;

/// Builds a weight policy for an out × in weight: `factory(out_features, in_features)` returns a
/// policy of that shape, so generic code (an MLP builder, a model's constructor) makes a layer of
/// any policy from its two widths. A factory may keep state (a seed stream, say), so it is called
/// as a non-const lvalue, once per layer, in layer order.
template <class F, class Exec = default_host_space>
concept WeightFactory = requires(F& factory, index_t out_features, index_t in_features) {
  { factory(out_features, in_features) } -> WeightPolicyFor<Exec>;
};

/// The policy type a weight factory builds.
template <class F>
using factory_policy_t = std::remove_cvref_t<std::invoke_result_t<F&, index_t, index_t>>;

/// A weight policy that can also take its input *patch-major* — x(k, s) at xt[k·ld + s] with a
/// row stride it chooses — which `conv2d` then builds directly instead of the column-major patch
/// matrix (sparse kernels that vectorise over samples would otherwise transpose it):
///
/// - `prefers_patch_major(in_channels)`: whether `conv2d` should take this path for a layer with
///   that many input channels (else it uses `forward`/`backward` on column-major patches)
/// - `input_stride(n)`: the row stride for a batch of n (≥ n); columns n..ld−1 are zero-filled
/// - `forward_rows(exec, xt, ld, y)`: y = W x, n = y.cols()
/// - `backward_rows(exec, xt, ld, dy, dx)`: as `backward`, with x patch-major
template <class P, class Exec = default_host_space>
concept PatchMajorPolicy = WeightPolicyFor<P, Exec> &&
    requires(P& p, const P& cp, const Exec& exec, const typename P::scalar_type* xt, index_t n,
             column_map<typename P::scalar_type> y, const_column_map<typename P::scalar_type> dy,
             column_map<typename P::scalar_type>* dx) {
  { cp.prefers_patch_major(n) } -> std::convertible_to<bool>;
  { cp.input_stride(n) } -> std::convertible_to<index_t>;
  cp.forward_rows(exec, xt, n, y);
  p.backward_rows(exec, xt, n, dy, dx);
};

/// A patch-major policy that reads only some input rows, listed ascending by `used_inputs()`;
/// `conv2d` then builds only those patch rows (the others hold unspecified values).
template <class P, class Exec = default_host_space>
concept SelectiveInputPolicy = PatchMajorPolicy<P, Exec> && requires(const P& cp) {
  { cp.used_inputs() } -> std::convertible_to<std::span<const std::int32_t>>;
};

/// A layer of a `sequential` model. `forward` returns a reference to the layer's own output
/// buffer (valid until the next forward); `backward(dy, need_input_grad)` returns the gradient
/// with respect to the last forward's input (empty when `need_input_grad` is false) and
/// accumulates parameter gradients.
template <class L>
concept Layer = requires(L& l, const tensor<typename L::scalar_type>& t, bool flag,
                         parameter_registry<typename L::scalar_type>& registry, const std::string& prefix, rng& gen) {
  requires Scalar<typename L::scalar_type>;
  { l.forward(t) } -> std::same_as<const tensor<typename L::scalar_type>&>;
  { l.backward(t, flag) } -> std::same_as<const tensor<typename L::scalar_type>&>;
  l.register_parameters(registry, prefix);
  l.reset_parameters(gen);
};

/// A model the training loops (`train_classifier_epoch`, `evaluate_classifier`) drive: a
/// `Layer` that names its execution space and hands out a registry of its parameters
/// (`sequential` and `chain` are models).
template <class M>
concept Model = Layer<M> && requires(M& m) {
  typename M::execution_space;
  { m.parameters() } -> std::same_as<parameter_registry<typename M::scalar_type>>;
};

/// A layer with an inference-only forward, `predict(x)`: the same output as `forward(x)` (to the
/// last bits of floating-point reassociation) without keeping what `backward` needs, so it may
/// take a faster path — `conv2d` multiplies cache-sized chunks of patches instead of materialising
/// the whole patch matrix, `max_pool2d` skips the argmax. `backward` after `predict` is an error.
/// `sequential::predict` calls it where a layer has it and `forward` elsewhere.
template <class L>
concept InferenceLayer = Layer<L> && requires(L& l, const tensor<typename L::scalar_type>& t) {
  { l.predict(t) } -> std::same_as<const tensor<typename L::scalar_type>&>;
};

/// An optimizer updates every parameter of a registry from its gradient.
template <class O>
concept Optimizer = requires(O& o, const parameter_registry<typename O::scalar_type>& registry) {
  requires Scalar<typename O::scalar_type>;
  o.step(registry);
};

/// An optimizer whose state (moments, step count) goes into a checkpoint and comes back, so a
/// resumed run continues bit for bit.
template <class O>
concept CheckpointableOptimizer = Optimizer<O> &&
    requires(O& o, const O& co, checkpoint_writer& out, const checkpoint_reader& in, std::string_view prefix) {
  co.save_state(out, prefix);
  o.load_state(in, prefix);
};

}  // namespace frugal::nn
