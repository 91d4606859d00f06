#pragma once
/// \file
/// The views a `bcr_matrix` gives of its storage — one dense sub-block (`bcr_group`) and the
/// range of them (`bcr_group_list`) — and the micro-kernel choice of its batched products
/// (`bcr_kernel_config`).

#include <cstddef>
#include <cstdint>
#include <span>

#include "../core/execution.hpp"

namespace frugal::sparse {

/// One dense sub-block of a `bcr_matrix`, viewed: W(rows[i], cols[j]) = values[offset + i·cols.size() + j].
struct bcr_group {
  std::span<const std::int32_t> rows;  ///< absolute row indices (ascending)
  std::span<const std::int32_t> cols;  ///< absolute column indices (ascending)
  index_t offset = 0;                  ///< first value of the group in `bcr_matrix::values()`

  [[nodiscard]] index_t size() const noexcept { return static_cast<index_t>(rows.size() * cols.size()); }
};

/// The groups of a `bcr_matrix` as a random-access range of `bcr_group` views.
template <class Matrix>
class bcr_group_list {
 public:
  explicit bcr_group_list(const Matrix& m) noexcept : m_matrix(&m) {}
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(m_matrix->group_count()); }
  [[nodiscard]] bool empty() const noexcept { return size() == 0; }
  [[nodiscard]] bcr_group operator[](std::size_t k) const noexcept { return m_matrix->group(static_cast<index_t>(k)); }

  class iterator {
   public:
    using value_type = bcr_group;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    iterator(const Matrix* m, index_t k) noexcept : m_matrix(m), m_k(k) {}
    bcr_group operator*() const noexcept { return m_matrix->group(m_k); }
    iterator& operator++() noexcept {
      ++m_k;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++m_k;
      return old;
    }
    bool operator==(const iterator& other) const noexcept { return m_k == other.m_k; }

   private:
    const Matrix* m_matrix = nullptr;
    index_t m_k = 0;
  };
  [[nodiscard]] iterator begin() const noexcept { return {m_matrix, 0}; }
  [[nodiscard]] iterator end() const noexcept { return {m_matrix, m_matrix->group_count()}; }

 private:
  const Matrix* m_matrix;
};

/// Micro-kernel choice for the batched products: a register tile of `row_tile` output rows by
/// `vector_tile` SIMD vectors of samples. `bcr_autotuner` picks it per shape by measurement.
struct bcr_kernel_config {
  int row_tile = 4;     ///< 1 … 8
  int vector_tile = 2;  ///< 1, 2 or 4

  friend bool operator==(const bcr_kernel_config&, const bcr_kernel_config&) = default;
};

}  // namespace frugal::sparse
