#pragma once
/// \file
/// Batched real FFTs of one length through FFTW, in float (`fftwf_`) and double (`fftw_`), with
/// the planner serialised and the plans reusable on any suitably aligned buffers.

#include <fftw3.h>

#include <climits>
#include <complex>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <utility>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/scalar.hpp"

namespace frugal::sparse {

/// How hard FFTW searches for a fast algorithm when a `real_fft` is built.
/// - `estimate`: a heuristic plan, built in microseconds; the same plan (and rounding) every run.
/// - `measure`: FFTW times candidate algorithms on scratch buffers (paid the first time a shape is
///   planned in the process; FFTW then remembers it as wisdom). Faster for some lengths (figures
///   in docs/sparse.md), but the plan chosen, hence the last bit of the results, may differ
///   between runs.
enum class fft_planning { estimate, measure };

namespace detail {

/// FFTW's planner (plan creation and destruction) is not thread-safe; executing a plan is.
/// Every planner call frugal makes holds this mutex.
[[nodiscard]] inline std::mutex& fftw_planner_mutex() {
  static std::mutex mutex;
  return mutex;
}

/// The FFTW entry points of one precision.
template <class S>
struct fftw_api;

template <>
struct fftw_api<float> {
  using plan_type = fftwf_plan;
  using complex_type = fftwf_complex;
  static void* allocate(std::size_t bytes) { return fftwf_malloc(bytes); }
  static void release(void* p) { fftwf_free(p); }
  static int alignment_of(const float* p) { return fftwf_alignment_of(const_cast<float*>(p)); }
  static plan_type plan_r2c(int n, int howmany, float* in, complex_type* out, unsigned flags) {
    return fftwf_plan_many_dft_r2c(1, &n, howmany, in, nullptr, 1, n, out, nullptr, 1, n / 2 + 1, flags);
  }
  static plan_type plan_c2r(int n, int howmany, complex_type* in, float* out, unsigned flags) {
    return fftwf_plan_many_dft_c2r(1, &n, howmany, in, nullptr, 1, n / 2 + 1, out, nullptr, 1, n, flags);
  }
  static void execute_r2c(plan_type p, float* in, complex_type* out) { fftwf_execute_dft_r2c(p, in, out); }
  static void execute_c2r(plan_type p, complex_type* in, float* out) { fftwf_execute_dft_c2r(p, in, out); }
  static void destroy(plan_type p) { fftwf_destroy_plan(p); }
};

template <>
struct fftw_api<double> {
  using plan_type = fftw_plan;
  using complex_type = fftw_complex;
  static void* allocate(std::size_t bytes) { return fftw_malloc(bytes); }
  static void release(void* p) { fftw_free(p); }
  static int alignment_of(const double* p) { return fftw_alignment_of(const_cast<double*>(p)); }
  static plan_type plan_r2c(int n, int howmany, double* in, complex_type* out, unsigned flags) {
    return fftw_plan_many_dft_r2c(1, &n, howmany, in, nullptr, 1, n, out, nullptr, 1, n / 2 + 1, flags);
  }
  static plan_type plan_c2r(int n, int howmany, complex_type* in, double* out, unsigned flags) {
    return fftw_plan_many_dft_c2r(1, &n, howmany, in, nullptr, 1, n / 2 + 1, out, nullptr, 1, n, flags);
  }
  static void execute_r2c(plan_type p, double* in, complex_type* out) { fftw_execute_dft_r2c(p, in, out); }
  static void execute_c2r(plan_type p, complex_type* in, double* out) { fftw_execute_dft_c2r(p, in, out); }
  static void destroy(plan_type p) { fftw_destroy_plan(p); }
};

}  // namespace detail

/// An owning, SIMD-aligned array (allocated with `fftw_malloc`), the kind of buffer a
/// `real_fft` executes on. Contents are uninitialised after construction or `resize`.
/// \tparam T a trivially copyable element type (`float`, `double`, `std::complex<…>`)
template <class T>
class fft_buffer {
  static_assert(std::is_trivially_copyable_v<T>, "frugal::sparse::fft_buffer: T must be trivially copyable");

