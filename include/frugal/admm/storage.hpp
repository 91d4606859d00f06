#pragma once
/// \file
/// Storage accounting as ADMM-NN-S does it: bits for the kept values, plus the index overhead that
/// non-structured sparsity needs (CSR with relative indexing and padding), and only small
/// descriptors for structured patterns. Lets irregular and structured pruning be compared fairly.

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../core/error.hpp"
#include "bcr.hpp"
#include "concepts.hpp"

namespace frugal::admm {

/// How a pruned weight matrix is stored.
enum class storage_format {
  dense,         ///< every entry, value_bits each
  csr_relative,  ///< kept entries with b-bit relative column indices, padding entries where a gap
                 ///< exceeds 2^b, plus row pointers (Han et al.'s relative indexing in CSR)
  filter,        ///< kept rows stored densely + a row bitmap
  column,        ///< kept columns stored densely + a column bitmap
  bcr            ///< each block's kept sub-block stored densely + per-block row and column bitmaps
};

inline const char* to_string(storage_format f) {
  switch (f) {
    case storage_format::dense:
      return "dense";
    case storage_format::csr_relative:
      return "CSR-relative";
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
  index_t padding = 0;   ///< CSR padding entries
  int bits_per_value = 32;
  double value_bits = 0;       ///< kept values (and padding values)
  double index_bits = 0;       ///< relative indices and row pointers
  double descriptor_bits = 0;  ///< bitmaps and quantization level tables

  [[nodiscard]] double total_bits() const noexcept { return value_bits + index_bits + descriptor_bits; }
  [[nodiscard]] double dense_bits() const noexcept { return 32.0 * static_cast<double>(size); }
  [[nodiscard]] double sparsity() const noexcept { return size ? 1.0 - static_cast<double>(nonzeros) / size : 0.0; }
};

/// Options of `account_storage`.
struct storage_options {
  int bits_per_value = 32;          ///< 32 for float, the code width for quantized weights
  int relative_index_bits = 5;      ///< b of CSR relative indexing (ADMM-NN-S and Deep Compression use 4–5)
  index_t level_table_entries = 0;  ///< quantization levels stored with the layer, 32 bits each
};

/// Accounts the storage of a matrix whose kept entries are the non-zeros of `mask`, in `format`.
/// For `bcr`, `pattern` must be the pattern the mask came from.
template <nn::Scalar S>
[[nodiscard]] layer_storage account_storage(std::string name, const matrix<S>& mask, storage_format format,
                                            const storage_options& options = {}, const bcr_pattern* pattern = nullptr) {
  check(options.bits_per_value > 0 && options.relative_index_bits > 0 && options.relative_index_bits < 31,
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
    case storage_format::csr_relative: {
      const index_t span = index_t{1} << options.relative_index_bits;
      for (index_t r = 0; r < mask.rows(); ++r) {
        index_t prev = -1;
        for (index_t c = 0; c < mask.cols(); ++c) {
          if (mask(r, c) == S(0)) continue;
          while (c - prev > span) {
            prev += span;
            ++s.padding;
          }
          prev = c;
        }
      }
      const double entries = static_cast<double>(s.nonzeros + s.padding);
      s.value_bits = vb * entries;
      const double pointer_bits = std::max(1.0, std::ceil(std::log2(entries + 1)));
      s.index_bits = options.relative_index_bits * entries + pointer_bits * static_cast<double>(mask.rows() + 1);
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
