#pragma once
/// \file
/// Noise models built from calibrations, noisy simulation, and devices: anything that returns
/// measurement counts for a circuit and a shot count (`Device`). `simulated_device` is the
/// stand-in for hardware: calibrated stochastic noise plus hidden coherent errors (systematic
/// over-rotation, residual ZZ coupling) that the calibrated noise model does not know about.

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <map>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../core/parallel.hpp"
#include "../core/rng.hpp"
#include "calibration.hpp"
#include "channels.hpp"
#include "circuit.hpp"
#include "gradients.hpp"
#include "measurement.hpp"
#include "operations.hpp"

namespace frugal::quantum {

/// Process fidelity Tr(S)/d² of a channel against the identity.
[[nodiscard]] inline double process_fidelity(const channel& e) {
  const double d = static_cast<double>(index_t(1) << e.qubits());
  return e.superoperator().trace().real() / (d * d);
}

/// Average gate fidelity (d·F_pro + 1)/(d + 1) of a channel against the identity.
[[nodiscard]] inline double average_gate_fidelity(const channel& e) {
  const double d = static_cast<double>(index_t(1) << e.qubits());
  return (d * process_fidelity(e) + 1) / (d + 1);
}

/// True for gates a transmon implements as frame changes (no duration, no error): Z, S, S†, T,
/// T†, RZ, Phase.
[[nodiscard]] inline bool is_virtual_gate(gate_kind k) {
  switch (k) {
    case gate_kind::z:
    case gate_kind::s:
    case gate_kind::sdg:
    case gate_kind::t:
    case gate_kind::tdg:
    case gate_kind::rz:
    case gate_kind::phase:
      return true;
    default:
      return false;
  }
}

/// Device noise built from a calibration, Qiskit Aer's "basic device model": after each gate,
/// thermal relaxation of its qubits for the gate's duration (T2 clamped to 2·T1 as Qiskit does,
/// since calibrated T2 sometimes exceeds it), then a depolarizing channel whose strength makes the
/// total average gate error equal the calibrated one (none when relaxation alone exceeds it); at
/// measurement, per-qubit asymmetric readout confusion. Virtual gates are noiseless; every other
/// one-qubit gate takes the qubit's "sx" calibration, every two-qubit gate the pair's "cx"/"ecr"
/// one (either direction); a two-qubit gate on an uncoupled pair is refused. Idle qubits are not
/// decohered.
class noise_model {
 public:
  struct gate_noise {
    double length_ns = 0;
    double error = 0;
  };

