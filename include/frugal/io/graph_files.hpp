#pragma once
/// \file
/// Readers for node-classification graphs stored as text: the LINQS format of Cora and CiteSeer
/// (`read_linqs`) and an edge list with optional feature and label files (`read_edge_list`).
/// Both return a `graph_data`: edges as the file lists them plus per-node features and labels, on
/// the host; the graph module builds its CSR storage from it.
///
/// Common rules. A file is read whole. Lines end in `\n`; a `\r` before it is dropped, so Windows
/// files read unchanged. Fields are separated by runs of spaces and tabs. Blank lines are skipped.
/// Numbers are parsed with `std::from_chars` in the C locale: decimal or scientific notation, an
/// optional sign, finite and within float's range. Every bad line throws a `format_error` whose
/// message names the function, the file, the 1-based line and what is wrong, and whose `offset()`
/// is the line's first byte; a file that cannot be opened throws an `io_error` naming it.

#include <Eigen/Core>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "../core/error.hpp"
#include "../core/execution.hpp"
#include "detail/graph_parse.hpp"

namespace frugal::io {

/// A graph read from files, on the host: directed edges as listed, node features, node labels.
///
/// Edges are kept exactly as the file lists them, one per edge line: duplicates, self-loops and
/// edges listed in both directions all stay, since whether to symmetrise, deduplicate or add
/// self-loops is the model's choice, made where the CSR matrix is built.
struct graph_data {
  index_t num_nodes = 0;          ///< nodes are numbered 0 … num_nodes − 1
  std::vector<std::int64_t> src;  ///< tail of each edge, in [0, num_nodes)
  std::vector<std::int64_t> dst;  ///< head of each edge (`src[e] → dst[e]`), in [0, num_nodes)
  /// num_nodes × num_features, row i the features of node i; no columns when there are none.
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> features;
  std::vector<std::int32_t> labels;      ///< num_nodes labels in [0, class_names.size()), −1 for none
  std::vector<std::string> class_names;  ///< label k is class `class_names[k]`
  std::vector<std::string> node_names;   ///< node i's id in the file
  /// Edge lines left out because an endpoint is not a known node (only with `skip_unknown_ids`).
  index_t skipped_edges = 0;

