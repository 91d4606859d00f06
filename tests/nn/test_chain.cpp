// nn::chain (run-time depth) against sequential (compile-time depth) on the same layers, gradients
// against finite differences, and the weight-factory seam.
#include <doctest/doctest.h>

#include <frugal/nn.hpp>

#include <vector>

#include "gradcheck.hpp"

using namespace frugal;

namespace {

/// A dense policy whose factory counts its calls, to check the order make_mlp builds in.
struct counting_factory {
  std::vector<std::pair<index_t, index_t>>* calls;
  nn::dense_weight<double> operator()(index_t out, index_t in) {
    calls->emplace_back(out, in);
    return nn::dense_weight<double>(out, in);
  }
};

}  // namespace

TEST_CASE("chain: the same layers as a sequential give the same outputs, gradients and names") {
  nn::sequential seq(nn::linear<double>(5, 7), nn::relu<double>(), nn::linear<double>(7, 3));
  nn::chain<double> ch;
  ch.add(nn::linear<double>(5, 7)).add(nn::relu<double>()).add(nn::linear<double>(7, 3));
  CHECK(ch.size() == 3);
  rng g1(4), g2(4);
  seq.reset_parameters(g1);
  ch.reset_parameters(g2);
  auto ps = seq.parameters();
  auto pc = ch.parameters();
  REQUIRE(ps.size() == pc.size());
  for (std::size_t i = 0; i < ps.size(); ++i) {
    CHECK(ps[i].name == pc[i].name);
    CHECK(ps[i].param->value == pc[i].param->value);
  }
  nn::tensor<double> x({9, 5});
  rng gen(8);
  test::fill_normal(x, gen);
  const nn::tensor<double> ys = seq.forward(x);
  const nn::tensor<double>& yc = ch.forward(x);
  CHECK(ys.flat().isApprox(yc.flat(), 0.0));
  nn::tensor<double> dy;
  dy.resize_like(ys);
  test::fill_normal(dy, gen);
  ps.zero_grad();
  pc.zero_grad();
  const nn::tensor<double> dxs = seq.backward(dy, true);
  const nn::tensor<double>& dxc = ch.backward(dy, true);
  CHECK(dxs.flat().isApprox(dxc.flat(), 0.0));
  for (std::size_t i = 0; i < ps.size(); ++i) CHECK(ps[i].param->grad == pc[i].param->grad);
  CHECK(ch.predict(x).flat().isApprox(ys.flat(), 0.0));
}

TEST_CASE("chain: depth chosen at run time, gradients match finite differences, chains nest") {
  for (int depth : {1, 2, 4}) {
    CAPTURE(depth);
    nn::chain<double> ch;
    index_t width = 4;
    for (int i = 0; i < depth; ++i) {
      ch.add(nn::linear<double>(width, width + 1));
      ch.add(nn::relu<double>());
      ++width;
    }
    nn::chain<double> outer;
    outer.add("body", std::move(ch)).add("head", nn::linear<double>(width, 2));
    rng gen(static_cast<std::uint64_t>(depth));
    outer.reset_parameters(gen);
    nn::tensor<double> x({6, 4});
    test::fill_normal(x, gen);
    test::check_layer_gradients(outer, x, gen);
    CHECK(outer.parameters().at("body.0.weight").value.rows() == 5);
    CHECK(outer.parameters().at("head.bias").value.cols() == 2);
  }
}

TEST_CASE("chain: errors name the problem") {
  nn::chain<double> ch;
  ch.add("a", nn::linear<double>(3, 2));
  CHECK_THROWS_WITH_AS(ch.add("a", nn::relu<double>()), doctest::Contains("already in the chain"), invalid_argument);
  CHECK_THROWS_WITH_AS(ch.add("b.c", nn::relu<double>()), doctest::Contains("contain no '.'"), invalid_argument);
  CHECK_THROWS_WITH_AS(static_cast<void>(ch.layer<nn::relu<double>>(0)), doctest::Contains("not of the requested type"),
                       invalid_argument);
  CHECK_THROWS_AS(static_cast<void>(ch.layer<nn::linear<double>>(3)), invalid_argument);
  CHECK(ch.layer<nn::linear<double>>(0).out_features() == 2);
  nn::tensor<double> dy({1, 2});
  CHECK_THROWS_WITH_AS(ch.backward(dy), doctest::Contains("no forward"), invalid_argument);
  nn::tensor<double> x({1, 4});
  CHECK_THROWS_AS(ch.forward(x), shape_error);
}

