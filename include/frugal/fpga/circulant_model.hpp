#pragma once
/// \file
/// The fixed-point model of frugal's block-circulant hardware layer: exactly the integer
/// arithmetic the generated Verilog performs (`circulant_verilog`), so the two agree bit for bit.
///
/// For y = W x with W of p × q circulant blocks of size k (`sparse::block_circulant_matrix`):
/// 1. each input block x_j (k samples, zeros past `cols`) goes through a radix-2
///    decimation-in-time FFT whose every butterfly halves its outputs, giving X_j = F(x_j)/k in the
///    data format; bins 0 … k/2 are kept (x is real);
/// 2. for each output block i and bin f, the complex products V_ij[f]·X_j[f] are summed over j
///    exactly (wide accumulator; V_ij = F(v_ij), the block's unnormalised spectrum, in the spectra
///    format), and the sum is rounded back to the data format: Y_i[f] = F(y_i)[f]/k;
/// 3. bins k/2+1 … k−1 are the conjugates of bins k/2−1 … 1 (y is real), and an unscaled inverse
///    FFT returns y_i; bias is added and ReLU applied when enabled, both saturating.
/// Butterfly: t = w·b (exact product, `shift_round` by the twiddle's fraction bits, saturated),
/// then a ± t (forward: `shift_round` by 1, which never overflows; inverse: saturated).
/// Twiddles w_n = e^(−2πi·n/k) (conjugated for the inverse) have fraction bits `twiddle_bits` − 2.

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../nn/tensor.hpp"
#include "../sparse/block_circulant_matrix.hpp"
#include "fixed_point.hpp"

namespace frugal::fpga {

/// Number formats and parallelism of a hardware block-circulant layer.
struct circulant_options {
  fixed_format data{16, 10};     ///< inputs, FFT values, outputs and bias
  fixed_format spectra{16, 12};  ///< the weight spectra V_ij[f] (real and imaginary parts)
  int twiddle_bits = 16;         ///< twiddle width; fraction bits = twiddle_bits − 2, in [4, 24]
  int parallelism = 1;           ///< butterflies and complex MACs per cycle: a power of two ≤ k/2
  bool relu = false;             ///< apply max(0, ·) after the bias
};

/// Bit reversal of the low `bits` bits of v.
[[nodiscard]] constexpr index_t bit_reverse(index_t v, int bits) noexcept {
  index_t r = 0;
  for (int b = 0; b < bits; ++b) r |= ((v >> b) & 1) << (bits - 1 - b);
  return r;
}

/// One word the host writes through the hardware's load port before streaming inputs:
/// `bias` selects the bias memory, `address` the word, `data` its bits ({imaginary, real} codes
/// of `spectra.total_bits` each for spectra; the code of one bias for bias).
struct load_word {
  bool bias = false;
  std::uint32_t address = 0;
  std::uint64_t data = 0;
};

/// A block-circulant layer in fixed point: integer spectra and bias codes, and the bit-exact
/// model of the generated hardware (`forward`) with its cycle count (`cycles_per_product`).
class fixed_circulant_layer {
 public:
  /// A layer with zero spectra and bias.
  /// \param rows, cols the matrix shape (positive)
  /// \param block_size k: a power of two in [4, 64]
  fixed_circulant_layer(index_t rows, index_t cols, index_t block_size, const circulant_options& options = {})
      : m_rows(rows), m_cols(cols), m_k(block_size), m_options(options) {
    constexpr const char* who = "frugal::fpga::fixed_circulant_layer";
    check(rows > 0 && cols > 0, who, ": shape ", rows, " x ", cols, " must be positive");
    check(block_size >= 4 && block_size <= 64 && (block_size & (block_size - 1)) == 0, who,
          ": block_size = ", block_size, " must be a power of two in [4, 64]");
    options.data.validate(who);
    options.spectra.validate(who);
    check(options.spectra.fraction_bits <= options.spectra.total_bits + 2, who,
          ": spectra.fraction_bits = ", options.spectra.fraction_bits, " must be at most spectra.total_bits + 2");
    check(options.twiddle_bits >= 4 && options.twiddle_bits <= 24, who, ": twiddle_bits = ", options.twiddle_bits,
          " must be in [4, 24]");
    const int p = options.parallelism;
    check(p >= 1 && p <= block_size / 2 && (p & (p - 1)) == 0, who, ": parallelism = ", p,
          " must be a power of two in [1, block_size / 2 = ", block_size / 2, "]");
    m_log_k = 0;
    while ((index_t{1} << m_log_k) < m_k) ++m_log_k;
    m_p = (rows + m_k - 1) / m_k;
    m_q = (cols + m_k - 1) / m_k;
    check(m_q <= 1024 && m_p <= 1024, who, ": at most 1024 block rows and columns (got ", m_p, " x ", m_q, ")");
    m_re.assign(static_cast<std::size_t>(m_p * m_q * bins()), 0);
    m_im = m_re;
    m_bias.assign(static_cast<std::size_t>(rows), 0);
    const int tf = options.twiddle_bits - 2;
    for (index_t n = 0; n < m_k / 2; ++n) {
      const double angle = 2.0 * std::numbers::pi * static_cast<double>(n) / static_cast<double>(m_k);
      m_tw_re.push_back(static_cast<std::int64_t>(std::round(std::ldexp(std::cos(angle), tf))));
      m_tw_im.push_back(static_cast<std::int64_t>(std::round(std::ldexp(-std::sin(angle), tf))));
    }
  }

