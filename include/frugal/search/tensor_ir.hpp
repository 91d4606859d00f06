#pragma once
/// \file
/// A small tensor-expression IR and HASCO's two-step intrinsic matching.
///
/// A computation is a perfect loop nest `out[...] += in_0[...] * in_1[...] * ...` over named loop
/// indices; every tensor dimension is an affine sum of loop indices (`h*stride + r`). An intrinsic
/// (what one accelerator instruction computes: GEMM, GEMV, DOT, CONV) is written the same way.
/// Matching an intrinsic onto a computation (HASCO, Xiao et al., ISCA 2021, section 4) picks which
/// computation loop each intrinsic loop executes; the other computation loops stay software loops
/// around the intrinsic call.
///
/// - Step 1, index matching: an injective map from intrinsic indices to computation indices that
///   keeps each index's role (spatial: it appears in the output; reduction: it does not) and under
///   which every intrinsic access's index set is the mapped index set of some computation access.
/// - Step 2, structure matching: with the software loops fixed, each intrinsic tensor must be a
///   computation tensor. The computation access restricted to mapped indices (terms of software
///   indices dropped, dimensions left empty dropped) must equal the renamed intrinsic access, as a
///   multiset of dimensions (the data mover may transpose) whose affine forms agree up to a nonzero
///   factor (a strided load is still a load; `h*2 + r` is not `p + r`). Intrinsic inputs go to
///   distinct computation inputs; a computation input left over must touch no mapped index: it is
///   a constant during one call, which software folds into a copy of one operand tile.
///
/// Equal forms up to a factor give equal reuse: two iterations of a call touch the same element
/// of the intrinsic tensor exactly when they touch the same element of the computation tensor.
/// That is why a GEMM cannot run the sliding window `w + s` of a convolution as two of its indices.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <numeric>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../core/error.hpp"

namespace frugal::search {

/// One term `coefficient * index` of an affine index expression.
struct index_term {
  std::string index;
  std::int64_t coefficient = 1;
};

/// An affine sum of loop indices, such as `h*2 + r`. Constant offsets (padding) are left out:
/// they shift which elements a call touches, never which iterations share an element.
struct index_expr {
  std::vector<index_term> terms;
};

/// The expression `coefficient * index`.
inline index_expr idx(std::string index, std::int64_t coefficient = 1) {
  return index_expr{{index_term{std::move(index), coefficient}}};
}

/// The sum of two expressions; terms of one index are merged.
inline index_expr operator+(index_expr a, const index_expr& b) {
  for (const auto& t : b.terms) {
    auto it = std::find_if(a.terms.begin(), a.terms.end(), [&](const index_term& u) { return u.index == t.index; });
    if (it == a.terms.end())
      a.terms.push_back(t);
    else
      it->coefficient += t.coefficient;
  }
  return a;
}

/// A tensor read or written at one affine expression per dimension (none for a scalar).
struct tensor_access {
  std::string tensor;
  std::vector<index_expr> dims;
};

/// A loop of the nest: its index name and how many iterations it runs.
struct loop {
  std::string index;
  std::int64_t extent = 1;
};

enum class index_role { spatial, reduction };

/// `output[...] += product of inputs[...]` over the loops (outermost first).
struct tensor_computation {
  std::string name;
  std::vector<loop> loops;
  tensor_access output;
  std::vector<tensor_access> inputs;

  /// Throws `invalid_argument` unless the loops have distinct names and positive extents, every
  /// access names only loop indices with nonzero coefficients (each at most once per
  /// dimension), every loop index is used by some access, and there is at least one input.
  void validate() const {
    const auto where = "frugal::search::tensor_computation::validate: '" + name + "'";
    check(!loops.empty(), where, " has no loops");
    check(!inputs.empty(), where, " has no inputs");
    std::set<std::string> names;
    for (const auto& l : loops) {
      check(!l.index.empty(), where, ": a loop has an empty index name");
      check(l.extent >= 1, where, ": loop '", l.index, "' has extent ", l.extent);
      check(names.insert(l.index).second, where, ": loop index '", l.index, "' appears twice");
    }
    std::set<std::string> used;
    auto check_access = [&](const tensor_access& a) {
      check(!a.tensor.empty(), where, ": an access has an empty tensor name");
      for (const auto& d : a.dims) {
        check(!d.terms.empty(), where, ": tensor '", a.tensor, "' has an empty index expression");
        std::set<std::string> in_dim;
        for (const auto& t : d.terms) {
          check(names.count(t.index) == 1, where, ": tensor '", a.tensor, "' uses '", t.index,
                "', which is not a loop index");
          check(t.coefficient != 0, where, ": tensor '", a.tensor, "' has a zero coefficient on '", t.index, "'");
          check(in_dim.insert(t.index).second, where, ": tensor '", a.tensor, "' repeats '", t.index,
                "' in one dimension");
          used.insert(t.index);
        }
      }
    };
    check_access(output);
    for (const auto& in : inputs) check_access(in);
    for (const auto& l : loops) check(used.count(l.index) == 1, where, ": loop index '", l.index, "' is never used");
  }

