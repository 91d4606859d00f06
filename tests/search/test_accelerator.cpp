// The analytical accelerator model against layers worked through by hand (every number in the
// comments below was computed on paper from the equations in docs/search-hardware.md), against
// a tile-by-tile walk written independently of the closed-form class counting, and for the
// properties any sane model has: more bandwidth is never slower, bigger buffers never reject a
// mapping that fitted, a batch costs its size times one product.
#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/search/accelerator.hpp>

#include <array>
#include <cmath>
#include <map>
#include <set>
#include <vector>

using namespace frugal;
using namespace frugal::search;

namespace {

/// A 4 x 4 array with a 4-byte PE buffer, a 512-byte scratchpad of 4 banks at 4 bytes a cycle
/// each (16 B/cycle), DRAM at 16 B/cycle, one byte per element.
hardware_config small_machine(dataflow flow) {
  hardware_config hw;
  hw.pe_x = 4;
  hw.pe_y = 4;
  hw.pe_buffer_bytes = 4;
  hw.scratchpad_bytes = 512;
  hw.banks = 4;
  hw.scratchpad_bytes_per_cycle = 4;
  hw.dram_bytes_per_cycle = 16;
  hw.flow = flow;
  hw.bytes_per_element = 1;
  hw.clock_hz = 1e9;
  return hw;
}

/// Energy in pJ from access counts, written out from the constants' definitions: MAC 0.3 pJ,
/// SRAM (bytes/512)^(ln 6 / ln 200) MACs, PE-to-PE 2 MACs, DRAM 200 MACs.
double energy_pj(double macs, double pe, double hops, double sp, double dram, double pe_bytes, double sp_bytes) {
  const double alpha = std::log(6.0) / std::log(200.0);
  const double e = 0.3;
  return macs * e + pe * e * std::pow(pe_bytes / 512, alpha) + hops * 2 * e + sp * e * std::pow(sp_bytes / 512, alpha) +
         dram * 200 * e;
}

struct walked {
  double cycles = 0, dram = 0, scratchpad = 0, pe_buffer = 0, hops = 0;
};

/// Visits every tile in loop order, tracking which tile of A, B, C is resident and which C tiles
/// already hold partial sums in DRAM; per tile, the same array-side rules as the model.
walked walk_tiles(const gemm_workload& w, const hardware_config& hw, const mapping& map) {
  const std::int64_t tm = map.tile_m, tn = map.tile_n, tk = map.tile_k;
  const bool ws = hw.flow == dataflow::weight_stationary;
  const auto cdiv = [](std::int64_t a, std::int64_t b) { return (a + b - 1) / b; };
  const double macs = static_cast<double>(tm * tn * tk);
  double compute, stream_sp, stream_pe, hops, stat;
  if (ws) {
    const auto fk = cdiv(tk, hw.pe_y), fn = cdiv(tn, hw.pe_x);
    compute = static_cast<double>(fk * fn * tm + hw.pe_x + hw.pe_y - 2);
    stream_sp = static_cast<double>(tm * tk * fn + 2 * tm * tn * fk);
    stream_pe = macs;
    hops = 2 * macs - static_cast<double>(tm * tk * fn + tm * tn * fk);
    stat = static_cast<double>(tk * tn);
  } else {
    const auto fm = cdiv(tm, hw.pe_y), fn = cdiv(tn, hw.pe_x);
    compute = static_cast<double>(fm * fn * tk + hw.pe_x + hw.pe_y - 2);
    stream_sp = static_cast<double>(tm * tk * fn + tk * tn * fm);
    stream_pe = 2 * macs;
    hops = 2 * macs - stream_sp;
    stat = static_cast<double>(tm * tn);
  }
  const double sp_bw = static_cast<double>(hw.banks) * hw.scratchpad_bytes_per_cycle;
  const double bytes = static_cast<double>(hw.bytes_per_element);
  const std::array<std::int64_t, 3> ext{w.M, w.N, w.K}, tile{tm, tn, tk};
  std::array<std::int64_t, 3> trips{};
  for (int p = 0; p < 3; ++p) {
    const int d = static_cast<int>(map.order[p]);
    trips[p] = ext[d] / tile[d];
  }
  walked out;
  std::array<std::int64_t, 3> prev{-1, -1, -1};
  std::set<std::pair<std::int64_t, std::int64_t>> started;  // C tiles with partial sums
  for (std::int64_t i0 = 0; i0 < trips[0]; ++i0)
    for (std::int64_t i1 = 0; i1 < trips[1]; ++i1)
      for (std::int64_t i2 = 0; i2 < trips[2]; ++i2) {
        std::array<std::int64_t, 3> at{};
        const std::array<std::int64_t, 3> pos{i0, i1, i2};
        for (int p = 0; p < 3; ++p) at[static_cast<int>(map.order[p])] = pos[p];
        const bool first = prev[0] < 0;
        const bool a_new = first || at[0] != prev[0] || at[2] != prev[2];
        const bool b_new = first || at[2] != prev[2] || at[1] != prev[1];
        const bool c_new = first || at[0] != prev[0] || at[1] != prev[1];
        double dram = (a_new ? tm * tk : 0) + (b_new ? tk * tn : 0);
        if (c_new && !first) dram += static_cast<double>(tm * tn);                         // write back the old C
        if (c_new && started.count({at[0], at[1]})) dram += static_cast<double>(tm * tn);  // partial sums
        started.insert({at[0], at[1]});
        double sp = dram + stream_sp, pe = stream_pe;
        if (ws ? b_new : c_new) {
          sp += stat;
          pe += stat;
          if (!ws && !first) {
            sp += static_cast<double>(tm * tn);
            pe += static_cast<double>(tm * tn);
          }
        }
        out.cycles += std::max({compute, dram * bytes / hw.dram_bytes_per_cycle, sp * bytes / sp_bw});
        out.dram += dram;
        out.scratchpad += sp;
        out.pe_buffer += pe;
        out.hops += hops;
        prev = at;
      }
  const double c = static_cast<double>(tm * tn), tail_sp = ws ? c : 2 * c;
  out.cycles += std::max(c * bytes / hw.dram_bytes_per_cycle, tail_sp * bytes / sp_bw);
  out.dram += c;
  out.scratchpad += tail_sp;
  out.pe_buffer += ws ? 0 : c;
  return out;
}

std::vector<std::int64_t> divisors(std::int64_t n) {
  std::vector<std::int64_t> d;
  for (std::int64_t i = 1; i <= n; ++i)
    if (n % i == 0) d.push_back(i);
  return d;
}

const std::array<std::array<gemm_dim, 3>, 6> orders{{{gemm_dim::M, gemm_dim::N, gemm_dim::K},
                                                     {gemm_dim::M, gemm_dim::K, gemm_dim::N},
                                                     {gemm_dim::N, gemm_dim::M, gemm_dim::K},
                                                     {gemm_dim::N, gemm_dim::K, gemm_dim::M},
                                                     {gemm_dim::K, gemm_dim::M, gemm_dim::N},
                                                     {gemm_dim::K, gemm_dim::N, gemm_dim::M}}};

}  // namespace

