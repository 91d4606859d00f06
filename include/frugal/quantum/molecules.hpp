#pragma once
/// \file
/// Problem Hamiltonians for variational algorithms, built here from first principles so that
/// examples and tests need no chemistry package: the qubit Hamiltonians of H₂ in the STO-3G basis
/// at any bond length (4-qubit Jordan–Wigner and 2-qubit parity-reduced forms, with their
/// Hartree–Fock and exact ground energies), and MaxCut cost Hamiltonians of small graphs.
///
/// H₂ / STO-3G. Each hydrogen carries one contracted 1s function, three s-type Gaussians with
/// exponents 3.42525091, 0.62391373, 0.16885540 and contraction coefficients 0.15432897,
/// 0.53532814, 0.44463454 (ζ = 1.24 already applied; the contraction is normalised exactly, as
/// PySCF does). The overlap, kinetic, nuclear-attraction and electron-repulsion integrals of s
/// Gaussians are analytic (Szabo & Ostlund, appendix A), the last two through the Boys function
/// F₀(t) = ½√(π/t)·erf(√t). Symmetry fixes the restricted Hartree–Fock orbitals of a homonuclear
/// diatomic with one function per atom, so no SCF iteration is needed:
///   σg = (φ₁ + φ₂)/√(2(1 + S)),  σu = (φ₁ − φ₂)/√(2(1 − S)).
/// The atomic integrals are transformed to these orbitals and the second-quantised Hamiltonian
///   H = Σ h_PQ a†_P a_Q + ½ Σ (PQ|RS) a†_P a†_R a_S a_Q
/// over the four spin orbitals is mapped to qubits.

#include <Eigen/Dense>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "measurement.hpp"

