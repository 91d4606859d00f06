#pragma once
/// \file
/// Streaming reader for the Criteo click logs (the Kaggle Display Advertising Challenge `train.txt`
/// and the Criteo 1TB `day_N` files), plain or gzip-compressed.
///
/// Each line is one example: 40 TAB-separated fields,
///
///     label  I1 … I13  C1 … C26
///
/// - `label` is `0` or `1`;
/// - `I1`…`I13` are decimal integers in the int64 range, possibly negative, possibly empty (no
///   `+`, no spaces, no decimal point, nothing after the digits);
/// - `C1`…`C26` are 32-bit values written as exactly 8 hexadecimal digits (either case), or empty.
///
/// Lines end in `\n`; a `\r` before it is dropped. The last line needs no terminator. The
/// end of the file after a final `\n` is not a line; an empty line anywhere else is malformed, and
/// so is a line of more than `detail::criteo_max_line_bytes` (1 MiB), which is never buffered whole.
///
/// Transforms, as in the DLRM reference implementation:
/// - an integer x becomes `float(log1p(x))`; an empty integer, and a negative one, become 0
///   (DLRM clamps negatives to zero before the logarithm; a few columns of Criteo, I2 mostly, hold
///   small negative values);
/// - a categorical value v of field f becomes the id `1 + criteo_hash(v, f, seed) % (b_f − 1)` in
///   a table of `b_f` rows; an empty categorical becomes id 0, the row reserved for "missing". So
///   `b_f ≥ 2`, and every id is `< b_f`; equal values in one field get equal ids; the 26 fields
///   are hashed independently (the field index enters the hash).
///
/// A malformed line (wrong field count, bad label, bad integer, bad categorical) is skipped and
/// counted in the `criteo_report`, which keeps the first 16 problems with their 1-based line
/// numbers; with `criteo_options::strict` the first one throws `format_error` instead. A corrupt
/// gzip stream always throws `format_error`.
///
/// The reader holds one block of decompressed bytes (1 MiB by default) plus the line that straddles
/// the block's end; parsing allocates nothing per line beyond the amortised growth of the output.

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "click_data.hpp"
#include "criteo_options.hpp"
#include "detail/criteo_parse.hpp"

namespace frugal::io {

/// Reads a Criteo TSV file, plain or gzip, a batch of examples at a time.
///
/// Not copyable (it owns the open file); movable. One reader is used by one thread at a time.
class criteo_reader {
 public:
  /// Opens `path` (gzip or plain, told apart by zlib from the content). Throws `io_error` if it
  /// cannot be opened, `invalid_argument` if the options are not usable (a table size outside
  /// [2, 2^32], `hash_buckets` not 26 sizes, `block_bytes` 0, `max_examples` negative).
  explicit criteo_reader(std::filesystem::path path, criteo_options options = {})
      : m_path(std::move(path)),
        m_name(m_path.string()),
        m_options(std::move(options)),
        m_buckets(detail::criteo_buckets(m_options)),
        m_hasher(m_buckets.data(), m_options.seed) {
    std::error_code ec;
    if (std::filesystem::is_directory(m_path, ec))
      throw io_error(
          frugal::detail::concat("frugal::io::criteo_reader: cannot open '", m_name, "': it is a directory"));
    errno = 0;
    gzFile f = gzopen(m_name.c_str(), "rb");
    if (!f)
      throw io_error(frugal::detail::concat("frugal::io::criteo_reader: cannot open '", m_name, "': ",
                                            errno ? std::generic_category().message(errno) : "zlib could not open it"));
    m_file.reset(f);
    gzbuffer(f, 1U << 18);  // zlib's input buffer; must precede the first read
    m_block = std::min<std::size_t>(m_options.block_bytes, std::size_t(1) << 30);
    m_buffer.resize(m_block);
  }

