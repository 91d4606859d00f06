#pragma once
/// \file
/// The in-process transport: ranks are threads of one process and messages are copied through
/// shared mailboxes. It counts bytes and messages exactly as the MPI transport does, so a
/// schedule's communication can be measured on one machine, and it is what the tests use.

#include <Kokkos_Core.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include "../core/error.hpp"
#include "transport.hpp"

namespace frugal::pipeline {

namespace detail {

/// The mailboxes and abort flag that the ranks of one in-process world share.
struct in_process_shared {
  explicit in_process_shared(int ranks, std::chrono::milliseconds timeout)
      : size(ranks),
        timeout(timeout),
        arrived(std::make_unique<std::condition_variable[]>(static_cast<std::size_t>(ranks))) {}

  const int size;
  const std::chrono::milliseconds timeout;
  std::mutex mutex;
  // One per world rank, which only that rank's thread waits on: a message wakes its receiver
  // alone (one shared variable woke every waiting rank on every message).
  std::unique_ptr<std::condition_variable[]> arrived;
  // (context, from, to, tag): context 0 is the world, each `split` group has its own, so the
  // groups' messages never match each other's while sharing the one abort flag and timeout.
  std::map<std::tuple<int, int, int, int>, std::deque<std::vector<std::byte>>> mailboxes;
  // (parent context, split number in the parent, color) → context of that group
  std::map<std::tuple<int, int, int>, int> contexts;
  int next_context = 1;
  std::optional<std::string> aborted;
};

}  // namespace detail

/// One rank's end of an in-process world (`in_process_world::endpoint`). Use it from one thread.
class in_process_transport {
 public:
  struct request {
    bool receive = false;
    bool done = false;
    int peer = 0;
    int tag = 0;
    std::span<std::byte> buffer;
  };

  in_process_transport(std::shared_ptr<detail::in_process_shared> shared, int rank)
      : m_shared(std::move(shared)), m_rank(rank), m_size(m_shared->size) {
    for (int r = 0; r < m_size; ++r) m_world_rank.push_back(r);
  }

  [[nodiscard]] int rank() const noexcept { return m_rank; }
  [[nodiscard]] int size() const noexcept { return m_size; }

  /// A transport over the ranks of this one that pass the same `color`, numbered in the order of
  /// `key`, ties broken by rank here, as `mpi_transport::split` (`MPI_Comm_split`) does. The group
  /// shares this world's timeout and abort: any rank's abort stops every group. Collective: every
  /// rank of this transport calls it, in the same order as its other splits. The messages that
  /// agree on the groups use tag `collective_tag_base` + 4 and are not counted.
  /// \param color 0 or more
  [[nodiscard]] in_process_transport split(int color, int key) {
    check(color >= 0, "frugal::pipeline::in_process_transport::split: color ", color, " on rank ", m_rank,
          "; must be 0 or more");
    const transport_counters before = m_counters;
    const int tag = collective_tag_base + 4;
    const std::array<std::int32_t, 2> mine{color, key};
    std::vector<std::int32_t> all(2 * static_cast<std::size_t>(m_size));
    std::vector<request> sends;
    for (int r = 0; r < m_size; ++r)
      if (r != m_rank) sends.push_back(isend(r, tag, std::as_bytes(std::span<const std::int32_t>(mine))));
    for (int r = 0; r < m_size; ++r) {
      const std::span<std::int32_t> slot(all.data() + 2 * static_cast<std::size_t>(r), 2);
      if (r == m_rank) {
        std::copy(mine.begin(), mine.end(), slot.begin());
        continue;
      }
      auto q = irecv(r, tag, std::as_writable_bytes(slot));
      wait(q);
    }
    for (auto& q : sends) wait(q);
    m_counters = before;
    std::vector<std::pair<std::int32_t, int>> members;  // (key, rank) of this color
    for (int r = 0; r < m_size; ++r)
      if (all[2 * static_cast<std::size_t>(r)] == color)
        members.emplace_back(all[2 * static_cast<std::size_t>(r) + 1], r);
    std::sort(members.begin(), members.end());
    const auto me = std::find(members.begin(), members.end(), std::pair<std::int32_t, int>(key, m_rank));
    int context = 0;
    {
      std::lock_guard lock(m_shared->mutex);
      int& slot = m_shared->contexts[{m_context, m_splits, color}];
      if (slot == 0) slot = m_shared->next_context++;
      context = slot;
    }
    ++m_splits;
    in_process_transport group(m_shared, static_cast<int>(me - members.begin()));
    group.m_size = static_cast<int>(members.size());
    group.m_context = context;
    group.m_world_rank.clear();
    for (const auto& m : members) group.m_world_rank.push_back(m_world_rank[static_cast<std::size_t>(m.second)]);
    return group;
  }