namespace frugal::quantum {

/// The qubit Hamiltonians of one molecular geometry and its reference energies (Hartree).
struct molecular_hamiltonian {
  double bond_length_angstrom = 0;
  /// Nuclear repulsion energy; not included in either Pauli sum.
  double nuclear_repulsion = 0;
  /// 4 qubits, electronic energy only. Qubit 0 = σg↑, 1 = σu↑, 2 = σg↓, 3 = σu↓; |1⟩ = occupied,
  /// a_j = Z₀…Z_{j−1}·|0⟩⟨1|_j. The Hartree–Fock determinant is basis state 0b0101 = 5.
  std::vector<pauli_string> jordan_wigner;
  /// 2 qubits, electronic energy only: the parity mapping with the two-qubit (symmetry) reduction
  /// to one spin-up and one spin-down electron. Qubit 0 = n(σg↑); qubit 1 = n(σg↑) ⊕ n(σu↑) ⊕
  /// n(σg↓), which equals n(σu↓) in the kept sector. The Hartree–Fock determinant is basis state 1
  /// (qubit 0 set). Qiskit writes qubit 0 rightmost, so its label "IZ" is "ZI" here.
  std::vector<pauli_string> parity;
  /// Restricted Hartree–Fock total energy (electronic + nuclear): 2h_gg + (gg|gg) + V_nn.
  double hartree_fock = 0;
  /// Full-CI total ground energy: the lowest eigenvalue of `parity` plus `nuclear_repulsion`.
  double fci = 0;
};

namespace detail {

/// Bohr radius in ångström (CODATA 2010, PySCF's value).
inline constexpr double angstrom_per_bohr = 0.52917721092;

/// The shortest bond length accepted: σu = (φ₁ − φ₂)/√(2(1 − S)) with 1 − S ∝ R² divides the
/// atomic integrals' rounding by ever smaller differences as R → 0 (about 1e-4 at 0.01 Å, where
/// the loss is still a few digits only), and no use needs the united-atom limit.
inline constexpr double h2_min_bond_length_angstrom = 0.01;

/// F₀(t) = ∫₀¹ exp(−t·u²) du = ½√(π/t)·erf(√t). erf(s)/s keeps full relative accuracy for small
/// s, so only t = 0 (and its rounding neighbourhood) needs the series.
inline double boys_f0(double t) {
  if (t < 1e-14) return 1.0 - t / 3.0;
  const double s = std::sqrt(t);
  return 0.5 * std::sqrt(std::numbers::pi) * std::erf(s) / s;
}

/// A contracted s function on the molecular axis: Σ_k weight_k·exp(−alpha_k·|r − z·ẑ|²), the
/// weights including each primitive's normalisation (2α/π)^{3/4} and the contraction's.
struct contracted_s {
  std::array<double, 3> alpha{};
  std::array<double, 3> weight{};
  double z = 0;
};

/// The STO-3G 1s function of hydrogen at z (bohr), normalised to one.
inline contracted_s sto3g_hydrogen_1s(double z) {
  contracted_s f{{3.42525091, 0.62391373, 0.16885540}, {0.15432897, 0.53532814, 0.44463454}, z};
  for (std::size_t k = 0; k < 3; ++k) f.weight[k] *= std::pow(2 * f.alpha[k] / std::numbers::pi, 0.75);
  double norm = 0;
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j)
      norm += f.weight[i] * f.weight[j] * std::pow(std::numbers::pi / (f.alpha[i] + f.alpha[j]), 1.5);
  for (auto& w : f.weight) w /= std::sqrt(norm);
  return f;
}

/// ⟨a|b⟩ of two primitives (unnormalised exponentials).
inline double gaussian_overlap(double a, double za, double b, double zb) {
  const double p = a + b, d = za - zb;
  return std::pow(std::numbers::pi / p, 1.5) * std::exp(-a * b / p * d * d);
}

/// ⟨a|−½∇²|b⟩.
inline double gaussian_kinetic(double a, double za, double b, double zb) {
  const double p = a + b, mu = a * b / p, d2 = (za - zb) * (za - zb);
  return mu * (3 - 2 * mu * d2) * std::pow(std::numbers::pi / p, 1.5) * std::exp(-mu * d2);
}

/// ⟨a| −1/|r − zc| |b⟩: attraction to a unit charge at zc.
inline double gaussian_nuclear(double a, double za, double b, double zb, double zc) {
  const double p = a + b, mu = a * b / p, d = za - zb, zp = (a * za + b * zb) / p;
  return -2 * std::numbers::pi / p * std::exp(-mu * d * d) * boys_f0(p * (zp - zc) * (zp - zc));
}

/// (ab|cd) in chemists' notation.
inline double gaussian_repulsion(double a, double za, double b, double zb, double c, double zc, double d, double zd) {
  const double p = a + b, q = c + d;
  const double zp = (a * za + b * zb) / p, zq = (c * zc + d * zd) / q;
  const double dab = za - zb, dcd = zc - zd;
  return 2 * std::pow(std::numbers::pi, 2.5) / (p * q * std::sqrt(p + q)) *
         std::exp(-a * b / p * dab * dab - c * d / q * dcd * dcd) * boys_f0(p * q / (p + q) * (zp - zq) * (zp - zq));
}

/// One Pauli string of n qubits from its base-4 index: digit t (0..3 = I, X, Y, Z) on qubit t.
inline std::string pauli_label(std::size_t index, int n) {
  std::string ops(static_cast<std::size_t>(n), 'I');
  for (int t = 0; t < n; ++t, index /= 4) ops[static_cast<std::size_t>(t)] = "IXYZ"[index % 4];
  return ops;
}

/// The Pauli expansion m = Σ c_P·P of a real symmetric 2ⁿ × 2ⁿ matrix, c_P = Tr(P·m)/2ⁿ, keeping
/// |c_P| ≥ 1e-12; the identity comes first.
inline std::vector<pauli_string> pauli_decompose(const Eigen::MatrixXd& m, int n) {
  const auto d = static_cast<double>(m.rows());
  std::vector<pauli_string> out;
  std::size_t strings = 1;
  for (int t = 0; t < n; ++t) strings *= 4;
  for (std::size_t k = 0; k < strings; ++k) {
    pauli_string p{pauli_label(k, n), 1.0};
    const cmatrix pm = pauli_matrix(p);
    // Tr(P·m) = Σ_ij P_ij m_ji; real for Hermitian P and m.
    double trace = 0;
    for (index_t i = 0; i < m.rows(); ++i)
      for (index_t j = 0; j < m.cols(); ++j) trace += (pm(i, j) * m(j, i)).real();
    p.coefficient = trace / d;
    if (std::abs(p.coefficient) >= 1e-12) out.push_back(std::move(p));
  }
  return out;
}

}  // namespace detail

