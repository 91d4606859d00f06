#include <doctest/doctest.h>

#include <frugal/admm.hpp>
#include <frugal/core/rng.hpp>

#include <Eigen/QR>

#include <functional>
#include <limits>

namespace admm = frugal::admm;
using frugal::index_t;
using M = frugal::nn::matrix<double>;

namespace {

M random_matrix(frugal::rng& gen, index_t r, index_t c) {
  M w(r, c);
  for (index_t i = 0; i < w.size(); ++i) w.data()[i] = gen.normal();
  return w;
}

double dist2(const M& a, const M& b) { return (a - b).squaredNorm(); }

/// Calls f on every subset of {0..n-1} of size k.
void for_each_subset(index_t n, index_t k, const std::function<void(const std::vector<index_t>&)>& f) {
  std::vector<index_t> s;
  std::function<void(index_t)> rec = [&](index_t start) {
    if (static_cast<index_t>(s.size()) == k) {
      f(s);
      return;
    }
    for (index_t i = start; i < n; ++i) {
      s.push_back(i);
      rec(i + 1);
      s.pop_back();
    }
  };
  rec(0);
}

/// Calls f on every vector of n codes in [0, levels).
void for_each_code(index_t n, index_t levels, const std::function<void(const std::vector<index_t>&)>& f) {
  std::vector<index_t> c(static_cast<std::size_t>(n), 0);
  for (;;) {
    f(c);
    index_t i = 0;
    while (i < n && ++c[static_cast<std::size_t>(i)] == levels) c[static_cast<std::size_t>(i++)] = 0;
    if (i == n) return;
  }
}

/// Best error of values x over code vectors with level values unit[code] scaled by the optimal
/// non-negative α for each code vector.
double brute_force_scaled(const std::vector<double>& x, const std::vector<double>& unit) {
  double best = std::numeric_limits<double>::infinity();
  for_each_code(static_cast<index_t>(x.size()), static_cast<index_t>(unit.size()), [&](const std::vector<index_t>& c) {
    double xq = 0, qq = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double q = unit[static_cast<std::size_t>(c[i])];
      xq += x[i] * q;
      qq += q * q;
    }
    const double a = qq > 0 ? std::max(0.0, xq / qq) : 0.0;
    double e = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      const double d = x[i] - a * unit[static_cast<std::size_t>(c[i])];
      e += d * d;
    }
    best = std::min(best, e);
  });
  return best;
}

template <class P>
void check_idempotent(const P& p, const M& w) {
  const M once = p.template project<double>(w);
  const M twice = p.template project<double>(once);
  CHECK(dist2(once, twice) <= 1e-24 * (1 + once.squaredNorm()));
}

}  // namespace

TEST_CASE("irregular sparsity: nearest point equals brute force, idempotent, in the set") {
  frugal::rng gen(1);
  for (int trial = 0; trial < 20; ++trial) {
    const M w = random_matrix(gen, 2, 4);
    const admm::irregular_sparsity p{.keep_fraction = 3.0 / 8};
    const M z = p.project(w);
    CHECK((z.array() != 0).count() <= 3);
    double best = std::numeric_limits<double>::infinity();
    for_each_subset(8, 3, [&](const std::vector<index_t>& s) {
      M c = M::Zero(2, 4);
      for (index_t i : s) c.data()[i] = w.data()[i];
      best = std::min(best, dist2(w, c));
    });
    CHECK(dist2(w, z) == doctest::Approx(best).epsilon(1e-12));
    check_idempotent(p, w);
  }
  CHECK_THROWS_AS(admm::irregular_sparsity{.keep_fraction = 0}.project(M(M::Ones(2, 2))), frugal::invalid_argument);
  CHECK_THROWS_AS(admm::irregular_sparsity{.keep_fraction = 1.5}.project(M(M::Ones(2, 2))), frugal::invalid_argument);
}

