#pragma once
/// \file
/// A block-circulant matrix (CirCNN): p×q blocks of size k, each circulant and defined by one
/// length-k vector, multiplied through real FFTs of length k.

#include <Eigen/Core>
#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <complex>
#include <cstddef>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "../nn/tensor.hpp"
#include "detail/planar_complex.hpp"
#include "fft.hpp"

namespace frugal::sparse {

/// A rows × cols block-circulant matrix: the top-left rows × cols corner of a (p·k) × (q·k)
/// matrix of p × q circulant blocks, p = ⌈rows/k⌉, q = ⌈cols/k⌉. Block (i, j) is defined by one
/// vector v_ij of length k, W_blk(a, b) = v_ij[(a − b) mod k] (its first column; the convention
/// of `frugal::admm::block_circulant`). Edge blocks are cut off: the missing input entries act
/// as zeros and the missing output entries are dropped.
///
/// Products run in the frequency domain with unnormalised real DFTs of length k (F):
/// - y = W x:    Y_i = Σ_j V_ij ⊙ X_j,          y_i = F⁻¹(Y_i)
/// - dx = Wᵀ dy: DX_j = Σ_i conj(V_ij) ⊙ DY_i,  dx_j = F⁻¹(DX_j)
/// - dL/dv_ij = F⁻¹(Σ_samples DY_i ⊙ conj(X_j)) / k
/// where V_ij = F(v_ij)/k is precomputed (the "spectra"), so every input chunk is transformed
/// once, the products are multiply-accumulates of k/2+1 complex values per block, and each output
/// block is transformed back once per sample.
///
/// Complexity per sample: (p + q) real FFTs of length k, ≈ 4·p·q·k flops of complex MACs; dense
/// is 2·rows·cols ≈ 2·p·q·k². Storage: p·q·k defining values (dense: rows·cols), plus the
/// spectra cache of p·q·(k+2) values.
///
/// Parallelism: every product runs on the host execution space passed to it (the overloads without
/// one use frugal's default host space): transforms and spectral products over chunks of samples,
/// the vector gradient and the spectra over block rows, each chunk with FFT buffers of its own
/// (FFTW's plans are executed concurrently, never re-planned). Every output value is summed in
/// the same order for any thread count.
///
/// Thread safety: a matrix keeps FFT scratch buffers and lazily refreshed spectra in mutable
/// members, so one object must not be used from two host threads at once (even through const
/// member functions); distinct objects are independent.
/// \tparam S float or double
template <nn::Scalar S>
class block_circulant_matrix {
 public:
  using scalar_type = S;

  /// A zero matrix.
  /// \param rows, cols the shape, both positive
  /// \param block_size k, a power of two ≥ 2
  /// \param planning FFTW planning effort. `estimate` (default) plans instantly and
  ///        deterministically; `measure` times candidates (a cost paid the first time a shape is
  ///        planned in the process, and the plan, hence the rounding, may differ between runs)
  ///        and may find faster plans for large blocks (figures in docs/sparse.md).
  block_circulant_matrix(index_t rows, index_t cols, index_t block_size, fft_planning planning = fft_planning::estimate)
      : m_rows(rows),
        m_cols(cols),
        m_block_size(validated_block_size(block_size)),
        m_block_rows(checked_blocks(rows, "rows", block_size)),
        m_block_cols(checked_blocks(cols, "cols", block_size)),
        m_half(block_size / 2),
        m_vectors(nn::matrix<S>::Zero(m_block_rows * m_block_cols, block_size)),
        m_fft_cols(block_size, m_block_cols, planning),
        m_fft_rows(block_size, m_block_rows, planning) {
    m_spectra.resize(m_block_rows * m_block_cols, m_half, 1);
  }

