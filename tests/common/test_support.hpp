#pragma once
// Helpers shared by frugal's tests.
#include <doctest/doctest.h>

#include <Kokkos_Core.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

/// The host execution spaces every kernel test runs on: Kokkos::Serial and the default host space,
/// which is Kokkos::OpenMP in the openmp preset (two genuinely different spaces there; the same
/// type twice against Debian's Serial-only Kokkos). Use as `TEST_CASE_TEMPLATE(name, Exec,
/// FRUGAL_TEST_SPACES)`.
#define FRUGAL_TEST_SPACES Kokkos::Serial, Kokkos::DefaultHostExecutionSpace

namespace frugal::test {

/// ../shared/data next to the source tree, or empty when absent (a user's fresh clone).
inline std::filesystem::path shared_data_dir() {
  const std::filesystem::path dir = FRUGAL_SHARED_DATA_DIR;
  return std::filesystem::is_directory(dir) ? dir : std::filesystem::path{};
}

/// Debian's dataset-fashion-mnist location, or empty when the package is not installed.
inline std::filesystem::path fashion_mnist_dir() {
  const std::filesystem::path dir = "/usr/share/datasets/fashion-mnist";
  return std::filesystem::exists(dir / "t10k-images-idx3-ubyte.gz") ? dir : std::filesystem::path{};
}

/// A fresh scratch directory under the build tree's temp folder.
inline std::filesystem::path scratch_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("frugal-test-" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace frugal::test
