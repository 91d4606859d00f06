#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/embedding.hpp>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <tuple>
#include <vector>

#include "test_support.hpp"

using namespace frugal;
using namespace frugal::embedding;

namespace {

/// Random bags over `rows` ids: some empty, repeated ids, optional weights.
struct random_bags {
  std::vector<index_t> offsets{0};
  std::vector<std::uint32_t> indices;
  std::vector<float> weights;
  bag_batch view(bool weighted) const {
    return bag_batch{.offsets = offsets,
                     .indices = indices,
                     .weights = weighted ? std::span<const float>(weights) : std::span<const float>()};
  }
};

random_bags make_bags(rng& gen, index_t batch, index_t rows, index_t max_pool) {
  random_bags b;
  for (index_t i = 0; i < batch; ++i) {
    const auto len = static_cast<index_t>(gen.uniform_int(static_cast<std::uint64_t>(max_pool + 1)));  // 0 allowed
    for (index_t k = 0; k < len; ++k) {
      // A small hot set so ids repeat within and across bags.
      const bool hot = gen.uniform() < 0.4;
      b.indices.push_back(static_cast<std::uint32_t>(gen.uniform_int(hot ? 3 : static_cast<std::uint64_t>(rows))));
      b.weights.push_back(static_cast<float>(gen.uniform(-1.0, 2.0)));
    }
    b.offsets.push_back(static_cast<index_t>(b.indices.size()));
  }
  return b;
}

/// Plain reference tables: a map from id to the `dim` values it reads as, and row-wise Adagrad
/// state; the update rule written out from its definition.
struct reference_table {
  index_t dim = 0;
  std::map<std::uint32_t, std::vector<double>> rows;  // stored (live) dims only
  std::map<std::uint32_t, double> acc;
  std::map<std::uint32_t, std::vector<double>> scores;  // per live chunk (FIITED: Σ summed-gradient norms)
  std::map<std::uint32_t, double> candidates;           // score of a partial row's next chunk
  index_t chunk = 0;                                    // chunk width; 0 = no scores kept

  std::vector<double> pooled(const bag_batch& bags, pooling mode, index_t b) const {
    std::vector<double> y(static_cast<std::size_t>(dim), 0.0);
    const index_t begin = bags.offsets[static_cast<std::size_t>(b)],
                  end = bags.offsets[static_cast<std::size_t>(b) + 1];
    for (index_t i = begin; i < end; ++i) {
      const auto it = rows.find(bags.indices[static_cast<std::size_t>(i)]);
      if (it == rows.end()) continue;
      const double w = bags.weights.empty() ? 1.0 : bags.weights[static_cast<std::size_t>(i)];
      for (std::size_t j = 0; j < it->second.size(); ++j) y[j] += w * it->second[j];
    }
    if (mode == pooling::mean && end > begin)
      for (auto& v : y) v /= static_cast<double>(end - begin);
    return y;
  }

  void update(const bag_batch& bags, pooling mode, const std::vector<float>& grad_out, const sparse_optimizer& opt) {
    std::map<std::uint32_t, std::vector<double>> grads;
    for (index_t b = 0; b < bags.size(); ++b) {
      const index_t begin = bags.offsets[static_cast<std::size_t>(b)],
                    end = bags.offsets[static_cast<std::size_t>(b) + 1];
      for (index_t i = begin; i < end; ++i) {
        auto& g = grads[bags.indices[static_cast<std::size_t>(i)]];
        g.resize(static_cast<std::size_t>(dim), 0.0);
        double s = bags.weights.empty() ? 1.0 : bags.weights[static_cast<std::size_t>(i)];
        if (mode == pooling::mean) s /= static_cast<double>(end - begin);
        for (index_t j = 0; j < dim; ++j)
          g[static_cast<std::size_t>(j)] += s * grad_out[static_cast<std::size_t>(b * dim + j)];
      }
    }
    for (auto& [id, g] : grads) {
      auto it = rows.find(id);
      if (it == rows.end()) continue;
      auto& r = it->second;
      if (r.empty()) continue;
      double step = opt.learning_rate;
      if (opt.kind == optimizer_kind::rowwise_adagrad) {
        double sum = 0;
        for (std::size_t j = 0; j < r.size(); ++j) sum += g[j] * g[j];
        acc[id] += sum / static_cast<double>(r.size());
        step = opt.learning_rate / (std::sqrt(acc[id]) + opt.epsilon);
      }
      for (std::size_t j = 0; j < r.size(); ++j) r[j] -= step * g[j];
      if (chunk == 0) continue;
      auto norm = [&](std::size_t c) {
        double sum = 0;
        for (std::size_t j = c * static_cast<std::size_t>(chunk); j < (c + 1) * static_cast<std::size_t>(chunk); ++j)
          sum += g[j] * g[j];
        return std::sqrt(sum);
      };
      const std::size_t live = r.size() / static_cast<std::size_t>(chunk);
      auto& sc = scores[id];
      sc.resize(live, 0.0);
      for (std::size_t c = 0; c < live; ++c) sc[c] += norm(c);
      if (r.size() < static_cast<std::size_t>(dim)) candidates[id] += norm(live);
    }
  }
};

template <class Table>
void check_forward(const Table& table, const reference_table& ref, const bag_batch& bags, pooling mode) {
  std::vector<float> out(static_cast<std::size_t>(bags.size() * table.dim()), -7.0f);
  table.forward(bags, out);
  for (index_t b = 0; b < bags.size(); ++b) {
    const auto y = ref.pooled(bags, mode, b);
    for (index_t j = 0; j < table.dim(); ++j)
      REQUIRE(out[static_cast<std::size_t>(b * table.dim() + j)] ==
              doctest::Approx(y[static_cast<std::size_t>(j)]).epsilon(1e-5));
  }
}

std::vector<float> random_grad(rng& gen, std::size_t n) {
  std::vector<float> g(n);
  for (auto& v : g) v = static_cast<float>(gen.normal());
  return g;
}

}  // namespace

