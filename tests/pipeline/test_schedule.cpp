// Pipeline schedules (each micro-batch once forward then once backward, 1F1B's in-flight bound,
// the simulated bubble) and pipelined training: GPipe and 1F1B over 2-4 in-process stages give
// an MLP and a small CNN the gradients of the unpipelined model, and the same weights after
// several optimizer steps.
#include <doctest/doctest.h>

#include <frugal/nn.hpp>
#include <frugal/pipeline/in_process.hpp>
#include <frugal/pipeline/schedule.hpp>
#include <frugal/pipeline/stage.hpp>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "test_support.hpp"

using namespace frugal;
using pipeline::schedule_kind;
using pipeline::stage_op;

TEST_CASE("stage_schedule: every micro-batch forward then backward; 1F1B keeps at most S - s in flight") {
  for (schedule_kind kind : {schedule_kind::gpipe, schedule_kind::one_f_one_b})
    for (int stages : {1, 2, 4})
      for (int m : {1, 3, 8})
        for (int s = 0; s < stages; ++s) {
          const auto ops = pipeline::stage_schedule(kind, stages, s, m);
          CHECK(ops.size() == static_cast<std::size_t>(2 * m));
          std::vector<int> seen(static_cast<std::size_t>(m), 0);
          for (const auto& op : ops) {
            int& state = seen[static_cast<std::size_t>(op.micro_batch)];
            if (op.what == stage_op::kind::forward) {
              CHECK(state == 0);
              state = 1;
            } else {
              CHECK(state == 1);
              state = 2;
            }
          }
          CHECK(std::all_of(seen.begin(), seen.end(), [](int v) { return v == 2; }));
          const int peak = pipeline::peak_in_flight(ops);
          CHECK(peak == (kind == schedule_kind::gpipe ? m : std::min(m, stages - s)));
        }
  // The textbook bubble: S stages, M micro-batches, equal times t_f = 1, t_b = 2 per stage:
  // makespan (M + S - 1) (t_f + t_b) for both schedules.
  for (schedule_kind kind : {schedule_kind::gpipe, schedule_kind::one_f_one_b})
    CHECK(pipeline::simulate_makespan(kind, 8, {1, 1, 1, 1}, {2, 2, 2, 2}) == doctest::Approx((8 + 4 - 1) * 3.0));
  CHECK(pipeline::simulate_makespan(schedule_kind::gpipe, 5, {1}, {2}) == doctest::Approx(15.0));
  CHECK_THROWS_AS((void)pipeline::stage_schedule(schedule_kind::gpipe, 2, 2, 1), invalid_argument);
}

TEST_CASE("chain::split keeps layer names, so parameters keep theirs") {
  nn::chain<float> model;
  model.add(nn::linear<float>(3, 4)).add(nn::relu<float>()).add("head", nn::linear<float>(4, 2));
  const std::vector<std::size_t> cuts{1, 2};
  auto parts = model.split(cuts);
  REQUIRE(parts.size() == 3);
  CHECK(model.empty());
  CHECK(parts[0].parameters().at("0.weight").value.rows() == 4);
  CHECK(parts[2].name(0) == "head");
  CHECK(parts[2].parameters().at("head.bias").value.cols() == 2);
  nn::chain<float> other;
  other.add(nn::relu<float>());
  CHECK_THROWS_WITH_AS((void)other.split(std::vector<std::size_t>{1}), doctest::Contains("boundary 1 after 0"),
                       invalid_argument);
}

