#pragma once
/// \file
/// DLRM (Naumov et al. 2019) on frugal's nn substrate, generic over the embedding storage and the
/// MLPs' layers: a bottom MLP over the dense features, one table per categorical field, the
/// pairwise dot-product interaction of the bottom output and the field embeddings, and a top MLP
/// to one logit trained with binary cross-entropy. The MLPs are run-time `nn::chain`s, so they
/// hold any weight policy (dense, block-circulant, BCR) or any layers at all. Plus a resumable
/// trainer over any checkpointable `nn::Optimizer` and exact evaluation (AUC, log loss).

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/progress.hpp"
#include "../core/rng.hpp"
#include "../nn/chain.hpp"
#include "../nn/concepts.hpp"
#include "../nn/loss.hpp"
#include "../nn/mlp.hpp"
#include "../nn/optimizer.hpp"
#include "../nn/serialization.hpp"
#include "bags.hpp"
#include "budget.hpp"
#include "click_data.hpp"
#include "concepts.hpp"
#include "metrics.hpp"

namespace frugal::embedding {

/// Layer widths of the two MLPs (the embedding width comes from the tables).
struct dlrm_options {
  std::vector<index_t> bottom = {64};  ///< hidden widths of the bottom MLP (its output is the table width)
  std::vector<index_t> top = {64};     ///< hidden widths of the top MLP (its output is one logit)
};

/// The DLRM model over tables of type `Table`. Not copyable or movable (the parameter registry
/// points into it); hold it by `std::unique_ptr` when it must travel.
template <EmbeddingTable Table>
class dlrm {
 public:
  using mlp_type = nn::chain<float>;

  /// Dense MLPs of `options`' widths. `tables[f]` serves field f; every table must have the same
  /// `dim()`.
  dlrm(index_t dense_features, std::vector<Table> tables, dlrm_options options, rng& gen)
      : dlrm(dense_features, std::move(tables), std::move(options), nn::dense_factory<float>{},
             nn::dense_factory<float>{}, gen) {}

  /// MLPs of `options`' widths whose linear layers' weight policies `bottom_weights` and
  /// `top_weights` build (`nn::WeightFactory`: `nn::dense_factory`, `sparse::circulant_factory`,
  /// `sparse::bcr_factory`, ...), initialised from `gen`.
  template <nn::WeightFactory BottomFactory, nn::WeightFactory TopFactory>
  dlrm(index_t dense_features, std::vector<Table> tables, dlrm_options options, BottomFactory bottom_weights,
       TopFactory top_weights, rng& gen)
      : m_dense_features(dense_features),
        m_tables(checked(dense_features, std::move(tables))),
        m_dim(m_tables.front().dim()),
        m_bottom(nn::make_mlp<float>(widths(dense_features, options.bottom, m_dim), std::move(bottom_weights),
                                     nn::mlp_options{.final_relu = true})),
        m_top(nn::make_mlp<float>(widths(m_dim + pair_count(), options.top, 1), std::move(top_weights))) {
    register_mlps();
    m_bottom.reset_parameters(gen);
    m_top.reset_parameters(gen);
  }

  /// Given MLPs, used as they are (not re-initialised): `bottom` maps the dense features to
  /// `dim()` values, `top` maps `dim()` + fields·(fields + 1)/2 interaction values to one logit
  /// (checked at the first forward, where the widths meet).
  dlrm(index_t dense_features, std::vector<Table> tables, mlp_type bottom, mlp_type top)
      : m_dense_features(dense_features),
        m_tables(checked(dense_features, std::move(tables))),
        m_dim(m_tables.front().dim()),
        m_bottom(std::move(bottom)),
        m_top(std::move(top)) {
    check(!m_bottom.empty() && !m_top.empty(), "frugal::embedding::dlrm: the bottom and top MLPs must have layers");
    register_mlps();
  }

  dlrm(const dlrm&) = delete;
  dlrm& operator=(const dlrm&) = delete;

