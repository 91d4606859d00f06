// frugal::graph: CSR construction against a dense adjacency built straight from the edge list,
// normalisation against its formula, SpMM on every space against the serial reference and a
// dense Eigen product, GCN and GraphSAGE gradients against finite differences, and full-graph
// training on a stochastic block model (a GCN must beat an MLP that ignores the graph).
#include <doctest/doctest.h>

#include <frugal/graph.hpp>
#include <frugal/io/graph_files.hpp>
#include <frugal/nn.hpp>

#include <Eigen/Dense>

#include <cmath>
#include <fstream>
#include <memory>
#include <vector>

#include "../nn/gradcheck.hpp"
#include "test_support.hpp"

using namespace frugal;

namespace {

struct edge_list {
  index_t n = 0;
  std::vector<std::int64_t> src, dst;
};

// Random directed edges with repeats and self loops, so deduplication is exercised.
edge_list random_edges(index_t n, index_t m, rng& gen) {
  edge_list e{n, {}, {}};
  for (index_t k = 0; k < m; ++k) {
    e.src.push_back(static_cast<std::int64_t>(gen.uniform_int(static_cast<std::uint64_t>(n))));
    e.dst.push_back(static_cast<std::int64_t>(gen.uniform_int(static_cast<std::uint64_t>(n))));
  }
  return e;
}

// The adjacency the options describe, built without any CSR code: a_ij = 1 iff j feeds i.
Eigen::MatrixXd dense_adjacency(const edge_list& e, graph::build_options o) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(e.n, e.n);
  for (std::size_t k = 0; k < e.src.size(); ++k) {
    a(e.dst[k], e.src[k]) = 1;
    if (o.symmetrize) a(e.src[k], e.dst[k]) = 1;
  }
  if (o.self_loops) a.diagonal().setOnes();
  return a;
}

template <class S>
Eigen::MatrixXd to_dense(const graph::csr_graph<S>& g) {
  Eigen::MatrixXd a = Eigen::MatrixXd::Zero(g.num_nodes(), g.num_nodes());
  for (index_t i = 0; i < g.num_nodes(); ++i)
    for (index_t k = g.row_map()(i); k < g.row_map()(i + 1); ++k) a(i, g.entries()(k)) = g.values()(k);
  return a;
}

}  // namespace

TEST_CASE("csr_graph::from_edges matches a dense adjacency for every option, and refuses bad ids") {
  rng gen(11);
  for (bool symmetrize : {false, true})
    for (bool self_loops : {false, true}) {
      const edge_list e = random_edges(23, 80, gen);
      const graph::build_options o{.symmetrize = symmetrize, .self_loops = self_loops};
      const auto g = graph::csr_graph<double>::from_edges(e.n, e.src, e.dst, o);
      const Eigen::MatrixXd expected = dense_adjacency(e, o);
      CHECK(to_dense(g) == expected);
      CHECK(g.num_entries() == static_cast<index_t>(expected.sum()));
      CHECK(g.is_symmetric() == expected.isApprox(expected.transpose()));
      CHECK(to_dense(g.transposed()) == expected.transpose());
      const auto loops = graph::csr_graph<double>::from_edges(e.n, e.src, e.dst, {.symmetrize = symmetrize});
      CHECK(to_dense(loops.with_self_loops()) == dense_adjacency(e, {.symmetrize = symmetrize, .self_loops = true}));
    }
  CHECK(
      graph::csr_graph<float>::from_edges(3, std::vector<std::int64_t>{}, std::vector<std::int64_t>{}).num_entries() ==
      0);
  const std::vector<std::int64_t> a{0, 1}, b{1, 5};
  CHECK_THROWS_WITH_AS(graph::csr_graph<float>::from_edges(5, a, b),
                       doctest::Contains("edge 1 is 1 -> 5, outside [0, 5)"), invalid_argument);
  CHECK_THROWS_WITH_AS(graph::csr_graph<float>::from_edges(5, a, std::vector<std::int64_t>{1}),
                       doctest::Contains("2 sources but 1 destinations"), invalid_argument);
  // Adopting arrays checks them: columns out of order in row 1.
  Kokkos::View<index_t*, Kokkos::HostSpace> rows("r", 3);
  Kokkos::View<std::int32_t*, Kokkos::HostSpace> cols("c", 3);
  Kokkos::View<float*, Kokkos::HostSpace> vals("v", 3);
  rows(1) = 1;
  rows(2) = 3;
  cols(0) = 1;
  cols(1) = 1;
  cols(2) = 0;
  CHECK_THROWS_WITH_AS(graph::csr_graph<float>(2, rows, cols, vals),
                       doctest::Contains("row 1 has columns out of order"), invalid_argument);
}

