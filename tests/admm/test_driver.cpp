#include <doctest/doctest.h>

#include <frugal/admm.hpp>
#include <frugal/nn.hpp>
#include <frugal/sparse.hpp>

#include <cstring>

#include "lenet_support.hpp"
#include "test_support.hpp"

namespace admm = frugal::admm;
namespace nn = frugal::nn;
using frugal::index_t;

using frugal::test::bit_equal;
using frugal::test::train_steps;

namespace {

/// min ‖w − t‖² over one 1×8 parameter; with at most 3 non-zeros the answer is t's 3
/// largest-magnitude entries, `expected`.
struct quadratic_problem {
  nn::parameter<double> w;
  nn::matrix<double> t{1, 8}, expected{1, 8};
  nn::parameter_registry<double> registry;

  quadratic_problem() {
    w.resize(1, 8);
    t << 0.3, -2.0, 0.1, 1.5, -0.2, 0.05, 1.0, -0.4;
    expected << 0, -2.0, 0, 1.5, 0, 0, 1.0, 0;
    registry.add("w", w);
  }
  /// 50 plain gradient steps of `opt` on the loss.
  template <class Opt>
  void train(Opt& opt) {
    for (int s = 0; s < 50; ++s) {
      w.grad = 2 * (w.value - t);
      opt.step(registry);
    }
  }
};

}  // namespace

TEST_CASE("ADMM on a separable quadratic converges to the projection of the unconstrained optimum") {
  quadratic_problem q;
  auto& w = q.w;
  auto& registry = q.registry;
  admm::admm_state<double> state({.rho = 0.05, .rho_multiplier = 1.5, .rho_max = 10, .iterations = 30});
  state.add("w", admm::irregular_sparsity{.keep_fraction = 3.0 / 8});
  std::vector<frugal::progress_event> events;
  const auto history = admm::run_admm(
      state, registry, [] { return nn::sgd<double>({.learning_rate = 0.05}); }, [&](auto& opt) { q.train(opt); },
      [&](const frugal::progress_event& e) {
        events.push_back(e);
        CHECK(e.metrics.size() == 4);
      });
  CHECK(events.size() == 30);
  CHECK(history.back().primal < 1e-3);
  CHECK(history.back().primal < history.front().primal);
  state.harden(registry);
  CHECK((w.value - q.expected).norm() < 0.05);
  REQUIRE(w.mask.has_value());
  CHECK(*w.mask == (q.expected.array() != 0).cast<double>().matrix());
}

TEST_CASE("progressive ADMM: sets tightened between iterations end at the final set's answer") {
  // Same quadratic, but the keep count falls 8 → 6 → 4 → 3 over the first iterations through
  // before_update + set_projection; the answer is still t's 3 largest entries.
  quadratic_problem q;
  admm::admm_state<double> state({.rho = 0.05, .rho_multiplier = 1.5, .rho_max = 10, .iterations = 30});
  state.add("w", admm::irregular_sparsity{.keep_fraction = 1.0});
  std::vector<int> calls;
  std::vector<double> kept;  // non-zeros of Z after each update
  const int schedule[] = {6, 4, 3};
  admm::run_admm(
      state, q.registry, [] { return nn::sgd<double>({.learning_rate = 0.05}); },
      [&](auto& opt) {
        if (!calls.empty()) kept.push_back(static_cast<double>((state.z("w").array() != 0).count()));
        q.train(opt);
      },
      {},
      [&](int it) {
        calls.push_back(it);
        state.set_projection("w", admm::irregular_sparsity{.keep_fraction = schedule[std::min(it, 2)] / 8.0});
      });
  REQUIRE(calls.size() == 30);
  CHECK(calls.front() == 0);
  CHECK(calls.back() == 29);
  CHECK(kept[0] == 6);
  CHECK(kept[1] == 4);
  CHECK(kept[2] == 3);
  CHECK(kept.back() == 3);
  state.harden(q.registry);
  CHECK((q.w.value - q.expected).norm() < 0.05);
  CHECK_THROWS_AS(state.set_projection("nope", admm::irregular_sparsity{}), frugal::invalid_argument);
}