TEST_CASE("accelerator: weight stationary, one 8x8x8 tile on a 4x4 array, by hand") {
  // Folds fK = fN = 8/4 = 2. Compute: fK*fN*Tm + pe_x + pe_y - 2 = 2*2*8 + 6 = 38 cycles.
  // DRAM: A 64 + B 64 = 128 B -> 128/16 = 8 cycles. Scratchpad: 128 fills + B into the PEs 64 +
  // A reads Tm*Tk*fN = 128 + psum reads and writes 2*Tm*Tn*fK = 256 -> 576 B / 16 = 36 cycles.
  // The tile takes max(38, 8, 36) = 38; the last C tile (64 B) goes out in max(64/16, 64/16) = 4.
  // Cycles 42. Accesses: PE buffer 64 weight writes + 512 weight reads = 576; PE-to-PE
  // (512 - 128 inputs fed from the scratchpad) + (512 - 128 psums leaving the array) = 768;
  // scratchpad 576 + 64 (C read out for DRAM) = 640; DRAM 128 + 64 = 192.
  const auto r = evaluate({8, 8, 8}, small_machine(dataflow::weight_stationary), {8, 8, 8});
  REQUIRE(r.valid);
  CHECK(r.cycles == 42);
  CHECK(r.latency_s == doctest::Approx(42e-9));
  CHECK(r.accesses.macs == 512);
  CHECK(r.accesses.pe_buffer == 576);
  CHECK(r.accesses.pe_to_pe == 768);
  CHECK(r.accesses.scratchpad == 640);
  CHECK(r.accesses.dram == 192);
  const double pj = energy_pj(512, 576, 768, 640, 192, 4, 512);
  CHECK(r.energy_j == doctest::Approx(pj * 1e-12));
  // Dominated by DRAM: 192 * 60 pJ = 11520 of about 12286 pJ.
  CHECK(pj == doctest::Approx(153.6 + 576 * 0.3 * std::pow(4.0 / 512, std::log(6.0) / std::log(200.0)) + 460.8 + 192 +
                              11520));
  CHECK(r.power_w == doctest::Approx(r.energy_j / 42e-9));
  // Area: 16 PEs * (419 + 4 * 3.954) um^2 + 512 * 3.954 um^2.
  CHECK(r.area_mm2 == doctest::Approx((16 * (419 + 4 * 8 * 0.346 / 0.7) + 512 * 8 * 0.346 / 0.7) * 1e-6));
}