TEST_CASE("csr_graph::clone: the same graph in arrays of its own") {
  const auto g = graph::make_sbm<double>({.nodes = 50, .classes = 2, .features = 2, .seed = 1})
                     .graph.normalized(graph::normalization::symmetric);
  const auto c = g.clone();
  REQUIRE(c.num_nodes() == g.num_nodes());
  REQUIRE(c.num_entries() == g.num_entries());
  CHECK(c.values().data() != g.values().data());
  CHECK(c.values().use_count() == 1);  // no View of g was copied
  CHECK(g.values().use_count() == 1);
  for (index_t i = 0; i <= g.num_nodes(); ++i) CHECK(c.row_map()(i) == g.row_map()(i));
  for (index_t k = 0; k < g.num_entries(); ++k) {
    CHECK(c.entries()(k) == g.entries()(k));
    CHECK(c.values()(k) == g.values()(k));
  }
}

TEST_CASE("normalisation: symmetric is D^-1/2 A D^-1/2, mean rows sum to one, isolated nodes stay zero") {
  rng gen(12);
  edge_list e = random_edges(30, 60, gen);
  e.n = 33;  // nodes 30..32 have no edges
  const auto g = graph::csr_graph<double>::from_edges(e.n, e.src, e.dst, {.symmetrize = true, .self_loops = false});
  const Eigen::MatrixXd a = dense_adjacency(e, {.symmetrize = true, .self_loops = false});
  const Eigen::VectorXd d = a.rowwise().sum();
  Eigen::VectorXd inv_sqrt = d, inv = d;
  for (index_t i = 0; i < d.size(); ++i) {
    inv_sqrt[i] = d[i] > 0 ? 1 / std::sqrt(d[i]) : 0;
    inv[i] = d[i] > 0 ? 1 / d[i] : 0;
  }
  const Eigen::MatrixXd sym = inv_sqrt.asDiagonal() * a * inv_sqrt.asDiagonal();
  CHECK((to_dense(g.normalized(graph::normalization::symmetric)) - sym).cwiseAbs().maxCoeff() < 1e-15);
  const Eigen::MatrixXd mean = to_dense(g.normalized(graph::normalization::mean));
  CHECK((mean - inv.asDiagonal() * a).cwiseAbs().maxCoeff() < 1e-15);
  for (index_t i = 0; i < e.n; ++i) CHECK(mean.row(i).sum() == doctest::Approx(d[i] > 0 ? 1.0 : 0.0));
  CHECK(g.normalized(graph::normalization::symmetric).is_symmetric());
  CHECK_FALSE(g.normalized(graph::normalization::mean).is_symmetric());
}

