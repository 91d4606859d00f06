#pragma once
/// \file
/// The budget controller: every `interval` steps after a warm-up it ranks the importance scores of
/// the chunks of a set of `adaptive_table`s and prunes or regrows chunks so that the tables hold at
/// most a fraction of a reference size (normally the full tables' bytes), ramping that fraction
/// down from 1 over `ramp` steps; or, in threshold mode, keeps the chunks whose score passes a
/// threshold. Two granularities: per chunk (FIITED: each row keeps its own number of leading
/// chunks) and per row (AdaEmbed-style: a row keeps all its chunks or none), so the methods can be
/// compared at equal memory.
///
/// The byte budget holds between rounds, not only at them: a round sizes each table's index with
/// room for the rows that may arrive before the next round (`new_row_room`, counted in the budget)
/// and switches the tables to `admission_policy::within_allocation`, so new ids enter as score-only
/// candidates into that room and `backward` never grows a table; ids that find no room are turned
/// away until the next round frees some. Before the first round the tables grow as rows arrive, and
/// `on_step` runs a round early in the step that takes them past the budget.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "admission.hpp"
#include "concepts.hpp"

namespace frugal::embedding {

/// What the controller prunes.
enum class prune_granularity : std::uint8_t {
  chunk,  ///< FIITED: per-row dimension in chunk steps
  row     ///< AdaEmbed-style: whole rows
};

/// How the controller decides what the tables keep.
enum class budget_mode : std::uint8_t {
  bytes,     ///< the best chunks that fit a byte budget, `target_fraction` of the reference (the default)
  threshold  ///< the chunks whose decayed score is at least `threshold`; no byte budget, the tables grow freely
};

/// Options of `budget_controller`. The mode is explicit: `target_fraction` belongs to
/// `budget_mode::bytes` and `threshold` to `budget_mode::threshold`, and the constructor refuses a
/// threshold in bytes mode rather than guess which was meant.
struct budget_options {
  budget_mode mode = budget_mode::bytes;
  prune_granularity granularity = prune_granularity::chunk;
  double target_fraction = 0.1;  ///< bytes mode: the budget after the ramp, a fraction of the reference in (0, 1]
  float threshold = 0.0f;        ///< threshold mode: keep chunks whose (decayed) score is at least this (> 0)
  index_t interval = 100;        ///< steps between rounds
  index_t warmup = 500;          ///< steps before the first scheduled round (rows enter whole until a round)
  index_t ramp = 1000;           ///< steps over which the budget falls linearly from 1 to the target
  float decay = 0.8f;            ///< γ: scores are multiplied by this after every round
  /// Bytes mode: after a round each table's index keeps room for ⌈new_row_room × kept rows⌉ rows
  /// first seen before the next round (more where the power-of-two index has it anyway; every id
  /// in a direct index), counted in the budget. Rows beyond the room are turned away until then.
  double new_row_room = 0.25;
};

/// Figures of a round (`budget_controller::last_round()`).
struct budget_round {
  index_t step = -1;              ///< the step after which it ran; -1 while no round has run
  bool early = false;             ///< run by `on_step` off schedule, because the tables had passed `budget_at(step)`
  double fraction = 1.0;          ///< budget fraction applied (bytes mode)
  std::size_t budget_bytes = 0;   ///< fraction × reference (bytes mode): the selection fits in this
  std::size_t bytes_before = 0;   ///< tables' bytes before the round
  std::size_t bytes_after = 0;    ///< and after it; unchanged until the next round in bytes mode
  std::size_t live_chunks = 0;    ///< across tables, after the round
  std::size_t live_rows = 0;      ///< rows with at least one chunk, after the round
  std::size_t new_row_room = 0;   ///< rows the tables can admit before the next round without growing
  std::uint64_t turned_away = 0;  ///< rows the tables have turned away since they were built (see `admission_policy`)
};

/// Controls the memory of a set of adaptive tables sharing one budget.
/// \tparam Table an `adaptive_table` specialisation (any `BudgetedTable`)
template <BudgetedTable Table>
class budget_controller {
 public:
  /// `reference_bytes`: what the budget fraction refers to, e.g. the sum of the full tables'
  /// `bytes_allocated()` (`full_table<>::bytes_for(rows, dim, kind)` per field). Throws
  /// `invalid_argument` for contradictory or out-of-range options, and in bytes mode for a target
  /// budget below `floor_bytes()`, which no selection can meet.
  budget_controller(std::vector<Table*> tables, std::size_t reference_bytes, budget_options options)
      : m_tables(std::move(tables)), m_reference(reference_bytes), m_options(options) {
    constexpr const char* where = "frugal::embedding::budget_controller";
    check(!m_tables.empty(), where, ": no tables");
    for (auto* t : m_tables) check(t != nullptr, where, ": null table");
    check(options.interval > 0, where, ": interval = ", options.interval, " must be positive");
    check(options.warmup >= 0 && options.ramp >= 0, where, ": warmup = ", options.warmup, " and ramp = ", options.ramp,
          " must be >= 0");
    check(options.decay >= 0 && options.decay <= 1, where, ": decay = ", options.decay, " outside [0, 1]");
    if (options.mode == budget_mode::threshold) {
      check(options.threshold > 0 && std::isfinite(options.threshold), where, ": threshold = ", options.threshold,
            " must be positive and finite in budget_mode::threshold");
      return;
    }
    check(options.mode == budget_mode::bytes, where, ": unknown budget_mode ", static_cast<int>(options.mode));
    check(options.target_fraction > 0 && options.target_fraction <= 1, where,
          ": target_fraction = ", options.target_fraction,
          " outside (0, 1] in budget_mode::bytes (for a score threshold set mode = budget_mode::threshold)");
    check(options.threshold == 0, where, ": threshold = ", options.threshold,
          " is used only in budget_mode::threshold; budget_mode::bytes keeps the best chunks within target_fraction = ",
          options.target_fraction, " (leave threshold at 0 or set mode = budget_mode::threshold)");
    check(options.new_row_room >= 0 && std::isfinite(options.new_row_room), where,
          ": new_row_room = ", options.new_row_room, " must be finite and >= 0");
    const std::size_t target = budget_for(options.target_fraction);
    check(target >= floor_bytes(), where, ": target_fraction = ", options.target_fraction,
          " of reference_bytes = ", m_reference, " is ", target, " bytes, below the ", floor_bytes(),
          " bytes the tables hold with no row (an empty index each)");
  }