  /// Appends up to `n` good examples to `out` and returns how many it appended: fewer than `n`
  /// only at the end of the file or of `max_examples`, after which it returns 0 (as it does for
  /// `n` = 0, reading nothing). If `out` holds no example it is first set up for Criteo (13 dense
  /// features, 26 fields, cardinalities = the table sizes); otherwise its layout must be that one
  /// (else `invalid_argument`).
  /// Throws `format_error` on a malformed line in strict mode (the examples before it are
  /// appended) and on a corrupt gzip stream; `invalid_argument` if `n` is negative.
  index_t read(index_t n, click_dataset& out) {
    check(n >= 0, "frugal::io::criteo_reader::read: n = ", n, " is negative");
    prepare(out);
    std::array<float, criteo_dense_features> dense{};
    std::array<std::uint32_t, criteo_sparse_features> ids{};
    float label = 0;
    index_t appended = 0;
    while (appended < n) {
      if (m_options.max_examples > 0 && m_report.examples >= static_cast<std::uint64_t>(m_options.max_examples)) break;
      line_view line;
      if (!next_line(line)) break;
      const std::uint64_t offset = m_report.bytes;
      ++m_report.lines;
      m_report.bytes += line.consumed;
      detail::criteo_parse_result result;
      std::string_view text = line.text;
      if (line.overlong) {
        result = {detail::criteo_fault::field_count, 0};
      } else {
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        result = detail::parse_criteo_fields(text, dense.data(), ids.data(), label, m_hasher);
      }
      if (result.fault == detail::criteo_fault::none) {
        out.dense.insert(out.dense.end(), dense.begin(), dense.end());
        out.sparse.insert(out.sparse.end(), ids.begin(), ids.end());
        out.labels.push_back(label);
        ++m_report.examples;
        ++appended;
      } else {
        malformed(text, line.overlong, result, offset);
      }
    }
    return appended;
  }

  /// Counts of what has been read so far.
  [[nodiscard]] const criteo_report& report() const noexcept { return m_report; }

  /// The 26 table sizes ids are hashed into.
  [[nodiscard]] const std::vector<index_t>& buckets() const noexcept { return m_buckets; }

 private:
  struct gz_closer {
    void operator()(gzFile f) const noexcept { gzclose(f); }
  };
  /// A line of the buffer (valid until the next call) and the bytes it consumed.
  struct line_view {
    std::string_view text;
    std::size_t consumed = 0;  ///< bytes including the terminator
    bool overlong = false;     ///< longer than `criteo_max_line_bytes`; `text` is empty
  };

  void prepare(click_dataset& out) const {
    if (out.size() == 0) {
      out.dense_features = criteo_dense_features;
      out.sparse_features = criteo_sparse_features;
      out.dense.clear();
      out.sparse.clear();
      out.labels.clear();
      out.cardinalities = m_buckets;
      return;
    }
    check(out.dense_features == criteo_dense_features && out.sparse_features == criteo_sparse_features &&
              out.cardinalities == m_buckets,
          "frugal::io::criteo_reader::read: the dataset to append to has ", out.dense_features, " dense and ",
          out.sparse_features, " sparse features or other cardinalities than this reader's 13, 26 and table sizes");
    const auto n = static_cast<std::size_t>(out.size());
    check_extent("frugal::io::criteo_reader::read", "dense values", out.dense.size(),
                 n * static_cast<std::size_t>(criteo_dense_features));
    check_extent("frugal::io::criteo_reader::read", "sparse ids", out.sparse.size(),
                 n * static_cast<std::size_t>(criteo_sparse_features));
  }

  /// Reads more bytes after `m_end`, moving the unread ones to the front first. False at the end.
  bool refill() {
    if (m_eof) return false;
    if (m_pos > 0) {
      std::memmove(m_buffer.data(), m_buffer.data() + m_pos, m_end - m_pos);
      m_scan -= m_pos;
      m_end -= m_pos;
      m_pos = 0;
    }
    if (m_buffer.size() - m_end < m_block) m_buffer.resize(std::max(m_end + m_block, 2 * m_buffer.size()));
    const int n = gzread(m_file.get(), m_buffer.data() + m_end, static_cast<unsigned>(m_block));
    if (n < 0) gzip_failure();
    if (n == 0) {
      // gzread returns 0 both at a clean end and when a gzip member is cut short; gzerror tells.
      int code = 0;
      (void)gzerror(m_file.get(), &code);
      if (code != Z_OK && code != Z_STREAM_END) gzip_failure();
      m_eof = true;
      return false;
    }
    m_end += static_cast<std::size_t>(n);
    return true;
  }