TEST_CASE_TEMPLATE("spmm on every space: the same bits as on Serial, the serial reference and a dense product", Exec,
                   FRUGAL_TEST_SPACES) {
  rng gen(13);
  // Feature widths below, at and across one SIMD batch and the four-batch run, with ragged ends;
  // node counts that split unevenly over threads.
  for (index_t f : {1, 7, 16, 64, 65, 130}) {
    for (index_t n : {1, 37, 1001}) {
      const edge_list e = random_edges(n, 5 * n, gen);
      const auto g = graph::csr_graph<float>::from_edges(n, e.src, e.dst, {.symmetrize = true, .self_loops = true})
                         .normalized(graph::normalization::symmetric);
      Kokkos::View<float**, Kokkos::LayoutRight, Kokkos::HostSpace> x("x", n, f), y("y", n, f), ref("ref", n, f);
      for (index_t i = 0; i < n * f; ++i) x.data()[i] = static_cast<float>(gen.normal());
      Kokkos::View<float**, Kokkos::LayoutRight, Kokkos::HostSpace> serial("serial", n, f);
      graph::spmm(Exec{}, g, x, y);
      graph::spmm(Kokkos::Serial{}, g, x, serial);
      graph::spmm_serial(g, x, ref);
      INFO("n = " << n << ", f = " << f);
      // Rows are whole tasks: the thread count cannot change a bit. The reference may round
      // differently (the kernel uses fused multiply-adds where the CPU has them).
      CHECK(std::equal(y.data(), y.data() + n * f, serial.data()));
      double gap = 0;
      for (index_t i = 0; i < n * f; ++i)
        gap = std::max(gap, static_cast<double>(std::abs(y.data()[i] - ref.data()[i])));
      CHECK(gap < 1e-5);
      // Independent truth: the dense product in double.
      const Eigen::MatrixXd a = to_dense(g);
      Eigen::MatrixXd xd(n, f);
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < f; ++j) xd(i, j) = x(i, j);
      const Eigen::MatrixXd yd = a * xd;
      double worst = 0;
      for (index_t i = 0; i < n; ++i)
        for (index_t j = 0; j < f; ++j) worst = std::max(worst, std::abs(yd(i, j) - y(i, j)));
      CHECK(worst < 1e-5);
    }
  }
  // A strided (sub)view and shape errors.
  const edge_list e = random_edges(10, 30, gen);
  const auto g = graph::csr_graph<double>::from_edges(10, e.src, e.dst);
  Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> wide("wide", 10, 9), out("out", 10, 4),
      ref("r", 10, 4);
  for (index_t i = 0; i < 90; ++i) wide.data()[i] = gen.normal();
  auto part = Kokkos::subview(wide, Kokkos::ALL, std::make_pair(2, 6));
  graph::spmm(Exec{}, g, part, out);
  graph::spmm_serial(g, part, ref);
  for (index_t i = 0; i < 40; ++i) CHECK(out.data()[i] == doctest::Approx(ref.data()[i]).epsilon(1e-12));
  Kokkos::View<double**, Kokkos::LayoutRight, Kokkos::HostSpace> bad("bad", 9, 4);
  CHECK_THROWS_WITH_AS(graph::spmm(Exec{}, g, bad, out),
                       doctest::Contains("X rows vs nodes mismatch: got 9, expected 10"), shape_error);
  CHECK_THROWS_WITH_AS(graph::spmm(Exec{}, g, out, out), doctest::Contains("cannot run in place"), invalid_argument);
}

TEST_CASE_TEMPLATE("gcn and sage_mean gradients match finite differences; wrong node counts are refused", Exec,
                   FRUGAL_TEST_SPACES) {
  rng gen(14);
  const edge_list e = random_edges(19, 40, gen);
  const auto with_loops = graph::csr_graph<double>::from_edges(e.n, e.src, e.dst, {.self_loops = true});
  const auto plain = graph::csr_graph<double>::from_edges(e.n, e.src, e.dst, {.symmetrize = false});
  // A symmetric Â (transpose reused) and a directed mean operator (transpose stored).
  auto sym = graph::aggregation<double>::of(with_loops, graph::normalization::symmetric);
  auto mean = graph::aggregation<double>::of(plain, graph::normalization::mean);
  CHECK(sym->symmetric());
  CHECK_FALSE(mean->symmetric());
  nn::tensor<double> x({19, 5});
  test::fill_normal(x, gen);
  for (const auto& a : {sym, mean}) {
    graph::gcn<double, nn::dense_weight<double>, Exec> layer(a, 5, 3);
    layer.reset_parameters(gen);
    test::check_layer_gradients(layer, x, gen);
    graph::sage_mean<double, nn::dense_weight<double>, Exec> sage(a, 5, 4);
    sage.reset_parameters(gen);
    test::check_layer_gradients(sage, x, gen);
  }
  graph::gcn<double, nn::dense_weight<double>, Exec> layer(sym, 5, 3);
  CHECK_THROWS_WITH_AS(layer.forward(nn::tensor<double>({18, 5})),
                       doctest::Contains("input rows vs graph nodes mismatch: got 18, expected 19"), shape_error);
  // A deep residual GCN body in a runtime chain: gradients flow through every layer.
  nn::chain<double, Exec> model;
  model.add("in", graph::gcn<double, nn::dense_weight<double>, Exec>(sym, 5, 4));
  for (int l = 0; l < 3; ++l) {
    nn::chain<double, Exec> block;
    block.add("norm", nn::layer_norm<double, Exec>(4));
    block.add("conv", graph::gcn<double, nn::dense_weight<double>, Exec>(sym, 4, 4));
    block.add("relu", nn::relu<double, Exec>());
    model.add(nn::residual<nn::chain<double, Exec>, Exec>(std::move(block)));
  }
  model.reset_parameters(gen);
  test::check_layer_gradients(model, x, gen);
}