  [[nodiscard]] index_t fields() const noexcept { return static_cast<index_t>(m_tables.size()); }
  [[nodiscard]] index_t dim() const noexcept { return m_dim; }
  [[nodiscard]] std::vector<Table>& tables() noexcept { return m_tables; }
  [[nodiscard]] const std::vector<Table>& tables() const noexcept { return m_tables; }
  /// The MLP parameters (the tables update themselves in `backward`).
  [[nodiscard]] nn::parameter_registry<float>& parameters() noexcept { return m_registry; }
  /// The bottom and top MLPs.
  [[nodiscard]] mlp_type& bottom_mlp() noexcept { return m_bottom; }
  [[nodiscard]] mlp_type& top_mlp() noexcept { return m_top; }

  /// Bytes of the MLPs' trainable parameters as their policies store them (a circulant layer's
  /// defining vectors, a BCR layer's kept values; caches such as FFT spectra not counted).
  [[nodiscard]] std::size_t mlp_parameter_bytes() const noexcept {
    return static_cast<std::size_t>(m_registry.element_count()) * sizeof(float);
  }

  /// Bytes of all embedding tables.
  [[nodiscard]] std::size_t embedding_bytes() const noexcept {
    std::size_t total = 0;
    for (const auto& t : m_tables) total += t.bytes_allocated();
    return total;
  }

  /// Logits of the examples `rows` of `data`.
  std::span<const float> forward(const click_dataset& data, std::span<const std::uint32_t> rows) {
    check_extent("frugal::embedding::dlrm::forward", "dense features", data.dense_features, m_dense_features);
    check_extent("frugal::embedding::dlrm::forward", "fields", data.sparse_features, fields());
    const auto n = static_cast<index_t>(rows.size());
    const auto nd = static_cast<std::size_t>(m_dense_features), nf = m_tables.size();
    const auto d = static_cast<std::size_t>(m_dim);
    m_n = n;
    m_dense.resize({n, m_dense_features});
    for (index_t i = 0; i < n; ++i) {
      const std::size_t r = rows[static_cast<std::size_t>(i)];
      check(r < static_cast<std::size_t>(data.size()), "frugal::embedding::dlrm::forward: row ", r, " >= ", data.size(),
            " examples");
      std::copy_n(data.dense.data() + r * nd, nd, m_dense.data() + static_cast<std::size_t>(i) * nd);
    }
    const nn::tensor<float>& bottom = m_bottom.forward(m_dense);
    check(bottom.rank() == 2 && bottom.extent(0) == n && bottom.extent(1) == m_dim,
          "frugal::embedding::dlrm::forward: the bottom MLP's output has shape ", bottom.shape_string(), ", expected (",
          n, ", ", m_dim, ") (the tables' dim)");
    m_bottom_out = &bottom;
    // One-hot bags per field.
    m_offsets.resize(static_cast<std::size_t>(n) + 1);
    std::iota(m_offsets.begin(), m_offsets.end(), index_t{0});
    m_indices.resize(nf * static_cast<std::size_t>(n));
    m_embedded.resize(nf * static_cast<std::size_t>(n) * d);
    for (std::size_t f = 0; f < nf; ++f) {
      std::uint32_t* idx = m_indices.data() + f * static_cast<std::size_t>(n);
      for (index_t i = 0; i < n; ++i)
        idx[i] = data.sparse[static_cast<std::size_t>(rows[static_cast<std::size_t>(i)]) * nf + f];
      m_tables[f].forward(bags(f), std::span<float>(m_embedded.data() + f * static_cast<std::size_t>(n) * d,
                                                    static_cast<std::size_t>(n) * d));
    }
    // Interaction: [bottom, <v_a, v_b> for a > b] over v_0 = bottom, v_1.. = embeddings.
    const index_t width = m_dim + pair_count();
    m_interaction.resize({n, width});
    for (index_t i = 0; i < n; ++i) {
      float* out = m_interaction.data() + static_cast<std::size_t>(i * width);
      const float* b = bottom.data() + static_cast<std::size_t>(i) * d;
      std::copy_n(b, d, out);
      std::size_t p = d;
      for (std::size_t a = 1; a <= nf; ++a)
        for (std::size_t c = 0; c < a; ++c) {
          const float* va = vector_of(bottom, a, i);
          const float* vc = vector_of(bottom, c, i);
          float dot = 0;
          for (std::size_t j = 0; j < d; ++j) dot += va[j] * vc[j];
          out[p++] = dot;
        }
    }
    const nn::tensor<float>& logits = m_top.forward(m_interaction);
    check(logits.size() == n, "frugal::embedding::dlrm::forward: the top MLP's output has shape ",
          logits.shape_string(), ", expected one logit for each of ", n, " examples");
    return {logits.data(), static_cast<std::size_t>(n)};
  }