/// The qubit Hamiltonians of H₂ in STO-3G at the given bond length, from analytic integrals (see
/// the file comment for the method and `molecular_hamiltonian` for the qubit conventions).
///
/// At 0.735 Å the parity form is II −1.0523732, ZI 0.3979374, IZ −0.3979374, ZZ −0.0112801,
/// XX 0.1809312 (Qiskit Nature with PySCF gives the same, labels reversed); at 1.4 bohr the
/// totals are HF −1.1167 and FCI −1.1373 Hartree (Szabo & Ostlund).
///
/// A template of nothing, as `fidelity` is: a translation unit compiles the Hermitian eigensolver
/// only where it calls this.
/// \param bond_length_angstrom the H–H distance in ångström, at least 0.01 and finite
/// \returns both qubit Hamiltonians (electronic energy only), the nuclear repulsion and the HF and
///          FCI total energies in Hartree
/// \throws frugal::invalid_argument for a bond length below 0.01 Å, infinite or NaN
template <class = void>
[[nodiscard]] molecular_hamiltonian h2_sto3g(double bond_length_angstrom) {
  check(std::isfinite(bond_length_angstrom) && bond_length_angstrom >= detail::h2_min_bond_length_angstrom,
        "frugal::quantum::h2_sto3g: bond length ", bond_length_angstrom,
        " angstrom is not a finite value >= ", detail::h2_min_bond_length_angstrom);
  const double r = bond_length_angstrom / detail::angstrom_per_bohr;
  const std::array<detail::contracted_s, 2> ao{detail::sto3g_hydrogen_1s(0.0), detail::sto3g_hydrogen_1s(r)};
  const std::array<double, 2> nuclei{0.0, r};

  // Atomic-orbital integrals.
  Eigen::Matrix2d h_ao = Eigen::Matrix2d::Zero();
  double overlap = 0, one_minus_overlap = 0;
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < 3; ++j) {
      const double a = ao[0].alpha[i], b = ao[1].alpha[j], w = ao[0].weight[i] * ao[1].weight[j];
      const double p = a + b;
      overlap += w * detail::gaussian_overlap(a, 0.0, b, r);
      // 1 − S from the normalisation Σ w·(π/p)^{3/2} = 1 without cancellation.
      one_minus_overlap -= w * std::pow(std::numbers::pi / p, 1.5) * std::expm1(-a * b / p * r * r);
    }
  for (int mu = 0; mu < 2; ++mu)
    for (int nu = 0; nu < 2; ++nu) {
      const auto& f = ao[static_cast<std::size_t>(mu)];
      const auto& g = ao[static_cast<std::size_t>(nu)];
      double h = 0;
      for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t j = 0; j < 3; ++j) {
          double e = detail::gaussian_kinetic(f.alpha[i], f.z, g.alpha[j], g.z);
          for (double zc : nuclei) e += detail::gaussian_nuclear(f.alpha[i], f.z, g.alpha[j], g.z, zc);
          h += f.weight[i] * g.weight[j] * e;
        }
      h_ao(mu, nu) = h;
    }
  std::array<double, 16> eri_ao{};  // (μν|λσ) at μ + 2ν + 4λ + 8σ
  for (std::size_t idx = 0; idx < 16; ++idx) {
    const auto& f = ao[idx & 1];
    const auto& g = ao[(idx >> 1) & 1];
    const auto& u = ao[(idx >> 2) & 1];
    const auto& v = ao[(idx >> 3) & 1];
    double e = 0;
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 0; j < 3; ++j)
        for (std::size_t k = 0; k < 3; ++k)
          for (std::size_t l = 0; l < 3; ++l)
            e += f.weight[i] * g.weight[j] * u.weight[k] * v.weight[l] *
                 detail::gaussian_repulsion(f.alpha[i], f.z, g.alpha[j], g.z, u.alpha[k], u.z, v.alpha[l], v.z);
    eri_ao[idx] = e;
  }

  // Molecular orbitals fixed by symmetry: column 0 = σg, column 1 = σu.
  Eigen::Matrix2d c;
  const double cg = 1 / std::sqrt(2 * (1 + overlap)), cu = 1 / std::sqrt(2 * one_minus_overlap);
  c << cg, cu, cg, -cu;
  const Eigen::Matrix2d h_mo = c.transpose() * h_ao * c;
  std::array<double, 16> eri_mo{};  // (pq|rs) at p + 2q + 4r + 8s
  for (std::size_t m = 0; m < 16; ++m) {
    double e = 0;
    for (std::size_t a = 0; a < 16; ++a) {
      double w = eri_ao[a];
      for (std::size_t t = 0; t < 4; ++t)
        w *= c(static_cast<index_t>((a >> t) & 1), static_cast<index_t>((m >> t) & 1));
      e += w;
    }
    eri_mo[m] = e;
  }

  // Second quantisation over spin orbitals j = 0..3 (spatial j % 2, spin j / 2), Jordan–Wigner:
  // a_j|n⟩ = (−1)^{n₀+…+n_{j−1}}·|n − e_j⟩ for n_j = 1, so the 16 × 16 matrix of H is the qubit
  // Hamiltonian itself.
  std::array<Eigen::Matrix<double, 16, 16>, 4> annihilate;
  for (int j = 0; j < 4; ++j) {
    auto& a = annihilate[static_cast<std::size_t>(j)];
    a.setZero();
    for (int n = 0; n < 16; ++n) {
      if (((n >> j) & 1) == 0) continue;
      const bool odd = detail::parity(n & ((1 << j) - 1));
      a(n ^ (1 << j), n) = odd ? -1.0 : 1.0;
    }
  }
  auto spatial = [](int j) { return j % 2; };
  auto spin = [](int j) { return j / 2; };
  Eigen::Matrix<double, 16, 16> h_fock = Eigen::Matrix<double, 16, 16>::Zero();
  for (int p = 0; p < 4; ++p)
    for (int q = 0; q < 4; ++q) {
      if (spin(p) != spin(q)) continue;
      const auto& ap = annihilate[static_cast<std::size_t>(p)];
      const auto& aq = annihilate[static_cast<std::size_t>(q)];
      h_fock += h_mo(spatial(p), spatial(q)) * ap.transpose() * aq;
      for (int rr = 0; rr < 4; ++rr)
        for (int s = 0; s < 4; ++s) {
          if (spin(rr) != spin(s)) continue;
          const double g =
              eri_mo[static_cast<std::size_t>(spatial(p) + 2 * spatial(q) + 4 * spatial(rr) + 8 * spatial(s))];
          if (g == 0) continue;
          const auto& ar = annihilate[static_cast<std::size_t>(rr)];
          const auto& as = annihilate[static_cast<std::size_t>(s)];
          h_fock += 0.5 * g * (ap.transpose() * ar.transpose() * as * aq);
        }
    }

  // Parity basis: |n⟩ ↦ |p⟩ with p_j = n₀ ⊕ … ⊕ n_j; p₁ is the spin-up parity and p₃ the total
  // parity. The sector p₁ = 1 (one up electron), p₃ = 0 (two electrons) leaves qubits p₀, p₂.
  auto to_parity = [](int n) {
    int p = 0, acc = 0;
    for (int j = 0; j < 4; ++j) {
      acc ^= (n >> j) & 1;
      p |= acc << j;
    }
    return p;
  };
  std::array<int, 16> from_parity{};
  for (int n = 0; n < 16; ++n) from_parity[static_cast<std::size_t>(to_parity(n))] = n;
  auto sector_state = [&](int k) {  // reduced index k (bit 0 = p₀, bit 1 = p₂) → occupation n
    const int p = (k & 1) | (1 << 1) | (((k >> 1) & 1) << 2);
    return from_parity[static_cast<std::size_t>(p)];
  };
  Eigen::Matrix4d reduced;
  for (int k = 0; k < 4; ++k)
    for (int l = 0; l < 4; ++l) reduced(k, l) = h_fock(sector_state(k), sector_state(l));

  molecular_hamiltonian out;
  out.bond_length_angstrom = bond_length_angstrom;
  out.nuclear_repulsion = 1 / r;
  out.jordan_wigner = detail::pauli_decompose(h_fock, 4);
  out.parity = detail::pauli_decompose(reduced, 2);
  out.hartree_fock = 2 * h_mo(0, 0) + eri_mo[0] + out.nuclear_repulsion;
  const Eigen::SelfAdjointEigenSolver<Eigen::Matrix4d> eigen(reduced, Eigen::EigenvaluesOnly);
  out.fci = eigen.eigenvalues()(0) + out.nuclear_repulsion;
  return out;
}

