// The problem Hamiltonians of frugal/quantum/molecules.hpp against values computed elsewhere: the
// 2-qubit H2 coefficients of Qiskit Nature with PySCF, the STO-3G energies of Szabo & Ostlund, the
// dissociation limit (two STO-3G hydrogen atoms), the 4-qubit form's spectrum against the 2-qubit
// form's, and MaxCut ground energies against maximum cuts found by hand.
#include <doctest/doctest.h>

#include <frugal/quantum/molecules.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "quantum_support.hpp"

namespace q = frugal::quantum;

namespace molecules_test {

/// Σ_k P_k as a dense matrix, from Kronecker products (pauli_matrix), never from the kernels.
inline q::cmatrix dense(const std::vector<q::pauli_string>& terms) {
  REQUIRE(!terms.empty());
  q::cmatrix h = q::pauli_matrix(terms.front());
  for (std::size_t k = 1; k < terms.size(); ++k) h += q::pauli_matrix(terms[k]);
  return h;
}

inline double lowest_eigenvalue(const q::cmatrix& h) {
  return Eigen::SelfAdjointEigenSolver<q::cmatrix>(h, Eigen::EigenvaluesOnly).eigenvalues()(0);
}

/// Qubit count of a Pauli sum whose strings all have the same length.
inline int qubits_of(const std::vector<q::pauli_string>& terms) {
  const auto n = terms.front().ops.size();
  for (const auto& t : terms) REQUIRE(t.ops.size() == n);
  return static_cast<int>(n);
}

/// H2 bond lengths (Å) across the curve, from compressed to nearly dissociated.
inline const std::vector<double> bond_lengths{0.3, 0.5, 0.735, 1.0, 1.5, 2.0, 2.5, 3.0};

/// 1.4 bohr, Szabo & Ostlund's geometry, in Å.
inline constexpr double szabo_bond_length = 1.4 * 0.52917721092;

}  // namespace molecules_test

TEST_CASE("h2_sto3g: the 2-qubit parity Hamiltonian at 0.735 A is Qiskit Nature's") {
  // Qiskit Nature (PySCF driver, ParityMapper with two-qubit reduction) at 0.735 Å. Qiskit writes
  // qubit 0 rightmost; the labels below are frugal's (character t = qubit t).
  const std::map<std::string, double> reference{{"II", -1.052373245772859},
                                                {"ZI", 0.39793742484318045},
                                                {"IZ", -0.39793742484318045},
                                                {"ZZ", -0.01128010425623538},
                                                {"XX", 0.18093119978423156}};
  const auto h = q::h2_sto3g(0.735);
  CHECK(h.bond_length_angstrom == 0.735);
  REQUIRE(h.parity.size() == reference.size());
  for (const auto& term : h.parity) {
    INFO("term ", term.ops);
    REQUIRE(reference.count(term.ops) == 1);
    CHECK(std::abs(term.coefficient - reference.at(term.ops)) <= 1e-6);
  }
  CHECK(std::abs(h.nuclear_repulsion - 0.52917721092 / 0.735) <= 1e-14);
}

TEST_CASE("h2_sto3g: the 4-qubit Jordan-Wigner and 2-qubit parity forms have the same ground energy") {
  for (double r : molecules_test::bond_lengths) {
    INFO("bond length ", r, " A");
    const auto h = q::h2_sto3g(r);
    REQUIRE(molecules_test::qubits_of(h.jordan_wigner) == 4);
    REQUIRE(molecules_test::qubits_of(h.parity) == 2);
    const q::cmatrix jw = molecules_test::dense(h.jordan_wigner);
    const q::cmatrix parity = molecules_test::dense(h.parity);
    CHECK((jw - jw.adjoint()).cwiseAbs().maxCoeff() <= 1e-14);
    const double e_jw = molecules_test::lowest_eigenvalue(jw);
    const double e_parity = molecules_test::lowest_eigenvalue(parity);
    CHECK(std::abs(e_jw - e_parity) <= 1e-10);
    CHECK(std::abs(h.fci - (e_parity + h.nuclear_repulsion)) <= 1e-12);
    CHECK(h.fci <= h.hartree_fock + 1e-12);  // variational: FCI never above HF
    // The JW Hamiltonian conserves the electron count Σ n_j, n_j = (1 − Z_j)/2.
    q::cmatrix number = q::cmatrix::Zero(16, 16);
    for (int j = 0; j < 4; ++j) {
      std::string ops(4, 'I');
      ops[static_cast<std::size_t>(j)] = 'Z';
      number += 0.5 * (q::cmatrix::Identity(16, 16) - q::pauli_matrix({ops, 1.0}));
    }
    CHECK((jw * number - number * jw).cwiseAbs().maxCoeff() <= 1e-12);
  }
}