  explicit noise_model(calibration cal) : m_cal(std::move(cal)) {
    m_cal.validate();
    // Channels are built once: per qubit for one-qubit gates, per coupled pair for two-qubit ones.
    for (int q = 0; q < m_cal.num_qubits(); ++q) {
      const auto* g = m_cal.find("sx", {q});
      if (!g) continue;
      prepared p{{g->length_ns, g->error}, relaxation(q, g->length_ns), {}, {}};
      const double lambda = depolarizing_parameter(g->error, process_fidelity(p.r0), 1);
      if (lambda > 0) p.depolarizing = channels::depolarizing(lambda);
      m_one.emplace(q, std::move(p));
    }
    for (const auto& [a, b] : m_cal.coupling_map())
      for (const auto& [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
        const auto* g = m_cal.find_two_qubit(x, y);
        prepared p{{g->length_ns, g->error}, relaxation(x, g->length_ns), relaxation(y, g->length_ns), {}};
        const double lambda = depolarizing_parameter(g->error, process_fidelity(p.r0) * process_fidelity(*p.r1), 2);
        if (lambda > 0) p.depolarizing = channels::depolarizing(lambda, 2);
        m_two.emplace(std::pair{x, y}, std::move(p));
      }
  }

  [[nodiscard]] const calibration& device_calibration() const noexcept { return m_cal; }
  [[nodiscard]] int qubits() const noexcept { return m_cal.num_qubits(); }

  /// Duration and calibrated error of a gate on this device.
  [[nodiscard]] gate_noise gate(const operation& op) const {
    if (is_virtual_gate(op.kind)) return {};
    return prepared_for(op).noise;
  }

  /// Thermal relaxation of qubit q over `ns` nanoseconds.
  [[nodiscard]] channel relaxation(int q, double ns) const {
    const auto& c = m_cal.qubits[static_cast<std::size_t>(q)];
    return channels::thermal_relaxation(c.t1_ns, std::min(c.t2_ns, 2 * c.t1_ns), ns);
  }

  /// The depolarizing parameter λ completing the relaxation of a k-qubit gate to its error.
  [[nodiscard]] static double depolarizing_parameter(double error, double relaxation_process_fidelity, int k) {
    const double d = static_cast<double>(index_t(1) << k);
    const double target_avg = 1 - std::min(error, d / (d + 1));
    const double target_pro = ((d + 1) * target_avg - 1) / d;
    // Depolarizing after relaxation: F_pro = (1 − λ)·F_relax + λ/d².
    const double lambda = (relaxation_process_fidelity - target_pro) / (relaxation_process_fidelity - 1 / (d * d));
    return std::clamp(lambda, 0.0, d * d / (d * d - 1));
  }

  /// A channel of a gate's noise and the qubits it acts on (q1 = −1 for one qubit).
  struct placed_channel {
    const channel* e;
    int q0, q1;
  };

  /// The channels applied after `op`, in order (none for virtual gates).
  [[nodiscard]] std::vector<placed_channel> noise_after(const operation& op) const {
    std::vector<placed_channel> out;
    if (is_virtual_gate(op.kind)) return out;
    const int k = gate_qubits(op.kind);
    const prepared& p = prepared_for(op);
    out.push_back({&p.r0, op.q0, -1});
    if (k == 2) out.push_back({&*p.r1, op.q1, -1});
    if (p.depolarizing) out.push_back({&*p.depolarizing, op.q0, k == 2 ? op.q1 : -1});
    return out;
  }

  /// Applies `op` (as matrix `u`, which may differ from the ideal one) and then its noise.
  template <Real R, class S>
  void apply(density_matrix<R, S>& rho, const operation& op, const cmatrix& u) const {
    if (gate_qubits(op.kind) == 1)
      apply_unitary(rho, u, op.q0);
    else
      apply_unitary(rho, u, op.q0, op.q1);
    for (const auto& c : noise_after(op)) {
      if (c.q1 < 0)
        apply_channel(rho, *c.e, c.q0);
      else
        apply_channel(rho, *c.e, c.q0, c.q1);
    }
  }

  /// Per-qubit readout confusion.
  [[nodiscard]] std::vector<readout_error> readout_errors() const {
    std::vector<readout_error> out;
    for (const auto& q : m_cal.qubits) out.push_back({q.p1_given_0, q.p0_given_1});
    return out;
  }

 private:
  struct prepared {
    gate_noise noise;
    channel r0;                           // relaxation of the first qubit
    std::optional<channel> r1;            // of the second (two-qubit gates)
    std::optional<channel> depolarizing;  // absent when relaxation alone reaches the error
  };

  const prepared& prepared_for(const operation& op) const {
    if (gate_qubits(op.kind) == 1) {
      const auto it = m_one.find(op.q0);
      check(it != m_one.end(), "frugal::quantum::noise_model: no 'sx' calibration for qubit ", op.q0, " on ",
            m_cal.name);
      return it->second;
    }
    const auto it = m_two.find({op.q0, op.q1});
    check(it != m_two.end(), "frugal::quantum::noise_model: qubits ", op.q0, " and ", op.q1, " are not coupled on ",
          m_cal.name);
    return it->second;
  }

  calibration m_cal;
  std::map<int, prepared> m_one;
  std::map<std::pair<int, int>, prepared> m_two;
};

/// ρ after running `c` from |0…0⟩ with `noise` (nullptr: noiseless), before readout, in a register
/// of real type `R` on `exec`.
template <Real R = double, ExecutionSpace Space = default_host_space>
[[nodiscard]] density_matrix<R, Space> simulate(const circuit& c, const std::vector<double>& theta,
                                                const noise_model* noise = nullptr, Space exec = Space{}) {
  c.check_parameters(theta);
  if (noise)
    check(noise->qubits() == c.qubits(), "frugal::quantum::simulate: ", c.qubits(), "-qubit circuit on a ",
          noise->qubits(), "-qubit device");
  density_matrix<R, Space> rho(c.qubits(), std::move(exec));
  for (const auto& op : c.operations()) {
    if (noise)
      noise->apply(rho, op, circuit::matrix(op, theta));
    else
      apply_operation(rho, op, theta);
  }
  return rho;
}

namespace detail {

/// Re Tr(A·B) of two registers' flat 4^n entries (A(r, c) at r·d + c), summed on their space.
template <Real R, class S>
[[nodiscard]] double trace_of_product(const density_matrix<R, S>& a, const density_matrix<R, S>& b) {
  const auto x = a.data();
  const auto y = b.data();
  const index_t d = a.dimension();
  return reproducible_sum<double>(
      "frugal::quantum::trace_of_product", a.space(), d * d, KOKKOS_LAMBDA(index_t i, double& acc) {
        const index_t r = i / d, c = i % d;
        acc += static_cast<double>((x(i) * y(c * d + r)).real());
      });
}

}  // namespace detail

/// Tr(O·ρ(θ)) and its exact gradient for the circuit run from |0…0⟩ with `noise` (nullptr:
/// noiseless) on a density matrix, by an adjoint sweep in the Heisenberg picture: the forward pass
/// keeps ρ before each gate; the backward pass carries λ = O back through each gate's noise (the
/// adjoint channel, superoperator S†) and unitary (U†λU), and ∂/∂a of a gate's angle is
/// 2·Re Tr(λ·∂U·ρ·U†). Memory: one density matrix per gate. `observable` is a dense Hermitian
/// matrix on the host (n ≤ 10); the registers have real type `R` and live on `exec`.
template <Real R = double, ExecutionSpace Space = default_host_space>
[[nodiscard]] value_and_gradient density_adjoint_gradient(const circuit& c, const std::vector<double>& theta,
                                                          const cmatrix& observable, const noise_model* noise = nullptr,
                                                          Space exec = Space{}) {
  c.check_parameters(theta);
  const int n = c.qubits();
  const index_t d = index_t(1) << n;
  check(n <= 10, "frugal::quantum::density_adjoint_gradient: ", n, " qubits (at most 10)");
  check(observable.rows() == d && observable.cols() == d, "frugal::quantum::density_adjoint_gradient: observable is ",
        observable.rows(), "x", observable.cols(), " for ", n, " qubits");
  if (noise)
    check(noise->qubits() == n, "frugal::quantum::density_adjoint_gradient: ", n, "-qubit circuit on a ",
          noise->qubits(), "-qubit device");
  const auto& ops = c.operations();
  std::vector<density_matrix<R, Space>> before;
  before.reserve(ops.size());
  density_matrix<R, Space> rho(n, exec);
  for (const auto& op : ops) {
    before.push_back(rho.clone());
    if (noise)
      noise->apply(rho, op, circuit::matrix(op, theta));
    else
      apply_operation(rho, op, theta);
  }
  // λ lives in a density_matrix register (it is Hermitian, not a state; the kernels do not care).
  density_matrix<R, Space> lambda(n, exec);
  {
    auto h = Kokkos::create_mirror_view(lambda.data());
    for (index_t r = 0; r < d; ++r)
      for (index_t col = 0; col < d; ++col)
        h(r * d + col) =
            complex<R>(static_cast<R>(observable(r, col).real()), static_cast<R>(observable(r, col).imag()));
    Kokkos::deep_copy(exec, lambda.data(), h);
    exec.fence();
  }
  value_and_gradient out;
  out.value = detail::trace_of_product(lambda, rho);
  out.gradient.assign(theta.size(), 0.0);
  for (std::size_t k = ops.size(); k-- > 0;) {
    const operation& op = ops[k];
    const int nq = gate_qubits(op.kind);
    if (noise) {
      const auto chans = noise->noise_after(op);
      for (auto it = chans.rbegin(); it != chans.rend(); ++it) {
        const cmatrix adj = it->e->superoperator().adjoint();
        if (it->q1 < 0)
          apply_superoperator(lambda, adj, it->q0);
        else
          apply_superoperator(lambda, adj, it->q0, it->q1);
      }
    }
    const cmatrix u = circuit::matrix(op, theta);
    const auto values = circuit::angle_values(op, theta);
    for (int j = 0; j < gate_angles(op.kind); ++j) {
      const angle& a = op.angles[static_cast<std::size_t>(j)];
      if (!a.is_parameter()) continue;
      auto x = before[k].clone();  // X = ∂U·ρ·U†, applied as the superoperator ∂U ⊗ Ū
      const cmatrix s = kron(gate_derivative(op.kind, values, j), u.conjugate());
      if (nq == 1)
        apply_superoperator(x, s, op.q0);
      else
        apply_superoperator(x, s, op.q0, op.q1);
      out.gradient[static_cast<std::size_t>(a.index)] += 2 * a.scale * detail::trace_of_product(lambda, x);
    }
    // λ ← U†·λ·U (the Heisenberg picture of ρ ↦ UρU†)
    if (nq == 1)
      apply_superoperator(lambda, kron(u.adjoint(), u.transpose()), op.q0);
    else
      apply_superoperator(lambda, kron(u.adjoint(), u.transpose()), op.q0, op.q1);
  }
  return out;
}

/// A device: runs a circuit (every qubit measured in the computational basis at the end) for a
/// number of shots and returns the count of each outcome (index bit q = qubit q's result).
template <class D>
concept Device = requires(D& d, const circuit& c, const std::vector<double>& theta, std::int64_t shots) {
  { d.qubits() } -> std::convertible_to<int>;
  { d.run(c, theta, shots) } -> std::same_as<std::vector<std::int64_t>>;
};

/// Appends the change into a Pauli measurement basis: for each qubit t, basis[t] = 'Z' (nothing),
/// 'X' (H) or 'Y' (S† then H), so a computational-basis measurement afterwards measures that Pauli.
inline void append_basis_change(circuit& c, const std::string& basis) {
  check(static_cast<int>(basis.size()) == c.qubits(), "frugal::quantum::append_basis_change: basis '", basis, "' for ",
        c.qubits(), " qubits");
  for (int q = 0; q < c.qubits(); ++q) {
    const char b = basis[static_cast<std::size_t>(q)];
    check(b == 'X' || b == 'Y' || b == 'Z', "frugal::quantum::append_basis_change: '", b, "' is not X, Y or Z");
    if (b == 'Y') c.sdg(q);
    if (b != 'Z') c.h(q);
  }
}

/// Where a device's residual ZZ coupling acts.
enum class zz_coupling {
  /// Always on, as on a fixed-frequency transmon: the circuit is scheduled as soon as possible in
  /// moments (gates on disjoint qubits side by side, a moment as long as its longest gate; virtual
  /// gates take no time), and every coupled pair accrues RZZ(2π·ζ·t) for each moment's duration t,
  /// except while its own two-qubit gate runs (a calibrated two-qubit gate absorbs its pair's ZZ).
  always_on,
  /// Only on the pair of each two-qubit gate, for that gate's duration (the earlier stand-in).
  during_two_qubit_gates,
};

/// Coherent errors a real machine has and a calibrated noise model lacks.
struct coherent_errors {
  /// Per qubit: relative over-rotation ε of every driven one-qubit gate (RX/RY/U3 angles scaled by
  /// 1 + ε; fixed gates followed by RX(ε·π/2)), and of the target of two-qubit gates.
  std::vector<double> over_rotation;
  /// Residual ZZ: the calibration's ζ (GHz) of each coupled pair times `zz_scale`, acting as `zz`
  /// says; RZZ(2π·ζ·t·zz_scale) over t nanoseconds.
  double zz_scale = 1;
  zz_coupling zz = zz_coupling::always_on;
};

/// The stand-in device: calibrated stochastic noise (`noise_model`), hidden coherent errors, and
/// seeded shot sampling with readout confusion. `density` gives the exact pre-readout state, for
/// evaluating fidelities exactly. The registers have real type `R` and live on `Space`;
/// `simulated_device` is the double-precision one on the default host space.
template <Real R, ExecutionSpace Space>
class basic_simulated_device {
 public:
  using real_type = R;
  using execution_space = Space;
  using register_type = density_matrix<R, Space>;