  /// The Euclidean projection of a dense matrix onto block-circulant matrices of block size k:
  /// v_ij[d] is the mean of block (i, j)'s entries on circulant diagonal d among those inside
  /// the matrix (zero when no entry of that diagonal is inside), exactly
  /// `frugal::admm::block_circulant{k}.project(w)` on every entry. O(rows·cols).
  [[nodiscard]] static block_circulant_matrix from_dense(const nn::matrix<S>& w, index_t block_size,
                                                         fft_planning planning = fft_planning::estimate) {
    block_circulant_matrix m(w.rows(), w.cols(), block_size, planning);
    const index_t k = m.m_block_size;
    std::vector<double> sum(static_cast<std::size_t>(k));
    std::vector<index_t> count(static_cast<std::size_t>(k));
    for (index_t i = 0; i < m.m_block_rows; ++i)
      for (index_t j = 0; j < m.m_block_cols; ++j) {
        std::fill(sum.begin(), sum.end(), 0.0);
        std::fill(count.begin(), count.end(), 0);
        const index_t r0 = i * k, c0 = j * k;
        const index_t height = std::min(k, w.rows() - r0), width = std::min(k, w.cols() - c0);
        for (index_t a = 0; a < height; ++a)
          for (index_t b = 0; b < width; ++b) {
            const auto d = static_cast<std::size_t>((a - b + k) & (k - 1));
            sum[d] += static_cast<double>(w(r0 + a, c0 + b));
            ++count[d];
          }
        for (index_t d = 0; d < k; ++d) {
          const auto du = static_cast<std::size_t>(d);
          m.m_vectors(i * m.m_block_cols + j, d) =
              count[du] ? static_cast<S>(sum[du] / static_cast<double>(count[du])) : S(0);
        }
      }
    m.m_spectra_stale = true;
    return m;
  }

  /// Rows of the matrix (output features).
  [[nodiscard]] index_t rows() const noexcept { return m_rows; }
  /// Columns of the matrix (input features).
  [[nodiscard]] index_t cols() const noexcept { return m_cols; }
  /// Block size k.
  [[nodiscard]] index_t block_size() const noexcept { return m_block_size; }
  /// p = ⌈rows/k⌉.
  [[nodiscard]] index_t block_rows() const noexcept { return m_block_rows; }
  /// q = ⌈cols/k⌉.
  [[nodiscard]] index_t block_cols() const noexcept { return m_block_cols; }
  /// Trainable values: p·q·k.
  [[nodiscard]] index_t parameter_count() const noexcept { return m_block_rows * m_block_cols * m_block_size; }
  /// Bytes of the defining vectors, the matrix's model storage (the spectra cache and FFT
  /// scratch are derived and not counted).
  [[nodiscard]] std::size_t storage_bytes() const noexcept {
    return static_cast<std::size_t>(parameter_count()) * sizeof(S);
  }

  /// The defining vectors, (p·q) × k, row i·q + j = block (i, j).
  [[nodiscard]] const nn::matrix<S>& vectors() const noexcept { return m_vectors; }

  /// Mutable access to the defining vectors. Marks the spectra stale, so the next product
  /// recomputes them. Do not keep the reference across a product: write through a fresh call
  /// (or call `update_spectra()` after writing).
  [[nodiscard]] nn::matrix<S>& vectors() noexcept {
    m_spectra_stale = true;
    return m_vectors;
  }

  /// Replaces the defining vectors ((p·q) × k, else `shape_error`).
  void set_vectors(const nn::matrix<S>& v) {
    check_extent("frugal::sparse::block_circulant_matrix::set_vectors", "rows", v.rows(), m_vectors.rows());
    check_extent("frugal::sparse::block_circulant_matrix::set_vectors", "cols", v.cols(), m_vectors.cols());
    m_vectors = v;
    m_spectra_stale = true;
  }

  /// Recomputes the spectra V_ij = F(v_ij)/k from the vectors now. Products do this by themselves
  /// when the vectors were reached through the mutable accessor or `set_vectors`.
  /// O(p·q·k log k).
  void update_spectra() const { update_spectra(default_host_space{}); }
  /// `update_spectra()` on `exec`, block rows in parallel.
  template <HostExecutionSpace Exec>
  void update_spectra(const Exec& exec) const {
    const index_t k = m_block_size, q = m_block_cols, h = m_half;
    const S scale = S(1) / static_cast<S>(k);
    const chunking rows{m_block_rows, grain_for(q * k * 4)};
    scratch_buffer* scratch = scratch_for(rows.count());
    parallel_for("frugal::sparse::block_circulant_matrix::update_spectra", exec, rows.count(), [=, this](index_t c) {
      auto& buffer = scratch[c];
      for (index_t i = rows.begin(c); i < rows.end(c); ++i) {
        const S* v = m_vectors.data() + i * q * k;
        for (index_t t = 0; t < q * k; ++t) buffer.real[t] = v[t] * scale;
        m_fft_cols.forward(buffer.real.data(), buffer.complex.data());
        detail::to_planar(buffer.complex.data(), q, h, m_spectra.re.data() + i * q * h, m_spectra.im.data() + i * q * h,
                          m_spectra.dc.data() + i * q, m_spectra.nyquist.data() + i * q);
      }
    });
    m_spectra_stale = false;
  }

