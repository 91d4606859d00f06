#pragma once
/// \file
/// A small dense tensor: up to rank 4, row-major, owning, and reusable (a `resize` to the same
/// element count keeps the allocation, so layers reuse their buffers from one batch to the next).
/// Its storage is a Kokkos View in host memory, which kernels take through `view()`; host code
/// sees it through Eigen maps (`flat()`, `rows_view()`).
///
/// Convention: image activations are **NHWC** (batch, height, width, channels). With channels
/// innermost, the patch matrix of a convolution is built from contiguous runs and the GEMM output
/// is already NHWC, so no transposes are needed anywhere in a CNN.

#include <Eigen/Core>
#include <Kokkos_Core.hpp>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/scalar.hpp"

namespace frugal::nn {

/// Scalar types the nn substrate is instantiated for: core's `frugal::Scalar` (float or double).
using frugal::Scalar;

/// Row-major dynamic Eigen matrix, the storage of every parameter.
template <class S>
using matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// Column-major views used by weight policies: a batch of n vectors of length d is a d x n
/// column-major matrix, which is the same memory as an n x d row-major activation.
template <class S>
using column_map = Eigen::Map<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>;
template <class S>
using const_column_map = Eigen::Map<const Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>>;

/// An owning tensor of rank 1 to 4.
/// \tparam S float or double
template <Scalar S>
class tensor {
 public:
  using scalar_type = S;
  using view_type = Kokkos::View<S*, Kokkos::HostSpace>;
  static constexpr int max_rank = 4;

  tensor() = default;

  /// A zero-filled tensor of the given extents.
  tensor(std::initializer_list<index_t> extents) {
    resize(std::span<const index_t>(extents.begin(), extents.size()));
    set_zero();
  }

  /// Deep copies (a View copy would share the storage; a tensor owns its own).
  tensor(const tensor& other) : m_extents(other.m_extents), m_rank(other.m_rank), m_size(other.m_size) {
    allocate(m_size);
    std::copy_n(other.data(), m_size, data());
  }
  tensor& operator=(const tensor& other) {
    if (this != &other) {
      resize(other.extents());
      std::copy_n(other.data(), m_size, data());
    }
    return *this;
  }
  tensor(tensor&&) noexcept = default;
  tensor& operator=(tensor&&) noexcept = default;
  ~tensor() = default;

  /// Sets the extents; reallocates only when the element count changes. Contents are unspecified
  /// after a reallocation.
  void resize(std::span<const index_t> extents) {
    check(!extents.empty() && extents.size() <= max_rank, "frugal::nn::tensor::resize: rank is ", extents.size(),
          ", must be 1 to ", max_rank);
    index_t n = 1;
    for (index_t e : extents) {
      check(e >= 0, "frugal::nn::tensor::resize: negative extent ", e);
      n *= e;
    }
    m_rank = static_cast<int>(extents.size());
    std::copy(extents.begin(), extents.end(), m_extents.begin());
    if (n != m_size) allocate(n);
  }
  void resize(std::initializer_list<index_t> extents) {
    resize(std::span<const index_t>(extents.begin(), extents.size()));
  }

  /// Same extents as `other`.
  void resize_like(const tensor& other) { resize(other.extents()); }

  [[nodiscard]] int rank() const noexcept { return m_rank; }
  [[nodiscard]] index_t extent(int i) const noexcept { return m_extents[static_cast<std::size_t>(i)]; }
  [[nodiscard]] std::span<const index_t> extents() const noexcept {
    return {m_extents.data(), static_cast<std::size_t>(m_rank)};
  }
  [[nodiscard]] index_t size() const noexcept { return m_size; }

  [[nodiscard]] S* data() noexcept { return m_data.data(); }
  [[nodiscard]] const S* data() const noexcept { return m_data.data(); }
  S& operator[](index_t i) noexcept { return m_data.data()[i]; }
  const S& operator[](index_t i) const noexcept { return m_data.data()[i]; }

  /// The storage as a rank-1 host View of `size()` elements (shared, not copied).
  [[nodiscard]] const view_type& view() const noexcept { return m_data; }

  /// All elements as a flat Eigen array.
  [[nodiscard]] Eigen::Map<Eigen::Array<S, Eigen::Dynamic, 1>> flat() noexcept { return {data(), size()}; }
  [[nodiscard]] Eigen::Map<const Eigen::Array<S, Eigen::Dynamic, 1>> flat() const noexcept { return {data(), size()}; }

  /// The tensor seen as (extent(0), size / extent(0)) row-major: one sample per row.
  [[nodiscard]] Eigen::Map<matrix<S>> rows_view() noexcept {
    return {data(), m_extents[0], m_extents[0] ? size() / m_extents[0] : 0};
  }
  [[nodiscard]] Eigen::Map<const matrix<S>> rows_view() const noexcept {
    return {data(), m_extents[0], m_extents[0] ? size() / m_extents[0] : 0};
  }

  void set_zero() noexcept { std::fill_n(data(), m_size, S(0)); }

  /// "(64, 28, 28, 1)" for error messages.
  [[nodiscard]] std::string shape_string() const {
    std::ostringstream out;
    out << '(';
    for (int i = 0; i < m_rank; ++i) out << (i ? ", " : "") << m_extents[static_cast<std::size_t>(i)];
    out << ')';
    return out.str();
  }

 private:
  /// Fresh storage for n elements, left uninitialised (every layer writes what it reads).
  void allocate(index_t n) {
    m_data = n > 0 ? view_type(Kokkos::view_alloc(Kokkos::WithoutInitializing, "frugal::nn::tensor"), n) : view_type();
    m_size = n;
  }

  view_type m_data;
  std::array<index_t, max_rank> m_extents{};
  int m_rank = 0;
  index_t m_size = 0;
};

}  // namespace frugal::nn
