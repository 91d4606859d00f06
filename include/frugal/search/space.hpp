#pragma once
/// \file
/// Search spaces with continuous, integer, ordinal and categorical dimensions, and their encoding
/// into the unit cube the Gaussian process works in: a continuous or integer dimension is one
/// coordinate (log-scaled on request), an ordinal one the position of its value, a categorical one
/// a one-hot block. Decoding rounds integers and ordinals to their nearest value and takes the
/// largest coordinate of a one-hot block, so every decoded point is a valid one.

#include <Eigen/Core>

#include <cmath>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/rng.hpp"

namespace frugal::search {

/// A point of a search space: one value per dimension (a categorical dimension's value is the
/// index of its category).
using point = std::vector<double>;

enum class dimension_kind { continuous, integer, ordinal, categorical };

struct dimension {
  std::string name;
  dimension_kind kind = dimension_kind::continuous;
  double low = 0, high = 1;    ///< continuous, integer: the closed range
  bool log_scale = false;      ///< continuous, integer: encode log(value) (needs low > 0)
  std::vector<double> values;  ///< ordinal: the allowed values, ascending
  int categories = 0;          ///< categorical: how many
};

class search_space {
 public:
  search_space& add_continuous(std::string name, double low, double high, bool log_scale = false) {
    check_range("add_continuous", name, low, high, log_scale);
    m_dims.push_back({std::move(name), dimension_kind::continuous, low, high, log_scale, {}, 0});
    return *this;
  }
  search_space& add_integer(std::string name, std::int64_t low, std::int64_t high, bool log_scale = false) {
    check_range("add_integer", name, static_cast<double>(low), static_cast<double>(high), log_scale);
    m_dims.push_back({std::move(name),
                      dimension_kind::integer,
                      static_cast<double>(low),
                      static_cast<double>(high),
                      log_scale,
                      {},
                      0});
    return *this;
  }
  search_space& add_ordinal(std::string name, std::vector<double> values) {
    check(values.size() >= 2, "frugal::search::search_space::add_ordinal: '", name, "' needs at least two values");
    for (std::size_t i = 1; i < values.size(); ++i)
      check(values[i - 1] < values[i], "frugal::search::search_space::add_ordinal: '", name,
            "' values must be strictly ascending");
    m_dims.push_back(
        {std::move(name), dimension_kind::ordinal, values.front(), values.back(), false, std::move(values), 0});
    return *this;
  }
  search_space& add_categorical(std::string name, int categories) {
    check(categories >= 2, "frugal::search::search_space::add_categorical: '", name, "' needs at least two categories");
    m_dims.push_back(
        {std::move(name), dimension_kind::categorical, 0, static_cast<double>(categories - 1), false, {}, categories});
    return *this;
  }

  [[nodiscard]] std::size_t size() const noexcept { return m_dims.size(); }
  [[nodiscard]] const dimension& operator[](std::size_t i) const { return m_dims.at(i); }

  /// Coordinates of the encoding (a categorical dimension takes one per category).
  [[nodiscard]] index_t encoded_dims() const noexcept {
    index_t n = 0;
    for (const auto& d : m_dims) n += d.kind == dimension_kind::categorical ? d.categories : 1;
    return n;
  }

  /// Whether `p` is a point of this space (right size, in range, integral where it must be).
  [[nodiscard]] bool contains(const point& p) const {
    if (p.size() != m_dims.size()) return false;
    for (std::size_t i = 0; i < p.size(); ++i) {
      const auto& d = m_dims[i];
      const double v = p[i];
      if (!std::isfinite(v)) return false;
      switch (d.kind) {
        case dimension_kind::continuous:
          if (v < d.low || v > d.high) return false;
          break;
        case dimension_kind::integer:
        case dimension_kind::categorical:
          if (v < d.low || v > d.high || v != std::round(v)) return false;
          break;
        case dimension_kind::ordinal:
          if (std::find(d.values.begin(), d.values.end(), v) == d.values.end()) return false;
          break;
      }
    }
    return true;
  }

  /// The point in [0, 1]^encoded_dims().
  [[nodiscard]] Eigen::VectorXd encode(const point& p) const {
    check(contains(p), "frugal::search::search_space::encode: the point is not in the space");
    Eigen::VectorXd u = Eigen::VectorXd::Zero(encoded_dims());
    index_t at = 0;
    for (std::size_t i = 0; i < m_dims.size(); ++i) {
      const auto& d = m_dims[i];
      switch (d.kind) {
        case dimension_kind::continuous:
        case dimension_kind::integer:
          u(at++) = d.log_scale ? (std::log(p[i]) - std::log(d.low)) / (std::log(d.high) - std::log(d.low))
                                : (p[i] - d.low) / (d.high - d.low);
          break;
        case dimension_kind::ordinal: {
          const auto k = std::find(d.values.begin(), d.values.end(), p[i]) - d.values.begin();
          u(at++) = static_cast<double>(k) / static_cast<double>(d.values.size() - 1);
          break;
        }
        case dimension_kind::categorical:
          u(at + static_cast<index_t>(p[i])) = 1;
          at += d.categories;
          break;
      }
    }
    return u;
  }

