#pragma once
/// \file
/// The fixed-point model of frugal's BCR hardware layer (`bcr_verilog`): a P-lane MAC array
/// walking a BCR matrix's dense groups. Each cycle broadcasts one input x[c] to P lanes, lane l
/// adding W(r_l, c)·x[c] into the accumulator of a distinct row r_l. The schedule visits every
/// group, its rows in chunks of P, and for each chunk every column of the group, so a group of
/// R rows and C columns takes ⌈R/P⌉·C cycles, and lanes idle only on a group's last row chunk.
/// Accumulation is exact; each row's sum is rounded to the data format (`shift_round` by the
/// weights' fraction bits, saturated), the bias added (saturating) and ReLU applied when enabled.

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "../core/error.hpp"
#include "../nn/tensor.hpp"
#include "../sparse/bcr_matrix.hpp"
#include "circulant_model.hpp"
#include "fixed_point.hpp"

namespace frugal::fpga {

/// Number formats and parallelism of a hardware BCR layer.
struct bcr_options {
  fixed_format data{16, 10};   ///< inputs, outputs and bias
  fixed_format weights{8, 6};  ///< the kept weights
  int parallelism = 4;         ///< MAC lanes: a power of two in [1, 64]
  bool relu = false;           ///< apply max(0, ·) after the bias
};

/// One cycle of the BCR schedule: the input column all lanes read, and per lane whether it
/// works, the row it accumulates into and the weight code.
struct bcr_step {
  std::int32_t col = 0;
  std::vector<std::int32_t> row;
  std::vector<std::int64_t> weight;
  std::vector<bool> valid;
};

/// A BCR layer in fixed point: the schedule of weight codes and the bit-exact model of the
/// generated hardware.
class fixed_bcr_layer {
 public:
  /// The fixed-point image of a BCR matrix and its bias (empty: zero). Weights and bias outside
  /// their formats saturate; `saturated_codes()` counts them.
  template <nn::Scalar S>
  [[nodiscard]] static fixed_bcr_layer quantize(const sparse::bcr_matrix<S>& w, std::span<const S> bias,
                                                const bcr_options& options) {
    constexpr const char* who = "frugal::fpga::fixed_bcr_layer::quantize";
    options.data.validate(who);
    options.weights.validate(who);
    const int p = options.parallelism;
    check(p >= 1 && p <= 64 && (p & (p - 1)) == 0, who, ": parallelism = ", p, " must be a power of two in [1, 64]");
    check(options.weights.fraction_bits <= options.weights.total_bits + 8, who,
          ": weights.fraction_bits = ", options.weights.fraction_bits, " must be at most weights.total_bits + 8");
    check(bias.empty() || static_cast<index_t>(bias.size()) == w.rows(), who, ": bias has ", bias.size(),
          " entries, expected 0 or ", w.rows());
    check(w.rows() <= (index_t{1} << 20) && w.cols() <= (index_t{1} << 20), who, ": shape ", w.rows(), " x ", w.cols(),
          " exceeds 2^20");
    fixed_bcr_layer layer;
    layer.m_rows = w.rows();
    layer.m_cols = w.cols();
    layer.m_options = options;
    layer.m_bias.assign(static_cast<std::size_t>(w.rows()), 0);
    for (std::size_t r = 0; r < bias.size(); ++r)
      layer.m_bias[r] = options.data.to_code(static_cast<double>(bias[r]), &layer.m_saturated);
    const auto values = w.values();
    std::vector<index_t> per_row(static_cast<std::size_t>(w.rows()), 0);
    for (const auto& g : w.groups()) {
      const auto nr = static_cast<index_t>(g.rows.size()), nc = static_cast<index_t>(g.cols.size());
      for (index_t r0 = 0; r0 < nr; r0 += p)
        for (index_t c = 0; c < nc; ++c) {
          bcr_step step;
          step.col = g.cols[static_cast<std::size_t>(c)];
          for (index_t l = 0; l < p; ++l) {
            const bool ok = r0 + l < nr;
            step.valid.push_back(ok);
            step.row.push_back(ok ? g.rows[static_cast<std::size_t>(r0 + l)] : 0);
            step.weight.push_back(
                ok ? options.weights.to_code(
                         static_cast<double>(values[static_cast<std::size_t>(g.offset + (r0 + l) * nc + c)]),
                         &layer.m_saturated)
                   : 0);
            if (ok) ++per_row[static_cast<std::size_t>(g.rows[static_cast<std::size_t>(r0 + l)])];
          }
          layer.m_steps.push_back(std::move(step));
        }
      layer.m_nonzeros += nr * nc;
    }
    for (const auto n : per_row) layer.m_max_row_terms = std::max(layer.m_max_row_terms, n);
    return layer;
  }

