#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/embedding/criteo.hpp>

#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

namespace emb = frugal::embedding;
using frugal::index_t;

/// A line from its 40 fields.
std::string join(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += '\t';
    out += fields[i];
  }
  return out;
}

/// 40 fields of a good line: label, 13 integers, 26 categoricals, varied by `k`.
std::vector<std::string> good_fields(int k) {
  std::vector<std::string> f = {k % 2 ? "1" : "0"};
  for (int j = 0; j < 13; ++j) f.push_back(std::to_string((k * 7 + j * 13) % 50 - 3));
  for (int c = 0; c < 26; ++c) {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x",
                  (static_cast<unsigned>(k) * 2654435761u) ^ (static_cast<unsigned>(c) * 40503u));
    f.push_back(hex);
  }
  return f;
}

std::string good_line(int k) { return join(good_fields(k)); }

void write_file(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

void write_gzip(const std::filesystem::path& p, const std::string& text) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  REQUIRE(f != nullptr);
  if (!text.empty())
    REQUIRE(gzwrite(f, text.data(), static_cast<unsigned>(text.size())) == static_cast<int>(text.size()));
  gzclose(f);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// Default options with `set` applied.
template <class Set>
emb::criteo_options options_with(Set set) {
  emb::criteo_options o;
  set(o);
  return o;
}

float log1p_f(double x) { return static_cast<float>(std::log1p(x)); }

std::uint32_t expected_id(std::uint32_t v, index_t field, index_t buckets, std::uint64_t seed = 0) {
  return static_cast<std::uint32_t>(1 +
                                    emb::detail::criteo_hash(v, field, seed) % static_cast<std::uint64_t>(buckets - 1));
}

void check_same(const emb::click_dataset& a, const emb::click_dataset& b) {
  CHECK(a.dense_features == b.dense_features);
  CHECK(a.sparse_features == b.sparse_features);
  CHECK(a.cardinalities == b.cardinalities);
  CHECK(a.labels == b.labels);
  CHECK(a.dense == b.dense);
  CHECK(a.sparse == b.sparse);
}

void check_same(const emb::criteo_report& a, const emb::criteo_report& b) {
  CHECK(a.lines == b.lines);
  CHECK(a.examples == b.examples);
  CHECK(a.malformed == b.malformed);
  CHECK(a.bytes == b.bytes);
  CHECK(a.wrong_field_count == b.wrong_field_count);
  CHECK(a.bad_label == b.bad_label);
  CHECK(a.bad_integer == b.bad_integer);
  CHECK(a.bad_categorical == b.bad_categorical);
  REQUIRE(a.first_problems.size() == b.first_problems.size());
  for (std::size_t i = 0; i < a.first_problems.size(); ++i) {
    CHECK(a.first_problems[i].line == b.first_problems[i].line);
    CHECK(a.first_problems[i].reason == b.first_problems[i].reason);
  }
}

/// A file of good lines and malformed ones of every kind; see the malformed-lines test.
std::string mixed_file() {
  std::vector<std::string> lines;
  lines.push_back(good_line(1));  // 1
  auto f = good_fields(2);
  f.pop_back();
  lines.push_back(join(f));       // 2: 39 fields
  lines.push_back(good_line(3));  // 3
  f = good_fields(4);
  f[0] = "2";
  lines.push_back(join(f));  // 4: bad label
  f = good_fields(5);
  f[3] = "12a";
  lines.push_back(join(f));  // 5: trailing garbage in I3
  f = good_fields(6);
  f[13] = "9223372036854775808";
  lines.push_back(join(f));  // 6: I13 overflows int64
  f = good_fields(7);
  f[14] = "1234567";
  lines.push_back(join(f));  // 7: C1 of 7 digits
  f = good_fields(8);
  f[39] = "1234567g";
  lines.push_back(join(f));  // 8: C26 not hex
  lines.push_back("");       // 9: blank line
  f = good_fields(10);
  f.push_back("");
  lines.push_back(join(f));        // 10: 41 fields
  lines.push_back(good_line(11));  // 11
  f = good_fields(12);
  f[0] = "";
  lines.push_back(join(f));  // 12: empty label
  f = good_fields(13);
  f[1] = "+5";
  lines.push_back(join(f));  // 13: '+' sign
  f = good_fields(14);
  f[20] = "123456789";
  lines.push_back(join(f));  // 14: C7 of 9 digits
  f = good_fields(15);
  f[0] = "x";
  f.pop_back();
  lines.push_back(join(f));        // 15: bad label *and* 39 fields: the field count wins
  lines.push_back(good_line(16));  // 16
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  return text;
}

}  // namespace

