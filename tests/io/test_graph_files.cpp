#include <doctest/doctest.h>

#include <frugal/core/rng.hpp>
#include <frugal/io.hpp>

#include <charconv>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace {

namespace fio = frugal::io;

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

/// Runs `read`, which must throw a `format_error` about `file` (a file name) at `line` whose
/// message also contains `text`.
template <class Read>
void expect_format_error(Read read, const std::filesystem::path& file, std::int64_t line, const std::string& text) {
  try {
    (void)read();
    FAIL_CHECK("accepted a malformed file; expected: " << text);
  } catch (const frugal::format_error& e) {
    const std::string message = e.what();
    INFO(message);
    CHECK(e.file() == file.string());
    CHECK(message.find("'" + file.string() + "'") != std::string::npos);
    CHECK(message.find("line " + std::to_string(line) + " ") != std::string::npos);
    CHECK(message.find(text) != std::string::npos);
  }
}

using row_matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

row_matrix matrix_of(frugal::index_t rows, frugal::index_t cols, std::initializer_list<float> values) {
  row_matrix m(rows, cols);
  std::copy(values.begin(), values.end(), m.data());
  return m;
}

/// Sizes agree, indices are in range, labels below the class count, node names distinct.
bool self_consistent(const fio::graph_data& g) {
  const auto n = static_cast<std::size_t>(g.num_nodes);
  bool ok = g.num_nodes > 0 && g.src.size() == g.dst.size() && g.features.rows() == g.num_nodes &&
            g.labels.size() == n && g.node_names.size() == n && g.skipped_edges >= 0;
  for (std::size_t e = 0; ok && e < g.src.size(); ++e)
    ok = g.src[e] >= 0 && g.src[e] < g.num_nodes && g.dst[e] >= 0 && g.dst[e] < g.num_nodes;
  for (std::size_t i = 0; ok && i < g.labels.size(); ++i)
    ok = g.labels[i] >= -1 && g.labels[i] < static_cast<std::int32_t>(g.class_names.size());
  ok = ok && std::set<std::string>(g.node_names.begin(), g.node_names.end()).size() == n;
  return ok;
}

const std::string cora_content =
    "31336\t0\t1\t0\tNeural_Networks\n"
    "1061127\t1\t0\t0.5\tRule_Learning\n"
    "1106406 0 0 1 Reinforcement_Learning\n"
    "13195\t0\t0\t0\tNeural_Networks\n";
const std::string cora_cites =
    "31336\t1061127\n"  // 1061127 cites 31336
    "31336\t13195\n"
    "1106406\t31336\n"
    "13195 13195\n";

}  // namespace

TEST_CASE("read_linqs reads a Cora-like pair of files exactly") {
  const auto dir = frugal::test::scratch_dir("graph_linqs");
  write_text(dir / "cora.content", cora_content);
  write_text(dir / "cora.cites", cora_cites);
  const auto g = fio::read_linqs(dir / "cora.content", dir / "cora.cites");
  CHECK(g.num_nodes == 4);
  CHECK(g.node_names == std::vector<std::string>{"31336", "1061127", "1106406", "13195"});
  CHECK(g.features == matrix_of(4, 3, {0, 1, 0, 1, 0, 0.5f, 0, 0, 1, 0, 0, 0}));
  CHECK(g.class_names == std::vector<std::string>{"Neural_Networks", "Rule_Learning", "Reinforcement_Learning"});
  CHECK(g.labels == std::vector<std::int32_t>{0, 1, 2, 0});
  // citing -> cited: the second column points at the first; the self-citation stays.
  CHECK(g.src == std::vector<std::int64_t>{1, 3, 0, 3});
  CHECK(g.dst == std::vector<std::int64_t>{0, 0, 2, 3});
  CHECK(g.num_edges() == 4);
  CHECK(g.skipped_edges == 0);
  CHECK(self_consistent(g));
}

