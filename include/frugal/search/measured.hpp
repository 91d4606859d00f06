#pragma once
/// \file
/// Measured design points for the co-design search: a machine built and measured elsewhere (a
/// generated FPGA core placed and routed, a simulator's cycle count) costed on the same scale as
/// the analytical accelerator model, so it can stand beside `hasco_search`'s designs in one front.

#include <cmath>
#include <string>
#include <utility>

#include "../core/error.hpp"
#include "accelerator.hpp"
#include "hasco.hpp"
#include "workloads.hpp"

namespace frugal::search {

/// What was measured for one design running one workload: the cycles (from simulation) and the
/// clock (from place and route), the operations it performed (multiply-accumulates and accesses
/// to its on-chip memory of `memory_bytes`), its multipliers and memory (its silicon on the
/// analytical model's scale) and, for reference, the FPGA resources it took.
struct measured_design_point {
  std::string name;
  double cycles = 0;                                        ///< for the whole workload
  double clock_hz = 0;                                      ///< the maximum clock of the placed design
  double macs = 0;                                          ///< multiply-accumulates performed
  double memory_accesses = 0;                               ///< on-chip memory accesses (reads and writes)
  double memory_bytes = 0;                                  ///< size of that on-chip memory
  double multipliers = 0;                                   ///< hardware multipliers (e.g. DSP blocks)
  long luts = 0, flip_flops = 0, dsps = 0, block_rams = 0;  ///< FPGA resources (reported, not costed)

  /// Throws `invalid_argument` naming the first figure that is not positive (cycles, clock) or
  /// negative (the rest).
  void validate() const {
    const auto where = "frugal::search::measured_design_point::validate: ";
    check(cycles > 0 && std::isfinite(cycles), where, name, ": cycles ", cycles, " must be positive");
    check(clock_hz > 0 && std::isfinite(clock_hz), where, name, ": clock_hz ", clock_hz, " must be positive");
    check(macs >= 0 && memory_accesses >= 0 && memory_bytes >= 0 && multipliers >= 0, where, name,
          ": operation and size counts must be non-negative");
  }
};

/// The cost of a measured design on the analytical model's scale: latency = cycles / clock;
/// energy = macs·mac_pj + memory_accesses·sram_access_pj(memory_bytes) (the constants the
/// analytical designs are costed with); power = energy / latency; area = multipliers·mac_area +
/// memory_bytes·sram_area (the same 45 nm figures).
[[nodiscard]] inline design_cost measured_cost(const measured_design_point& m, const cost_constants& k = {}) {
  m.validate();
  k.validate();
  design_cost c;
  c.valid = true;
  c.cycles = m.cycles;
  c.latency_s = m.cycles / m.clock_hz;
  const double pj =
      m.macs * k.mac_pj + (m.memory_bytes > 0 ? m.memory_accesses * k.sram_access_pj(m.memory_bytes) : 0.0);
  c.energy_j = pj * 1e-12;
  c.power_w = c.energy_j / c.latency_s;
  c.area_mm2 = (m.multipliers * k.mac_area_um2 + m.memory_bytes * k.sram_area_um2_per_byte) * 1e-6;
  return c;
}

/// A measured design as a `hasco_design` (objectives in the order of `which`, feasible within the
/// budgets of `options`), to append to `hasco_result::designs` before taking a front. Its `x` is
/// empty and its `hw` the default: it is not a point of `hardware_space()`.
[[nodiscard]] inline hasco_design measured_hasco_design(const measured_design_point& m,
                                                        const hasco_options& options = {}) {
  hasco_design d;
  d.cost = measured_cost(m, options.constants);
  d.objectives = design_objectives(d.cost, options.objectives);
  d.feasible = d.cost.area_mm2 <= options.area_budget_mm2 && d.cost.power_w <= options.power_budget_w;
  return d;
}

}  // namespace frugal::search