  /// Buffered: the bytes are copied at once, so the request is already complete.
  request isend(int peer, int tag, std::span<const std::byte> bytes) {
    check_peer("isend", peer);
    {
      std::lock_guard lock(m_shared->mutex);
      if (m_shared->aborted) throw transport_error(*m_shared->aborted);
      m_shared->mailboxes[{m_context, m_rank, peer, tag}].emplace_back(bytes.begin(), bytes.end());
    }
    m_shared->arrived[static_cast<std::size_t>(m_world_rank[static_cast<std::size_t>(peer)])].notify_all();
    m_counters.bytes_sent += static_cast<std::int64_t>(bytes.size());
    ++m_counters.messages_sent;
    return {false, true, peer, tag, {}};
  }

  request irecv(int peer, int tag, std::span<std::byte> bytes) {
    check_peer("irecv", peer);
    return {true, false, peer, tag, bytes};
  }

  /// Blocks until a receive's message has arrived (a send is complete already).
  void wait(request& r) {
    if (r.done) return;
    std::unique_lock lock(m_shared->mutex);
    auto& box = m_shared->mailboxes[{m_context, r.peer, m_rank, r.tag}];
    auto& arrived = m_shared->arrived[static_cast<std::size_t>(m_world_rank[static_cast<std::size_t>(m_rank)])];
    const bool ready =
        arrived.wait_for(lock, m_shared->timeout, [&] { return !box.empty() || m_shared->aborted.has_value(); });
    if (m_shared->aborted) throw transport_error(*m_shared->aborted);
    if (!ready)
      throw transport_error(frugal::detail::concat("frugal::pipeline::in_process_transport: rank ", m_rank, " waited ",
                                                   m_shared->timeout.count(), " ms for a message from rank ", r.peer,
                                                   " with tag ", r.tag, "; the peer is stalled or gone"));
    std::vector<std::byte> message = std::move(box.front());
    box.pop_front();
    lock.unlock();
    if (message.size() != r.buffer.size())
      throw transport_error(frugal::detail::concat("frugal::pipeline::in_process_transport: rank ", m_rank,
                                                   " expected ", r.buffer.size(), " bytes from rank ", r.peer,
                                                   " with tag ", r.tag, ", got ", message.size()));
    std::copy(message.begin(), message.end(), r.buffer.begin());
    m_counters.bytes_received += static_cast<std::int64_t>(message.size());
    ++m_counters.messages_received;
    r.done = true;
  }

  /// Every rank's waits (pending and future) throw `transport_error(reason)`.
  void abort(const std::string& reason) {
    {
      std::lock_guard lock(m_shared->mutex);
      if (!m_shared->aborted) m_shared->aborted = reason;
    }
    for (int r = 0; r < m_shared->size; ++r) m_shared->arrived[static_cast<std::size_t>(r)].notify_all();
  }

  [[nodiscard]] transport_counters counters() const noexcept { return m_counters; }
  void reset_counters() noexcept { m_counters = {}; }

 private:
  void check_peer(const char* what, int peer) const {
    check(peer >= 0 && peer < size() && peer != m_rank, "frugal::pipeline::in_process_transport::", what, ": peer ",
          peer, " from rank ", m_rank, " of ", size(), " (a rank does not message itself)");
  }