TEST_CASE("read_linqs: CiteSeer-like dangling citations throw by default and are counted when skipped") {
  const auto dir = frugal::test::scratch_dir("graph_citeseer");
  write_text(dir / "citeseer.content",
             "ghani01hypertext\t1\t0\tIR\r\n"
             "100157\t0\t1\tAgents\r\n"
             "bradshaw97introduction\t1\t1\tAgents\r\n");
  write_text(dir / "citeseer.cites",
             "100157\tghani01hypertext\r\n"
             "\r\n"
             "100157\tbradshaw97introduction\r\n"
             "197556\tghani01hypertext\r\n"  // 197556 is not in .content (line 4)
             "ghani01hypertext\tnowhere2000\r\n");
  const auto content = dir / "citeseer.content";
  const auto cites = dir / "citeseer.cites";
  CHECK_THROWS_WITH_AS((void)fio::read_linqs(content, cites), doctest::Contains("citeseer.cites' line 4"),
                       frugal::format_error);
  CHECK_THROWS_WITH_AS((void)fio::read_linqs(content, cites), doctest::Contains("'197556'"), frugal::format_error);
  CHECK_THROWS_WITH_AS((void)fio::read_linqs(content, cites), doctest::Contains("linqs_options::skip_unknown_ids"),
                       frugal::format_error);
  expect_format_error([&] { return fio::read_linqs(content, cites); }, cites, 4, "cited paper '197556' is not in");
  try {
    (void)fio::read_linqs(content, cites);
  } catch (const frugal::format_error& e) {
    CHECK(e.offset() == 58);  // the first byte of line 4, as docs/io.md shows
  }

  const auto g = fio::read_linqs(content, cites, {.skip_unknown_ids = true});
  CHECK(g.num_nodes == 3);
  CHECK(g.node_names == std::vector<std::string>{"ghani01hypertext", "100157", "bradshaw97introduction"});
  CHECK(g.class_names == std::vector<std::string>{"IR", "Agents"});
  CHECK(g.labels == std::vector<std::int32_t>{0, 1, 1});
  CHECK(g.features == matrix_of(3, 2, {1, 0, 0, 1, 1, 1}));
  CHECK(g.src == std::vector<std::int64_t>{0, 2});
  CHECK(g.dst == std::vector<std::int64_t>{1, 1});
  CHECK(g.skipped_edges == 2);
  CHECK(self_consistent(g));
}

TEST_CASE("read_edge_list: comments, blank lines and CRLF; nodes in order of first appearance") {
  const auto dir = frugal::test::scratch_dir("graph_edges");
  write_text(dir / "g.edges",
             "# SNAP-style header\r\n"
             "\r\n"
             "a b\r\n"
             "  b\tc   # trailing comment\r\n"
             "7 a\n"
             "\t\n"
             "c c");  // no final newline
  const auto g = fio::read_edge_list(dir / "g.edges");
  CHECK(g.num_nodes == 4);
  CHECK(g.node_names == std::vector<std::string>{"a", "b", "c", "7"});
  CHECK(g.src == std::vector<std::int64_t>{0, 1, 3, 2});
  CHECK(g.dst == std::vector<std::int64_t>{1, 2, 0, 2});
  CHECK(g.features.rows() == 4);
  CHECK(g.features.cols() == 0);
  CHECK(g.labels == std::vector<std::int32_t>(4, -1));
  CHECK(g.class_names.empty());
  CHECK(self_consistent(g));
}

TEST_CASE("read_edge_list: ids are compared as whole byte strings, short or long") {
  const auto dir = frugal::test::scratch_dir("graph_ids");
  // Around the 8-byte ids held inline by the id table, a NUL byte, and long ids sharing a prefix.
  using namespace std::string_literals;
  write_text(dir / "g.edges",
             "12345678 123456789\n123456789 1234567890\npaper_with_a_long_name_1 paper_with_a_long_name_2\n"
             "a a\0\n0 00\n12345678 paper_with_a_long_name_2\n"s);
  const auto g = fio::read_edge_list(dir / "g.edges");
  CHECK(g.node_names == std::vector<std::string>{"12345678", "123456789", "1234567890", "paper_with_a_long_name_1",
                                                 "paper_with_a_long_name_2", "a", "a\0"s, "0", "00"});
  CHECK(g.src == std::vector<std::int64_t>{0, 1, 3, 5, 7, 0});
  CHECK(g.dst == std::vector<std::int64_t>{1, 2, 4, 6, 8, 4});
  CHECK(self_consistent(g));
}

