#pragma once
/// \file
/// Forwarding header: the Criteo reader moved to `frugal/io/criteo.hpp` (every dataset reader
/// lives in io). Its names stay reachable in `frugal::embedding`.

#include "../io/criteo.hpp"
#include "click_data.hpp"

namespace frugal::embedding {

using io::criteo_options;
using io::criteo_problem;
using io::criteo_reader;
using io::criteo_report;
using io::read_criteo;

namespace detail {
using io::detail::criteo_hash;
using io::detail::criteo_max_line_bytes;
using io::detail::criteo_modulus;
using io::detail::parse_criteo_line;
}  // namespace detail

}  // namespace frugal::embedding