 public:
  fft_buffer() = default;
  explicit fft_buffer(index_t size) { resize(size); }
  fft_buffer(const fft_buffer& other) : fft_buffer(other.m_size) {
    if (m_size > 0) std::memcpy(m_data, other.m_data, static_cast<std::size_t>(m_size) * sizeof(T));
  }
  fft_buffer(fft_buffer&& other) noexcept
      : m_data(std::exchange(other.m_data, nullptr)), m_size(std::exchange(other.m_size, 0)) {}
  fft_buffer& operator=(fft_buffer other) noexcept {
    std::swap(m_data, other.m_data);
    std::swap(m_size, other.m_size);
    return *this;
  }
  ~fft_buffer() { detail::fftw_api<double>::release(m_data); }

  /// Reallocates to `size` elements when the size changes (contents are then unspecified).
  void resize(index_t size) {
    check(size >= 0, "frugal::sparse::fft_buffer::resize: size = ", size, " must be non-negative");
    if (size == m_size) return;
    detail::fftw_api<double>::release(m_data);
    m_data = nullptr;
    m_size = 0;
    if (size == 0) return;
    m_data = static_cast<T*>(detail::fftw_api<double>::allocate(static_cast<std::size_t>(size) * sizeof(T)));
    if (!m_data) throw std::bad_alloc();
    m_size = size;
  }

  /// Sets every element to zero bits.
  void set_zero() noexcept {
    if (m_size > 0) std::memset(static_cast<void*>(m_data), 0, static_cast<std::size_t>(m_size) * sizeof(T));
  }

  [[nodiscard]] T* data() noexcept { return m_data; }
  [[nodiscard]] const T* data() const noexcept { return m_data; }
  [[nodiscard]] index_t size() const noexcept { return m_size; }
  [[nodiscard]] T& operator[](index_t i) noexcept { return m_data[i]; }
  [[nodiscard]] const T& operator[](index_t i) const noexcept { return m_data[i]; }

 private:
  T* m_data = nullptr;
  index_t m_size = 0;
};

/// A batch of `count` real FFTs of length `length`, planned once and executed on any buffers with
/// FFTW's SIMD alignment (an `fft_buffer`, or any `fftw_malloc`'d pointer).
///
/// Layout: chunk c of the real side occupies `[c·length, (c+1)·length)`; chunk c of the complex
/// side occupies `[c·(length/2+1), (c+1)·(length/2+1))` and holds the non-negative frequencies
/// X[m] = Σₜ x[t] e^{−2πi·m·t/length}, m = 0 … length/2 (the others are conjugates).
///
/// Thread safety: construction, copy and destruction take a process-wide mutex around FFTW's
/// planner (which is not thread-safe); `forward` and `inverse` may run concurrently on different
/// buffers. Code that calls FFTW's planner directly, outside frugal, must not do so concurrently.
/// \tparam S float or double
template <Scalar S>
class real_fft {
  using api = detail::fftw_api<S>;
  using fftw_complex_type = typename api::complex_type;

 public:
  using scalar_type = S;
  using complex_type = std::complex<S>;

  /// Plans `count` transforms of length `length` each way.
  /// \param length transform length, at least 1 (FFTW is fastest for products of small primes)
  /// \param count transforms per call, at least 1
  /// \param planning `estimate` (default) or `measure`; planning never touches caller data
  explicit real_fft(index_t length, index_t count = 1, fft_planning planning = fft_planning::estimate)
      : m_length(length), m_count(count), m_planning(planning) {
    check(length >= 1 && length <= INT_MAX, "frugal::sparse::real_fft: length = ", length, " must be in [1, ", INT_MAX,
          "]");
    check(count >= 1 && count <= INT_MAX && count <= INT_MAX / length, "frugal::sparse::real_fft: count = ", count,
          " must be positive and count·length must fit an int");
    plan();
  }