TEST_CASE("accelerator: output stationary, two 4x8x8 tiles, by hand") {
  // Tiles (Tm, Tn, Tk) = (4, 8, 8), order M, N, K: trips 2, 1, 1. fM = 1, fN = 2; compute
  // 1*2*8 + 6 = 22 cycles. Streaming per tile: A Tm*Tk*fN = 64 + B Tk*Tn*fM = 64 = 128.
  // Tile 1: DRAM A 32 + B 64 = 96 (6 cycles); scratchpad 96 + 128 + C fill 32 = 256 (16 cycles).
  // Tile 2 (M advanced): DRAM A 32 + old C out 32 = 64 (4); scratchpad 64 + 128 + C drain 32 +
  // C fill 32 = 256 (16). Both take 22. Tail: drain 32 + read 32 from the scratchpad (4 cycles),
  // DRAM 32 (2). Cycles 22 + 22 + 4 = 48. PE buffer: 2 * (2*256 read-modify-writes) + fills
  // 32 + 32 + drains 32 + 32 = 1152; PE-to-PE 2 * (2*256 - 128) = 768; scratchpad 576; DRAM 192.
  hardware_config hw = small_machine(dataflow::output_stationary);
  const auto r = evaluate({8, 8, 8}, hw, {4, 8, 8, {gemm_dim::M, gemm_dim::N, gemm_dim::K}});
  REQUIRE(r.valid);
  CHECK(r.cycles == 48);
  CHECK(r.accesses.pe_buffer == 1152);
  CHECK(r.accesses.pe_to_pe == 768);
  CHECK(r.accesses.scratchpad == 576);
  CHECK(r.accesses.dram == 192);
  CHECK(r.energy_j == doctest::Approx(energy_pj(512, 1152, 768, 576, 192, 4, 512) * 1e-12));
}

TEST_CASE("accelerator: weight stationary with K outermost re-reads partial sums, by hand") {
  // Tiles (4, 8, 4), order K, M, N: trips 2, 2, 1. fK = 1, fN = 2; compute 1*2*4 + 6 = 14.
  // Streaming per tile: A 4*4*2 = 32 + psums 2*32 = 96; weights 32 into the PEs when B changes.
  //   (k0,m0) first:        DRAM A16 + B32 = 48 (3);   scratchpad 48+96+32 = 176 (11) -> 14
  //   (k0,m1) M advanced:   A16 + old C 32 = 48 (3);    48+96 = 144 (9)               -> 14
  //   (k1,m0) K advanced:   A16 + B32 + old C 32 + partial sums 32 = 112 (7); 112+96+32 = 240 (15) -> 15
  //   (k1,m1) M advanced:   A16 + old C 32 + partial sums 32 = 80 (5);  80+96 = 176 (11) -> 14
  //   tail: 32 out (2).
  // Cycles 14+14+15+14+2 = 59; DRAM 48+48+112+80+32 = 320; scratchpad 768; PE buffer
  // 4*128 + 2*32 = 576; PE-to-PE 4 * (2*128 - 32 - 32) = 768.
  const auto r = evaluate({8, 8, 8}, small_machine(dataflow::weight_stationary),
                          {4, 8, 4, {gemm_dim::K, gemm_dim::M, gemm_dim::N}});
  REQUIRE(r.valid);
  CHECK(r.cycles == 59);
  CHECK(r.accesses.dram == 320);
  CHECK(r.accesses.scratchpad == 768);
  CHECK(r.accesses.pe_buffer == 576);
  CHECK(r.accesses.pe_to_pe == 768);
  // The same tiles with K innermost keep C in the scratchpad: DRAM A 4*16 + B (changes with K
  // every tile) 4*32 + C out 32 + 32 = 256.
  const auto inner = evaluate({8, 8, 8}, small_machine(dataflow::weight_stationary),
                              {4, 8, 4, {gemm_dim::M, gemm_dim::N, gemm_dim::K}});
  CHECK(inner.accesses.dram == 256);
}

