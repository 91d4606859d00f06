#pragma once
/// \file
/// Epoch checkpoints of a distributed run: one file per rank in `core`'s checkpoint format plus a
/// manifest that rank 0 writes once every rank's file is on disk, so a run that dies at any point
/// resumes from the last complete epoch and continues bit for bit.
///
/// Rank files carry their epoch in the name (`rank-3.epoch-12.ck`) and are written atomically;
/// the manifest (`manifest.ck`: epoch, rank count) is written after a barrier, so it only ever
/// names an epoch whose files are all complete. Files of older epochs are removed afterwards.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../nn/parameter.hpp"
#include "../nn/serialization.hpp"
#include "transport.hpp"

namespace frugal::pipeline {

namespace detail {
inline std::filesystem::path rank_file(const std::filesystem::path& dir, int rank, std::int64_t epoch) {
  return dir / ("rank-" + std::to_string(rank) + ".epoch-" + std::to_string(epoch) + ".ck");
}
}  // namespace detail

/// Saves rank `t.rank()`'s state after `epoch`: its parameters, its optimizer's state and, when
/// `state` is given, `state.save_state(writer, "stage")` (a `gnnpipe_stage`'s buffers). Every rank
/// calls it; it returns once the manifest names `epoch`. Collective.
/// \throws io_error when a file cannot be written
template <Transport T, class S, class Optimizer, class State = std::nullptr_t>
void save_epoch_checkpoint(const std::filesystem::path& dir, T& t, std::int64_t epoch,
                           const nn::parameter_registry<S>& parameters, const Optimizer& optimizer,
                           const State* state = nullptr) {
  std::filesystem::create_directories(dir);
  checkpoint_writer out;
  out.put_value<std::int64_t>("epoch", epoch);
  out.put_value<std::int32_t>("rank", t.rank());
  out.put_value<std::int32_t>("ranks", t.size());
  nn::save_parameters(out, parameters);
  optimizer.save_state(out, "optimizer");
  if constexpr (!std::is_same_v<State, std::nullptr_t>)
    if (state != nullptr) state->save_state(out, "stage");
  out.write(detail::rank_file(dir, t.rank(), epoch));
  barrier(t);
  if (t.rank() == 0) {
    checkpoint_writer manifest;
    manifest.put_value<std::int64_t>("epoch", epoch);
    manifest.put_value<std::int32_t>("ranks", t.size());
    manifest.write(dir / "manifest.ck");
  }
  barrier(t);
  // The manifest names `epoch` now; older files are no longer needed.
  std::error_code ignored;
  for (std::int64_t e = epoch - 1; e >= 0; --e) {
    const auto old = detail::rank_file(dir, t.rank(), e);
    if (!std::filesystem::exists(old, ignored)) break;
    std::filesystem::remove(old, ignored);
  }
}

/// Loads the epoch the manifest in `dir` names into rank `t.rank()`'s parameters, optimizer and
/// `state`; returns that epoch, or nothing when `dir` holds no manifest. Collective.
/// \throws format_error when the checkpoint was written by another number of ranks, or a rank
///         file is missing, damaged or from another epoch
template <Transport T, class S, class Optimizer, class State = std::nullptr_t>
std::optional<std::int64_t> load_epoch_checkpoint(const std::filesystem::path& dir, T& t,
                                                  const nn::parameter_registry<S>& parameters, Optimizer& optimizer,
                                                  State* state = nullptr) {
  const auto manifest_path = dir / "manifest.ck";
  if (!std::filesystem::exists(manifest_path)) return std::nullopt;
  const checkpoint_reader manifest(manifest_path);
  const auto epoch = manifest.get_value<std::int64_t>("epoch");
  const auto ranks = manifest.get_value<std::int32_t>("ranks");
  if (ranks != t.size())
    throw format_error(frugal::detail::concat("frugal::pipeline::load_epoch_checkpoint: '", manifest_path.string(),
                                              "' was written by ", ranks, " ranks; this run has ", t.size()),
                       manifest_path.string(), 0);
  const auto path = detail::rank_file(dir, t.rank(), epoch);
  if (!std::filesystem::exists(path))
    throw format_error(frugal::detail::concat("frugal::pipeline::load_epoch_checkpoint: the manifest names epoch ",
                                              epoch, " but '", path.string(), "' is missing"),
                       path.string(), 0);
  const checkpoint_reader in(path);
  if (in.get_value<std::int64_t>("epoch") != epoch || in.get_value<std::int32_t>("rank") != t.rank())
    throw format_error(frugal::detail::concat("frugal::pipeline::load_epoch_checkpoint: '", path.string(),
                                              "' holds another epoch or rank"),
                       path.string(), 0);
  nn::load_parameters(in, parameters);
  optimizer.load_state(in, "optimizer");
  if constexpr (!std::is_same_v<State, std::nullptr_t>)
    if (state != nullptr) state->load_state(in, "stage");
  barrier(t);
  return epoch;
}

}  // namespace frugal::pipeline
