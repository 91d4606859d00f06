// doctest main of test_pipeline_mpi, run under mpirun: every rank runs every test case, in the
// same order, between MPI_Init and MPI_Finalize. Rank 0 reports in full, the others only their
// failures; mpirun exits non-zero when any rank does. Kokkos lives inside MPI's lifetime.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <mpi.h>

#include <Kokkos_Core.hpp>

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  int result = 0;
  {
    Kokkos::ScopeGuard kokkos(argc, argv);  // the hybrid test's layers allocate Views
    doctest::Context context(argc, argv);
    if (rank != 0) context.setOption("minimal", true);
    result = context.run();
  }
  MPI_Finalize();
  return result;
}