TEST_CASE("a wrong shape inside a model names the model, the layer and what was expected") {
  // A chain nested in a chain: each level adds where the error came from, the innermost layer
  // says what it expected and what it got.
  nn::chain<double> body;
  body.add(nn::linear<double>(8, 64)).add(nn::relu<double>());
  nn::chain<double> net;
  net.add("body", std::move(body)).add("head", nn::linear<double>(64, 2));
  nn::tensor<double> wrong({3, 65});
  CHECK_THROWS_WITH_AS(net.forward(wrong),
                       "frugal::nn::chain::forward: layer 0 ('body'): frugal::nn::chain::forward: layer 0 ('0'): "
                       "frugal::nn::linear::forward: input features mismatch: got 65, expected 8",
                       shape_error);
  nn::tensor<double> x({3, 8});
  net.forward(x);
  nn::tensor<double> dy({3, 5});
  CHECK_THROWS_WITH_AS(net.backward(dy),
                       "frugal::nn::chain::backward: layer 1 ('head'): frugal::nn::linear::backward: output gradient "
                       "size mismatch: got 15, expected 6",
                       shape_error);
  // sequential names the position.
  nn::sequential<nn::linear<double>, nn::relu<double>, nn::linear<double>> seq(
      nn::linear<double>(4, 6), nn::relu<double>(), nn::linear<double>(5, 2));
  nn::tensor<double> x4({2, 4});
  CHECK_THROWS_WITH_AS(seq.forward(x4),
                       "frugal::nn::sequential::forward: layer 2: frugal::nn::linear::forward: input features "
                       "mismatch: got 6, expected 5",
                       shape_error);
  // Values and names, not just "invalid": a bad probability echoes the value.
  CHECK_THROWS_WITH_AS(nn::dropout<double>(1.5, 1), doctest::Contains("1.5"), invalid_argument);
}

TEST_CASE("make_mlp: factory called once per layer in order with (out, in); widths and ReLUs as asked") {
  std::vector<std::pair<index_t, index_t>> calls;
  auto mlp = nn::make_mlp<double>({6, 5, 4, 1}, counting_factory{&calls}, {.final_relu = true});
  CHECK(calls == std::vector<std::pair<index_t, index_t>>{{5, 6}, {4, 5}, {1, 4}});
  CHECK(mlp.size() == 6);
  CHECK(mlp.name(1) == "relu0");
  CHECK(mlp.name(5) == "relu2");
  auto plain = nn::make_mlp<double>({6, 5, 1});
  CHECK(plain.size() == 3);
  CHECK(plain.name(2) == "1");
  rng gen(3);
  plain.reset_parameters(gen);
  nn::tensor<double> x({5, 6});
  test::fill_normal(x, gen);
  test::check_layer_gradients(plain, x, gen);
  CHECK_THROWS_AS(nn::make_mlp<double>({6}), invalid_argument);
  CHECK_THROWS_AS(nn::make_mlp<double>({6, 0, 1}), invalid_argument);
}

TEST_CASE("linear from a factory refuses a policy of the wrong shape") {
  auto wrong = [](index_t out, index_t in) { return nn::dense_weight<double>(out + 1, in); };
  CHECK_THROWS_WITH_AS((nn::linear<double>(3, 2, wrong)), doctest::Contains("weight factory built a 3x3"),
                       invalid_argument);
  nn::linear<double> ok(3, 2, nn::dense_factory<double>{});
  CHECK(ok.out_features() == 2);
}