namespace {

// Every layer on the in-process ranks' space (see pipeline::in_process_space).
using space = pipeline::in_process_space;
using model_t = nn::chain<double, space>;
using linear_t = nn::linear<double, nn::dense_weight<double>, space>;
using relu_t = nn::relu<double, space>;

// An MLP (and, with `cnn`, a small CNN) built the same way on every rank from one seed.
model_t make_model(bool cnn) {
  model_t m;
  if (cnn) {
    m.add(nn::conv2d<double, nn::dense_weight<double>, space>({.in_channels = 1, .out_channels = 3, .kernel = 3}));
    m.add(relu_t()).add(nn::max_pool2d<double, space>(2));
    m.add(nn::flatten<double, space>()).add(linear_t(3 * 3 * 3, 8)).add(relu_t());
    m.add(linear_t(8, 4));
  } else {
    m.add(linear_t(6, 16)).add(relu_t()).add(linear_t(16, 16)).add(relu_t());
    m.add(linear_t(16, 8)).add(relu_t()).add(linear_t(8, 4));
  }
  rng gen(42);
  m.reset_parameters(gen);
  return m;
}

struct batch_data {
  nn::tensor<double> x;
  std::vector<std::int32_t> y;
};

batch_data make_batch(bool cnn, index_t n, std::uint64_t seed) {
  rng gen(seed);
  batch_data b;
  if (cnn)
    b.x.resize(std::vector<index_t>{n, 8, 8, 1});
  else
    b.x.resize(std::vector<index_t>{n, 6});
  for (index_t i = 0; i < b.x.size(); ++i) b.x.data()[i] = gen.normal();
  for (index_t i = 0; i < n; ++i) b.y.push_back(static_cast<std::int32_t>(gen.uniform_int(4)));
  return b;
}

// name -> (value, gradient) after `steps` SGD steps and the last step's backward.
using snapshot = std::map<std::string, std::pair<nn::matrix<double>, nn::matrix<double>>>;

snapshot reference(bool cnn, int steps) {
  model_t model = make_model(cnn);
  auto params = model.parameters();
  nn::sgd<double, pipeline::in_process_space> opt({.learning_rate = 0.1});
  nn::softmax_cross_entropy<double, space> loss;
  for (int s = 0; s < steps; ++s) {
    const batch_data b = make_batch(cnn, 13, 100 + static_cast<std::uint64_t>(s));
    params.zero_grad();
    loss.forward(model.forward(b.x), b.y);
    model.backward(loss.backward());
    if (s + 1 < steps) opt.step(params);
  }
  snapshot out;
  for (const auto& e : params) out[e.name] = {e.param->value, e.param->grad};
  return out;
}

snapshot pipelined(bool cnn, int steps, int stages, schedule_kind kind, int micro_batches) {
  const auto per_rank = pipeline::run_in_process(stages, [&](pipeline::in_process_transport& t) {
    model_t whole = make_model(cnn);
    // Cut points spread over the layers: stage s gets layers [cut[s-1], cut[s]).
    std::vector<std::size_t> cuts;
    for (int s = 1; s < stages; ++s)
      cuts.push_back(whole.size() * static_cast<std::size_t>(s) / static_cast<std::size_t>(stages));
    auto parts = whole.split(cuts);
    pipeline::stage<double, space, pipeline::in_process_transport> stage(
        std::move(parts[static_cast<std::size_t>(t.rank())]), t, {.schedule = kind, .micro_batches = micro_batches});
    auto params = stage.parameters();
    nn::sgd<double, pipeline::in_process_space> opt({.learning_rate = 0.1});
    nn::softmax_cross_entropy<double, space> loss;
    for (int s = 0; s < steps; ++s) {
      const batch_data b = make_batch(cnn, 13, 100 + static_cast<std::uint64_t>(s));
      params.zero_grad();
      const auto value = stage.step(&b.x, b.y, loss);
      CHECK(value.has_value() == stage.last());
      if (s + 1 < steps) opt.step(params);
    }
    if (kind == schedule_kind::one_f_one_b && stage.last()) CHECK(stage.statistics().recomputed_forwards == 0);
    snapshot out;
    for (const auto& e : params) out[e.name] = {e.param->value, e.param->grad};
    return out;
  });
  snapshot all;
  for (const auto& s : per_rank) all.insert(s.begin(), s.end());
  return all;
}

}  // namespace

TEST_CASE("pipelined GPipe and 1F1B training equals unpipelined training (MLP and CNN, 2-4 stages)") {
  for (bool cnn : {false, true}) {
    const snapshot expected = reference(cnn, 3);
    for (int stages : {2, 4})
      for (schedule_kind kind : {schedule_kind::gpipe, schedule_kind::one_f_one_b})
        for (int micro : {1, 3, 4}) {  // 13 rows: 3 and 4 micro-batches are uneven
          INFO((cnn ? "CNN" : "MLP") << ", " << stages << " stages, " << pipeline::to_string(kind) << ", " << micro
                                     << " micro-batches");
          const snapshot got = pipelined(cnn, 3, stages, kind, micro);
          REQUIRE(got.size() == expected.size());
          for (const auto& [name, ref] : expected) {
            const auto& [value, grad] = got.at(name);
            INFO(name);
            CHECK((value - ref.first).cwiseAbs().maxCoeff() <= 1e-12 * (1 + ref.first.cwiseAbs().maxCoeff()));
            CHECK((grad - ref.second).cwiseAbs().maxCoeff() <= 1e-12 * (1 + ref.second.cwiseAbs().maxCoeff()));
          }
        }
  }
}