TEST_CASE("read_edge_list with a features file: it defines the nodes and their order") {
  const auto dir = frugal::test::scratch_dir("graph_features");
  write_text(dir / "g.feat",
             "# id f1 f2\n"
             "n2 0.5 -1\n"
             "n0 1e-3 +2\r\n"
             "n1 0 0\n");
  write_text(dir / "g.labels", "n1 2\nn2 0\n");
  write_text(dir / "g.edges", "n0 n1\nn1 n2\nn0 n9\nn2 n0\n");
  const auto edges = dir / "g.edges";
  const fio::edge_list_options options{.features_path = dir / "g.feat", .labels_path = dir / "g.labels"};
  expect_format_error([&] { return fio::read_edge_list(edges, options); }, edges, 3,
                      "node 'n9' is not in '" + (dir / "g.feat").string() + "'");

  auto skipping = options;
  skipping.skip_unknown_ids = true;
  const auto g = fio::read_edge_list(edges, skipping);
  CHECK(g.num_nodes == 3);
  CHECK(g.node_names == std::vector<std::string>{"n2", "n0", "n1"});
  CHECK(g.features == matrix_of(3, 2, {0.5f, -1, 1e-3f, 2, 0, 0}));
  CHECK(g.src == std::vector<std::int64_t>{1, 2, 0});
  CHECK(g.dst == std::vector<std::int64_t>{2, 0, 1});
  CHECK(g.skipped_edges == 1);
  // Integer labels keep their values; classes are named by their digits, up to the largest label.
  CHECK(g.labels == std::vector<std::int32_t>{0, -1, 2});
  CHECK(g.class_names == std::vector<std::string>{"0", "1", "2"});
  CHECK(self_consistent(g));

  // Features only: every label is -1.
  const auto f = fio::read_edge_list(edges, {.features_path = dir / "g.feat", .skip_unknown_ids = true});
  CHECK(f.labels == std::vector<std::int32_t>(3, -1));
  CHECK(f.features == g.features);
}

TEST_CASE("read_edge_list with labels only: class names, and nodes from the labels file first") {
  const auto dir = frugal::test::scratch_dir("graph_labels");
  write_text(dir / "g.labels", "u cat\nv 3\nw cat # a comment\n");
  write_text(dir / "g.edges", "x u\nv x\n");
  const auto g = fio::read_edge_list(dir / "g.edges", {.labels_path = dir / "g.labels"});
  CHECK(g.node_names == std::vector<std::string>{"u", "v", "w", "x"});
  // One label is not an integer, so every label is a class name, "3" included.
  CHECK(g.class_names == std::vector<std::string>{"cat", "3"});
  CHECK(g.labels == std::vector<std::int32_t>{0, 1, 0, -1});
  CHECK(g.src == std::vector<std::int64_t>{3, 1});
  CHECK(g.dst == std::vector<std::int64_t>{0, 3});
  CHECK(self_consistent(g));
}

TEST_CASE("read_linqs: every kind of malformed .content and .cites names the file and the line") {
  const auto dir = frugal::test::scratch_dir("graph_linqs_errors");
  const auto content = dir / "c.content";
  const auto cites = dir / "c.cites";
  write_text(cites, "a b\n");
  const auto read = [&] { return fio::read_linqs(content, cites); };

  write_text(content, "a 1 0 x\nb\n");
  expect_format_error(read, content, 2, "expected a paper id, word attributes and a class label, found only 'b'");
  write_text(content, "a 1 0 x\r\nb 1 x\r\n");
  expect_format_error(read, content, 2, "found 1 word attributes, line 1 has 2");
  write_text(content, "a 1 0 x\n\nb 1 zero x\n");
  expect_format_error(read, content, 3, "word attribute 2 of paper 'b', 'zero', is not a finite number");
  write_text(content, "a 1 0 x\nb 1 nan x\n");
  expect_format_error(read, content, 2, "'nan', is not a finite number");
  write_text(content, "a 1 0 x\nb 1 1e99 x\n");
  expect_format_error(read, content, 2, "'1e99', is not a finite number");
  write_text(content, "a 1 0 x\nb 0 0 y\na 0 1 y\n");
  expect_format_error(read, content, 3, "paper 'a' is listed again (first on line 1)");
  write_text(content, "");
  expect_format_error(read, content, 1, "no paper before the end of the file");
  write_text(content, "\n  \n");
  expect_format_error(read, content, 3, "no paper before the end of the file");

  write_text(content, "a 1 0 x\nb 0 1 y\n");
  write_text(cites, "a b\nb a 1\n");
  expect_format_error(read, cites, 2, "expected 2 fields (cited paper, citing paper), found 3");
  write_text(cites, "a b\nc\n");
  expect_format_error(read, cites, 2, "found 1");
  write_text(cites, "a b\nb zz\n");
  expect_format_error(read, cites, 2, "citing paper 'zz' is not in");
  write_text(cites, "\n");
  expect_format_error(read, cites, 2, "no citation before the end of the file");
  // Only unknown papers, skipped: an empty edge set, not an error.
  write_text(cites, "q r\n");
  const auto g = fio::read_linqs(content, cites, {.skip_unknown_ids = true});
  CHECK(g.num_edges() == 0);
  CHECK(g.skipped_edges == 1);

  CHECK_THROWS_WITH_AS((void)fio::read_linqs(dir / "absent.content", cites), doctest::Contains("absent.content"),
                       frugal::io_error);
  CHECK_THROWS_WITH_AS((void)fio::read_linqs(content, dir), doctest::Contains("it is a directory"), frugal::io_error);
  // A control byte in an id is shown escaped, and a long token is cut short.
  write_text(cites, "a\x01 b\n");
  expect_format_error(read, cites, 1, "cited paper 'a\\x01' is not in");
  write_text(cites, std::string(100, 'z') + " a\n");
  expect_format_error(read, cites, 1, "'" + std::string(40, 'z') + "'... is not in");
}

