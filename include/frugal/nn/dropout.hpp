#pragma once
/// \file
/// Inverted dropout: in training, each value is zeroed with probability p and the survivors are
/// scaled by 1 / (1 − p); in evaluation the layer is the identity.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "../core/rng.hpp"
#include "concepts.hpp"

namespace frugal::nn {

/// Dropout with probability `p` on any shape. The mask of the k-th training forward is a pure
/// function of (seed, k): drawn in fixed chunks of values, chunk c from the stream
/// `rng(seed).split(k).split(c)`, so it is the same on any thread count and a run resumed with
/// `set_step(k)` draws the masks it would have drawn. `set_training(false)` makes it the identity.
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class dropout {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  explicit dropout(S p, std::uint64_t seed = 1, Exec exec = Exec{}) : m_p(p), m_seed(seed), m_exec(std::move(exec)) {
    check(p >= S(0) && p < S(1), "frugal::nn::dropout: p = ", p, " must be in [0, 1)");
  }

  [[nodiscard]] S probability() const noexcept { return m_p; }
  void set_training(bool training) noexcept { m_training = training; }
  [[nodiscard]] bool training() const noexcept { return m_training; }
  /// Training forwards so far (the next mask's stream).
  [[nodiscard]] std::uint64_t step() const noexcept { return m_step; }
  void set_step(std::uint64_t step) noexcept { m_step = step; }

  const tensor<S>& forward(const tensor<S>& x) {
    m_output.resize_like(x);
    m_mask.resize_like(x);
    m_ready = true;
    const S* in = x.data();
    S* out = m_output.data();
    S* mask = m_mask.data();
    if (!m_training || m_p == S(0)) {
      parallel_for("frugal::nn::dropout::identity", m_exec, x.size(), [=](index_t i) {
        out[i] = in[i];
        mask[i] = S(1);
      });
      return m_output;
    }
    const rng stream = rng(m_seed).split(m_step++);
    const double keep = 1.0 - static_cast<double>(m_p);
    const S scale = S(1) / static_cast<S>(keep);
    const index_t n = x.size();
    const index_t chunks = (n + chunk - 1) / chunk;
    parallel_for("frugal::nn::dropout::forward", m_exec, chunks, [=](index_t c) {
      rng gen = stream.split(static_cast<std::uint64_t>(c));
      const index_t end = std::min(n, (c + 1) * chunk);
      for (index_t i = c * chunk; i < end; ++i) {
        mask[i] = gen.uniform() < keep ? scale : S(0);
        out[i] = in[i] * mask[i];
      }
    });
    return m_output;
  }

  const tensor<S>& backward(const tensor<S>& dy, bool need_input_grad = true) {
    check(m_ready, "frugal::nn::dropout::backward: called before forward");
    check_extent("frugal::nn::dropout::backward", "gradient size", dy.size(), m_mask.size());
    if (!need_input_grad) {
      m_input_grad.resize({0});
      return m_input_grad;
    }
    m_input_grad.resize_like(m_mask);
    const S* d = dy.data();
    const S* mask = m_mask.data();
    S* dx = m_input_grad.data();
    parallel_for("frugal::nn::dropout::backward", m_exec, dy.size(), [=](index_t i) { dx[i] = d[i] * mask[i]; });
    return m_input_grad;
  }

  void register_parameters(parameter_registry<S>&, const std::string&) {}
  void reset_parameters(rng&) {}

 private:
  /// Values per mask chunk (one random stream each); fixed so masks do not depend on threads.
  static constexpr index_t chunk = 4096;

  S m_p;
  std::uint64_t m_seed;
  Exec m_exec;
  std::uint64_t m_step = 0;
  bool m_training = true, m_ready = false;
  tensor<S> m_output, m_mask, m_input_grad;
};

}  // namespace frugal::nn
