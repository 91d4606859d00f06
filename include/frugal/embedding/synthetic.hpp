#pragma once
/// \file
/// A synthetic click log with a planted teacher, the default data of the FIITED example and of the
/// embedding tests: Criteo's shape (13 dense features, 26 categorical fields with cardinalities
/// from 10 to 10^6), Zipf-distributed ids, and labels drawn from a known model in which only some
/// rows and only some dimensions matter. Deterministic for a seed on every platform.
///
/// The teacher: id ranks r = 0, 1, … (by popularity) of field f carry a vector t_f(r) of
/// `teacher_dim` values of which only the first d(r) are non-zero, d(r) = ⌈D·√(h / (r + 1))⌉
/// clipped to [1, D] (the h = `head_fraction`·n most popular rows use every dimension, rarer rows
/// fewer); rows beyond `active_fraction`·n, and a `1 − active_probability` share of the others
/// outside the head, are all zero (they do not matter). The logit of an example is
///   z = b + α·Σ_f ⟨t_f, u_f⟩/√F + β·Σ_{f<g} ⟨t_f, t_g⟩/√(F(F−1)/2) + ⟨a, x⟩
/// with random directions u_f, dense weights a and dense features x_j = log(1 + Exp(1)·s_j); the
/// label is Bernoulli(sigmoid(z)). Ids are a seeded permutation of ranks, so popularity is not id
/// order.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/rng.hpp"
#include "bags.hpp"
#include "click_data.hpp"