TEST_CASE("admm_state refuses bad options and unknown parameters") {
  CHECK_THROWS_AS(admm::admm_state<float>({.rho = -1}), frugal::invalid_argument);
  CHECK_THROWS_AS(admm::admm_state<float>({.rho_multiplier = 0.5}), frugal::invalid_argument);
  admm::admm_state<float> state;
  state.add("nope", admm::irregular_sparsity{});
  CHECK_THROWS_AS(state.add("nope", admm::filter_sparsity{}), frugal::invalid_argument);
  nn::parameter_registry<float> empty;
  CHECK_THROWS_AS(state.initialize(empty), frugal::invalid_argument);
}

TEST_CASE("after ADMM hardening, masked weights stay exactly zero through retraining and checkpoints") {
  const auto dir = frugal::test::scratch_dir("admm-masks");
  auto model = nn::make_lenet5<float>(1);
  auto registry = model.parameters();
  admm::admm_state<float> state({.iterations = 2});
  state.add("7.weight", admm::irregular_sparsity{.keep_fraction = 0.05});
  state.add("3.weight",
            admm::bcr_sparsity{.block_rows = 4, .block_cols = 10, .row_keep_fraction = 0.5, .col_keep_fraction = 0.5});
  state.add("0.weight", admm::filter_sparsity{.keep_fraction = 0.5});
  admm::run_admm(
      state, registry, [] { return nn::adam<float>(); }, [&](auto& opt) { train_steps(model, opt, 3, 2); });
  state.harden(registry);
  const auto zero_where_masked = [&](const nn::parameter_registry<float>& reg) {
    for (const char* name : {"7.weight", "3.weight", "0.weight"}) {
      const auto& p = reg.at(name);
      REQUIRE(p.mask.has_value());
      for (index_t i = 0; i < p.value.size(); ++i)
        if (p.mask->data()[i] == 0) REQUIRE(p.value.data()[i] == 0.0f);
    }
  };
  zero_where_masked(registry);
  CHECK(registry.at("7.weight").mask->sum() == 2400);
  for (auto opt_kind = 0; opt_kind < 2; ++opt_kind) {
    if (opt_kind == 0) {
      nn::adam<float> opt({.weight_decay = 1e-2f});
      train_steps(model, opt, 5, 3);
    } else {
      nn::sgd<float> opt({.learning_rate = 0.1f, .momentum = 0.9f, .weight_decay = 1e-2f});
      train_steps(model, opt, 5, 4);
    }
    zero_where_masked(registry);
  }
  nn::save_parameters(dir / "pruned.ck", registry);
  auto other = nn::make_lenet5<float>(9);
  auto other_registry = other.parameters();
  nn::load_parameters(dir / "pruned.ck", other_registry);
  zero_where_masked(other_registry);
  nn::adam<float> opt;
  train_steps(other, opt, 3, 5);
  zero_where_masked(other_registry);
}

