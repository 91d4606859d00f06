#pragma once
/// \file
/// Optimizers over a parameter registry: SGD (momentum, Nesterov, weight decay), Adam, and
/// row-wise Adagrad. All follow PyTorch's update rules, respect parameter masks (a masked entry's
/// gradient is zeroed before the update and its value re-zeroed after), keep their state per
/// parameter *name*, and save and load that state through checkpoint files.

#include <cmath>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "adam_update.hpp"
#include "concepts.hpp"
#include "parameter.hpp"

namespace frugal::nn {

namespace detail {

template <class S>
void mask_gradient(parameter<S>& p) {
  if (p.mask) p.grad.array() *= p.mask->array();
}

/// Elements of a parameter per chunk of an elementwise update.
inline constexpr index_t update_grain = index_t{1} << 13;

/// Runs `f(segment)` over shape-determined chunks of a parameter's `size` elements in parallel on
/// `exec`, where `segment(m)` is the chunk's segment of a flat matrix `m` (an Eigen array block):
/// elementwise updates give the same bits on any thread count.
template <HostExecutionSpace Exec, class F>
void for_each_segment(const Exec& exec, const char* label, index_t size, const F& f) {
  parallel_for_chunks(label, exec, size, update_grain, [&](index_t b, index_t e) {
    f([=](auto& m) {
      return Eigen::Map<Eigen::Array<typename std::remove_cvref_t<decltype(m)>::Scalar, Eigen::Dynamic, 1>>(
          m.data() + b, e - b);
    });
  });
}

/// The masked-gradient, update, re-mask sequence of every optimizer, elementwise on chunks:
/// g ← g·mask; `update(segment)`; w ← mask ? w : +0; g ← mask ? g : +0.
template <class S, HostExecutionSpace Exec, class Update>
void masked_update(const Exec& exec, const char* label, parameter<S>& p, const Update& update) {
  matrix<S>* mask = p.mask ? &*p.mask : nullptr;
  for_each_segment(exec, label, p.value.size(), [&](auto segment) {
    if (mask) segment(p.grad) *= segment(*mask);
    update(segment);
    if (mask) {
      const auto keep = segment(*mask) != S(0);
      segment(p.value) = keep.select(segment(p.value), S(0));
      segment(p.grad) = keep.select(segment(p.grad), S(0));
    }
  });
}

template <class S>
matrix<S>& state_for(std::map<std::string, matrix<S>, std::less<>>& states, const std::string& name, index_t rows,
                     index_t cols) {
  auto it = states.find(name);
  if (it == states.end()) it = states.emplace(name, matrix<S>::Zero(rows, cols)).first;
  check(it->second.rows() == rows && it->second.cols() == cols, "frugal::nn optimizer: state of parameter '", name,
        "' is ", it->second.rows(), "x", it->second.cols(), " but the parameter is ", rows, "x", cols);
  return it->second;
}

template <class S>
void save_states(checkpoint_writer& out, std::string_view prefix, std::string_view kind,
                 const std::map<std::string, matrix<S>, std::less<>>& states) {
  for (const auto& [name, m] : states) {
    const std::string key = std::string(prefix) + "/" + std::string(kind) + "/" + name;
    out.put<S>(key, std::span<const S>(m.data(), static_cast<std::size_t>(m.size())));
    const std::int64_t shape[2] = {m.rows(), m.cols()};
    out.put<std::int64_t>(key + "#shape", shape);
  }
}

template <class S>
void load_states(const checkpoint_reader& in, std::string_view prefix, std::string_view kind,
                 std::map<std::string, matrix<S>, std::less<>>& states) {
  states.clear();
  const std::string head = std::string(prefix) + "/" + std::string(kind) + "/";
  for (const auto& key : in.names()) {
    if (key.rfind(head, 0) != 0 || key.ends_with("#shape")) continue;
    const auto shape = in.get<std::int64_t>(key + "#shape");
    if (shape.size() != 2 || shape[0] < 0 || shape[1] < 0)
      throw format_error(
          frugal::detail::concat("frugal::nn optimizer: bad shape record for '", key, "' in '", in.file(), "'"),
          in.file(), 0);
    matrix<S> m(shape[0], shape[1]);
    in.get_into<S>(key, std::span<S>(m.data(), static_cast<std::size_t>(m.size())));
    states.emplace(key.substr(head.size()), std::move(m));
  }
}

}  // namespace detail

/// Options of `sgd`; designated-initialise the fields you change.
template <Scalar S>
struct sgd_options {
  S learning_rate = S(0.01);
  S momentum = S(0);
  S dampening = S(0);
  S weight_decay = S(0);  ///< L2 penalty added to the gradient
  bool nesterov = false;
};

/// Stochastic gradient descent, PyTorch's rule: g = ∇ + λw; b = μb + (1-τ)g (b = g on the first
/// step); g = g + μb if Nesterov else b; w ← w - η g. Elementwise on chunks of each parameter, in
/// parallel on `Exec`.
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class sgd {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  explicit sgd(sgd_options<S> options = {}, Exec exec = Exec{}) : m_options(options), m_exec(std::move(exec)) {
    check(options.learning_rate >= 0, "frugal::nn::sgd: learning_rate = ", options.learning_rate, " must be >= 0");
    check(options.momentum >= 0, "frugal::nn::sgd: momentum = ", options.momentum, " must be >= 0");
    check(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
          "frugal::nn::sgd: nesterov needs momentum > 0 and dampening = 0");
  }

  void step(const parameter_registry<S>& registry) {
    const sgd_options<S> o = m_options;
    for (const auto& [name, p] : registry) {
      const bool momentum = o.momentum != S(0);
      const bool fresh = momentum && m_buffers.find(name) == m_buffers.end();
      matrix<S>* buffer = momentum ? &detail::state_for(m_buffers, name, p->value.rows(), p->value.cols()) : nullptr;
      parameter<S>& q = *p;
      detail::masked_update(m_exec, "frugal::nn::sgd::step", q, [&](auto segment) {
        Eigen::Array<S, Eigen::Dynamic, 1> g = segment(q.grad);
        if (o.weight_decay != S(0)) g += o.weight_decay * segment(q.value);
        if (buffer) {
          auto b = segment(*buffer);
          if (fresh)
            b = g;
          else
            b = o.momentum * b + (S(1) - o.dampening) * g;
          if (o.nesterov)
            g += o.momentum * b;
          else
            g = b;
        }
        segment(q.value) -= o.learning_rate * g;
      });
    }
  }

  [[nodiscard]] const sgd_options<S>& options() const noexcept { return m_options; }
  void set_learning_rate(S lr) { m_options.learning_rate = lr; }

  void save_state(checkpoint_writer& out, std::string_view prefix = "optimizer") const {
    detail::save_states(out, prefix, "sgd_momentum", m_buffers);
  }
  void load_state(const checkpoint_reader& in, std::string_view prefix = "optimizer") {
    detail::load_states(in, prefix, "sgd_momentum", m_buffers);
  }

 private:
  sgd_options<S> m_options;
  Exec m_exec;
  std::map<std::string, matrix<S>, std::less<>> m_buffers;
};

/// Options of `adam`.
template <Scalar S>
struct adam_options {
  S learning_rate = S(1e-3);
  S beta1 = S(0.9);
  S beta2 = S(0.999);
  S epsilon = S(1e-8);
  S weight_decay = S(0);  ///< L2 penalty added to the gradient (PyTorch Adam, not AdamW)
};

/// Adam (Kingma and Ba), PyTorch's rule: m ← β₁m + (1-β₁)g; v ← β₂v + (1-β₂)g²;
/// w ← w - η · (m / (1-β₁ᵗ)) / (sqrt(v / (1-β₂ᵗ)) + ε). Elementwise on chunks of each parameter,
/// in parallel on `Exec`; the arithmetic is `adam_update` in `adam_form::pytorch`.
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class adam {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  explicit adam(adam_options<S> options = {}, Exec exec = Exec{}) : m_options(options), m_exec(std::move(exec)) {
    check(options.learning_rate >= 0, "frugal::nn::adam: learning_rate = ", options.learning_rate, " must be >= 0");
    check(options.beta1 >= 0 && options.beta1 < 1, "frugal::nn::adam: beta1 = ", options.beta1, " must be in [0, 1)");
    check(options.beta2 >= 0 && options.beta2 < 1, "frugal::nn::adam: beta2 = ", options.beta2, " must be in [0, 1)");
    check(options.epsilon > 0, "frugal::nn::adam: epsilon = ", options.epsilon, " must be > 0");
  }

  void step(const parameter_registry<S>& registry) {
    ++m_step;
    const adam_update_options<S> update_options{.learning_rate = m_options.learning_rate,
                                                .beta1 = m_options.beta1,
                                                .beta2 = m_options.beta2,
                                                .epsilon = m_options.epsilon,
                                                .gradient_weight1 = std::nullopt,
                                                .gradient_weight2 = std::nullopt,
                                                .form = adam_form::pytorch};
    const S wd = m_options.weight_decay;
    for (const auto& [name, p] : registry) {
      auto& m = detail::state_for(m_first, name, p->value.rows(), p->value.cols());
      auto& v = detail::state_for(m_second, name, p->value.rows(), p->value.cols());
      parameter<S>& q = *p;
      detail::masked_update(m_exec, "frugal::nn::adam::step", q, [&](auto segment) {
        auto w = segment(q.value);
        auto mm = segment(m);
        auto vv = segment(v);
        const auto n = static_cast<std::size_t>(w.size());
        auto update = [&](const S* g) {
          adam_update<S>(std::span<S>(w.data(), n), std::span<const S>(g, n), std::span<S>(mm.data(), n),
                         std::span<S>(vv.data(), n), m_step, update_options);
        };
        if (wd != S(0)) {
          const Eigen::Array<S, Eigen::Dynamic, 1> g = segment(q.grad) + wd * w;
          update(g.data());
        } else {
          update(segment(q.grad).data());
        }
      });
    }
  }

  [[nodiscard]] const adam_options<S>& options() const noexcept { return m_options; }
  void set_learning_rate(S lr) { m_options.learning_rate = lr; }
  [[nodiscard]] std::int64_t step_count() const noexcept { return m_step; }

  void save_state(checkpoint_writer& out, std::string_view prefix = "optimizer") const {
    out.put_value<std::int64_t>(std::string(prefix) + "/adam_step", m_step);
    detail::save_states(out, prefix, "adam_m", m_first);
    detail::save_states(out, prefix, "adam_v", m_second);
  }
  void load_state(const checkpoint_reader& in, std::string_view prefix = "optimizer") {
    m_step = in.get_value<std::int64_t>(std::string(prefix) + "/adam_step");
    detail::load_states(in, prefix, "adam_m", m_first);
    detail::load_states(in, prefix, "adam_v", m_second);
  }

 private:
  adam_options<S> m_options;
  Exec m_exec;
  std::int64_t m_step = 0;
  std::map<std::string, matrix<S>, std::less<>> m_first, m_second;
};

/// Options of `rowwise_adagrad`.
template <Scalar S>
struct rowwise_adagrad_options {
  S learning_rate = S(0.01);
  S epsilon = S(1e-10);
  S weight_decay = S(0);
};

/// Row-wise Adagrad (the embedding-table optimizer of FBGEMM and DLRM): one accumulator per row,
/// G_r ← G_r + mean_j g_rj², w_r ← w_r - η g_r / (sqrt(G_r) + ε). One scalar of state per row
/// instead of one per weight. `update_row` is the same rule for callers holding sparse rows.
template <Scalar S, HostExecutionSpace Exec = default_host_space>
class rowwise_adagrad {
 public:
  using scalar_type = S;
  using execution_space = Exec;