  [[noreturn]] void gzip_failure() {
    int code = 0;
    const std::string message = gzerror(m_file.get(), &code);
    const std::uint64_t at = m_report.bytes + (m_end - m_pos);
    throw format_error(frugal::detail::concat("frugal::io::criteo_reader: '", m_name, "' at byte ", at,
                                              " of the decompressed stream: ", message),
                       m_name, at);
  }

  /// The next line, or false at the end of the file.
  bool next_line(line_view& line) {
    std::size_t skipped = 0;  // bytes of an overlong line already dropped
    for (;;) {
      const char* start = m_buffer.data() + m_scan;
      if (const void* nl = std::memchr(start, '\n', m_end - m_scan)) {
        const auto at = static_cast<std::size_t>(static_cast<const char*>(nl) - m_buffer.data());
        const std::size_t length = at - m_pos;
        line.consumed = skipped + length + 1;
        line.overlong = skipped + length > detail::criteo_max_line_bytes;
        line.text = line.overlong ? std::string_view{} : std::string_view(m_buffer.data() + m_pos, length);
        m_pos = m_scan = at + 1;
        return true;
      }
      m_scan = m_end;
      if (m_end - m_pos > detail::criteo_max_line_bytes) {  // drop what we hold of an overlong line
        skipped += m_end - m_pos;
        m_pos = m_scan = m_end;
      }
      if (!refill()) {
        if (m_pos == m_end && skipped == 0) return false;
        const std::size_t length = m_end - m_pos;
        line.consumed = skipped + length;
        line.overlong = skipped + length > detail::criteo_max_line_bytes;
        line.text = line.overlong ? std::string_view{} : std::string_view(m_buffer.data() + m_pos, length);
        m_pos = m_scan = m_end;
        return true;
      }
    }
  }

  void malformed(std::string_view text, bool overlong, const detail::criteo_parse_result& r, std::uint64_t offset) {
    ++m_report.malformed;
    switch (r.fault) {
      case detail::criteo_fault::field_count:
        ++m_report.wrong_field_count;
        break;
      case detail::criteo_fault::label:
        ++m_report.bad_label;
        break;
      case detail::criteo_fault::integer:
        ++m_report.bad_integer;
        break;
      case detail::criteo_fault::categorical:
        ++m_report.bad_categorical;
        break;
      case detail::criteo_fault::none:
        break;
    }
    if (m_report.first_problems.size() >= criteo_report::max_problems && !m_options.strict) return;
    std::string reason = overlong ? frugal::detail::concat("wrong field count: line longer than ",
                                                           detail::criteo_max_line_bytes, " bytes")
                                  : detail::criteo_reason(text, r);
    if (m_options.strict) {
      if (m_report.first_problems.size() < criteo_report::max_problems)
        m_report.first_problems.push_back({m_report.lines, reason});
      throw format_error(frugal::detail::concat("frugal::io::criteo_reader: '", m_name, "' line ", m_report.lines,
                                                " (byte ", offset, "): ", reason),
                         m_name, offset);
    }
    m_report.first_problems.push_back({m_report.lines, std::move(reason)});
  }

  std::filesystem::path m_path;
  std::string m_name;
  criteo_options m_options;
  std::vector<index_t> m_buckets;
  detail::criteo_hasher m_hasher;
  std::unique_ptr<gzFile_s, gz_closer> m_file;
  std::vector<char> m_buffer;
  std::size_t m_block = 0;
  std::size_t m_pos = 0;   // start of the unread bytes
  std::size_t m_scan = 0;  // bytes before this one hold no '\n' (from m_pos)
  std::size_t m_end = 0;   // end of the bytes read
  bool m_eof = false;
  criteo_report m_report;
};

/// Reads a whole Criteo file (or its first `options.max_examples` good examples) into memory.
/// If `report` is given it receives the reader's report. Throws like `criteo_reader`.
[[nodiscard]] inline click_dataset read_criteo(const std::filesystem::path& path, const criteo_options& options = {},
                                               criteo_report* report = nullptr) {
  criteo_reader reader(path, options);
  click_dataset out;
  while (reader.read(index_t(1) << 16, out) > 0) {
  }
  if (report) *report = reader.report();
  return out;
}

}  // namespace frugal::io