TEST_CASE("bag validation names the problem") {
  full_table<> t(10, 4);
  std::vector<float> out(8);
  const std::vector<index_t> bad_start{1, 2, 3};
  const std::vector<std::uint32_t> idx{1, 2, 3};
  CHECK_THROWS_WITH_AS(t.forward(bag_batch{.offsets = bad_start, .indices = idx}, out), doctest::Contains("offsets[0]"),
                       invalid_argument);
  const std::vector<index_t> decreasing{0, 2, 1, 3};
  std::vector<float> out3(12);
  CHECK_THROWS_WITH_AS(t.forward(bag_batch{.offsets = decreasing, .indices = idx}, out3), doctest::Contains("decrease"),
                       invalid_argument);
  const std::vector<index_t> ok{0, 1, 3};
  const std::vector<std::uint32_t> out_of_range{1, 2, 10};
  CHECK_THROWS_WITH_AS(t.forward(bag_batch{.offsets = ok, .indices = out_of_range}, out),
                       doctest::Contains("table has 10 rows"), invalid_argument);
  const std::vector<float> weights{1, 2};
  CHECK_THROWS_WITH_AS(t.forward(bag_batch{.offsets = ok, .indices = idx, .weights = weights}, out),
                       doctest::Contains("per-sample weights"), invalid_argument);
  std::vector<float> small(3);
  CHECK_THROWS_AS(t.forward(bag_batch{.offsets = ok, .indices = idx}, small), shape_error);
  CHECK_THROWS_AS(full_table<>(0, 4), invalid_argument);
  CHECK_THROWS_AS(adaptive_table<>(10, 12, adaptive_table_options{.chunk_width = 5}), invalid_argument);
  full_table<> mean_table(10, 4, dense_table_options{.mode = pooling::mean});
  CHECK_THROWS_WITH_AS(
      mean_table.forward(bag_batch{.offsets = ok, .indices = idx, .weights = std::vector<float>{1, 2, 3}}, out),
      doctest::Contains("sum pooling"), invalid_argument);
}

TEST_CASE("dense tables: lookup and fused update match the plain reference") {
  rng gen(11);
  for (const auto kind : {optimizer_kind::sgd, optimizer_kind::rowwise_adagrad})
    for (const auto mode : {pooling::sum, pooling::mean})
      for (const bool weighted : {false, true})
        for (const index_t stored : {index_t{6}, index_t{4}}) {
          if (weighted && mode == pooling::mean) continue;
          CAPTURE(int(kind));
          CAPTURE(int(mode));
          CAPTURE(weighted);
          CAPTURE(stored);
          const index_t rows = 50, dim = 6;
          const dense_table_options o{
              .stored_dim = stored, .mode = mode, .optimizer = {.kind = kind, .learning_rate = 0.1f}, .seed = 5};
          full_table<> full(rows, dim, o);
          hashed_table<> hashed(rows, 17, dim, o);
          reference_table ref_full, ref_hashed;
          ref_full.dim = ref_hashed.dim = dim;
          for (std::uint32_t id = 0; id < rows; ++id) {
            const auto r = full.row(id);
            ref_full.rows[id].assign(r.begin(), r.end());
          }
          for (int step = 0; step < 4; ++step) {
            const auto bags = make_bags(gen, 9, rows, 6);
            const auto view = bags.view(weighted);
            check_forward(full, ref_full, view, mode);
            // The hashed reference works on buckets: map the ids first.
            random_bags hb = bags;
            for (auto& i : hb.indices) i = hashed.physical_row(i);
            ref_hashed.rows.clear();
            for (std::uint32_t id = 0; id < rows; ++id) {
              const auto r = hashed.row(id);
              ref_hashed.rows[hashed.physical_row(id)].assign(r.begin(), r.end());
            }
            {
              std::vector<float> out(static_cast<std::size_t>(view.size() * dim));
              hashed.forward(view, out);
              for (index_t b = 0; b < view.size(); ++b) {
                const auto y = ref_hashed.pooled(hb.view(weighted), mode, b);
                for (index_t j = 0; j < dim; ++j)
                  REQUIRE(out[static_cast<std::size_t>(b * dim + j)] ==
                          doctest::Approx(y[static_cast<std::size_t>(j)]).epsilon(1e-5));
              }
            }
            const auto g = random_grad(gen, static_cast<std::size_t>(view.size() * dim));
            full.backward(view, g);
            ref_full.update(view, mode, g, o.optimizer);
            hashed.backward(view, g);
            ref_hashed.update(hb.view(weighted), mode, g, o.optimizer);
            for (std::uint32_t id = 0; id < rows; ++id) {
              const auto r = full.row(id);
              for (std::size_t j = 0; j < r.size(); ++j)
                REQUIRE(r[j] == doctest::Approx(ref_full.rows[id][j]).epsilon(1e-5));
              const auto h = hashed.row(id);
              for (std::size_t j = 0; j < h.size(); ++j)
                REQUIRE(h[j] == doctest::Approx(ref_hashed.rows[hashed.physical_row(id)][j]).epsilon(1e-5));
            }
          }
          // Stored dims beyond `stored` read as zero.
          const std::vector<index_t> one{0, 1};
          const std::vector<std::uint32_t> id{3};
          std::vector<float> out(static_cast<std::size_t>(dim));
          full.forward(bag_batch{.offsets = one, .indices = id}, out);
          for (index_t j = stored; j < dim; ++j) CHECK(out[static_cast<std::size_t>(j)] == 0.0f);
          CHECK(full.bytes_allocated() == full_table<>::bytes_for(rows, stored, kind));
        }
}