TEST_CASE("read_edge_list: every kind of malformed file names the file and the line") {
  const auto dir = frugal::test::scratch_dir("graph_edge_errors");
  const auto edges = dir / "e.txt";
  const auto features = dir / "f.txt";
  const auto labels = dir / "l.txt";
  write_text(edges, "a b\n");
  write_text(features, "a 1 2\nb 3 4\n");
  write_text(labels, "a 0\n");
  const fio::edge_list_options both{.features_path = features, .labels_path = labels};
  const auto read = [&] { return fio::read_edge_list(edges, both); };
  const auto read_plain = [&] { return fio::read_edge_list(edges); };

  write_text(edges, "a b\r\nb\r\n");
  expect_format_error(read_plain, edges, 2, "expected 2 fields (source, target), found 1");
  write_text(edges, "# weighted\na b 0.5\n");
  expect_format_error(read_plain, edges, 2, "found 3 (edge weights are not read)");
  write_text(edges, "# only a comment\n\n");
  expect_format_error(read_plain, edges, 3, "no edge before the end of the file");
  write_text(edges, "");
  expect_format_error(read_plain, edges, 1, "no edge before the end of the file");
  write_text(edges, "a c\n");
  expect_format_error(read, edges, 1, "node 'c' is not in");
  write_text(edges, "a b\n");

  write_text(features, "a 1 2\nb 3\n");
  expect_format_error(read, features, 2, "found 1 features, line 1 has 2");
  write_text(features, "a 1 2\nb 3 4x\n");
  expect_format_error(read, features, 2, "feature 2 of node 'b', '4x', is not a finite number");
  write_text(features, "a 1 2\nb 3 -inf\n");
  expect_format_error(read, features, 2, "'-inf', is not a finite number");
  write_text(features, "a 1 2\nb 3 +-4\n");
  expect_format_error(read, features, 2, "'+-4', is not a finite number");
  write_text(features, "a 1 2\n# dup\na 3 4\n");
  expect_format_error(read, features, 3, "node 'a' is listed again (first on line 1)");
  write_text(features, "# nothing\n");
  expect_format_error(read, features, 2, "no node before the end of the file");
  write_text(features, "a 1 2\nb 3 4\n");

  write_text(labels, "a 0 1\n");
  expect_format_error(read, labels, 1, "expected 2 fields (node, label), found 3");
  write_text(labels, "a 0\nb 1\na 1\n");
  expect_format_error(read, labels, 3, "node 'a' is labelled again (first on line 1)");
  write_text(labels, "a 0\nz 1\n");
  expect_format_error(read, labels, 2, "node 'z' is not in '" + features.string() + "'");
  write_text(labels, "a 0\nb -1\n");
  expect_format_error(read, labels, 2, "label '-1' of node 'b' is outside [0, 1048575]");
  write_text(labels, "a 1048576\n");
  expect_format_error(read, labels, 1, "is outside [0, 1048575]");
  write_text(labels, "a 99999999999999999999999\n");
  expect_format_error(read, labels, 1, "is outside [0, 1048575]");
  write_text(labels, "\n");
  expect_format_error(read, labels, 2, "no label before the end of the file");
  write_text(labels, "a 0\n");
  CHECK(read().labels == std::vector<std::int32_t>{0, -1});

  CHECK_THROWS_WITH_AS((void)fio::read_edge_list(edges, {.features_path = dir / "nope.txt"}),
                       doctest::Contains("nope.txt"), frugal::io_error);
  CHECK_THROWS_WITH_AS((void)fio::read_edge_list(edges, {.labels_path = dir / "nope.txt"}),
                       doctest::Contains("nope.txt"), frugal::io_error);
  CHECK_THROWS_WITH_AS((void)fio::read_edge_list(dir / "nope.txt"), doctest::Contains("read_edge_list"),
                       frugal::io_error);
}

