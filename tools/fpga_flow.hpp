#pragma once
// The open FPGA flow from frugal's executables (never from the library): Yosys synthesis for a
// generic 4-LUT netlist, Lattice iCE40 and Xilinx 7-series, and nextpnr-ice40 place and route
// for the maximum clock. Each step runs the Debian tool in a shell, its log kept beside the
// Verilog, and reads the cell counts from Yosys' `stat` and the clock from nextpnr's report.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>

namespace frugal_tools {

struct resources {
  bool ok = false;
  long luts = 0, flip_flops = 0, dsps = 0, block_rams = 0;
};

inline bool have_program(const std::string& name) {
  return std::system(("command -v " + name + " > /dev/null 2>&1").c_str()) == 0;
}

/// Cell name → count from the last `stat` block of a Yosys log.
inline std::map<std::string, long> yosys_cells(const std::string& log_path) {
  std::ifstream in(log_path);
  std::map<std::string, long> cells;
  std::string line;
  const std::regex cell(R"(^\s+(\$?[A-Za-z_][A-Za-z0-9_$]*)\s+(\d+)\s*$)");
  while (std::getline(in, line)) {
    if (line.find("Number of cells:") != std::string::npos) cells.clear();
    std::smatch m;
    if (std::regex_match(line, m, cell)) cells[m[1]] = std::stol(m[2]);
  }
  return cells;
}

/// Synthesizes `verilog` (top module `top`) for `target`: "generic" (`synth -lut 4`), "ice40"
/// (`synth_ice40`, multipliers in LUTs as on the HX8K; with `dsp`, in SB_MAC16 blocks) or
/// "xc7" (`synth_xilinx -family xc7`). The iCE40 netlist is written as JSON for nextpnr.
inline resources synthesize(const std::filesystem::path& verilog, const std::string& top, const std::string& target,
                            bool dsp = false) {
  const auto dir = verilog.parent_path();
  const auto log = (dir / (top + "_" + target + ".yosys.log")).string();
  std::string script = "read_verilog " + verilog.string() + "; ";
  if (target == "generic")
    script += "synth -top " + top + " -lut 4; stat";
  else if (target == "ice40")
    script +=
        "synth_ice40 -top " + top + (dsp ? " -dsp" : "") + " -json " + (dir / (top + ".json")).string() + "; stat";
  else
    script += "synth_xilinx -family xc7 -top " + top + "; stat";
  const std::string command = "yosys -q -l " + log + " -p '" + script + "' > /dev/null 2>&1";
  resources r;
  if (std::system(command.c_str()) != 0) return r;
  const auto cells = yosys_cells(log);
  for (const auto& [name, n] : cells) {
    if (target == "generic") {
      if (name == "$lut") r.luts += n;
      if (name.rfind("$_DFF", 0) == 0 || name.rfind("$_SDFF", 0) == 0 || name.rfind("$_DFFE", 0) == 0)
        r.flip_flops += n;
    } else if (target == "ice40") {
      if (name == "SB_LUT4") r.luts += n;
      if (name.rfind("SB_DFF", 0) == 0) r.flip_flops += n;
      if (name == "SB_MAC16") r.dsps += n;
      if (name.rfind("SB_RAM40", 0) == 0) r.block_rams += n;
    } else {
      if (std::regex_match(name, std::regex("LUT[1-6]"))) r.luts += n;
      if (std::regex_match(name, std::regex("FD[A-Z]*"))) r.flip_flops += n;
      if (name.rfind("DSP48", 0) == 0) r.dsps += n;
      if (name == "RAMB18E1") r.block_rams += n;
      if (name == "RAMB36E1") r.block_rams += 2 * n;  // counted in 18 Kb halves
    }
  }
  r.ok = true;
  return r;
}

/// The width of port `name` in a generated core's Verilog (0 when absent, 1 for a scalar).
inline int port_width(const std::string& verilog_text, const std::string& name) {
  std::smatch m;
  if (std::regex_search(verilog_text, m, std::regex("wire \\[(\\d+):0\\] " + name + "[,\\n]")))
    return std::stoi(m[1]) + 1;
  if (std::regex_search(verilog_text, m, std::regex("wire " + name + "[,\\n]"))) return 1;
  return 0;
}

/// A place-and-route harness around core `top`: the wide load and data ports fed from one shift
/// register and the output shifted out serially, so the design needs ten pins and fits the small
/// iCE40 packages. The core's own paths are unchanged; the harness adds one shift register.
inline std::string pnr_harness(const std::string& verilog_text, const std::string& top) {
  const int law = port_width(verilog_text, "ld_addr"), ldw = port_width(verilog_text, "ld_data"),
            dw = port_width(verilog_text, "in_data"), sel = port_width(verilog_text, "ld_sel");
  const int n = law + ldw + dw;
  std::ostringstream v;
  v << "module " << top << "_pnr (input wire clk, input wire rst, input wire shift, input wire sdi, input wire ld_en,\n"
    << "    input wire sel0, input wire sel1, input wire in_valid, output wire in_ready, output wire out_valid,\n"
    << "    output wire sdo);\n"
    << "  reg [" << n - 1 << ":0] sr;\n"
    << "  always @(posedge clk) if (shift) sr <= {sr[" << n - 2 << ":0], sdi};\n"
    << "  wire core_valid;\n"
    << "  wire [" << dw - 1 << ":0] core_out;\n"
    << "  reg [" << dw - 1 << ":0] oreg;\n"
    << "  always @(posedge clk) if (core_valid) oreg <= core_out; else if (shift) oreg <= {oreg[" << dw - 2
    << ":0], 1'b0};\n"
    << "  assign sdo = oreg[" << dw - 1 << "];\n"
    << "  assign out_valid = core_valid;\n"
    << "  " << top << " core (.clk(clk), .rst(rst), .ld_en(ld_en), "
    << (sel > 0 ? ".ld_sel({sel1, sel0})" : ".ld_bias(sel0)") << ", .ld_addr(sr[" << n - 1 << ":" << ldw + dw
    << "]), .ld_data(sr[" << ldw + dw - 1 << ":" << dw << "]), .in_valid(in_valid), .in_ready(in_ready),\n"
    << "      .in_data(sr[" << dw - 1 << ":0]), .out_valid(core_valid), .out_data(core_out));\n"
    << "endmodule\n";
  if (sel == 0) v << "// sel1 is unused by this core\n";
  return v.str();
}

struct placement {
  std::string device;  ///< where it was placed
  double mhz = 0;
};

/// The maximum clock nextpnr-ice40 reaches for core `top` inside `pnr_harness` on an iCE40 HX8K
/// (CT256), multipliers in LUTs; nothing when it does not fit (7,680 logic cells) or fails.
/// Not the UP5K with its SB_MAC16 blocks: Yosys maps the cores' combinational multipliers to
/// DSPs whose clock pin is tied low, and nextpnr then times the paths through them against that
/// phantom clock, not `clk`, so the UP5K figure would leave out the slowest paths.
inline std::optional<placement> max_clock(const std::filesystem::path& verilog, const std::string& top, int seed = 1) {
  const auto dir = verilog.parent_path();
  std::ifstream in(verilog);
  std::stringstream text;
  text << in.rdbuf();
  const auto harness = dir / (top + "_pnr.v");
  std::ofstream(harness) << pnr_harness(text.str(), top);
  const auto json = (dir / (top + "_hx8k.json")).string();
  const auto ylog = (dir / (top + "_hx8k.yosys.log")).string();
  const std::string synth = "yosys -q -l " + ylog + " -p 'read_verilog " + verilog.string() + " " + harness.string() +
                            "; synth_ice40 -top " + top + "_pnr -json " + json + "; stat' > /dev/null 2>&1";
  if (std::system(synth.c_str()) != 0) return std::nullopt;
  const auto cells = yosys_cells(ylog);
  const auto luts = cells.find("SB_LUT4");
  if (luts == cells.end() || luts->second > 7680) return std::nullopt;
  const auto log = (dir / (top + "_hx8k.nextpnr.log")).string();
  const std::string command = "nextpnr-ice40 --hx8k --package ct256 --json " + json +
                              " --freq 12 --pcf-allow-unconstrained --seed " + std::to_string(seed) + " > " + log +
                              " 2>&1";
  if (std::system(command.c_str()) != 0) return std::nullopt;
  std::ifstream report(log);
  std::string line;
  std::optional<double> mhz;
  const std::regex freq(R"(Max frequency for clock +'clk[^']*': ([0-9.]+) MHz)");
  while (std::getline(report, line)) {
    std::smatch m;
    if (std::regex_search(line, m, freq)) mhz = std::stod(m[1]);  // the last report is the final one
  }
  if (!mhz) return std::nullopt;
  return placement{"HX8K", *mhz};
}

}  // namespace frugal_tools
