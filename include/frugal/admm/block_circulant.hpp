#pragma once
/// \file
/// Projection onto block-circulant matrices (CirCNN, E-RNN): every k x k block is circulant,
/// W_blk(i, j) = v[(i − j) mod k], defined by one length-k vector v (the block's first column).

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/parallel.hpp"
#include "concepts.hpp"

namespace frugal::admm {

/// Block-circulant structure with block size k. The set is a linear subspace, so the Euclidean
/// projection is exact and closed-form: each entry becomes the mean of its circulant diagonal
/// ((i − j) mod k) within its block. Edge blocks smaller than k (when k does not divide the
/// shape) are circulant blocks cut off at the edge: their diagonals average over the entries
/// present. O(size); blocks in parallel on `exec`, each summed whole by one thread in row-major
/// order, so the result is identical on any number of threads.
struct block_circulant {
  index_t block_size = 8;

  template <HostExecutionSpace Exec, nn::Scalar S>
  [[nodiscard]] matrix<S> project(const Exec& exec, const matrix<S>& w) const {
    check(block_size > 0, "frugal::admm::block_circulant: block_size = ", block_size, " must be positive");
    const index_t k = block_size;
    const index_t grid_cols = (w.cols() + k - 1) / k, grid = (w.rows() + k - 1) / k * grid_cols;
    matrix<S> z(w.rows(), w.cols());
    const S* in = w.data();
    S* out = z.data();
    const index_t rows = w.rows(), cols = w.cols();
    // Captured by value: an index_t behind a reference may alias the counts, which would keep
    // the compiler from holding k in a register through the loops.
    parallel_for_chunks(
        "frugal::admm::block_circulant", exec, grid, grain_for(k * k), [=](index_t first, index_t last) {
          std::vector<double> sum(static_cast<std::size_t>(k));
          std::vector<index_t> count(static_cast<std::size_t>(k));
          for (index_t blk = first; blk < last; ++blk) {
            const index_t r0 = blk / grid_cols * k, c0 = blk % grid_cols * k;
            const index_t h = std::min(k, rows - r0), wd = std::min(k, cols - c0);
            std::fill(sum.begin(), sum.end(), 0.0);
            std::fill(count.begin(), count.end(), 0);
            // Inside a block |i − j| < k, so (i − j) mod k needs no division.
            auto diagonal = [k](index_t i, index_t j) { return static_cast<std::size_t>(i >= j ? i - j : i - j + k); };
            for (index_t i = 0; i < h; ++i)
              for (index_t j = 0; j < wd; ++j) {
                const auto d = diagonal(i, j);
                sum[d] += static_cast<double>(in[(r0 + i) * cols + c0 + j]);
                ++count[d];
              }
            for (index_t i = 0; i < h; ++i)
              for (index_t j = 0; j < wd; ++j) {
                const auto d = diagonal(i, j);
                out[(r0 + i) * cols + c0 + j] = static_cast<S>(sum[d] / static_cast<double>(count[d]));
              }
          }
        });
    return z;
  }
  template <nn::Scalar S>
  [[nodiscard]] matrix<S> project(const matrix<S>& w) const {
    return project(default_host_space{}, w);
  }

  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out << "block-circulant, k = " << block_size;
    return out.str();
  }
};

static_assert(ProjectionOn<block_circulant, float, default_host_space>);

}  // namespace frugal::admm