  /// Back-propagates dL/d(logits) of the last forward: accumulates the MLP gradients in
  /// `parameters()` and updates the tables through their fused optimizers.
  void backward(std::span<const float> grad_logits) {
    check_extent("frugal::embedding::dlrm::backward", "logit gradients", static_cast<index_t>(grad_logits.size()), m_n);
    const index_t n = m_n;
    const auto nf = m_tables.size(), d = static_cast<std::size_t>(m_dim);
    m_grad_logits.resize({n, 1});
    std::copy(grad_logits.begin(), grad_logits.end(), m_grad_logits.data());
    const nn::tensor<float>& dinteraction = m_top.backward(m_grad_logits, true);
    const index_t width = m_dim + pair_count();
    m_grad_bottom.resize({n, m_dim});
    m_grad_embedded.assign(nf * static_cast<std::size_t>(n) * d, 0.0f);
    const nn::tensor<float>& bottom = *m_bottom_out;
    for (index_t i = 0; i < n; ++i) {
      const float* g = dinteraction.data() + static_cast<std::size_t>(i * width);
      float* gb = m_grad_bottom.data() + static_cast<std::size_t>(i) * d;
      std::copy_n(g, d, gb);
      std::size_t p = d;
      for (std::size_t a = 1; a <= nf; ++a)
        for (std::size_t c = 0; c < a; ++c) {
          const float gp = g[p++];
          if (gp == 0.0f) continue;
          const float* va = vector_of(bottom, a, i);
          const float* vc = vector_of(bottom, c, i);
          float* ga = grad_of(a, i);
          float* gc = c == 0 ? gb : grad_of(c, i);
          for (std::size_t j = 0; j < d; ++j) {
            ga[j] += gp * vc[j];
            gc[j] += gp * va[j];
          }
        }
    }
    for (std::size_t f = 0; f < nf; ++f)
      m_tables[f].backward(bags(f), std::span<const float>(m_grad_embedded.data() + f * static_cast<std::size_t>(n) * d,
                                                           static_cast<std::size_t>(n) * d));
    m_bottom.backward(m_grad_bottom, false);
  }

  /// Writes MLP parameters and tables under `prefix/`.
  void save(checkpoint_writer& out, std::string_view prefix) const {
    const std::string p(prefix);
    nn::save_parameters(out, m_registry, p + "/mlp");
    for (std::size_t f = 0; f < m_tables.size(); ++f) m_tables[f].save(out, p + "/table" + std::to_string(f));
  }
  void load(const checkpoint_reader& in, std::string_view prefix) {
    const std::string p(prefix);
    nn::load_parameters(in, m_registry, p + "/mlp");
    for (std::size_t f = 0; f < m_tables.size(); ++f) m_tables[f].load(in, p + "/table" + std::to_string(f));
  }

 private:
  void register_mlps() {
    m_bottom.register_parameters(m_registry, "bottom");
    m_top.register_parameters(m_registry, "top");
  }

  static std::vector<Table> checked(index_t dense_features, std::vector<Table> tables) {
    check(!tables.empty(), "frugal::embedding::dlrm: no embedding tables");
    check(dense_features > 0, "frugal::embedding::dlrm: dense_features = ", dense_features, " must be positive");
    for (std::size_t f = 0; f < tables.size(); ++f)
      check(tables[f].dim() == tables.front().dim(), "frugal::embedding::dlrm: table ", f, " has dim ", tables[f].dim(),
            ", table 0 has ", tables.front().dim());
    return tables;
  }

