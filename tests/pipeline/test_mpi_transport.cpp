// The MPI transport, run under mpirun with 2 and 4 ranks (ctest pipeline_mpi_2, pipeline_mpi_4):
// messages in order per tag, counters, the rank-ordered allreduce, the failure paths (wrong size,
// a stalled peer, dropped requests) and split communicators for a stage × partition grid. The
// abort test ends the job, so it is skipped here and run on its own (ctest pipeline_mpi_abort).
#include <doctest/doctest.h>
#include <mpi.h>

#include <frugal/pipeline/mpi_transport.hpp>
#include <frugal/pipeline/transport.hpp>

#include <chrono>
#include <climits>
#include <cstdio>
#include <span>
#include <utility>
#include <vector>

using namespace frugal;
using namespace std::chrono_literals;

TEST_CASE("mpi_transport: point-to-point in order, per tag, with byte and message counters") {
  pipeline::mpi_transport t;
  const int n = t.size(), me = t.rank(), next = (me + 1) % n, prev = (me + n - 1) % n;
  INFO("rank ", me, " of ", n);
  REQUIRE(n >= 2);
  // Two messages on tag 1 and one on tag 2 to the next rank, received tag 2 first; then a message
  // large enough for MPI's rendezvous protocol.
  std::vector<float> a{float(me), 1}, b{float(me), 2, 3}, large(300000, float(me));
  std::vector<double> c{me * 10.0};
  auto r1 = pipeline::isend(t, next, 1, std::span<const float>(a));
  auto r2 = pipeline::isend(t, next, 1, std::span<const float>(b));
  auto r3 = pipeline::isend(t, next, 2, std::span<const double>(c));
  auto r4 = pipeline::isend(t, next, 3, std::span<const float>(large));
  std::vector<double> got_c(1);
  std::vector<float> got_a(2), got_b(3), got_large(large.size());
  pipeline::recv(t, prev, 2, std::span<double>(got_c));
  pipeline::recv(t, prev, 1, std::span<float>(got_a));
  pipeline::recv(t, prev, 1, std::span<float>(got_b));
  pipeline::recv(t, prev, 3, std::span<float>(got_large));
  for (auto* r : {&r1, &r2, &r3, &r4}) t.wait(*r);
  CHECK(r4.done());
  CHECK(got_c[0] == prev * 10.0);
  CHECK(got_a == std::vector<float>{float(prev), 1});
  CHECK(got_b == std::vector<float>{float(prev), 2, 3});
  CHECK(got_large == std::vector<float>(large.size(), float(prev)));
  const auto counters = t.counters();
  CHECK(counters.messages_sent == 4);
  CHECK(counters.messages_received == 4);
  CHECK(counters.bytes_sent == 8 + 12 + 8 + 1200000);
  CHECK(counters.bytes_received == 8 + 12 + 8 + 1200000);
  t.reset_counters();
  CHECK(t.counters().bytes_sent == 0);
}

TEST_CASE("mpi_transport: allreduce_sum leaves the rank-ordered sum on every rank, bit for bit") {
  pipeline::mpi_transport t;
  INFO("rank ", t.rank());
  std::vector<double> v(5);
  for (int i = 0; i < 5; ++i) v[static_cast<std::size_t>(i)] = 0.1 * (t.rank() + 1) + 1e-17 * i;
  pipeline::allreduce_sum(t, std::span<double>(v));
  pipeline::barrier(t);
  std::vector<double> expected(5);
  for (int i = 0; i < 5; ++i) {
    double s = 0.1 * 1 + 1e-17 * i;  // rank 0's value first, then ranks 1, 2, ... in order
    for (int r = 1; r < t.size(); ++r) s += 0.1 * (r + 1) + 1e-17 * i;
    expected[static_cast<std::size_t>(i)] = s;
  }
  CHECK(v == expected);
  // 2(size − 1) messages through rank 0 for the sum, as many again for the barrier.
  CHECK(t.counters().messages_sent == (t.rank() == 0 ? 2 * (t.size() - 1) : 2));
}

