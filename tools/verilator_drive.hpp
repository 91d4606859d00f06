#pragma once
// Drives a Verilated block-circulant core (from frugal::fpga::circulant_verilog) cycle by cycle:
// loads its weights through the load port, streams input vectors with in_valid held high, and
// collects every output word and the cycle each vector's first input was taken.
#include <frugal/fpga.hpp>

#include <cstdint>
#include <vector>

namespace frugal_test {

struct hardware_run {
  std::vector<std::int64_t> outputs;      // every output word, sign-extended, in order
  std::vector<std::int64_t> start_cycle;  // cycle at which each vector's first input was accepted
  std::int64_t cycles = 0;                // cycles from the first input to the last output
};

inline std::int64_t sign_extend_code(std::uint64_t bits, int width) {
  const std::uint64_t sign = std::uint64_t{1} << (width - 1);
  bits &= (sign << 1) - 1;
  return static_cast<std::int64_t>(bits ^ sign) - static_cast<std::int64_t>(sign);
}

template <class Top>
void tick(Top& top) {
  top.clk = 0;
  top.eval();
  top.clk = 1;
  top.eval();
}

/// Resets the core and writes `words` through its load port: a circulant core's
/// (`fpga::load_word`, selected by `ld_bias`) or a BCR core's (`load_item`, selected by `ld_sel`).
template <class Top, class Word>
void load_weights(Top& top, const std::vector<Word>& words) {
  top.rst = 1;
  top.ld_en = 0;
  top.in_valid = 0;
  tick(top);
  tick(top);
  top.rst = 0;
  for (const auto& w : words) {
    top.ld_en = 1;
    if constexpr (requires { w.bias; })
      top.ld_bias = w.bias ? 1 : 0;
    else
      top.ld_sel = static_cast<unsigned>(w.sel);
    top.ld_addr = w.address;
    top.ld_data = w.data;
    tick(top);
  }
  top.ld_en = 0;
  tick(top);
}

/// Streams `inputs` (vectors of `width` codes each, concatenated) and collects `expected_outputs`
/// words; gives up after `max_cycles`.
template <class Top>
hardware_run stream(Top& top, const std::vector<std::int64_t>& inputs, std::int64_t width, int data_bits,
                    std::int64_t expected_outputs, std::int64_t max_cycles) {
  hardware_run run;
  const std::uint64_t mask = (std::uint64_t{1} << data_bits) - 1;
  std::size_t next = 0;
  std::int64_t cycle = 0, first = -1;
  while (static_cast<std::int64_t>(run.outputs.size()) < expected_outputs && cycle < max_cycles) {
    top.clk = 0;
    top.in_valid = next < inputs.size() ? 1 : 0;
    top.in_data = next < inputs.size() ? static_cast<std::uint64_t>(inputs[next]) & mask : 0;
    top.eval();
    const bool taken = top.in_valid && top.in_ready;
    top.clk = 1;
    top.eval();
    if (taken) {
      if (first < 0) first = cycle;
      if (static_cast<std::int64_t>(next) % width == 0) run.start_cycle.push_back(cycle);
      ++next;
    }
    if (top.out_valid) run.outputs.push_back(sign_extend_code(top.out_data, data_bits));
    ++cycle;
  }
  top.in_valid = 0;
  run.cycles = cycle - (first < 0 ? 0 : first);
  return run;
}

}  // namespace frugal_test