  /// The matrix as a dense rows × cols matrix. O(rows·cols).
  [[nodiscard]] nn::matrix<S> to_dense() const {
    const index_t k = m_block_size;
    nn::matrix<S> w(m_rows, m_cols);
    for (index_t r = 0; r < m_rows; ++r)
      for (index_t c = 0; c < m_cols; ++c)
        w(r, c) = m_vectors((r / k) * m_block_cols + c / k, ((r % k) - (c % k) + k) & (k - 1));
    return w;
  }

  /// y = W x for a batch of n columns.
  /// \param x cols × n, one sample per column
  /// \param y rows × n, overwritten (must not overlap x)
  void multiply(nn::const_column_map<S> x, nn::column_map<S> y) const { multiply(default_host_space{}, x, y); }
  /// `multiply(x, y)` on `exec`.
  template <HostExecutionSpace Exec>
  void multiply(const Exec& exec, nn::const_column_map<S> x, nn::column_map<S> y) const {
    constexpr const char* where = "frugal::sparse::block_circulant_matrix::multiply";
    check_extent(where, "input rows (matrix cols)", x.rows(), m_cols);
    check_extent(where, "output rows (matrix rows)", y.rows(), m_rows);
    check_extent(where, "batch size (input vs output columns)", x.cols(), y.cols());
    const index_t n = x.cols();
    if (n == 0) return;
    refresh(exec);
    transform(exec, x, m_block_cols, m_fft_cols, m_input_spectra);
    m_output_spectra.resize(m_block_rows, m_half, n);
    product(exec, m_input_spectra, m_output_spectra);
    inverse(exec, m_output_spectra, m_block_rows, m_fft_rows, y);
  }

  /// dx = Wᵀ dy for a batch of n columns.
  /// \param dy rows × n
  /// \param dx cols × n, overwritten (must not overlap dy)
  void multiply_transposed(nn::const_column_map<S> dy, nn::column_map<S> dx) const {
    multiply_transposed(default_host_space{}, dy, dx);
  }
  /// `multiply_transposed(dy, dx)` on `exec`.
  template <HostExecutionSpace Exec>
  void multiply_transposed(const Exec& exec, nn::const_column_map<S> dy, nn::column_map<S> dx) const {
    constexpr const char* where = "frugal::sparse::block_circulant_matrix::multiply_transposed";
    check_extent(where, "input rows (matrix rows)", dy.rows(), m_rows);
    check_extent(where, "output rows (matrix cols)", dx.rows(), m_cols);
    check_extent(where, "batch size (input vs output columns)", dy.cols(), dx.cols());
    if (dy.cols() == 0) return;
    refresh(exec);
    transform(exec, dy, m_block_rows, m_fft_rows, m_output_spectra);
    transposed_product(exec, m_output_spectra, m_input_spectra);
    inverse(exec, m_input_spectra, m_block_cols, m_fft_cols, dx);
  }

  /// dvectors += dL/dv for a loss L with dL/dy = dy at y = W x, summed over the batch:
  /// dv_ij = F⁻¹(Σ_samples DY_i ⊙ conj(X_j)) / k — each entry is the sum of dy·xᵀ over the
  /// entries of its circulant diagonal in block (i, j).
  /// \param x cols × n, \param dy rows × n, \param dvectors (p·q) × k, accumulated into
  void accumulate_gradient(nn::const_column_map<S> x, nn::const_column_map<S> dy, nn::matrix<S>& dvectors) const {
    backward(default_host_space{}, x, dy, dvectors, nullptr);
  }