TEST_CASE("filter and column sparsity: nearest point equals brute force over row/column subsets") {
  frugal::rng gen(2);
  for (int trial = 0; trial < 20; ++trial) {
    const M w = random_matrix(gen, 5, 4);
    const admm::filter_sparsity rows{.keep_fraction = 0.4};  // 2 of 5 rows
    const admm::column_sparsity cols{.keep_fraction = 0.5};  // 2 of 4 columns
    double best_rows = 1e300, best_cols = 1e300;
    for_each_subset(5, 2, [&](const std::vector<index_t>& s) {
      M c = M::Zero(5, 4);
      for (index_t r : s) c.row(r) = w.row(r);
      best_rows = std::min(best_rows, dist2(w, c));
    });
    for_each_subset(4, 2, [&](const std::vector<index_t>& s) {
      M c = M::Zero(5, 4);
      for (index_t k : s) c.col(k) = w.col(k);
      best_cols = std::min(best_cols, dist2(w, c));
    });
    const M zr = rows.project(w), zc = cols.project(w);
    CHECK(dist2(w, zr) == doctest::Approx(best_rows).epsilon(1e-12));
    CHECK(dist2(w, zc) == doctest::Approx(best_cols).epsilon(1e-12));
    CHECK((zr.rowwise().squaredNorm().array() > 0).count() == 2);
    CHECK((zc.colwise().squaredNorm().array() > 0).count() == 2);
    check_idempotent(rows, w);
    check_idempotent(cols, w);
  }
}

TEST_CASE("global irregular support keeps the largest entries across matrices") {
  M a(1, 3), b(2, 2);
  a << 0.1, -5, 0.2;
  b << 3, -0.05, 0.3, -4;
  const M* ws[] = {&a, &b};
  const auto masks = admm::global_irregular_support<double>(ws, 3.0 / 7);
  CHECK(masks[0](0, 1) == 1);
  CHECK(masks[1](0, 0) == 1);
  CHECK(masks[1](1, 1) == 1);
  CHECK(masks[0].sum() + masks[1].sum() == 3);
}

TEST_CASE("BCR: exact projection equals brute force over row and column subsets of every block") {
  frugal::rng gen(3);
  for (int trial = 0; trial < 10; ++trial) {
    const M w = random_matrix(gen, 7, 6);  // blocks 4x3: ragged last block row (3 rows)
    const admm::bcr_sparsity p{
        .block_rows = 4, .block_cols = 3, .row_keep_fraction = 0.5, .col_keep_fraction = 2.0 / 3};
    const auto pattern = p.select(w);
    const M z = p.project(w);
    double brute = 0;
    for (const auto& b : pattern.blocks) {
      const index_t kr = static_cast<index_t>(b.kept_rows.size()), kc = static_cast<index_t>(b.kept_cols.size());
      CHECK(kr == std::max<index_t>(1, std::llround(0.5 * b.rows)));
      CHECK(kc == std::max<index_t>(1, std::llround(2.0 / 3 * b.cols)));
      double best_kept = -1;
      for_each_subset(b.rows, kr, [&](const std::vector<index_t>& rs) {
        for_each_subset(b.cols, kc, [&](const std::vector<index_t>& cs) {
          double kept = 0;
          for (index_t r : rs)
            for (index_t c : cs) kept += w(b.row0 + r, b.col0 + c) * w(b.row0 + r, b.col0 + c);
          best_kept = std::max(best_kept, kept);
        });
      });
      brute += w.block(b.row0, b.col0, b.rows, b.cols).squaredNorm() - best_kept;
      // Kept entries lie inside kept rows x kept cols of the block.
      for (index_t r = 0; r < b.rows; ++r)
        for (index_t c = 0; c < b.cols; ++c) {
          const bool in = std::count(b.kept_rows.begin(), b.kept_rows.end(), b.row0 + r) &&
                          std::count(b.kept_cols.begin(), b.kept_cols.end(), b.col0 + c);
          CHECK((z(b.row0 + r, b.col0 + c) != 0) == in);
        }
    }
    CHECK(dist2(w, z) == doctest::Approx(brute).epsilon(1e-12));
    CHECK(pattern.kept() == (z.array() != 0).count());
    check_idempotent(p, w);
  }
}