namespace frugal::embedding {

/// Options of `synthetic_clicks`.
struct synthetic_options {
  std::vector<index_t> cardinalities = {};  ///< empty: 26 fields log-spaced from 10 to 10^6
  index_t dense_features = criteo_dense_features;
  double zipf_exponent = 1.05;      ///< P(rank r) ∝ (r + 1)^−s
  index_t teacher_dim = 16;         ///< D of the teacher vectors
  double head_fraction = 0.002;     ///< h/n: rows that use every teacher dimension
  double active_fraction = 0.2;     ///< rows beyond this fraction of the ranks never matter
  double active_probability = 0.6;  ///< chance that a row outside the head matters
  double linear_scale = 6.0;        ///< α
  double pairwise_scale = 2.0;      ///< β
  double dense_scale = 0.5;         ///< norm of the dense weights a
  double bias = -1.2;               ///< b
  std::uint64_t seed = 1;
};

/// The default cardinalities: 26 fields log-spaced from 10 to 10^6.
[[nodiscard]] inline std::vector<index_t> default_cardinalities() {
  std::vector<index_t> out;
  for (int f = 0; f < criteo_sparse_features; ++f)
    out.push_back(static_cast<index_t>(std::llround(std::pow(10.0, 1.0 + 5.0 * f / (criteo_sparse_features - 1)))));
  return out;
}

/// Generator of examples from the planted teacher. Examples are a pure function of (seed, index),
/// so any range can be generated independently (the train and test splits are ranges).
class synthetic_clicks {
 public:
  explicit synthetic_clicks(synthetic_options options = {}) : m_options(std::move(options)) {
    constexpr const char* where = "frugal::embedding::synthetic_clicks";
    if (m_options.cardinalities.empty()) m_options.cardinalities = default_cardinalities();
    for (index_t c : m_options.cardinalities)
      check(c >= 1 && c <= (index_t{1} << 32) - 1, where, ": cardinality ", c, " outside [1, 2^32 - 1]");
    check(m_options.dense_features >= 0, where, ": dense_features = ", m_options.dense_features, " is negative");
    check(m_options.zipf_exponent >= 0, where, ": zipf_exponent = ", m_options.zipf_exponent, " is negative");
    check(m_options.teacher_dim >= 1, where, ": teacher_dim = ", m_options.teacher_dim, " must be positive");
    check(m_options.head_fraction >= 0 && m_options.head_fraction <= 1 && m_options.active_fraction >= 0 &&
              m_options.active_fraction <= 1 && m_options.active_probability >= 0 && m_options.active_probability <= 1,
          where, ": head_fraction, active_fraction and active_probability must lie in [0, 1]");
    const std::size_t fields = m_options.cardinalities.size();
    rng gen(m_options.seed);
    const auto d = static_cast<std::size_t>(m_options.teacher_dim);
    m_cdf.resize(fields);
    m_multiplier.resize(fields);
    m_offset.resize(fields);
    m_direction.assign(fields * d, 0.0f);
    m_teacher.resize(fields);
    for (std::size_t f = 0; f < fields; ++f) {
      const auto n = static_cast<std::size_t>(m_options.cardinalities[f]);
      auto& cdf = m_cdf[f];
      cdf.resize(n);
      double total = 0;
      for (std::size_t r = 0; r < n; ++r)
        cdf[r] = total += std::pow(static_cast<double>(r + 1), -m_options.zipf_exponent);
      for (auto& c : cdf) c /= total;
      // A permutation rank -> id: r·A + B mod n with gcd(A, n) = 1.
      std::uint64_t a = 1;
      if (n > 1) do
          a = 1 + gen.uniform_int(n - 1);
        while (std::gcd<std::uint64_t, std::uint64_t>(a, n) != 1);
      m_multiplier[f] = a;
      m_offset[f] = n > 1 ? gen.uniform_int(n) : 0;
      double norm = 0;
      for (std::size_t j = 0; j < d; ++j)
        norm += std::pow(m_direction[f * d + j] = static_cast<float>(gen.normal()), 2);
      for (std::size_t j = 0; j < d; ++j) m_direction[f * d + j] /= static_cast<float>(std::sqrt(norm));
      // Teacher vectors of the rows that matter, by rank.
      const auto active = static_cast<std::size_t>(std::ceil(m_options.active_fraction * static_cast<double>(n)));
      m_teacher[f].assign(std::min(active, n) * d, 0.0f);
      const double head = std::max(1.0, m_options.head_fraction * static_cast<double>(n));
      for (std::size_t r = 0; r < std::min(active, n); ++r) {
        rng row_gen(detail::mix64(m_options.seed ^ detail::mix64((f + 1) * 0x100000001B3ULL + r)));
        if (static_cast<double>(r) >= head && row_gen.uniform() >= m_options.active_probability) continue;
        const auto dims = teacher_dims(r, head);
        for (std::size_t j = 0; j < dims; ++j)
          m_teacher[f][r * d + j] = static_cast<float>(row_gen.normal() / std::sqrt(static_cast<double>(dims)));
      }
    }
    m_dense_weights.resize(static_cast<std::size_t>(m_options.dense_features));
    m_dense_scales.resize(m_dense_weights.size());
    double norm = 0;
    for (auto& w : m_dense_weights) norm += std::pow(w = static_cast<float>(gen.normal()), 2);
    for (auto& w : m_dense_weights) w *= static_cast<float>(m_options.dense_scale / std::max(1e-12, std::sqrt(norm)));
    for (auto& s : m_dense_scales) s = static_cast<float>(std::pow(10.0, gen.uniform(0.0, 3.0)));
  }

  [[nodiscard]] const synthetic_options& options() const noexcept { return m_options; }
  [[nodiscard]] const std::vector<index_t>& cardinalities() const noexcept { return m_options.cardinalities; }

  /// Non-zero teacher dimensions of the row of rank `rank` in a field whose head holds `head` rows
  /// (before the activity draw).
  [[nodiscard]] std::size_t teacher_dims(std::size_t rank, double head) const noexcept {
    const double d = static_cast<double>(m_options.teacher_dim);
    const double dims = std::ceil(d * std::sqrt(head / static_cast<double>(rank + 1)));
    return static_cast<std::size_t>(std::clamp(dims, 1.0, d));
  }