  /// Number of edges, `src.size()`.
  [[nodiscard]] index_t num_edges() const noexcept { return static_cast<index_t>(src.size()); }
};

/// Options of `read_linqs`.
struct linqs_options {
  /// Skip a `.cites` line that names a paper absent from `.content`, counting it in
  /// `graph_data::skipped_edges`, instead of throwing. CiteSeer needs it: its citations name
  /// papers that its `.content` leaves out.
  bool skip_unknown_ids = false;
};

/// Options of `read_edge_list`.
struct edge_list_options {
  /// Lines `id f1 … fk`: the node set and its features. Without it, nodes come from the labels
  /// and edge files and have no features.
  std::optional<std::filesystem::path> features_path = std::nullopt;
  /// Lines `id label`: the nodes' labels. Nodes it leaves out have label −1.
  std::optional<std::filesystem::path> labels_path = std::nullopt;
  /// With a features file, skip an edge line that names a node the features file lacks,
  /// counting it in `graph_data::skipped_edges`, instead of throwing.
  bool skip_unknown_ids = false;
};

/// Reads a graph in the LINQS format of Cora and CiteSeer: a `.content` file of papers and a
/// `.cites` file of citations.
///
/// - `.content`: one paper a line, `<paper_id> <word_attributes>+ <class_label>`. The paper id
///   and the class label are arbitrary tokens (CiteSeer has ids like `ghani01hypertext`); the
///   attributes are numbers (0/1 in Cora and CiteSeer, any number accepted), as many on every
///   line. Node i is the paper on the i-th line; classes are numbered in order of first
///   appearance.
/// - `.cites`: one citation a line, `<cited_paper_id> <citing_paper_id>`. The edge goes from the
///   citing paper to the cited one (`src` cites `dst`), following the citation; the reverse
///   direction is not added.
///
/// \param content_path the `.content` file
/// \param cites_path the `.cites` file
/// \param options what to do with citations of unknown papers
/// \returns the graph: one edge per kept `.cites` line, the attributes as features, the class
///   labels with their names, the paper ids as node names
/// \throws io_error when a file cannot be opened or read
/// \throws format_error on the first bad line: a `.content` line with fewer than two fields or
///   another attribute count than the first line, an attribute that is not a number, a paper id
///   listed twice; a `.cites` line without exactly two fields, or naming a paper absent from
///   `.content` (unless `options.skip_unknown_ids`); a file with no paper or no citation line.
///
/// Complexity: expected O(bytes of both files); memory: both files plus the result.
[[nodiscard]] inline graph_data read_linqs(const std::filesystem::path& content_path,
                                           const std::filesystem::path& cites_path, const linqs_options& options = {}) {
  constexpr std::string_view function = "read_linqs";
  // Both files are read before parsing so a missing second file fails before the longer work.
  const detail::graph_text content = detail::graph_read_file(content_path, function);
  const detail::graph_text cites = detail::graph_read_file(cites_path, function);
  graph_data out;
  detail::graph_node_ids papers;
  papers.reserve(detail::graph_count_lines(content.bytes));
  std::unordered_map<std::string_view, std::int32_t> classes;
  std::vector<std::int64_t> first_line;  // line of each paper, for the duplicate message
  std::vector<float> values;
  std::vector<std::string_view> fields;
  std::size_t attributes = 0;
  std::int64_t width_line = 0;  // the line that set `attributes`
  detail::graph_lines lines(content.bytes);
  detail::graph_line line;
  while (lines.next(line)) {
    detail::graph_split(line.text, false, fields);
    if (fields.empty()) continue;
    const auto fail = [&](const std::string& what) { detail::graph_fail(function, content.name, line, what); };
    if (fields.size() < 2)
      fail(frugal::detail::concat("expected a paper id, word attributes and a class label, found only ",
                                  detail::graph_quote(fields[0])));
    const std::size_t k = fields.size() - 2;
    if (width_line == 0) {
      attributes = k;
      width_line = line.number;
      // Every value takes at least two bytes (a digit and a separator): a bound that a corrupt
      // first line cannot inflate.
      values.reserve(std::min(detail::graph_count_lines(content.bytes) * k, content.bytes.size() / 2 + 1));
    } else if (k != attributes) {
      fail(frugal::detail::concat("found ", k, " word attributes, line ", width_line, " has ", attributes));
    }
    const auto [node, inserted] = papers.insert(fields[0]);
    if (!inserted)
      fail(frugal::detail::concat("paper ", detail::graph_quote(fields[0]), " is listed again (first on line ",
                                  first_line[static_cast<std::size_t>(node)], ")"));
    first_line.push_back(line.number);
    for (std::size_t a = 1; a <= k; ++a) {
      float value = 0;
      if (!detail::graph_parse_float(fields[a], value))
        fail(frugal::detail::concat("word attribute ", a, " of paper ", detail::graph_quote(fields[0]), ", ",
                                    detail::graph_quote(fields[a]), ", is not a finite number"));
      values.push_back(value);
    }
    const auto [it, fresh] = classes.try_emplace(fields.back(), static_cast<std::int32_t>(classes.size()));
    if (fresh) out.class_names.emplace_back(fields.back());
    out.labels.push_back(it->second);
  }
  if (papers.size() == 0)
    detail::graph_fail(function, content.name, lines.end_of_file(), "no paper before the end of the file");

  index_t cite_lines = 0;
  detail::graph_lines cite_walk(cites.bytes);
  while (cite_walk.next(line)) {
    detail::graph_split(line.text, false, fields);
    if (fields.empty()) continue;
    ++cite_lines;
    if (fields.size() != 2)
      detail::graph_fail(
          function, cites.name, line,
          frugal::detail::concat("expected 2 fields (cited paper, citing paper), found ", fields.size()));
    const index_t cited = papers.find(fields[0]);
    const index_t citing = papers.find(fields[1]);
    if (cited < 0 || citing < 0) {
      if (options.skip_unknown_ids) {
        ++out.skipped_edges;
        continue;
      }
      detail::graph_fail(
          function, cites.name, line,
          frugal::detail::concat(cited < 0 ? "cited" : "citing", " paper ",
                                 detail::graph_quote(cited < 0 ? fields[0] : fields[1]), " is not in '", content.name,
                                 "'; set linqs_options::skip_unknown_ids to skip such lines "
                                 "(graph_data::skipped_edges counts them)"));
    }
    out.src.push_back(citing);
    out.dst.push_back(cited);
  }
  if (cite_lines == 0)
    detail::graph_fail(function, cites.name, cite_walk.end_of_file(), "no citation before the end of the file");

  out.num_nodes = papers.size();
  out.features = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      values.data(), out.num_nodes, static_cast<Eigen::Index>(attributes));
  out.node_names = papers.names();
  return out;
}

