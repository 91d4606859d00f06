#pragma once
/// \file
/// Dense embedding storage: `full_table` (one row per id, the baseline) and `hashed_table` (the
/// hashing trick: ids share a fixed number of buckets). Both can store fewer dimensions than they
/// return (`stored_dim`): the missing trailing dimensions read as zero, which is uniform-dimension
/// reduction.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "../core/checkpoint.hpp"
#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "../core/parallel.hpp"
#include "bags.hpp"
#include "concepts.hpp"
#include "detail/aggregate.hpp"
#include "detail/page_buffer.hpp"

namespace frugal::embedding {

/// Options shared by the dense tables.
struct dense_table_options {
  index_t stored_dim = -1;  ///< dimensions held per row; -1 = all. Fewer: trailing dimensions read as zero
  pooling mode = pooling::sum;
  sparse_optimizer optimizer = {};
  float init_scale = 0.05f;  ///< initial values uniform in ±init_scale (`detail::initial_value`)
  std::uint64_t seed = 1;
};

namespace detail {
/// Identity: id i is row i.
struct identity_rows {
  static constexpr std::string_view kind = "full_table";
  [[nodiscard]] std::uint32_t operator()(std::uint32_t id) const noexcept { return id; }
};
/// The hashing trick: id i is bucket mix64(i ^ seed) mod buckets.
struct hashed_rows {
  static constexpr std::string_view kind = "hashed_table";
  std::uint64_t seed = 0;
  std::uint64_t buckets = 1;
  [[nodiscard]] std::uint32_t operator()(std::uint32_t id) const noexcept {
    return static_cast<std::uint32_t>(mix64(id ^ (seed * 0xD6E8FEB86659FD93ULL)) % buckets);
  }
};
}  // namespace detail

/// A dense table of `physical_rows × stored_dim` floats answering ids in [0, rows), returning
/// `dim`-wide pooled vectors. See `full_table` and `hashed_table`.
/// \tparam RowMap maps an id to its physical row
/// \tparam Exec the host execution space the lookup runs on
template <RowMapping RowMap, HostExecutionSpace Exec = default_host_space>
class dense_table {
 public:
  using execution_space = Exec;

  dense_table(index_t rows, index_t physical_rows, index_t dim, RowMap map, dense_table_options options = {},
              Exec exec = Exec{})
      : m_rows(rows), m_physical(physical_rows), m_dim(dim), m_map(map), m_options(options), m_exec(std::move(exec)) {
    const std::string where = std::string("frugal::embedding::") + std::string(RowMap::kind);
    check(rows > 0 && rows <= (index_t{1} << 32), where, ": rows = ", rows, " must be in [1, 2^32]");
    check(physical_rows > 0, where, ": ", physical_rows, " physical rows, need at least one");
    check(dim > 0, where, ": dim = ", dim, " must be positive");
    if (m_options.stored_dim < 0) m_options.stored_dim = dim;
    check(m_options.stored_dim <= dim, where, ": stored_dim = ", m_options.stored_dim, " exceeds dim = ", dim);
    check(m_options.init_scale >= 0, where, ": init_scale = ", m_options.init_scale, " must be >= 0");
    m_options.optimizer.validate(where);
    const auto sd = static_cast<std::size_t>(m_options.stored_dim);
    m_data = detail::page_buffer<float>(static_cast<std::size_t>(physical_rows) * sd);
    for (std::size_t r = 0; r < static_cast<std::size_t>(physical_rows); ++r)
      for (std::size_t j = 0; j < sd; ++j)
        m_data[r * sd + j] = detail::initial_value(m_options.seed, r, j, m_options.init_scale);
    if (m_options.optimizer.kind == optimizer_kind::rowwise_adagrad && sd > 0)
      m_accumulators = detail::page_buffer<float>(static_cast<std::size_t>(physical_rows));
  }

  /// Ids accepted: [0, rows()).
  [[nodiscard]] index_t rows() const noexcept { return m_rows; }
  /// Rows actually stored.
  [[nodiscard]] index_t physical_rows() const noexcept { return m_physical; }
  /// Width of the pooled output.
  [[nodiscard]] index_t dim() const noexcept { return m_dim; }
  /// Dimensions stored per row (the rest read as zero).
  [[nodiscard]] index_t stored_dim() const noexcept { return m_options.stored_dim; }
  [[nodiscard]] const dense_table_options& options() const noexcept { return m_options; }
  [[nodiscard]] pooling mode() const noexcept { return m_options.mode; }
  /// The physical row of id `id`.
  [[nodiscard]] std::uint32_t physical_row(std::uint32_t id) const noexcept { return m_map(id); }