  basic_simulated_device(const calibration& cal, coherent_errors hidden = {}, std::uint64_t seed = 1,
                         Space exec = Space{})
      : m_exec(std::move(exec)), m_noise(cal), m_hidden(std::move(hidden)), m_gen(seed) {
    if (m_hidden.over_rotation.empty()) m_hidden.over_rotation.assign(static_cast<std::size_t>(cal.num_qubits()), 0.0);
    check(static_cast<int>(m_hidden.over_rotation.size()) == cal.num_qubits(),
          "frugal::quantum::simulated_device: ", m_hidden.over_rotation.size(), " over-rotations for ",
          cal.num_qubits(), " qubits");
    for (double e : m_hidden.over_rotation)
      check(std::isfinite(e) && std::abs(e) < 1, "frugal::quantum::simulated_device: over-rotation ", e,
            " outside (-1, 1)");
  }

  [[nodiscard]] int qubits() const noexcept { return m_noise.qubits(); }
  [[nodiscard]] const noise_model& calibrated_noise() const noexcept { return m_noise; }

  /// The exact state the device prepares (coherent + stochastic noise, before readout).
  [[nodiscard]] register_type density(const circuit& c, const std::vector<double>& theta) const {
    c.check_parameters(theta);
    check(c.qubits() == qubits(), "frugal::quantum::simulated_device: ", c.qubits(), "-qubit circuit on a ", qubits(),
          "-qubit device");
    register_type rho(c.qubits(), m_exec);
    apply_scheduled(rho, c.operations(), theta);
    return rho;
  }

