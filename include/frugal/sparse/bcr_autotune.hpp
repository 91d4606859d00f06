#pragma once
/// \file
/// `bcr_autotuner`: picks the BCR block shape and micro-kernel for a layer shape, sparsity and
/// batch size by timing the candidates on random weights, and caches the answers (in memory,
/// and in a file the caller names, in frugal's checkpoint format).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/rng.hpp"
#include "bcr_matrix.hpp"

namespace frugal::sparse {

/// A tuning decision and the time it was measured at.
struct bcr_tuning {
  index_t block_rows = 0, block_cols = 0;
  bcr_kernel_config kernel{};
  double seconds = 0;  ///< median time of one product with this choice
};

/// Options of `bcr_autotuner`.
struct bcr_autotune_options {
  /// Candidate block shapes (rows x cols); a shape larger than the matrix is clipped to it.
  std::vector<std::pair<index_t, index_t>> block_shapes = {{8, 16}, {16, 16}, {16, 32}, {32, 32}, {32, 64}, {64, 64}};
  /// Candidate micro-kernels for batched products (a batch of one uses the matrix-vector kernel).
  std::vector<bcr_kernel_config> kernels = {{2, 2}, {4, 1}, {4, 2}, {6, 2}, {8, 1}, {4, 4}};
  int repetitions = 5;     ///< timed runs per candidate (the median counts)
  std::uint64_t seed = 1;  ///< random weights and inputs
};

/// Chooses block shapes and kernels by measurement. Keys are (rows, cols, batch, sparsity in
/// whole percent); a repeated question is answered from the cache.
/// \tparam S float or double
/// \tparam Exec where the candidates are timed (use the space the products will run on)
template <nn::Scalar S, HostExecutionSpace Exec = default_host_space>
class bcr_autotuner {
 public:
  explicit bcr_autotuner(bcr_autotune_options options = {}, Exec exec = Exec{})
      : m_options(std::move(options)), m_exec(std::move(exec)) {
    check(!m_options.block_shapes.empty() && !m_options.kernels.empty() && m_options.repetitions > 0,
          "frugal::sparse::bcr_autotuner: needs at least one block shape, one kernel and one repetition");
  }

  /// The fastest block shape and kernel for y = W x with W rows x cols at `sparsity` (fraction of
  /// zeros, rows and columns pruned equally inside each block) and `batch` samples.
  bcr_tuning tune(index_t rows, index_t cols, double sparsity, index_t batch) {
    check(rows > 0 && cols > 0 && batch > 0, "frugal::sparse::bcr_autotuner::tune: shape ", rows, "x", cols,
          " and batch ", batch, " must be positive");
    check(sparsity >= 0 && sparsity < 1, "frugal::sparse::bcr_autotuner::tune: sparsity ", sparsity,
          " must be in [0, 1)");
    const key k{rows, cols, batch, static_cast<index_t>(std::lround(sparsity * 100))};
    if (auto it = m_cache.find(k); it != m_cache.end()) return it->second;
    rng gen(m_options.seed);
    matrix<S> w(rows, cols);
    for (index_t i = 0; i < w.size(); ++i) w.data()[i] = static_cast<S>(gen.normal());
    matrix<S> x(cols, batch), y(rows, batch);
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<S>(gen.normal());
    const double side = std::sqrt(1 - sparsity);
    bcr_tuning best;
    best.seconds = std::numeric_limits<double>::infinity();
    for (auto [br, bc] : m_options.block_shapes) {
      br = std::min(br, rows);
      bc = std::min(bc, cols);
      // Timing depends on how many rows and columns each block keeps, not on which: a random
      // pattern with the projection's counts is as good as the projection and much cheaper.
      auto m = bcr_matrix<S>::from_pattern(w, random_pattern(rows, cols, br, bc, side, gen));
      const auto [kernel, seconds] = fastest_kernel(m, x, y);
      if (seconds < best.seconds) best = {br, bc, kernel, seconds};
    }
    m_cache.emplace(k, best);
    return best;
  }

  /// The fastest kernel for an existing matrix at `batch` samples; also installs it in `m`.
  bcr_kernel_config tune_kernel(bcr_matrix<S>& m, index_t batch) {
    check(batch > 0, "frugal::sparse::bcr_autotuner::tune_kernel: batch ", batch, " must be positive");
    rng gen(m_options.seed);
    matrix<S> x(m.cols(), batch), y(m.rows(), batch);
    for (index_t i = 0; i < x.size(); ++i) x.data()[i] = static_cast<S>(gen.normal());
    const auto kernel = fastest_kernel(m, x, y).first;
    m.set_kernel(kernel);
    return kernel;
  }

  /// Number of cached decisions.
  [[nodiscard]] std::size_t cached() const noexcept { return m_cache.size(); }

