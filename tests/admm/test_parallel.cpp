// Every admm kernel on an execution space against its plain serial reference
// (frugal/admm/detail/reference.hpp), on random inputs whose sizes split unevenly into chunks and
// across threads, on Kokkos::Serial and the default host space (OpenMP in the openmp preset).
// Equality is bitwise wherever docs/admm.md promises it.
#include <doctest/doctest.h>

#include <frugal/admm.hpp>
#include <frugal/admm/detail/radix_select.hpp>
#include <frugal/admm/detail/reference.hpp>
#include <frugal/admm/detail/sort.hpp>
#include <frugal/core/rng.hpp>
#include <frugal/nn.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <utility>
#include <vector>

#include "test_support.hpp"

namespace admm = frugal::admm;
namespace reference = frugal::admm::detail::reference;
using frugal::index_t;
template <class S>
using mat = frugal::nn::matrix<S>;

namespace {

/// Shapes whose entry counts are 1, 7, 1001 and just over 100 000 (several chunks, none of them
/// a multiple of the chunk size or of two threads), one of them tall and one wide.
const std::pair<index_t, index_t> shapes[] = {{1, 1}, {1, 7}, {7, 143}, {1, 100003}, {331, 317}};

/// Normal entries; with `ties`, rounded to quarters (many equal magnitudes, zeros of both signs).
template <class S>
mat<S> random_matrix(frugal::rng& gen, index_t rows, index_t cols, bool ties = false) {
  mat<S> w(rows, cols);
  for (index_t i = 0; i < w.size(); ++i) {
    const double v = gen.normal();
    w.data()[i] = static_cast<S>(ties ? std::round(4 * v) / 4 : v);
  }
  return w;
}

template <class S>
bool bit_equal(const mat<S>& a, const mat<S>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(S)) == 0;
}

template <class S>
bool bit_equal(const std::vector<S>& a, const std::vector<S>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(S)) == 0);
}

template <class S>
bool bit_equal(const admm::quantized_matrix<S>& a, const admm::quantized_matrix<S>& b) {
  return a.rows == b.rows && a.cols == b.cols && a.bits == b.bits && a.scalable == b.scalable &&
         bit_equal(a.levels, b.levels) && a.codes == b.codes && a.keep == b.keep;
}

/// w where `mask` is non-zero, +0 elsewhere (as a projection onto a support writes it).
template <class S>
mat<S> restrict(const mat<S>& w, const mat<S>& mask) {
  mat<S> z(w.rows(), w.cols());
  for (index_t i = 0; i < w.size(); ++i) z.data()[i] = mask.data()[i] != S(0) ? w.data()[i] : S(0);
  return z;
}

/// A 0/1 mask keeping about `fraction` of the entries at random.
template <class S>
mat<S> random_mask(frugal::rng& gen, index_t rows, index_t cols, double fraction) {
  mat<S> m(rows, cols);
  for (index_t i = 0; i < m.size(); ++i) m.data()[i] = gen.uniform() < fraction ? S(1) : S(0);
  return m;
}

}  // namespace

