#pragma once
/// \file
/// A batch of click-through examples in memory: dense features, one categorical id per field and a
/// binary label. Produced by the synthetic click-log generator (`synthetic.hpp`) and the Criteo
/// TSV reader (`criteo.hpp`); consumed by `dlrm`.

#include <cstdint>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"

namespace frugal::io {

/// Criteo's layout: 13 integer features and 26 categorical fields per line.
inline constexpr index_t criteo_dense_features = 13;
inline constexpr index_t criteo_sparse_features = 26;

/// Examples stored field-major per row: example i's dense features are
/// `dense[i * dense_features + j]`, its id in field f is `sparse[i * sparse_features + f]`
/// (always `< cardinalities[f]`), its label `labels[i]` (0 or 1).
struct click_dataset {
  index_t dense_features = criteo_dense_features;
  index_t sparse_features = criteo_sparse_features;
  std::vector<float> dense;
  std::vector<std::uint32_t> sparse;
  std::vector<float> labels;
  std::vector<index_t> cardinalities;  ///< rows of each field's table

  [[nodiscard]] index_t size() const noexcept { return static_cast<index_t>(labels.size()); }

  /// Throws `invalid_argument` unless the arrays agree with each other and every id is in range.
  void validate() const {
    const auto n = static_cast<std::size_t>(size());
    check(dense_features >= 0 && sparse_features >= 0, "frugal::io::click_dataset: negative feature count");
    check_extent("frugal::io::click_dataset", "dense values", dense.size(),
                 n * static_cast<std::size_t>(dense_features));
    check_extent("frugal::io::click_dataset", "sparse ids", sparse.size(),
                 n * static_cast<std::size_t>(sparse_features));
    check_extent("frugal::io::click_dataset", "cardinalities", cardinalities.size(),
                 static_cast<std::size_t>(sparse_features));
    for (std::size_t i = 0; i < n; ++i)
      for (index_t f = 0; f < sparse_features; ++f) {
        const auto id = sparse[i * static_cast<std::size_t>(sparse_features) + static_cast<std::size_t>(f)];
        check(static_cast<index_t>(id) < cardinalities[static_cast<std::size_t>(f)],
              "frugal::io::click_dataset: example ", i, " field ", f, " id ", id, " >= cardinality ",
              cardinalities[static_cast<std::size_t>(f)]);
      }
  }

  /// Appends example `i` of `other` (same layout) to this dataset.
  void append(const click_dataset& other, index_t i) {
    const auto d = static_cast<std::size_t>(dense_features), s = static_cast<std::size_t>(sparse_features);
    const auto k = static_cast<std::size_t>(i);
    dense.insert(dense.end(), other.dense.begin() + static_cast<std::ptrdiff_t>(k * d),
                 other.dense.begin() + static_cast<std::ptrdiff_t>((k + 1) * d));
    sparse.insert(sparse.end(), other.sparse.begin() + static_cast<std::ptrdiff_t>(k * s),
                  other.sparse.begin() + static_cast<std::ptrdiff_t>((k + 1) * s));
    labels.push_back(other.labels[k]);
  }
};

}  // namespace frugal::io
