#pragma once
/// \file
/// frugal/core: execution spaces, errors and checks, rng, progress hook, checkpoint files.

#include "core/checkpoint.hpp"
#include "core/checksum.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/execution.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "core/scalar.hpp"
#include "core/top_k.hpp"
#include "core/transpose.hpp"