TEST_CASE("the compact model format reloads bit-identical values and masks, quantized or not") {
  const auto dir = frugal::test::scratch_dir("admm-compressed");
  auto model = nn::make_lenet5<float>(3);
  auto registry = model.parameters();
  admm::admm_state<float> state({.iterations = 1});
  state.add("7.weight", admm::prune_then_quantize<admm::irregular_sparsity, admm::uniform_quantization>{
                            {.keep_fraction = 0.03}, {.bits = 3}});
  state.add("9.weight",
            admm::prune_then_quantize<admm::filter_sparsity, admm::ternary_quantization>{{.keep_fraction = 0.5}, {}});
  state.add("3.weight", admm::irregular_sparsity{.keep_fraction = 0.2});
  state.initialize(registry);
  state.harden(registry);
  CHECK(state.quantized().size() == 2);
  frugal::checkpoint_writer out;
  admm::save_compressed(out, registry, state.quantized());
  out.write(dir / "model.fcm");
  const auto compact = std::filesystem::file_size(dir / "model.fcm");
  nn::save_parameters(dir / "dense.ck", registry);
  MESSAGE("compact " << compact << " bytes, dense checkpoint " << std::filesystem::file_size(dir / "dense.ck"));
  CHECK(compact * 2 < std::filesystem::file_size(dir / "dense.ck"));

  auto other = nn::make_lenet5<float>(4);
  auto other_registry = other.parameters();
  admm::load_compressed(frugal::checkpoint_reader(dir / "model.fcm"), other_registry);
  for (std::size_t i = 0; i < registry.size(); ++i) {
    INFO(registry[i].name);
    CHECK(bit_equal(registry[i].param->value, other_registry[i].param->value));
    CHECK(registry[i].param->mask.has_value() == other_registry[i].param->mask.has_value());
    if (registry[i].param->mask) CHECK(bit_equal(*registry[i].param->mask, *other_registry[i].param->mask));
  }
  // Corruption is caught by the container.
  std::filesystem::resize_file(dir / "model.fcm", compact - 3);
  CHECK_THROWS_AS(admm::load_compressed(frugal::checkpoint_reader(dir / "model.fcm"), other_registry),
                  frugal::format_error);
}

TEST_CASE("gap and bit-packing codecs round-trip, including gaps over 255") {
  nn::matrix<float> mask = nn::matrix<float>::Zero(1, 1000);
  for (index_t i : {0, 1, 300, 301, 810, 999}) mask(0, i) = 1;
  const auto gaps = admm::detail::encode_gaps(mask);
  const auto pos = admm::detail::decode_gaps(gaps, 1000, "f", "test");
  CHECK(pos == std::vector<index_t>{0, 1, 300, 301, 810, 999});
  const std::vector<std::uint8_t> codes = {5, 0, 7, 3, 1, 6, 2};
  CHECK(admm::detail::unpack_bits(admm::detail::pack_bits(codes, 3), 3, codes.size()) == codes);
  const std::vector<std::uint8_t> bad = {200, 200};
  CHECK_THROWS_AS(admm::detail::decode_gaps(bad, 300, "f", "test"), frugal::format_error);
}

TEST_CASE("storage accounting: CSR relative indexing with padding, structured descriptors") {
  nn::matrix<double> mask(2, 7);
  mask << 1, 0, 0, 0, 0, 0, 1,  //
      0, 0, 1, 0, 0, 0, 0;
  // Row-major positions 0, 6, 9. b = 2 (span 4): keep 0, pad at 4, keep 6, keep 9: 4 entries.
  const auto s =
      admm::account_storage("m", mask, admm::storage_format::relative, {.bits_per_value = 4, .relative_index_bits = 2});
  CHECK(s.nonzeros == 3);
  CHECK(s.padding == 1);
  CHECK(s.value_bits == 16);
  CHECK(s.index_bits == 4 * 2);
  // relative_index_bits = 0 picks the cheapest width per layer.
  frugal::rng gen(3);
  nn::matrix<double> sparse = nn::matrix<double>::Zero(20, 300);
  for (int k = 0; k < 150; ++k)
    sparse(static_cast<index_t>(gen.uniform_int(20)), static_cast<index_t>(gen.uniform_int(300))) = 1;
  const auto best = admm::account_storage("s", sparse, admm::storage_format::relative, {.bits_per_value = 3});
  for (int b = 1; b <= 16; ++b) {
    const auto fixed = admm::account_storage("s", sparse, admm::storage_format::relative,
                                             {.bits_per_value = 3, .relative_index_bits = b});
    CHECK(best.total_bits() <= fixed.total_bits());
    if (b == best.relative_index_bits) CHECK(best.total_bits() == fixed.total_bits());
  }
  const auto f = admm::account_storage("m", mask, admm::storage_format::filter, {.bits_per_value = 8});
  CHECK(f.value_bits == 2 * 7 * 8);
  CHECK(f.descriptor_bits == 2);
  const auto c =
      admm::account_storage("m", mask, admm::storage_format::column, {.bits_per_value = 8, .level_table_entries = 7});
  CHECK(c.value_bits == 3 * 2 * 8);
  CHECK(c.descriptor_bits == 7 + 7 * 32);
  const admm::bcr_sparsity bcr{.block_rows = 2, .block_cols = 4, .row_keep_fraction = 0.5, .col_keep_fraction = 0.5};
  const nn::matrix<double> w = nn::matrix<double>::Random(2, 7);
  const auto pattern = bcr.select(w);
  const auto b =
      admm::account_storage("m", pattern.mask<double>(), admm::storage_format::bcr, {.bits_per_value = 32}, &pattern);
  CHECK(b.value_bits == 32.0 * pattern.kept());
  CHECK(b.descriptor_bits == (2 + 4) + (2 + 3));
  CHECK(admm::summarize({s, f}).dense_bits == 2 * 32 * 14);
}