/// The MaxCut cost Hamiltonian C = Σ_{(i,j) ∈ edges} (Z_i Z_j − 1)/2 of a graph on `nodes` qubits:
/// an edge whose ends lie on different sides of the cut contributes −1, others 0, so the lowest
/// eigenvalue is −(maximum cut size) and a computational basis state is an assignment of sides.
/// Returned as one identity term (−|E|/2, first) and one Z_i Z_j term (½) per edge.
/// \param nodes number of vertices (qubits), at least 2
/// \param edges undirected edges (i, j), 0 ≤ i, j < nodes, no self loops, none repeated in either
///        orientation
/// \throws frugal::invalid_argument naming the offending node or edge
[[nodiscard]] inline std::vector<pauli_string> maxcut_hamiltonian(int nodes,
                                                                  const std::vector<std::pair<int, int>>& edges) {
  const char* where = "frugal::quantum::maxcut_hamiltonian";
  check(nodes >= 2, where, ": ", nodes, " nodes (need at least 2)");
  std::set<std::pair<int, int>> seen;
  std::vector<pauli_string> out;
  out.push_back({std::string(static_cast<std::size_t>(nodes), 'I'), -0.5 * static_cast<double>(edges.size())});
  for (std::size_t e = 0; e < edges.size(); ++e) {
    const auto [i, j] = edges[e];
    check(i >= 0 && i < nodes && j >= 0 && j < nodes, where, ": edge ", e, " (", i, ", ", j,
          ") has a node out of range [0, ", nodes, ")");
    check(i != j, where, ": edge ", e, " (", i, ", ", j, ") is a self loop");
    check(seen.insert({std::min(i, j), std::max(i, j)}).second, where, ": edge ", e, " (", i, ", ", j,
          ") repeats an earlier edge");
    std::string ops(static_cast<std::size_t>(nodes), 'I');
    ops[static_cast<std::size_t>(i)] = 'Z';
    ops[static_cast<std::size_t>(j)] = 'Z';
    out.push_back({std::move(ops), 0.5});
  }
  return out;
}

}  // namespace frugal::quantum
