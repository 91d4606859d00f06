#pragma once
/// \file
/// Options and report of the Criteo reader (`criteo.hpp`).

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../core/execution.hpp"

namespace frugal::io {

/// Options of `criteo_reader` and `read_criteo`.
struct criteo_options {
  /// Rows of each of the 26 fields' tables (each ≥ 2 and ≤ 2^32, ids being `std::uint32_t`);
  /// empty: `default_buckets` for every field.
  std::vector<index_t> hash_buckets;
  index_t default_buckets = index_t(1) << 20;  ///< table size of every field when `hash_buckets` is empty
  bool strict = false;       ///< throw `format_error` on the first malformed line instead of skipping it
  index_t max_examples = 0;  ///< stop after this many good examples (0: read the whole file)
  std::uint64_t seed = 0;    ///< seed of the categorical hash
  std::size_t block_bytes = std::size_t(1) << 20;  ///< decompressed bytes per `gzread` (≥ 1)
};

/// One malformed line: its 1-based number and what is wrong with it.
struct criteo_problem {
  std::uint64_t line = 0;
  std::string reason;
};

/// What a reader has consumed so far.
struct criteo_report {
  std::uint64_t lines = 0;                     ///< lines read, good and malformed
  std::uint64_t examples = 0;                  ///< good lines, returned as examples
  std::uint64_t malformed = 0;                 ///< skipped lines (the sum of the four counts below)
  std::uint64_t bytes = 0;                     ///< decompressed bytes of the lines read, terminators included
  std::uint64_t wrong_field_count = 0;         ///< lines without exactly 40 fields (empty lines included)
  std::uint64_t bad_label = 0;                 ///< label other than `0` or `1`
  std::uint64_t bad_integer = 0;               ///< I-field not a decimal int64
  std::uint64_t bad_categorical = 0;           ///< C-field neither empty nor 8 hex digits
  std::vector<criteo_problem> first_problems;  ///< the first `max_problems` malformed lines

  static constexpr std::size_t max_problems = 16;
};

}  // namespace frugal::io
