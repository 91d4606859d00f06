#pragma once
/// \file
/// An analytical cost model of a spatial accelerator that runs GEMM intrinsics, in the spirit of
/// MAESTRO and Timeloop: closed-form access counts per memory level, a roofline per scratchpad
/// tile for latency, access counts times published per-access energies for energy, and area from
/// published MAC and SRAM-cell areas. docs/search-hardware.md derives every formula, lists the
/// constants with their sources and works two layers through by hand.
///
/// The machine: DRAM -> a banked, shared scratchpad -> a pe_y x pe_x array of PEs, each with a
/// multiply-accumulate unit and a private buffer. The workload is `C[M,N] += A[M,K] * B[K,N]`
/// (A: activations or im2col'd input, B: weights). A mapping cuts M, N, K into scratchpad tiles
/// (Tm, Tn, Tk), which must divide the extents, and visits them in a loop order. Inside a tile
/// the array folds the tile onto its rows and columns:
///
/// - weight stationary (TPU-like): B[k,n] sits in PE (k mod pe_y, n mod pe_x); rows of A stream
///   in from the left, partial sums flow down the columns and are accumulated in the scratchpad.
///   Folds fK = ceil(Tk/pe_y), fN = ceil(Tn/pe_x); compute = fK*fN*Tm + pe_x + pe_y - 2 cycles.
/// - output stationary (ShiDianNao-like): C[m,n] stays in PE (m mod pe_y, n mod pe_x); A enters
///   from the left, B from the top. Folds fM = ceil(Tm/pe_y), fN; compute = fM*fN*Tk + pe_x +
///   pe_y - 2 cycles.
///
/// The pe_x + pe_y - 2 cycles fill and drain the systolic skew once per tile.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>

#include "../core/error.hpp"
#include "space.hpp"

namespace frugal::search {

enum class dataflow { weight_stationary, output_stationary };

/// The hardware parameters the co-design search explores.
struct hardware_config {
  std::int64_t pe_x = 8;                   ///< array columns
  std::int64_t pe_y = 8;                   ///< array rows
  std::int64_t pe_buffer_bytes = 64;       ///< private buffer of each PE
  std::int64_t scratchpad_bytes = 131072;  ///< the shared scratchpad
  std::int64_t banks = 16;                 ///< scratchpad banks, accessed in parallel
  double dram_bytes_per_cycle = 16;        ///< DRAM bandwidth
  double scratchpad_bytes_per_cycle = 2;   ///< bandwidth of one bank
  dataflow flow = dataflow::weight_stationary;
  std::int64_t bytes_per_element = 1;  ///< operands and partial sums alike
  double clock_hz = 1e9;

  /// Throws `invalid_argument` naming the first field that is not positive.
  void validate() const {
    const auto where = "frugal::search::hardware_config::validate: ";
    check(pe_x >= 1 && pe_y >= 1, where, "array ", pe_y, " x ", pe_x, " must have at least one PE");
    check(pe_buffer_bytes >= 1, where, "pe_buffer_bytes ", pe_buffer_bytes, " must be positive");
    check(scratchpad_bytes >= 1, where, "scratchpad_bytes ", scratchpad_bytes, " must be positive");
    check(banks >= 1, where, "banks ", banks, " must be positive");
    check(dram_bytes_per_cycle > 0, where, "dram_bytes_per_cycle ", dram_bytes_per_cycle, " must be positive");
    check(scratchpad_bytes_per_cycle > 0, where, "scratchpad_bytes_per_cycle ", scratchpad_bytes_per_cycle,
          " must be positive");
    check(bytes_per_element >= 1, where, "bytes_per_element ", bytes_per_element, " must be positive");
    check(clock_hz > 0, where, "clock_hz ", clock_hz, " must be positive");
  }
};

/// `batch` independent products `C[M,N] += A[M,K] * B[K,N]`, run one after another (a depthwise
/// convolution is one small product per channel).
struct gemm_workload {
  std::int64_t M = 1, N = 1, K = 1;
  std::int64_t batch = 1;