  /// The fixed-point image of a trained block-circulant matrix and its bias (empty: zero): the
  /// spectra F(v_ij) computed in double and rounded to `options.spectra`, the bias to
  /// `options.data`. Values outside a format saturate; `saturated_codes()` counts them.
  template <nn::Scalar S>
  [[nodiscard]] static fixed_circulant_layer quantize(const sparse::block_circulant_matrix<S>& w,
                                                      std::span<const S> bias, const circulant_options& options) {
    fixed_circulant_layer layer(w.rows(), w.cols(), w.block_size(), options);
    check(bias.empty() || static_cast<index_t>(bias.size()) == w.rows(),
          "frugal::fpga::fixed_circulant_layer::quantize: bias has ", bias.size(), " entries, expected 0 or ",
          w.rows());
    const auto& v = w.vectors();
    const index_t k = layer.m_k;
    for (index_t b = 0; b < layer.m_p * layer.m_q; ++b)
      for (index_t f = 0; f < layer.bins(); ++f) {
        double re = 0, im = 0;
        for (index_t n = 0; n < k; ++n) {
          const double angle = 2.0 * std::numbers::pi * static_cast<double>((f * n) % k) / static_cast<double>(k);
          re += static_cast<double>(v(b, n)) * std::cos(angle);
          im -= static_cast<double>(v(b, n)) * std::sin(angle);
        }
        const auto at = static_cast<std::size_t>(b * layer.bins() + f);
        layer.m_re[at] = options.spectra.to_code(re, &layer.m_saturated);
        layer.m_im[at] = options.spectra.to_code(im, &layer.m_saturated);
      }
    for (std::size_t r = 0; r < bias.size(); ++r)
      layer.m_bias[r] = options.data.to_code(static_cast<double>(bias[r]), &layer.m_saturated);
    return layer;
  }

  [[nodiscard]] index_t rows() const noexcept { return m_rows; }
  [[nodiscard]] index_t cols() const noexcept { return m_cols; }
  [[nodiscard]] index_t block_size() const noexcept { return m_k; }
  [[nodiscard]] int log2_block_size() const noexcept { return m_log_k; }
  /// p = ⌈rows/k⌉.
  [[nodiscard]] index_t block_rows() const noexcept { return m_p; }
  /// q = ⌈cols/k⌉.
  [[nodiscard]] index_t block_cols() const noexcept { return m_q; }
  /// Stored bins per block, k/2 + 1.
  [[nodiscard]] index_t bins() const noexcept { return m_k / 2 + 1; }
  /// Bin chunks the MAC array walks per block pair, ⌈(k/2 + 1)/parallelism⌉.
  [[nodiscard]] index_t chunks() const noexcept { return (bins() + m_options.parallelism - 1) / m_options.parallelism; }
  [[nodiscard]] const circulant_options& options() const noexcept { return m_options; }
  /// Twiddle codes of w_n = e^(−2πi·n/k), n < k/2.
  [[nodiscard]] std::pair<std::int64_t, std::int64_t> twiddle(index_t n) const {
    return {m_tw_re.at(static_cast<std::size_t>(n)), m_tw_im.at(static_cast<std::size_t>(n))};
  }
  /// Codes that saturated in `quantize` (0 for a layer built otherwise).
  [[nodiscard]] std::int64_t saturated_codes() const noexcept { return m_saturated; }

