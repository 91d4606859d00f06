// HASCO's two-step intrinsic matching against match sets derived by hand. Each count below is
// worked out in the comment above its check from the rule in tensor_ir.hpp: roles kept
// (spatial = in the output), each intrinsic tensor's mapped index set and dimension structure
// equal to one computation tensor's, leftover computation inputs touching no mapped index.
#include <doctest/doctest.h>

#include <frugal/search/tensor_ir.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace frugal;
using namespace frugal::search;

namespace {

/// The matches as "i>m,j>n,k>k" strings, for set comparisons.
std::set<std::string> signatures(const std::vector<intrinsic_match>& matches) {
  std::set<std::string> out;
  for (const auto& m : matches) {
    std::string s;
    for (const auto& [from, to] : m.index_map) s += (s.empty() ? "" : ",") + from + ">" + to;
    out.insert(s);
  }
  return out;
}

const intrinsic_match& find(const std::vector<intrinsic_match>& matches, const std::string& signature) {
  for (const auto& m : matches)
    if (*signatures({m}).begin() == signature) return m;
  FAIL("no match " << signature);
  return matches.front();
}

}  // namespace

TEST_CASE("tensor_ir: computations validate and report roles, extents and iterations") {
  const auto c = conv2d(2, 8, 3, 5, 5, 3, 3, 2);
  CHECK(c.iterations() == 2 * 8 * 3 * 5 * 5 * 3 * 3);
  CHECK(c.role("k") == index_role::spatial);
  CHECK(c.role("h") == index_role::spatial);
  CHECK(c.role("c") == index_role::reduction);
  CHECK(c.role("r") == index_role::reduction);
  CHECK(c.extent("w") == 5);
  CHECK_THROWS_AS((void)c.role("x"), invalid_argument);
  CHECK_THROWS_AS((void)gemm(0, 2, 2), invalid_argument);
  CHECK_THROWS_AS((void)conv2d(1, 1, 1, 1, 1, 1, 1, 0), invalid_argument);

  tensor_computation bad{"bad", {{"i", 2}}, {"y", {idx("i")}}, {{"x", {idx("j")}}}};
  CHECK_THROWS_AS(bad.validate(), invalid_argument);  // j is not a loop
  bad = {"bad", {{"i", 2}, {"j", 2}}, {"y", {idx("i")}}, {{"x", {idx("i")}}}};
  CHECK_THROWS_AS(bad.validate(), invalid_argument);  // j is never used
  bad = {"bad", {{"i", 2}}, {"y", {idx("i")}}, {{"x", {idx("i", 0)}}}};
  CHECK_THROWS_AS(bad.validate(), invalid_argument);  // zero coefficient
  // idx() sums merge one index's terms, so h + h is 2h, not a repeated index.
  CHECK((idx("h") + idx("h")).terms.size() == 1);
  CHECK((idx("h") + idx("h")).terms[0].coefficient == 2);
}

TEST_CASE("tensor_ir: GEMM on a GEMM matches directly and transposed, with no software loops") {
  // i,j onto the two spatial indices m,n in either order, k onto k. The transposed map
  // (i>n, j>m) computes C^T = B^T A^T: A[i,k] becomes B[k,n], B[k,j] becomes A[m,k].
  const auto matches = match_intrinsic(gemm_intrinsic(), gemm(64, 32, 16));
  CHECK(signatures(matches) == std::set<std::string>{"i>m,j>n,k>k", "i>n,j>m,k>k"});
  for (const auto& m : matches) {
    CHECK(m.software_loops.empty());
    CHECK(m.scalar_operands.empty());
  }
  CHECK(find(matches, "i>m,j>n,k>k").operand_map == std::vector<std::size_t>{0, 1});
  CHECK(find(matches, "i>n,j>m,k>k").operand_map == std::vector<std::size_t>{1, 0});
}