TEST_CASE("mpi_transport: a message of the wrong size is an error naming both sizes, and is consumed") {
  pipeline::mpi_transport t;
  INFO("rank ", t.rank());
  std::vector<float> three{1, 2, 3}, large(25000, 5.0f), four{4, 5, 6, 7};
  if (t.rank() == 0) {
    pipeline::send(t, 1, 0, std::span<const float>(three));
    pipeline::send(t, 1, 0, std::span<const float>(three));
    pipeline::send(t, 1, 0, std::span<const float>(large));  // 100 000 bytes into 8: no truncation
    pipeline::send(t, 1, 0, std::span<const float>(four));
  } else if (t.rank() == 1) {
    std::vector<float> two(2), got(4);
    CHECK_THROWS_WITH_AS(pipeline::recv(t, 0, 0, std::span<float>(two)),
                         doctest::Contains("rank 1 expected 8 bytes from rank 0 with tag 0, got 12"),
                         pipeline::transport_error);
    CHECK_THROWS_WITH_AS(pipeline::recv(t, 0, 0, std::span<float>(got)),
                         doctest::Contains("expected 16 bytes from rank 0 with tag 0, got 12"),
                         pipeline::transport_error);
    CHECK_THROWS_WITH_AS(pipeline::recv(t, 0, 0, std::span<float>(two)), doctest::Contains("got 100000"),
                         pipeline::transport_error);
    CHECK(two == std::vector<float>{0, 0});
    pipeline::recv(t, 0, 0, std::span<float>(got));  // the next message is intact
    CHECK(got == four);
    CHECK(t.counters().messages_received == 1);  // the rejected ones are not counted
  }
  pipeline::barrier(t);
}

TEST_CASE("mpi_transport: a stalled peer ends the wait after the timeout, and the ranks go on") {
  pipeline::mpi_transport quick(MPI_COMM_WORLD, 200ms);
  INFO("rank ", quick.rank());
  CHECK(quick.timeout() == 200ms);
  std::vector<int> x(1);
  const auto start = std::chrono::steady_clock::now();
  if (quick.rank() == 1) {
    CHECK_THROWS_WITH_AS(pipeline::recv(quick, 0, 7, std::span<int>(x)),  // rank 0 never sends
                         doctest::Contains("rank 1 waited 200 ms for a message from rank 0 with tag 7; the peer is "
                                           "stalled or gone"),
                         pipeline::transport_error);
    const auto waited = std::chrono::steady_clock::now() - start;
    CHECK(waited >= 200ms);
    CHECK(waited < 5s);
  }
  // On a split transport the error names the rank in both numberings.
  auto reversed = quick.split(0, -quick.rank());
  CHECK(reversed.rank() == quick.size() - 1 - quick.rank());
  if (quick.rank() == 0) {
    CHECK_THROWS_WITH_AS(pipeline::recv(reversed, 0, 7, std::span<int>(x)),
                         doctest::Contains(("rank " + std::to_string(quick.size() - 1) +
                                            " (world rank 0) waited 200 ms for a message from rank 0 with tag 7")
                                               .c_str()),
                         pipeline::transport_error);
  }
  pipeline::mpi_transport t;  // the 60 s default: the others wait here for the ones that timed out
  pipeline::barrier(t);
}

TEST_CASE("mpi_transport: a dropped receive takes no message, a dropped send still arrives, moves keep requests") {
  pipeline::mpi_transport t;
  INFO("rank ", t.rank());
  std::vector<int> sent{42, 43};
  if (t.rank() == 0) {
    { [[maybe_unused]] auto dropped = pipeline::isend(t, 1, 3, std::span<const int>(sent.data(), 1)); }
    auto first = pipeline::isend(t, 1, 4, std::span<const int>(sent.data() + 1, 1));
    auto moved = std::move(first);
    CHECK(first.done());  // a moved-from request has nothing left to wait for
    t.wait(first);
    t.wait(moved);
    CHECK(moved.done());
  } else if (t.rank() == 1) {
    std::vector<int> never(1), got(1);
    { [[maybe_unused]] auto dropped = pipeline::irecv(t, 0, 3, std::span<int>(never)); }
    pipeline::recv(t, 0, 3, std::span<int>(got));
    CHECK(got[0] == 42);
    CHECK(never[0] == 0);
    pipeline::recv(t, 0, 4, std::span<int>(got));
    CHECK(got[0] == 43);
  }
  pipeline::barrier(t);  // `sent` outlives the dropped send
}