  /// The spectrum code pair (real, imaginary) of block (i, j), bin f ≤ k/2.
  [[nodiscard]] std::pair<std::int64_t, std::int64_t> spectrum(index_t i, index_t j, index_t f) const {
    const auto at = spectrum_index(i, j, f);
    return {m_re[at], m_im[at]};
  }
  /// Sets the spectrum codes of block (i, j), bin f; codes outside the spectra format throw.
  void set_spectrum(index_t i, index_t j, index_t f, std::int64_t re, std::int64_t im) {
    const auto& fmt = m_options.spectra;
    check(re >= fmt.min_code() && re <= fmt.max_code() && im >= fmt.min_code() && im <= fmt.max_code(),
          "frugal::fpga::fixed_circulant_layer::set_spectrum: code (", re, ", ", im, ") outside ", fmt.total_bits,
          " bits");
    const auto at = spectrum_index(i, j, f);
    m_re[at] = re;
    m_im[at] = im;
  }
  /// Bias codes, one per row.
  [[nodiscard]] std::span<const std::int64_t> bias() const noexcept { return m_bias; }
  /// Sets the bias code of row r; a code outside the data format throws.
  void set_bias(index_t r, std::int64_t code) {
    check(r >= 0 && r < m_rows, "frugal::fpga::fixed_circulant_layer::set_bias: row ", r, " outside [0, ", m_rows, ")");
    check(code >= m_options.data.min_code() && code <= m_options.data.max_code(),
          "frugal::fpga::fixed_circulant_layer::set_bias: code ", code, " outside ", m_options.data.total_bits,
          " bits");
    m_bias[static_cast<std::size_t>(r)] = code;
  }

  /// Accumulator width of the spectral MAC: spectra + data + 2 + ⌈log2 q⌉ bits, enough for q
  /// exact complex products and the rounding constant.
  [[nodiscard]] int accumulator_bits() const noexcept {
    return m_options.spectra.total_bits + m_options.data.total_bits + 2 + counter_bits(m_q);
  }