TEST_CASE("lane sums of SIMD batches against a plain loop") {
  using batch = xsimd::batch<float>;
  constexpr std::size_t lanes = batch::size;
  CAPTURE(lanes);
  rng gen(12);
  for (int trial = 0; trial < 20; ++trial) {
    alignas(64) float values[lanes][lanes];
    batch v[lanes];
    for (std::size_t c = 0; c < lanes; ++c) {
      for (auto& x : values[c]) x = static_cast<float>(gen.normal());
      v[c] = batch::load_aligned(values[c]);
    }
    alignas(64) float sums[lanes];
    embedding::detail::lane_sums(v).store_aligned(sums);
    for (std::size_t c = 0; c < lanes; ++c) {
      double sum = 0;
      for (const float x : values[c]) sum += x;
      REQUIRE(sums[c] == doctest::Approx(sum).epsilon(1e-5));
    }
  }
}

TEST_CASE("chunk gradient norms against a plain loop") {
  rng gen(8);
  for (const std::size_t w : {1, 3, 4, 8, 16, 32, 64})
    for (const std::size_t chunks : {0, 1, 3, 5, 8, 15, 16, 17, 31, 40, 64}) {
      CAPTURE(w);
      CAPTURE(chunks);
      std::vector<float> x(chunks * w);
      for (auto& v : x) v = static_cast<float>(gen.normal());
      std::vector<float> out(chunks + 1, -1.0f);
      embedding::detail::chunk_norms(x.data(), chunks, w, out.data());
      for (std::size_t c = 0; c < chunks; ++c) {
        double sum = 0;
        for (std::size_t t = 0; t < w; ++t) sum += static_cast<double>(x[c * w + t]) * x[c * w + t];
        REQUIRE(out[c] == doctest::Approx(std::sqrt(sum)).epsilon(1e-6));
      }
      CHECK(out[chunks] == -1.0f);  // nothing written past the last chunk
    }
}

TEST_CASE("adaptive table with every chunk equals the full table") {
  rng gen(3);
  const index_t rows = 40, dim = 8;
  for (const auto layout : {index_layout::hashed, index_layout::direct})
    for (const auto kind : {optimizer_kind::sgd, optimizer_kind::rowwise_adagrad}) {
      CAPTURE(int(layout));
      const sparse_optimizer opt{.kind = kind, .learning_rate = 0.2f};
      full_table<> full(rows, dim, dense_table_options{.optimizer = opt, .seed = 9});
      adaptive_table<> adaptive(rows, dim,
                                adaptive_table_options{.chunk_width = 2, .optimizer = opt, .seed = 9, .index = layout});
      adaptive.materialize_all();
      CHECK(adaptive.direct_index() == (layout == index_layout::direct));
      for (int step = 0; step < 5; ++step) {
        const auto bags = make_bags(gen, 12, rows, 5);
        std::vector<float> a(static_cast<std::size_t>(12 * dim)), b(a.size());
        full.forward(bags.view(true), a);
        adaptive.forward(bags.view(true), b);
        for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == doctest::Approx(b[i]).epsilon(1e-6));
        const auto g = random_grad(gen, a.size());
        full.backward(bags.view(true), g);
        adaptive.backward(bags.view(true), g);
      }
      for (std::uint32_t id = 0; id < rows; ++id) {
        const auto r = full.row(id);
        const auto v = adaptive.row_values(id);
        for (std::size_t j = 0; j < r.size(); ++j) REQUIRE(v[j] == doctest::Approx(r[j]).epsilon(1e-5));
      }
      adaptive.check_invariants();
    }
}

TEST_CASE("adaptive table: pruned rows, lookup and update against the reference") {
  rng gen(21);
  const index_t rows = 60;
  // Run-time width (12) and every compile-time width of the lookup kernel, with chunks narrower
  // than a SIMD batch, so rows end inside a batch.
  const std::pair<index_t, index_t> shapes[] = {{12, 4}, {8, 2}, {16, 4}, {32, 8}, {64, 4}, {128, 32}};
  for (const auto layout : {index_layout::hashed, index_layout::direct})
    for (const auto& [dim, w] : shapes)
      for (const auto mode : {pooling::sum, pooling::mean}) {
        CAPTURE(int(layout));
        CAPTURE(dim);
        CAPTURE(w);
        const sparse_optimizer opt{.kind = optimizer_kind::rowwise_adagrad, .learning_rate = 0.1f};
        adaptive_table<> table(
            rows, dim, adaptive_table_options{.chunk_width = w, .mode = mode, .optimizer = opt, .index = layout});
        reference_table ref;
        ref.dim = dim;
        ref.chunk = w;
        // Random row dimensions, some rows absent.
        for (std::uint32_t id = 0; id < rows; ++id) {
          const auto k = static_cast<index_t>(gen.uniform_int(static_cast<std::uint64_t>(dim / w + 1)));
          table.resize_row(id, k);
          if (k > 0) {
            const auto v = table.row_values(id);
            ref.rows[id].assign(v.begin(), v.begin() + k * w);
          }
        }
        table.set_new_row_chunks(1);
        for (int step = 0; step < 6; ++step) {
          // Short bags (a direct index gathers the blocks first) and long ones (one pass).
          const auto bags = make_bags(gen, 10, rows, step % 2 == 0 ? 2 : 14);
          const auto view = bags.view(mode == pooling::sum);
          check_forward(table, ref, view, mode);
          // Rows seen for the first time materialise with one chunk of initial values, then update.
          for (const auto id : bags.indices)
            if (!ref.rows.contains(id)) {
              auto& r = ref.rows[id];
              for (index_t j = 0; j < w; ++j)
                r.push_back(embedding::detail::initial_value(1, id, static_cast<std::uint64_t>(j), 0.05f));
            }
          const auto g = random_grad(gen, static_cast<std::size_t>(view.size() * dim));
          table.backward(view, g);
          ref.update(view, mode, g, opt);
          for (const auto& [id, r] : ref.rows) {
            const auto v = table.row_values(id);
            REQUIRE(table.row_chunks(id) * w == static_cast<index_t>(r.size()));
            for (std::size_t j = 0; j < r.size(); ++j) REQUIRE(v[j] == doctest::Approx(r[j]).epsilon(1e-5));
            for (std::size_t j = r.size(); j < v.size(); ++j) REQUIRE(v[j] == 0.0f);
            // Chunk scores: the sum of each step's chunk gradient norms (a row seen for the first
            // time starts from zero; rows never updated have none).
            const auto sc = table.row_scores(id);
            const auto& expect = ref.scores[id];
            REQUIRE(sc.size() == r.size() / static_cast<std::size_t>(w));
            for (std::size_t c = 0; c < sc.size(); ++c)
              REQUIRE(sc[c] == doctest::Approx(c < expect.size() ? expect[c] : 0.0).epsilon(1e-5));
          }
          table.for_each_row([&](std::uint32_t, std::uint32_t id, index_t k, std::span<const float>, float candidate) {
            if (k < dim / w) REQUIRE(candidate == doctest::Approx(ref.candidates[id]).epsilon(1e-5));
          });
          table.check_invariants();
        }
      }
}