  /// Drives every table of `tables` (e.g. `model.tables()` of a `dlrm`).
  budget_controller(std::span<Table> tables, std::size_t reference_bytes, budget_options options)
      : budget_controller(pointers(tables), reference_bytes, options) {}

  [[nodiscard]] const budget_options& options() const noexcept { return m_options; }
  [[nodiscard]] std::size_t reference_bytes() const noexcept { return m_reference; }
  /// The tables this controller drives, in the order it was given them.
  [[nodiscard]] const std::vector<Table*>& tables() const noexcept { return m_tables; }
  /// What the latest round did (scheduled, early or called directly); `step` is -1 before the first.
  [[nodiscard]] const budget_round& last_round() const noexcept { return m_last; }

  /// Bytes the tables hold when no row has a slot: one empty index each (the least any budget can be).
  [[nodiscard]] std::size_t floor_bytes() const noexcept {
    std::size_t total = 0;
    for (const auto* t : m_tables) total += t->bytes_for(0, 0);
    return total;
  }

  /// The budget fraction a round at `step` applies: 1 until the warm-up ends, then linear down to
  /// the target over the ramp (`budget_at` gives the budget in force between rounds).
  [[nodiscard]] double fraction_at(index_t step) const noexcept {
    const double target = m_options.target_fraction;
    if (step < m_options.warmup) return 1.0;
    if (m_options.ramp == 0 || step >= m_options.warmup + m_options.ramp) return target;
    const double t = static_cast<double>(step - m_options.warmup) / static_cast<double>(m_options.ramp);
    return 1.0 + (target - 1.0) * t;
  }

  /// Bytes mode: what the tables hold at most once `on_step(step)` has returned — the budget of
  /// the latest scheduled round at or before `step` (warmup + k·interval), the reference before
  /// the first. The budget is a step function: during the ramp it falls at rounds only.
  [[nodiscard]] std::size_t budget_at(index_t step) const noexcept { return budget_for(scheduled_fraction(step)); }