  /// `accumulate_gradient(x, dy, dvectors)` and, when `dx` is non-null, `multiply_transposed(dy,
  /// *dx)`, sharing the transform of dy.
  void backward(nn::const_column_map<S> x, nn::const_column_map<S> dy, nn::matrix<S>& dvectors,
                nn::column_map<S>* dx) const {
    backward(default_host_space{}, x, dy, dvectors, dx);
  }
  /// `backward(x, dy, dvectors, dx)` on `exec`.
  template <HostExecutionSpace Exec>
  void backward(const Exec& exec, nn::const_column_map<S> x, nn::const_column_map<S> dy, nn::matrix<S>& dvectors,
                nn::column_map<S>* dx) const {
    constexpr const char* where = "frugal::sparse::block_circulant_matrix::backward";
    check_extent(where, "input rows (matrix cols)", x.rows(), m_cols);
    check_extent(where, "output gradient rows (matrix rows)", dy.rows(), m_rows);
    check_extent(where, "batch size (input vs output gradient columns)", x.cols(), dy.cols());
    check_extent(where, "gradient rows (p·q)", dvectors.rows(), m_vectors.rows());
    check_extent(where, "gradient cols (k)", dvectors.cols(), m_block_size);
    if (dx) {
      check_extent(where, "input gradient rows (matrix cols)", dx->rows(), m_cols);
      check_extent(where, "batch size (input gradient columns)", dx->cols(), x.cols());
    }
    if (x.cols() == 0) return;
    transform(exec, dy, m_block_rows, m_fft_rows, m_output_spectra);
    if (dx) {
      refresh(exec);
      transposed_product(exec, m_output_spectra, m_gradient_spectra);
      inverse(exec, m_gradient_spectra, m_block_cols, m_fft_cols, *dx);
    }
    transform(exec, x, m_block_cols, m_fft_cols, m_input_spectra);
    accumulate_vector_gradient(exec, m_input_spectra, m_output_spectra, dvectors);
  }

 private:
  static index_t validated_block_size(index_t k) {
    check(k >= 2 && (k & (k - 1)) == 0, "frugal::sparse::block_circulant_matrix: block_size = ", k,
          " must be a power of two >= 2");
    return k;
  }
  static index_t checked_blocks(index_t extent, const char* name, index_t k) {
    check(extent > 0, "frugal::sparse::block_circulant_matrix: ", name, " = ", extent, " must be positive");
    return (extent + k - 1) / k;
  }

  template <HostExecutionSpace Exec>
  void refresh(const Exec& exec) const {
    if (m_spectra_stale) update_spectra(exec);
  }

  /// FFT buffers of one chunk of work: room for the widest transform batch.
  struct scratch_buffer {
    fft_buffer<S> real;
    fft_buffer<std::complex<S>> complex;
  };

  /// At least `count` chunk buffers (grown, never shrunk); returns the first.
  scratch_buffer* scratch_for(index_t count) const {
    const index_t widest = std::max(m_block_rows, m_block_cols);
    while (static_cast<index_t>(m_scratch.size()) < count) {
      scratch_buffer b;
      b.real.resize(widest * m_block_size);
      b.complex.resize(widest * (m_half + 1));
      m_scratch.push_back(std::move(b));
    }
    return m_scratch.data();
  }

  /// Samples per chunk of the per-sample loops: a chunk's transforms cost about blocks·k·log k.
  [[nodiscard]] index_t sample_grain(index_t blocks) const noexcept { return grain_for(blocks * m_block_size * 4); }

  /// Spectra of every length-k chunk of every column of `x` (zero-padded to blocks·k), chunks of
  /// samples in parallel.
  template <HostExecutionSpace Exec>
  void transform(const Exec& exec, nn::const_column_map<S> x, index_t blocks, const real_fft<S>& fft,
                 detail::planar_spectra<S>& out) const {
    const index_t n = x.cols(), length = x.rows(), k = m_block_size, h = m_half;
    out.resize(blocks, h, n);
    const chunking samples{n, sample_grain(blocks)};
    scratch_buffer* scratch = scratch_for(samples.count());
    const S* in = x.data();
    S *re = out.re.data(), *im = out.im.data(), *dc = out.dc.data(), *nyquist = out.nyquist.data();
    parallel_for("frugal::sparse::block_circulant_matrix::transform", exec, samples.count(), [=](index_t c) {
      auto& buffer = scratch[c];
      std::fill(buffer.real.data() + length, buffer.real.data() + blocks * k, S(0));
      for (index_t s = samples.begin(c); s < samples.end(c); ++s) {
        std::copy_n(in + s * length, length, buffer.real.data());
        fft.forward(buffer.real.data(), buffer.complex.data());
        detail::to_planar(buffer.complex.data(), blocks, h, re + s * blocks * h, im + s * blocks * h, dc + s * blocks,
                          nyquist + s * blocks);
      }
    });
  }