  /// Examples [first, first + count). With `teacher_logits`, also the teacher's logit z of each
  /// example (its AUC is the best any model can reach on these labels).
  [[nodiscard]] click_dataset generate(index_t first, index_t count,
                                       std::vector<float>* teacher_logits = nullptr) const {
    check(first >= 0 && count >= 0, "frugal::embedding::synthetic_clicks::generate: negative range");
    const std::size_t fields = m_options.cardinalities.size();
    const auto nd = static_cast<std::size_t>(m_options.dense_features);
    const auto d = static_cast<std::size_t>(m_options.teacher_dim);
    click_dataset out;
    out.dense_features = m_options.dense_features;
    out.sparse_features = static_cast<index_t>(fields);
    out.cardinalities = m_options.cardinalities;
    out.dense.resize(static_cast<std::size_t>(count) * nd);
    out.sparse.resize(static_cast<std::size_t>(count) * fields);
    out.labels.resize(static_cast<std::size_t>(count));
    if (teacher_logits) teacher_logits->resize(static_cast<std::size_t>(count));
    const double pairs = fields > 1 ? static_cast<double>(fields * (fields - 1) / 2) : 1.0;
    std::vector<const float*> vectors(fields);
    std::vector<float> sum(d);
    for (index_t k = 0; k < count; ++k) {
      const auto i = static_cast<std::size_t>(k);
      rng gen(detail::mix64(m_options.seed * 0x9E3779B97F4A7C15ULL ^ static_cast<std::uint64_t>(first + k)));
      double z = m_options.bias;
      for (std::size_t j = 0; j < nd; ++j) {
        const double u = std::max(gen.uniform(), 1e-300);
        const auto x = static_cast<float>(std::log1p(-std::log(u) * m_dense_scales[j]));
        out.dense[i * nd + j] = x;
        z += m_dense_weights[j] * (x - std::log1p(m_dense_scales[j]));
      }
      double linear = 0;
      std::fill(sum.begin(), sum.end(), 0.0f);
      double self = 0;
      for (std::size_t f = 0; f < fields; ++f) {
        const auto& cdf = m_cdf[f];
        const double u = gen.uniform();
        const auto rank = static_cast<std::size_t>(std::upper_bound(cdf.begin(), cdf.end() - 1, u) - cdf.begin());
        const auto n = static_cast<std::uint64_t>(m_options.cardinalities[f]);
        out.sparse[i * fields + f] = static_cast<std::uint32_t>((rank * m_multiplier[f] + m_offset[f]) % n);
        const float* t = rank * d < m_teacher[f].size() ? m_teacher[f].data() + rank * d : nullptr;
        vectors[f] = t;
        if (!t) continue;
        for (std::size_t j = 0; j < d; ++j) {
          linear += t[j] * m_direction[f * d + j];
          sum[j] += t[j];
          self += static_cast<double>(t[j]) * t[j];
        }
      }
      double sq = 0;
      for (float s : sum) sq += static_cast<double>(s) * s;
      const double pairwise = 0.5 * (sq - self);  // Σ_{f<g} ⟨t_f, t_g⟩
      z += m_options.linear_scale * linear / std::sqrt(static_cast<double>(std::max<std::size_t>(fields, 1))) +
           m_options.pairwise_scale * pairwise / std::sqrt(pairs);
      if (teacher_logits) (*teacher_logits)[i] = static_cast<float>(z);
      const double p = 1.0 / (1.0 + std::exp(-z));
      out.labels[i] = gen.uniform() < p ? 1.0f : 0.0f;
    }
    return out;
  }

 private:
  synthetic_options m_options;
  std::vector<std::vector<double>> m_cdf;
  std::vector<std::uint64_t> m_multiplier, m_offset;
  std::vector<float> m_direction;
  std::vector<std::vector<float>> m_teacher;
  std::vector<float> m_dense_weights, m_dense_scales;
};

}  // namespace frugal::embedding
