#pragma once
/// \file
/// Batches of multi-hot bags in the offsets + indices convention of PyTorch's `EmbeddingBag` and
/// FBGEMM, pooling modes, the fused sparse optimizers every table applies in `backward`, and the
/// shared helpers (gradient aggregation per distinct row, deterministic initial values).

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <xsimd/xsimd.hpp>

#include "../core/config.hpp"
#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../nn/optimizer.hpp"

namespace frugal::embedding {

/// How the rows of one bag are combined.
enum class pooling : std::uint8_t {
  sum,  ///< Σ w_i · row(id_i) (w_i = 1 without per-sample weights)
  mean  ///< (1/|bag|) Σ row(id_i); an empty bag gives zeros
};

/// A batch of bags, viewed (not owned). Bag b holds `indices[offsets[b] .. offsets[b+1])`;
/// `offsets` has batch + 1 entries (PyTorch's `include_last_offset=True`), starts at 0, never
/// decreases and ends at `indices.size()`. Empty bags are allowed. `weights` is empty or one
/// weight per index (sum pooling only, as in PyTorch).
struct bag_batch {
  std::span<const index_t> offsets;
  std::span<const std::uint32_t> indices;
  std::span<const float> weights = {};

  [[nodiscard]] index_t size() const noexcept { return offsets.empty() ? 0 : static_cast<index_t>(offsets.size()) - 1; }
};

/// Throws `invalid_argument` (naming `where`) unless `bags` is well formed for a table of `rows`
/// rows under `mode`.
inline void validate(std::string_view where, const bag_batch& bags, index_t rows, pooling mode) {
  check(!bags.offsets.empty(), where, ": offsets is empty; a batch of B bags has B + 1 offsets");
  check(bags.offsets.front() == 0, where, ": offsets[0] = ", bags.offsets.front(), ", must be 0");
  check(bags.offsets.back() == static_cast<index_t>(bags.indices.size()), where, ": last offset ", bags.offsets.back(),
        " != number of indices ", bags.indices.size());
  // Fast scans first; the messages are built only when something is wrong.
  bool monotone = true;
  for (std::size_t b = 1; b < bags.offsets.size(); ++b) monotone &= bags.offsets[b] >= bags.offsets[b - 1];
  if (!monotone)
    for (std::size_t b = 1; b < bags.offsets.size(); ++b)
      check(bags.offsets[b] >= bags.offsets[b - 1], where, ": offsets decrease at bag ", b - 1, " (",
            bags.offsets[b - 1], " > ", bags.offsets[b], ")");
  check(bags.weights.empty() || bags.weights.size() == bags.indices.size(), where, ": ", bags.weights.size(),
        " per-sample weights for ", bags.indices.size(), " indices");
  check(bags.weights.empty() || mode == pooling::sum, where,
        ": per-sample weights need sum pooling (as in PyTorch's EmbeddingBag)");
  check(bags.indices.size() < (std::size_t{1} << 32), where, ": more than 2^32 indices in one batch");
  std::uint32_t largest = 0;
  for (const std::uint32_t id : bags.indices) largest = id > largest ? id : largest;
  if (!bags.indices.empty() && static_cast<index_t>(largest) >= rows)
    for (std::size_t i = 0; i < bags.indices.size(); ++i)
      check(static_cast<index_t>(bags.indices[i]) < rows, where, ": index ", i, " is ", bags.indices[i], ", table has ",
            rows, " rows");
}

/// Which rule `backward` applies to each touched row.
enum class optimizer_kind : std::uint8_t {
  sgd,             ///< w ← w − η g
  rowwise_adagrad  ///< G ← G + mean_j g_j²; w ← w − η g / (√G + ε): one accumulator per row (FBGEMM, DLRM)
};

/// The fused optimizer of a table. Row-wise Adagrad keeps one float per (live) row; SGD none.
struct sparse_optimizer {
  optimizer_kind kind = optimizer_kind::rowwise_adagrad;
  float learning_rate = 0.05f;
  float epsilon = 1e-8f;

