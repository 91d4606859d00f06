// The in-process transport: messages matched by (source, tag) in posting order, counters, the
// rank-ordered allreduce, and the failure paths (timeout, abort, wrong size, a rank that throws).
#include <doctest/doctest.h>

#include <frugal/pipeline/in_process.hpp>
#include <frugal/pipeline/transport.hpp>

#include <chrono>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "test_support.hpp"

using namespace frugal;
using namespace std::chrono_literals;

TEST_CASE("in_process: point-to-point in order, per tag, with byte and message counters") {
  const auto counters = pipeline::run_in_process(3, [](pipeline::in_process_transport& t) {
    const int me = t.rank(), next = (me + 1) % 3, prev = (me + 2) % 3;
    // Two messages on tag 1 and one on tag 2 to the next rank; received tag 2 first.
    std::vector<float> a{float(me), 1}, b{float(me), 2, 3};
    std::vector<double> c{me * 10.0};
    auto r1 = pipeline::isend(t, next, 1, std::span<const float>(a));
    auto r2 = pipeline::isend(t, next, 1, std::span<const float>(b));
    pipeline::send(t, next, 2, std::span<const double>(c));
    std::vector<double> got_c(1);
    std::vector<float> got_a(2), got_b(3);
    pipeline::recv(t, prev, 2, std::span<double>(got_c));
    pipeline::recv(t, prev, 1, std::span<float>(got_a));
    pipeline::recv(t, prev, 1, std::span<float>(got_b));
    t.wait(r1);
    t.wait(r2);
    CHECK(got_c[0] == prev * 10.0);
    CHECK(got_a == std::vector<float>{float(prev), 1});
    CHECK(got_b == std::vector<float>{float(prev), 2, 3});
    return t.counters();
  });
  for (const auto& c : counters) {
    CHECK(c.messages_sent == 3);
    CHECK(c.messages_received == 3);
    CHECK(c.bytes_sent == 8 + 12 + 8);
    CHECK(c.bytes_received == 28);
  }
}

TEST_CASE("allreduce_sum: every rank holds the rank-ordered sum, bit for bit") {
  for (int ranks : {1, 2, 4}) {
    const auto results = pipeline::run_in_process(ranks, [](pipeline::in_process_transport& t) {
      std::vector<double> v(5);
      for (int i = 0; i < 5; ++i) v[static_cast<std::size_t>(i)] = 0.1 * (t.rank() + 1) + 1e-17 * i;
      pipeline::allreduce_sum(t, std::span<double>(v));
      pipeline::barrier(t);
      return v;
    });
    std::vector<double> expected(5);
    for (int i = 0; i < 5; ++i) {
      double s = 0.1 * 1 + 1e-17 * i;  // rank 0's value first, then ranks 1, 2, ... in order
      for (int r = 1; r < ranks; ++r) s += 0.1 * (r + 1) + 1e-17 * i;
      expected[static_cast<std::size_t>(i)] = s;
    }
    for (const auto& v : results) CHECK(v == expected);
  }
}

TEST_CASE("in_process failures: a stalled peer times out, a failing rank stops the others, sizes must match") {
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_WITH_AS(pipeline::run_in_process(
                           2,
                           [](pipeline::in_process_transport& t) {
                             if (t.rank() == 1) {
                               std::vector<int> x(1);
                               pipeline::recv(t, 0, 7, std::span<int>(x));  // rank 0 never sends
                             }
                           },
                           200ms),
                       doctest::Contains("rank 1 waited 200 ms for a message from rank 0 with tag 7"),
                       pipeline::transport_error);
  // A rank that throws: the others, blocked on it, stop; the cause is what is rethrown.
  CHECK_THROWS_WITH_AS(pipeline::run_in_process(4,
                                                [](pipeline::in_process_transport& t) {
                                                  if (t.rank() == 2)
                                                    throw std::runtime_error("stage 2 ran out of memory");
                                                  std::vector<int> x(1);
                                                  pipeline::recv(t, 2, 0, std::span<int>(x));
                                                }),
                       "stage 2 ran out of memory", std::runtime_error);
  CHECK(std::chrono::steady_clock::now() - start < 5s);  // nobody waited for the 60 s default
  CHECK_THROWS_WITH_AS(pipeline::run_in_process(2,
                                                [](pipeline::in_process_transport& t) {
                                                  std::vector<float> x(3);
                                                  if (t.rank() == 0)
                                                    pipeline::send(t, 1, 0, std::span<const float>(x));
                                                  else
                                                    pipeline::recv(t, 0, 0, std::span<float>(x.data(), 2));
                                                }),
                       doctest::Contains("expected 8 bytes from rank 0 with tag 0, got 12"), pipeline::transport_error);
  pipeline::in_process_world world(2);
  auto t = world.endpoint(0);
  std::vector<int> x(1);
  CHECK_THROWS_WITH_AS((void)pipeline::isend(t, 0, 0, std::span<const int>(x)),
                       doctest::Contains("a rank does not message itself"), invalid_argument);
}