  /// Call after training step `step` (counting from 0). Runs a round when one is due, or in bytes
  /// mode early when the tables hold more than `budget_at(step)` (which, once a round has switched
  /// them to `admission_policy::within_allocation`, only changes made outside the controller
  /// cause), and returns whether it ran one. Costs a sum over the tables when no round is due.
  bool on_step(index_t step) {
    if (step >= m_options.warmup && (step - m_options.warmup) % m_options.interval == 0) {
      round(step, fraction_at(step));
      return true;
    }
    if (m_options.mode != budget_mode::bytes || total_bytes() <= budget_at(step)) return false;
    round(step, scheduled_fraction(step));
    m_last.early = true;
    return true;
  }

  /// Runs one round now at the given budget fraction (ignored in threshold mode): keeps the
  /// best-scoring chunks whose bytes, counted as the tables will hold them after compaction with
  /// their indexes' room for new rows, fit `fraction` × the reference; then, in bytes mode, the
  /// tables admit new rows only into that room until the next round.
  void round(index_t step, double fraction) {
    constexpr const char* where = "frugal::embedding::budget_controller::round";
    const bool threshold_mode = m_options.mode == budget_mode::threshold;
    if (!threshold_mode) {
      check(fraction > 0 && fraction <= 1, where, ": fraction = ", fraction, " outside (0, 1]");
      check(budget_for(fraction) >= floor_bytes(), where, ": fraction = ", fraction, " of ", m_reference, " is ",
            budget_for(fraction), " bytes, below the ", floor_bytes(), " bytes the tables hold with no row");
    }
    m_last = budget_round{.step = step, .fraction = fraction};
    m_last.budget_bytes = threshold_mode ? 0 : budget_for(fraction);
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

    // Greedy selection under the byte budget (or the threshold). A table keeping n rows holds an
    // index sized for n + spare(n) entries.
    const double room = threshold_mode ? 0.0 : m_options.new_row_room;
    auto spare = [room](std::size_t rows) {
      return static_cast<std::size_t>(std::ceil(room * static_cast<double>(rows)));
    };
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
      const std::size_t rows = entries[t] + add_entries;
      const std::size_t new_bytes = m_tables[t]->bytes_for(rows + spare(rows), chunks[t] + add_chunks);
      if (!threshold_mode && total - bytes[t] + new_bytes > m_last.budget_bytes) break;
      total += new_bytes - bytes[t];
      bytes[t] = new_bytes;
      entries[t] += add_entries;
      chunks[t] += add_chunks;
      targets[t][it.slot] = static_cast<std::uint8_t>(
          m_options.granularity == prune_granularity::row ? m_tables[t]->chunks_per_row() : it.chunk + 1);
    }

    for (std::size_t t = 0; t < tables; ++t) {
      m_tables[t]->apply_targets(targets[t], m_options.decay, false, spare(entries[t]));
      m_tables[t]->set_new_row_chunks(0);  // from now on rows enter as candidates
      // In bytes mode they enter only into the room just reserved, so the tables stop growing.
      if (!threshold_mode) m_tables[t]->set_admission(admission_policy::within_allocation);
    }
    if (!threshold_mode && total_bytes() > m_last.budget_bytes)
      for (auto* table : m_tables) table->compact();
    m_last.bytes_after = total_bytes();
    for (auto* table : m_tables) {
      m_last.live_chunks += table->live_chunks();
      m_last.live_rows += table->entries();
      m_last.new_row_room += table->index_room();
      m_last.turned_away += table->turned_away();
    }
  }

  /// Bytes the tables hold now.
  [[nodiscard]] std::size_t total_bytes() const noexcept {
    std::size_t total = 0;
    for (const auto* t : m_tables) total += t->bytes_allocated();
    return total;
  }

 private:
  /// The fraction of the latest scheduled round at or before `step`; 1 before the first.
  [[nodiscard]] double scheduled_fraction(index_t step) const noexcept {
    if (step < m_options.warmup) return 1.0;
    return fraction_at(m_options.warmup + (step - m_options.warmup) / m_options.interval * m_options.interval);
  }

  [[nodiscard]] std::size_t budget_for(double fraction) const noexcept {
    return static_cast<std::size_t>(fraction * static_cast<double>(m_reference));
  }

  static std::vector<Table*> pointers(std::span<Table> tables) {
    std::vector<Table*> out;
    out.reserve(tables.size());
    for (auto& t : tables) out.push_back(&t);
    return out;
  }

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