  explicit rowwise_adagrad(rowwise_adagrad_options<S> options = {}, Exec exec = Exec{})
      : m_options(options), m_exec(std::move(exec)) {
    check(options.learning_rate >= 0, "frugal::nn::rowwise_adagrad: learning_rate = ", options.learning_rate,
          " must be >= 0");
    check(options.epsilon > 0, "frugal::nn::rowwise_adagrad: epsilon = ", options.epsilon, " must be > 0");
  }

  /// The rule for one row: updates `row` in place from `grad` and the row's accumulator.
  static void update_row(std::span<S> row, std::span<const S> grad, S& accumulator,
                         const rowwise_adagrad_options<S>& o) {
    S sum = 0;
    const std::size_t d = row.size();
    for (std::size_t j = 0; j < d; ++j) {
      const S g = grad[j] + o.weight_decay * row[j];
      sum += g * g;
    }
    accumulator += d ? sum / static_cast<S>(d) : S(0);
    const S scale = o.learning_rate / (std::sqrt(accumulator) + o.epsilon);
    for (std::size_t j = 0; j < d; ++j) row[j] -= scale * (grad[j] + o.weight_decay * row[j]);
  }

  void step(const parameter_registry<S>& registry) {
    for (const auto& [name, p] : registry) {
      detail::mask_gradient(*p);
      auto& acc = detail::state_for(m_accumulators, name, p->value.rows(), 1);
      const auto cols = static_cast<std::size_t>(p->value.cols());
      S* value = p->value.data();
      S* grad = p->grad.data();
      S* accumulator = acc.data();
      const rowwise_adagrad_options<S> o = m_options;
      // Rows are independent: chunks of rows in parallel.
      parallel_for_chunks("frugal::nn::rowwise_adagrad::step", m_exec, p->value.rows(),
                          grain_for(static_cast<index_t>(cols)), [=](index_t r0, index_t r1) {
                            for (index_t r = r0; r < r1; ++r)
                              update_row(std::span<S>(value + r * static_cast<index_t>(cols), cols),
                                         std::span<const S>(grad + r * static_cast<index_t>(cols), cols),
                                         accumulator[r], o);
                          });
      p->apply_mask();
    }
  }

  [[nodiscard]] const rowwise_adagrad_options<S>& options() const noexcept { return m_options; }
  void set_learning_rate(S lr) { m_options.learning_rate = lr; }

  void save_state(checkpoint_writer& out, std::string_view prefix = "optimizer") const {
    detail::save_states(out, prefix, "rowwise_adagrad", m_accumulators);
  }
  void load_state(const checkpoint_reader& in, std::string_view prefix = "optimizer") {
    detail::load_states(in, prefix, "rowwise_adagrad", m_accumulators);
  }

 private:
  rowwise_adagrad_options<S> m_options;
  Exec m_exec;
  std::map<std::string, matrix<S>, std::less<>> m_accumulators;
};

static_assert(Optimizer<sgd<float>> && Optimizer<adam<float>> && Optimizer<rowwise_adagrad<float>>);

}  // namespace frugal::nn