TEST_CASE("tensor_ir: GEMM on conv2d, 14 matches; step 2 rejects the two sliding windows") {
  // With i>k (weight[k,c,r,s] is A, so j must avoid k and the reduction is one of c,r,s):
  //   k'>c: j in {n,h,w} -> 3 matches;  k'>r: j in {n,w} (j>h would put h*st+r in one dimension);
  //   k'>s: j in {n,h}. That is 7; the mirror j>k (weight is B) gives 7 more: 14.
  // Step 1 keeps the 18 maps whose index sets agree, among them (i>k, j>h, k'>r) and
  // (i>k, j>w, k'>s), whose input dimension h+r (w+s) is a sliding window, not two GEMM indices.
  for (const std::int64_t stride : {1, 2}) {
    const auto conv = conv2d(1, 16, 8, 7, 7, 3, 3, stride);
    const auto step1 = index_matches(gemm_intrinsic(), conv);
    CHECK(step1.size() == 18);
    const auto matches = match_intrinsic(gemm_intrinsic(), conv);
    CHECK(matches.size() == 14);
    const auto sig = signatures(matches);
    CHECK(sig.count("i>k,j>w,k>c") == 1);
    CHECK(sig.count("i>k,j>h,k>c") == 1);
    CHECK(sig.count("i>k,j>n,k>s") == 1);
    CHECK(sig.count("i>w,j>k,k>r") == 1);
    CHECK(sig.count("i>k,j>h,k>r") == 0);
    CHECK(sig.count("i>k,j>w,k>s") == 0);
    CHECK(sig.count("i>c,j>k,k>r") == 0);  // c is a reduction, i is spatial
    // K <-> i, an output pixel index <-> j, C <-> k; the rest are software loops.
    const auto& m = find(matches, "i>k,j>w,k>c");
    CHECK(m.software_loops == std::vector<std::string>{"n", "h", "r", "s"});
    CHECK(m.operand_map == std::vector<std::size_t>{1, 0});  // A is the weight, B the input
  }
}

TEST_CASE("tensor_ir: CONV matches a stride-1 conv2d twice and a strided one never") {
  // The weight's only spatial index is k, so CONV's k>k; CONV's input I[c,p+r,q+s] needs both
  // sliding windows h+r and w+s, so {p,q} = {h,w} and n is the software loop. p>h pairs r>r,
  // s>s; p>w pairs r>s, s>r (the image transposed). With stride 2, h*2+r is not p+r up to a
  // factor, so a stride-1 CONV unit cannot run it.
  const auto matches = match_intrinsic(conv_intrinsic(), conv2d(1, 16, 8, 7, 7, 3, 3, 1));
  CHECK(signatures(matches) == std::set<std::string>{"k>k,p>h,q>w,c>c,r>r,s>s", "k>k,p>w,q>h,c>c,r>s,s>r"});
  for (const auto& m : matches) CHECK(m.software_loops == std::vector<std::string>{"n"});
  CHECK(match_intrinsic(conv_intrinsic(), conv2d(1, 16, 8, 7, 7, 3, 3, 2)).empty());
  // A CONV unit built for stride 2 runs the strided layer instead.
  auto conv_stride2 = conv_intrinsic();
  conv_stride2.inputs[0].dims = {idx("c"), idx("p", 2) + idx("r"), idx("q", 2) + idx("s")};
  CHECK(match_intrinsic(conv_stride2, conv2d(1, 16, 8, 7, 7, 3, 3, 2)).size() == 2);
  // CONV needs three reductions: none on a GEMM, depthwise conv (two) or TTM (one).
  CHECK(match_intrinsic(conv_intrinsic(), gemm(8, 8, 8)).empty());
  CHECK(match_intrinsic(conv_intrinsic(), depthwise_conv2d(1, 8, 7, 7, 3, 3, 1)).empty());
  CHECK(match_intrinsic(conv_intrinsic(), ttm(4, 4, 4, 4)).empty());
}

TEST_CASE("tensor_ir: GEMV on gemv once; GEMM on gemv never (one spatial index)") {
  const auto matches = match_intrinsic(gemv_intrinsic(), gemv(32, 16));
  CHECK(signatures(matches) == std::set<std::string>{"i>m,k>k"});
  CHECK(matches[0].software_loops.empty());
  CHECK(match_intrinsic(gemm_intrinsic(), gemv(32, 16)).empty());
}

TEST_CASE("tensor_ir: DOT matches each reduction whose operands it can read") {
  // gemm: k (A and B both reduce to [k]); software loops m, n.
  const auto on_gemm = match_intrinsic(dot_intrinsic(), gemm(4, 4, 4));
  CHECK(signatures(on_gemm) == std::set<std::string>{"k>k"});
  CHECK(on_gemm[0].software_loops == std::vector<std::string>{"m", "n"});
  CHECK(match_intrinsic(dot_intrinsic(), gemv(4, 4)).size() == 1);
  // conv2d: c, r, s each reduce in[...] and weight[...] to one dimension.
  CHECK(signatures(match_intrinsic(dot_intrinsic(), conv2d(1, 4, 4, 4, 4, 3, 3, 1))) ==
        std::set<std::string>{"k>c", "k>r", "k>s"});
  CHECK(signatures(match_intrinsic(dot_intrinsic(), depthwise_conv2d(1, 4, 4, 4, 3, 3, 1))) ==
        std::set<std::string>{"k>r", "k>s"});
  // mttkrp: k (B, C; D[l,j] is constant during the call) and l (B, D; C constant).
  const auto on_mttkrp = match_intrinsic(dot_intrinsic(), mttkrp(4, 4, 4, 4));
  CHECK(signatures(on_mttkrp) == std::set<std::string>{"k>k", "k>l"});
  CHECK(find(on_mttkrp, "k>k").scalar_operands == std::vector<std::size_t>{2});
  CHECK(find(on_mttkrp, "k>l").scalar_operands == std::vector<std::size_t>{1});
  CHECK(match_intrinsic(dot_intrinsic(), ttm(4, 4, 4, 4)).size() == 1);
  // An elementwise product has no reduction: nothing for DOT to reduce.
  const tensor_computation hadamard{"hadamard", {{"i", 8}}, {"y", {idx("i")}}, {{"a", {idx("i")}}, {"b", {idx("i")}}}};
  CHECK(match_intrinsic(dot_intrinsic(), hadamard).empty());
}