TEST_CASE("VHPI invariants hold under long randomized grow, shrink, prune and compact sequences") {
  for (const auto layout : {index_layout::automatic, index_layout::hashed, index_layout::direct}) {
    CAPTURE(int(layout));
    rng gen(77);
    const index_t rows = 500, dim = 16, w = 4;
    adaptive_table<> table(rows, dim,
                           adaptive_table_options{.chunk_width = w, .compact_threshold = 0.3, .index = layout});
    std::map<std::uint32_t, std::vector<float>> expect;  // what each present id reads as
    auto expect_resize = [&](std::uint32_t id, index_t k) {
      auto& e = expect[id];
      if (e.empty()) e.assign(static_cast<std::size_t>(dim), 0.0f);
      const index_t old = table.row_chunks(id);
      for (index_t j = k * w; j < dim; ++j) e[static_cast<std::size_t>(j)] = 0.0f;
      // regrown chunks start at zero
      for (index_t j = old * w; j < k * w; ++j) e[static_cast<std::size_t>(j)] = 0.0f;
      if (k == 0) expect.erase(id);
    };
    for (int op = 0; op < 4000; ++op) {
      const double u = gen.uniform();
      if (u < 0.85) {
        const auto id = static_cast<std::uint32_t>(gen.uniform_int(rows));
        const auto k = static_cast<index_t>(gen.uniform_int(5));
        expect_resize(id, k);
        table.resize_row(id, k);
      } else if (u < 0.95) {
        // A controller-style round: random targets for every entry.
        std::vector<std::uint8_t> target(table.slot_capacity(), 0);
        table.for_each_row([&](std::uint32_t slot, std::uint32_t id, index_t, std::span<const float>, float) {
          const auto k = static_cast<index_t>(gen.uniform_int(5));
          target[slot] = static_cast<std::uint8_t>(k);
          expect_resize(id, k);
        });
        const bool force = gen.uniform() < 0.5;
        table.apply_targets(target, 0.9f, force);
        if (force) CHECK(table.bytes_allocated() == table.bytes_for(table.entries(), table.live_chunks()));
      } else {
        table.compact();
        CHECK(table.free_chunks() == 0);
        CHECK(table.pool_capacity() == table.live_chunks());
      }
      table.check_invariants();
      if (op % 97 == 0)
        for (const auto& [id, e] : expect) REQUIRE(table.row_values(id) == e);
    }
    for (std::uint32_t id = 0; id < rows; ++id)
      CHECK(table.row_chunks(id) == (expect.contains(id) ? table.row_chunks(id) : 0));
    std::size_t live = 0;
    for (const auto& [id, e] : expect) live += static_cast<std::size_t>(table.row_chunks(id));
    CHECK(live == table.live_chunks());
    // bytes_allocated is the sum of its parts, page-rounded.
    const std::size_t index_bytes =
        table.direct_index() ? static_cast<std::size_t>(3 * rows + (rows + 31) / 32) * 4 : table.slot_capacity() * 16;
    CHECK(table.bytes_allocated() ==
          embedding::detail::allocation_bytes(index_bytes) +
              embedding::detail::allocation_bytes(table.pool_capacity() * static_cast<std::size_t>(w) * 4) +
              embedding::detail::allocation_bytes(table.pool_capacity() * 4));
    if (layout != index_layout::automatic) CHECK(table.direct_index() == (layout == index_layout::direct));
  }
}