TEST_CASE("criteo: a good line parses to the documented values") {
  const auto dir = frugal::test::scratch_dir("criteo-values");
  std::vector<std::string> f = {
      "1", "0", "1",   "-5", "", "1000", "2000", "12345678901", "-9223372036854775808", "9223372036854775807",
      "3", "",  "007", "999"};
  const std::vector<std::string> cats = {"68fd1e64", "", "ABCDEF01", "68fd1e64", "00000000", "ffffffff", "FfFfFfFf"};
  for (int c = 0; c < 26; ++c) f.push_back(c < static_cast<int>(cats.size()) ? cats[static_cast<std::size_t>(c)] : "");
  auto g = f;
  g[0] = "0";
  g[14] = "abcdef01";  // C1: lowercase of line 1's C3 value
  g[16] = "abcdef01";  // C3: same value as line 1 in uppercase
  write_file(dir / "a.tsv", join(f) + "\n" + join(g) + "\n");

  emb::criteo_options options;
  for (int c = 0; c < 26; ++c) options.hash_buckets.push_back(2 + 37 * c);
  emb::criteo_report report;
  const auto data = emb::read_criteo(dir / "a.tsv", options, &report);
  data.validate();
  REQUIRE(data.size() == 2);
  CHECK(data.cardinalities == options.hash_buckets);
  CHECK(data.labels == std::vector<float>{1.0f, 0.0f});
  const std::vector<float> dense = {0.0f,
                                    log1p_f(1),
                                    0.0f,
                                    0.0f,
                                    log1p_f(1000),
                                    log1p_f(2000),
                                    log1p_f(12345678901.0),
                                    0.0f,
                                    log1p_f(9223372036854775807.0),
                                    log1p_f(3),
                                    0.0f,
                                    log1p_f(7),
                                    log1p_f(999)};
  for (int j = 0; j < 13; ++j) {
    CAPTURE(j);
    CHECK(data.dense[static_cast<std::size_t>(j)] == dense[static_cast<std::size_t>(j)]);
    CHECK(data.dense[static_cast<std::size_t>(13 + j)] == dense[static_cast<std::size_t>(j)]);
  }
  const auto id = [&](int row, int field) { return data.sparse[static_cast<std::size_t>(26 * row + field)]; };
  const auto b = [&](int field) { return options.hash_buckets[static_cast<std::size_t>(field)]; };
  CHECK(id(0, 0) == expected_id(0x68fd1e64, 0, b(0)));
  CHECK(id(0, 0) == 1);  // C1 has 2 rows: the missing row 0 and row 1 for every value
  CHECK(id(0, 1) == 0);  // missing
  CHECK(id(0, 2) == expected_id(0xabcdef01, 2, b(2)));
  CHECK(id(0, 3) == expected_id(0x68fd1e64, 3, b(3)));
  CHECK(id(0, 4) == expected_id(0, 4, b(4)));
  CHECK(id(0, 4) != 0);  // the value 00000000 is not "missing"
  CHECK(id(0, 5) == expected_id(0xffffffff, 5, b(5)));
  CHECK(id(0, 6) == expected_id(0xffffffff, 6, b(6)));
  for (int c = 7; c < 26; ++c) CHECK(id(0, c) == 0);
  CHECK(id(1, 0) == expected_id(0xabcdef01, 0, b(0)));
  CHECK(id(1, 2) == id(0, 2));  // same value, same field: same id, whatever the case of the digits
  CHECK(report.lines == 2);
  CHECK(report.examples == 2);
  CHECK(report.malformed == 0);
  CHECK(report.bytes == read_file(dir / "a.tsv").size());

  // Through the exposed line parser, with a seed.
  std::array<float, 13> d{};
  std::array<std::uint32_t, 26> ids{};
  float label = -1;
  options.seed = 42;
  CHECK(emb::detail::parse_criteo_line(join(f), d.data(), ids.data(), label, options, options.hash_buckets).empty());
  CHECK(label == 1.0f);
  CHECK(ids[2] == expected_id(0xabcdef01, 2, b(2), 42));
  CHECK(std::vector<float>(d.begin(), d.end()) == dense);
}

