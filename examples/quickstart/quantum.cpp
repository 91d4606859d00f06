// Quickstart, quantum: a 3-qubit GHZ state on three coupled qubits of a device, simulated with the
// device's noise (gate errors, relaxation during gates, readout confusion) and without.
//
//   quickstart_quantum                    the built-in 27-qubit line (IBM Falcon median figures)
//   quickstart_quantum props_nairobi.json a Qiskit BackendProperties JSON file
//
// A device calibration describes all its qubits; a circuit uses a few. `calibration::subset`
// picks them: device qubit chosen[i] becomes the circuit's qubit i.
#include <frugal/quantum.hpp>
#include <frugal/quantum/backend_properties.hpp>  // read_backend_properties: only for reading files

#include <Kokkos_Core.hpp>

#include <cstdio>
#include <exception>
#include <vector>

namespace q = frugal::quantum;

namespace {

/// Three device qubits a - b - c with b coupled to both: the first qubit with two neighbours.
std::vector<int> coupled_path(const q::calibration& device) {
  for (int b = 0; b < device.num_qubits(); ++b) {
    std::vector<int> neighbours;
    for (int x = 0; x < device.num_qubits(); ++x)
      if (x != b && device.coupled(b, x)) neighbours.push_back(x);
    if (neighbours.size() >= 2) return {neighbours[0], b, neighbours[1]};
  }
  throw frugal::invalid_argument("quickstart_quantum: '" + device.name + "' has no three coupled qubits");
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard kokkos(argc, argv);
  try {
    const q::calibration device = argc > 1 ? q::read_backend_properties(argv[1]) : q::calibrations::falcon_line(27);
    const q::calibration chosen = device.subset(coupled_path(device));  // 3 qubits, renumbered 0, 1, 2

    q::circuit ghz(3);
    ghz.h(1).cx(1, 0).cx(1, 2);  // (|000> + |111>)/sqrt(2), entangled from the middle qubit

    const q::noise_model noise(chosen);
    const auto ideal = q::probabilities(q::simulate(ghz, {}));
    const auto noisy = q::apply_readout_error(q::probabilities(q::simulate(ghz, {}, &noise)), noise.readout_errors());
    std::printf("GHZ on %s (%d-qubit device): P(000) + P(111) = %.4f with noise, %.4f without\n", chosen.name.c_str(),
                device.num_qubits(), noisy[0] + noisy[7], ideal[0] + ideal[7]);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "quickstart_quantum: %s\n", e.what());
    return 1;
  }
  return 0;
}
