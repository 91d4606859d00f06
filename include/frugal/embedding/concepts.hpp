#pragma once
/// \file
/// The seams of the embedding module, as concepts: what a DLRM needs of an embedding storage,
/// what the budget controller needs of a prunable table, what a chunk-importance policy provides,
/// and what maps an id to a dense table's row.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "../core/checkpoint.hpp"
#include "../core/config.hpp"
#include "admission.hpp"
#include "bags.hpp"

namespace frugal::embedding {

/// What DLRM needs of an embedding storage (full, hashed and adaptive tables all qualify):
/// pooled lookups of a `bag_batch`, a backward that applies the table's own fused optimizer,
/// its memory, and checkpoints.
template <class T>
concept EmbeddingTable = requires(T& t, const T& ct, const bag_batch& bags, std::span<float> out,
                                  std::span<const float> grad, checkpoint_writer& w, const checkpoint_reader& r) {
  { ct.rows() } -> std::convertible_to<index_t>;
  { ct.dim() } -> std::convertible_to<index_t>;
  ct.forward(bags, out);
  t.backward(bags, grad);
  { ct.bytes_allocated() } -> std::convertible_to<std::size_t>;
  ct.save(w, "t");
  t.load(r, "t");
};

/// What `budget_controller` needs of a table whose rows keep a variable number of chunks
/// (`adaptive_table`): the chunk scores of every stored row, a byte model, the operation that
/// keeps the selected chunks (with room in the index for rows to come), and the switch that stops
/// `backward` from growing the table between rounds.
template <class T>
concept BudgetedTable = EmbeddingTable<T> && requires(T& t, const T& ct, std::span<const std::uint8_t> targets,
                                                      std::size_t count, float decay, index_t k, bool flag) {
  { ct.chunks_per_row() } -> std::convertible_to<index_t>;
  { ct.slot_capacity() } -> std::convertible_to<std::size_t>;
  { ct.bytes_for(count, count) } -> std::convertible_to<std::size_t>;
  { ct.live_chunks() } -> std::convertible_to<std::size_t>;
  { ct.entries() } -> std::convertible_to<std::size_t>;
  { ct.index_room() } -> std::convertible_to<std::size_t>;
  { ct.turned_away() } -> std::convertible_to<std::uint64_t>;
  ct.for_each_row([](std::uint32_t, std::uint32_t, index_t, std::span<const float>, float) {});
  t.apply_targets(targets, decay, flag, count);
  t.set_new_row_chunks(k);
  t.set_admission(admission_policy::within_allocation);
  t.compact();
};

/// What a chunk-importance policy of `adaptive_table` provides: a name for reports and the
/// score increment of a chunk from its lookups and gradient norm in one step.
template <class P>
concept ImportancePolicy = requires(const P p, std::int32_t accesses, float grad_norm) {
  { P::name } -> std::convertible_to<std::string_view>;
  { p(accesses, grad_norm) } -> std::convertible_to<float>;
};

/// Maps an id to a physical row of a `dense_table`, with a `kind` that names the table in
/// messages and checkpoints (`full_table`: identity; `hashed_table`: a hash into buckets).
template <class M>
concept RowMapping = std::copy_constructible<M> && requires(const M& m, std::uint32_t id) {
  { M::kind } -> std::convertible_to<std::string_view>;
  { m(id) } -> std::convertible_to<std::uint32_t>;
};

}  // namespace frugal::embedding
