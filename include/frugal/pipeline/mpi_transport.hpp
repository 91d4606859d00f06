#pragma once
/// \file
/// The MPI transport: ranks are the processes of an MPI communicator. It counts bytes and
/// messages exactly as the in-process transport does, and the schedules run on it unchanged.
///
/// This is the one frugal header that includes `<mpi.h>`; neither `<frugal/frugal.hpp>` nor any
/// module header includes it. Code that includes it links MPI (CMake: `find_package(MPI
/// COMPONENTS CXX)` and `MPI::MPI_CXX`), calls `MPI_Init` before making a transport and
/// `MPI_Finalize` once the last one is gone, and uses each transport from one thread: the one that
/// called `MPI_Init`, unless MPI was started with `MPI_THREAD_SERIALIZED` or more.
///
/// Where it differs from the in-process transport:
/// - MPI reads a send's buffer until `wait` returns for it; that is what lets a send overlap
///   with computation. The in-process transport copies at once.
/// - `abort(reason)` calls `MPI_Abort`, which ends every rank of the job: that is how one
///   failing rank stops the others within a bounded time. It does not return.
/// - A receive is matched when it is waited on (`MPI_Improbe`, then `MPI_Imrecv` into the
///   buffer), so a message of the wrong size is taken off the wire and reported with both sizes
///   instead of being received into a buffer that cannot hold it: Open MPI 4.1's shared-memory
///   path writes past the buffer when it truncates a large message.

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "transport.hpp"

namespace frugal::pipeline {

namespace detail {

/// True once `MPI_Finalize` has run: no handle may be freed after that.
inline bool mpi_finalized() noexcept {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}

/// Throws `transport_error` with `where` and MPI's own words unless `code` is `MPI_SUCCESS`.
template <class... Where>
void check_mpi(int code, const Where&... where) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) length = 0;
  throw transport_error(frugal::detail::concat(where..., ": ", std::string_view(text, static_cast<std::size_t>(length)),
                                               " (MPI error ", code, ")"));
}

}  // namespace detail

/// One rank's end of a transport over an MPI communicator (see the file comment).
///
/// It works on its own duplicate of the communicator it is given, so its messages never match
/// anyone else's and MPI errors come back as `transport_error` (`MPI_ERRORS_RETURN` on the
/// duplicate) while the caller's communicator keeps its own error handler. Not copyable: it owns
/// that duplicate and frees it when destroyed.
class mpi_transport {
 public:
  /// A pending send or receive. Move-only: a send owns its MPI request. A send dropped before
  /// `wait` is left to MPI to finish (its buffer must still outlive it); a receive dropped
  /// before `wait` takes no message.
  class request {
   public:
    request() = default;
    request(request&& other) noexcept { take(other); }
    request& operator=(request&& other) noexcept {
      if (this != &other) {
        release();
        take(other);
      }
      return *this;
    }
    request(const request&) = delete;
    request& operator=(const request&) = delete;
    ~request() { release(); }

    /// True once `wait` has completed it.
    [[nodiscard]] bool done() const noexcept { return m_done; }

   private:
    friend class mpi_transport;
    request(bool receive, int peer, int tag, std::span<std::byte> buffer, MPI_Request handle) noexcept
        : m_handle(handle), m_receive(receive), m_done(false), m_peer(peer), m_tag(tag), m_buffer(buffer) {}

    void take(request& other) noexcept {
      m_handle = std::exchange(other.m_handle, MPI_REQUEST_NULL);
      m_receive = other.m_receive;
      m_done = std::exchange(other.m_done, true);
      m_peer = other.m_peer;
      m_tag = other.m_tag;
      m_buffer = other.m_buffer;
    }
    void release() noexcept {
      if (m_handle != MPI_REQUEST_NULL && !detail::mpi_finalized()) MPI_Request_free(&m_handle);
      m_handle = MPI_REQUEST_NULL;
    }

    MPI_Request m_handle = MPI_REQUEST_NULL;  // a send, or a matched receive still arriving
    bool m_receive = false;
    bool m_done = true;
    int m_peer = 0;
    int m_tag = 0;
    std::span<std::byte> m_buffer;
  };