  /// Runs `c` once per measurement basis (a string of 'X', 'Y', 'Z' per qubit: the basis change
  /// H or S†·H, noisy like any gate, runs as the measurement's own moments after the circuit) and
  /// returns the counts of each, simulating the shared prefix only once. Equivalent to `run` on
  /// each extended circuit except that there, with always-on ZZ, a qubit's basis change may be
  /// scheduled before the rest of the circuit ends.
  [[nodiscard]] std::vector<std::vector<std::int64_t>> run_in_bases(const circuit& c, const std::vector<double>& theta,
                                                                    const std::vector<std::string>& bases,
                                                                    std::int64_t shots) {
    check(shots > 0, "frugal::quantum::simulated_device::run_in_bases: shots = ", shots, " must be positive");
    const auto prefix = density(c, theta);
    std::vector<std::vector<std::int64_t>> out;
    for (const auto& b : bases) {
      circuit change(c.qubits());
      append_basis_change(change, b);
      auto rho = prefix.clone();
      apply_scheduled(rho, change.operations(), {});
      auto p = apply_readout_error(quantum::probabilities(rho), m_noise.readout_errors());
      for (auto& x : p) x = std::clamp(x, 0.0, 1.0);
      out.push_back(sample_counts(p, shots, m_gen));
    }
    return out;
  }