TEST_CASE("BCR: the alternating approximation for large blocks is valid and usually optimal") {
  frugal::rng gen(4);
  int optimal = 0;
  const int trials = 40;
  for (int trial = 0; trial < trials; ++trial) {
    const M w = random_matrix(gen, 6, 6);
    const admm::bcr_sparsity exact{
        .block_rows = 6, .block_cols = 6, .row_keep_fraction = 0.5, .col_keep_fraction = 0.5};
    admm::bcr_sparsity approx = exact;
    approx.exact_limit = 0;  // force the heuristic
    const M ze = exact.project(w), za = approx.project(w);
    CHECK((za.rowwise().squaredNorm().array() > 0).count() <= 3);
    CHECK((za.colwise().squaredNorm().array() > 0).count() <= 3);
    CHECK(dist2(w, za) >= dist2(w, ze) - 1e-12);
    optimal += dist2(w, za) <= dist2(w, ze) + 1e-12;
  }
  MESSAGE("alternating BCR selection optimal in " << optimal << " of " << trials << " random 6x6 blocks");
  CHECK(optimal >= trials * 7 / 10);
}

TEST_CASE("block-circulant projection is the least-squares fit onto the circulant subspace") {
  frugal::rng gen(5);
  const index_t k = 3;
  const M w = random_matrix(gen, 5, 7);  // ragged edges on both axes
  const M z = admm::block_circulant{.block_size = k}.project(w);
  // Independent truth: least squares over an explicit basis, one indicator per (block, diagonal).
  std::vector<M> basis;
  for (index_t r0 = 0; r0 < 5; r0 += k)
    for (index_t c0 = 0; c0 < 7; c0 += k)
      for (index_t d = 0; d < k; ++d) {
        M b = M::Zero(5, 7);
        for (index_t i = r0; i < std::min<index_t>(r0 + k, 5); ++i)
          for (index_t j = c0; j < std::min<index_t>(c0 + k, 7); ++j)
            if ((((i - r0) - (j - c0)) % k + k) % k == d) b(i, j) = 1;
        if (b.sum() > 0) basis.push_back(b);
      }
  Eigen::MatrixXd A(35, static_cast<index_t>(basis.size()));
  for (std::size_t j = 0; j < basis.size(); ++j)
    A.col(static_cast<index_t>(j)) = Eigen::Map<const Eigen::VectorXd>(basis[j].data(), 35);
  const Eigen::VectorXd coef = A.colPivHouseholderQr().solve(Eigen::Map<const Eigen::VectorXd>(w.data(), 35));
  const Eigen::VectorXd fit = A * coef;
  CHECK((Eigen::Map<const Eigen::VectorXd>(z.data(), 35) - fit).norm() < 1e-12);
  check_idempotent(admm::block_circulant{.block_size = k}, w);
  // A full block is circulant: W(i, j) = v[(i - j) mod k].
  for (index_t i = 0; i < 3; ++i)
    for (index_t j = 0; j < 3; ++j) CHECK(z(i, j) == doctest::Approx(z((i - j + 3) % 3, 0)));
}

TEST_CASE("uniform quantization matches exhaustive search over codes and scales") {
  frugal::rng gen(6);
  for (bool zero_level : {true, false})
    for (int bits : {2, 3}) {
      CAPTURE(zero_level);
      CAPTURE(bits);
      // Mid-tread: α·{−m..m}; mid-rise: α·{±1/2, ±3/2, …}, 2^bits levels, none zero.
      std::vector<double> unit;
      if (zero_level) {
        const int m = (1 << (bits - 1)) - 1;
        for (int l = -m; l <= m; ++l) unit.push_back(l);
      } else {
        const int half = 1 << (bits - 1);
        for (int l = -half; l < half; ++l) unit.push_back(l + 0.5);
      }
      for (int trial = 0; trial < 15; ++trial) {
        const M w = random_matrix(gen, 1, 4);
        const admm::uniform_quantization p{.bits = bits, .zero_level = zero_level};
        const M z = p.project(w);
        const std::vector<double> x(w.data(), w.data() + 4);
        CHECK(dist2(w, z) == doctest::Approx(brute_force_scaled(x, unit)).epsilon(1e-9));
        const auto q = p.quantize(w);
        CHECK(q.bits == bits);
        CHECK(q.levels.size() == unit.size());
        if (!zero_level)
          for (index_t i = 0; i < 4; ++i) CHECK(z(0, i) != 0.0);  // no kept value is rounded away
        check_idempotent(p, w);
      }
    }
  CHECK(admm::uniform_quantization{.bits = 3, .zero_level = false}.describe() == "3-bit uniform mid-rise");
  check_idempotent(admm::uniform_quantization{.bits = 3, .zero_level = false}, random_matrix(gen, 30, 20));
  // Idempotent on large inputs too (grid starts).
  const M big = random_matrix(gen, 30, 20);
  check_idempotent(admm::uniform_quantization{.bits = 4}, big);
  CHECK_THROWS_AS(admm::uniform_quantization{.bits = 1}.project(big), frugal::invalid_argument);
}