  void validate() const {
    check(M >= 1 && N >= 1 && K >= 1 && batch >= 1, "frugal::search::gemm_workload::validate: M, N, K, batch = ", M,
          ", ", N, ", ", K, ", ", batch, " must all be positive");
  }
  [[nodiscard]] double macs() const {
    return static_cast<double>(M) * static_cast<double>(N) * static_cast<double>(K) * static_cast<double>(batch);
  }
  [[nodiscard]] std::int64_t extent(int dim) const { return dim == 0 ? M : dim == 1 ? N : K; }
};

/// The three loops of a GEMM, as indices into a mapping's order.
enum class gemm_dim : int { M = 0, N = 1, K = 2 };

/// A software mapping: scratchpad tile sizes and the order the tiles are visited in.
struct mapping {
  std::int64_t tile_m = 1, tile_n = 1, tile_k = 1;
  std::array<gemm_dim, 3> order{gemm_dim::M, gemm_dim::N, gemm_dim::K};  ///< outermost first

  [[nodiscard]] std::int64_t tile(int dim) const { return dim == 0 ? tile_m : dim == 1 ? tile_n : tile_k; }
  friend bool operator==(const mapping&, const mapping&) = default;
};

/// Element accesses at each level, reads and writes together.
struct access_counts {
  double macs = 0;        ///< multiply-accumulates
  double pe_buffer = 0;   ///< PE-private buffer accesses
  double pe_to_pe = 0;    ///< operands and partial sums forwarded between neighbouring PEs
  double scratchpad = 0;  ///< shared scratchpad accesses (array side and DRAM side)
  double dram = 0;        ///< DRAM transfers
};

/// Energy and area constants. Defaults: one 8-bit multiply (0.2 pJ) plus one 32-bit add
/// (0.1 pJ) per MAC, and areas 282 + 137 um^2 (Horowitz, ISSCC 2014, 45 nm); per-access energy
/// relative to a MAC from Eyeriss (Chen, Emer, Sze, ISCA 2016, fig. 1): register file of 0.5 kB
/// 1x, PE-to-PE 2x, 100 kB buffer 6x, DRAM 200x. An SRAM of other sizes costs
/// (bytes / 512)^alpha MACs per access, the power law through the two Eyeriss SRAM points
/// (alpha = ln 6 / ln 200 = 0.338). SRAM area: Intel's 45 nm 6T cell of 0.346 um^2 (Mistry et
/// al., IEDM 2007) at an assumed 70% array efficiency.
struct cost_constants {
  double mac_pj = 0.3;
  double pe_to_pe_ratio = 2;
  double dram_ratio = 200;
  double sram_small_bytes = 512, sram_small_ratio = 1;
  double sram_large_bytes = 102400, sram_large_ratio = 6;
  double mac_area_um2 = 282 + 137;
  double sram_area_um2_per_byte = 8 * 0.346 / 0.7;