  [[nodiscard]] index_t rows() const noexcept { return m_rows; }
  [[nodiscard]] index_t cols() const noexcept { return m_cols; }
  [[nodiscard]] const bcr_options& options() const noexcept { return m_options; }
  /// The schedule, one step per cycle of the MAC phase.
  [[nodiscard]] const std::vector<bcr_step>& steps() const noexcept { return m_steps; }
  /// Kept weights.
  [[nodiscard]] index_t nonzeros() const noexcept { return m_nonzeros; }
  /// Fraction of lane-cycles doing useful work, nonzeros / (steps · P).
  [[nodiscard]] double lane_utilisation() const noexcept {
    return m_steps.empty() ? 0.0
                           : static_cast<double>(m_nonzeros) /
                                 static_cast<double>(static_cast<index_t>(m_steps.size()) * m_options.parallelism);
  }
  [[nodiscard]] std::span<const std::int64_t> bias() const noexcept { return m_bias; }
  [[nodiscard]] std::int64_t saturated_codes() const noexcept { return m_saturated; }
  /// Accumulator width: weights + data bits + ⌈log2(most terms of a row + 1)⌉ + 1, and at least
  /// the weights' fraction bits + data bits + 1 so the rounded sum keeps a bit to saturate from.
  [[nodiscard]] int accumulator_bits() const noexcept {
    const int exact = m_options.weights.total_bits + m_options.data.total_bits + counter_bits(m_max_row_terms + 1) + 1;
    return std::max(exact, m_options.weights.fraction_bits + m_options.data.total_bits + 1);
  }

  /// y = W x + b (ReLU when enabled) in fixed point, exactly as the hardware computes it.
  void forward(std::span<const std::int64_t> x, std::span<std::int64_t> y) const {
    detail::check_forward("frugal::fpga::fixed_bcr_layer::forward", x, m_cols, y, m_rows, m_options.data);
    const int dw = m_options.data.total_bits;
    std::vector<std::int64_t> acc(static_cast<std::size_t>(m_rows), 0);
    for (const auto& s : m_steps)
      for (std::size_t l = 0; l < s.row.size(); ++l)
        if (s.valid[l]) acc[static_cast<std::size_t>(s.row[l])] += s.weight[l] * x[static_cast<std::size_t>(s.col)];
    for (index_t r = 0; r < m_rows; ++r) {
      const auto ru = static_cast<std::size_t>(r);
      const std::int64_t v = saturate(shift_round(acc[ru], m_options.weights.fraction_bits), dw);
      std::int64_t out = saturate(v + m_bias[ru], dw);
      if (m_options.relu && out < 0) out = 0;
      y[ru] = out;
    }
  }

  /// Clock cycles per product at one input per cycle: cols (load) + 1 (clear) + steps + 1
  /// (drain) + rows (output).
  [[nodiscard]] std::int64_t cycles_per_product() const noexcept {
    return m_cols + 1 + static_cast<std::int64_t>(m_steps.size()) + 1 + m_rows;
  }

  /// Hardware multipliers: one per lane.
  [[nodiscard]] index_t multipliers() const noexcept { return m_options.parallelism; }
  /// Multiply-accumulates per product, idle lanes included: steps · P.
  [[nodiscard]] double macs_per_product() const noexcept {
    return static_cast<double>(m_steps.size()) * m_options.parallelism;
  }
  /// On-chip memory accesses per product: a column word and P lane words per step, a bias per row.
  [[nodiscard]] double memory_accesses_per_product() const noexcept {
    return static_cast<double>(m_steps.size()) * (m_options.parallelism + 1) + static_cast<double>(m_rows);
  }
  /// Bytes of on-chip memory: the schedule (lane words and columns) and the bias.
  [[nodiscard]] double memory_bytes() const noexcept {
    const double lane_bits = 1 + counter_bits(m_rows) + m_options.weights.total_bits;
    return (static_cast<double>(m_steps.size()) * (m_options.parallelism * lane_bits + counter_bits(m_cols)) +
            static_cast<double>(m_rows) * m_options.data.total_bits) /
           8.0;
  }

  /// What the host writes through the load port (`sel` 0: lane word {valid, row, weight} at
  /// address step·P + lane; 1: column of a step; 2: bias of a row), as (sel, address, data).
  struct load_item {
    int sel = 0;
    std::uint32_t address = 0;
    std::uint64_t data = 0;
  };
  [[nodiscard]] std::vector<load_item> load_words() const {
    std::vector<load_item> words;
    const int ww = m_options.weights.total_bits, rb = counter_bits(m_rows);
    const std::uint64_t wmask = (std::uint64_t{1} << ww) - 1;
    const auto p = static_cast<std::uint32_t>(m_options.parallelism);
    for (std::size_t s = 0; s < m_steps.size(); ++s) {
      const auto& st = m_steps[s];
      for (std::uint32_t l = 0; l < p; ++l) {
        const std::uint64_t data = (std::uint64_t{st.valid[l]} << (ww + rb)) |
                                   (static_cast<std::uint64_t>(st.row[l]) << ww) |
                                   (static_cast<std::uint64_t>(st.weight[l]) & wmask);
        words.push_back({0, static_cast<std::uint32_t>(s) * p + l, data});
      }
      words.push_back({1, static_cast<std::uint32_t>(s), static_cast<std::uint64_t>(st.col)});
    }
    const std::uint64_t dmask = (std::uint64_t{1} << m_options.data.total_bits) - 1;
    for (index_t r = 0; r < m_rows; ++r)
      words.push_back(
          {2, static_cast<std::uint32_t>(r), static_cast<std::uint64_t>(m_bias[static_cast<std::size_t>(r)]) & dmask});
    return words;
  }

 private:
  fixed_bcr_layer() = default;
  index_t m_rows = 0, m_cols = 0, m_nonzeros = 0, m_max_row_terms = 0;
  bcr_options m_options;
  std::vector<bcr_step> m_steps;
  std::vector<std::int64_t> m_bias;
  std::int64_t m_saturated = 0;
};

}  // namespace frugal::fpga
