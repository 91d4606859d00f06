// Mapping search and whole-network cost: the exhaustive search against an independent enumeration, simulated annealing
// and Q-learning against the exhaustive optimum, determinism for a seed, and validity on
// machines where most (or no) mappings fit.
#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/search/mapping.hpp>

#include <algorithm>
#include <limits>
#include <vector>

using namespace frugal;
using namespace frugal::search;

namespace {

/// Four machines: small and tall arrays, both dataflows, an 8 KiB scratchpad and 16-byte PE
/// buffers so that the fit constraints bind on every layer below.
std::vector<hardware_config> machines() {
  std::vector<hardware_config> out;
  for (auto flow : {dataflow::weight_stationary, dataflow::output_stationary})
    for (auto [x, y] : {std::pair<std::int64_t, std::int64_t>{4, 4}, {8, 16}}) {
      hardware_config hw;
      hw.pe_x = x;
      hw.pe_y = y;
      hw.flow = flow;
      hw.scratchpad_bytes = 8192;
      hw.pe_buffer_bytes = 16;
      hw.banks = x + y;
      hw.dram_bytes_per_cycle = 8;
      out.push_back(hw);
    }
  return out;
}

const std::vector<gemm_workload> small_layers{{16, 16, 16}, {32, 8, 24}, {12, 20, 36}, {64, 64, 64}};

}  // namespace

TEST_CASE("mapping: divisors and the mapping space") {
  CHECK(divisors(1) == std::vector<std::int64_t>{1});
  CHECK(divisors(12) == std::vector<std::int64_t>{1, 2, 3, 4, 6, 12});
  CHECK(divisors(49) == std::vector<std::int64_t>{1, 7, 49});
  CHECK(divisors(3136).size() == 21);  // 2^6 * 7^2: 7 * 3
  CHECK_THROWS_AS((void)divisors(0), invalid_argument);
  const mapping_space space({8, 12, 6});
  CHECK(space.size() == 4 * 6 * 4 * 6);
  CHECK(space.at(3, 5, 1, 2) == mapping{8, 12, 2, loop_orders[2]});
}

TEST_CASE("mapping: the exhaustive search returns the least objective of every mapping") {
  for (const auto& hw : machines())
    for (const auto& w : small_layers)
      for (auto objective : {mapping_objective::latency, mapping_objective::energy, mapping_objective::edp}) {
        const auto best = exhaustive_mapping(w, hw, objective);
        REQUIRE(best.cost.valid);
        double least = std::numeric_limits<double>::infinity();
        for (auto tm : divisors(w.M))
          for (auto tn : divisors(w.N))
            for (auto tk : divisors(w.K))
              for (const auto& order : loop_orders)
                least = std::min(least, objective_value(evaluate(w, hw, {tm, tn, tk, order}), objective));
        CHECK(objective_value(best.cost, objective) == least);
        CHECK(objective_value(evaluate(w, hw, best.map), objective) == least);
      }
}

TEST_CASE("mapping: the default mapping fits and cannot grow its streamed tile") {
  for (const auto& hw : machines())
    for (const auto& w : small_layers) {
      const auto m = default_mapping(w, hw);
      CHECK(mapping_fit(w, hw, m).empty());
      // The streamed dimension (M for weight stationary, K for output stationary) grew last, to
      // its largest divisor that fits.
      auto grown = m;
      const bool ws = hw.flow == dataflow::weight_stationary;
      auto& tile = ws ? grown.tile_m : grown.tile_k;
      const auto extent = ws ? w.M : w.K;
      const auto d = divisors(extent);
      const auto next = std::upper_bound(d.begin(), d.end(), tile);
      if (next != d.end()) {
        tile = *next;
        CHECK_FALSE(mapping_fit(w, hw, grown).empty());
      }
    }
}