TEST_CASE("accelerator: closed-form tile classes equal a tile-by-tile walk") {
  rng gen(2025);
  int checked = 0;
  for (int trial = 0; trial < 300; ++trial) {
    const std::array<std::int64_t, 6> sizes{1, 2, 6, 8, 12, 16};
    const gemm_workload w{sizes[gen.uniform_int(6)], sizes[gen.uniform_int(6)], sizes[gen.uniform_int(6)]};
    hardware_config hw;
    hw.pe_x = 1 + static_cast<std::int64_t>(gen.uniform_int(5));
    hw.pe_y = 1 + static_cast<std::int64_t>(gen.uniform_int(5));
    hw.pe_buffer_bytes = 64;
    hw.scratchpad_bytes = 4096;
    hw.banks = 1 + static_cast<std::int64_t>(gen.uniform_int(4));
    hw.scratchpad_bytes_per_cycle = gen.uniform(0.5, 4);
    hw.dram_bytes_per_cycle = gen.uniform(0.5, 8);
    hw.bytes_per_element = 1 + static_cast<std::int64_t>(gen.uniform_int(2));
    hw.flow = gen.uniform_int(2) ? dataflow::output_stationary : dataflow::weight_stationary;
    const auto dm = divisors(w.M), dn = divisors(w.N), dk = divisors(w.K);
    const mapping map{dm[gen.uniform_int(dm.size())], dn[gen.uniform_int(dn.size())], dk[gen.uniform_int(dk.size())],
                      orders[gen.uniform_int(6)]};
    const auto r = evaluate(w, hw, map);
    if (!r.valid) continue;
    const auto ref = walk_tiles(w, hw, map);
    CHECK(r.cycles == doctest::Approx(ref.cycles));
    CHECK(r.accesses.dram == doctest::Approx(ref.dram));
    CHECK(r.accesses.scratchpad == doctest::Approx(ref.scratchpad));
    CHECK(r.accesses.pe_buffer == doctest::Approx(ref.pe_buffer));
    CHECK(r.accesses.pe_to_pe == doctest::Approx(ref.hops));
    ++checked;
  }
  CHECK(checked > 200);
}

TEST_CASE("accelerator: mappings that do not fit are invalid, malformed input throws") {
  const auto hw = small_machine(dataflow::weight_stationary);
  auto r = evaluate({8, 8, 8}, hw, {3, 8, 8});
  CHECK_FALSE(r.valid);
  CHECK(r.why_invalid.find("does not divide M") != std::string::npos);
  CHECK(r.cycles == 0);
  CHECK_FALSE(evaluate({8, 8, 8}, hw, {16, 8, 8}).valid);  // exceeds M
  // 2 * (16*16 + 16*8 + 16*8) = 1024 > 512 bytes of scratchpad.
  r = evaluate({16, 8, 16}, hw, {16, 8, 16});
  CHECK_FALSE(r.valid);
  CHECK(r.why_invalid.find("scratchpad") != std::string::npos);
  // Weight stationary: ceil(8/4) * ceil(8/4) = 4 weights per PE fit 4 bytes; 8 x 8 x 8 on a
  // 2-byte PE buffer does not, while output stationary needs ceil(4/4) * ceil(8/4) = 2.
  auto tight = hw;
  tight.pe_buffer_bytes = 2;
  r = evaluate({8, 8, 8}, tight, {8, 8, 8});
  CHECK_FALSE(r.valid);
  CHECK(r.why_invalid.find("PE buffer") != std::string::npos);
  tight.flow = dataflow::output_stationary;
  CHECK(evaluate({8, 8, 8}, tight, {4, 8, 8}).valid);
  CHECK_FALSE(evaluate({8, 8, 8}, tight, {8, 8, 8}).valid);

  CHECK_THROWS_AS((void)evaluate({0, 8, 8}, hw, {1, 1, 1}), invalid_argument);
  CHECK_THROWS_AS((void)evaluate({8, 8, 8}, hw, {0, 1, 1}), invalid_argument);
  CHECK_THROWS_AS((void)evaluate({8, 8, 8}, hw, {1, 1, 1, {gemm_dim::M, gemm_dim::M, gemm_dim::K}}), invalid_argument);
  auto broken = hw;
  broken.banks = 0;
  CHECK_THROWS_AS((void)evaluate({8, 8, 8}, broken, {1, 1, 1}), invalid_argument);
}