/// Reads a graph stored as an edge list, with optional feature and label files.
///
/// - Edges file: one edge a line, `u v`, directed `u → v`; ids are arbitrary tokens. A line
///   with another number of fields is an error (edge weights are not read).
/// - Features file (`options.features_path`): one node a line, `id f1 … fk`, the same k ≥ 0 on
///   every line, each id once. When given it is the node set, numbered in the order of its
///   lines, and an edge or label naming another id is an error (edges: unless
///   `options.skip_unknown_ids`, which skips and counts them).
/// - Labels file (`options.labels_path`): `id label`, each id at most once; nodes it leaves out get
///   label −1. If every label is an integer, labels are those integers (each in
///   [0, 2^20 − 1]; a negative one is an error, leave the node out instead) and class k is named
///   by its decimal digits, `"0"` … `"<max label>"`; otherwise every label is a class name,
///   classes numbered in order of first appearance (so `3.0` is a name, not the number 3).
///
/// In all three files `#` starts a comment that runs to the end of the line, at the start of a
/// line or after its fields; there is no header line. Without a features file, nodes are
/// numbered in order of first appearance, labels file first, then edges file.
///
/// \param edges_path the edges file
/// \param options the optional features and labels files, and what to do with unknown ids
/// \returns the graph: one edge per kept edge line, features (no columns without a features
///   file), labels (all −1 without a labels file), the ids as node names
/// \throws io_error when a file cannot be opened or read
/// \throws format_error on the first bad line: a wrong field count, a feature that is not a
///   number, another feature count than the first line's, an id listed twice in the features or
///   the labels file, an id absent from the features file, a negative or too large integer label;
///   a given file with no data line.
///
/// Complexity: expected O(total bytes); memory: the files plus the result.
[[nodiscard]] inline graph_data read_edge_list(const std::filesystem::path& edges_path,
                                               const edge_list_options& options = {}) {
  constexpr std::string_view function = "read_edge_list";
  const detail::graph_text edges = detail::graph_read_file(edges_path, function);
  const std::optional<detail::graph_text> feature_file =
      options.features_path ? std::optional(detail::graph_read_file(*options.features_path, function)) : std::nullopt;
  const std::optional<detail::graph_text> label_file =
      options.labels_path ? std::optional(detail::graph_read_file(*options.labels_path, function)) : std::nullopt;
  graph_data out;
  detail::graph_node_ids nodes;
  std::vector<std::string_view> fields;
  detail::graph_line line;

  std::vector<float> values;
  std::size_t width = 0;
  if (feature_file) {
    const detail::graph_text& file = *feature_file;
    nodes.reserve(detail::graph_count_lines(file.bytes));
    std::vector<std::int64_t> first_line;
    std::int64_t width_line = 0;
    detail::graph_lines lines(file.bytes);
    while (lines.next(line)) {
      detail::graph_split(line.text, true, fields);
      if (fields.empty()) continue;
      const auto fail = [&](const std::string& what) { detail::graph_fail(function, file.name, line, what); };
      const std::size_t k = fields.size() - 1;
      if (width_line == 0) {
        width = k;
        width_line = line.number;
        values.reserve(std::min(detail::graph_count_lines(file.bytes) * k, file.bytes.size() / 2 + 1));
      } else if (k != width) {
        fail(frugal::detail::concat("found ", k, " features, line ", width_line, " has ", width));
      }
      const auto [node, inserted] = nodes.insert(fields[0]);
      if (!inserted)
        fail(frugal::detail::concat("node ", detail::graph_quote(fields[0]), " is listed again (first on line ",
                                    first_line[static_cast<std::size_t>(node)], ")"));
      first_line.push_back(line.number);
      for (std::size_t f = 1; f <= k; ++f) {
        float value = 0;
        if (!detail::graph_parse_float(fields[f], value))
          fail(frugal::detail::concat("feature ", f, " of node ", detail::graph_quote(fields[0]), ", ",
                                      detail::graph_quote(fields[f]), ", is not a finite number"));
        values.push_back(value);
      }
    }
    if (nodes.size() == 0)
      detail::graph_fail(function, file.name, lines.end_of_file(), "no node before the end of the file");
  }

  std::vector<std::int32_t> labels;  // grows with the nodes the labels file adds
  if (label_file) {
    const detail::graph_text& file = *label_file;
    struct entry {
      index_t node;
      std::string_view label;
      detail::graph_line line;
    };
    std::vector<entry> entries;
    std::vector<std::int64_t> label_line;  // per node: the line that labelled it, 0 if none yet
    bool all_integers = true;
    detail::graph_lines lines(file.bytes);
    while (lines.next(line)) {
      detail::graph_split(line.text, true, fields);
      if (fields.empty()) continue;
      const auto fail = [&](const std::string& what) { detail::graph_fail(function, file.name, line, what); };
      if (fields.size() != 2) fail(frugal::detail::concat("expected 2 fields (node, label), found ", fields.size()));
      index_t node = nodes.find(fields[0]);
      if (node < 0) {
        if (feature_file)
          fail(
              frugal::detail::concat("node ", detail::graph_quote(fields[0]), " is not in '", feature_file->name, "'"));
        node = nodes.insert(fields[0]).first;
      }
      if (label_line.size() <= static_cast<std::size_t>(node)) label_line.resize(static_cast<std::size_t>(node) + 1, 0);
      auto& first = label_line[static_cast<std::size_t>(node)];
      if (first != 0)
        fail(frugal::detail::concat("node ", detail::graph_quote(fields[0]), " is labelled again (first on line ",
                                    first, ")"));
      first = line.number;
      all_integers = all_integers && detail::graph_is_integer(fields[1]);
      entries.push_back({node, fields[1], line});
    }
    if (entries.empty())
      detail::graph_fail(function, file.name, lines.end_of_file(), "no label before the end of the file");
    labels.assign(static_cast<std::size_t>(nodes.size()), -1);
    if (all_integers) {
      std::int64_t largest = -1;
      for (const entry& e : entries) {
        std::int64_t value = 0;
        const auto [end, ec] = std::from_chars(e.label.data(), e.label.data() + e.label.size(), value);
        if (ec != std::errc{} || value < 0 || value > detail::graph_max_integer_label)
          detail::graph_fail(function, file.name, e.line,
                             frugal::detail::concat("label ", detail::graph_quote(e.label), " of node ",
                                                    detail::graph_quote(nodes.name(e.node)), " is outside [0, ",
                                                    detail::graph_max_integer_label,
                                                    "]; leave a node out of the labels file to leave it unlabelled"));
        labels[static_cast<std::size_t>(e.node)] = static_cast<std::int32_t>(value);
        largest = std::max(largest, value);
      }
      for (std::int64_t k = 0; k <= largest; ++k) out.class_names.push_back(std::to_string(k));
    } else {
      std::unordered_map<std::string_view, std::int32_t> classes;
      for (const entry& e : entries) {
        const auto [it, fresh] = classes.try_emplace(e.label, static_cast<std::int32_t>(classes.size()));
        if (fresh) out.class_names.emplace_back(e.label);
        labels[static_cast<std::size_t>(e.node)] = it->second;
      }
    }
  }

  index_t edge_lines = 0;
  detail::graph_lines lines(edges.bytes);
  const std::size_t expected_edges = detail::graph_count_lines(edges.bytes);
  out.src.reserve(expected_edges);
  out.dst.reserve(expected_edges);
  while (lines.next(line)) {
    detail::graph_split(line.text, true, fields);
    if (fields.empty()) continue;
    ++edge_lines;
    if (fields.size() != 2)
      detail::graph_fail(function, edges.name, line,
                         frugal::detail::concat("expected 2 fields (source, target), found ", fields.size(),
                                                fields.size() > 2 ? " (edge weights are not read)" : ""));
    index_t ends[2];
    for (std::size_t side = 0; side < 2; ++side)
      ends[side] = feature_file ? nodes.find(fields[side]) : nodes.insert(fields[side]).first;
    if (ends[0] < 0 || ends[1] < 0) {
      if (options.skip_unknown_ids) {
        ++out.skipped_edges;
        continue;
      }
      const std::string_view unknown = ends[0] < 0 ? fields[0] : fields[1];
      detail::graph_fail(
          function, edges.name, line,
          frugal::detail::concat("node ", detail::graph_quote(unknown), " is not in '", feature_file->name,
                                 "'; set edge_list_options::skip_unknown_ids to skip such lines "
                                 "(graph_data::skipped_edges counts them)"));
    }
    out.src.push_back(ends[0]);
    out.dst.push_back(ends[1]);
  }
  if (edge_lines == 0)
    detail::graph_fail(function, edges.name, lines.end_of_file(), "no edge before the end of the file");

  out.num_nodes = nodes.size();
  const auto n = static_cast<std::size_t>(out.num_nodes);
  if (feature_file)
    out.features = Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
        values.data(), out.num_nodes, static_cast<Eigen::Index>(width));
  else
    out.features.resize(out.num_nodes, 0);
  labels.resize(n, -1);
  out.labels = std::move(labels);
  out.node_names = nodes.names();
  return out;
}

}  // namespace frugal::io