TEST_CASE("masked loss: only the listed nodes count; accuracy over a node set") {
  rng gen(15);
  nn::tensor<double> logits({6, 3});
  test::fill_normal(logits, gen);
  const std::vector<std::int32_t> labels{0, 2, 1, 1, 0, 2};
  const std::vector<index_t> nodes{1, 4};
  graph::masked_cross_entropy<double> loss;
  auto objective = [&] { return static_cast<double>(loss.forward(logits, labels, nodes)); };
  const double value = objective();
  const nn::tensor<double> g = loss.backward();
  const auto numeric = test::numeric_gradient(logits.data(), logits.size(), objective);
  CHECK(test::relative_error(g.flat(), numeric) < 1e-7);
  for (index_t j = 0; j < 3; ++j) CHECK(g[0 * 3 + j] == 0.0);
  // Same value as the plain loss over the two rows.
  nn::tensor<double> rows({2, 3});
  for (index_t j = 0; j < 3; ++j) {
    rows[j] = logits[1 * 3 + j];
    rows[3 + j] = logits[4 * 3 + j];
  }
  nn::softmax_cross_entropy<double> plain;
  CHECK(value == doctest::Approx(plain.forward(rows, std::vector<std::int32_t>{2, 0})));
  nn::tensor<double> sure({2, 2});
  sure[0] = 1;  // node 0 predicts class 0 (right), node 1 predicts class 0 (wrong)
  sure[2] = 1;
  const std::vector<std::int32_t> two{0, 1};
  CHECK(graph::masked_accuracy(sure, two, std::vector<index_t>{0, 1}) == 0.5);
  CHECK_THROWS_WITH_AS(loss.forward(logits, labels, std::vector<index_t>{6}),
                       doctest::Contains("node 0 of the set is 6"), invalid_argument);
}

