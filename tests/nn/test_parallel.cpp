// The nn kernels on every host execution space: against plain serial references on random inputs
// with sizes that split unevenly into chunks, and bit-identical between Kokkos::Serial and the
// default host space (Kokkos::OpenMP with 2 threads in the openmp preset), as docs/core.md says.
#include <doctest/doctest.h>

#include <frugal/nn.hpp>

#include <cstring>
#include <vector>

#include "gradcheck.hpp"
#include "lenet_support.hpp"
#include "test_support.hpp"

using frugal::index_t;
namespace nn = frugal::nn;

namespace {

/// C = A·B the obvious way, in double: the reference the chunked GEMMs are checked against.
Eigen::MatrixXd naive_product(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(a.rows(), b.cols());
  for (index_t i = 0; i < a.rows(); ++i)
    for (index_t j = 0; j < b.cols(); ++j)
      for (index_t k = 0; k < a.cols(); ++k) c(i, j) += a(i, k) * b(k, j);
  return c;
}

template <class M>
void fill(M& m, frugal::rng& gen) {
  for (index_t i = 0; i < m.size(); ++i)
    m.data()[i] = static_cast<std::remove_reference_t<decltype(m.data()[0])>>(gen.normal());
}

}  // namespace

TEST_CASE_TEMPLATE("gemm and gemm_reduce match a naive product for every operand layout and uneven sizes", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(21);
  const Exec exec{};
  // (m, n, k): tiny, one chunk, several uneven chunks, and long reductions split into partials.
  const index_t shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {37, 101, 19}, {120, 64, 400}, {6, 3001, 25}, {45, 17, 2999}};
  for (const auto& shape : shapes) {
    const index_t m = shape[0], n = shape[1], k = shape[2];
    Eigen::MatrixXd a(m, k), b(k, n), g0(m, n);
    fill(a, gen);
    fill(b, gen);
    fill(g0, gen);
    const Eigen::MatrixXd expect = naive_product(a, b);
    for (bool a_row : {false, true})
      for (bool b_row : {false, true}) {
        // Lay the operands out as asked (row-major operands are transposed copies).
        const Eigen::MatrixXd a_store = a_row ? Eigen::MatrixXd(a.transpose()) : a;
        const Eigen::MatrixXd b_store = b_row ? Eigen::MatrixXd(b.transpose()) : b;
        const nn::detail::dense_operand<double> ao{a_store.data(), a_row ? k : m, a_row};
        const nn::detail::dense_operand<double> bo{b_store.data(), b_row ? n : k, b_row};
        Eigen::MatrixXd c(m, n);
        nn::detail::gemm(exec, m, n, k, ao, bo, c.data(), m);
        CHECK(frugal::test::relative_error(c, expect) < 1e-13);
        // gemm_reduce accumulates into a row-major G.
        nn::matrix<double> g = g0;
        std::vector<double> scratch;
        nn::detail::gemm_reduce(exec, m, n, k, ao, bo, g.data(), n, scratch);
        const nn::matrix<double> g_expect = g0 + expect;
        CHECK(frugal::test::relative_error(g, g_expect) < 1e-13);
      }
  }
}

TEST_CASE_TEMPLATE("bias kernels and the parallel transpose match plain loops", Exec, FRUGAL_TEST_SPACES) {
  frugal::rng gen(22);
  const Exec exec{};
  for (index_t cols : {1, 63, 1000, 40001}) {
    const index_t c = 7;
    Eigen::MatrixXf y(c, cols), dy(c, cols);
    fill(y, gen);
    fill(dy, gen);
    std::vector<float> bias(static_cast<std::size_t>(c));
    for (auto& v : bias) v = static_cast<float>(gen.normal());
    Eigen::MatrixXf expect = y;
    for (index_t j = 0; j < cols; ++j)
      for (index_t r = 0; r < c; ++r) expect(r, j) += bias[static_cast<std::size_t>(r)];
    nn::detail::add_bias(exec, y.data(), c, cols, bias.data());
    CHECK(y == expect);
    std::vector<float> grad(static_cast<std::size_t>(c), 1.0f), scratch;
    nn::detail::accumulate_bias_gradient(exec, dy.data(), c, cols, grad.data(), scratch);
    for (index_t r = 0; r < c; ++r) {
      double sum = 1;
      for (index_t j = 0; j < cols; ++j) sum += dy(r, j);
      CHECK(grad[static_cast<std::size_t>(r)] == doctest::Approx(sum).epsilon(1e-4));
    }
    // Transpose of a cols × c row-major block into a c × cols one.
    std::vector<float> t(static_cast<std::size_t>(c * cols));
    nn::detail::transpose(exec, dy.data(), cols, c, c, t.data(), cols);
    bool same = true;
    for (index_t j = 0; j < cols; ++j)
      for (index_t r = 0; r < c; ++r) same &= t[static_cast<std::size_t>(r * cols + j)] == dy(r, j);
    CHECK(same);
  }
}

