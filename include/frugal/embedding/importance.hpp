#pragma once
/// \file
/// Chunk-importance policies for `adaptive_table`. A policy turns what one training step saw of a
/// chunk — how many times its row was looked up (`accesses`) and the norm of the chunk's summed
/// gradient over those lookups (`grad_norm` = a·ḡ, a times the mean per-lookup gradient norm) —
/// into the increment of the chunk's score. The table keeps u ← u + increment every step and the
/// budget controller decays u ← γ·u every round, so u is FIITED's decayed access × gradient score.

#include <concepts>
#include <cstdint>
#include <string_view>

#include "concepts.hpp"

namespace frugal::embedding {

/// FIITED's score: access frequency times gradient magnitude (the default).
struct fiited_importance {
  static constexpr std::string_view name = "fiited";
  [[nodiscard]] float operator()(std::int32_t /*accesses*/, float grad_norm) const noexcept { return grad_norm; }
};

/// Access frequency only: a chunk matters as often as its row is looked up.
struct frequency_importance {
  static constexpr std::string_view name = "frequency";
  [[nodiscard]] float operator()(std::int32_t accesses, float /*grad_norm*/) const noexcept {
    return static_cast<float>(accesses);
  }
};

static_assert(ImportancePolicy<fiited_importance> && ImportancePolicy<frequency_importance>);

}  // namespace frugal::embedding