TEST_CASE("mapping: annealing and Q-learning find the exhaustive optimum on small layers") {
  // 1,000 proposals (episodes) on spaces of 750 to 2,058 mappings, five seeds each: both reach
  // the exhaustive optimum on every layer, machine and objective here.
  for (const auto& hw : machines())
    for (const auto& w : small_layers)
      for (auto objective : {mapping_objective::latency, mapping_objective::edp}) {
        const double best = objective_value(exhaustive_mapping(w, hw, objective).cost, objective);
        for (std::uint64_t seed = 1; seed <= 5; ++seed) {
          rng a(seed), q(seed);
          const auto sa = simulated_annealing_mapping(w, hw, objective, 1000, a);
          const auto ql = q_learning_mapping(w, hw, objective, 1000, q);
          CHECK(objective_value(sa.cost, objective) == doctest::Approx(best).epsilon(1e-12));
          CHECK(objective_value(ql.cost, objective) == doctest::Approx(best).epsilon(1e-12));
          CHECK(sa.evaluations <= 1001);
          CHECK(ql.evaluations == 1001);
        }
      }
}

TEST_CASE("mapping: on ResNet-sized layers both searches beat the default and stay near the optimum") {
  // Spaces of 13,122 and 18,522 mappings, 1,000 proposals: the bound is loose enough for a
  // stochastic search yet tight next to the fixed mapping (docs/search-hardware.md has the spread).
  const std::vector<gemm_workload> layers{{3136, 64, 576}, {196, 256, 2304}};
  for (const auto& hw : machines())
    for (const auto& w : layers)
      for (auto objective : {mapping_objective::latency, mapping_objective::edp}) {
        const double best = objective_value(exhaustive_mapping(w, hw, objective).cost, objective);
        const double fixed = objective_value(evaluate(w, hw, default_mapping(w, hw)), objective);
        for (std::uint64_t seed = 1; seed <= 3; ++seed) {
          rng a(seed), q(seed);
          const double sa = objective_value(simulated_annealing_mapping(w, hw, objective, 1000, a).cost, objective);
          const double ql = objective_value(q_learning_mapping(w, hw, objective, 1000, q).cost, objective);
          CHECK(sa <= 1.3 * best);
          CHECK(ql <= 1.3 * best);
          CHECK(sa <= fixed);
          CHECK(ql <= fixed);
        }
      }
}

TEST_CASE("mapping: searches are deterministic for a seed") {
  const auto hw = machines()[1];
  const gemm_workload w{196, 256, 2304};
  rng a1(42), a2(42), q1(42), q2(42);
  const auto s1 = simulated_annealing_mapping(w, hw, mapping_objective::edp, 300, a1);
  const auto s2 = simulated_annealing_mapping(w, hw, mapping_objective::edp, 300, a2);
  CHECK(s1.map == s2.map);
  CHECK(s1.evaluations == s2.evaluations);
  CHECK(s1.cost.energy_j == s2.cost.energy_j);
  const auto r1 = q_learning_mapping(w, hw, mapping_objective::edp, 300, q1);
  const auto r2 = q_learning_mapping(w, hw, mapping_objective::edp, 300, q2);
  CHECK(r1.map == r2.map);
  CHECK(r1.cost.latency_s == r2.cost.latency_s);
  // The streams were advanced identically too.
  CHECK(a1.next() == a2.next());
  CHECK(q1.next() == q2.next());
  // The mappers reseed per call: asking twice gives one answer.
  const annealing_mapper am{mapping_objective::latency, 200, 9};
  CHECK(am(w, hw) == am(w, hw));
  const q_learning_mapper qm{mapping_objective::latency, 200, 9};
  CHECK(qm(w, hw) == qm(w, hw));
}