TEST_CASE("ternary and binary quantization are exact") {
  frugal::rng gen(7);
  for (int trial = 0; trial < 15; ++trial) {
    const M w = random_matrix(gen, 1, 5);
    const std::vector<double> x(w.data(), w.data() + 5);
    CHECK(dist2(w, admm::ternary_quantization{}.project(w)) ==
          doctest::Approx(brute_force_scaled(x, {-1, 0, 1})).epsilon(1e-12));
    CHECK(dist2(w, admm::binary_quantization{}.project(w)) ==
          doctest::Approx(brute_force_scaled(x, {-1, 1})).epsilon(1e-12));
    check_idempotent(admm::ternary_quantization{}, w);
    check_idempotent(admm::binary_quantization{}, w);
    CHECK(admm::ternary_quantization{}.quantize(w).bits == 2);
    CHECK(admm::binary_quantization{}.quantize(w).bits == 1);
  }
}

TEST_CASE("power-of-two quantization matches exhaustive search over exponents and codes") {
  frugal::rng gen(8);
  const int bits = 3, m = 3;
  for (int trial = 0; trial < 15; ++trial) {
    M w = random_matrix(gen, 1, 4);
    w *= std::exp(gen.uniform(-3, 3));
    const admm::power_of_two_quantization p{.bits = bits};
    const M z = p.project(w);
    double best = std::numeric_limits<double>::infinity();
    for (int e = -40; e <= 40; ++e) {
      const auto lv = admm::power_of_two_quantization::levels_for(e, m);
      for_each_code(4, static_cast<index_t>(lv.size()), [&](const std::vector<index_t>& c) {
        double err = 0;
        for (index_t i = 0; i < 4; ++i) {
          const double d = w(0, i) - lv[static_cast<std::size_t>(c[static_cast<std::size_t>(i)])];
          err += d * d;
        }
        best = std::min(best, err);
      });
    }
    CHECK(dist2(w, z) == doctest::Approx(best).epsilon(1e-12));
    for (index_t i = 0; i < 4; ++i) {
      const double a = std::abs(z(0, i));
      CHECK((a == 0 || std::exp2(std::round(std::log2(a))) == a));
    }
    check_idempotent(p, w);
  }
}

TEST_CASE("prune-then-quantize keeps pruned entries at zero and quantizes only the kept ones") {
  frugal::rng gen(9);
  const M w = random_matrix(gen, 8, 8);
  const admm::prune_then_quantize<admm::irregular_sparsity, admm::uniform_quantization> p{{.keep_fraction = 0.25},
                                                                                          {.bits = 3}};
  const M z = p.project(w);
  const M mask = p.support(w);
  CHECK(mask.sum() == 16);
  for (index_t i = 0; i < w.size(); ++i)
    if (mask.data()[i] == 0) CHECK(z.data()[i] == 0);
  const auto q = p.quantize(w);
  // The scale is fitted to the kept entries only: refitting on the kept values gives the same levels.
  std::vector<double> kept;
  for (index_t i = 0; i < w.size(); ++i)
    if (mask.data()[i] != 0) kept.push_back(w.data()[i]);
  M kept_row = Eigen::Map<const M>(kept.data(), 1, static_cast<index_t>(kept.size()));
  const auto q2 = admm::uniform_quantization{.bits = 3}.quantize(kept_row);
  CHECK(q.levels == q2.levels);
  check_idempotent(p, w);
  CHECK(p.describe() == "irregular, keep 0.25 then 3-bit uniform");
}