TEST_CASE("h2_sto3g: Szabo & Ostlund's STO-3G energies at 1.4 bohr") {
  const auto h = q::h2_sto3g(molecules_test::szabo_bond_length);
  CHECK(std::abs(h.nuclear_repulsion - 1 / 1.4) <= 1e-12);
  CHECK(std::abs(h.hartree_fock - -1.1167) <= 1e-4);
  CHECK(std::abs(h.fci - -1.1373) <= 1e-4);
}

TEST_CASE("h2_sto3g: the Hartree-Fock energy is the HF determinant's expectation value") {
  for (double r : molecules_test::bond_lengths) {
    INFO("bond length ", r, " A");
    const auto h = q::h2_sto3g(r);
    // JW: σg↑ (qubit 0) and σg↓ (qubit 2) occupied, basis state 0b0101.
    const q::cmatrix jw = molecules_test::dense(h.jordan_wigner);
    CHECK(std::abs(jw(5, 5).real() + h.nuclear_repulsion - h.hartree_fock) <= 1e-12);
    // Parity, reduced: qubit 0 = n(σg↑) = 1, qubit 1 = n(σu↓) = 0, basis state 1.
    const q::cmatrix parity = molecules_test::dense(h.parity);
    CHECK(std::abs(parity(1, 1).real() + h.nuclear_repulsion - h.hartree_fock) <= 1e-12);
  }
}

TEST_CASE("h2_sto3g: at 5 A the ground energy is twice the STO-3G hydrogen atom's") {
  const double hydrogen_atom = -0.466582;  // ⟨1s|−½∇² − 1/r|1s⟩ of the STO-3G 1s function
  const auto h = q::h2_sto3g(5.0);
  CHECK(std::abs(h.fci - 2 * hydrogen_atom) <= 2e-3);
  // Restricted HF cannot dissociate correctly: it stays far above.
  CHECK(h.hartree_fock > h.fci + 0.3);
}

TEST_CASE("h2_sto3g: refuses bond lengths that are not finite and at least 0.01 A") {
  CHECK_THROWS_AS((void)q::h2_sto3g(0.0), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::h2_sto3g(-0.7), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::h2_sto3g(0.001), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::h2_sto3g(std::numeric_limits<double>::quiet_NaN()), frugal::invalid_argument);
  CHECK_THROWS_AS((void)q::h2_sto3g(std::numeric_limits<double>::infinity()), frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)q::h2_sto3g(-0.7), doctest::Contains("bond length -0.7"), frugal::invalid_argument);
}

TEST_CASE("maxcut_hamiltonian: the ground energy is minus the maximum cut") {
  struct graph {
    int nodes;
    std::vector<std::pair<int, int>> edges;
    int max_cut;
  };
  const std::vector<graph> graphs{
      {3, {{0, 1}, {1, 2}, {2, 0}}, 2},                  // triangle: one edge always uncut
      {4, {{0, 1}, {1, 2}, {2, 3}, {3, 0}}, 4},          // 4-cycle: bipartite, every edge cut
      {4, {{0, 1}, {1, 2}, {2, 3}, {3, 0}, {0, 2}}, 4},  // 4-cycle with a chord
      {2, {}, 0},                                        // no edges: C = 0
  };
  for (const auto& g : graphs) {
    INFO(g.nodes, " nodes, ", g.edges.size(), " edges");
    const auto c = q::maxcut_hamiltonian(g.nodes, g.edges);
    REQUIRE(molecules_test::qubits_of(c) == g.nodes);
    CHECK(c.size() == g.edges.size() + 1);
    const q::cmatrix m = molecules_test::dense(c);
    CHECK(std::abs(molecules_test::lowest_eigenvalue(m) + g.max_cut) <= 1e-12);
    // Diagonal: basis state s costs −(number of edges cut by s).
    for (frugal::index_t s = 0; s < m.rows(); ++s) {
      int cut = 0;
      for (const auto& [i, j] : g.edges) cut += static_cast<int>(((s >> i) ^ (s >> j)) & 1);
      CHECK(std::abs(m(s, s).real() + cut) <= 1e-12);
    }
  }
}

TEST_CASE("maxcut_hamiltonian: refuses bad graphs") {
  using edges = std::vector<std::pair<int, int>>;
  CHECK_THROWS_WITH_AS((void)q::maxcut_hamiltonian(1, edges{}), doctest::Contains("1 nodes"), frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)q::maxcut_hamiltonian(3, edges{{0, 1}, {1, 3}}), doctest::Contains("out of range"),
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)q::maxcut_hamiltonian(3, edges{{-1, 1}}), doctest::Contains("out of range"),
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)q::maxcut_hamiltonian(3, edges{{0, 1}, {2, 2}}), doctest::Contains("self loop"),
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)q::maxcut_hamiltonian(3, edges{{0, 1}, {1, 2}, {1, 0}}), doctest::Contains("repeats"),
                       frugal::invalid_argument);
  CHECK_THROWS_WITH_AS((void)q::maxcut_hamiltonian(3, edges{{0, 1}, {0, 1}}), doctest::Contains("repeats"),
                       frugal::invalid_argument);
}