TEST_CASE("automatic index layout: hashed while few ids hold a slot, direct once that is smaller, and back") {
  rng gen(5);
  const index_t rows = 20000, dim = 8, w = 4;
  adaptive_table<> table(rows, dim, adaptive_table_options{.chunk_width = w, .optimizer = {.learning_rate = 0.1f}});
  CHECK_FALSE(table.direct_index());
  const std::size_t direct_bytes =
      embedding::detail::allocation_bytes(static_cast<std::size_t>(3 * rows + (rows + 31) / 32) * 4);
  std::map<std::uint32_t, std::vector<float>> expect;
  auto check_all = [&] {
    table.check_invariants();
    for (const auto& [id, e] : expect) REQUIRE(table.row_values(id) == e);
    // A lookup of every present id and of absent ones reads what row_values says.
    std::vector<index_t> offsets{0};
    std::vector<std::uint32_t> ids;
    for (std::uint32_t id = 0; id < static_cast<std::uint32_t>(rows); id += 7) {
      ids.push_back(id);
      offsets.push_back(static_cast<index_t>(ids.size()));
    }
    std::vector<float> out(ids.size() * static_cast<std::size_t>(dim));
    table.forward(bag_batch{.offsets = offsets, .indices = ids}, out);
    for (std::size_t b = 0; b < ids.size(); ++b) {
      const auto v = table.row_values(ids[b]);
      for (std::size_t j = 0; j < v.size(); ++j) REQUIRE(out[b * static_cast<std::size_t>(dim) + j] == v[j]);
    }
  };
  // Materialise rows through backward passes until the index turns direct.
  std::uint32_t next = 0;
  while (!table.direct_index() && next < static_cast<std::uint32_t>(rows)) {
    std::vector<index_t> offsets{0};
    std::vector<std::uint32_t> ids;
    for (int b = 0; b < 256 && next < static_cast<std::uint32_t>(rows); ++b) {
      ids.push_back(next++);
      offsets.push_back(static_cast<index_t>(ids.size()));
    }
    std::vector<float> grad(ids.size() * static_cast<std::size_t>(dim));
    for (auto& g : grad) g = static_cast<float>(gen.normal());
    table.backward(bag_batch{.offsets = offsets, .indices = ids}, grad);
  }
  REQUIRE(table.direct_index());
  CHECK(table.slot_capacity() == static_cast<std::size_t>(rows));
  // It switched when the hashed index would have grown past the direct one's bytes.
  CHECK(table.entries() > static_cast<std::size_t>(0.7 * static_cast<double>(direct_bytes / 16 / 2)));
  for (std::uint32_t id = 0; id < next; ++id) expect[id] = table.row_values(id);
  check_all();
  // Prune to a few rows: the index goes back to hashed, values unchanged.
  std::vector<std::uint8_t> target(table.slot_capacity(), 0);
  table.for_each_row([&](std::uint32_t slot, std::uint32_t id, index_t, std::span<const float>, float) {
    const auto k = id % 50 == 0 ? static_cast<std::uint8_t>(1 + id % 2) : std::uint8_t{0};
    target[slot] = k;
    if (k == 0) {
      expect.erase(id);
    } else {
      auto& e = expect[id];
      for (index_t j = k * w; j < dim; ++j) e[static_cast<std::size_t>(j)] = 0.0f;
    }
  });
  table.apply_targets(target, 1.0f, true);
  CHECK_FALSE(table.direct_index());
  CHECK(table.bytes_allocated() == table.bytes_for(table.entries(), table.live_chunks()));
  CHECK(table.bytes_allocated() < direct_bytes);
  check_all();
  // A checkpoint keeps the layout; a direct one round-trips too.
  const auto dir = test::scratch_dir("embedding-layout");
  for (int round = 0; round < 2; ++round) {
    checkpoint_writer out;
    table.save(out, "t");
    out.write(dir / "t.ck");
    adaptive_table<> back(rows, dim, adaptive_table_options{.chunk_width = w});
    back.load(checkpoint_reader(dir / "t.ck"), "t");
    CHECK(back.direct_index() == table.direct_index());
    CHECK(back.entries() == table.entries());
    for (const auto& [id, e] : expect) REQUIRE(back.row_values(id) == e);
    back.check_invariants();
    table.materialize_all();  // second round: direct
    REQUIRE(table.direct_index());
    expect.clear();
    for (std::uint32_t id = 0; id < static_cast<std::uint32_t>(rows); ++id) expect[id] = table.row_values(id);
  }
}

TEST_CASE("check_invariants detects corruption") {
  adaptive_table<> table(20, 8, adaptive_table_options{.chunk_width = 4});
  for (std::uint32_t id = 0; id < 5; ++id) table.resize_row(id, 2);
  table.resize_row(0, 1);  // one chunk on the free list
  table.check_invariants();
  const auto dir = test::scratch_dir("embedding-invariants");
  checkpoint_writer out;
  table.save(out, "t");
  out.write(dir / "good.ck");
  // Writes good.ck again as `file`, with `edit(keys, blocks)` applied to the slot records.
  auto write_edited = [&](const char* file, auto edit) {
    checkpoint_reader in(dir / "good.ck");
    auto keys = in.get<std::uint32_t>("t/slot_keys");
    auto blocks = in.get<std::uint32_t>("t/slot_blocks");
    edit(keys, blocks);
    checkpoint_writer bad;
    for (const auto& name : in.names()) {
      if (name == "t/slot_keys")
        bad.put<std::uint32_t>(name, keys);
      else if (name == "t/slot_blocks")
        bad.put<std::uint32_t>(name, blocks);
      else if (name == "t/kind" || name == "t/importance" || name == "t/index")
        bad.put_string(name, in.get_string(name));
      else if (name == "t/shape")
        bad.put<std::int64_t>(name, in.get<std::int64_t>(name));
      else if (name == "t/counters" || name == "t/admission")
        bad.put<std::uint64_t>(name, in.get<std::uint64_t>(name));
      else if (name == "t/free_heads")
        bad.put<std::uint32_t>(name, in.get<std::uint32_t>(name));
      else
        bad.put<float>(name, in.get<float>(name));
    }
    bad.write(dir / file);
  };
  // Point row 1's block at row 2's chunks: a chunk owned twice.
  write_edited("bad.ck", [](std::vector<std::uint32_t>& keys, std::vector<std::uint32_t>& blocks) {
    std::size_t slot1 = 0;
    std::uint32_t block2 = 0;
    for (std::size_t s = 0; s < keys.size(); ++s) {
      if (keys[s] == 2) slot1 = s;
      if (keys[s] == 3) block2 = blocks[s];
    }
    blocks[slot1] = block2;
  });
  adaptive_table<> loaded(20, 8, adaptive_table_options{.chunk_width = 4});
  CHECK_THROWS_WITH_AS(loaded.load(checkpoint_reader(dir / "bad.ck"), "t"), doctest::Contains("inconsistent"),
                       format_error);
  CHECK(loaded.entries() == 0);  // unchanged by the failed load
  // A direct index (20 ids) whose slot 1 claims id 3.
  REQUIRE(table.direct_index());
  write_edited("bad_direct.ck", [](std::vector<std::uint32_t>& keys, std::vector<std::uint32_t>&) { keys[1] = 4; });
  CHECK_THROWS_WITH_AS(loaded.load(checkpoint_reader(dir / "bad_direct.ck"), "t"), doctest::Contains("holds id 3"),
                       format_error);
  loaded.load(checkpoint_reader(dir / "good.ck"), "t");
  for (std::uint32_t id = 0; id < 20; ++id) CHECK(loaded.row_values(id) == table.row_values(id));
  CHECK(loaded.bytes_allocated() == table.bytes_allocated());
  adaptive_table<> other_shape(20, 12, adaptive_table_options{.chunk_width = 4});
  CHECK_THROWS_AS(other_shape.load(checkpoint_reader(dir / "good.ck"), "t"), format_error);
  adaptive_table<frequency_importance> other_policy(20, 8, adaptive_table_options{.chunk_width = 4});
  CHECK_THROWS_WITH_AS(other_policy.load(checkpoint_reader(dir / "good.ck"), "t"), doctest::Contains("importance"),
                       format_error);
}

