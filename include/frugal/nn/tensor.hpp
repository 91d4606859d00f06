#pragma once
/// \file
/// A small dense tensor over Eigen storage: up to rank 4, row-major, owning, and reusable (a
/// `resize` to the same element count keeps the allocation, so layers reuse their buffers from
/// one batch to the next).
///
/// Convention: image activations are **NHWC** (batch, height, width, channels). With channels
/// innermost, the patch matrix of a convolution is built from contiguous runs and the GEMM output
/// is already NHWC, so no transposes are needed anywhere in a CNN.

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <span>
#include <sstream>
#include <string>
#include <type_traits>

#include "../core/error.hpp"
#include "../core/execution.hpp"

namespace frugal::nn {

/// Scalar types the nn substrate is instantiated for.
template <class S>
concept Scalar = std::is_same_v<S, float> || std::is_same_v<S, double>;

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
  static constexpr int max_rank = 4;

  tensor() = default;

  /// A zero-filled tensor of the given extents.
  tensor(std::initializer_list<index_t> extents) {
    resize(std::span<const index_t>(extents.begin(), extents.size()));
    m_data.setZero();
  }

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
    if (n != m_data.size()) m_data.resize(n);
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
  [[nodiscard]] index_t size() const noexcept { return m_data.size(); }

  [[nodiscard]] S* data() noexcept { return m_data.data(); }
  [[nodiscard]] const S* data() const noexcept { return m_data.data(); }
  S& operator[](index_t i) noexcept { return m_data[i]; }
  const S& operator[](index_t i) const noexcept { return m_data[i]; }

  /// All elements as a flat Eigen array.
  [[nodiscard]] auto flat() noexcept { return m_data.array(); }
  [[nodiscard]] auto flat() const noexcept { return m_data.array(); }

  /// The tensor seen as (extent(0), size / extent(0)) row-major: one sample per row.
  [[nodiscard]] Eigen::Map<matrix<S>> rows_view() noexcept {
    return {data(), m_extents[0], m_extents[0] ? size() / m_extents[0] : 0};
  }
  [[nodiscard]] Eigen::Map<const matrix<S>> rows_view() const noexcept {
    return {data(), m_extents[0], m_extents[0] ? size() / m_extents[0] : 0};
  }

  void set_zero() noexcept { m_data.setZero(); }

  /// "(64, 28, 28, 1)" for error messages.
  [[nodiscard]] std::string shape_string() const {
    std::ostringstream out;
    out << '(';
    for (int i = 0; i < m_rank; ++i) out << (i ? ", " : "") << m_extents[static_cast<std::size_t>(i)];
    out << ')';
    return out.str();
  }

 private:
  Eigen::Matrix<S, Eigen::Dynamic, 1> m_data;
  std::array<index_t, max_rank> m_extents{};
  int m_rank = 0;
};

}  // namespace frugal::nn
