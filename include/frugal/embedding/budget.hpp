#pragma once
/// \file
/// The budget controller: every `interval` steps after a warm-up it ranks the importance scores of
/// the chunks of a set of `adaptive_table`s and prunes or regrows chunks so that the tables hold at
/// most a fraction of a reference size (normally the full tables' bytes), ramping that fraction
/// down from 1 over `ramp` steps; or, in threshold mode, keeps the chunks whose score passes a
/// threshold. Two granularities: per chunk (FIITED: each row keeps its own number of leading
/// chunks) and per row (AdaEmbed-style: a row keeps all its chunks or none), so the methods can be
/// compared at equal memory.

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "concepts.hpp"

namespace frugal::embedding {

/// What the controller prunes.
enum class prune_granularity : std::uint8_t {
  chunk,  ///< FIITED: per-row dimension in chunk steps
  row     ///< AdaEmbed-style: whole rows
};

/// Options of `budget_controller`.
struct budget_options {
  prune_granularity granularity = prune_granularity::chunk;
  double target_fraction = 0.1;  ///< bytes budget as a fraction of the reference; <= 0 selects threshold mode
  float threshold = 0.0f;        ///< threshold mode: keep chunks whose (decayed) score is at least this
  index_t interval = 100;        ///< steps between rounds
  index_t warmup = 500;          ///< steps before the first round (rows keep all chunks until then)
  index_t ramp = 1000;           ///< steps over which the budget falls linearly from 1 to the target
  float decay = 0.8f;            ///< γ: scores are multiplied by this after every round
};

/// Figures of the last round.
struct budget_round {
  index_t step = -1;
  double fraction = 1.0;         ///< budget fraction applied
  std::size_t budget_bytes = 0;  ///< fraction × reference
  std::size_t bytes_before = 0;  ///< tables' bytes before the round
  std::size_t bytes_after = 0;   ///< and after it
  std::size_t live_chunks = 0;   ///< across tables, after the round
  std::size_t live_rows = 0;     ///< rows with at least one chunk, after the round
};

/// Controls the memory of a set of adaptive tables sharing one budget.
/// \tparam Table an `adaptive_table` specialisation (any `BudgetedTable`)
template <BudgetedTable Table>
class budget_controller {
 public:
  /// `reference_bytes`: what the budget fraction refers to, e.g. the sum of the full tables'
  /// `bytes_allocated()`.
  budget_controller(std::vector<Table*> tables, std::size_t reference_bytes, budget_options options)
      : m_tables(std::move(tables)), m_reference(reference_bytes), m_options(options) {
    constexpr const char* where = "frugal::embedding::budget_controller";
    check(!m_tables.empty(), where, ": no tables");
    for (auto* t : m_tables) check(t != nullptr, where, ": null table");
    check(options.interval > 0, where, ": interval = ", options.interval, " must be positive");
    check(options.warmup >= 0 && options.ramp >= 0, where, ": warmup and ramp must be >= 0");
    check(options.decay >= 0 && options.decay <= 1, where, ": decay = ", options.decay, " outside [0, 1]");
    check(options.target_fraction <= 1, where, ": target_fraction = ", options.target_fraction, " exceeds 1");
    check(options.target_fraction > 0 || options.threshold > 0, where,
          ": give a target_fraction in (0, 1] or, for threshold mode, a positive threshold");
  }

  [[nodiscard]] const budget_options& options() const noexcept { return m_options; }
  [[nodiscard]] std::size_t reference_bytes() const noexcept { return m_reference; }
  [[nodiscard]] const budget_round& last_round() const noexcept { return m_last; }

  /// The budget fraction in force at `step`: 1 until the warm-up ends, then linear down to the
  /// target over the ramp.
  [[nodiscard]] double fraction_at(index_t step) const noexcept {
    const double target = m_options.target_fraction;
    if (step < m_options.warmup) return 1.0;
    if (m_options.ramp == 0 || step >= m_options.warmup + m_options.ramp) return target;
    const double t = static_cast<double>(step - m_options.warmup) / static_cast<double>(m_options.ramp);
    return 1.0 + (target - 1.0) * t;
  }

  /// Call after training step `step` (counting from 0). Runs a round when one is due and returns
  /// whether it did.
  bool on_step(index_t step) {
    if (step < m_options.warmup || (step - m_options.warmup) % m_options.interval != 0) return false;
    round(step, fraction_at(step));
    return true;
  }