TEST_CASE("importance scores follow the policy") {
  const std::vector<index_t> offsets{0, 3};
  const std::vector<std::uint32_t> idx{2, 2, 5};
  std::vector<float> g(8, 0.0f);
  g[0] = 3.0f;  // chunk 0 of every row in the bag gets gradient (3, 0, 0, 0) per occurrence
  g[4] = 4.0f;  // chunk 1
  adaptive_table<fiited_importance> a(10, 8, adaptive_table_options{.chunk_width = 4, .new_row_chunks = 1});
  adaptive_table<frequency_importance> f(10, 8, adaptive_table_options{.chunk_width = 4, .new_row_chunks = 1});
  a.backward(bag_batch{.offsets = offsets, .indices = idx}, g);
  f.backward(bag_batch{.offsets = offsets, .indices = idx}, g);
  // id 2 occurs twice: summed gradient norm 6 = accesses (2) × per-access norm (3).
  CHECK(a.row_scores(2) == std::vector<float>{6.0f});
  CHECK(a.row_scores(5) == std::vector<float>{3.0f});
  CHECK(f.row_scores(2) == std::vector<float>{2.0f});
  CHECK(f.row_scores(5) == std::vector<float>{1.0f});
}

TEST_CASE("budget controller keeps the highest-scoring chunks within the byte budget") {
  rng gen(5);
  const index_t rows = 2000, dim = 16, w = 4;
  adaptive_table<> table(rows, dim, adaptive_table_options{.chunk_width = w});
  table.materialize_all();
  // Scores: a random importance per (row, chunk), decreasing along each row.
  std::vector<std::array<float, 4>> scores(rows);
  for (auto& s : scores) {
    float v = static_cast<float>(gen.uniform(0.0, 10.0));
    for (auto& x : s) x = v *= static_cast<float>(gen.uniform(0.3, 1.0));
  }
  // Feed them through backward: a one-hot bag per row with gradient = the score in one coordinate of each chunk.
  for (std::uint32_t id = 0; id < rows; ++id) {
    const std::vector<index_t> offsets{0, 1};
    const std::vector<std::uint32_t> idx{id};
    std::vector<float> g(static_cast<std::size_t>(dim), 0.0f);
    for (int c = 0; c < 4; ++c) g[static_cast<std::size_t>(c * w)] = scores[id][static_cast<std::size_t>(c)];
    table.backward(bag_batch{.offsets = offsets, .indices = idx}, g);
  }
  const std::size_t full_bytes = full_table<>::bytes_for(rows, dim, optimizer_kind::rowwise_adagrad);
  budget_controller<adaptive_table<>> controller({&table}, full_bytes,
                                                 budget_options{.target_fraction = 0.2, .warmup = 0, .ramp = 0});
  controller.round(0, 0.2);
  CHECK(controller.last_round().bytes_after <= controller.last_round().budget_bytes);
  CHECK(table.bytes_allocated() <= static_cast<std::size_t>(0.2 * static_cast<double>(full_bytes)));
  table.check_invariants();
  // Brute force: the kept chunks are exactly the top ones by score (scores are decreasing along rows).
  std::vector<float> all;
  for (const auto& s : scores) all.insert(all.end(), s.begin(), s.end());
  std::sort(all.begin(), all.end(), std::greater<>());
  const std::size_t kept = table.live_chunks();
  REQUIRE(kept > 0);
  REQUIRE(kept < all.size());
  const float cut = all[kept - 1];
  for (std::uint32_t id = 0; id < rows; ++id) {
    const index_t k = table.row_chunks(id);
    for (index_t c = 0; c < 4; ++c) {
      const float s = scores[id][static_cast<std::size_t>(c)];
      if (c < k)
        CHECK(s >= cut);
      else
        CHECK(s <= cut);
    }
  }
  // Row granularity keeps whole rows only.
  adaptive_table<> rows_table(rows, dim, adaptive_table_options{.chunk_width = w});
  rows_table.materialize_all();
  budget_controller<adaptive_table<>> row_controller(
      {&rows_table}, full_bytes,
      budget_options{.granularity = prune_granularity::row, .target_fraction = 0.2, .warmup = 0, .ramp = 0});
  row_controller.round(0, 0.2);
  for (std::uint32_t id = 0; id < rows; ++id) CHECK((rows_table.row_chunks(id) == 0 || rows_table.row_chunks(id) == 4));
  CHECK(rows_table.bytes_allocated() <= static_cast<std::size_t>(0.2 * static_cast<double>(full_bytes)));
  // Schedule: warm-up then a linear ramp.
  budget_controller<adaptive_table<>> scheduled({&table}, full_bytes,
                                                budget_options{.target_fraction = 0.1, .warmup = 100, .ramp = 200});
  CHECK(scheduled.fraction_at(50) == 1.0);
  CHECK(scheduled.fraction_at(200) == doctest::Approx(0.55));
  CHECK(scheduled.fraction_at(400) == doctest::Approx(0.1));
}