  /// Whether `index` is one of the loops.
  [[nodiscard]] bool has_index(const std::string& index) const {
    return std::any_of(loops.begin(), loops.end(), [&](const loop& l) { return l.index == index; });
  }

  /// Spatial when `index` appears in the output, reduction otherwise.
  [[nodiscard]] index_role role(const std::string& index) const {
    check(has_index(index), "frugal::search::tensor_computation::role: '", index, "' is not a loop of '", name, "'");
    for (const auto& d : output.dims)
      for (const auto& t : d.terms)
        if (t.index == index) return index_role::spatial;
    return index_role::reduction;
  }

  /// The extent of loop `index`.
  [[nodiscard]] std::int64_t extent(const std::string& index) const {
    for (const auto& l : loops)
      if (l.index == index) return l.extent;
    throw invalid_argument("frugal::search::tensor_computation::extent: '" + index + "' is not a loop of '" + name +
                           "'");
  }

  /// Iterations of the whole nest: multiply-accumulates for a two-input computation.
  [[nodiscard]] std::int64_t iterations() const {
    std::int64_t n = 1;
    for (const auto& l : loops) n *= l.extent;
    return n;
  }
};

// ---------------------------------------------------------------------------------------------
// Computations

/// `C[m,n] += A[m,k] * B[k,n]`.
inline tensor_computation gemm(std::int64_t M, std::int64_t N, std::int64_t K) {
  tensor_computation c{"gemm",
                       {{"m", M}, {"n", N}, {"k", K}},
                       {"C", {idx("m"), idx("n")}},
                       {{"A", {idx("m"), idx("k")}}, {"B", {idx("k"), idx("n")}}}};
  c.validate();
  return c;
}

/// `y[m] += A[m,k] * x[k]`.
inline tensor_computation gemv(std::int64_t M, std::int64_t K) {
  tensor_computation c{
      "gemv", {{"m", M}, {"k", K}}, {"y", {idx("m")}}, {{"A", {idx("m"), idx("k")}}, {"x", {idx("k")}}}};
  c.validate();
  return c;
}

/// `out[n,k,h,w] += in[n,c,h*stride+r,w*stride+s] * weight[k,c,r,s]`. `H` and `W` are the output's
/// height and width (the loop extents); the input is `(H-1)*stride + R` by `(W-1)*stride + S`.
inline tensor_computation conv2d(std::int64_t N, std::int64_t K, std::int64_t C, std::int64_t H, std::int64_t W,
                                 std::int64_t R, std::int64_t S, std::int64_t stride) {
  check(stride >= 1, "frugal::search::conv2d: stride ", stride, " must be at least 1");
  tensor_computation c{"conv2d",
                       {{"n", N}, {"k", K}, {"c", C}, {"h", H}, {"w", W}, {"r", R}, {"s", S}},
                       {"out", {idx("n"), idx("k"), idx("h"), idx("w")}},
                       {{"in", {idx("n"), idx("c"), idx("h", stride) + idx("r"), idx("w", stride) + idx("s")}},
                        {"weight", {idx("k"), idx("c"), idx("r"), idx("s")}}}};
  c.validate();
  return c;
}

/// `out[n,c,h,w] += in[n,c,h*stride+r,w*stride+s] * weight[c,r,s]`: one filter per channel, so
/// the channel is a spatial index and the only reductions are `r` and `s`. `H`, `W` as in conv2d.
inline tensor_computation depthwise_conv2d(std::int64_t N, std::int64_t C, std::int64_t H, std::int64_t W,
                                           std::int64_t R, std::int64_t S, std::int64_t stride) {
  check(stride >= 1, "frugal::search::depthwise_conv2d: stride ", stride, " must be at least 1");
  tensor_computation c{"depthwise_conv2d",
                       {{"n", N}, {"c", C}, {"h", H}, {"w", W}, {"r", R}, {"s", S}},
                       {"out", {idx("n"), idx("c"), idx("h"), idx("w")}},
                       {{"in", {idx("n"), idx("c"), idx("h", stride) + idx("r"), idx("w", stride) + idx("s")}},
                        {"weight", {idx("c"), idx("r"), idx("s")}}}};
  c.validate();
  return c;
}

/// Matricised tensor times Khatri-Rao product: `A[i,j] += B[i,k,l] * C[k,j] * D[l,j]`.
inline tensor_computation mttkrp(std::int64_t I, std::int64_t J, std::int64_t K, std::int64_t L) {
  tensor_computation c{
      "mttkrp",
      {{"i", I}, {"j", J}, {"k", K}, {"l", L}},
      {"A", {idx("i"), idx("j")}},
      {{"B", {idx("i"), idx("k"), idx("l")}}, {"C", {idx("k"), idx("j")}}, {"D", {idx("l"), idx("j")}}}};
  c.validate();
  return c;
}

/// Tensor times matrix in mode 3: `Y[i,j,l] += X[i,j,k] * U[l,k]`.
inline tensor_computation ttm(std::int64_t I, std::int64_t J, std::int64_t K, std::int64_t L) {
  tensor_computation c{"ttm",
                       {{"i", I}, {"j", J}, {"k", K}, {"l", L}},
                       {"Y", {idx("i"), idx("j"), idx("l")}},
                       {{"X", {idx("i"), idx("j"), idx("k")}}, {"U", {idx("l"), idx("k")}}}};
  c.validate();
  return c;
}

// ---------------------------------------------------------------------------------------------
// Intrinsics: the extents are the instruction's size; matching looks only at the structure.

/// `C[i,j] += A[i,k] * B[k,j]`.
inline tensor_computation gemm_intrinsic(std::int64_t I = 16, std::int64_t J = 16, std::int64_t K = 16) {
  tensor_computation c{"GEMM",
                       {{"i", I}, {"j", J}, {"k", K}},
                       {"C", {idx("i"), idx("j")}},
                       {{"A", {idx("i"), idx("k")}}, {"B", {idx("k"), idx("j")}}}};
  c.validate();
  return c;
}

/// `c[i] += A[i,k] * b[k]`.
inline tensor_computation gemv_intrinsic(std::int64_t I = 16, std::int64_t K = 16) {
  tensor_computation c{
      "GEMV", {{"i", I}, {"k", K}}, {"c", {idx("i")}}, {{"A", {idx("i"), idx("k")}}, {"b", {idx("k")}}}};
  c.validate();
  return c;
}

/// `c += a[k] * b[k]` (a scalar output).
inline tensor_computation dot_intrinsic(std::int64_t K = 16) {
  tensor_computation c{"DOT", {{"k", K}}, {"c", {}}, {{"a", {idx("k")}}, {"b", {idx("k")}}}};
  c.validate();
  return c;
}

/// A stride-1 2-D convolution: `O[k,p,q] += I[c,p+r,q+s] * W[k,c,r,s]`.
inline tensor_computation conv_intrinsic(std::int64_t K = 4, std::int64_t P = 4, std::int64_t Q = 4, std::int64_t C = 4,
                                         std::int64_t R = 3, std::int64_t S = 3) {
  tensor_computation c{
      "CONV",
      {{"k", K}, {"p", P}, {"q", Q}, {"c", C}, {"r", R}, {"s", S}},
      {"O", {idx("k"), idx("p"), idx("q")}},
      {{"I", {idx("c"), idx("p") + idx("r"), idx("q") + idx("s")}}, {"W", {idx("k"), idx("c"), idx("r"), idx("s")}}}};
  c.validate();
  return c;
}

// ---------------------------------------------------------------------------------------------
// Matching

/// One way to run a computation with an intrinsic.
struct intrinsic_match {
  /// (intrinsic index, computation index) for every intrinsic loop, in the intrinsic's loop order.
  std::vector<std::pair<std::string, std::string>> index_map;
  /// Intrinsic input `j` reads computation input `operand_map[j]`.
  std::vector<std::size_t> operand_map;
  /// Computation inputs the intrinsic does not read: constant during one call (software scales
  /// a copy of one operand tile by them).
  std::vector<std::size_t> scalar_operands;
  /// Computation indices left as software loops around the call, in the computation's order.
  std::vector<std::string> software_loops;