TEST_CASE("criteo: ids are in range, hashed independently per field and per seed") {
  std::vector<index_t> buckets(26, index_t(1) << 20);
  int same_across_fields = 0, same_across_seeds = 0;
  for (std::uint32_t v = 0; v < 2000; ++v) {
    const auto a = expected_id(v * 2654435761u, 0, buckets[0]);
    const auto b = expected_id(v * 2654435761u, 1, buckets[1]);
    const auto c = expected_id(v * 2654435761u, 0, buckets[0], 7);
    same_across_fields += a == b;
    same_across_seeds += a == c;
  }
  CHECK(same_across_fields <= 2);
  CHECK(same_across_seeds <= 2);

  // The division-free remainder the reader uses is exact.
  frugal::rng gen(5);
  std::vector<std::uint64_t> divisors = {1,
                                         2,
                                         3,
                                         7,
                                         10,
                                         1000,
                                         (1ULL << 20) - 1,
                                         (1ULL << 32) - 1,
                                         1ULL << 31,
                                         0xFFFFFFFFFFFFFFFFULL,
                                         0x8000000000000000ULL};
  for (int i = 0; i < 200; ++i) divisors.push_back(1 + (gen.next() >> gen.uniform_int(64)));
  for (std::uint64_t d : divisors) {
    const emb::detail::criteo_modulus mod(d);
    std::vector<std::uint64_t> xs = {
        0, 1, d - 1, d, d + 1, 2 * d - 1, 0xFFFFFFFFFFFFFFFFULL, 0xFFFFFFFFFFFFFFFFULL - d};
    for (int k = 0; k < 500; ++k) xs.push_back(gen.next() >> gen.uniform_int(64));
    for (std::uint64_t x : xs) {
      if (mod(x) != x % d) {
        CAPTURE(d);
        CAPTURE(x);
        CHECK(mod(x) == x % d);
      }
    }
  }

  // Small tables: every id lands in [1, b) and the ids cover it.
  for (index_t b : {2, 3, 10, 1000}) {
    std::vector<int> hits(static_cast<std::size_t>(b), 0);
    for (std::uint32_t v = 0; v < 20000; ++v) {
      const auto id = expected_id(v, 5, b);
      REQUIRE(id >= 1);
      REQUIRE(id < b);
      ++hits[id];
    }
    CHECK(hits[0] == 0);
    for (index_t i = 1; i < b; ++i) CHECK(hits[static_cast<std::size_t>(i)] > 0);
  }
}

TEST_CASE("criteo: malformed lines are skipped, counted by reason and located") {
  const auto dir = frugal::test::scratch_dir("criteo-malformed");
  write_file(dir / "m.tsv", mixed_file());
  emb::criteo_report report;
  const auto data = emb::read_criteo(dir / "m.tsv", {}, &report);
  data.validate();
  CHECK(report.lines == 16);
  CHECK(report.examples == 4);
  CHECK(report.malformed == 12);
  CHECK(report.wrong_field_count == 4);
  CHECK(report.bad_label == 2);
  CHECK(report.bad_integer == 3);
  CHECK(report.bad_categorical == 3);
  REQUIRE(report.first_problems.size() == 12);
  const std::vector<std::pair<std::uint64_t, std::string>> expected = {
      {2, "wrong field count: 39 "},
      {4, "bad label '2'"},
      {5, "bad integer in I3: '12a'"},
      {6, "bad integer in I13: '9223372036854775808' does not fit"},
      {7, "bad categorical in C1: '1234567'"},
      {8, "bad categorical in C26: '1234567g'"},
      {9, "wrong field count: empty line"},
      {10, "wrong field count: 41 "},
      {12, "bad label ''"},
      {13, "bad integer in I1: '+5'"},
      {14, "bad categorical in C7: '123456789'"},
      {15, "wrong field count: 39 "}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CAPTURE(i);
    CHECK(report.first_problems[i].line == expected[i].first);
    CHECK(report.first_problems[i].reason.rfind(expected[i].second, 0) == 0);
  }

  // The good lines around them are intact: the same as the file of just those lines.
  write_file(dir / "g.tsv", good_line(1) + "\n" + good_line(3) + "\n" + good_line(11) + "\n" + good_line(16) + "\n");
  check_same(data, emb::read_criteo(dir / "g.tsv"));

  // Counts go on past the 16 recorded problems.
  std::string many;
  for (int i = 0; i < 40; ++i) many += (i % 3 ? std::string("junk") : good_line(i)) + "\n";
  write_file(dir / "many.tsv", many);
  (void)emb::read_criteo(dir / "many.tsv", {}, &report);
  CHECK(report.examples == 14);
  CHECK(report.malformed == 26);
  CHECK(report.wrong_field_count == 26);
  REQUIRE(report.first_problems.size() == 16);
  CHECK(report.first_problems.front().line == 2);
  CHECK(report.first_problems.back().line == 24);
}