  /// Columns of `y` from the spectra of their chunks (the first y.rows() values of each), chunks
  /// of samples in parallel.
  template <HostExecutionSpace Exec>
  void inverse(const Exec& exec, const detail::planar_spectra<S>& in, index_t blocks, const real_fft<S>& fft,
               nn::column_map<S> y) const {
    const index_t n = y.cols(), length = y.rows(), h = m_half;
    const chunking samples{n, sample_grain(blocks)};
    scratch_buffer* scratch = scratch_for(samples.count());
    const S *re = in.re.data(), *im = in.im.data(), *dc = in.dc.data(), *nyquist = in.nyquist.data();
    S* out = y.data();
    parallel_for("frugal::sparse::block_circulant_matrix::inverse", exec, samples.count(), [=](index_t c) {
      auto& buffer = scratch[c];
      for (index_t s = samples.begin(c); s < samples.end(c); ++s) {
        detail::from_planar(re + s * blocks * h, im + s * blocks * h, dc + s * blocks, nyquist + s * blocks, blocks, h,
                            buffer.complex.data());
        fft.inverse(buffer.complex.data(), buffer.real.data());
        std::copy_n(buffer.real.data(), length, out + s * length);
      }
    });
  }

  using row_major_map = Eigen::Map<const nn::matrix<S>>;

  /// Y_i = Σ_j V_ij ⊙ X_j for every sample; chunks of samples in parallel.
  template <HostExecutionSpace Exec>
  void product(const Exec& exec, const detail::planar_spectra<S>& x, detail::planar_spectra<S>& y) const {
    const index_t p = m_block_rows, q = m_block_cols, h = m_half, n = x.dc.cols();
    const row_major_map v_dc(m_spectra.dc.data(), p, q), v_nyquist(m_spectra.nyquist.data(), p, q);
    y.dc.noalias() = v_dc * x.dc;
    y.nyquist.noalias() = v_nyquist * x.nyquist;
    if (h == 1) return;
    const S *vr = m_spectra.re.data(), *vi = m_spectra.im.data(), *xr = x.re.data(), *xi = x.im.data();
    S *yr = y.re.data(), *yi = y.im.data();
    // Block row i of the spectra (q·k values) stays in L1 while a chunk's samples use it.
    parallel_for_chunks("frugal::sparse::block_circulant_matrix::product", exec, n, grain_for(p * q * h * 4),
                        [=](index_t s0, index_t s1) {
                          for (index_t i = 0; i < p; ++i)
                            for (index_t s = s0; s < s1; ++s)
                              detail::planar_dot(vr + i * q * h, vi + i * q * h, xr + s * q * h, xi + s * q * h, q, h,
                                                 yr + (s * p + i) * h, yi + (s * p + i) * h);
                        });
  }

  /// DX_j = Σ_i conj(V_ij) ⊙ DY_i for every sample; chunks of samples in parallel.
  template <HostExecutionSpace Exec>
  void transposed_product(const Exec& exec, const detail::planar_spectra<S>& dy, detail::planar_spectra<S>& dx) const {
    const index_t p = m_block_rows, q = m_block_cols, h = m_half, n = dy.dc.cols();
    const row_major_map v_dc(m_spectra.dc.data(), p, q), v_nyquist(m_spectra.nyquist.data(), p, q);
    dx.resize(q, h, n);
    dx.dc.noalias() = v_dc.transpose() * dy.dc;
    dx.nyquist.noalias() = v_nyquist.transpose() * dy.nyquist;
    if (h == 1) return;
    const S *vr = m_spectra.re.data(), *vi = m_spectra.im.data(), *gr = dy.re.data(), *gi = dy.im.data();
    S *xr = dx.re.data(), *xi = dx.im.data();
    parallel_for_chunks("frugal::sparse::block_circulant_matrix::transposed_product", exec, n, grain_for(p * q * h * 4),
                        [=](index_t s0, index_t s1) {
                          std::fill(xr + s0 * q * h, xr + s1 * q * h, S(0));
                          std::fill(xi + s0 * q * h, xi + s1 * q * h, S(0));
                          for (index_t i = 0; i < p; ++i)
                            for (index_t s = s0; s < s1; ++s)
                              detail::planar_accumulate_conj(vr + i * q * h, vi + i * q * h, gr + (s * p + i) * h,
                                                             gi + (s * p + i) * h, q * h, h, xr + s * q * h,
                                                             xi + s * q * h);
                        });
  }

