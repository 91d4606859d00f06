#pragma once
/// \file
/// Storage accounting as ADMM-NN-S does it: bits for the kept values, plus the index overhead that
/// non-structured sparsity needs (relative indexing with padding), and only small
/// descriptors for structured patterns. Lets irregular and structured pruning be compared fairly.

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "bcr.hpp"
#include "concepts.hpp"

namespace frugal::admm {

/// How a pruned weight matrix is stored.
enum class storage_format {
  dense,     ///< every entry, value_bits each
  relative,  ///< kept entries in row-major order, each with a b-bit distance to the previous one,
             ///< and a padding entry (a stored zero) wherever a distance exceeds 2^b — the
             ///< relative indexing of Deep Compression (Han et al.) that ADMM-NN-S accounts for
  filter,    ///< kept rows stored densely + a row bitmap
  column,    ///< kept columns stored densely + a column bitmap
  bcr        ///< each block's kept sub-block stored densely + per-block row and column bitmaps
};

inline const char* to_string(storage_format f) {
  switch (f) {
    case storage_format::dense:
      return "dense";
    case storage_format::relative:
      return "relative-index";
    case storage_format::filter:
      return "filter";
    case storage_format::column:
      return "column";
    case storage_format::bcr:
      return "BCR";
  }
  return "?";
}

/// Storage of one weight matrix, in bits.
struct layer_storage {
  std::string name;
  storage_format format = storage_format::dense;
  index_t size = 0;      ///< entries of the dense matrix
  index_t nonzeros = 0;  ///< kept entries
  index_t padding = 0;   ///< padding entries (relative format)
  int bits_per_value = 32;
  int relative_index_bits = 0;  ///< index width used (relative format only)
  double value_bits = 0;        ///< kept values (and padding values)
  double index_bits = 0;        ///< relative indices
  double descriptor_bits = 0;   ///< bitmaps and quantization level tables

  [[nodiscard]] double total_bits() const noexcept { return value_bits + index_bits + descriptor_bits; }
  [[nodiscard]] double dense_bits() const noexcept { return 32.0 * static_cast<double>(size); }
  [[nodiscard]] double sparsity() const noexcept { return size ? 1.0 - static_cast<double>(nonzeros) / size : 0.0; }
};

/// Options of `account_storage`.
struct storage_options {
  int bits_per_value = 32;          ///< 32 for float, the code width for quantized weights
  int relative_index_bits = 0;      ///< b of relative indexing; 0 picks the cheapest b in [1, 16] per layer
                                    ///< (Deep Compression fixed b = 5 for FC and 8 for conv layers)
  index_t level_table_entries = 0;  ///< quantization levels stored with the layer, 32 bits each
};

/// Accounts the storage of a matrix whose kept entries are the non-zeros of `mask`, in `format`.
/// For `bcr`, `pattern` must be the pattern the mask came from.
template <nn::Scalar S>
[[nodiscard]] layer_storage account_storage(std::string name, const matrix<S>& mask, storage_format format,
                                            const storage_options& options = {}, const bcr_pattern* pattern = nullptr) {
  check(options.bits_per_value > 0 && options.relative_index_bits >= 0 && options.relative_index_bits <= 16,
        "frugal::admm::account_storage: bits_per_value = ", options.bits_per_value,
        ", relative_index_bits = ", options.relative_index_bits);
  layer_storage s;
  s.name = std::move(name);
  s.format = format;
  s.size = mask.size();
  s.bits_per_value = options.bits_per_value;
  for (index_t i = 0; i < mask.size(); ++i) s.nonzeros += mask.data()[i] != S(0);
  const double vb = options.bits_per_value;
  s.descriptor_bits = 32.0 * static_cast<double>(options.level_table_entries);
  switch (format) {
    case storage_format::dense:
      s.value_bits = vb * static_cast<double>(s.size);
      break;
    case storage_format::relative: {
      // The cost for index width b; with relative_index_bits = 0 the cheapest b in [1, 16] is used.
      auto cost = [&](int b, index_t& padding) {
        const index_t span = index_t{1} << b;
        padding = 0;
        index_t prev = -1;
        for (index_t i = 0; i < mask.size(); ++i) {
          if (mask.data()[i] == S(0)) continue;
          while (i - prev > span) {
            prev += span;
            ++padding;
          }
          prev = i;
        }
        const double entries = static_cast<double>(s.nonzeros + padding);
        return std::pair{vb * entries, b * entries};
      };
      int best_b = options.relative_index_bits;
      if (best_b == 0) {
        double best = std::numeric_limits<double>::infinity();
        for (int b = 1; b <= 16; ++b) {
          index_t pad = 0;
          const auto [values, index] = cost(b, pad);
          if (values + index < best) {
            best = values + index;
            best_b = b;
          }
        }
      }
      std::tie(s.value_bits, s.index_bits) = cost(best_b, s.padding);
      s.relative_index_bits = best_b;
      break;
    }
    case storage_format::filter: {
      index_t rows = 0;
      for (index_t r = 0; r < mask.rows(); ++r) rows += (mask.row(r).array() != S(0)).any();
      s.value_bits = vb * static_cast<double>(rows * mask.cols());
      s.descriptor_bits += static_cast<double>(mask.rows());
      break;
    }
    case storage_format::column: {
      index_t cols = 0;
      for (index_t c = 0; c < mask.cols(); ++c) cols += (mask.col(c).array() != S(0)).any();
      s.value_bits = vb * static_cast<double>(cols * mask.rows());
      s.descriptor_bits += static_cast<double>(mask.cols());
      break;
    }
    case storage_format::bcr: {
      check(pattern != nullptr, "frugal::admm::account_storage: the BCR format needs its pattern");
      check_extent("frugal::admm::account_storage", "pattern rows", pattern->rows, mask.rows());
      check_extent("frugal::admm::account_storage", "pattern cols", pattern->cols, mask.cols());
      s.value_bits = vb * static_cast<double>(pattern->kept());
      for (const auto& b : pattern->blocks) s.descriptor_bits += static_cast<double>(b.rows + b.cols);
      break;
    }
  }
  return s;
}

/// Totals over layers.
struct storage_summary {
  double total_bits = 0, dense_bits = 0;
  index_t size = 0, nonzeros = 0;
  [[nodiscard]] double compression() const noexcept { return total_bits > 0 ? dense_bits / total_bits : 0; }
  [[nodiscard]] double pruning_ratio() const noexcept {
    return nonzeros > 0 ? static_cast<double>(size) / nonzeros : 0;
  }
};

[[nodiscard]] inline storage_summary summarize(const std::vector<layer_storage>& layers) {
  storage_summary s;
  for (const auto& l : layers) {
    s.total_bits += l.total_bits();
    s.dense_bits += l.dense_bits();
    s.size += l.size;
    s.nonzeros += l.nonzeros;
  }
  return s;
}

}  // namespace frugal::admm