  /// Outcome probabilities including readout error.
  [[nodiscard]] std::vector<double> probabilities(const circuit& c, const std::vector<double>& theta) const {
    return apply_readout_error(quantum::probabilities(density(c, theta)), m_noise.readout_errors());
  }

  /// Counts of `shots` measurements.
  [[nodiscard]] std::vector<std::int64_t> run(const circuit& c, const std::vector<double>& theta, std::int64_t shots) {
    check(shots > 0, "frugal::quantum::simulated_device::run: shots = ", shots, " must be positive");
    auto p = probabilities(c, theta);
    for (auto& x : p) x = std::clamp(x, 0.0, 1.0);  // rounding below 0 or above 1
    return sample_counts(p, shots, m_gen);
  }

 private:
  /// The gates of `ops` in ASAP moments, each moment followed by its residual ZZ (see
  /// `zz_coupling`); one after another when the device has no ZZ.
  void apply_scheduled(register_type& rho, std::span<const operation> ops, const std::vector<double>& theta) const {
    const auto& zz = m_noise.device_calibration().zz_ghz;
    if (m_hidden.zz_scale == 0 || zz.empty()) {
      for (const auto& op : ops) apply_op(rho, op, theta);
      return;
    }
    const double pi = std::numbers::pi;
    std::vector<std::size_t> depth(static_cast<std::size_t>(qubits()), 0);
    std::vector<std::vector<const operation*>> moments;
    for (const auto& op : ops) {
      std::size_t m = depth[static_cast<std::size_t>(op.q0)];
      if (gate_qubits(op.kind) == 2) m = std::max(m, depth[static_cast<std::size_t>(op.q1)]);
      if (m == moments.size()) moments.emplace_back();
      moments[m].push_back(&op);
      depth[static_cast<std::size_t>(op.q0)] = m + 1;
      if (gate_qubits(op.kind) == 2) depth[static_cast<std::size_t>(op.q1)] = m + 1;
    }
    std::vector<std::pair<std::pair<int, int>, double>> own;  // this moment's two-qubit gates: pair, length
    for (const auto& moment : moments) {
      double length = 0;
      own.clear();
      for (const operation* op : moment) {
        apply_op(rho, *op, theta);
        const double t = m_noise.gate(*op).length_ns;
        length = std::max(length, t);
        if (gate_qubits(op->kind) == 2) own.push_back({{std::min(op->q0, op->q1), std::max(op->q0, op->q1)}, t});
      }
      for (const auto& [pair, zeta] : zz) {
        double inside = 0;  // the pair's own two-qubit gate in this moment
        for (const auto& [p, t] : own)
          if (p == pair) inside = t;
        const double ns = m_hidden.zz == zz_coupling::always_on ? length - inside : inside;
        if (ns > 0) apply_unitary(rho, gates::rzz(2 * pi * zeta * ns * m_hidden.zz_scale), pair.first, pair.second);
      }
    }
  }