  /// Writes the cache to `path` (atomically, checkpoint format).
  void save(const std::string& path) const {
    std::vector<std::int64_t> rows;
    std::vector<double> seconds;
    for (const auto& [k, t] : m_cache) {
      rows.insert(rows.end(), {std::get<0>(k), std::get<1>(k), std::get<2>(k), std::get<3>(k), t.block_rows,
                               t.block_cols, t.kernel.row_tile, t.kernel.vector_tile});
      seconds.push_back(t.seconds);
    }
    checkpoint_writer out;
    out.put<std::int64_t>("bcr_autotune/entries", rows);
    out.put<double>("bcr_autotune/seconds", seconds);
    out.write(path);
  }

  /// Adds the decisions stored in `path` to the cache (stored entries win).
  void load(const std::string& path) {
    const checkpoint_reader in(path);
    const auto rows = in.get<std::int64_t>("bcr_autotune/entries");
    const auto seconds = in.get<double>("bcr_autotune/seconds");
    if (rows.size() != 8 * seconds.size())
      throw format_error("frugal::sparse::bcr_autotuner::load: entry and timing records disagree", path, 0);
    for (std::size_t i = 0; i < seconds.size(); ++i) {
      const auto* r = &rows[8 * i];
      bcr_tuning t{r[4], r[5], {static_cast<int>(r[6]), static_cast<int>(r[7])}, seconds[i]};
      if (r[0] <= 0 || r[1] <= 0 || r[2] <= 0 || r[3] < 0 || r[3] >= 100 || t.block_rows <= 0 || t.block_cols <= 0 ||
          t.kernel.row_tile < 1 || t.kernel.row_tile > 8 ||
          (t.kernel.vector_tile != 1 && t.kernel.vector_tile != 2 && t.kernel.vector_tile != 4))
        throw format_error("frugal::sparse::bcr_autotuner::load: entry " + std::to_string(i) + " is invalid", path, 0);
      m_cache[key{r[0], r[1], r[2], r[3]}] = t;
    }
  }

 private:
  using key = std::tuple<index_t, index_t, index_t, index_t>;

  /// A pattern keeping round(keep · height) rows and round(keep · width) columns of every block
  /// (at least one of each), chosen at random.
  static bcr_pattern random_pattern(index_t rows, index_t cols, index_t br, index_t bc, double keep, rng& gen) {
    auto pick = [&](index_t first, index_t extent) {
      std::vector<index_t> all(static_cast<std::size_t>(extent));
      for (index_t i = 0; i < extent; ++i) all[static_cast<std::size_t>(i)] = first + i;
      const index_t k =
          std::clamp<index_t>(static_cast<index_t>(std::lround(keep * static_cast<double>(extent))), 1, extent);
      for (index_t i = 0; i < k; ++i)
        std::swap(all[static_cast<std::size_t>(i)],
                  all[static_cast<std::size_t>(
                      i + static_cast<index_t>(gen.uniform_int(static_cast<std::uint64_t>(extent - i))))]);
      all.resize(static_cast<std::size_t>(k));
      std::sort(all.begin(), all.end());
      return all;
    };
    bcr_pattern p = bcr_pattern::tiling(rows, cols, br, bc);
    for (auto& b : p.blocks) {
      b.kept_rows = pick(b.row0, b.rows);
      b.kept_cols = pick(b.col0, b.cols);
    }
    return p;
  }

  std::pair<bcr_kernel_config, double> fastest_kernel(bcr_matrix<S>& m, const matrix<S>& x, matrix<S>& y) const {
    const const_column_map<S> xm(x.data(), x.rows(), x.cols());
    column_map<S> ym(y.data(), y.rows(), y.cols());
    std::vector<bcr_kernel_config> candidates = m_options.kernels;
    if (x.cols() == 1) candidates.resize(1);  // matrix-vector products ignore the kernel choice
    bcr_kernel_config best_kernel = candidates.front();
    double best = std::numeric_limits<double>::infinity();
    for (const auto& kernel : candidates) {
      m.set_kernel(kernel);
      m.multiply(xm, ym, m_exec);  // warm-up
      std::vector<double> t;
      for (int r = 0; r < m_options.repetitions; ++r) {
        const auto start = std::chrono::steady_clock::now();
        m.multiply(xm, ym, m_exec);
        t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      }
      std::nth_element(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(t.size() / 2), t.end());
      if (t[t.size() / 2] < best) {
        best = t[t.size() / 2];
        best_kernel = kernel;
      }
    }
    m.set_kernel(best_kernel);
    return {best_kernel, best};
  }

  bcr_autotune_options m_options;
  Exec m_exec;
  std::map<key, bcr_tuning> m_cache;
};

}  // namespace frugal::sparse