TEST_CASE("make_sbm: reproducible, homophilous, disjoint splits; a GCN beats an MLP that ignores the graph") {
  const graph::sbm_options o{.nodes = 1200, .classes = 6, .features = 32, .seed = 5};
  const auto d = graph::make_sbm<float>(o);
  const auto again = graph::make_sbm<float>(o);
  CHECK(std::equal(d.features.data(), d.features.data() + d.features.size(), again.features.data()));
  CHECK(d.labels == again.labels);
  CHECK(d.graph.is_symmetric());
  index_t intra = 0;
  for (index_t i = 0; i < d.graph.num_nodes(); ++i)
    for (index_t k = d.graph.row_map()(i); k < d.graph.row_map()(i + 1); ++k)
      intra += d.labels[static_cast<std::size_t>(i)] == d.labels[static_cast<std::size_t>(d.graph.entries()(k))];
  const double homophily = static_cast<double>(intra) / static_cast<double>(d.graph.num_entries());
  CHECK(homophily == doctest::Approx(o.homophily).epsilon(0.05));
  CHECK(static_cast<double>(d.graph.num_entries()) / 1200 == doctest::Approx(o.average_degree).epsilon(0.05));
  CHECK(d.train.size() + d.validation.size() + d.test.size() == 1200);
  std::vector<int> seen(1200, 0);
  for (const auto* set : {&d.train, &d.validation, &d.test})
    for (index_t i : *set) ++seen[static_cast<std::size_t>(i)];
  CHECK(std::all_of(seen.begin(), seen.end(), [](int s) { return s == 1; }));
  CHECK_THROWS_WITH_AS(graph::make_sbm<float>({.homophily = 1.5}), doctest::Contains("homophily = 1.5"),
                       invalid_argument);

  auto train = [&](nn::chain<float>& model) {
    rng gen(7);
    model.reset_parameters(gen);
    auto params = model.parameters();
    nn::adam<float> opt({.learning_rate = 0.01f});
    graph::masked_cross_entropy<float> loss;
    for (int epoch = 0; epoch < 100; ++epoch) {
      params.zero_grad();
      loss.forward(model.forward(d.features), d.labels, d.train);
      model.backward(loss.backward(), false);
      opt.step(params);
    }
    return graph::masked_accuracy(model.forward(d.features), d.labels, d.test);
  };
  // Kipf and Welling's Â: the SBM graph plus self loops, symmetric normalisation.
  const auto a = graph::aggregation<float>::of(d.graph.with_self_loops(), graph::normalization::symmetric);
  nn::chain<float> gcn;
  gcn.add(graph::gcn<float>(a, 32, 32)).add(nn::relu<float>()).add(graph::gcn<float>(a, 32, 6));
  nn::chain<float> mlp;
  mlp.add(nn::linear<float>(32, 32)).add(nn::relu<float>()).add(nn::linear<float>(32, 6));
  const double gcn_accuracy = train(gcn), mlp_accuracy = train(mlp);
  INFO("GCN " << gcn_accuracy << ", MLP " << mlp_accuracy);
  CHECK(gcn_accuracy > 0.85);
  CHECK(gcn_accuracy > mlp_accuracy + 0.25);
}

TEST_CASE("from_graph_data: a LINQS pair read by io becomes a dataset; files without features are refused") {
  const auto dir = test::scratch_dir("graph-dataset");
  {
    std::ofstream content(dir / "tiny.content");
    // 6 papers, 3 binary attributes, 2 classes; paper p5 has no citations.
    content << "p0\t1\t0\t0\tA\np1\t1\t1\t0\tA\np2\t0\t1\t0\tB\np3\t0\t0\t1\tB\np4\t1\t0\t1\tA\np5\t0\t1\t1\tB\n";
    std::ofstream cites(dir / "tiny.cites");
    cites << "p0\tp1\np1\tp2\np2\tp3\np3\tp4\np0\tp4\np1\tp0\n";  // p1 -> p0 repeats p0 -> p1 undirected
  }
  const auto g = io::read_linqs(dir / "tiny.content", dir / "tiny.cites");
  const auto d = graph::from_graph_data<double>(g, {.train_fraction = 0.34, .validation_fraction = 0.16, .seed = 3});
  CHECK(d.graph.num_nodes() == 6);
  CHECK(d.graph.is_symmetric());
  CHECK(d.graph.num_entries() == 10);  // 5 distinct undirected edges
  CHECK(d.graph.degree(5) == 0);
  CHECK(d.num_classes == 2);
  CHECK(d.labels == std::vector<std::int32_t>{0, 0, 1, 1, 0, 1});
  CHECK(d.features[1 * 3 + 1] == 1.0);
  CHECK(d.train.size() == 2);
  CHECK(d.validation.size() == 0);
  CHECK(d.test.size() == 4);
  io::graph_data bare = g;
  bare.features.resize(6, 0);
  CHECK_THROWS_WITH_AS(graph::from_graph_data<float>(bare), doctest::Contains("needs features for every node"),
                       invalid_argument);
}