TEST_CASE("mapping: searches return valid mappings when few fit, and say so when none does") {
  // 64 bytes of scratchpad: double-buffered tiles need 2 (TmTk + TkTn + TmTn) <= 64.
  hardware_config hw;
  hw.pe_x = 4;
  hw.pe_y = 4;
  hw.scratchpad_bytes = 64;
  hw.pe_buffer_bytes = 1;
  const gemm_workload w{64, 64, 64};
  std::int64_t fitting = 0;
  for (auto tm : divisors(64))
    for (auto tn : divisors(64))
      for (auto tk : divisors(64)) fitting += mapping_fit(w, hw, {tm, tn, tk}).empty();
  CHECK(fitting > 0);
  CHECK(fitting < 40);  // of 343 tile triples
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    rng a(seed), q(seed);
    CHECK(simulated_annealing_mapping(w, hw, mapping_objective::latency, 200, a).cost.valid);
    CHECK(q_learning_mapping(w, hw, mapping_objective::latency, 200, q).cost.valid);
  }
  CHECK(exhaustive_mapping(w, hw).cost.valid);
  CHECK(mapping_fit(w, hw, default_mapping(w, hw)).empty());

  hw.scratchpad_bytes = 4;  // not even (1, 1, 1)
  rng gen(1);
  CHECK_FALSE(exhaustive_mapping(w, hw).cost.valid);
  CHECK_FALSE(simulated_annealing_mapping(w, hw, mapping_objective::latency, 50, gen).cost.valid);
  CHECK_FALSE(q_learning_mapping(w, hw, mapping_objective::latency, 50, gen).cost.valid);
  CHECK_FALSE(exhaustive_mapping(w, hw).cost.why_invalid.empty());
  CHECK_THROWS_AS((void)simulated_annealing_mapping(w, hw, mapping_objective::latency, -1, gen), invalid_argument);
}

// ---------------------------------------------------------------------------------------------
// Layer sets and whole-network cost (workloads.hpp)

#include <frugal/search/workloads.hpp>

namespace {

const conv_layer& layer_named(const std::vector<conv_layer>& layers, const std::string& name) {
  for (const auto& l : layers)
    if (l.name == name) return l;
  FAIL("no layer " << name);
  return layers.front();
}

}  // namespace

TEST_CASE("workloads: ResNet-50 shapes and its 4.09 GMACs") {
  const auto net = resnet50_layers();
  // 53 convolutions and the classifier in 24 distinct shapes; the per-image total is the
  // figure torchvision's model reports, 4,089,184,256 multiply-accumulates.
  CHECK(net.size() == 24);
  std::int64_t occurrences = 0;
  for (const auto& l : net) occurrences += l.count;
  CHECK(occurrences == 54);
  CHECK(total_macs(net) == 4089184256.0);
  const auto& conv1 = layer_named(net, "conv1");
  CHECK(conv1.out_h() == 112);
  CHECK(lower_to_gemm(conv1).M == 112 * 112);
  CHECK(lower_to_gemm(conv1).N == 64);
  CHECK(lower_to_gemm(conv1).K == 3 * 7 * 7);
  // The 3x3 convolution of layer3's five stride-1 blocks: 14x14 pixels, 256 filters of 256x3x3.
  const auto& l3 = layer_named(net, "layer3.1.conv2");
  CHECK(l3.count == 5);
  CHECK(lower_to_gemm(l3).M == 196);
  CHECK(lower_to_gemm(l3).N == 256);
  CHECK(lower_to_gemm(l3).K == 2304);
  // layer1's expanding 1x1 and its (stride-1) downsample share one shape: 3 + 1 occurrences.
  CHECK(layer_named(net, "layer1.0.conv3").count == 4);
  CHECK(layer_named(net, "layer4.0.conv2").out_h() == 7);
  CHECK(total_macs(resnet50_layers(2)) == 2 * 4089184256.0);
}

TEST_CASE("workloads: MobileNet-V2 shapes and its 300.8 MMACs") {
  const auto net = mobilenet_v2_layers();
  CHECK(net.size() == 31);
  std::int64_t occurrences = 0, depthwise = 0;
  for (const auto& l : net) {
    occurrences += l.count;
    if (l.depthwise) depthwise += l.count;
  }
  CHECK(occurrences == 53);
  CHECK(depthwise == 17);
  CHECK(total_macs(net) == 300774272.0);  // the paper's "300M multiply-adds"
  const auto first = lower_to_gemm(layer_named(net, "features.0"));
  CHECK(first.M == 112 * 112);
  CHECK(first.N == 32);
  CHECK(first.K == 27);
  // The 14x14 stride-1 depthwise convolution on 384 channels (features 8 to 11): one 196x9 GEMV per
  // channel.
  const auto& dw = layer_named(net, "features.8.depthwise");
  CHECK(dw.count == 4);
  const auto g = lower_to_gemm(dw);
  CHECK(g.M == 196);
  CHECK(g.N == 1);
  CHECK(g.K == 9);
  CHECK(g.batch == 384);
}