  /// A transport over a duplicate of `comm` (`MPI_Comm_dup`): collective, so every rank of
  /// `comm` constructs one. `comm` stays the caller's.
  /// \param timeout how long `wait` waits for a peer before it throws `transport_error`
  explicit mpi_transport(MPI_Comm comm = MPI_COMM_WORLD, std::chrono::milliseconds timeout = std::chrono::seconds(60))
      : m_timeout(timeout) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    check<transport_error>(initialized != 0 && !detail::mpi_finalized(),
                           "frugal::pipeline::mpi_transport: MPI is not running (call MPI_Init first, and make "
                           "transports before MPI_Finalize)");
    check(comm != MPI_COMM_NULL, "frugal::pipeline::mpi_transport: comm is MPI_COMM_NULL");
    check(timeout.count() > 0, "frugal::pipeline::mpi_transport: timeout ", timeout.count(), " ms; must be positive");
    MPI_Comm duplicate = MPI_COMM_NULL;
    detail::check_mpi(MPI_Comm_dup(comm, &duplicate), "frugal::pipeline::mpi_transport: MPI_Comm_dup");
    adopt(duplicate);
  }

  mpi_transport(mpi_transport&& other) noexcept
      : m_comm(std::exchange(other.m_comm, MPI_COMM_NULL)),
        m_rank(other.m_rank),
        m_size(other.m_size),
        m_world_rank(other.m_world_rank),
        m_tag_upper_bound(other.m_tag_upper_bound),
        m_timeout(other.m_timeout),
        m_counters(other.m_counters) {}
  mpi_transport& operator=(mpi_transport&& other) noexcept {
    if (this != &other) {
      free_communicator();
      m_comm = std::exchange(other.m_comm, MPI_COMM_NULL);
      m_rank = other.m_rank;
      m_size = other.m_size;
      m_world_rank = other.m_world_rank;
      m_tag_upper_bound = other.m_tag_upper_bound;
      m_timeout = other.m_timeout;
      m_counters = other.m_counters;
    }
    return *this;
  }
  mpi_transport(const mpi_transport&) = delete;
  mpi_transport& operator=(const mpi_transport&) = delete;
  ~mpi_transport() { free_communicator(); }

  [[nodiscard]] int rank() const noexcept { return m_rank; }
  [[nodiscard]] int size() const noexcept { return m_size; }
  [[nodiscard]] std::chrono::milliseconds timeout() const noexcept { return m_timeout; }
  /// The largest tag this MPI accepts (`MPI_TAG_UB`; MPI guarantees at least 32767).
  [[nodiscard]] int tag_upper_bound() const noexcept { return m_tag_upper_bound; }
  /// The transport's own communicator, for MPI calls of your own over the same ranks. It stays
  /// the transport's: do not free it.
  [[nodiscard]] MPI_Comm communicator() const noexcept { return m_comm; }

  /// A transport over the ranks of this one that pass the same `color` (`MPI_Comm_split`),
  /// numbered in the order of `key`, ties broken by rank here; it has this one's timeout and owns
  /// the new communicator. Collective: every rank of this transport calls it. For the hybrid of
  /// pipeline and graph parallelism with rank = stage × partitions + partition,
  /// `split(stage, partition)` connects the partitions of one stage and `split(partition, stage)`
  /// the stages of one partition's pipeline.
  /// \param color 0 or more (MPI_UNDEFINED, which leaves a rank out, is not supported)
  [[nodiscard]] mpi_transport split(int color, int key) {
    check(color >= 0, "frugal::pipeline::mpi_transport::split: color ", color, " on rank ", m_rank,
          "; must be 0 or more");
    MPI_Comm part = MPI_COMM_NULL;
    detail::check_mpi(MPI_Comm_split(m_comm, color, key, &part), "frugal::pipeline::mpi_transport::split: rank ",
                      m_rank, ", color ", color, ", key ", key, ": MPI_Comm_split");
    return mpi_transport(adopt_tag{}, part, m_timeout);
  }

  /// Starts sending `bytes` to `peer` (`MPI_Isend`). The buffer must stay valid and unchanged
  /// until `wait` returns for the request. Counted as sent now, as the in-process transport does.
  [[nodiscard]] request isend(int peer, int tag, std::span<const std::byte> bytes) {
    check_message("isend", peer, tag, bytes.size());
    MPI_Request handle = MPI_REQUEST_NULL;
    detail::check_mpi(MPI_Isend(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, peer, tag, m_comm, &handle),
                      "frugal::pipeline::mpi_transport::isend: ", who(), " to rank ", peer, " with tag ", tag,
                      ": MPI_Isend");
    m_counters.bytes_sent += static_cast<std::int64_t>(bytes.size());
    ++m_counters.messages_sent;
    return {false, peer, tag, {}, handle};
  }

  /// A receive of exactly `bytes.size()` bytes from `peer`; the message is matched by `wait`.
  [[nodiscard]] request irecv(int peer, int tag, std::span<std::byte> bytes) {
    check_message("irecv", peer, tag, bytes.size());
    return {true, peer, tag, bytes, MPI_REQUEST_NULL};
  }

  /// Completes `r`, polling MPI until it is done or the timeout has passed.
  /// \throws transport_error on timeout (naming this rank, the peer and the tag), when the message
  /// has another size than the buffer (naming both; the message is consumed), or on an MPI error.
  /// After a timeout the receive's buffer may still be written if the message had already
  /// started to arrive: a `transport_error` means the run is over.
  void wait(request& r) {
    if (r.m_done) return;
    const auto deadline = std::chrono::steady_clock::now() + m_timeout;
    if (!r.m_receive) {
      if (!poll(r.m_handle, deadline, "wait", r))
        throw transport_error(frugal::detail::concat(
            "frugal::pipeline::mpi_transport: ", who(), " waited ", m_timeout.count(), " ms for its send to rank ",
            r.m_peer, " with tag ", r.m_tag, " to complete; the peer is stalled or gone"));
      r.m_done = true;
      return;
    }
    if (r.m_handle == MPI_REQUEST_NULL) match(r, deadline);
    if (!poll(r.m_handle, deadline, "wait", r))
      throw transport_error(frugal::detail::concat("frugal::pipeline::mpi_transport: ", who(), " waited ",
                                                   m_timeout.count(), " ms for the rest of a message of ",
                                                   r.m_buffer.size(), " bytes from rank ", r.m_peer, " with tag ",
                                                   r.m_tag, "; the peer is stalled or gone"));
    m_counters.bytes_received += static_cast<std::int64_t>(r.m_buffer.size());
    ++m_counters.messages_received;
    r.m_done = true;
  }

  /// Ends the run on every rank: `MPI_Abort`, which Open MPI and MPICH carry out by killing every
  /// process of the job. A library must not print, so the reason becomes the communicator's name,
  /// which Open MPI shows in its abort notice (the first 63 characters); print the whole reason
  /// before calling this where it matters.
  [[noreturn]] void abort(const std::string& reason) {
    MPI_Comm comm = m_comm == MPI_COMM_NULL ? MPI_COMM_WORLD : m_comm;
    if (!detail::mpi_finalized()) {
      std::string name = "frugal: " + reason;
      name.resize(std::min<std::size_t>(name.size(), MPI_MAX_OBJECT_NAME - 1));
      MPI_Comm_set_name(comm, name.c_str());
      MPI_Abort(comm, 1);
    }
    throw transport_error(reason);  // MPI_Abort does not return; if it ever did, the caller still stops
  }

  [[nodiscard]] transport_counters counters() const noexcept { return m_counters; }
  void reset_counters() noexcept { m_counters = {}; }

 private:
  struct adopt_tag {};
  mpi_transport(adopt_tag, MPI_Comm owned, std::chrono::milliseconds timeout) : m_timeout(timeout) { adopt(owned); }

  void adopt(MPI_Comm owned) {
    m_comm = owned;
    try {
      detail::check_mpi(MPI_Comm_set_errhandler(m_comm, MPI_ERRORS_RETURN),
                        "frugal::pipeline::mpi_transport: MPI_Comm_set_errhandler");
      detail::check_mpi(MPI_Comm_rank(m_comm, &m_rank), "frugal::pipeline::mpi_transport: MPI_Comm_rank");
      detail::check_mpi(MPI_Comm_size(m_comm, &m_size), "frugal::pipeline::mpi_transport: MPI_Comm_size");
      detail::check_mpi(MPI_Comm_rank(MPI_COMM_WORLD, &m_world_rank),
                        "frugal::pipeline::mpi_transport: MPI_Comm_rank(MPI_COMM_WORLD)");
      // MPI_TAG_UB is an attribute of MPI_COMM_WORLD only (Open MPI does not copy it to
      // duplicates); it is the same for every communicator of the process.
      void* value = nullptr;
      int found = 0;
      detail::check_mpi(MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &value, &found),
                        "frugal::pipeline::mpi_transport: MPI_Comm_get_attr(MPI_TAG_UB)");
      m_tag_upper_bound = found != 0 && value != nullptr ? *static_cast<int*>(value) : 32767;
    } catch (...) {
      free_communicator();
      throw;
    }
  }

  void free_communicator() noexcept {
    if (m_comm != MPI_COMM_NULL && !detail::mpi_finalized()) MPI_Comm_free(&m_comm);
    m_comm = MPI_COMM_NULL;
  }

  /// "rank 1", or "rank 1 (world rank 3)" on a communicator that numbers ranks differently.
  [[nodiscard]] std::string who() const {
    if (m_world_rank == m_rank) return frugal::detail::concat("rank ", m_rank);
    return frugal::detail::concat("rank ", m_rank, " (world rank ", m_world_rank, ")");
  }

  void check_message(const char* what, int peer, int tag, std::size_t bytes) const {
    check(peer >= 0 && peer < m_size && peer != m_rank, "frugal::pipeline::mpi_transport::", what, ": peer ", peer,
          " from rank ", m_rank, " of ", m_size, " (a rank does not message itself)");
    check(tag >= 0 && tag <= m_tag_upper_bound, "frugal::pipeline::mpi_transport::", what, ": tag ", tag,
          " outside 0..", m_tag_upper_bound, " (MPI_TAG_UB of this MPI)");
    check(bytes <= static_cast<std::size_t>(INT_MAX), "frugal::pipeline::mpi_transport::", what, ": ", bytes,
          " bytes in one message; MPI counts are int, so at most ", INT_MAX);
  }

  /// Tests `handle` until it completes (true) or `deadline` has passed (false); at least once.
  bool poll(MPI_Request& handle, std::chrono::steady_clock::time_point deadline, const char* what,
            const request& r) const {
    for (;;) {
      int complete = 0;
      detail::check_mpi(MPI_Test(&handle, &complete, MPI_STATUS_IGNORE), "frugal::pipeline::mpi_transport::", what,
                        ": ", who(), ", peer ", r.m_peer, ", tag ", r.m_tag, ": MPI_Test");
      if (complete != 0) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::yield();  // ranks may outnumber cores (mpirun --oversubscribe)
    }
  }

  /// Finds the next message for `r` and starts receiving it into `r`'s buffer (`MPI_Imrecv`).
  void match(request& r, std::chrono::steady_clock::time_point deadline) {
    MPI_Message message = MPI_MESSAGE_NULL;
    MPI_Status status;
    for (;;) {
      int found = 0;
      detail::check_mpi(MPI_Improbe(r.m_peer, r.m_tag, m_comm, &found, &message, &status),
                        "frugal::pipeline::mpi_transport::wait: ", who(), ", peer ", r.m_peer, ", tag ", r.m_tag,
                        ": MPI_Improbe");
      if (found != 0) break;
      if (std::chrono::steady_clock::now() >= deadline)
        throw transport_error(frugal::detail::concat("frugal::pipeline::mpi_transport: ", who(), " waited ",
                                                     m_timeout.count(), " ms for a message from rank ", r.m_peer,
                                                     " with tag ", r.m_tag, "; the peer is stalled or gone"));
      std::this_thread::yield();
    }
    // Sends are at most INT_MAX bytes (check_message), so the count is always defined.
    int count = 0;
    detail::check_mpi(MPI_Get_count(&status, MPI_BYTE, &count), "frugal::pipeline::mpi_transport::wait: MPI_Get_count");
    if (static_cast<std::size_t>(count) != r.m_buffer.size()) {
      // Take the message off the wire, so that the next receive with this tag gets the next one.
      std::vector<std::byte> unwanted(static_cast<std::size_t>(count));
      detail::check_mpi(MPI_Mrecv(unwanted.data(), count, MPI_BYTE, &message, MPI_STATUS_IGNORE),
                        "frugal::pipeline::mpi_transport::wait: MPI_Mrecv");
      throw transport_error(frugal::detail::concat("frugal::pipeline::mpi_transport: ", who(), " expected ",
                                                   r.m_buffer.size(), " bytes from rank ", r.m_peer, " with tag ",
                                                   r.m_tag, ", got ", count));
    }
    detail::check_mpi(MPI_Imrecv(r.m_buffer.data(), count, MPI_BYTE, &message, &r.m_handle),
                      "frugal::pipeline::mpi_transport::wait: ", who(), ", peer ", r.m_peer, ", tag ", r.m_tag,
                      ": MPI_Imrecv");
  }

  MPI_Comm m_comm = MPI_COMM_NULL;
  int m_rank = 0;
  int m_size = 1;
  int m_world_rank = 0;
  int m_tag_upper_bound = 32767;
  std::chrono::milliseconds m_timeout;
  transport_counters m_counters;
};

static_assert(Transport<mpi_transport>);

}  // namespace frugal::pipeline