TEST_CASE("criteo: strict mode throws format_error at the first malformed line") {
  const auto dir = frugal::test::scratch_dir("criteo-strict");
  const std::string text = mixed_file();
  write_file(dir / "m.tsv", text);
  emb::criteo_options options;
  options.strict = true;
  try {
    (void)emb::read_criteo(dir / "m.tsv", options);
    FAIL("strict mode accepted a malformed line");
  } catch (const frugal::format_error& e) {
    const std::string what = e.what();
    CHECK(what.find("line 2") != std::string::npos);
    CHECK(what.find("wrong field count") != std::string::npos);
    CHECK(what.find((dir / "m.tsv").string()) != std::string::npos);
    CHECK(e.file() == (dir / "m.tsv").string());
    CHECK(e.offset() == good_line(1).size() + 1);
  }
  // A reader keeps the examples before the bad line.
  emb::criteo_reader reader(dir / "m.tsv", options);
  emb::click_dataset out;
  CHECK_THROWS_WITH_AS(reader.read(100, out), doctest::Contains("line 2"), frugal::format_error);
  CHECK(out.size() == 1);
  CHECK(reader.report().malformed == 1);
  CHECK(reader.report().first_problems.size() == 1);
  // Good files pass in strict mode.
  write_file(dir / "g.tsv", good_line(1) + "\n" + good_line(2));
  CHECK(emb::read_criteo(dir / "g.tsv", options).size() == 2);
}

TEST_CASE("criteo: gzip, CRLF, missing final newline and block boundaries give the same data") {
  const auto dir = frugal::test::scratch_dir("criteo-forms");
  std::string text = mixed_file();
  for (int k = 20; k < 60; ++k) text += good_line(k) + "\n";
  write_file(dir / "a.tsv", text);
  emb::criteo_report ref_report;
  const auto ref = emb::read_criteo(dir / "a.tsv", {}, &ref_report);
  CHECK(ref.size() == 44);
  CHECK(ref_report.bytes == text.size());

  write_gzip(dir / "a.tsv.gz", text);
  emb::criteo_report report;
  check_same(ref, emb::read_criteo(dir / "a.tsv.gz", {}, &report));
  check_same(ref_report, report);

  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  write_file(dir / "crlf.tsv", crlf);
  check_same(ref, emb::read_criteo(dir / "crlf.tsv", {}, &report));
  CHECK(report.malformed == ref_report.malformed);
  CHECK(report.bytes == crlf.size());

  const std::string unterminated = text.substr(0, text.size() - 1);
  write_file(dir / "unterminated.tsv", unterminated);
  check_same(ref, emb::read_criteo(dir / "unterminated.tsv", {}, &report));
  CHECK(report.lines == ref_report.lines);
  CHECK(report.bytes == unterminated.size());

  // A final "\r" without "\n" is stripped too.
  write_file(dir / "cr.tsv", unterminated + "\r");
  check_same(ref, emb::read_criteo(dir / "cr.tsv", {}, &report));
  CHECK(report.lines == ref_report.lines);

  for (std::size_t block : {std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{4096}}) {
    CAPTURE(block);
    emb::criteo_options options;
    options.block_bytes = block;
    check_same(ref, emb::read_criteo(dir / "a.tsv", options, &report));
    check_same(ref_report, report);
    check_same(ref, emb::read_criteo(dir / "a.tsv.gz", options, &report));
    check_same(ref_report, report);
    check_same(ref, emb::read_criteo(dir / "crlf.tsv", options, &report));
    check_same(ref, emb::read_criteo(dir / "unterminated.tsv", options, &report));
  }

  // Empty files hold no lines, a lone newline one malformed line.
  write_file(dir / "empty.tsv", "");
  auto empty = emb::read_criteo(dir / "empty.tsv", {}, &report);
  CHECK(empty.size() == 0);
  CHECK(empty.cardinalities == std::vector<index_t>(26, index_t(1) << 20));
  CHECK(report.lines == 0);
  write_gzip(dir / "empty.tsv.gz", "");
  CHECK(emb::read_criteo(dir / "empty.tsv.gz", {}, &report).size() == 0);
  CHECK(report.lines == 0);
  write_file(dir / "newline.tsv", "\n");
  (void)emb::read_criteo(dir / "newline.tsv", {}, &report);
  CHECK(report.lines == 1);
  CHECK(report.wrong_field_count == 1);
}