TEST_CASE("mpi_transport: peers, tags and options are checked; the caller's communicator stays the caller's") {
  MPI_Comm mine = MPI_COMM_NULL;
  MPI_Comm_dup(MPI_COMM_WORLD, &mine);
  {
    pipeline::mpi_transport t(mine);
    INFO("rank ", t.rank());
    CHECK(t.communicator() != mine);
    CHECK(t.tag_upper_bound() >= 32767);
    static_assert(pipeline::collective_tag_base + 3 <= 32767, "the collectives' tags fit every MPI");
    std::vector<int> x(1);
    const int other = (t.rank() + 1) % t.size();
    CHECK_THROWS_WITH_AS((void)pipeline::isend(t, t.rank(), 0, std::span<const int>(x)),
                         doctest::Contains("a rank does not message itself"), invalid_argument);
    CHECK_THROWS_WITH_AS((void)pipeline::irecv(t, t.size(), 0, std::span<int>(x)),
                         doctest::Contains(("irecv: peer " + std::to_string(t.size())).c_str()), invalid_argument);
    CHECK_THROWS_WITH_AS((void)pipeline::irecv(t, other, -1, std::span<int>(x)),
                         doctest::Contains("tag -1 outside 0.."), invalid_argument);
    if (t.tag_upper_bound() < INT_MAX)
      CHECK_THROWS_AS((void)pipeline::isend(t, other, t.tag_upper_bound() + 1, std::span<const int>(x)),
                      invalid_argument);
    CHECK_THROWS_WITH_AS((void)t.split(-1, 0), doctest::Contains("color -1"), invalid_argument);
    CHECK_THROWS_WITH_AS(pipeline::mpi_transport(mine, 0ms), doctest::Contains("timeout 0 ms"), invalid_argument);
    CHECK_THROWS_AS(pipeline::mpi_transport(MPI_COMM_NULL), invalid_argument);
  }
  // The transport worked on a duplicate: `mine` is still usable and keeps its error handler.
  MPI_Errhandler handler = MPI_ERRHANDLER_NULL;
  MPI_Comm_get_errhandler(mine, &handler);
  CHECK(handler == MPI_ERRORS_ARE_FATAL);
  MPI_Errhandler_free(&handler);
  CHECK(MPI_Barrier(mine) == MPI_SUCCESS);
  MPI_Comm_free(&mine);
}

TEST_CASE("mpi_transport::split: a grid of 2 stages × size/2 partitions") {
  pipeline::mpi_transport world;
  REQUIRE(world.size() % 2 == 0);
  const int partitions = world.size() / 2;
  const int stage = world.rank() / partitions, partition = world.rank() % partitions;
  INFO("rank ", world.rank(), ": stage ", stage, ", partition ", partition);
  auto stage_group = world.split(stage, partition);  // the partitions of one stage
  auto pipe = world.split(partition, stage);         // the stages of one partition
  CHECK(stage_group.size() == partitions);
  CHECK(stage_group.rank() == partition);
  CHECK(pipe.size() == 2);
  CHECK(pipe.rank() == stage);

  // A sum over the partitions of a stage, in partition order.
  std::vector<double> v{0.1 * (world.rank() + 1)};
  pipeline::allreduce_sum(stage_group, std::span<double>(v));
  double expected = 0.1 * (stage * partitions + 1);
  for (int p = 1; p < partitions; ++p) expected += 0.1 * (stage * partitions + p + 1);
  CHECK(v[0] == expected);

  // Stage 0 hands activations to stage 1 of its partition; the same tag on the world transport
  // carries another message, and the two never mix.
  std::vector<int> activations{partition, 100 + partition}, marker{-1};
  if (stage == 0) {
    auto on_pipe = pipeline::isend(pipe, 1, 5, std::span<const int>(activations));
    auto on_world = pipeline::isend(world, partitions + partition, 5, std::span<const int>(marker));
    pipe.wait(on_pipe);
    world.wait(on_world);
  } else {
    std::vector<int> got_marker(1), got(2);
    pipeline::recv(world, partition, 5, std::span<int>(got_marker));
    pipeline::recv(pipe, 0, 5, std::span<int>(got));
    CHECK(got_marker[0] == -1);
    CHECK(got == activations);
  }
  CHECK(pipe.counters().messages_sent == (stage == 0 ? 1 : 0));
  CHECK(pipe.counters().bytes_received == (stage == 0 ? 0 : 8));
  CHECK(world.counters().messages_sent + world.counters().messages_received == 1);
  pipeline::barrier(world);
}

// Run by ctest pipeline_mpi_abort (2 ranks, --no-skip): rank 1 aborts while rank 0 waits for it
// with the 60 s default timeout. The abort must end both within the test's 30 s limit.
TEST_CASE("mpi_transport::abort ends every rank" * doctest::skip()) {
  pipeline::mpi_transport t;
  if (t.rank() == 1) {
    std::fprintf(stderr, "rank 1 aborts the run: a planted failure\n");
    t.abort("rank 1 failed: a planted failure");
  }
  std::vector<int> x(1);
  try {
    pipeline::recv(t, 1, 0, std::span<int>(x));
  } catch (const pipeline::transport_error&) {
  }
  std::fprintf(stderr, "rank %d was not stopped by the abort\n", t.rank());
  FAIL("rank ", t.rank(), " outlived the abort");
}
