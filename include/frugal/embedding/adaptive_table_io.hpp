#pragma once
/// \file
/// Checkpoint I/O of `adaptive_table`: `save` writes its exact state (slot table, pool, free
/// lists, scores, optimizer state) and `load` restores it after checking it. Included by
/// `adaptive_table.hpp`.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "adaptive_table.hpp"

namespace frugal::embedding {

template <ImportancePolicy Importance, HostExecutionSpace Exec>
void adaptive_table<Importance, Exec>::save(checkpoint_writer& out, std::string_view prefix) const {
  const std::string p(prefix);
  out.put_string(p + "/kind", "adaptive_table");
  out.put_string(p + "/importance", Importance::name);
  const std::int64_t shape[3] = {m_rows, m_dim, m_options.chunk_width};
  out.put<std::int64_t>(p + "/shape", shape);
  const std::uint64_t counters[5] = {m_pool.used(), m_pool.free_chunks(), m_live_chunks, m_slots.entries(),
                                     static_cast<std::uint64_t>(m_options.new_row_chunks)};
  out.put<std::uint64_t>(p + "/counters", counters);
  out.put<std::uint32_t>(p + "/free_heads", m_pool.free_heads());
  out.put_string(p + "/index", m_slots.direct() ? "direct" : "hashed");
  const std::uint64_t admission[2] = {static_cast<std::uint64_t>(m_options.admission), m_turned_away};
  out.put<std::uint64_t>(p + "/admission", admission);
  std::vector<std::uint32_t> keys(m_slots.size()), blocks(m_slots.size());
  std::vector<float> acc(m_slots.size()), cand(m_slots.size());
  for (std::size_t s = 0; s < m_slots.size(); ++s) {
    keys[s] = m_slots.key(s);
    blocks[s] = m_slots.block(s);
    acc[s] = m_slots.state(s).accumulator;
    cand[s] = m_slots.state(s).candidate;
  }
  out.put<std::uint32_t>(p + "/slot_keys", keys);
  out.put<std::uint32_t>(p + "/slot_blocks", blocks);
  out.put<float>(p + "/slot_accumulators", acc);
  out.put<float>(p + "/slot_candidates", cand);
  out.put<float>(p + "/values", m_pool.all_values());
  out.put<float>(p + "/scores", m_pool.all_scores());
}

template <ImportancePolicy Importance, HostExecutionSpace Exec>
void adaptive_table<Importance, Exec>::load(const checkpoint_reader& in, std::string_view prefix) {
  const std::string p(prefix);
  const std::string where = "frugal::embedding::adaptive_table::load";
  const std::string& file = in.file();
  detail::check_format(file, in.get_string(p + "/kind") == "adaptive_table", where, ": record '", p,
                       "/kind' is not an adaptive table");
  detail::check_format(file, in.get_string(p + "/importance") == Importance::name, where, ": checkpoint importance '",
                       in.get_string(p + "/importance"), "' differs from this table's '", Importance::name, "'");
  const auto shape = in.get<std::int64_t>(p + "/shape");
  detail::check_format(
      file, shape.size() == 3 && shape[0] == m_rows && shape[1] == m_dim && shape[2] == m_options.chunk_width, where,
      ": checkpoint holds a table of another shape");
  const std::string layout = in.contains(p + "/index") ? in.get_string(p + "/index") : "hashed";
  detail::check_format(file, layout == "hashed" || layout == "direct", where, ": unknown index layout '", layout, "'");
  const bool direct = layout == "direct";
  // Checkpoints from before admission policies admit every row and have turned none away.
  std::uint64_t admission[2] = {static_cast<std::uint64_t>(admission_policy::open), 0};
  if (in.contains(p + "/admission")) {
    const auto record = in.get<std::uint64_t>(p + "/admission");
    detail::check_format(
        file, record.size() == 2 && record[0] <= static_cast<std::uint64_t>(admission_policy::within_allocation), where,
        ": unknown admission record");
    std::copy(record.begin(), record.end(), admission);
  }
  const auto counters = in.get<std::uint64_t>(p + "/counters");
  const auto free_heads = in.get<std::uint32_t>(p + "/free_heads");
  const auto keys = in.get<std::uint32_t>(p + "/slot_keys");
  const auto blocks = in.get<std::uint32_t>(p + "/slot_blocks");
  const auto acc = in.get<float>(p + "/slot_accumulators");
  const auto cand = in.get<float>(p + "/slot_candidates");
  const auto values = in.get<float>(p + "/values");
  const auto scores = in.get<float>(p + "/scores");
  const std::size_t ns = keys.size(), nc = scores.size();
  detail::check_format(file,
                       counters.size() == 5 && blocks.size() == ns && acc.size() == ns && cand.size() == ns &&
                           (direct ? ns == static_cast<std::size_t>(m_rows) : std::has_single_bit(ns)) &&
                           free_heads.size() == m_pool.free_heads().size() &&
                           values.size() == nc * static_cast<std::size_t>(m_options.chunk_width) && counters[0] <= nc &&
                           nc <= max_pool_chunks && counters[4] <= static_cast<std::uint64_t>(m_chunks_per_row),
                       where, ": inconsistent record sizes");
  std::size_t occupied = 0;
  for (std::size_t s = 0; s < ns; ++s) {
    occupied += keys[s] != 0;
    detail::check_format(file, !direct || keys[s] == 0 || keys[s] == s + 1, where, ": direct slot ", s, " holds id ",
                         keys[s] - 1);
  }
  detail::check_format(file, direct || occupied < ns, where, ": slot table has no empty slot");
  for (std::size_t size = 1; size < free_heads.size(); ++size)
    detail::check_format(file, free_heads[size] == npos || free_heads[size] + size <= counters[0], where,
                         ": free list ", size, " starts outside the pool");
  adaptive_table next(*this);
  detail::slot_table table(ns, direct);
  for (std::size_t s = 0; s < ns; ++s) {
    if (keys[s] != 0)
      table.put(s, slot{keys[s], blocks[s]}, slot_state{acc[s], cand[s]});
    else
      table.set_block(s, blocks[s]);  // must be 0: the invariant check refuses anything else
  }
  next.m_slots.restore(std::move(table), counters[3]);
  next.m_pool = detail::chunk_pool(static_cast<std::size_t>(m_options.chunk_width), values, scores, counters[0],
                                   counters[1], free_heads);
  next.m_live_chunks = counters[2];
  next.m_options.new_row_chunks = static_cast<index_t>(counters[4]);
  next.m_options.admission = static_cast<admission_policy>(admission[0]);
  next.m_turned_away = admission[1];
  try {
    next.check_invariants();
  } catch (const error& e) {
    throw format_error(frugal::detail::concat(where, ": '", file, "' holds an inconsistent table: ", e.what()), file,
                       0);
  }
  *this = std::move(next);
}

}  // namespace frugal::embedding