TEST_CASE("criteo: max_examples and batched reads") {
  const auto dir = frugal::test::scratch_dir("criteo-batches");
  std::string text = mixed_file();
  for (int k = 20; k < 120; ++k) text += good_line(k) + "\n";
  write_file(dir / "a.tsv", text);
  const auto all = emb::read_criteo(dir / "a.tsv");
  REQUIRE(all.size() == 104);

  emb::criteo_options options;
  options.max_examples = 3;
  emb::criteo_report report;
  const auto three = emb::read_criteo(dir / "a.tsv", options, &report);
  REQUIRE(three.size() == 3);
  CHECK(report.lines == 11);  // the third good line is line 11
  for (index_t i = 0; i < 3; ++i)
    CHECK(three.labels[static_cast<std::size_t>(i)] == all.labels[static_cast<std::size_t>(i)]);
  CHECK(std::equal(three.sparse.begin(), three.sparse.end(), all.sparse.begin()));

  for (index_t batch : {1, 7, 64, 1000}) {
    CAPTURE(batch);
    emb::criteo_reader reader(dir / "a.tsv", options_with([](auto& o) { o.block_bytes = 100; }));
    emb::click_dataset out;
    index_t total = 0, got = 0;
    while ((got = reader.read(batch, out)) > 0) {
      CHECK(got <= batch);
      total += got;
      CHECK(out.size() == total);
    }
    CHECK(reader.read(batch, out) == 0);
    check_same(all, out);
    CHECK(reader.report().lines == 116);
  }

  emb::criteo_reader reader(dir / "a.tsv", options);
  emb::click_dataset out;
  CHECK(reader.read(2, out) == 2);
  CHECK(reader.read(2, out) == 1);
  CHECK(reader.read(2, out) == 0);
  CHECK(reader.read(0, out) == 0);
  CHECK_THROWS_AS(reader.read(-1, out), frugal::invalid_argument);

  // Appending to a dataset of another layout is refused.
  emb::criteo_reader other(dir / "a.tsv", options_with([](auto& o) { o.default_buckets = 100; }));
  CHECK_THROWS_AS(other.read(1, out), frugal::invalid_argument);
}