  /// The stored values of id `id` (`stored_dim()` floats).
  [[nodiscard]] std::span<float> row(std::uint32_t id) noexcept {
    const auto sd = static_cast<std::size_t>(stored_dim());
    return {m_data.data() + static_cast<std::size_t>(m_map(id)) * sd, sd};
  }
  [[nodiscard]] std::span<const float> row(std::uint32_t id) const noexcept {
    const auto sd = static_cast<std::size_t>(stored_dim());
    return {m_data.data() + static_cast<std::size_t>(m_map(id)) * sd, sd};
  }

  /// Pooled lookup: `out` (bags.size() × dim(), row-major) receives each bag's pooled row.
  void forward(const bag_batch& bags, std::span<float> out) const {
    validate("frugal::embedding::dense_table::forward", bags, m_rows, m_options.mode);
    check_extent("frugal::embedding::dense_table::forward", "output size", out.size(),
                 static_cast<std::size_t>(bags.size() * m_dim));
    const auto d = static_cast<std::size_t>(m_dim), sd = static_cast<std::size_t>(stored_dim());
    const index_t* offsets = bags.offsets.data();
    const std::uint32_t* indices = bags.indices.data();
    const float* weights = bags.weights.empty() ? nullptr : bags.weights.data();
    const float* data = m_data.data();
    float* o = out.data();
    const RowMap map = m_map;
    const bool mean = m_options.mode == pooling::mean;
    const auto total = static_cast<index_t>(bags.indices.size());
    const index_t distance = detail::row_prefetch_distance(sd);
    detail::dispatch_width(sd == d ? d : 0, [&](auto width) {
      constexpr int D = decltype(width)::value;
      parallel_for("frugal::embedding::dense_table::forward", m_exec, bags.size(), [=](index_t b) {
        float* y = o + static_cast<std::size_t>(b) * d;
        const index_t begin = offsets[b], end = offsets[b + 1];
        auto row = [=](index_t i) { return data + static_cast<std::size_t>(map(indices[i])) * sd; };
        auto len = [=](index_t) { return sd; };
        detail::pool_bag<D, false>(y, d, begin, end, total, weights, mean, distance, row, len);
      });
    });
  }

  /// Applies dL/d(output) (`bags.size() × dim()`) to every row the bags touched, through the fused
  /// optimizer. Repeated ids (and, for hashed tables, colliding ids) are summed first.
  void backward(const bag_batch& bags, std::span<const float> grad_output) {
    validate("frugal::embedding::dense_table::backward", bags, m_rows, m_options.mode);
    check_extent("frugal::embedding::dense_table::backward", "gradient size", grad_output.size(),
                 static_cast<std::size_t>(bags.size() * m_dim));
    bag_batch physical = bags;
    if constexpr (!std::is_same_v<RowMap, detail::identity_rows>) {
      m_mapped.resize(bags.indices.size());
      std::uint32_t* mapped = m_mapped.data();
      const std::uint32_t* ids = bags.indices.data();
      const RowMap map = m_map;
      parallel_for_chunks("frugal::embedding::dense_table::map", m_exec, static_cast<index_t>(bags.indices.size()),
                          grain_for(8), [=](index_t b, index_t e) {
                            for (index_t i = b; i < e; ++i) mapped[i] = map(ids[i]);
                          });
      physical.indices = m_mapped;
    }
    // Each run of summed rows is applied through the fused optimizer as soon as it is summed, on
    // the same thread (rows are distinct, so runs never share a row).
    const auto sd = static_cast<std::size_t>(stored_dim()), dim = static_cast<std::size_t>(m_dim);
    float* data = m_data.data();
    float* acc = m_accumulators.data();
    const sparse_optimizer opt = m_options.optimizer;
    const index_t distance = detail::row_prefetch_distance(sd);
    auto update = [=](const std::uint32_t* ids, const std::int32_t*, const float* grads, std::size_t count) {
      const auto ahead = static_cast<std::size_t>(distance);
      for (std::size_t k = 0; k < count; ++k) {
        if (k + ahead < count) {
          detail::prefetch_floats(data + static_cast<std::size_t>(ids[k + ahead]) * sd, sd);
          if (acc) FRUGAL_PREFETCH(acc + ids[k + ahead]);
        }
        const std::uint32_t r = ids[k];
        float unused = 0;
        detail::apply_update(opt, data + static_cast<std::size_t>(r) * sd, grads + k * dim, sd, acc ? acc[r] : unused);
      }
    };
    detail::aggregate_gradients(m_exec, physical, m_options.mode, grad_output, m_dim, m_grads, update);
  }

