#pragma once
// Finite-difference gradient checking for the nn tests.
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

}  // namespace frugal::test