TEST_CASE("read_edge_list reads back a larger random graph exactly") {
  const auto dir = frugal::test::scratch_dir("graph_random");
  frugal::rng gen(24);
  constexpr int nodes = 2000, width = 16, edge_count = 20000, classes = 7;
  fio::graph_data expected;
  expected.num_nodes = nodes;
  expected.features.resize(nodes, width);
  std::string features, labels, edges;
  char buffer[64];
  for (int i = 0; i < nodes; ++i) {
    expected.node_names.push_back("v" + std::to_string(i * 7919 % 100003));
    features += expected.node_names.back();
    for (int f = 0; f < width; ++f) {
      const auto value = static_cast<float>(gen.normal());
      expected.features(i, f) = value;
      const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);  // shortest round-trip form
      features += (f % 2 ? '\t' : ' ') + std::string(buffer, end);
    }
    features += '\n';
    const auto label = static_cast<std::int32_t>(gen.uniform_int(classes));
    expected.labels.push_back(label);
    labels += expected.node_names.back() + ' ' + std::to_string(label) + '\n';
  }
  for (int e = 0; e < edge_count; ++e) {
    const auto u = static_cast<std::int64_t>(gen.uniform_int(nodes));
    const auto v = static_cast<std::int64_t>(gen.uniform_int(nodes));
    expected.src.push_back(u);
    expected.dst.push_back(v);
    edges += expected.node_names[static_cast<std::size_t>(u)] + ' ' + expected.node_names[static_cast<std::size_t>(v)] +
             '\n';
  }
  write_text(dir / "f", features);
  write_text(dir / "l", labels);
  write_text(dir / "e", edges);
  const auto g = fio::read_edge_list(dir / "e", {.features_path = dir / "f", .labels_path = dir / "l"});
  CHECK(g.num_nodes == nodes);
  CHECK(g.node_names == expected.node_names);
  CHECK(g.features == expected.features);
  CHECK(g.labels == expected.labels);
  CHECK(g.class_names.size() == static_cast<std::size_t>(classes));
  CHECK(g.src == expected.src);
  CHECK(g.dst == expected.dst);
}

TEST_CASE("fuzz: random corruptions of graph files either read consistently or throw a frugal::error") {
  const auto dir = frugal::test::scratch_dir("graph_fuzz");
  const std::string alphabet = "\t\n\r #-.+eE0123456789abcxyz";
  const std::vector<std::string> originals = {
      cora_content,      cora_cites, "# edges\r\na b\nb c # x\n\nc a\r\nd a\n", "a 0.5 1\nb -1 2e1\nc 0 0\nd 1 1\n",
      "a 0\nb 2\nc 1\n",
  };
  for (std::size_t i = 0; i < originals.size(); ++i) write_text(dir / std::to_string(i), originals[i]);
  frugal::rng gen(2024);
  int accepted = 0, rejected = 0, other = 0;
  for (int trial = 0; trial < 400; ++trial) {
    const auto target = static_cast<std::size_t>(gen.uniform_int(originals.size()));
    std::string text = originals[target];
    const int edits = 1 + static_cast<int>(gen.uniform_int(4));
    for (int e = 0; e < edits; ++e) {
      const auto at = static_cast<std::size_t>(gen.uniform_int(text.size() + 1));
      switch (gen.uniform_int(5)) {
        case 0:  // flip a byte
          if (at < text.size()) text[at] = static_cast<char>(text[at] ^ static_cast<char>(1 + gen.uniform_int(255)));
          break;
        case 1:  // delete a few bytes
          text.erase(at, static_cast<std::size_t>(1 + gen.uniform_int(8)));
          break;
        case 2:  // insert a separator, line break, letter or digit
        case 3:
          text.insert(at, 1, alphabet[static_cast<std::size_t>(gen.uniform_int(alphabet.size()))]);
          break;
        default:  // truncate
          text.resize(at);
          break;
      }
    }
    write_text(dir / std::to_string(target), text);
    try {
      const auto g = target < 2 ? fio::read_linqs(dir / "0", dir / "1", {.skip_unknown_ids = trial % 2 == 0})
                                : fio::read_edge_list(dir / "2", {.features_path = dir / "3",
                                                                  .labels_path = dir / "4",
                                                                  .skip_unknown_ids = trial % 2 == 0});
      if (!self_consistent(g)) FAIL_CHECK("inconsistent result in trial " << trial << " of file " << target);
      ++accepted;
    } catch (const frugal::error&) {
      ++rejected;
    } catch (const std::exception& e) {
      ++other;
      FAIL_CHECK("trial " << trial << " threw a non-frugal exception: " << e.what());
    }
    write_text(dir / std::to_string(target), originals[target]);
  }
  CHECK(other == 0);
  CHECK(accepted > 20);
  CHECK(rejected > 20);
}