TEST_CASE_TEMPLATE("optimizers and losses on every space match the default space bit for bit", Exec,
                   FRUGAL_TEST_SPACES) {
  frugal::rng gen(23);
  // One large parameter (several update chunks), masked, and a small one.
  nn::parameter<double> big, small;
  big.resize(97, 211);
  small.resize(1, 5);
  fill(big.value, gen);
  fill(small.value, gen);
  nn::matrix<double> mask(97, 211);
  for (index_t i = 0; i < mask.size(); ++i) mask.data()[i] = gen.uniform() < 0.7 ? 1.0 : 0.0;
  big.set_mask(mask);
  nn::parameter<double> big_ref = big, small_ref = small;
  nn::parameter_registry<double> reg, reg_ref;
  reg.add("big", big);
  reg.add("small", small);
  reg_ref.add("big", big_ref);
  reg_ref.add("small", small_ref);
  nn::adam<double, Exec> adam({.weight_decay = 0.01}, Exec{});
  nn::adam<double, Kokkos::Serial> adam_ref({.weight_decay = 0.01});
  nn::sgd<double, Exec> sgd({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true}, Exec{});
  nn::sgd<double, Kokkos::Serial> sgd_ref({.learning_rate = 0.1, .momentum = 0.9, .nesterov = true});
  for (int step = 0; step < 3; ++step) {
    for (auto* p : {&big, &small, &big_ref, &small_ref}) fill(p->grad, gen);
    big_ref.grad = big.grad;
    small_ref.grad = small.grad;
    adam.step(reg);
    adam_ref.step(reg_ref);
    big_ref.grad = big.grad;
    small_ref.grad = small.grad;
    sgd.step(reg);
    sgd_ref.step(reg_ref);
  }
  CHECK(frugal::test::bit_equal(big.value, big_ref.value));
  CHECK(frugal::test::bit_equal(small.value, small_ref.value));
  for (index_t i = 0; i < mask.size(); ++i)
    if (mask.data()[i] == 0) CHECK(big.value.data()[i] == 0.0);

  nn::tensor<double> logits({37, 10});
  fill(logits, gen);
  std::vector<std::int32_t> labels(37);
  for (auto& v : labels) v = static_cast<std::int32_t>(gen.uniform_int(10));
  nn::softmax_cross_entropy<double, Exec> ce{Exec{}};
  nn::softmax_cross_entropy<double, Kokkos::Serial> ce_ref;
  const double l = ce.forward(logits, labels), l_ref = ce_ref.forward(logits, labels);
  CHECK(std::memcmp(&l, &l_ref, sizeof l) == 0);
  const auto& g = ce.backward();  // backward turns the probabilities into the gradient: call it once
  const auto& g_ref = ce_ref.backward();
  CHECK(std::equal(g.flat().begin(), g.flat().end(), g_ref.flat().begin()));
}

TEST_CASE("a seeded LeNet-5 training run is bit-identical on Kokkos::Serial and the default host space") {
  // The default host space is Kokkos::OpenMP (2 threads) in the openmp preset: every product,
  // reduction and update must give the same bits as one thread.
  auto serial = nn::make_lenet5<float, Kokkos::Serial>(7);
  auto parallel = nn::make_lenet5<float, Kokkos::DefaultHostExecutionSpace>(7);
  nn::adam<float, Kokkos::Serial> opt_serial;
  nn::adam<float, Kokkos::DefaultHostExecutionSpace> opt_parallel;
  auto train = [](auto& model, auto& opt) {
    frugal::rng gen(99);
    auto registry = model.parameters();
    nn::softmax_cross_entropy<float, typename std::remove_reference_t<decltype(model)>::execution_space> loss;
    nn::tensor<float> x({37, 28, 28, 1});  // an odd batch: uneven chunks everywhere
    std::vector<std::int32_t> y(37);
    for (int s = 0; s < 3; ++s) {
      for (index_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(gen.uniform());
      for (auto& v : y) v = static_cast<std::int32_t>(gen.uniform_int(10));
      registry.zero_grad();
      loss.forward(model.forward(x), y);
      model.backward(loss.backward());
      opt.step(registry);
    }
    return model.predict(x);
  };
  const nn::tensor<float> out_serial = train(serial, opt_serial);
  const nn::tensor<float> out_parallel = train(parallel, opt_parallel);
  auto a = serial.parameters(), b = parallel.parameters();
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("parameter " << a[i].name);
    CHECK(frugal::test::bit_equal(a[i].param->value, b[i].param->value));
  }
  CHECK(std::equal(out_serial.flat().begin(), out_serial.flat().end(), out_parallel.flat().begin()));
}
