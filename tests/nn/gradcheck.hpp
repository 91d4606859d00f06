#pragma once
// Finite-difference gradient checking for the nn tests.
#include <doctest/doctest.h>
#include <frugal/core/rng.hpp>
#include <frugal/nn.hpp>

#include <cmath>
#include <functional>

namespace frugal::test {

/// ‖a - b‖ / max(‖a‖, ‖b‖, tiny): the relative error the acceptance criterion bounds.
template <class A, class B>
double relative_error(const A& a, const B& b) {
  double diff = 0, na = 0, nb = 0;
  for (Eigen::Index i = 0; i < a.size(); ++i) {
    diff += (a.data()[i] - b.data()[i]) * (a.data()[i] - b.data()[i]);
    na += a.data()[i] * a.data()[i];
    nb += b.data()[i] * b.data()[i];
  }
  return std::sqrt(diff) / std::max({std::sqrt(na), std::sqrt(nb), 1e-300});
}

/// Central differences of `objective` with respect to each entry of `values` (modified in place
/// and restored).
inline Eigen::VectorXd numeric_gradient(double* values, Eigen::Index n, const std::function<double()>& objective,
                                        double h = 1e-6) {
  Eigen::VectorXd g(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double saved = values[i];
    values[i] = saved + h;
    const double plus = objective();
    values[i] = saved - h;
    const double minus = objective();
    values[i] = saved;
    g[i] = (plus - minus) / (2 * h);
  }
  return g;
}

inline void fill_normal(nn::tensor<double>& t, rng& gen, double scale = 1.0) {
  for (index_t i = 0; i < t.size(); ++i) t[i] = scale * gen.normal();
}

/// Checks a layer's input and parameter gradients against central differences of the objective
/// Σ r ⊙ layer(x) for a fixed random r; every registered parameter is checked.
template <class L>
void check_layer_gradients(L& layer, nn::tensor<double>& x, rng& gen, double tolerance = 1e-6) {
  nn::tensor<double> r;
  r.resize_like(layer.forward(x));
  fill_normal(r, gen);
  auto objective = [&] { return (layer.forward(x).flat() * r.flat()).sum(); };
  nn::parameter_registry<double> registry;
  layer.register_parameters(registry, "layer");
  registry.zero_grad();
  layer.forward(x);
  const nn::tensor<double> dx = layer.backward(r, true);
  const auto numeric_dx = numeric_gradient(x.data(), x.size(), objective);
  const double err = relative_error(dx.flat(), numeric_dx);
  INFO("input gradient relative error " << err);
  CHECK(err <= tolerance);
  for (const auto& entry : registry) {
    const auto numeric = numeric_gradient(entry.param->value.data(), entry.param->value.size(), objective);
    const double perr = relative_error(entry.param->grad, numeric);
    INFO(entry.name << " gradient relative error " << perr);
    CHECK(perr <= tolerance);
  }
}

}  // namespace frugal::test
