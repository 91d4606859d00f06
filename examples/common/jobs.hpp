#pragma once
// Independent jobs of an example (seeds, methods, budgets) on the Kokkos host space, in place of a
// private thread pool.
#include <Kokkos_Core.hpp>

#include <atomic>
#include <cstddef>
#include <exception>
#include <vector>

namespace frugal::examples {

/// How an example runs its independent jobs.
enum class job_schedule {
  /// One parallel dispatch over the jobs on the default host space: each thread takes the next
  /// job, and the job's own frugal kernels run on that thread alone (Kokkos runs a dispatch issued
  /// inside another one serially). Best when there are at least as many jobs as threads.
  spread,
  /// One job after another, each job's kernels using every thread of the default host space.
  one_at_a_time
};

/// Runs `job(i)` for i in [0, count). frugal's kernels split their work by the shape alone, so a
/// job computes the same bits under either schedule and on any number of threads. An exception
/// thrown by a job does not end the process from inside the parallel region: jobs not yet started
/// are skipped, and once the others have finished, the exception of the lowest-numbered failing
/// job is rethrown to the caller, which reports it once.
template <class Job>
void run_jobs(std::size_t count, job_schedule schedule, const Job& job) {
  std::vector<std::exception_ptr> failures(count);
  std::atomic<bool> failed{false};
  auto guarded = [&](std::size_t i) {
    if (failed.load()) return;
    try {
      job(i);
    } catch (...) {
      failures[i] = std::current_exception();
      failed.store(true);
    }
  };
  if (schedule == job_schedule::one_at_a_time) {
    for (std::size_t i = 0; i < count; ++i) guarded(i);
  } else {
    using policy = Kokkos::RangePolicy<Kokkos::DefaultHostExecutionSpace, Kokkos::Schedule<Kokkos::Dynamic>>;
    Kokkos::parallel_for("frugal::examples::run_jobs", policy(0, count, Kokkos::ChunkSize(1)), guarded);
  }
  for (const auto& f : failures)
    if (f) std::rethrow_exception(f);
}

}  // namespace frugal::examples