TEST_CASE("magnitude pruning keeps the largest weights and never revives pruned ones") {
  nn::parameter<double> p;
  p.resize(1, 6);
  p.value << 0.1, -3, 0.5, 2, -0.05, 1;
  nn::parameter_registry<double> registry;
  registry.add("w", p);
  admm::magnitude_prune(registry, {{"w", 0.5}});
  CHECK(*p.mask == (nn::matrix<double>(1, 6) << 0, 1, 0, 1, 0, 1).finished());
  int epochs = 0;
  admm::iterative_magnitude_prune(registry, {{"w", 1.0 / 6}}, 3, 1, [&] { ++epochs; });
  CHECK(epochs == 3);
  CHECK(p.mask->sum() == 1);
  CHECK((*p.mask)(0, 1) == 1);
}

TEST_CASE("frozen-code fine-tuning changes only the scale and keeps the codes") {
  nn::parameter<double> w;
  w.resize(1, 4);
  w.value << 1, -1, 2, 0;
  nn::parameter_registry<double> registry;
  registry.add("w", w);
  std::map<std::string, admm::quantized_matrix<double>, std::less<>> quantized;
  quantized["w"] = admm::uniform_quantization{.bits = 3}.quantize(w.value);
  const auto codes = quantized["w"].codes;
  // Target is 1.5x the current weights: the best scale factor is 1.5.
  const nn::matrix<double> target = 1.5 * w.value;
  admm::frozen_code_optimizer opt(nn::sgd<double>({.learning_rate = 0.1}), quantized, 0.05);
  for (int s = 0; s < 300; ++s) {
    w.grad = 2 * (w.value - target);
    opt.step(registry);
  }
  CHECK(quantized["w"].codes == codes);
  CHECK((w.value - target).norm() < 1e-2);
}

