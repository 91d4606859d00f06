#include <doctest/doctest.h>

#include <frugal/nn.hpp>

#include <cstring>
#include <fstream>

#include "lenet_support.hpp"
#include "test_support.hpp"

namespace nn = frugal::nn;
using frugal::nn::tensor;

using frugal::test::bit_equal;
using frugal::test::train_steps;

TEST_CASE("the parameter registry round-trips through a checkpoint bit-exactly, masks included") {
  const auto dir = frugal::test::scratch_dir("nn-serialization");
  auto a = nn::make_lenet5<float>(1);
  auto ra = a.parameters();
  nn::matrix<float> mask = nn::matrix<float>::Ones(120, 400);
  for (int j = 0; j < 400; j += 3) mask(0, j) = 0;
  ra.at("7.weight").set_mask(mask);
  nn::save_parameters(dir / "a.ck", ra);

  auto b = nn::make_lenet5<float>(2);
  auto rb = b.parameters();
  CHECK_FALSE(bit_equal(ra.at("0.weight").value, rb.at("0.weight").value));
  nn::load_parameters(dir / "a.ck", rb);
  for (std::size_t i = 0; i < ra.size(); ++i) {
    INFO(ra[i].name);
    CHECK(bit_equal(ra[i].param->value, rb[i].param->value));
  }
  REQUIRE(rb.at("7.weight").mask.has_value());
  CHECK(bit_equal(*rb.at("7.weight").mask, mask));
  CHECK_FALSE(rb.at("0.weight").mask.has_value());
}

TEST_CASE("loading into a model of another shape, or from a file missing a parameter, fails clearly") {
  const auto dir = frugal::test::scratch_dir("nn-serialization-mismatch");
  nn::linear<float> small(4, 3), other(5, 3);
  nn::parameter_registry<float> rs, ro;
  small.register_parameters(rs, "fc");
  other.register_parameters(ro, "fc");
  nn::save_parameters(dir / "s.ck", rs);
  CHECK_THROWS_WITH_AS(nn::load_parameters(dir / "s.ck", ro), doctest::Contains("shape 3x4, the model expects 3x5"),
                       frugal::format_error);
  nn::parameter_registry<float> renamed;
  small.register_parameters(renamed, "head");
  CHECK_THROWS_WITH_AS(nn::load_parameters(dir / "s.ck", renamed), doctest::Contains("no parameter 'head.weight'"),
                       frugal::format_error);
}

TEST_CASE("a truncated model checkpoint is refused") {
  const auto dir = frugal::test::scratch_dir("nn-serialization-trunc");
  auto a = nn::make_lenet5<float>(1);
  nn::save_parameters(dir / "a.ck", a.parameters());
  std::filesystem::resize_file(dir / "a.ck", std::filesystem::file_size(dir / "a.ck") - 100);
  CHECK_THROWS_WITH_AS(nn::load_parameters(dir / "a.ck", a.parameters()), doctest::Contains("truncated"),
                       frugal::format_error);
}

TEST_CASE("training resumed from a checkpoint (parameters + Adam state) continues identically") {
  const auto dir = frugal::test::scratch_dir("nn-resume");
  auto straight = nn::make_lenet5<float>(3);
  nn::adam<float> opt_straight;
  train_steps(straight, opt_straight, 3, 10);
  train_steps(straight, opt_straight, 3, 11);

  auto first = nn::make_lenet5<float>(3);
  nn::adam<float> opt_first;
  train_steps(first, opt_first, 3, 10);
  frugal::checkpoint_writer out;
  nn::save_parameters(out, first.parameters());
  opt_first.save_state(out);
  out.write(dir / "resume.ck");

  auto resumed = nn::make_lenet5<float>(99);
  nn::adam<float> opt_resumed;
  const frugal::checkpoint_reader in(dir / "resume.ck");
  nn::load_parameters(in, resumed.parameters());
  opt_resumed.load_state(in);
  train_steps(resumed, opt_resumed, 3, 11);

  auto rs = straight.parameters(), rr = resumed.parameters();
  for (std::size_t i = 0; i < rs.size(); ++i) {
    INFO(rs[i].name);
    CHECK(bit_equal(rs[i].param->value, rr[i].param->value));
  }
}