TEST_CASE("page_buffer: a resize keeps the leading elements and zeroes the new ones") {
  namespace ed = frugal::embedding::detail;
  ed::page_buffer<float> b(1000);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(i + 1);
  b.resize(5000);  // grows (remapped on Linux, copied elsewhere)
  for (std::size_t i = 0; i < b.size(); ++i) REQUIRE(b[i] == (i < 1000 ? static_cast<float>(i + 1) : 0.0f));
  b.resize(10);  // shrinks within the first page: elements 10.. stay in that page's memory
  b.resize(3000);
  for (std::size_t i = 0; i < b.size(); ++i) REQUIRE(b[i] == (i < 10 ? static_cast<float>(i + 1) : 0.0f));
  CHECK(b.bytes() == ed::allocation_bytes(3000 * sizeof(float)));
  const ed::page_buffer<float> copy = b;
  for (std::size_t i = 0; i < b.size(); ++i) REQUIRE(copy[i] == b[i]);
  b.resize(0);
  CHECK(b.bytes() == 0);
  b.resize(4);
  CHECK(b[3] == 0.0f);
}

TEST_CASE("pruning returns memory to the operating system") {
#if defined(__linux__)
  auto rss = [] {
    std::ifstream statm("/proc/self/statm");
    std::size_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  };
  const index_t rows = 250000, dim = 32;
  adaptive_table<> table(rows, dim, adaptive_table_options{.chunk_width = 8});
  table.materialize_all();
  table.compact();  // every page of the pool written: all of it resident
  const std::size_t before = rss();
  const std::size_t held = table.bytes_allocated();
  REQUIRE(held > 30u << 20);
  std::vector<std::uint8_t> target(table.slot_capacity(), 0);
  index_t kept = 0;
  table.for_each_row([&](std::uint32_t slot, std::uint32_t id, index_t, std::span<const float>, float) {
    if (id % 10 == 0) {
      target[slot] = 4;
      ++kept;
    }
  });
  table.apply_targets(target, 1.0f, true);
  const std::size_t after = rss();
  MESSAGE("RSS before ", before >> 20, " MiB, after ", after >> 20, " MiB; table ", held >> 20, " -> ",
          table.bytes_allocated() >> 20, " MiB");
  CHECK(table.bytes_allocated() < held / 5);
  // The resident set falls by at least 80 % of the bytes the table gave back.
  CHECK(before - after >= (held - table.bytes_allocated()) * 8 / 10);
#else
  MESSAGE("skipped: needs /proc/self/statm");
#endif
}

TEST_CASE("metrics: AUC against brute-force pair counting, log loss against its definition") {
  rng gen(8);
  for (int trial = 0; trial < 20; ++trial) {
    const std::size_t n = 50 + gen.uniform_int(100);
    std::vector<float> scores(n), labels(n);
    for (std::size_t i = 0; i < n; ++i) {
      scores[i] = static_cast<float>(gen.uniform_int(12));  // many ties
      labels[i] = gen.uniform() < 0.4 ? 1.0f : 0.0f;
    }
    labels[0] = 1;
    labels[1] = 0;
    double wins = 0, pairs = 0;
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (labels[i] == 1 && labels[j] == 0) {
          pairs += 1;
          wins += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
        }
    CHECK(roc_auc(scores, labels) == doctest::Approx(wins / pairs).epsilon(1e-12));
    double ll = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double p = 1 / (1 + std::exp(-static_cast<double>(scores[i]) / 4));
      ll -= labels[i] * std::log(p) + (1 - labels[i]) * std::log(1 - p);
      scores[i] /= 4;
    }
    CHECK(log_loss(scores, labels) == doctest::Approx(ll / static_cast<double>(n)).epsilon(1e-9));
  }
  const std::vector<float> one_class{1, 1}, s{0.1f, 0.2f};
  CHECK_THROWS_AS((void)roc_auc(s, one_class), invalid_argument);
}

TEST_CASE("synthetic click log: deterministic, in range, Zipf-distributed") {
  synthetic_options o;
  o.cardinalities = {10, 1000, 100000};
  o.seed = 4;
  const synthetic_clicks gen(o);
  const auto a = gen.generate(0, 20000);
  const auto b = gen.generate(0, 20000);
  a.validate();
  CHECK(a.sparse == b.sparse);
  CHECK(a.labels == b.labels);
  CHECK(a.dense == b.dense);
  const auto tail = gen.generate(15000, 5000);  // ranges are independent
  CHECK(std::equal(tail.labels.begin(), tail.labels.end(), a.labels.begin() + 15000));
  o.seed = 5;
  const auto c = synthetic_clicks(o).generate(0, 20000);
  CHECK(c.sparse != a.sparse);
  // The most frequent id of the big field takes about 1 / H(n, s) of the draws.
  std::map<std::uint32_t, int> counts;
  for (index_t i = 0; i < a.size(); ++i) ++counts[a.sparse[static_cast<std::size_t>(i) * 3 + 2]];
  int top = 0;
  for (const auto& [id, n] : counts) top = std::max(top, n);
  double h = 0;
  for (int r = 1; r <= 100000; ++r) h += std::pow(r, -1.05);
  CHECK(static_cast<double>(top) / 20000.0 == doctest::Approx(1.0 / h).epsilon(0.15));
  double positives = 0;
  for (float l : a.labels) positives += l;
  CHECK(positives / 20000.0 > 0.05);
  CHECK(positives / 20000.0 < 0.6);
  CHECK(default_cardinalities().size() == 26);
  CHECK(default_cardinalities().front() == 10);
  CHECK(default_cardinalities().back() == 1000000);
}