TEST_CASE("criteo: unusable files and options are refused") {
  const auto dir = frugal::test::scratch_dir("criteo-errors");
  CHECK_THROWS_WITH_AS(emb::criteo_reader(dir / "missing.tsv"), doctest::Contains("missing.tsv"), frugal::io_error);
  CHECK_THROWS_AS(emb::criteo_reader{dir}, frugal::io_error);
  write_file(dir / "a.tsv", good_line(1) + "\n");
  CHECK_THROWS_WITH_AS(emb::criteo_reader(dir / "a.tsv", options_with([&](auto& o) { o.default_buckets = 1; })),
                       doctest::Contains("default_buckets"), frugal::invalid_argument);
  CHECK_THROWS_AS(emb::criteo_reader(dir / "a.tsv", options_with([&](auto& o) { o.default_buckets = 0; })),
                  frugal::invalid_argument);
  CHECK_THROWS_AS(
      emb::criteo_reader(dir / "a.tsv", options_with([&](auto& o) { o.default_buckets = (index_t(1) << 32) + 1; })),
      frugal::invalid_argument);
  CHECK_NOTHROW(
      emb::criteo_reader(dir / "a.tsv", options_with([&](auto& o) { o.default_buckets = index_t(1) << 32; })));
  std::vector<index_t> buckets(26, 10);
  buckets[7] = 1;
  CHECK_THROWS_WITH_AS(emb::criteo_reader(dir / "a.tsv", options_with([&](auto& o) { o.hash_buckets = buckets; })),
                       doctest::Contains("hash_buckets[7] = 1"), frugal::invalid_argument);
  CHECK_THROWS_AS(
      emb::criteo_reader(dir / "a.tsv", options_with([&](auto& o) { o.hash_buckets = std::vector<index_t>(25, 10); })),
      frugal::invalid_argument);
  CHECK_THROWS_AS(emb::criteo_reader(dir / "a.tsv", options_with([&](auto& o) { o.max_examples = -1; })),
                  frugal::invalid_argument);
  CHECK_THROWS_AS(emb::criteo_reader(dir / "a.tsv", options_with([&](auto& o) { o.block_bytes = 0; })),
                  frugal::invalid_argument);
  std::array<float, 13> d{};
  std::array<std::uint32_t, 26> ids{};
  float label = 0;
  CHECK_THROWS_AS((void)emb::detail::parse_criteo_line(good_line(1), d.data(), ids.data(), label, {}, buckets),
                  frugal::invalid_argument);
  CHECK_THROWS_AS(
      (void)emb::detail::parse_criteo_line(good_line(1), d.data(), ids.data(), label, {}, std::vector<index_t>(3, 10)),
      frugal::invalid_argument);

  // A cut gzip stream.
  std::string text;
  for (int k = 0; k < 200; ++k) text += good_line(k) + "\n";
  write_gzip(dir / "a.tsv.gz", text);
  const std::string gz = read_file(dir / "a.tsv.gz");
  write_file(dir / "cut.tsv.gz", gz.substr(0, gz.size() / 2));
  CHECK_THROWS_AS((void)emb::read_criteo(dir / "cut.tsv.gz"), frugal::format_error);
}

TEST_CASE("criteo: an overlong line is skipped without being held") {
  const auto dir = frugal::test::scratch_dir("criteo-overlong");
  const std::string text = good_line(1) + "\n" + std::string((3 << 20) / 2, 'x') + "\n" + good_line(2) + "\n" +
                           std::string(emb::detail::criteo_max_line_bytes + 10, '\t');
  write_file(dir / "a.tsv", text);
  for (std::size_t block : {std::size_t{4096}, std::size_t{1} << 20}) {
    emb::criteo_report report;
    const auto data = emb::read_criteo(dir / "a.tsv", options_with([&](auto& o) { o.block_bytes = block; }), &report);
    CHECK(data.size() == 2);
    CHECK(report.lines == 4);
    CHECK(report.wrong_field_count == 2);
    CHECK(report.bytes == text.size());
    REQUIRE(report.first_problems.size() == 2);
    CHECK(report.first_problems[0].line == 2);
    CHECK(report.first_problems[0].reason.find("longer than") != std::string::npos);
    CHECK(report.first_problems[1].line == 4);
  }
}

