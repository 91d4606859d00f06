#pragma once
/// \file
/// Checkpoint I/O of `bcr_matrix`: `save` writes its shape, blocks, groups and values; `load`
/// rebuilds the matrix from them after checking every record. Included by `bcr_matrix.hpp`.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "bcr_matrix.hpp"

namespace frugal::sparse {

template <nn::Scalar S>
void bcr_matrix<S>::save(checkpoint_writer& out, const std::string& prefix) const {
  const std::int64_t shape[4] = {m_rows, m_cols, m_block_rows, m_block_cols};
  out.put<std::int64_t>(prefix + "#shape", shape);
  std::vector<std::int32_t> counts, indices;
  for (const auto g : groups()) {
    counts.push_back(static_cast<std::int32_t>(g.rows.size()));
    counts.push_back(static_cast<std::int32_t>(g.cols.size()));
    indices.insert(indices.end(), g.rows.begin(), g.rows.end());
    indices.insert(indices.end(), g.cols.begin(), g.cols.end());
  }
  out.put<std::int32_t>(prefix + "#counts", counts);
  out.put<std::int32_t>(prefix + "#indices", indices);
  out.put<S>(prefix + "#values", values());
}

template <nn::Scalar S>
bcr_matrix<S> bcr_matrix<S>::load(const checkpoint_reader& in, const std::string& prefix) {
  const std::string where = "frugal::sparse::bcr_matrix::load: '" + prefix + "'";
  auto fail_unless = [&](bool ok, const auto&... parts) {
    if (!ok) throw format_error(frugal::detail::concat(where, ": ", parts...), in.file(), 0);
  };
  const auto shape = in.get<std::int64_t>(prefix + "#shape");
  fail_unless(shape.size() == 4, "shape record has ", shape.size(), " entries, expected 4");
  fail_unless(
      shape[0] > 0 && shape[1] > 0 && shape[2] > 0 && shape[3] > 0 && shape[0] < (1LL << 31) && shape[1] < (1LL << 31),
      "invalid shape ", shape[0], "x", shape[1], " with blocks ", shape[2], "x", shape[3]);
  const auto counts = in.get<std::int32_t>(prefix + "#counts");
  const auto indices = in.get<std::int32_t>(prefix + "#indices");
  auto values = in.get<S>(prefix + "#values");
  fail_unless(counts.size() % 2 == 0, "odd number of group counts");
  bcr_matrix m;
  m.m_rows = shape[0];
  m.m_cols = shape[1];
  m.m_block_rows = shape[2];
  m.m_block_cols = shape[3];
  std::size_t at = 0;
  std::vector<std::vector<std::int32_t>> group_rows, group_cols;
  for (std::size_t k = 0; k < counts.size(); k += 2) {
    const std::int64_t nr = counts[k], nc = counts[k + 1];
    fail_unless(nr > 0 && nc > 0, "group ", k / 2, " has ", nr, " rows and ", nc, " columns");
    fail_unless(static_cast<std::int64_t>(indices.size() - at) >= nr + nc, "index record too short for group ", k / 2);
    std::vector<std::int32_t> rows(indices.begin() + static_cast<std::ptrdiff_t>(at),
                                   indices.begin() + static_cast<std::ptrdiff_t>(at + static_cast<std::size_t>(nr)));
    at += static_cast<std::size_t>(nr);
    std::vector<std::int32_t> cols(indices.begin() + static_cast<std::ptrdiff_t>(at),
                                   indices.begin() + static_cast<std::ptrdiff_t>(at + static_cast<std::size_t>(nc)));
    at += static_cast<std::size_t>(nc);
    for (std::size_t i = 0; i < rows.size(); ++i)
      fail_unless(rows[i] >= 0 && rows[i] < m.m_rows && (i == 0 || rows[i] > rows[i - 1]), "group ", k / 2,
                  ": row index ", rows[i], " out of range or not ascending");
    for (std::size_t j = 0; j < cols.size(); ++j)
      fail_unless(cols[j] >= 0 && cols[j] < m.m_cols && (j == 0 || cols[j] > cols[j - 1]), "group ", k / 2,
                  ": column index ", cols[j], " out of range or not ascending");
    fail_unless(cols.front() / m.m_block_cols == cols.back() / m.m_block_cols, "group ", k / 2,
                " spans several column blocks");
    group_rows.push_back(std::move(rows));
    group_cols.push_back(std::move(cols));
  }
  fail_unless(at == indices.size(), "index record has ", indices.size() - at, " trailing entries");
  m.set_groups(group_rows, group_cols);
  const auto [row, column_block] = detail::doubly_kept_row(m.groups(), m.m_rows, m.m_cols, m.m_block_cols);
  fail_unless(row < 0, "row ", row, " appears in two groups of column block ", column_block);
  m.finish_layout();
  fail_unless(static_cast<index_t>(values.size()) == m.nonzeros(), values.size(), " values for ", m.nonzeros(),
              " kept entries");
  std::copy(values.begin(), values.end(), m.m_values.data());
  return m;
}

}  // namespace frugal::sparse