TEST_CASE("workloads: lowering keeps the MAC count, and the IR agrees with it") {
  for (const auto& net : {resnet50_layers(), mobilenet_v2_layers()}) {
    double gemm_macs = 0, ir_macs = 0;
    for (const auto& l : net) {
      gemm_macs += lower_to_gemm(l).macs() * static_cast<double>(l.count);
      ir_macs += static_cast<double>(to_tensor_computation(l).iterations() * l.count);
    }
    CHECK(gemm_macs == total_macs(net));
    CHECK(ir_macs == total_macs(net));
  }
  // What the intrinsic matcher says about the lowering: a convolution runs on the GEMM
  // intrinsic, a depthwise one does not (it runs as GEMVs).
  const auto mb = mobilenet_v2_layers();
  CHECK_FALSE(match_intrinsic(gemm_intrinsic(), to_tensor_computation(layer_named(mb, "features.1.project"))).empty());
  const auto dw = to_tensor_computation(layer_named(mb, "features.7.depthwise"));
  CHECK(match_intrinsic(gemm_intrinsic(), dw).empty());
  CHECK_FALSE(match_intrinsic(gemv_intrinsic(), dw).empty());
  CHECK_THROWS_AS(conv_layer({"bad", 1, 8, 4, 8, 8, 3, 3, 1, 1, true, 1}).validate(), invalid_argument);
}

TEST_CASE("workloads: evaluate_design sums occurrence-weighted layer costs") {
  const auto hw = decode_hardware({16, 16, 256, 64, 16, 0});
  const auto net = mobilenet_v2_layers();
  const auto d = evaluate_design(hw, net, default_mapper{});
  REQUIRE(d.valid);
  REQUIRE(d.layer_costs.size() == net.size());
  double cycles = 0, energy = 0;
  for (std::size_t i = 0; i < net.size(); ++i) {
    CHECK(d.mappings[i] == default_mapping(lower_to_gemm(net[i]), hw));
    cycles += static_cast<double>(net[i].count) * d.layer_costs[i].cycles;
    energy += static_cast<double>(net[i].count) * d.layer_costs[i].energy_j;
  }
  CHECK(d.cycles == doctest::Approx(cycles));
  CHECK(d.energy_j == doctest::Approx(energy));
  CHECK(d.latency_s == doctest::Approx(cycles / 1e9));
  CHECK(d.power_w == doctest::Approx(energy / d.latency_s));
  CHECK(d.area_mm2 == doctest::Approx(accelerator_area_mm2(hw)));
  // Searching per layer never does worse than the fixed mapping.
  const auto searched = evaluate_design(hw, net, exhaustive_mapper{mapping_objective::latency});
  CHECK(searched.latency_s <= d.latency_s);
  const auto annealed = evaluate_design(hw, net, annealing_mapper{mapping_objective::latency, 300, 3});
  CHECK(annealed.latency_s <= d.latency_s);
  CHECK(annealed.latency_s >= searched.latency_s);
  // A lambda is a mapper too.
  const auto tiny = evaluate_design(hw, net, [](const gemm_workload&, const hardware_config&) { return mapping{}; });
  CHECK(tiny.valid);
  CHECK(tiny.latency_s > d.latency_s);
  // A machine on which a layer cannot be mapped at all.
  auto broken = hw;
  broken.scratchpad_bytes = 4;
  const auto none = evaluate_design(broken, net, default_mapper{});
  CHECK_FALSE(none.valid);
  CHECK(none.why_invalid.find("layer 'features.0'") != std::string::npos);
  CHECK_THROWS_AS((void)evaluate_design(hw, {}, default_mapper{}), invalid_argument);
}
