#pragma once
/// \file
/// How pipeline stages and graph partitions exchange activations and gradients: the `Transport`
/// concept, the counters every transport keeps, and collectives written once on top of its
/// point-to-point calls. The schedules never know which transport carries their messages.
///
/// A transport connects `size()` ranks; this object is rank `rank()`. Sends and receives are
/// non-blocking. Messages between two ranks with the same tag arrive in the order they were sent;
/// a receive takes the earliest one not yet taken when it is waited on, so wait on receives with
/// the same peer and tag in the order you posted them (then matching is MPI's posting order). A
/// send's buffer must stay valid and unchanged until `wait` returned for its request; a receive's
/// buffer holds the message once `wait` returned. Tags run from 0 to `collective_tag_base` − 1.
/// `wait` gives up with `transport_error` after the transport's timeout or when any rank has
/// aborted, so a dead or stalled peer ends the run with a message instead of a hang.

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"

namespace frugal::pipeline {

/// A peer died, stalled past the timeout, aborted the run, or sent a message of the wrong size.
class transport_error : public error {
 public:
  using error::error;
};

/// What one rank sent and received; GNNPipe's communication figures are these.
struct transport_counters {
  std::int64_t bytes_sent = 0;
  std::int64_t messages_sent = 0;
  std::int64_t bytes_received = 0;
  std::int64_t messages_received = 0;

  transport_counters& operator+=(const transport_counters& o) noexcept {
    bytes_sent += o.bytes_sent;
    messages_sent += o.messages_sent;
    bytes_received += o.bytes_received;
    messages_received += o.messages_received;
    return *this;
  }
};

/// The transport seam (see the file comment).
///
/// - `rank()`, `size()`
/// - `isend(peer, tag, bytes)` / `irecv(peer, tag, bytes)` → `request`
/// - `wait(request&)`: completes it (throws `transport_error` on timeout, abort or size mismatch)
/// - `abort(reason)`: makes every rank's pending and future waits throw with `reason`
/// - `counters()`, `reset_counters()`
template <class T>
concept Transport = requires(T& t, const T& ct, int peer, int tag, std::span<const std::byte> out,
                             std::span<std::byte> in, typename T::request& request, const std::string& reason) {
  typename T::request;
  { ct.rank() } -> std::convertible_to<int>;
  { ct.size() } -> std::convertible_to<int>;
  { t.isend(peer, tag, out) } -> std::same_as<typename T::request>;
  { t.irecv(peer, tag, in) } -> std::same_as<typename T::request>;
  t.wait(request);
  t.abort(reason);
  { ct.counters() } -> std::convertible_to<transport_counters>;
  t.reset_counters();
};

/// Sends the elements of `values` (any trivially copyable type) to `peer`.
template <Transport T, class V>
requires std::is_trivially_copyable_v<V>
[[nodiscard]] typename T::request isend(T& t, int peer, int tag, std::span<const V> values) {
  return t.isend(peer, tag, std::as_bytes(values));
}

/// Receives exactly `values.size()` elements from `peer` into `values`.
template <Transport T, class V>
requires std::is_trivially_copyable_v<V>
[[nodiscard]] typename T::request irecv(T& t, int peer, int tag, std::span<V> values) {
  return t.irecv(peer, tag, std::as_writable_bytes(values));
}

/// Blocking send and receive.
template <Transport T, class V>
void send(T& t, int peer, int tag, std::span<const V> values) {
  auto r = isend(t, peer, tag, values);
  t.wait(r);
}
template <Transport T, class V>
void recv(T& t, int peer, int tag, std::span<V> values) {
  auto r = irecv(t, peer, tag, values);
  t.wait(r);
}

/// Tags from this one up are reserved for the collectives below (`allreduce_sum` takes it and the
/// next, `barrier` the two after, `in_process_transport::split` the one after those). MPI promises tags up to 32767
/// only: Open MPI's ob1 layer allows 2^31 − 1 but its UCX layer (the usual one on InfiniBand clusters) 2^23 − 1, so the
/// reserved tags sit just under the bound every MPI guarantees.
inline constexpr int collective_tag_base = 32000;

/// Element-wise sum of `values` over every rank, left in `values` on every rank. Rank 0 adds the
/// contributions in rank order and sends the total back, so every rank holds the same bits and
/// the result does not depend on message timing (a resumed run reproduces it exactly).
/// Cost: 2(size − 1) messages of the buffer's size through rank 0.
template <Transport T, class V>
requires std::is_arithmetic_v<V>
void allreduce_sum(T& t, std::span<V> values, int tag = collective_tag_base) {
  const int n = t.size();
  if (n == 1) return;
  if (t.rank() == 0) {
    std::vector<V> incoming(values.size());
    for (int r = 1; r < n; ++r) {
      recv(t, r, tag, std::span<V>(incoming));
      for (std::size_t i = 0; i < values.size(); ++i) values[i] += incoming[i];
    }
    std::vector<typename T::request> out;
    out.reserve(static_cast<std::size_t>(n - 1));
    for (int r = 1; r < n; ++r) out.push_back(isend(t, r, tag + 1, std::span<const V>(values)));
    for (auto& r : out) t.wait(r);
  } else {
    send(t, 0, tag, std::span<const V>(values));
    recv(t, 0, tag + 1, values);
  }
}

/// Every rank waits until all have arrived.
template <Transport T>
void barrier(T& t, int tag = collective_tag_base + 2) {
  std::int32_t token = 0;
  allreduce_sum(t, std::span<std::int32_t>(&token, 1), tag);
}

}  // namespace frugal::pipeline