  /// y = W x + b (ReLU when enabled) in fixed point, exactly as the hardware computes it.
  /// \param x `cols` data codes (each inside the data format, else `invalid_argument`)
  /// \param y `rows` data codes out
  void forward(std::span<const std::int64_t> x, std::span<std::int64_t> y) const {
    detail::check_forward("frugal::fpga::fixed_circulant_layer::forward", x, m_cols, y, m_rows, m_options.data);
    const int dw = m_options.data.total_bits;
    const auto k = static_cast<std::size_t>(m_k);
    const auto nb = static_cast<std::size_t>(bins());
    std::vector<std::int64_t> re(k), im(k), xre(static_cast<std::size_t>(m_q) * nb), xim(xre.size());
    for (index_t j = 0; j < m_q; ++j) {
      for (index_t n = 0; n < m_k; ++n) {
        const index_t c = j * m_k + n;
        const auto at = static_cast<std::size_t>(bit_reverse(n, m_log_k));
        re[at] = c < m_cols ? x[static_cast<std::size_t>(c)] : 0;
        im[at] = 0;
      }
      fft(re, im, false);
      for (std::size_t f = 0; f < nb; ++f) {
        xre[static_cast<std::size_t>(j) * nb + f] = re[f];
        xim[static_cast<std::size_t>(j) * nb + f] = im[f];
      }
    }
    const int vf = m_options.spectra.fraction_bits;
    for (index_t i = 0; i < m_p; ++i) {
      for (std::size_t f = 0; f < nb; ++f) {
        std::int64_t acc_re = 0, acc_im = 0;
        for (index_t j = 0; j < m_q; ++j) {
          const auto at = spectrum_index(i, j, static_cast<index_t>(f));
          const std::int64_t vr = m_re[at], vi = m_im[at];
          const std::int64_t xr = xre[static_cast<std::size_t>(j) * nb + f],
                             xi = xim[static_cast<std::size_t>(j) * nb + f];
          acc_re += vr * xr - vi * xi;
          acc_im += vr * xi + vi * xr;
        }
        const std::int64_t yr = saturate(shift_round(acc_re, vf), dw), yi = saturate(shift_round(acc_im, vf), dw);
        const auto at = static_cast<std::size_t>(bit_reverse(static_cast<index_t>(f), m_log_k));
        re[at] = yr;
        im[at] = yi;
        if (f != 0 && f < k / 2) {
          const auto mirror = static_cast<std::size_t>(bit_reverse(static_cast<index_t>(k - f), m_log_k));
          re[mirror] = yr;
          im[mirror] = negate_saturate(yi, dw);
        }
      }
      fft(re, im, true);
      for (index_t n = 0; n < m_k && i * m_k + n < m_rows; ++n) {
        const auto r = static_cast<std::size_t>(i * m_k + n);
        std::int64_t out = saturate(re[static_cast<std::size_t>(n)] + m_bias[r], dw);
        if (m_options.relu && out < 0) out = 0;
        y[r] = out;
      }
    }
  }

  /// Clock cycles the hardware spends on one product when inputs arrive every cycle:
  /// q·(k + log2(k)·k/(2P) + ⌈(k/2+1)/P⌉) to load, transform and store the input blocks, then per output
  /// block ⌈(k/2+1)/P⌉·q + 1 (spectral MACs), log2(k)·k/(2P) (inverse FFT) and one per output.
  [[nodiscard]] std::int64_t cycles_per_product() const noexcept {
    const std::int64_t fft = m_log_k * (m_k / 2 / m_options.parallelism);
    return m_q * (m_k + fft + chunks()) + m_p * (chunks() * m_q + 1 + fft) + m_rows;
  }

  /// Hardware multipliers: four per butterfly and four per complex MAC lane.
  [[nodiscard]] index_t multipliers() const noexcept { return 8 * m_options.parallelism; }
  /// Real multiply-accumulates the core performs per product (padded lanes included): four per
  /// butterfly, (p + q)·log2(k)·k/2 butterflies, and four per complex MAC, p·q·chunks·P of them.
  [[nodiscard]] double macs_per_product() const noexcept {
    return 4.0 * static_cast<double>((m_p + m_q) * m_log_k * (m_k / 2)) +
           4.0 * static_cast<double>(m_p * m_q * chunks() * m_options.parallelism);
  }
  /// On-chip memory accesses per product: spectra and spectra-buffer reads of the MAC phase, the
  /// buffer's writes, and the bias reads.
  [[nodiscard]] double memory_accesses_per_product() const noexcept {
    const auto lanes = static_cast<double>(m_options.parallelism);
    return 2.0 * static_cast<double>(m_p * m_q * chunks()) * lanes + static_cast<double>(m_q * chunks()) * lanes +
           static_cast<double>(m_rows);
  }
  /// Bytes of on-chip memory: spectra, spectra buffer and bias (the k-entry register file apart).
  [[nodiscard]] double memory_bytes() const noexcept {
    const auto lanes = static_cast<double>(m_options.parallelism);
    const double words = static_cast<double>(m_p * m_q * chunks()) * lanes;
    return (words * 2 * m_options.spectra.total_bits +
            static_cast<double>(m_q * chunks()) * lanes * 2 * m_options.data.total_bits +
            static_cast<double>(m_p * m_k) * m_options.data.total_bits) /
           8.0;
  }