  static std::vector<index_t> widths(index_t in, const std::vector<index_t>& hidden, index_t out) {
    std::vector<index_t> w{in};
    w.insert(w.end(), hidden.begin(), hidden.end());
    w.push_back(out);
    for (index_t x : w) check(x > 0, "frugal::embedding::dlrm: layer width ", x, " must be positive");
    return w;
  }
  [[nodiscard]] index_t pair_count() const noexcept {
    const auto v = static_cast<index_t>(m_tables.size()) + 1;
    return v * (v - 1) / 2;
  }
  [[nodiscard]] bag_batch bags(std::size_t f) const noexcept {
    return bag_batch{.offsets = m_offsets,
                     .indices = std::span<const std::uint32_t>(m_indices.data() + f * static_cast<std::size_t>(m_n),
                                                               static_cast<std::size_t>(m_n))};
  }
  /// Vector a of example i: 0 = bottom output, f + 1 = field f's embedding.
  [[nodiscard]] const float* vector_of(const nn::tensor<float>& bottom, std::size_t a, index_t i) const noexcept {
    const auto d = static_cast<std::size_t>(m_dim);
    if (a == 0) return bottom.data() + static_cast<std::size_t>(i) * d;
    return m_embedded.data() + ((a - 1) * static_cast<std::size_t>(m_n) + static_cast<std::size_t>(i)) * d;
  }
  [[nodiscard]] float* grad_of(std::size_t a, index_t i) noexcept {
    const auto d = static_cast<std::size_t>(m_dim);
    return m_grad_embedded.data() + ((a - 1) * static_cast<std::size_t>(m_n) + static_cast<std::size_t>(i)) * d;
  }

  index_t m_dense_features;
  std::vector<Table> m_tables;
  index_t m_dim;
  mlp_type m_bottom, m_top;
  nn::parameter_registry<float> m_registry;
  index_t m_n = 0;
  nn::tensor<float> m_dense, m_interaction, m_grad_logits, m_grad_bottom;
  const nn::tensor<float>* m_bottom_out = nullptr;
  std::vector<index_t> m_offsets;
  std::vector<std::uint32_t> m_indices;
  std::vector<float> m_embedded, m_grad_embedded;
};

/// Exact metrics of a model over a dataset.
struct click_metrics {
  double auc = 0;
  double logloss = 0;
  index_t examples = 0;
};

/// AUC and log loss of `model` on every example of `data`, in batches of `batch`.
template <EmbeddingTable Table>
[[nodiscard]] click_metrics evaluate(dlrm<Table>& model, const click_dataset& data, index_t batch = 4096) {
  check(batch > 0, "frugal::embedding::evaluate: batch = ", batch, " must be positive");
  std::vector<float> logits(static_cast<std::size_t>(data.size()));
  std::vector<std::uint32_t> rows;
  for (index_t begin = 0; begin < data.size(); begin += batch) {
    const index_t end = std::min(data.size(), begin + batch);
    rows.resize(static_cast<std::size_t>(end - begin));
    std::iota(rows.begin(), rows.end(), static_cast<std::uint32_t>(begin));
    const auto out = model.forward(data, rows);
    std::copy(out.begin(), out.end(), logits.begin() + begin);
  }
  return {roc_auc(logits, data.labels), log_loss(logits, data.labels), data.size()};
}

/// Options of `click_trainer`.
struct click_train_options {
  index_t batch = 256;
  float learning_rate = 1e-3f;  ///< of the default Adam for the MLPs (the tables carry their own optimizer)
  std::uint64_t seed = 1;       ///< example order
  progress_callback progress = {};
  index_t progress_every = 200;  ///< steps between progress events
};

/// Mini-batch training of a `dlrm` over a dataset in a seeded order (a new permutation every
/// epoch), with an optional `budget_controller` over the model's tables (its `on_step` after every
/// step, which keeps the tables within its byte budget at every step's end) and an optional
/// per-step hook after it, and checkpoints that
/// resume bit for bit: the model (MLPs and tables with their optimizer state), the MLP optimizer's
/// state and the step counter; the example order is a pure function of (seed, epoch).
/// \tparam Optimizer what updates the MLPs (`nn::adam<float>` by default; `nn::sgd<float>` or any
///   `nn::CheckpointableOptimizer` over floats)
template <EmbeddingTable Table, nn::CheckpointableOptimizer Optimizer = nn::adam<float>>
requires std::is_same_v<typename Optimizer::scalar_type, float>
class click_trainer {
 public:
  using step_hook = std::function<void(index_t step)>;