  /// Energy of one access to an SRAM of `bytes` bytes, in pJ.
  [[nodiscard]] double sram_access_pj(double bytes) const {
    const double alpha = std::log(sram_large_ratio / sram_small_ratio) / std::log(sram_large_bytes / sram_small_bytes);
    return mac_pj * sram_small_ratio * std::pow(bytes / sram_small_bytes, alpha);
  }
  void validate() const {
    check(mac_pj > 0 && pe_to_pe_ratio >= 0 && dram_ratio >= 0 && sram_small_bytes > 0 &&
              sram_large_bytes > sram_small_bytes && sram_small_ratio > 0 && sram_large_ratio > 0 &&
              mac_area_um2 >= 0 && sram_area_um2_per_byte >= 0,
          "frugal::search::cost_constants::validate: energies and sizes must be positive, areas non-negative, and "
          "sram_large_bytes above sram_small_bytes");
  }
};

/// What one workload costs on one machine under one mapping.
struct accelerator_cost {
  bool valid = false;
  std::string why_invalid;  ///< empty when valid
  double cycles = 0;
  double latency_s = 0;
  double energy_j = 0;
  double power_w = 0;  ///< average dynamic power, energy / latency
  double area_mm2 = 0;
  access_counts accesses;
};

/// Silicon area of the machine in mm^2: every PE's MAC and buffer plus the scratchpad.
inline double accelerator_area_mm2(const hardware_config& hw, const cost_constants& k = {}) {
  hw.validate();
  const double pes = static_cast<double>(hw.pe_x * hw.pe_y);
  const double um2 = pes * (k.mac_area_um2 + static_cast<double>(hw.pe_buffer_bytes) * k.sram_area_um2_per_byte) +
                     static_cast<double>(hw.scratchpad_bytes) * k.sram_area_um2_per_byte;
  return um2 * 1e-6;
}

namespace detail {

inline std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

}  // namespace detail

/// Why `map` cannot run `w` on `hw` (tiles that do not divide the extents, a scratchpad that
/// cannot double-buffer the three tiles, a PE buffer too small for its share of the stationary
/// tile), or an empty string when it can.
/// \throws invalid_argument for malformed input: non-positive sizes, an order that is not a
///         permutation of M, N, K.
inline std::string mapping_fit(const gemm_workload& w, const hardware_config& hw, const mapping& map) {
  w.validate();
  hw.validate();
  check(map.tile_m >= 1 && map.tile_n >= 1 && map.tile_k >= 1, "frugal::search::mapping_fit: tiles ", map.tile_m, " x ",
        map.tile_n, " x ", map.tile_k, " must be positive");
  int seen = 0;
  for (auto d : map.order) seen |= 1 << static_cast<int>(d);
  check(seen == 7, "frugal::search::mapping_fit: the loop order must be a permutation of M, N, K");
  static constexpr const char* names[] = {"M", "N", "K"};
  for (int d = 0; d < 3; ++d) {
    if (map.tile(d) > w.extent(d))
      return frugal::detail::concat("tile ", map.tile(d), " exceeds ", names[d], " = ", w.extent(d));
    if (w.extent(d) % map.tile(d) != 0)
      return frugal::detail::concat("tile ", map.tile(d), " does not divide ", names[d], " = ", w.extent(d));
  }
  const std::int64_t tm = map.tile_m, tn = map.tile_n, tk = map.tile_k, b = hw.bytes_per_element;
  const std::int64_t scratch = 2 * (tm * tk + tk * tn + tm * tn) * b;
  if (scratch > hw.scratchpad_bytes)
    return frugal::detail::concat("double-buffered tiles need ", scratch, " scratchpad bytes, the machine has ",
                                  hw.scratchpad_bytes);
  const std::int64_t per_pe =
      (hw.flow == dataflow::weight_stationary ? detail::ceil_div(tk, hw.pe_y) : detail::ceil_div(tm, hw.pe_y)) *
      detail::ceil_div(tn, hw.pe_x) * b;
  if (per_pe > hw.pe_buffer_bytes)
    return frugal::detail::concat("the stationary tile needs ", per_pe, " bytes in each PE buffer, the machine has ",
                                  hw.pe_buffer_bytes);
  return {};
}

/// The cost of running `w` on `hw` with `map` (`valid == false` and a reason when the mapping
/// does not fit; see mapping_fit).
///
/// Tiles are visited in `map.order`; with trip counts t1, t2, t3 (outer to inner), a tile is in
/// one of four classes: the first; i1 advanced (i2 = i3 = 0); i2 advanced (i3 = 0); i3 advanced.
/// An operand's tile is reloaded from DRAM when a loop it depends on changed (A: M, K; B: K, N;
/// C: M, N); a changed C tile writes the previous one back and, when its K index is not 0,
/// reads its partial sums. Per tile
///
///     cycles = max(compute, dram_bytes / dram_bw, scratchpad_bytes / (banks * bank_bw))
///
/// (a roofline: transfers are double-buffered behind compute), summed over tiles, plus the last
/// C tile's write-back, times `batch`. Scratchpad traffic counts the array's reads and writes
/// and one access per DRAM transfer. The stationary operand (B for weight stationary, C for
/// output stationary) moves between scratchpad and PE buffers only when its tile changes.
/// Energy = sum over levels of accesses times energy per access; power = energy / latency.
/// Cost: O(1), no allocation unless invalid.
inline accelerator_cost evaluate(const gemm_workload& w, const hardware_config& hw, const mapping& map,
                                 const cost_constants& k = {}) {
  k.validate();
  accelerator_cost r;
  r.why_invalid = mapping_fit(w, hw, map);
  if (!r.why_invalid.empty()) return r;
  r.valid = true;

  using i64 = std::int64_t;
  const i64 tm = map.tile_m, tn = map.tile_n, tk = map.tile_k;
  const double tile_macs = static_cast<double>(tm * tn * tk);
  const bool ws = hw.flow == dataflow::weight_stationary;

  // Array side of one tile: the streaming operands every tile, the stationary one when it changes.
  double compute = 0, stream_sp = 0, stream_pe = 0, hops = 0, stationary_sp = 0, stationary_pe = 0;
  if (ws) {
    const i64 fk = detail::ceil_div(tk, hw.pe_y), fn = detail::ceil_div(tn, hw.pe_x);
    const double a_reads = static_cast<double>(tm * tk * fn), c_rw = static_cast<double>(tm * tn * fk);
    compute = static_cast<double>(fk * fn * tm + hw.pe_x + hw.pe_y - 2);
    stream_sp = a_reads + 2 * c_rw;  // psums: one read and one write per k-fold
    stream_pe = tile_macs;           // each MAC reads its weight
    hops = (tile_macs - a_reads) + (tile_macs - c_rw);
    stationary_sp = static_cast<double>(tk * tn);  // weights into the PE buffers
    stationary_pe = static_cast<double>(tk * tn);
  } else {
    const i64 fm = detail::ceil_div(tm, hw.pe_y), fn = detail::ceil_div(tn, hw.pe_x);
    const double a_reads = static_cast<double>(tm * tk * fn), b_reads = static_cast<double>(tk * tn * fm);
    compute = static_cast<double>(fm * fn * tk + hw.pe_x + hw.pe_y - 2);
    stream_sp = a_reads + b_reads;
    stream_pe = 2 * tile_macs;  // each MAC reads and writes its partial sum
    hops = (tile_macs - a_reads) + (tile_macs - b_reads);
    stationary_sp = static_cast<double>(tm * tn);  // fill the new C tile (draining the old one is below)
    stationary_pe = static_cast<double>(tm * tn);
  }

  const double bytes = static_cast<double>(hw.bytes_per_element);
  const double sp_bw = static_cast<double>(hw.banks) * hw.scratchpad_bytes_per_cycle;
  const double a_tile = static_cast<double>(tm * tk), b_tile = static_cast<double>(tk * tn),
               c_tile = static_cast<double>(tm * tn);

  std::array<i64, 3> trips{};
  std::array<int, 3> dim_at{};
  int k_position = 0;
  for (int p = 0; p < 3; ++p) {
    dim_at[p] = static_cast<int>(map.order[p]);
    trips[p] = w.extent(dim_at[p]) / map.tile(dim_at[p]);
    if (dim_at[p] == 2) k_position = p;
  }
  constexpr int rel_a = 1 << 0 | 1 << 2, rel_b = 1 << 2 | 1 << 1, rel_c = 1 << 0 | 1 << 1;
  const int stationary_rel = ws ? rel_b : rel_c;

  double cycles = 0, dram = 0, scratchpad = 0, pe_buffer = 0, tiles = 0;
  for (int cls = 0; cls < 4; ++cls) {
    // Index ranges [lo, hi) of each loop position over the class's iterations.
    std::array<i64, 3> lo{}, hi{};
    for (int p = 0; p < 3; ++p) {
      const int q = cls - 1;  // the position that advanced (none for the first tile)
      lo[p] = (p == q) ? 1 : 0;
      hi[p] = (p < q) ? trips[p] : (p == q ? trips[p] : 1);
    }
    double count = 1;
    for (int p = 0; p < 3; ++p) count *= static_cast<double>(std::max<i64>(hi[p] - lo[p], 0));
    if (count == 0) continue;
    int changed = 0;
    if (cls == 0) {
      changed = 7;
    } else {
      for (int p = cls - 1; p < 3; ++p)
        if (p == cls - 1 || trips[p] > 1) changed |= 1 << dim_at[p];
    }
    // Split the class by whether the K index is 0 (C's partial sums not yet in DRAM).
    const double k_span = static_cast<double>(hi[k_position] - lo[k_position]);
    const double with_k0 = lo[k_position] == 0 ? count / k_span : 0;
    for (int part = 0; part < 2; ++part) {
      const double n = part == 0 ? with_k0 : count - with_k0;
      if (n == 0) continue;
      const bool c_changes = cls > 0 && (changed & rel_c);
      double dram_elems = ((changed & rel_a) ? a_tile : 0) + ((changed & rel_b) ? b_tile : 0);
      if (c_changes) dram_elems += c_tile + (part == 1 ? c_tile : 0);
      double sp_elems = dram_elems + stream_sp, pe_elems = stream_pe;
      if (changed & stationary_rel) {
        sp_elems += stationary_sp;
        pe_elems += stationary_pe;
        if (!ws && cls > 0) {  // drain the finished C tile from the PEs
          sp_elems += c_tile;
          pe_elems += c_tile;
        }
      }
      const double tile_cycles =
          std::max({compute, dram_elems * bytes / hw.dram_bytes_per_cycle, sp_elems * bytes / sp_bw});
      cycles += n * tile_cycles;
      dram += n * dram_elems;
      scratchpad += n * sp_elems;
      pe_buffer += n * pe_elems;
      tiles += n;
    }
  }
  // The last C tile goes back to DRAM (after leaving the PEs, for output stationary).
  const double tail_sp = c_tile + (ws ? 0 : c_tile);
  cycles += std::max(c_tile * bytes / hw.dram_bytes_per_cycle, tail_sp * bytes / sp_bw);
  dram += c_tile;
  scratchpad += tail_sp;
  pe_buffer += ws ? 0 : c_tile;

  const double batch = static_cast<double>(w.batch);
  r.accesses.macs = w.macs();
  r.accesses.pe_buffer = batch * pe_buffer;
  r.accesses.pe_to_pe = batch * tiles * hops;
  r.accesses.scratchpad = batch * scratchpad;
  r.accesses.dram = batch * dram;
  r.cycles = batch * cycles;
  r.latency_s = r.cycles / hw.clock_hz;
  const double pj = r.accesses.macs * k.mac_pj +
                    r.accesses.pe_buffer * k.sram_access_pj(static_cast<double>(hw.pe_buffer_bytes)) +
                    r.accesses.pe_to_pe * k.pe_to_pe_ratio * k.mac_pj +
                    r.accesses.scratchpad * k.sram_access_pj(static_cast<double>(hw.scratchpad_bytes)) +
                    r.accesses.dram * k.dram_ratio * k.mac_pj;
  r.energy_j = pj * 1e-12;
  r.power_w = r.energy_j / r.latency_s;
  r.area_mm2 = accelerator_area_mm2(hw, k);
  return r;
}

// ---------------------------------------------------------------------------------------------
// The hardware search space

/// The hardware space HASCO's outer loop explores, all discrete (4 * 4 * 6 * 3 * 3 * 2 = 1,728
/// points): pe_x and pe_y in {4, 8, 16, 32}; scratchpad_kib in {32, 64, ..., 1024};
/// pe_buffer_bytes in {16, 64, 256}; dram_bytes_per_cycle in {8, 16, 32}; dataflow (weight
/// stationary, output stationary). Decode with decode_hardware.
inline search_space hardware_space() {
  search_space s;
  s.add_ordinal("pe_x", {4, 8, 16, 32})
      .add_ordinal("pe_y", {4, 8, 16, 32})
      .add_ordinal("scratchpad_kib", {32, 64, 128, 256, 512, 1024})
      .add_ordinal("pe_buffer_bytes", {16, 64, 256})
      .add_ordinal("dram_bytes_per_cycle", {8, 16, 32})
      .add_categorical("dataflow", 2);
  return s;
}

/// The machine at point `p` of hardware_space(). Fields the space leaves out: one scratchpad bank
/// per array edge port (pe_x + pe_y banks), each dual-ported (two elements a cycle: one for the
/// array, one for DRAM), one byte per element, 1 GHz.
/// \throws invalid_argument when `p` is not a point of hardware_space().
inline hardware_config decode_hardware(const point& p) {
  check(hardware_space().contains(p), "frugal::search::decode_hardware: the point is not in hardware_space()");
  hardware_config hw;
  hw.pe_x = static_cast<std::int64_t>(p[0]);
  hw.pe_y = static_cast<std::int64_t>(p[1]);
  hw.scratchpad_bytes = static_cast<std::int64_t>(p[2]) * 1024;
  hw.pe_buffer_bytes = static_cast<std::int64_t>(p[3]);
  hw.dram_bytes_per_cycle = p[4];
  hw.flow = p[5] == 0 ? dataflow::weight_stationary : dataflow::output_stationary;
  hw.banks = hw.pe_x + hw.pe_y;
  hw.bytes_per_element = 1;
  hw.scratchpad_bytes_per_cycle = 2.0 * static_cast<double>(hw.bytes_per_element);
  hw.clock_hz = 1e9;
  return hw;
}

}  // namespace frugal::search