  /// What the host writes through the load port: every spectra word (lane memory l, address
  /// a = (i·chunks + c)·q + j, holding bin c·P + l of block (i, j), zero past k/2, written at
  /// port address a·P + l), then every bias word (address i·k + n, zero past `rows`).
  [[nodiscard]] std::vector<load_word> load_words() const {
    std::vector<load_word> words;
    const index_t par = m_options.parallelism;
    const int vw = m_options.spectra.total_bits, dw = m_options.data.total_bits;
    const std::uint64_t vmask = (std::uint64_t{1} << vw) - 1, dmask = (std::uint64_t{1} << dw) - 1;
    for (index_t i = 0; i < m_p; ++i)
      for (index_t c = 0; c < chunks(); ++c)
        for (index_t j = 0; j < m_q; ++j)
          for (index_t l = 0; l < par; ++l) {
            const index_t f = c * par + l;
            std::uint64_t data = 0;
            if (f < bins()) {
              const auto [re, im] = spectrum(i, j, f);
              data = (static_cast<std::uint64_t>(im) & vmask) << vw | (static_cast<std::uint64_t>(re) & vmask);
            }
            const index_t a = (i * chunks() + c) * m_q + j;
            words.push_back({false, static_cast<std::uint32_t>(a * par + l), data});
          }
    for (index_t r = 0; r < m_p * m_k; ++r)
      words.push_back({true, static_cast<std::uint32_t>(r),
                       r < m_rows ? static_cast<std::uint64_t>(m_bias[static_cast<std::size_t>(r)]) & dmask : 0});
    return words;
  }

 private:
  [[nodiscard]] std::size_t spectrum_index(index_t i, index_t j, index_t f) const {
    check(i >= 0 && i < m_p && j >= 0 && j < m_q && f >= 0 && f < bins(),
          "frugal::fpga::fixed_circulant_layer: spectrum (", i, ", ", j, ", ", f, ") outside ", m_p, " x ", m_q, " x ",
          bins());
    return static_cast<std::size_t>((i * m_q + j) * bins() + f);
  }

  /// In-place radix-2 DIT FFT of bit-reversed input (natural-order output), forward scaled by
  /// 1/2 per stage, inverse unscaled with conjugated twiddles.
  void fft(std::vector<std::int64_t>& re, std::vector<std::int64_t>& im, bool inverse) const {
    const int dw = m_options.data.total_bits, tf = m_options.twiddle_bits - 2;
    for (int s = 0; s < m_log_k; ++s) {
      const index_t half = index_t{1} << s;
      for (index_t b = 0; b < m_k / 2; ++b) {
        const index_t jj = b & (half - 1);
        const auto i0 = static_cast<std::size_t>(((b >> s) << (s + 1)) | jj);
        const auto i1 = i0 + static_cast<std::size_t>(half);
        const auto tw = static_cast<std::size_t>(jj << (m_log_k - 1 - s));
        const std::int64_t wr = m_tw_re[tw], wi = inverse ? -m_tw_im[tw] : m_tw_im[tw];
        const std::int64_t tr = saturate(shift_round(re[i1] * wr - im[i1] * wi, tf), dw);
        const std::int64_t ti = saturate(shift_round(re[i1] * wi + im[i1] * wr, tf), dw);
        const std::int64_t ar = re[i0], ai = im[i0];
        if (inverse) {
          re[i0] = saturate(ar + tr, dw);
          im[i0] = saturate(ai + ti, dw);
          re[i1] = saturate(ar - tr, dw);
          im[i1] = saturate(ai - ti, dw);
        } else {
          re[i0] = shift_round(ar + tr, 1);
          im[i0] = shift_round(ai + ti, 1);
          re[i1] = shift_round(ar - tr, 1);
          im[i1] = shift_round(ai - ti, 1);
        }
      }
    }
  }

  index_t m_rows, m_cols, m_k;
  circulant_options m_options;
  int m_log_k = 0;
  index_t m_p = 0, m_q = 0;
  std::vector<std::int64_t> m_re, m_im, m_bias, m_tw_re, m_tw_im;
  std::int64_t m_saturated = 0;
};

}  // namespace frugal::fpga