  /// Runs one round now at the given budget fraction (ignored in threshold mode).
  void round(index_t step, double fraction) {
    check((fraction > 0 && fraction <= 1) || m_options.target_fraction <= 0,
          "frugal::embedding::budget_controller::round: fraction = ", fraction, " outside (0, 1]");
    const bool threshold_mode = m_options.target_fraction <= 0;
    m_last = budget_round{.step = step, .fraction = fraction};
    m_last.budget_bytes = static_cast<std::size_t>(fraction * static_cast<double>(m_reference));
    m_last.bytes_before = total_bytes();

    // Candidate items: every live chunk and every row's next chunk, scored so that a row's items
    // never gain importance along the row (prefix minima), which keeps the selection prefix-closed.
    // A local vector: its memory goes back when the round ends.
    std::vector<item> items;
    const std::size_t tables = m_tables.size();
    for (std::size_t t = 0; t < tables; ++t) {
      const index_t max_chunks = m_tables[t]->chunks_per_row();
      m_tables[t]->for_each_row(
          [&](std::uint32_t slot, std::uint32_t, index_t live, std::span<const float> scores, float candidate) {
            if (m_options.granularity == prune_granularity::row) {
              float total = 0;
              for (float s : scores) total += s;
              if (live < max_chunks) total = live == 0 ? candidate * static_cast<float>(max_chunks) : total;
              items.push_back(item{total, static_cast<std::uint32_t>(t), slot, 0});
              return;
            }
            float running = 0;
            for (index_t j = 0; j < live; ++j) {
              running = j == 0 ? scores[0] : std::min(running, scores[static_cast<std::size_t>(j)]);
              items.push_back(item{running, static_cast<std::uint32_t>(t), slot, static_cast<std::uint8_t>(j)});
            }
            if (live < max_chunks) {
              running = live == 0 ? candidate : std::min(running, candidate);
              items.push_back(item{running, static_cast<std::uint32_t>(t), slot, static_cast<std::uint8_t>(live)});
            }
          });
    }
    std::sort(items.begin(), items.end(), [](const item& a, const item& b) {
      if (a.score != b.score) return a.score > b.score;
      if (a.table != b.table) return a.table < b.table;
      if (a.slot != b.slot) return a.slot < b.slot;
      return a.chunk < b.chunk;
    });

    // Greedy selection under the byte budget (or the threshold).
    std::vector<std::vector<std::uint8_t>> targets(tables);
    std::vector<std::size_t> entries(tables, 0), chunks(tables, 0), bytes(tables, 0);
    std::size_t total = 0;
    for (std::size_t t = 0; t < tables; ++t) {
      targets[t].assign(m_tables[t]->slot_capacity(), 0);
      bytes[t] = m_tables[t]->bytes_for(0, 0);
      total += bytes[t];
    }
    for (const item& it : items) {
      if (threshold_mode && it.score < m_options.threshold) break;
      const std::size_t t = it.table;
      const std::size_t add_chunks =
          m_options.granularity == prune_granularity::row ? static_cast<std::size_t>(m_tables[t]->chunks_per_row()) : 1;
      const std::size_t add_entries = it.chunk == 0 ? 1 : 0;
      const std::size_t new_bytes = m_tables[t]->bytes_for(entries[t] + add_entries, chunks[t] + add_chunks);
      if (!threshold_mode && total - bytes[t] + new_bytes > m_last.budget_bytes) break;
      total += new_bytes - bytes[t];
      bytes[t] = new_bytes;
      entries[t] += add_entries;
      chunks[t] += add_chunks;
      targets[t][it.slot] = static_cast<std::uint8_t>(
          m_options.granularity == prune_granularity::row ? m_tables[t]->chunks_per_row() : it.chunk + 1);
    }

    for (std::size_t t = 0; t < tables; ++t) {
      m_tables[t]->apply_targets(targets[t], m_options.decay);
      m_tables[t]->set_new_row_chunks(0);  // from now on rows enter as candidates
    }
    if (!threshold_mode && total_bytes() > m_last.budget_bytes)
      for (auto* table : m_tables) table->compact();
    m_last.bytes_after = total_bytes();
    for (auto* table : m_tables) {
      m_last.live_chunks += table->live_chunks();
      m_last.live_rows += table->entries();
    }
  }

  /// Bytes the tables hold now.
  [[nodiscard]] std::size_t total_bytes() const noexcept {
    std::size_t total = 0;
    for (const auto* t : m_tables) total += t->bytes_allocated();
    return total;
  }

 private:
  struct item {
    float score;
    std::uint32_t table;
    std::uint32_t slot;
    std::uint8_t chunk;
  };

  std::vector<Table*> m_tables;
  std::size_t m_reference;
  budget_options m_options;
  budget_round m_last;
};

}  // namespace frugal::embedding