  /// dvectors += F⁻¹(Σ_samples DY_i ⊙ conj(X_j)) / k; block rows in parallel, each summing its
  /// samples in order.
  template <HostExecutionSpace Exec>
  void accumulate_vector_gradient(const Exec& exec, const detail::planar_spectra<S>& x,
                                  const detail::planar_spectra<S>& dy, nn::matrix<S>& dvectors) const {
    const index_t p = m_block_rows, q = m_block_cols, h = m_half, k = m_block_size, n = x.dc.cols();
    detail::planar_spectra<S>& g = m_gradient_spectra;
    g.resize(p * q, h, 1);
    Eigen::Map<nn::matrix<S>> g_dc(g.dc.data(), p, q), g_nyquist(g.nyquist.data(), p, q);
    g_dc.noalias() = dy.dc * x.dc.transpose();
    g_nyquist.noalias() = dy.nyquist * x.nyquist.transpose();
    const S scale = S(1) / static_cast<S>(k);
    const chunking rows{p, grain_for(n * q * h * 4)};
    scratch_buffer* scratch = scratch_for(rows.count());
    const S *xr = x.re.data(), *xi = x.im.data(), *dr = dy.re.data(), *di = dy.im.data();
    S *gr = g.re.data(), *gi = g.im.data(), *gdc = g.dc.data(), *gny = g.nyquist.data(), *dv = dvectors.data();
    const real_fft<S>& fft = m_fft_cols;
    parallel_for("frugal::sparse::block_circulant_matrix::vector_gradient", exec, rows.count(), [=](index_t c) {
      auto& buffer = scratch[c];
      for (index_t i = rows.begin(c); i < rows.end(c); ++i) {
        if (h > 1) {
          std::fill(gr + i * q * h, gr + (i + 1) * q * h, S(0));
          std::fill(gi + i * q * h, gi + (i + 1) * q * h, S(0));
          for (index_t s = 0; s < n; ++s)
            detail::planar_accumulate_conj(xr + s * q * h, xi + s * q * h, dr + (s * p + i) * h, di + (s * p + i) * h,
                                           q * h, h, gr + i * q * h, gi + i * q * h);
        }
        detail::from_planar(gr + i * q * h, gi + i * q * h, gdc + i * q, gny + i * q, q, h, buffer.complex.data());
        fft.inverse(buffer.complex.data(), buffer.real.data());
        S* d = dv + i * q * k;
        for (index_t t = 0; t < q * k; ++t) d[t] += scale * buffer.real[t];
      }
    });
  }

  index_t m_rows, m_cols, m_block_size, m_block_rows, m_block_cols, m_half;
  nn::matrix<S> m_vectors;
  real_fft<S> m_fft_cols;  // q transforms: input chunks, block rows of vectors and gradients
  real_fft<S> m_fft_rows;  // p transforms: output chunks
  mutable bool m_spectra_stale = true;
  mutable detail::planar_spectra<S> m_spectra;  // V = F(v)/k, p·q blocks
  // Scratch, reused between calls.
  mutable std::vector<scratch_buffer> m_scratch;         // FFT buffers, one per chunk of work
  mutable detail::planar_spectra<S> m_input_spectra;     // q blocks per sample
  mutable detail::planar_spectra<S> m_output_spectra;    // p blocks per sample
  mutable detail::planar_spectra<S> m_gradient_spectra;  // dx (q per sample) or dv (p·q)
};

}  // namespace frugal::sparse