TEST_CASE_TEMPLATE("select_top_k equals the serial top-k (ties to the lower position) for any chunking", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(101);
  for (index_t n : {1, 7, 1001, 100003}) {
    for (int distinct : {3, 1000, 0}) {  // few distinct keys (ties everywhere), some, all random
      std::vector<std::uint32_t> keys(static_cast<std::size_t>(n));
      for (auto& k : keys)
        k = distinct ? static_cast<std::uint32_t>(gen.uniform_int(static_cast<std::uint64_t>(distinct)))
                     : static_cast<std::uint32_t>(gen.next());
      std::vector<std::int64_t> scores(keys.begin(), keys.end());
      for (index_t k : {index_t{0}, index_t{1}, n / 3, n - 1, n}) {
        std::vector<std::uint8_t> expected(keys.size(), 0);
        for (index_t i : admm::detail::top_k_indices(scores, k)) expected[static_cast<std::size_t>(i)] = 1;
        for (index_t grain : {index_t{1}, index_t{3}, index_t{64}, frugal::grain_for(1)}) {
          if (n > 1001 && grain < 64) continue;
          CAPTURE(n);
          CAPTURE(distinct);
          CAPTURE(k);
          CAPTURE(grain);
          std::vector<std::uint8_t> got(keys.size(), 2);
          const std::uint32_t* key = keys.data();
          std::uint8_t* out = got.data();
          admm::detail::select_top_k(
              Exec{}, n, k, [=](index_t i) { return key[i]; }, [=](index_t i, bool kept) { out[i] = kept; }, grain);
          CHECK(got == expected);
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("select_top_k over several segments ranks them as one concatenation", Exec, FRUGAL_TEST_SPACES) {
  frugal::rng gen(102);
  const index_t sizes[] = {5, 0, 1001, 64, 333};
  std::vector<std::vector<std::uint64_t>> keys;
  std::vector<std::int64_t> flat;
  for (index_t s : sizes) {
    keys.emplace_back(static_cast<std::size_t>(s));
    for (auto& k : keys.back()) {
      k = gen.uniform_int(50) << 40;  // ties, differing only in high bits
      flat.push_back(static_cast<std::int64_t>(k >> 8));
    }
  }
  for (index_t k : {index_t{1}, index_t{700}, index_t{1402}}) {
    for (index_t grain : {index_t{2}, index_t{100}, frugal::grain_for(1)}) {
      std::vector<std::vector<std::uint8_t>> got;
      for (index_t s : sizes) got.emplace_back(static_cast<std::size_t>(s), 2);
      admm::detail::select_top_k(
          Exec{}, std::span<const index_t>(sizes), k, [&](index_t s, index_t i) { return keys[s][i]; },
          [&](index_t s, index_t i, bool kept) { got[s][i] = kept; }, grain);
      std::vector<std::uint8_t> flat_got;
      for (const auto& g : got) flat_got.insert(flat_got.end(), g.begin(), g.end());
      std::vector<std::uint8_t> expected(flat.size(), 0);
      for (index_t i : admm::detail::top_k_indices(flat, k)) expected[static_cast<std::size_t>(i)] = 1;
      CAPTURE(k);
      CAPTURE(grain);
      CHECK(flat_got == expected);
    }
  }
}

TEST_CASE("magnitude keys order like |x|, with both zeros equal") {
  using admm::detail::magnitude_key;
  CHECK(magnitude_key(0.0f) == magnitude_key(-0.0f));
  CHECK(magnitude_key(-2.0) > magnitude_key(1.5));
  CHECK(magnitude_key(1e-40f) > magnitude_key(0.0f));  // subnormal
  CHECK(magnitude_key(-std::numeric_limits<double>::infinity()) > magnitude_key(1e300));
}

TEST_CASE_TEMPLATE("parallel_sort equals std::sort for any number of runs", Exec, FRUGAL_TEST_SPACES) {
  frugal::rng gen(103);
  for (index_t n : {0, 1, 7, 1001, 100003}) {
    std::vector<double> v(static_cast<std::size_t>(n));
    for (auto& x : v) x = std::round(gen.normal() * 100) / 8 + 0.0;  // no -0: it sorts equal to +0
    auto expected = v;
    std::sort(expected.begin(), expected.end(), std::greater<>());
    for (index_t runs : {0, 1, 2, 3, 7, 64, 1001}) {
      CAPTURE(n);
      CAPTURE(runs);
      auto got = v;
      admm::detail::parallel_sort(Exec{}, got, std::greater<>(), runs);
      CHECK(bit_equal(got, expected));
    }
  }
}

TEST_CASE("merge co-ranks cut std::merge's output into pieces that merge to the same bits") {
  frugal::rng gen(114);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<double> a(gen.uniform_int(40)), b(gen.uniform_int(40));
    for (auto& x : a) x = static_cast<double>(gen.uniform_int(6));
    for (auto& x : b) x = static_cast<double>(gen.uniform_int(6)) + 0.5 * static_cast<double>(gen.uniform_int(2));
    std::sort(a.begin(), a.end(), std::greater<>());
    std::sort(b.begin(), b.end(), std::greater<>());
    std::vector<double> whole(a.size() + b.size());
    std::merge(a.begin(), a.end(), b.begin(), b.end(), whole.begin(), std::greater<>());
    const auto na = static_cast<index_t>(a.size()), nb = static_cast<index_t>(b.size());
    for (index_t k = 0; k <= na + nb; ++k) {
      const index_t i = admm::detail::merge_corank(k, a.data(), na, b.data(), nb, std::greater<>());
      std::vector<double> head(static_cast<std::size_t>(k)), tail(static_cast<std::size_t>(na + nb - k));
      std::merge(a.begin(), a.begin() + i, b.begin(), b.begin() + (k - i), head.begin(), std::greater<>());
      std::merge(a.begin() + i, a.end(), b.begin() + (k - i), b.end(), tail.begin(), std::greater<>());
      head.insert(head.end(), tail.begin(), tail.end());
      CHECK(head == whole);
    }
  }
}

TEST_CASE_TEMPLATE("irregular sparsity on an execution space equals the serial reference bit for bit", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(104);
  for (const auto& [rows, cols] : shapes)
    for (bool ties : {false, true})
      for (double keep : {0.01, 0.1, 0.5, 1.0}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(ties);
        CAPTURE(keep);
        const admm::irregular_sparsity p{.keep_fraction = keep};
        const auto wf = random_matrix<float>(gen, rows, cols, ties);
        const auto wd = random_matrix<double>(gen, rows, cols, ties);
        const auto mf = reference::irregular_support(wf, keep);
        const auto md = reference::irregular_support(wd, keep);
        CHECK(bit_equal(p.support(Exec{}, wf), mf));
        CHECK(bit_equal(p.support(Exec{}, wd), md));
        CHECK(bit_equal(p.project(Exec{}, wf), restrict(wf, mf)));
        CHECK(bit_equal(p.project(Exec{}, wd), restrict(wd, md)));
      }
}

TEST_CASE_TEMPLATE("filter and column sparsity on an execution space equal the serial reference bit for bit", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(105);
  const std::pair<index_t, index_t> line_shapes[] = {{1, 1}, {7, 1}, {1, 7}, {7, 143}, {1001, 3}, {331, 317}};
  for (const auto& [rows, cols] : line_shapes)
    for (bool ties : {false, true})
      for (double keep : {0.01, 0.3, 1.0}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(keep);
        auto w = random_matrix<double>(gen, rows, cols, ties);
        if (ties && rows > 2) w.row(1) = w.row(0);  // equal norms: the lower row wins
        if (ties && cols > 2) w.col(2) = w.col(0);
        const admm::filter_sparsity f{.keep_fraction = keep};
        const admm::column_sparsity c{.keep_fraction = keep};
        const auto mf = reference::filter_support(w, keep), mc = reference::column_support(w, keep);
        CHECK(bit_equal(f.support(Exec{}, w), mf));
        CHECK(bit_equal(c.support(Exec{}, w), mc));
        CHECK(bit_equal(f.project(Exec{}, w), restrict(w, mf)));
        CHECK(bit_equal(c.project(Exec{}, w), restrict(w, mc)));
        const auto wf = random_matrix<float>(gen, rows, cols, ties);
        CHECK(bit_equal(f.support(Exec{}, wf), reference::filter_support(wf, keep)));
        CHECK(bit_equal(c.support(Exec{}, wf), reference::column_support(wf, keep)));
      }
}

TEST_CASE_TEMPLATE("global irregular support on an execution space equals the serial reference bit for bit", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(106);
  for (bool ties : {false, true}) {
    const auto a = random_matrix<float>(gen, 7, 143, ties), b = random_matrix<float>(gen, 1, 1, ties),
               c = random_matrix<float>(gen, 331, 317, ties), d = random_matrix<float>(gen, 1, 7, ties);
    const mat<float>* ws[] = {&a, &b, &c, &d};
    for (double keep : {0.001, 0.2, 1.0}) {
      const auto got = admm::global_irregular_support<float>(Exec{}, ws, keep);
      const auto expected = reference::global_irregular_support<float>(ws, keep);
      REQUIRE(got.size() == expected.size());
      for (std::size_t m = 0; m < got.size(); ++m) CHECK(bit_equal(got[m], expected[m]));
    }
  }
}

TEST_CASE_TEMPLATE("BCR selection on an execution space equals the serial reference for odd block shapes", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(107);
  struct shape_case {
    index_t rows, cols, br, bc;
    double row_keep, col_keep;
    std::uint64_t exact_limit;
  };
  const shape_case cases[] = {{1, 1, 4, 4, 0.5, 0.5, 5000},     {7, 143, 3, 5, 0.5, 0.6, 5000},
                              {37, 53, 8, 16, 0.5, 0.25, 5000}, {100, 300, 8, 16, 0.4, 0.5, 0},
                              {331, 317, 7, 9, 0.3, 0.5, 5000}, {64, 64, 64, 64, 0.5, 0.5, 0}};
  for (const auto& s : cases) {
    CAPTURE(s.rows);
    CAPTURE(s.cols);
    CAPTURE(s.br);
    CAPTURE(s.bc);
    const admm::bcr_sparsity p{.block_rows = s.br,
                               .block_cols = s.bc,
                               .row_keep_fraction = s.row_keep,
                               .col_keep_fraction = s.col_keep,
                               .exact_limit = s.exact_limit};
    const auto w = random_matrix<float>(gen, s.rows, s.cols);
    const auto got = p.select(Exec{}, w);
    const auto expected = reference::bcr_select(p, w);
    REQUIRE(got.blocks.size() == expected.blocks.size());
    for (std::size_t b = 0; b < got.blocks.size(); ++b) {
      CHECK(got.blocks[b].kept_rows == expected.blocks[b].kept_rows);
      CHECK(got.blocks[b].kept_cols == expected.blocks[b].kept_cols);
    }
    const auto mask = reference::bcr_mask<float>(expected);
    CHECK(bit_equal(got.template mask<float>(Exec{}), mask));
    CHECK(bit_equal(p.support(Exec{}, w), mask));
    CHECK(bit_equal(p.project(Exec{}, w), restrict(w, mask)));
  }
}

TEST_CASE_TEMPLATE("block-circulant projection on an execution space equals the serial reference bit for bit", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(108);
  for (const auto& [rows, cols] : shapes)
    for (index_t k : {1, 3, 8, 200}) {
      CAPTURE(rows);
      CAPTURE(cols);
      CAPTURE(k);
      const auto w = random_matrix<float>(gen, rows, cols);
      CHECK(bit_equal(admm::block_circulant{.block_size = k}.project(Exec{}, w),
                      reference::block_circulant_project(w, k)));
    }
}

TEST_CASE_TEMPLATE("quantizers on an execution space equal the serial reference bit for bit", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(109);
  for (const auto& [rows, cols] : shapes) {
    const bool large = rows * cols > 2000;
    for (bool masked : {false, true}) {
      CAPTURE(rows);
      CAPTURE(cols);
      CAPTURE(masked);
      const auto w = random_matrix<float>(gen, rows, cols);
      const auto wd = random_matrix<double>(gen, rows, cols, true);
      const auto mask = random_mask<float>(gen, rows, cols, 0.3);
      const auto mask_d = random_mask<double>(gen, rows, cols, 0.6);
      const mat<float>* m = masked ? &mask : nullptr;
      const mat<double>* md = masked ? &mask_d : nullptr;
      if (large) {
        // The scale search costs up to 100 alternating steps per start over every value: one
        // grid each, on a sparse mask (some 10 000 values gathered from several chunks).
        const auto sparse = random_mask<float>(gen, rows, cols, 0.1);
        const bool zero_level = rows == 1;
        CHECK(bit_equal(admm::uniform_quantization{.bits = 3, .zero_level = zero_level}.quantize(Exec{}, w, &sparse),
                        reference::uniform_quantize(w, &sparse, 3, zero_level)));
      } else {
        for (int bits : {2, 3, 4})
          for (bool zero_level : {true, false}) {
            CAPTURE(bits);
            CAPTURE(zero_level);
            const admm::uniform_quantization q{.bits = bits, .zero_level = zero_level};
            CHECK(bit_equal(q.quantize(Exec{}, w, m), reference::uniform_quantize(w, m, bits, zero_level)));
            CHECK(bit_equal(q.quantize(Exec{}, wd, md), reference::uniform_quantize(wd, md, bits, zero_level)));
          }
      }
      CHECK(bit_equal(admm::ternary_quantization{}.quantize(Exec{}, w, m), reference::ternary_quantize(w, m)));
      CHECK(bit_equal(admm::ternary_quantization{}.quantize(Exec{}, wd, md), reference::ternary_quantize(wd, md)));
      for (int bits : {2, 4}) {
        CHECK(bit_equal(admm::power_of_two_quantization{.bits = bits}.quantize(Exec{}, w, m),
                        reference::power_of_two_quantize(w, m, bits)));
        CHECK(bit_equal(admm::power_of_two_quantization{.bits = bits}.quantize(Exec{}, wd, md),
                        reference::power_of_two_quantize(wd, md, bits)));
      }
      // Binary: α is a chunk-ordered sum, the plain row-major sum while the kept values fit one
      // chunk; beyond, equal to it up to rounding and identical on every space (next test case).
      const auto qb = admm::binary_quantization{}.quantize(Exec{}, wd, md);
      const auto rb = reference::binary_quantize(wd, md);
      if (!large) {
        CHECK(bit_equal(qb, rb));
      } else {
        CHECK(qb.levels[1] == doctest::Approx(rb.levels[1]).epsilon(1e-13));
        CHECK(qb.codes == rb.codes);
      }
      // Reconstruction on the space equals the plain one.
      const auto q = admm::ternary_quantization{}.quantize(Exec{}, w, m);
      mat<float> plain(q.rows, q.cols);
      for (index_t i = 0; i < plain.size(); ++i) plain.data()[i] = q.kept(i) ? q.levels[q.codes[i]] : 0.0f;
      CHECK(bit_equal(q.reconstruct(Exec{}), plain));
    }
  }
}

TEST_CASE("uniform quantization of many small inputs on the default space equals the serial reference") {
  // Up to 64 values the scale search probes every code assignment: many candidates, few values.
  frugal::rng gen(110);
  for (int trial = 0; trial < 20; ++trial) {
    const auto w = random_matrix<double>(gen, 1, 1 + static_cast<index_t>(gen.uniform_int(64)));
    for (int bits : {2, 5})
      CHECK(bit_equal(admm::uniform_quantization{.bits = bits}.quantize(frugal::default_host_space{}, w),
                      reference::uniform_quantize(w, static_cast<const mat<double>*>(nullptr), bits, true)));
  }
}

TEST_CASE("every projection is bit-identical on Kokkos::Serial and on the default host space") {
  // In the openmp preset the default host space runs two threads: this is the 1- vs 2-thread
  // check, on sizes beyond one chunk (where the chunk-ordered sums are not the plain sums).
  frugal::rng gen(111);
  const Kokkos::Serial one;
  const frugal::default_host_space many;
  const auto w = random_matrix<double>(gen, 331, 317);
  const auto mask = random_mask<double>(gen, 331, 317, 0.7);
  const auto sparse = random_mask<double>(gen, 331, 317, 0.1);
  auto same_projection = [&](const auto& p) { return bit_equal(p.project(one, w), p.project(many, w)); };
  auto same_codes = [&](const auto& q, const mat<double>& m) {
    return bit_equal(q.quantize(one, w, &m), q.quantize(many, w, &m));
  };
  CHECK(same_projection(admm::irregular_sparsity{.keep_fraction = 0.05}));
  CHECK(same_projection(admm::filter_sparsity{.keep_fraction = 0.5}));
  CHECK(same_projection(admm::column_sparsity{.keep_fraction = 0.5}));
  CHECK(same_projection(admm::bcr_sparsity{.block_rows = 8, .block_cols = 16}));
  CHECK(same_projection(admm::block_circulant{.block_size = 8}));
  CHECK(same_projection(admm::ternary_quantization{}));
  CHECK(same_projection(admm::binary_quantization{}));
  CHECK(same_projection(admm::power_of_two_quantization{.bits = 4}));
  CHECK(same_projection(admm::prune_then_quantize<admm::irregular_sparsity, admm::uniform_quantization>{
      {.keep_fraction = 0.05}, {.bits = 3, .zero_level = false}}));
  CHECK(same_projection(admm::masked_quantization<double, admm::binary_quantization>{mask, {}}));
  CHECK(same_codes(admm::uniform_quantization{.bits = 4}, sparse));
  CHECK(same_codes(admm::binary_quantization{}, mask));
  CHECK(same_codes(admm::ternary_quantization{}, mask));
}

namespace {

/// A 331 x 317 parameter (several chunks) pulled towards a random target, with ADMM on `Exec`.
template <class Exec>
struct admm_run {
  frugal::nn::parameter<double> w;
  frugal::nn::parameter_registry<double> registry;
  mat<double> target;
  admm::admm_state<double, Exec> state{{.rho = 0.05, .rho_multiplier = 1.5, .rho_max = 1, .iterations = 4}};
  std::vector<admm::admm_residuals> history;

  explicit admm_run(const admm::any_projection<double, Exec>& projection) {
    frugal::rng gen(112);
    target = random_matrix<double>(gen, 331, 317);
    w.resize(331, 317);
    w.value = random_matrix<double>(gen, 331, 317);
    registry.add("w", w);
    state.add("w", projection);
    state.initialize(registry);
  }

  /// One iteration by hand: gradient steps with the penalty, then the Z/U update.
  void iterate() {
    for (int s = 0; s < 3; ++s) {
      w.grad = 2 * (w.value - target);
      state.add_penalty_gradient(registry);
      w.value -= 0.1 * w.grad;
    }
    history.push_back(state.update(registry));
  }
};

}  // namespace

TEST_CASE_TEMPLATE("ADMM Z/U updates on an execution space equal the serial updates", Exec, FRUGAL_TEST_SPACES) {
  const admm::irregular_sparsity sparsity{.keep_fraction = 0.1};
  admm_run<Exec> run(sparsity);
  admm_run<Kokkos::Serial> serial(sparsity);
  // The plain serial updates, from the same start.
  mat<double> w = run.w.value, z = restrict(w, reference::irregular_support(w, 0.1)), u = mat<double>::Zero(331, 317);
  CHECK(bit_equal(run.state.z("w"), z));
  double rho = 0.05;
  for (int it = 0; it < 4; ++it) {
    for (int s = 0; s < 3; ++s) {
      mat<double> g = 2 * (w - run.target);
      g.array() += rho * (w - z + u).array();
      w -= 0.1 * g;
    }
    const mat<double> shifted = w + u;
    const mat<double> next = restrict(shifted, reference::irregular_support(shifted, 0.1));
    const double dual = (next - z).squaredNorm();
    z = next;
    u += w - z;
    const double primal = (w - z).squaredNorm();
    const double next_rho = std::min(rho * 1.5, 1.0);
    u *= rho / next_rho;
    run.iterate();
    serial.iterate();
    CHECK(bit_equal(run.w.value, w));
    CHECK(bit_equal(run.state.z("w"), z));
    CHECK(bit_equal(run.state.u("w"), u));
    CHECK(run.history.back().primal == doctest::Approx(std::sqrt(primal)).epsilon(1e-12));
    CHECK(run.history.back().dual == doctest::Approx(rho * std::sqrt(dual)).epsilon(1e-12));
    // Residuals are chunk-ordered sums: the same bits on one thread and on many.
    CHECK(run.history.back().primal == serial.history.back().primal);
    CHECK(run.history.back().dual == serial.history.back().dual);
    CHECK(run.history.back().relative_primal == serial.history.back().relative_primal);
    rho = next_rho;
  }
  // Hardening on the space: the serial projection's support becomes the mask.
  const mat<double> before = run.w.value;
  run.state.harden(run.registry);
  REQUIRE(run.w.mask.has_value());
  CHECK(bit_equal(*run.w.mask, reference::irregular_support(before, 0.1)));
}

TEST_CASE_TEMPLATE("magnitude pruning on an execution space equals the serial composition", Exec, FRUGAL_TEST_SPACES) {
  frugal::rng gen(113);
  frugal::nn::parameter<float> a, b;
  a.resize(331, 317);
  b.resize(7, 143);
  a.value = random_matrix<float>(gen, 331, 317, true);
  b.value = random_matrix<float>(gen, 7, 143);
  frugal::nn::parameter_registry<float> registry;
  registry.add("a", a);
  registry.add("b", b);
  mat<float> ma = mat<float>::Ones(331, 317), mb = mat<float>::Ones(7, 143);
  for (double keep : {0.5, 0.2}) {
    admm::magnitude_prune(Exec{}, registry, {{"a", keep}, {"b", keep}});
    ma = reference::irregular_support(restrict(a.value, ma), keep).cwiseProduct(ma);
    mb = reference::irregular_support(restrict(b.value, mb), keep).cwiseProduct(mb);
    REQUIRE(a.mask.has_value());
    CHECK(bit_equal(*a.mask, ma));
    CHECK(bit_equal(*b.mask, mb));
  }
}