  /// The nearest valid point to `u` (coordinates clamped to [0, 1]).
  [[nodiscard]] point decode(const Eigen::VectorXd& u) const {
    check(u.size() == encoded_dims(), "frugal::search::search_space::decode: ", u.size(), " coordinates for ",
          encoded_dims());
    point p(m_dims.size());
    index_t at = 0;
    for (std::size_t i = 0; i < m_dims.size(); ++i) {
      const auto& d = m_dims[i];
      const double c = std::clamp(u(at), 0.0, 1.0);
      switch (d.kind) {
        case dimension_kind::continuous:
        case dimension_kind::integer: {
          double v = d.log_scale ? std::exp(std::log(d.low) + c * (std::log(d.high) - std::log(d.low)))
                                 : d.low + c * (d.high - d.low);
          if (d.kind == dimension_kind::integer) v = std::round(v);
          p[i] = std::clamp(v, d.low, d.high);
          ++at;
          break;
        }
        case dimension_kind::ordinal:
          p[i] = d.values[static_cast<std::size_t>(std::lround(c * static_cast<double>(d.values.size() - 1)))];
          ++at;
          break;
        case dimension_kind::categorical: {
          index_t best = 0;
          for (index_t k = 1; k < d.categories; ++k)
            if (u(at + k) > u(at + best)) best = k;
          p[i] = static_cast<double>(best);
          at += d.categories;
          break;
        }
      }
    }
    return p;
  }

  /// A uniformly random point (log-scaled dimensions uniform in the log).
  [[nodiscard]] point sample(rng& gen) const {
    Eigen::VectorXd u(encoded_dims());
    for (index_t j = 0; j < u.size(); ++j) u(j) = gen.uniform();
    return decode(u);
  }

  /// How many points the space has, when every dimension is discrete and the count fits.
  [[nodiscard]] std::optional<std::uint64_t> cardinality() const {
    std::uint64_t n = 1;
    for (const auto& d : m_dims) {
      std::uint64_t k = 0;
      switch (d.kind) {
        case dimension_kind::continuous:
          return std::nullopt;
        case dimension_kind::integer:
          k = static_cast<std::uint64_t>(d.high - d.low) + 1;
          break;
        case dimension_kind::ordinal:
          k = d.values.size();
          break;
        case dimension_kind::categorical:
          k = static_cast<std::uint64_t>(d.categories);
          break;
      }
      if (n > (std::uint64_t{1} << 62) / k) return std::nullopt;
      n *= k;
    }
    return n;
  }

  /// Point number `index` of a discrete space (`index` < cardinality()), the first dimension
  /// varying fastest.
  [[nodiscard]] point enumerate(std::uint64_t index) const {
    const auto n = cardinality();
    check(n.has_value() && index < *n, "frugal::search::search_space::enumerate: index ", index,
          " outside a discrete space of ", n.value_or(0), " points");
    point p(m_dims.size());
    for (std::size_t i = 0; i < m_dims.size(); ++i) {
      const auto& d = m_dims[i];
      const std::uint64_t k = d.kind == dimension_kind::integer   ? static_cast<std::uint64_t>(d.high - d.low) + 1
                              : d.kind == dimension_kind::ordinal ? d.values.size()
                                                                  : static_cast<std::uint64_t>(d.categories);
      const std::uint64_t r = index % k;
      index /= k;
      p[i] = d.kind == dimension_kind::integer   ? d.low + static_cast<double>(r)
             : d.kind == dimension_kind::ordinal ? d.values[r]
                                                 : static_cast<double>(r);
    }
    return p;
  }

  /// A one-line description of every dimension (name, kind, range or values): two spaces with the
  /// same description encode points the same way, which is what a resumed search must check.
  [[nodiscard]] std::string describe() const {
    std::ostringstream out;
    out.precision(17);
    for (const auto& d : m_dims) {
      out << d.name << ':';
      switch (d.kind) {
        case dimension_kind::continuous:
        case dimension_kind::integer:
          out << (d.kind == dimension_kind::continuous ? "continuous[" : "integer[") << d.low << ',' << d.high << ']'
              << (d.log_scale ? "log" : "");
          break;
        case dimension_kind::ordinal:
          out << "ordinal{";
          for (double v : d.values) out << v << ',';
          out << '}';
          break;
        case dimension_kind::categorical:
          out << "categorical" << d.categories;
          break;
      }
      out << ';';
    }
    return out.str();
  }

 private:
  static void check_range(const char* what, const std::string& name, double low, double high, bool log_scale) {
    check(std::isfinite(low) && std::isfinite(high) && low < high, "frugal::search::search_space::", what, ": '", name,
          "' needs finite low < high, got [", low, ", ", high, "]");
    check(!log_scale || low > 0, "frugal::search::search_space::", what, ": '", name, "' on a log scale needs low > 0");
  }

  std::vector<dimension> m_dims;
};

}  // namespace frugal::search