  /// Trains the MLPs with Adam at `options.learning_rate` (when `Optimizer` is `nn::adam<float>`).
  click_trainer(dlrm<Table>& model, const click_dataset& data, click_train_options options,
                step_hook hook = {}) requires std::is_same_v<Optimizer, nn::adam<float>>
      : click_trainer(model, data, options,
                      nn::adam<float>(nn::adam_options<float>{.learning_rate = options.learning_rate}),
                      std::move(hook)) {}

  /// Trains the MLPs with `optimizer` (`options.learning_rate` is not used).
  click_trainer(dlrm<Table>& model, const click_dataset& data, click_train_options options, Optimizer optimizer,
                step_hook hook = {})
      : m_model(model),
        m_data(data),
        m_options(std::move(options)),
        m_hook(std::move(hook)),
        m_optimizer(std::move(optimizer)) {
    check(m_options.batch > 0, "frugal::embedding::click_trainer: batch = ", m_options.batch, " must be positive");
    check(data.size() >= m_options.batch, "frugal::embedding::click_trainer: ", data.size(),
          " examples, fewer than one batch of ", m_options.batch);
    data.validate();
  }

  /// Trains with Adam, and after every step runs `budget.on_step(step)`, then `hook`. `budget` must
  /// drive exactly the model's tables, in order (`budget_controller(model.tables(), …)`); it is
  /// held by reference and must outlive the trainer.
  template <BudgetedTable T = Table>
  requires std::is_same_v<T, Table> && std::is_same_v<Optimizer, nn::adam<float>> click_trainer(
      dlrm<Table>& model, const click_dataset& data, click_train_options options, budget_controller<T>& budget,
      step_hook hook = {})
      : click_trainer(model, data, options,
                      nn::adam<float>(nn::adam_options<float>{.learning_rate = options.learning_rate}), budget,
                      std::move(hook)) {}

  /// Trains the MLPs with `optimizer`, and after every step runs `budget.on_step(step)`, then `hook`.
  template <BudgetedTable T = Table>
  requires std::is_same_v<T, Table> click_trainer(dlrm<Table>& model, const click_dataset& data,
                                                  click_train_options options, Optimizer optimizer,
                                                  budget_controller<T>& budget, step_hook hook = {})
      : click_trainer(model, data, std::move(options), std::move(optimizer),
                      [&budget, hook = std::move(hook)](index_t step) {
                        budget.on_step(step);
                        if (hook) hook(step);
                      }) {
    const auto& driven = budget.tables();
    check(driven.size() == model.tables().size(), "frugal::embedding::click_trainer: the budget controller drives ",
          driven.size(), " tables, the model has ", model.tables().size());
    for (std::size_t f = 0; f < driven.size(); ++f)
      check(driven[f] == &model.tables()[f], "frugal::embedding::click_trainer: the budget controller's table ", f,
            " is not the model's table ", f, " (build it from model.tables())");
  }

  /// Steps taken so far.
  [[nodiscard]] index_t step() const noexcept { return m_step; }
  /// Steps in one pass over the data (the last partial batch is dropped).
  [[nodiscard]] index_t steps_per_epoch() const noexcept { return m_data.size() / m_options.batch; }

