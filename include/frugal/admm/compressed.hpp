#pragma once
/// \file
/// A compact on-disk form of a pruned (and possibly quantized) model: kept positions as 8-bit
/// relative gaps, kept values as floats or as bit-packed codes into a level table. Reloads to
/// bit-identical parameter values and masks. Uses the core checkpoint container, so truncation
/// and corruption are detected.

#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "../core/checkpoint.hpp"
#include "../nn/parameter.hpp"
#include "quantization.hpp"

namespace frugal::admm {

namespace detail {

/// Throws a format_error about `file` unless `ok`.
template <class... Parts>
void require_format(const std::string& file, bool ok, const Parts&... parts) {
  if (!ok) throw format_error(frugal::detail::concat(parts...), file, 0);
}

/// Gaps between kept positions of a flat mask: a byte g in [1, 255] advances g positions to the
/// next kept entry; a zero byte advances 255 positions without an entry.
template <class S>
std::vector<std::uint8_t> encode_gaps(const matrix<S>& mask) {
  std::vector<std::uint8_t> gaps;
  index_t prev = -1;
  for (index_t i = 0; i < mask.size(); ++i) {
    if (mask.data()[i] == S(0)) continue;
    index_t d = i - prev;
    while (d > 255) {
      gaps.push_back(0);
      d -= 255;
    }
    gaps.push_back(static_cast<std::uint8_t>(d));
    prev = i;
  }
  return gaps;
}

inline std::vector<index_t> decode_gaps(std::span<const std::uint8_t> gaps, index_t size, const std::string& file,
                                        const std::string& where) {
  std::vector<index_t> pos;
  index_t at = -1;
  for (std::uint8_t g : gaps) {
    if (g == 0) {
      at += 255;
      continue;
    }
    at += g;
    require_format(file, at < size, where, ": kept position ", at, " beyond the matrix size ", size);
    pos.push_back(at);
  }
  return pos;
}

inline std::vector<std::uint8_t> pack_bits(std::span<const std::uint8_t> codes, int bits) {
  std::vector<std::uint8_t> out((codes.size() * static_cast<std::size_t>(bits) + 7) / 8, 0);
  std::size_t bit = 0;
  for (std::uint8_t c : codes)
    for (int b = 0; b < bits; ++b, ++bit)
      if (c >> b & 1U) out[bit / 8] |= static_cast<std::uint8_t>(1U << (bit % 8));
  return out;
}

inline std::vector<std::uint8_t> unpack_bits(std::span<const std::uint8_t> packed, int bits, std::size_t n) {
  std::vector<std::uint8_t> codes(n, 0);
  std::size_t bit = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (int b = 0; b < bits; ++b, ++bit)
      codes[i] |= static_cast<std::uint8_t>(((packed[bit / 8] >> (bit % 8)) & 1U) << b);
  return codes;
}

}  // namespace detail

/// Writes every parameter of `registry` compactly into `out` under `prefix`: parameters with a
/// mask as kept positions plus values; parameters in `quantized` as codes into their level table.
template <nn::Scalar S>
void save_compressed(checkpoint_writer& out, const nn::parameter_registry<S>& registry,
                     const std::map<std::string, quantized_matrix<S>, std::less<>>& quantized = {},
                     std::string_view prefix = "compressed") {
  for (const auto& [name, p] : registry) {
    const std::string key = std::string(prefix) + "/" + name;
    const std::int64_t shape[2] = {p->value.rows(), p->value.cols()};
    out.put<std::int64_t>(key + "#shape", shape);
    const matrix<S> mask = p->mask ? *p->mask : matrix<S>::Ones(p->value.rows(), p->value.cols());
    if (p->mask) out.put<std::uint8_t>(key + "#gaps", detail::encode_gaps(mask));
    std::vector<index_t> kept;
    for (index_t i = 0; i < mask.size(); ++i)
      if (mask.data()[i] != S(0)) kept.push_back(i);
    if (auto it = quantized.find(name); it != quantized.end()) {
      const auto& q = it->second;
      check(q.rows == p->value.rows() && q.cols == p->value.cols(), "frugal::admm::save_compressed: codes of '", name,
            "' do not match its shape");
      std::vector<std::uint8_t> codes;
      for (index_t i : kept) codes.push_back(q.codes[static_cast<std::size_t>(i)]);
      out.put<S>(key + "#levels", q.levels);
      out.put_value<std::int32_t>(key + "#bits", q.bits);
      out.put<std::uint8_t>(key + "#codes", detail::pack_bits(codes, q.bits));
    } else {
      std::vector<S> values;
      for (index_t i : kept) values.push_back(p->value.data()[i]);
      out.put<S>(key + "#values", values);
    }
  }
}

/// Restores values and masks written by `save_compressed` into `registry`: values bit-identical,
/// masks 1 exactly at the stored positions (parameters stored without a mask get none).
template <nn::Scalar S>
void load_compressed(const checkpoint_reader& in, const nn::parameter_registry<S>& registry,
                     std::string_view prefix = "compressed") {
  for (const auto& [name, p] : registry) {
    const std::string key = std::string(prefix) + "/" + name;
    const std::string where = "frugal::admm::load_compressed: '" + in.file() + "', parameter '" + name + "'";
    const auto shape = in.get<std::int64_t>(key + "#shape");
    detail::require_format(in.file(), shape.size() == 2 && shape[0] == p->value.rows() && shape[1] == p->value.cols(),
                           where, ": stored shape does not match the model's ", p->value.rows(), "x", p->value.cols());
    const index_t size = p->value.size();
    std::vector<index_t> kept;
    const bool masked = in.contains(key + "#gaps");
    if (masked) {
      kept = detail::decode_gaps(in.get<std::uint8_t>(key + "#gaps"), size, in.file(), where);
    } else {
      kept.resize(static_cast<std::size_t>(size));
      for (index_t i = 0; i < size; ++i) kept[static_cast<std::size_t>(i)] = i;
    }
    matrix<S> value = matrix<S>::Zero(p->value.rows(), p->value.cols());
    if (in.contains(key + "#codes")) {
      const auto levels = in.get<S>(key + "#levels");
      const int bits = in.get_value<std::int32_t>(key + "#bits");
      detail::require_format(in.file(), bits >= 1 && bits <= 8, where, ": code width ", bits, " outside [1, 8]");
      const auto packed = in.get<std::uint8_t>(key + "#codes");
      detail::require_format(in.file(), packed.size() * 8 >= kept.size() * static_cast<std::size_t>(bits), where,
                             ": code stream too short");
      const auto codes = detail::unpack_bits(packed, bits, kept.size());
      for (std::size_t k = 0; k < kept.size(); ++k) {
        detail::require_format(in.file(), codes[k] < levels.size(), where, ": code ", int{codes[k]},
                               " beyond the level table");
        value.data()[kept[k]] = levels[codes[k]];
      }
    } else {
      const auto values = in.get<S>(key + "#values");
      detail::require_format(in.file(), values.size() == kept.size(), where, ": ", values.size(), " values for ",
                             kept.size(), " kept positions");
      for (std::size_t k = 0; k < kept.size(); ++k) value.data()[kept[k]] = values[k];
    }
    p->value = std::move(value);
    if (masked) {
      matrix<S> mask = matrix<S>::Zero(p->value.rows(), p->value.cols());
      for (index_t i : kept) mask.data()[i] = S(1);
      p->mask = std::move(mask);
    } else {
      p->mask.reset();
    }
  }
}

}  // namespace frugal::admm