TEST_CASE("criteo fuzz: mutated files never crash and every line is parsed or counted") {
  const auto dir = frugal::test::scratch_dir("criteo-fuzz");
  frugal::rng gen(2024);
  std::string base;
  for (int k = 0; k < 24; ++k) {
    auto f = good_fields(k);
    for (std::size_t i = 1; i < f.size(); ++i)
      if (gen.uniform_int(6) == 0) f[i].clear();
    base += join(f) + (k % 5 == 0 ? "\r\n" : "\n");
  }
  const std::string alphabet = "\t\n\r0123456789abcdefABCDEFgx- +";
  const std::size_t blocks[] = {1, 5, 64, 1 << 20};
  std::vector<index_t> buckets(26);
  for (std::size_t c = 0; c < 26; ++c) buckets[c] = static_cast<index_t>(2 + c * c * 100);
  emb::criteo_options options;
  options.hash_buckets = buckets;
  std::uint64_t total_good = 0, total_malformed = 0;
  for (int trial = 0; trial < 300; ++trial) {
    CAPTURE(trial);
    std::string text = base;
    const int edits = 1 + static_cast<int>(gen.uniform_int(8));
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const auto at = static_cast<std::size_t>(gen.uniform_int(text.size()));
      const char c = gen.uniform_int(4) == 0 ? static_cast<char>(gen.uniform_int(256))
                                             : alphabet[static_cast<std::size_t>(gen.uniform_int(alphabet.size()))];
      switch (gen.uniform_int(4)) {
        case 0:
          text.insert(at, 1, c);
          break;
        case 1:
          text.erase(at, 1 + gen.uniform_int(3));
          break;
        case 2:
          text.resize(at);
          break;
        default:
          text[at] = c;
          break;
      }
    }
    const bool gz = trial % 4 == 3;
    const auto path = dir / (gz ? "f.tsv.gz" : "f.tsv");
    if (gz)
      write_gzip(path, text);
    else
      write_file(path, text);
    options.block_bytes = blocks[gen.uniform_int(4)];
    options.seed = static_cast<std::uint64_t>(trial);
    emb::criteo_report report;
    const auto data = emb::read_criteo(path, options, &report);
    REQUIRE_NOTHROW(data.validate());

    // An independent split into lines, each parsed alone, gives the same counts and data.
    std::uint64_t lines = 0, good = 0;
    emb::click_dataset expected;
    std::size_t start = 0;
    while (start < text.size()) {
      std::size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + start, end - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      std::array<float, 13> d{};
      std::array<std::uint32_t, 26> ids{};
      float label = -1;
      ++lines;
      if (emb::detail::parse_criteo_line(line, d.data(), ids.data(), label, options, buckets).empty()) {
        ++good;
        expected.dense.insert(expected.dense.end(), d.begin(), d.end());
        expected.sparse.insert(expected.sparse.end(), ids.begin(), ids.end());
        expected.labels.push_back(label);
      }
      start = end + 1;
    }
    CHECK(report.lines == lines);
    CHECK(report.examples + report.malformed == lines);
    CHECK(report.examples == good);
    CHECK(report.malformed ==
          report.wrong_field_count + report.bad_label + report.bad_integer + report.bad_categorical);
    CHECK(report.bytes == text.size());
    CHECK(data.labels == expected.labels);
    CHECK(data.dense == expected.dense);
    CHECK(data.sparse == expected.sparse);
    total_good += report.examples;
    total_malformed += report.malformed;
  }
  // The mutations hit a fair share of lines, and leave most of them intact.
  CHECK(total_malformed > 300);
  CHECK(total_good > 2 * total_malformed);

  // Random short lines straight into the parser.
  for (int trial = 0; trial < 20000; ++trial) {
    std::string line = good_line(trial);
    const int edits = 1 + static_cast<int>(gen.uniform_int(4));
    for (int e = 0; e < edits && !line.empty(); ++e) {
      const auto at = static_cast<std::size_t>(gen.uniform_int(line.size()));
      if (gen.uniform_int(2))
        line[at] = alphabet[static_cast<std::size_t>(gen.uniform_int(alphabet.size()))];
      else
        line.erase(at, gen.uniform_int(40));
    }
    std::array<float, 13> d{};
    std::array<std::uint32_t, 26> ids{};
    float label = -1;
    const auto reason = emb::detail::parse_criteo_line(line, d.data(), ids.data(), label, options, buckets);
    if (reason.empty()) {
      CHECK((label == 0.0f || label == 1.0f));
      for (std::size_t c = 0; c < 26; ++c) CHECK(static_cast<index_t>(ids[c]) < buckets[c]);
      for (float x : d) CHECK((std::isfinite(x) && x >= 0.0f));
    } else {
      const bool known = reason.rfind("wrong field count", 0) == 0 || reason.rfind("bad label", 0) == 0 ||
                         reason.rfind("bad integer", 0) == 0 || reason.rfind("bad categorical", 0) == 0;
      CHECK(known);
    }
  }
}