  /// The computation index that intrinsic index `intrinsic_index` runs.
  [[nodiscard]] const std::string& mapped(const std::string& intrinsic_index) const {
    for (const auto& [from, to] : index_map)
      if (from == intrinsic_index) return to;
    throw invalid_argument("frugal::search::intrinsic_match::mapped: no intrinsic index '" + intrinsic_index + "'");
  }
};

namespace detail {

/// An affine form as (index, coefficient) sorted by index, divided by the gcd of its
/// coefficients and signed so that the first is positive: equal forms up to a nonzero factor
/// have equal normal forms.
using affine_form = std::vector<std::pair<std::string, std::int64_t>>;

inline affine_form normal_form(affine_form f) {
  std::sort(f.begin(), f.end());
  std::int64_t g = 0;
  for (const auto& [_, c] : f) g = std::gcd(g, std::llabs(c));
  if (g == 0) return f;
  const std::int64_t sign = f.front().second < 0 ? -1 : 1;
  for (auto& [_, c] : f) c = c / g * sign;
  return f;
}

/// The access's dimensions restricted to mapped computation indices, normalised and sorted (a
/// multiset of forms).
inline std::vector<affine_form> restricted(const tensor_access& a, const std::set<std::string>& mapped) {
  std::vector<affine_form> dims;
  for (const auto& d : a.dims) {
    affine_form f;
    for (const auto& t : d.terms)
      if (mapped.count(t.index)) f.emplace_back(t.index, t.coefficient);
    if (!f.empty()) dims.push_back(normal_form(std::move(f)));
  }
  std::sort(dims.begin(), dims.end());
  return dims;
}

/// The intrinsic access renamed into computation indices, normalised and sorted.
inline std::vector<affine_form> renamed(const tensor_access& a, const tensor_computation& intrinsic,
                                        const std::vector<std::string>& to) {
  std::vector<affine_form> dims;
  for (const auto& d : a.dims) {
    affine_form f;
    for (const auto& t : d.terms) {
      const auto at = std::find_if(intrinsic.loops.begin(), intrinsic.loops.end(),
                                   [&](const loop& l) { return l.index == t.index; }) -
                      intrinsic.loops.begin();
      f.emplace_back(to[static_cast<std::size_t>(at)], t.coefficient);
    }
    if (!f.empty()) dims.push_back(normal_form(std::move(f)));
  }
  std::sort(dims.begin(), dims.end());
  return dims;
}

inline std::set<std::string> index_set(const std::vector<affine_form>& dims) {
  std::set<std::string> s;
  for (const auto& f : dims)
    for (const auto& [i, _] : f) s.insert(i);
  return s;
}

/// Assigns intrinsic inputs `j...` to distinct computation inputs of equal structure
/// (backtracking); the inputs left over must touch no mapped index.
inline bool assign_operands(const std::vector<std::vector<affine_form>>& intrinsic_inputs,
                            const std::vector<std::vector<affine_form>>& computation_inputs, std::size_t j,
                            std::vector<std::size_t>& assignment, std::vector<bool>& taken) {
  if (j == intrinsic_inputs.size()) {
    for (std::size_t c = 0; c < computation_inputs.size(); ++c)
      if (!taken[c] && !computation_inputs[c].empty()) return false;
    return true;
  }
  for (std::size_t c = 0; c < computation_inputs.size(); ++c) {
    if (taken[c] || computation_inputs[c] != intrinsic_inputs[j]) continue;
    taken[c] = true;
    assignment[j] = c;
    if (assign_operands(intrinsic_inputs, computation_inputs, j + 1, assignment, taken)) return true;
    taken[c] = false;
  }
  return false;
}

inline void enumerate_maps(const tensor_computation& intrinsic, const tensor_computation& computation, std::size_t at,
                           std::vector<std::string>& to, std::set<std::string>& used,
                           std::vector<std::vector<std::string>>& out) {
  if (at == intrinsic.loops.size()) {
    out.push_back(to);
    return;
  }
  const auto role = intrinsic.role(intrinsic.loops[at].index);
  for (const auto& l : computation.loops) {
    if (used.count(l.index) || computation.role(l.index) != role) continue;
    used.insert(l.index);
    to[at] = l.index;
    enumerate_maps(intrinsic, computation, at + 1, to, used, out);
    used.erase(l.index);
  }
}

}  // namespace detail

/// Step 1 of matching: every injective, role-keeping map from intrinsic indices to computation
/// indices under which each intrinsic access's index set is the mapped index set of some
/// computation access (output to output). Each map lists the computation index of each intrinsic
/// loop, in the intrinsic's loop order.
/// \throws invalid_argument when either computation is malformed.
inline std::vector<std::vector<std::string>> index_matches(const tensor_computation& intrinsic,
                                                           const tensor_computation& computation) {
  intrinsic.validate();
  computation.validate();
  std::vector<std::vector<std::string>> maps, kept;
  std::vector<std::string> to(intrinsic.loops.size());
  std::set<std::string> used;
  detail::enumerate_maps(intrinsic, computation, 0, to, used, maps);
  for (const auto& map : maps) {
    const std::set<std::string> mapped(map.begin(), map.end());
    auto sets_agree = [&](const tensor_access& i, const tensor_access& c) {
      return detail::index_set(detail::renamed(i, intrinsic, map)) == detail::index_set(detail::restricted(c, mapped));
    };
    bool ok = sets_agree(intrinsic.output, computation.output);
    for (const auto& in : intrinsic.inputs) {
      if (!ok) break;
      ok = std::any_of(computation.inputs.begin(), computation.inputs.end(),
                       [&](const tensor_access& c) { return sets_agree(in, c); });
    }
    if (ok) kept.push_back(map);
  }
  return kept;
}

/// Step 2 of matching for one map from step 1: the match when the accesses agree in structure
/// (see the file comment), otherwise false in `matched`.
inline intrinsic_match structure_match(const tensor_computation& intrinsic, const tensor_computation& computation,
                                       const std::vector<std::string>& map, bool& matched) {
  check_extent("frugal::search::structure_match", "index map size", map.size(), intrinsic.loops.size());
  const std::set<std::string> mapped(map.begin(), map.end());
  matched = false;
  intrinsic_match m;
  if (detail::renamed(intrinsic.output, intrinsic, map) != detail::restricted(computation.output, mapped)) return m;
  std::vector<std::vector<detail::affine_form>> ii, ci;
  for (const auto& in : intrinsic.inputs) ii.push_back(detail::renamed(in, intrinsic, map));
  for (const auto& in : computation.inputs) ci.push_back(detail::restricted(in, mapped));
  std::vector<std::size_t> assignment(ii.size());
  std::vector<bool> taken(ci.size(), false);
  if (!detail::assign_operands(ii, ci, 0, assignment, taken)) return m;
  matched = true;
  for (std::size_t i = 0; i < map.size(); ++i) m.index_map.emplace_back(intrinsic.loops[i].index, map[i]);
  m.operand_map = assignment;
  for (std::size_t c = 0; c < ci.size(); ++c)
    if (!taken[c]) m.scalar_operands.push_back(c);
  for (const auto& l : computation.loops)
    if (!mapped.count(l.index)) m.software_loops.push_back(l.index);
  return m;
}

/// Every valid way to run `computation` with `intrinsic`: step 1 (index matching) then step 2
/// (structure matching), one match per index map. Cost: the role-keeping injective maps, at
/// most P(n, m) for n computation and m intrinsic indices.
/// \throws invalid_argument when either computation is malformed.
inline std::vector<intrinsic_match> match_intrinsic(const tensor_computation& intrinsic,
                                                    const tensor_computation& computation) {
  std::vector<intrinsic_match> matches;
  for (const auto& map : index_matches(intrinsic, computation)) {
    bool ok = false;
    auto m = structure_match(intrinsic, computation, map, ok);
    if (ok) matches.push_back(std::move(m));
  }
  return matches;
}

}  // namespace frugal::search