  /// One gate as the device really performs it: hidden over-rotation added.
  void apply_op(register_type& rho, const operation& op, const std::vector<double>& theta) const {
    const double pi = std::numbers::pi;
    auto a = circuit::angle_values(op, theta);
    const double e0 = m_hidden.over_rotation[static_cast<std::size_t>(op.q0)];
    const bool driven_rotation = op.kind == gate_kind::rx || op.kind == gate_kind::ry || op.kind == gate_kind::u3;
    if (driven_rotation) a[0] *= 1 + e0;
    m_noise.apply(rho, op, gate_matrix(op.kind, a, op.matrix));
    if (gate_qubits(op.kind) == 1) {
      if (!is_virtual_gate(op.kind) && !driven_rotation && e0 != 0) apply_unitary(rho, gates::rx(e0 * pi / 2), op.q0);
      return;
    }
    const double e1 = m_hidden.over_rotation[static_cast<std::size_t>(op.q1)];
    if (e1 != 0) apply_unitary(rho, gates::rx(e1 * pi / 2), op.q1);
  }

  Space m_exec;
  noise_model m_noise;
  coherent_errors m_hidden;
  frugal::rng m_gen;
};

/// The stand-in device in double precision on the default host space.
using simulated_device = basic_simulated_device<double, default_host_space>;

static_assert(Device<simulated_device>);

}  // namespace frugal::quantum