  /// Takes `steps` more steps; returns the mean training loss over them.
  double run(index_t steps) {
    double loss_sum = 0;
    std::vector<std::uint32_t> rows(static_cast<std::size_t>(m_options.batch));
    for (index_t k = 0; k < steps; ++k) {
      const index_t epoch = m_step / steps_per_epoch();
      if (epoch != m_order_epoch) make_order(epoch);
      const index_t first = (m_step % steps_per_epoch()) * m_options.batch;
      std::copy_n(m_order.begin() + first, m_options.batch, rows.begin());
      const auto logits = m_model.forward(m_data, rows);
      m_logits.resize({m_options.batch, 1});
      std::copy(logits.begin(), logits.end(), m_logits.data());
      for (std::size_t i = 0; i < rows.size(); ++i) m_targets[i] = m_data.labels[rows[i]];
      const float loss = m_loss.forward(m_logits, m_targets);
      loss_sum += loss;
      m_model.parameters().zero_grad();
      const auto& g = m_loss.backward();
      m_model.backward(std::span<const float>(g.data(), static_cast<std::size_t>(g.size())));
      m_optimizer.step(m_model.parameters());
      if (m_hook) m_hook(m_step);
      ++m_step;
      if (m_options.progress && (m_step % m_options.progress_every == 0 || k + 1 == steps)) {
        const metric figures[] = {{"loss", loss}};
        report(m_options.progress, progress_event{"train", k + 1, steps, figures});
      }
    }
    return steps > 0 ? loss_sum / static_cast<double>(steps) : 0.0;
  }

  /// Writes the whole training state to `path` (atomically).
  void save(const std::filesystem::path& path) const {
    checkpoint_writer out;
    out.put_string("trainer/kind", "frugal::embedding::click_trainer");
    out.put_value<std::int64_t>("trainer/step", m_step);
    out.put_value<std::uint64_t>("trainer/seed", m_options.seed);
    out.put_value<std::int64_t>("trainer/batch", m_options.batch);
    m_optimizer.save_state(out, optimizer_key());
    m_model.save(out, "model");
    out.write(path);
  }

  /// Restores a state written by `save` for the same model shape, data size, seed and batch.
  /// Throws `format_error` for a corrupted, truncated or mismatched file; the model is unchanged
  /// when the file is rejected before the tables are read.
  void load(const std::filesystem::path& path) {
    const checkpoint_reader in(path);
    detail::check_format(path.string(), in.get_string("trainer/kind") == "frugal::embedding::click_trainer",
                         "frugal::embedding::click_trainer::load: '", path.string(), "' is not a trainer checkpoint");
    detail::check_format(path.string(),
                         in.get_value<std::uint64_t>("trainer/seed") == m_options.seed &&
                             in.get_value<std::int64_t>("trainer/batch") == m_options.batch,
                         "frugal::embedding::click_trainer::load: '", path.string(),
                         "' was written with another seed or batch size");
    m_optimizer.load_state(in, optimizer_key());
    m_model.load(in, "model");
    m_step = in.get_value<std::int64_t>("trainer/step");
  }

  /// The MLP optimizer.
  [[nodiscard]] Optimizer& optimizer() noexcept { return m_optimizer; }

 private:
  /// Adam's state keeps the key checkpoints written before the optimizer became a parameter.
  static constexpr std::string_view optimizer_key() noexcept {
    return std::is_same_v<Optimizer, nn::adam<float>> ? "trainer/adam" : "trainer/optimizer";
  }

  void make_order(index_t epoch) {
    m_order.resize(static_cast<std::size_t>(m_data.size()));
    std::iota(m_order.begin(), m_order.end(), std::uint32_t{0});
    rng gen = rng(m_options.seed).split(static_cast<std::uint64_t>(epoch));
    for (std::size_t i = m_order.size(); i > 1; --i) std::swap(m_order[i - 1], m_order[gen.uniform_int(i)]);
    m_order_epoch = epoch;
    m_targets.resize(static_cast<std::size_t>(m_options.batch));
  }

  dlrm<Table>& m_model;
  const click_dataset& m_data;
  click_train_options m_options;
  step_hook m_hook;
  Optimizer m_optimizer;
  nn::bce_with_logits<float> m_loss;
  nn::tensor<float> m_logits;
  std::vector<float> m_targets;
  std::vector<std::uint32_t> m_order;
  index_t m_order_epoch = -1;
  index_t m_step = 0;
};

}  // namespace frugal::embedding