  void validate(std::string_view where) const {
    check(learning_rate >= 0 && std::isfinite(learning_rate), where, ": learning_rate = ", learning_rate,
          " must be finite and >= 0");
    check(epsilon > 0, where, ": epsilon = ", epsilon, " must be > 0");
  }
};

namespace detail {

/// Throws `format_error` about `file`, built from `parts`, unless `condition` holds.
template <class... Parts>
inline void check_format(const std::string& file, bool condition, const Parts&... parts) {
  if (!condition) throw format_error(frugal::detail::concat(parts...), file, 0);
}

/// Items ahead at which the kernels prefetch scattered lines of their own (hash slots, blocks,
/// scores).
inline constexpr index_t prefetch_distance = 16;

/// Lookups ahead at which the kernels prefetch a row of `d` floats (rows are scattered in
/// memory): about 64 cache lines in flight, between 16 and 32 rows. With L2 prefetches, a fixed
/// 16 rows ahead leaves short rows starved when they come from memory (too few lines in flight),
/// and going further (128 lines, up to 64 rows) evicts rows of batches that sit in the L3 cache
/// before they are read. A lookup that reads a block before its row needs about twice the
/// distance (see `adaptive_table::forward`).
[[nodiscard]] constexpr index_t row_prefetch_distance(std::size_t d) noexcept {
  const std::size_t lines = d == 0 ? 1 : (d + 15) / 16;
  return static_cast<index_t>(std::clamp<std::size_t>(64 / lines, 16, 32));
}

/// Prefetches every cache line of `n` floats at `p`.
inline void prefetch_floats(const float* p, std::size_t n) noexcept {
  for (std::size_t off = 0; off < n; off += 16) FRUGAL_PREFETCH(p + off);
}

/// Lane by lane, Σ x[t]² over the whole SIMD batches of `n` ≥ `batch::size` floats (a tail
/// shorter than a batch is left out).
[[nodiscard]] inline xsimd::batch<float> squares_by_lane(const float* x, std::size_t n) noexcept {
  using batch = xsimd::batch<float>;
  constexpr std::size_t lanes = batch::size;
  batch acc = batch::load_unaligned(x) * batch::load_unaligned(x);
  for (std::size_t t = lanes; t + lanes <= n; t += lanes)
    acc = xsimd::fma(batch::load_unaligned(x + t), batch::load_unaligned(x + t), acc);
  return acc;
}

/// Σ x[t]² over `n` floats, in SIMD batches (then one at a time for a tail shorter than a batch).
/// The chunk norms of `adaptive_table::backward` use it: as a scalar loop (one dependent add per
/// float) they were a measurable share of the update.
[[nodiscard]] inline float sum_of_squares(const float* x, std::size_t n) noexcept {
  constexpr std::size_t lanes = xsimd::batch<float>::size;
  const std::size_t whole = n >= lanes ? n - n % lanes : 0;
  float sum = whole > 0 ? xsimd::hadd(squares_by_lane(x, whole)) : 0.0f;
  for (std::size_t t = whole; t < n; ++t) sum += x[t] * x[t];
  return sum;
}

/// Lane c of the result = the sum of the lanes of v[c], for `batch::size` batches at once: a
/// transposing tree of shuffles and adds (about 3 instructions per batch, where a horizontal sum
/// of each takes 8 or more). Written with the x86 intrinsics, since xsimd 8.1 has no portable
/// cross-lane shuffle with the same meaning on every architecture (its AVX-512 `zip_lo` and
/// `haddp` work within 128-bit lanes). Other architectures, and batch widths not listed, sum
/// each batch horizontally.
template <class Batch>
[[nodiscard]] Batch lane_sums(const Batch* v) noexcept {
  static_assert(std::is_same_v<typename Batch::value_type, float>, "lane_sums: float batches only");
#if XSIMD_WITH_AVX512F
  if constexpr (Batch::size == 16) {
    // (GCC 12's unmasked unpack and 128-bit-block shuffles start from an undefined register and
    // warn under -Wall; the 32-bit shuffle, and the block shuffle masked over a defined one, do not.)
    // blocks(a, b, false): a's 128-bit blocks 0 and 2, then b's; blocks(a, b, true): blocks 1 and 3.
    const auto blocks = [](__m512 a, __m512 b, bool odd) {
      return odd ? _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, b, _MM_SHUFFLE(3, 1, 3, 1))
                 : _mm512_mask_shuffle_f32x4(a, 0xFFFF, a, b, _MM_SHUFFLE(2, 0, 2, 0));
    };
    // Pairs: each 128-bit block of t[i] holds partial sums of v[2i], v[2i], v[2i+1], v[2i+1].
    __m512 t[8];
    for (int i = 0; i < 8; ++i) {
      const __m512 a = v[2 * i], b = v[2 * i + 1];
      t[i] = _mm512_add_ps(_mm512_shuffle_ps(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                           _mm512_shuffle_ps(a, b, _MM_SHUFFLE(3, 2, 3, 2)));
    }
    // Quads: block k of u[i] holds block k's sums of v[4i], …, v[4i + 3].
    __m512 u[4];
    for (int i = 0; i < 4; ++i)
      u[i] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * i], t[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                           _mm512_shuffle_ps(t[2 * i], t[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    // Across blocks: x's blocks are u[0]'s and u[1]'s halves summed, then the totals.
    const __m512 x = _mm512_add_ps(blocks(u[0], u[1], false), blocks(u[0], u[1], true));
    const __m512 y = _mm512_add_ps(blocks(u[2], u[3], false), blocks(u[2], u[3], true));
    return Batch(_mm512_add_ps(blocks(x, y, false), blocks(x, y, true)));
  }
#endif
#if XSIMD_WITH_AVX
  if constexpr (Batch::size == 8) {
    __m256 t[4];
    for (int i = 0; i < 4; ++i) {
      const __m256 a = v[2 * i], b = v[2 * i + 1];
      t[i] = _mm256_add_ps(_mm256_unpacklo_ps(a, b), _mm256_unpackhi_ps(a, b));
    }
    const __m256 u0 = _mm256_add_ps(_mm256_shuffle_ps(t[0], t[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                    _mm256_shuffle_ps(t[0], t[1], _MM_SHUFFLE(3, 2, 3, 2)));
    const __m256 u1 = _mm256_add_ps(_mm256_shuffle_ps(t[2], t[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                    _mm256_shuffle_ps(t[2], t[3], _MM_SHUFFLE(3, 2, 3, 2)));
    return Batch(_mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31)));
  }
#endif
#if XSIMD_WITH_SSE2
  if constexpr (Batch::size == 4) {
    const __m128 a = v[0], b = v[1], c = v[2], d = v[3];
    const __m128 ab = _mm_add_ps(_mm_unpacklo_ps(a, b), _mm_unpackhi_ps(a, b));  // a b a b
    const __m128 cd = _mm_add_ps(_mm_unpacklo_ps(c, d), _mm_unpackhi_ps(c, d));  // c d c d
    return Batch(_mm_add_ps(_mm_movelh_ps(ab, cd), _mm_movehl_ps(cd, ab)));
  }
#endif
  alignas(64) float sums[Batch::size];
  for (std::size_t c = 0; c < Batch::size; ++c) sums[c] = xsimd::hadd(v[c]);
  return Batch::load_aligned(sums);
}

/// out[c] = ‖x[c·w .. c·w + w)‖₂ for `chunks` consecutive chunks of `w` floats. When w is a
/// multiple of the SIMD width, `batch::size` chunks at a time: their squares summed down to one
/// batch each, the batches' lanes summed by `lane_sums`, the square roots taken in one batch.
/// Otherwise chunk by chunk.
inline void chunk_norms(const float* x, std::size_t chunks, std::size_t w, float* out) noexcept {
  using batch = xsimd::batch<float>;
  constexpr std::size_t lanes = batch::size;
  std::size_t c = 0;
  if (w % lanes == 0) {
    batch v[lanes];
    while (c < chunks) {
      const std::size_t n = std::min(lanes, chunks - c);
      for (std::size_t k = 0; k < n; ++k) v[k] = squares_by_lane(x + (c + k) * w, w);
      for (std::size_t k = n; k < lanes; ++k) v[k] = batch(0.0f);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
      // (GCC 12's AVX-512 square root starts from an undefined register: a false warning.)
      const batch norms = xsimd::sqrt(lane_sums(v));
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
      if (n == lanes) {
        norms.store_unaligned(out + c);
      } else {
        alignas(64) float tail[lanes];
        norms.store_aligned(tail);
        std::copy_n(tail, n, out + c);
      }
      c += n;
    }
    return;
  }
  for (; c < chunks; ++c) out[c] = std::sqrt(sum_of_squares(x + c * w, w));
}

/// The default `ahead` hook of `pool_bag`: nothing further to prefetch.
struct no_ahead {
  void operator()(index_t) const noexcept {}
};

/// Sums the rows of one bag into `y` (`d` floats, all written): `row(i)` gives the data of
/// lookup i, `len(i)` how many of its leading floats are stored (the rest read as zero; always `d`
/// unless `Variable`). `D` > 0 is a compile-time width (= d), so the accumulator lives in
/// registers (SIMD batches when `D` is a multiple of the batch width); `D` = 0 means the width `d`
/// is known at run time only. With `mean`, the sum of a non-empty bag is divided by its size.
/// Lookup i + `distance` has its row prefetched while lookup i is summed; `ahead(j)` is called
/// just before the prefetch of lookup j's row (a hook for data further ahead still).
template <int D, bool Variable, class Row, class Len, class Ahead = no_ahead>
inline void pool_bag(float* __restrict y, std::size_t d, index_t begin, index_t end, index_t total,
                     const float* weights, bool mean, index_t distance, Row row, Len len, Ahead ahead = {}) noexcept {
  using batch = xsimd::batch<float>;
  constexpr std::size_t lanes = batch::size;
  constexpr auto fixed = static_cast<std::size_t>(D > 0 ? D : 0);
  if constexpr (D > 0 && fixed % lanes == 0) {
    constexpr std::size_t nb = fixed / lanes;
    alignas(64) static constexpr float zeros[lanes] = {};
    alignas(64) float padded[Variable ? fixed : 1];
    batch acc[nb];
    for (std::size_t v = 0; v < nb; ++v) acc[v] = batch(0.0f);
    for (index_t i = begin; i < end; ++i) {
      if (i + distance < total) {
        ahead(i + distance);
        const float* next = row(i + distance);
        for (std::size_t off = 0; off < fixed; off += 16) FRUGAL_PREFETCH(next + off);
      }
      const float* r = row(i);
      const batch w(weights ? weights[i] : 1.0f);
      const std::size_t n = Variable ? len(i) : fixed;
      if (n == fixed) {
        for (std::size_t v = 0; v < nb; ++v) acc[v] = xsimd::fma(w, batch::load_unaligned(r + v * lanes), acc[v]);
      } else if (n % lanes == 0) {
        // A shorter row of whole batches: batches past its end read a row of zeros (a select, not
        // a branch), so every accumulator is named at a fixed index and stays in a register.
        for (std::size_t v = 0; v < nb; ++v) {
          const float* src = v * lanes < n ? r + v * lanes : zeros;
          acc[v] = xsimd::fma(w, batch::load_unaligned(src), acc[v]);
        }
      } else {
        // A row ending inside a batch (chunks narrower than a batch): copied zero-padded first.
        for (std::size_t j = 0; j < fixed; ++j) padded[j] = j < n ? r[j] : 0.0f;
        for (std::size_t v = 0; v < nb; ++v) acc[v] = xsimd::fma(w, batch::load_aligned(padded + v * lanes), acc[v]);
      }
    }
    for (std::size_t v = 0; v < nb; ++v) acc[v].store_unaligned(y + v * lanes);
  } else if constexpr (D > 0) {
    alignas(64) float acc[fixed] = {};
    for (index_t i = begin; i < end; ++i) {
      if (i + distance < total) {
        ahead(i + distance);
        const float* next = row(i + distance);
        for (std::size_t off = 0; off < fixed; off += 16) FRUGAL_PREFETCH(next + off);
      }
      const float* __restrict r = row(i);
      const float w = weights ? weights[i] : 1.0f;
      const std::size_t n = Variable ? len(i) : fixed;
      if (n == fixed) {
        for (std::size_t j = 0; j < fixed; ++j) acc[j] += w * r[j];
      } else {
        for (std::size_t j = 0; j < fixed; ++j) acc[j] += j < n ? w * r[j] : 0.0f;
      }
    }
    for (std::size_t j = 0; j < fixed; ++j) y[j] = acc[j];
  } else {
    for (std::size_t j = 0; j < d; ++j) y[j] = 0.0f;
    for (index_t i = begin; i < end; ++i) {
      if (i + distance < total) {
        ahead(i + distance);
        prefetch_floats(row(i + distance), len(i + distance));
      }
      const float* __restrict r = row(i);
      const std::size_t n = len(i);
      const float w = weights ? weights[i] : 1.0f;
      for (std::size_t j = 0; j < n; ++j) y[j] += w * r[j];
    }
  }
  if (mean && end > begin) {
    const float inv = 1.0f / static_cast<float>(end - begin);
    for (std::size_t j = 0; j < d; ++j) y[j] *= inv;
  }
}

/// Calls `f(std::integral_constant<int, D>)` with D = `d` for the common widths 8, 16, 32, 64 and
/// 128, else D = 0 (run-time width).
template <class F>
inline void dispatch_width(std::size_t d, F&& f) {
  switch (d) {
    case 8:
      return f(std::integral_constant<int, 8>{});
    case 16:
      return f(std::integral_constant<int, 16>{});
    case 32:
      return f(std::integral_constant<int, 32>{});
    case 64:
      return f(std::integral_constant<int, 64>{});
    case 128:
      return f(std::integral_constant<int, 128>{});
    default:
      return f(std::integral_constant<int, 0>{});
  }
}

/// splitmix64's finaliser: a strong 64-bit mixer.
[[nodiscard]] constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

/// The initial value of element `j` of row `row`: uniform in [−scale, scale), a pure function of
/// (seed, row, j), so every storage policy starts from the same numbers and a row materialised
/// late equals the row a full table would have held.
[[nodiscard]] inline float initial_value(std::uint64_t seed, std::uint64_t row, std::uint64_t j, float scale) noexcept {
  const std::uint64_t h = mix64(seed ^ mix64(row * 0x9E3779B97F4A7C15ULL + j + 1));
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;
  return static_cast<float>((2.0 * u - 1.0) * scale);
}

/// The fused update of one row of `d` values (`acc` is the row's Adagrad accumulator, unused by
/// SGD).
inline void apply_update(const sparse_optimizer& opt, float* row, const float* grad, std::size_t d,
                         float& acc) noexcept {
  if (d == 0) return;
  if (opt.kind == optimizer_kind::sgd) {
    for (std::size_t j = 0; j < d; ++j) row[j] -= opt.learning_rate * grad[j];
    return;
  }
  // The same rule as the dense optimizer's, which owns it.
  nn::rowwise_adagrad<float>::update_row(std::span<float>(row, d), std::span<const float>(grad, d), acc,
                                         {.learning_rate = opt.learning_rate, .epsilon = opt.epsilon});
}

}  // namespace detail
}  // namespace frugal::embedding