TEST_CASE("accelerator: more bandwidth is never slower; bigger buffers keep mappings valid; batches add up") {
  rng gen(7);
  const std::array<std::int64_t, 5> sizes{4, 8, 12, 16, 32};
  for (int trial = 0; trial < 200; ++trial) {
    const gemm_workload w{sizes[gen.uniform_int(5)], sizes[gen.uniform_int(5)], sizes[gen.uniform_int(5)]};
    hardware_config hw;
    hw.pe_x = 1 << gen.uniform_int(4);
    hw.pe_y = 1 << gen.uniform_int(4);
    hw.pe_buffer_bytes = 16;
    hw.scratchpad_bytes = 2048;
    hw.banks = 2;
    hw.flow = gen.uniform_int(2) ? dataflow::output_stationary : dataflow::weight_stationary;
    const auto dm = divisors(w.M), dn = divisors(w.N), dk = divisors(w.K);
    const mapping map{dm[gen.uniform_int(dm.size())], dn[gen.uniform_int(dn.size())], dk[gen.uniform_int(dk.size())],
                      orders[gen.uniform_int(6)]};
    const auto base = evaluate(w, hw, map);
    auto faster = hw;
    faster.dram_bytes_per_cycle *= 1 + gen.uniform() * 3;
    faster.scratchpad_bytes_per_cycle *= 1 + gen.uniform();
    faster.banks += static_cast<std::int64_t>(gen.uniform_int(3));
    auto bigger = hw;
    bigger.scratchpad_bytes *= 2;
    bigger.pe_buffer_bytes *= 4;
    const auto fast = evaluate(w, faster, map), big = evaluate(w, bigger, map);
    CHECK(fast.valid == base.valid);
    if (base.valid) {
      CHECK(big.valid);
      CHECK(fast.cycles <= base.cycles);
      CHECK(fast.energy_j == doctest::Approx(base.energy_j));  // bandwidth moves time, not data
    }
  }
  const auto hw = small_machine(dataflow::output_stationary);
  const auto one = evaluate({8, 8, 8}, hw, {4, 8, 8});
  const auto three = evaluate({8, 8, 8, 3}, hw, {4, 8, 8});
  CHECK(three.cycles == 3 * one.cycles);
  CHECK(three.energy_j == doctest::Approx(3 * one.energy_j));
  CHECK(three.power_w == doctest::Approx(one.power_w));
}

TEST_CASE("accelerator: SRAM energy follows the power law through the Eyeriss points") {
  const cost_constants k;
  CHECK(k.sram_access_pj(512) == doctest::Approx(0.3));         // RF of 0.5 kB: 1 MAC
  CHECK(k.sram_access_pj(102400) == doctest::Approx(6 * 0.3));  // 100 kB buffer: 6 MACs
  CHECK(k.sram_access_pj(64) < k.sram_access_pj(512));
  CHECK(k.sram_access_pj(1 << 20) > k.sram_access_pj(102400));
}

TEST_CASE("accelerator: the hardware space has 1,728 points, each a valid machine") {
  const auto space = hardware_space();
  CHECK(space.size() == 6);
  REQUIRE(space.cardinality().has_value());
  CHECK(*space.cardinality() == 1728);
  std::map<std::int64_t, int> pe_x_seen;
  std::set<std::int64_t> scratchpads;
  int output_stationary = 0;
  for (std::uint64_t i = 0; i < 1728; ++i) {
    const auto hw = decode_hardware(space.enumerate(i));
    hw.validate();
    ++pe_x_seen[hw.pe_x];
    scratchpads.insert(hw.scratchpad_bytes);
    output_stationary += hw.flow == dataflow::output_stationary;
    CHECK(hw.banks == hw.pe_x + hw.pe_y);
  }
  CHECK(pe_x_seen == std::map<std::int64_t, int>{{4, 432}, {8, 432}, {16, 432}, {32, 432}});
  CHECK(scratchpads == std::set<std::int64_t>{32768, 65536, 131072, 262144, 524288, 1048576});
  CHECK(output_stationary == 864);
  const auto hw = decode_hardware({16, 8, 256, 64, 32, 1});
  CHECK(hw.pe_x == 16);
  CHECK(hw.pe_y == 8);
  CHECK(hw.scratchpad_bytes == 262144);
  CHECK(hw.pe_buffer_bytes == 64);
  CHECK(hw.dram_bytes_per_cycle == 32);
  CHECK(hw.flow == dataflow::output_stationary);
  CHECK_THROWS_AS((void)decode_hardware({16, 8, 100, 64, 32, 1}), invalid_argument);
  CHECK_THROWS_AS((void)decode_hardware({16, 8}), invalid_argument);
}