  /// Every byte the table holds from the system: values and optimizer state.
  [[nodiscard]] std::size_t bytes_allocated() const noexcept { return m_data.bytes() + m_accumulators.bytes(); }

  /// Bytes a table of this shape would hold, without building it.
  [[nodiscard]] static std::size_t bytes_for(index_t physical_rows, index_t stored_dim, optimizer_kind kind) noexcept {
    const auto r = static_cast<std::size_t>(physical_rows), sd = static_cast<std::size_t>(stored_dim);
    return detail::allocation_bytes(r * sd * sizeof(float)) +
           (kind == optimizer_kind::rowwise_adagrad && sd > 0 ? detail::allocation_bytes(r * sizeof(float)) : 0);
  }

  /// Writes values and optimizer state under `prefix/`.
  void save(checkpoint_writer& out, std::string_view prefix) const {
    const std::string p(prefix);
    out.put_string(p + "/kind", RowMap::kind);
    const std::int64_t shape[4] = {m_rows, m_physical, m_dim, stored_dim()};
    out.put<std::int64_t>(p + "/shape", shape);
    out.put<float>(p + "/values", std::span<const float>(m_data.data(), m_data.size()));
    out.put<float>(p + "/accumulators", std::span<const float>(m_accumulators.data(), m_accumulators.size()));
  }

  /// Restores what `save` wrote; the table must have the same shape and optimizer.
  void load(const checkpoint_reader& in, std::string_view prefix) {
    const std::string p(prefix);
    const std::string where = "frugal::embedding::" + std::string(RowMap::kind) + "::load";
    detail::check_format(in.file(), in.get_string(p + "/kind") == RowMap::kind, where, ": record '", p, "/kind' is '",
                         in.get_string(p + "/kind"), "', expected '", RowMap::kind, "'");
    const auto shape = in.get<std::int64_t>(p + "/shape");
    check(shape.size() == 4 && shape[0] == m_rows && shape[1] == m_physical && shape[2] == m_dim &&
              shape[3] == stored_dim(),
          where, ": checkpoint holds a table of another shape");
    in.get_into<float>(p + "/values", std::span<float>(m_data.data(), m_data.size()));
    in.get_into<float>(p + "/accumulators", std::span<float>(m_accumulators.data(), m_accumulators.size()));
  }

 private:
  index_t m_rows, m_physical, m_dim;
  RowMap m_map;
  dense_table_options m_options;
  Exec m_exec;
  detail::page_buffer<float> m_data;
  detail::page_buffer<float> m_accumulators;
  detail::row_gradients m_grads;
  std::vector<std::uint32_t> m_mapped;
};

/// One row per id: the baseline every compressed table is measured against.
template <HostExecutionSpace Exec = default_host_space>
class full_table : public dense_table<detail::identity_rows, Exec> {
 public:
  full_table(index_t rows, index_t dim, dense_table_options options = {}, Exec exec = Exec{})
      : dense_table<detail::identity_rows, Exec>(rows, rows, dim, detail::identity_rows{}, options, std::move(exec)) {}
};

/// The hashing trick: `rows` ids share `buckets` rows (id → mix64(id, seed) mod buckets).
template <HostExecutionSpace Exec = default_host_space>
class hashed_table : public dense_table<detail::hashed_rows, Exec> {
 public:
  hashed_table(index_t rows, index_t buckets, index_t dim, dense_table_options options = {}, Exec exec = Exec{})
      : dense_table<detail::hashed_rows, Exec>(
            rows, buckets, dim,
            detail::hashed_rows{.seed = options.seed, .buckets = static_cast<std::uint64_t>(buckets > 0 ? buckets : 1)},
            options, std::move(exec)) {}
};

}  // namespace frugal::embedding