TEST_CASE("tensor_ir: depthwise conv never matches GEMM; GEMV runs it four ways") {
  // The channel c is spatial (out[n,c,h,w]) and appears in all three tensors, so it cannot be
  // GEMM's reduction, and if it is mapped at all the input's mapped set {c, j, k'} has three
  // indices; if it is not, weight[c,r,s] reduces to one. No map survives even step 1.
  const auto dw = depthwise_conv2d(1, 32, 14, 14, 3, 3, 1);
  CHECK(index_matches(gemm_intrinsic(), dw).empty());
  CHECK(match_intrinsic(gemm_intrinsic(), dw).empty());
  // GEMV: A is the input (indices {i, k'} in separate dimensions), b the weight (so i is not c):
  // i in {n,h,w}, k' in {r,s}, minus the sliding windows (h,r) and (w,s).
  CHECK(signatures(match_intrinsic(gemv_intrinsic(), dw)) ==
        std::set<std::string>{"i>n,k>r", "i>n,k>s", "i>h,k>s", "i>w,k>r"});
}

TEST_CASE("tensor_ir: MTTKRP and TTM") {
  // MTTKRP A[i,j] += B[i,k,l] C[k,j] D[l,j]: j is in two inputs besides the output, so any map
  // that uses j leaves one of C, D un-assigned yet touching j: GEMM (needs both spatial
  // indices) never matches; GEMV matches with i>i and k' in {k,l}.
  const auto mt = mttkrp(8, 8, 8, 8);
  CHECK(match_intrinsic(gemm_intrinsic(), mt).empty());
  const auto gemv_mt = match_intrinsic(gemv_intrinsic(), mt);
  CHECK(signatures(gemv_mt) == std::set<std::string>{"i>i,k>k", "i>i,k>l"});
  CHECK(find(gemv_mt, "i>i,k>k").operand_map == std::vector<std::size_t>{0, 1});
  CHECK(find(gemv_mt, "i>i,k>k").software_loops == std::vector<std::string>{"j", "l"});
  // TTM Y[i,j,l] += X[i,j,k] U[l,k]: GEMM's spatial pair must include l (U's only spatial index)
  // and one of i, j (X's other one left as a software loop), in either order: 4 matches.
  const auto t = ttm(8, 8, 8, 8);
  CHECK(signatures(match_intrinsic(gemm_intrinsic(), t)) ==
        std::set<std::string>{"i>i,j>l,k>k", "i>j,j>l,k>k", "i>l,j>i,k>k", "i>l,j>j,k>k"});
  // GEMV: i onto any of i, j, l.
  CHECK(match_intrinsic(gemv_intrinsic(), t).size() == 3);
}

TEST_CASE("tensor_ir: structure mismatches are rejected") {
  // A "GEMM" whose A is read transposed and diagonal, A[k,k]: no computation tensor reads one
  // index in two dimensions, so nothing matches.
  auto diag = gemm_intrinsic();
  diag.inputs[0].dims = {idx("i") + idx("k")};
  CHECK(match_intrinsic(diag, gemm(8, 8, 8)).empty());
  // Three inputs on the intrinsic side, two on the computation's.
  const tensor_computation triple{"triple",
                                  {{"i", 4}, {"k", 4}},
                                  {"y", {idx("i")}},
                                  {{"a", {idx("i"), idx("k")}}, {"b", {idx("k")}}, {"c", {idx("k")}}}};
  CHECK(match_intrinsic(triple, gemv(8, 8)).empty());
  CHECK_THROWS_AS((void)match_intrinsic(tensor_computation{}, gemm(2, 2, 2)), invalid_argument);
}
