#pragma once
/// \file
/// Training and evaluation loops for classifiers over in-memory datasets: shuffled mini-batches,
/// mean loss, accuracy and throughput, with progress reported through a callback.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "../core/progress.hpp"
#include "../core/rng.hpp"
#include "concepts.hpp"
#include "loss.hpp"
#include "tensor.hpp"

namespace frugal::nn {

/// A labelled dataset held elsewhere: `inputs` holds `labels.size()` samples of `sample_shape`
/// (for images: height, width, channels — NHWC without the batch) back to back.
struct dataset_view {
  std::span<const float> inputs;
  std::span<const std::int32_t> labels;
  std::array<index_t, 3> sample_shape{};

  [[nodiscard]] index_t size() const noexcept { return static_cast<index_t>(labels.size()); }
  [[nodiscard]] index_t sample_size() const noexcept { return sample_shape[0] * sample_shape[1] * sample_shape[2]; }

  /// Samples [first, first + count) of this view, sharing its memory.
  [[nodiscard]] dataset_view slice(index_t first, index_t count) const {
    check(first >= 0 && count >= 0 && first + count <= size(), "frugal::nn::dataset_view::slice: samples [", first,
          ", ", first + count, ") outside the ", size(), " held");
    const auto per = static_cast<std::size_t>(sample_size());
    return {inputs.subspan(static_cast<std::size_t>(first) * per, static_cast<std::size_t>(count) * per),
            labels.subspan(static_cast<std::size_t>(first), static_cast<std::size_t>(count)), sample_shape};
  }

  /// Throws unless inputs hold exactly size() samples.
  void validate(const char* where) const {
    check(sample_size() > 0, where, ": sample shape has a zero or negative extent");
    check_extent(where, "inputs vs labels x sample size", static_cast<index_t>(inputs.size()), size() * sample_size());
  }
};

/// Loss, accuracy and speed of one pass.
struct epoch_stats {
  double loss = 0;      ///< mean loss per sample
  double accuracy = 0;  ///< fraction classified correctly
  index_t samples = 0;  ///< samples seen
  double seconds = 0;   ///< wall time of the pass
  [[nodiscard]] double samples_per_second() const noexcept { return seconds > 0 ? samples / seconds : 0; }
};

namespace detail {

/// Copies samples `order[first, first + n)` into `x` (n, shape...) and their labels into `y`,
/// samples in parallel on `exec`.
template <Scalar S, HostExecutionSpace Exec>
void gather_batch(const Exec& exec, const dataset_view& data, std::span<const index_t> order, index_t first, index_t n,
                  tensor<S>& x, std::vector<std::int32_t>& y) {
  const index_t d = data.sample_size();
  x.resize({n, data.sample_shape[0], data.sample_shape[1], data.sample_shape[2]});
  y.resize(static_cast<std::size_t>(n));
  const float* inputs = data.inputs.data();
  const std::int32_t* labels = data.labels.data();
  const index_t* picked = order.data() + first;
  S* out = x.data();
  std::int32_t* out_labels = y.data();
  parallel_for_chunks("frugal::nn::gather_batch", exec, n, grain_for(d), [=](index_t i0, index_t i1) {
    for (index_t i = i0; i < i1; ++i) {
      std::copy_n(inputs + picked[i] * d, d, out + i * d);
      out_labels[i] = labels[picked[i]];
    }
  });
}

}  // namespace detail

/// One epoch of mini-batch training with softmax cross-entropy: the samples are shuffled with
/// `gen`, the last batch may be smaller. Reports progress after every batch, with the running
/// loss and accuracy, under phase name `phase`.
/// \tparam M a `Model` (a `sequential` or a `chain`)
template <Model M, Optimizer Opt>
requires std::is_same_v<typename M::scalar_type, typename Opt::scalar_type> epoch_stats
train_classifier_epoch(M& model, Opt& optimizer, const dataset_view& data, index_t batch_size, rng& gen,
                       const progress_callback& progress = {}, std::string_view phase = "train") {
  using S = typename M::scalar_type;
  data.validate("frugal::nn::train_classifier_epoch");
  check(batch_size > 0, "frugal::nn::train_classifier_epoch: batch_size = ", batch_size, " must be positive");
  const auto start = std::chrono::steady_clock::now();
  std::vector<index_t> order(static_cast<std::size_t>(data.size()));
  std::iota(order.begin(), order.end(), index_t{0});
  std::shuffle(order.begin(), order.end(), gen);
  auto registry = model.parameters();
  using Exec = typename M::execution_space;
  const Exec exec{};
  softmax_cross_entropy<S, Exec> loss(exec);
  tensor<S> x;
  std::vector<std::int32_t> y;
  double loss_sum = 0;
  index_t correct = 0;
  const index_t batches = (data.size() + batch_size - 1) / batch_size;
  for (index_t b = 0; b < batches; ++b) {
    const index_t first = b * batch_size, n = std::min(batch_size, data.size() - first);
    detail::gather_batch(exec, data, order, first, n, x, y);
    registry.zero_grad();
    const auto& logits = model.forward(x);
    loss_sum += static_cast<double>(loss.forward(logits, y)) * static_cast<double>(n);
    correct += count_correct(logits, y);
    model.backward(loss.backward());
    optimizer.step(registry);
    if (progress) {
      const index_t seen = first + n;
      const metric m[] = {{"loss", loss_sum / static_cast<double>(seen)},
                          {"accuracy", static_cast<double>(correct) / static_cast<double>(seen)}};
      progress({phase, b + 1, batches, m});
    }
  }
  epoch_stats stats;
  stats.samples = data.size();
  stats.loss = data.size() ? loss_sum / static_cast<double>(data.size()) : 0;
  stats.accuracy = data.size() ? static_cast<double>(correct) / static_cast<double>(data.size()) : 0;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

/// Mean loss and accuracy of `model` on `data`, in order, without touching any gradient; through
/// `model.predict` where the model has it (so a `backward` must follow a fresh `forward`).
template <Model M>
epoch_stats evaluate_classifier(M& model, const dataset_view& data, index_t batch_size = 256) {
  using S = typename M::scalar_type;
  data.validate("frugal::nn::evaluate_classifier");
  check(batch_size > 0, "frugal::nn::evaluate_classifier: batch_size = ", batch_size, " must be positive");
  const auto start = std::chrono::steady_clock::now();
  std::vector<index_t> order(static_cast<std::size_t>(data.size()));
  std::iota(order.begin(), order.end(), index_t{0});
  using Exec = typename M::execution_space;
  const Exec exec{};
  softmax_cross_entropy<S, Exec> loss(exec);
  tensor<S> x;
  std::vector<std::int32_t> y;
  double loss_sum = 0;
  index_t correct = 0;
  for (index_t first = 0; first < data.size(); first += batch_size) {
    const index_t n = std::min(batch_size, data.size() - first);
    detail::gather_batch(exec, data, order, first, n, x, y);
    const tensor<S>* logits = nullptr;
    if constexpr (requires { model.predict(x); })
      logits = &model.predict(x);  // inference path (sequential::predict)
    else
      logits = &model.forward(x);
    loss_sum += static_cast<double>(loss.forward(*logits, y)) * static_cast<double>(n);
    correct += count_correct(*logits, y);
  }
  epoch_stats stats;
  stats.samples = data.size();
  stats.loss = data.size() ? loss_sum / static_cast<double>(data.size()) : 0;
  stats.accuracy = data.size() ? static_cast<double>(correct) / static_cast<double>(data.size()) : 0;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace frugal::nn