  std::shared_ptr<detail::in_process_shared> m_shared;
  int m_rank;
  int m_size;
  int m_context = 0;
  std::vector<int> m_world_rank;  // world rank of each rank of this transport
  int m_splits = 0;               // splits made from this transport, so that every member names the same group
  transport_counters m_counters;
};

static_assert(Transport<in_process_transport>);

/// The execution space an in-process rank's kernels run on: `Kokkos::Serial`. The ranks are the
/// parallelism, and Kokkos 3's OpenMP back end may only be used from the thread that initialised
/// it (a View allocation or kernel dispatch from another thread fails). Give the stages, blocks and
/// layers of in-process ranks this space; MPI ranks, one process each, use any host space.
using in_process_space = Kokkos::Serial;

/// A set of ranks in one process. `endpoint(r)` is rank r's transport.
class in_process_world {
 public:
  /// \param timeout how long a receive waits before it declares its peer stalled or gone
  explicit in_process_world(int ranks, std::chrono::milliseconds timeout = std::chrono::seconds(60))
      : m_shared(std::make_shared<detail::in_process_shared>(checked(ranks), timeout)) {}

  [[nodiscard]] int size() const noexcept { return m_shared->size; }
  [[nodiscard]] in_process_transport endpoint(int rank) const {
    check(rank >= 0 && rank < size(), "frugal::pipeline::in_process_world::endpoint: rank ", rank, " of ", size());
    return {m_shared, rank};
  }

 private:
  static int checked(int ranks) {
    check(ranks >= 1, "frugal::pipeline::in_process_world: ", ranks, " ranks; need at least 1");
    return ranks;
  }
  std::shared_ptr<detail::in_process_shared> m_shared;
};

/// Runs `body(transport)` on `ranks` threads, one per rank, and returns each rank's result. If a
/// rank throws, the world is aborted with its message (so the others stop waiting on it) and,
/// after every thread has joined, the first error is rethrown — the cause, not the aborts it set
/// off. Threads are the one place frugal starts its own: ranks block on each other, which a
/// Kokkos host space (one task per thread, no blocking) cannot express.
template <class Body>
auto run_in_process(int ranks, Body&& body, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  using result = std::invoke_result_t<Body&, in_process_transport&>;
  in_process_world world(ranks, timeout);
  std::vector<in_process_transport> ends;
  for (int r = 0; r < ranks; ++r) ends.push_back(world.endpoint(r));
  std::mutex first_mutex;
  std::exception_ptr first;
  auto run = [&](int r, auto& slot) {
    try {
      if constexpr (std::is_void_v<result>) {
        body(ends[static_cast<std::size_t>(r)]);
      } else {
        slot = body(ends[static_cast<std::size_t>(r)]);
      }
    } catch (const transport_error& e) {
      std::lock_guard lock(first_mutex);
      // An abort caused by another rank's failure is not the cause; keep the first real error.
      if (!first) first = std::current_exception();
      ends[static_cast<std::size_t>(r)].abort(e.what());
    } catch (const std::exception& e) {
      {
        std::lock_guard lock(first_mutex);
        first = first ? first : std::current_exception();
      }
      ends[static_cast<std::size_t>(r)].abort(frugal::detail::concat("rank ", r, " failed: ", e.what()));
    }
  };
  if constexpr (std::is_void_v<result>) {
    int unused = 0;
    std::vector<std::thread> threads;
    for (int r = 0; r < ranks; ++r) threads.emplace_back([&, r] { run(r, unused); });
    for (auto& t : threads) t.join();
    if (first) std::rethrow_exception(first);
  } else {
    std::vector<result> results(static_cast<std::size_t>(ranks));
    std::vector<std::thread> threads;
    for (int r = 0; r < ranks; ++r) threads.emplace_back([&, r] { run(r, results[static_cast<std::size_t>(r)]); });
    for (auto& t : threads) t.join();
    if (first) std::rethrow_exception(first);
    return results;
  }
}

}  // namespace frugal::pipeline