TEST_CASE("straight-through retraining moves codes toward the loss minimum and keeps weights on levels and masks") {
  frugal::rng gen(41);
  nn::parameter<double> w;
  w.resize(6, 7);
  for (index_t i = 0; i < w.value.size(); ++i) w.value.data()[i] = gen.uniform(-1, 1);
  nn::matrix<double> mask = nn::matrix<double>::Ones(6, 7);
  for (index_t i = 0; i < mask.size(); i += 3) mask.data()[i] = 0;
  w.mask = mask;
  w.apply_mask();
  nn::parameter_registry<double> registry;
  registry.add("w", w);
  std::map<std::string, admm::quantized_matrix<double>, std::less<>> quantized;
  quantized["w"] = admm::uniform_quantization{.bits = 3, .zero_level = false}.quantize(w.value, &mask);
  std::map<std::string, nn::matrix<double>, std::less<>> shadow{{"w", w.value}};
  w.value = quantized["w"].reconstruct();
  const auto levels = quantized["w"].levels;
  // A target far from the start: the codes must move (frozen codes could not follow it).
  nn::matrix<double> target(6, 7);
  for (index_t i = 0; i < target.size(); ++i) target.data()[i] = gen.uniform(-1.2, 1.2);
  admm::straight_through_optimizer opt(nn::sgd<double>({.learning_rate = 0.05}), quantized, shadow,
                                       {.scale_learning_rate = 0});
  const auto start_codes = quantized["w"].codes;
  for (int s = 0; s < 400; ++s) {
    w.grad = 2 * (w.value - target);
    opt.step(registry);
    for (index_t i = 0; i < w.value.size(); ++i) {
      if (mask.data()[i] == 0) {
        REQUIRE(w.value.data()[i] == 0.0);
        REQUIRE(opt.shadow().at("w").data()[i] == 0.0);
      } else {
        REQUIRE(std::find(levels.begin(), levels.end(), w.value.data()[i]) != levels.end());
      }
    }
  }
  CHECK(quantized["w"].levels == levels);
  CHECK(quantized["w"].codes != start_codes);
  CHECK(quantized["w"].reconstruct() == w.value);
  // Converged: the straight-through estimator settles each kept weight on one of the two levels
  // bracketing its target (it flips across the decision boundary between them), or on the
  // outermost level when the target lies beyond it.
  const double step = levels[1] - levels[0];
  for (index_t i = 0; i < w.value.size(); ++i) {
    if (mask.data()[i] == 0) continue;
    const double t = std::clamp(target.data()[i], levels.front(), levels.back());
    CHECK(std::abs(w.value.data()[i] - t) <= step * (1 + 1e-12));
  }

  // With scale training, a target that is a scaled copy of a quantized matrix is reached exactly.
  nn::parameter<double> v;
  v.resize(1, 5);
  v.value << 1, -1, 2, -0.5, 0.5;
  nn::parameter_registry<double> reg2;
  reg2.add("v", v);
  std::map<std::string, admm::quantized_matrix<double>, std::less<>> q2;
  q2["v"] = admm::uniform_quantization{.bits = 3}.quantize(v.value);
  const nn::matrix<double> goal = 1.3 * q2["v"].reconstruct();
  admm::straight_through_optimizer opt2(nn::sgd<double>({.learning_rate = 0.02}), q2, {{"v", v.value}},
                                        {.scale_learning_rate = 0.02});
  v.value = q2["v"].reconstruct();
  for (int s = 0; s < 600; ++s) {
    v.grad = 2 * (v.value - goal);
    opt2.step(reg2);
  }
  CHECK((v.value - goal).norm() < 2e-2);

  CHECK_THROWS_AS(admm::straight_through_optimizer(nn::sgd<double>({.learning_rate = 0.1}), quantized, {}),
                  frugal::invalid_argument);
  CHECK_THROWS_AS(admm::straight_through_optimizer(nn::sgd<double>({.learning_rate = 0.1}), quantized,
                                                   {{"w", nn::matrix<double>(2, 2)}}),
                  frugal::error);
}