  real_fft(const real_fft& other) : real_fft(other.m_length, other.m_count, other.m_planning) {}
  real_fft(real_fft&& other) noexcept
      : m_length(other.m_length),
        m_count(other.m_count),
        m_planning(other.m_planning),
        m_forward(std::exchange(other.m_forward, nullptr)),
        m_inverse(std::exchange(other.m_inverse, nullptr)) {}
  real_fft& operator=(real_fft other) noexcept {
    std::swap(m_length, other.m_length);
    std::swap(m_count, other.m_count);
    std::swap(m_planning, other.m_planning);
    std::swap(m_forward, other.m_forward);
    std::swap(m_inverse, other.m_inverse);
    return *this;
  }
  ~real_fft() {
    if (!m_forward && !m_inverse) return;
    const std::lock_guard<std::mutex> lock(detail::fftw_planner_mutex());
    if (m_forward) api::destroy(m_forward);
    if (m_inverse) api::destroy(m_inverse);
  }

  /// Transform length.
  [[nodiscard]] index_t length() const noexcept { return m_length; }
  /// Transforms per call.
  [[nodiscard]] index_t count() const noexcept { return m_count; }
  /// Complex values per transform on the frequency side: length/2 + 1.
  [[nodiscard]] index_t spectrum_length() const noexcept { return m_length / 2 + 1; }

  /// Real-to-complex: `count` chunks of `length` reals in `in` to `count` spectra in `out`.
  /// `in` is not modified. Both pointers must be SIMD-aligned (see class doc) and distinct.
  void forward(const S* in, complex_type* out) const {
    check_buffers("forward", in, reinterpret_cast<const S*>(out));
    api::execute_r2c(m_forward, const_cast<S*>(in), reinterpret_cast<fftw_complex_type*>(out));
  }

  /// Complex-to-real, unnormalised: applying `forward` then `inverse` multiplies by `length`.
  /// Only the non-negative frequencies are read (the imaginary parts of frequency 0 and, for even
  /// lengths, length/2 are ignored). `in` is overwritten (FFTW's c2r destroys its input).
  void inverse(complex_type* in, S* out) const {
    check_buffers("inverse", reinterpret_cast<const S*>(in), out);
    api::execute_c2r(m_inverse, reinterpret_cast<fftw_complex_type*>(in), out);
  }

 private:
  void plan() {
    const int n = static_cast<int>(m_length), howmany = static_cast<int>(m_count);
    // Plan on scratch buffers: FFTW_MEASURE overwrites the arrays it is given.
    fft_buffer<S> real(m_length * m_count);
    fft_buffer<complex_type> spectrum(spectrum_length() * m_count);
    const unsigned flags = m_planning == fft_planning::measure ? FFTW_MEASURE : FFTW_ESTIMATE;
    auto* spectrum_data = reinterpret_cast<fftw_complex_type*>(spectrum.data());
    {
      const std::lock_guard<std::mutex> lock(detail::fftw_planner_mutex());
      m_forward = api::plan_r2c(n, howmany, real.data(), spectrum_data, flags);
      m_inverse = api::plan_c2r(n, howmany, spectrum_data, real.data(), flags);
      if (!m_forward || !m_inverse) {
        if (m_forward) api::destroy(m_forward);
        if (m_inverse) api::destroy(m_inverse);
        m_forward = nullptr;
        m_inverse = nullptr;
      }
    }
    check<error>(m_forward != nullptr, "frugal::sparse::real_fft: FFTW could not plan ", m_count,
                 " real transforms of length ", m_length);
  }

  void check_buffers(const char* what, const S* in, const S* out) const {
    check(in != nullptr && out != nullptr, "frugal::sparse::real_fft::", what, ": null buffer");
    check(static_cast<const void*>(in) != static_cast<const void*>(out), "frugal::sparse::real_fft::", what,
          ": the plan is out-of-place, input and output must differ");
    check(api::alignment_of(in) == 0 && api::alignment_of(out) == 0, "frugal::sparse::real_fft::", what,
          ": buffers must have FFTW's SIMD alignment (use frugal::sparse::fft_buffer or fftw_malloc)");
  }

  index_t m_length;
  index_t m_count;
  fft_planning m_planning;
  typename api::plan_type m_forward = nullptr;
  typename api::plan_type m_inverse = nullptr;
};

}  // namespace frugal::sparse