TEST_CASE_TEMPLATE("aggregate_gradients: both paths against a plain reference, rows in the documented order", Exec,
                   FRUGAL_TEST_SPACES) {
  rng gen(31);
  namespace ed = embedding::detail;
  // The reference: each id's contributions added in index order with the same float arithmetic,
  // and the rows ordered (partition, first occurrence) — one partition for the serial pass.
  auto reference = [](const bag_batch& view, pooling mode, const std::vector<float>& grad, index_t dim, int bits) {
    struct row {
      std::uint64_t partition;
      std::size_t first;
      std::uint32_t id;
      std::int32_t count;
      std::vector<float> g;
    };
    std::map<std::uint32_t, row> rows;
    for (index_t b = 0; b < view.size(); ++b)
      for (index_t i = view.offsets[static_cast<std::size_t>(b)]; i < view.offsets[static_cast<std::size_t>(b) + 1];
           ++i) {
        const std::uint32_t id = view.indices[static_cast<std::size_t>(i)];
        auto [it, fresh] = rows.try_emplace(id);
        row& r = it->second;
        if (fresh) {
          r = {bits > 0 ? ed::id_hash(id) >> (64 - bits) : 0, static_cast<std::size_t>(i), id, 0,
               std::vector<float>(static_cast<std::size_t>(dim), 0.0f)};
        }
        ++r.count;
        float scale = view.weights.empty() ? 1.0f : view.weights[static_cast<std::size_t>(i)];
        if (mode == pooling::mean)
          scale /= static_cast<float>(view.offsets[static_cast<std::size_t>(b) + 1] -
                                      view.offsets[static_cast<std::size_t>(b)]);
        for (index_t j = 0; j < dim; ++j)
          r.g[static_cast<std::size_t>(j)] += scale * grad[static_cast<std::size_t>(b * dim + j)];
      }
    std::vector<row> out;
    for (auto& [id, r] : rows) out.push_back(std::move(r));
    std::sort(out.begin(), out.end(), [](const row& a, const row& b) {
      return std::tie(a.partition, a.first) < std::tie(b.partition, b.first);
    });
    return out;
  };
  auto matches = [](const ed::row_gradients& got, const auto& want, index_t dim) {
    bool same = got.size() == want.size();
    for (std::size_t k = 0; same && k < want.size(); ++k)
      same = got.ids[k] == want[k].id && got.counts[k] == want[k].count &&
             std::memcmp(got.row(k), want[k].g.data(), static_cast<std::size_t>(dim) * sizeof(float)) == 0;
    return same;
  };
  for (const index_t pool : {4, 20, 40}) {
    // Below and above the threshold; ids repeat (a hot set) and bags may be empty.
    const auto bags = make_bags(gen, 4096 + 13, 50'000, pool);
    const bool partitioned = bags.indices.size() >= ed::parallel_aggregation_threshold;
    for (const bool weighted : {false, true})
      for (const pooling mode : {pooling::sum, pooling::mean}) {
        if (weighted && mode == pooling::mean) continue;
        const index_t dim = 24;
        const auto view = bags.view(weighted);
        const auto grad = random_grad(gen, static_cast<std::size_t>(view.size() * dim));
        int bits = 0;
        if (partitioned) {
          bits = 1;
          while (bits < 6 && (view.indices.size() >> (bits + 1)) >= (std::size_t{1} << 12)) ++bits;
        }
        ed::row_gradients got;
        ed::aggregate_gradients(Exec{}, view, mode, grad, dim, got);
        CHECK(matches(got, reference(view, mode, grad, dim, bits), dim));
        if (!partitioned) continue;
        // Other partition counts: the same rows and sums in their own order.
        for (int other_bits : {1, 3, 6}) {
          ed::row_gradients other;
          other.dim = dim;
          other.bag_of = got.bag_of;
          ed::aggregate_partitioned(Exec{}, view, mode, grad, other, other_bits);
          CHECK(matches(other, reference(view, mode, grad, dim, other_bits), dim));
        }
      }
  }
}

TEST_CASE_TEMPLATE("tables on every space: large batches give the bits of Kokkos::Serial", Exec, FRUGAL_TEST_SPACES) {
  rng gen(32);
  const index_t rows = 40'000, dim = 32;
  full_table<Exec> full(rows, dim, {}, Exec{});
  full_table<Kokkos::Serial> full_serial(rows, dim);
  hashed_table<Exec> hashed(rows, 5'000, dim, {}, Exec{});
  hashed_table<Kokkos::Serial> hashed_serial(rows, 5'000, dim);
  adaptive_table<fiited_importance, Exec> adaptive(rows, dim, {.chunk_width = 8, .new_row_chunks = 2}, {}, Exec{});
  adaptive_table<fiited_importance, Kokkos::Serial> adaptive_serial(rows, dim, {.chunk_width = 8, .new_row_chunks = 2});
  for (int step = 0; step < 3; ++step) {
    const auto bags = make_bags(gen, 1500, rows, 30);
    const auto view = bags.view(step == 1);
    const auto grad = random_grad(gen, static_cast<std::size_t>(view.size() * dim));
    auto same = [&](auto& a, auto& b) {
      std::vector<float> ya(grad.size()), yb(grad.size());
      a.forward(view, ya);
      b.forward(view, yb);
      CHECK(ya == yb);
      a.backward(view, grad);
      b.backward(view, grad);
      a.forward(view, ya);
      b.forward(view, yb);
      CHECK(ya == yb);
    };
    same(full, full_serial);
    same(hashed, hashed_serial);
    same(adaptive, adaptive_serial);
    // The adaptive tables hold the same rows, chunk counts and importance scores.
    std::vector<std::vector<float>> scores_a, scores_b;
    adaptive.for_each_row([&](auto, std::uint32_t id, index_t live, std::span<const float> s, float cand) {
      scores_a.push_back({static_cast<float>(id), static_cast<float>(live), cand});
      scores_a.back().insert(scores_a.back().end(), s.begin(), s.end());
    });
    adaptive_serial.for_each_row([&](auto, std::uint32_t id, index_t live, std::span<const float> s, float cand) {
      scores_b.push_back({static_cast<float>(id), static_cast<float>(live), cand});
      scores_b.back().insert(scores_b.back().end(), s.begin(), s.end());
    });
    CHECK(scores_a == scores_b);
  }
}