TEST_CASE("allocate_keep_fractions spreads a model-wide budget by size^exponent and caps at 1") {
  nn::parameter<double> small, medium, big;
  small.resize(10, 15);    // 150
  medium.resize(16, 150);  // 2,400
  big.resize(120, 400);    // 48,000
  nn::parameter_registry<double> registry;
  registry.add("s", small);
  registry.add("m", medium);
  registry.add("b", big);
  const std::vector<std::string> names = {"s", "m", "b"};
  const double total = 150 + 2400 + 48000;
  for (double ratio : {1.0, 2.0, 12.0, 50.0})
    for (double exponent : {0.0, 0.5, 1.0}) {
      const auto keep = admm::allocate_keep_fractions(registry, names, ratio, exponent);
      double kept = 0;
      for (const auto& n : names) {
        CHECK(keep.at(n) > 0);
        CHECK(keep.at(n) <= 1);
        kept += keep.at(n) * static_cast<double>(registry.at(n).value.size());
      }
      CHECK(kept == doctest::Approx(total / ratio).epsilon(1e-12));
      if (exponent < 1) CHECK(keep.at("s") >= keep.at("b"));  // small layers are pruned more gently
      if (exponent == 1.0) CHECK(keep.at("s") == doctest::Approx(keep.at("b")));
    }
  // Exponent 0.5 at 12x: the 150-weight layer would get more than its size and is capped.
  const auto keep = admm::allocate_keep_fractions(registry, names, 12.0, 0.5);
  CHECK(keep.at("s") == 1.0);
  CHECK_THROWS_AS(admm::allocate_keep_fractions(registry, names, 0.5), frugal::invalid_argument);
  CHECK_THROWS_AS(admm::allocate_keep_fractions(registry, names, 2.0, -1.0), frugal::invalid_argument);
  CHECK_THROWS_AS(admm::allocate_keep_fractions(registry, {}, 2.0), frugal::invalid_argument);
  CHECK_THROWS_AS(admm::allocate_keep_fractions(registry, {"nope"}, 2.0), frugal::error);
}

TEST_CASE("a shape-reading projection is refused on a BCR or circulant layer's packed values") {
  frugal::rng gen(5);
  nn::matrix<float> dense(16, 24);
  for (index_t i = 0; i < dense.size(); ++i) dense.data()[i] = static_cast<float>(gen.normal());
  nn::linear<float, frugal::sparse::bcr_weight<float>> bcr(frugal::sparse::bcr_weight<float>(
      dense, admm::bcr_sparsity{.block_rows = 4, .block_cols = 4, .row_keep_fraction = 0.5, .col_keep_fraction = 0.5}));
  nn::linear<float, frugal::sparse::circulant_weight<float>> circ(16, 24, frugal::sparse::circulant_factory<float>{});
  nn::parameter_registry<float> registry;
  bcr.register_parameters(registry, "bcr");
  circ.register_parameters(registry, "circ");
  CHECK(registry.at("bcr.weight").layout == nn::parameter_layout::packed);
  CHECK(registry.at("circ.weight").layout == nn::parameter_layout::packed);
  CHECK(registry.at("circ.bias").layout == nn::parameter_layout::matrix);
  {
    admm::admm_state<float> state;
    state.add("bcr.weight", admm::bcr_sparsity{});
    CHECK_THROWS_WITH_AS(state.initialize(registry), doctest::Contains("packed values"), frugal::invalid_argument);
  }
  {
    admm::admm_state<float> state;
    state.add("circ.weight", admm::filter_sparsity{});
    CHECK_THROWS_WITH_AS(state.initialize(registry), doctest::Contains("reads structure from the matrix shape"),
                         frugal::invalid_argument);
  }
  {
    // Elementwise projections (and their compositions) apply: they see the values, not a shape.
    admm::admm_state<float> state;
    state.add("bcr.weight", admm::irregular_sparsity{.keep_fraction = 0.5});
    state.add("circ.weight", admm::prune_then_quantize<admm::irregular_sparsity, admm::uniform_quantization>{
                                 {.keep_fraction = 0.5}, {.bits = 4}});
    CHECK_NOTHROW(state.initialize(registry));
    CHECK_NOTHROW(state.harden(registry));
    const auto& w = registry.at("bcr.weight").value;
    CHECK((w.array() != 0.0f).count() == (w.size() + 1) / 2);
  }
  static_assert(admm::elementwise_projection<admm::irregular_sparsity>);
  static_assert(!admm::elementwise_projection<admm::bcr_sparsity>);
  static_assert(
      !admm::elementwise_projection<admm::prune_then_quantize<admm::filter_sparsity, admm::uniform_quantization>>);
}
