#pragma once
/// \file
/// frugal/io: dataset readers.

#include "io/click_data.hpp"
#include "io/criteo.hpp"
#include "io/criteo_options.hpp"
#include "io/graph_files.hpp"
#include "io/idx.hpp"
#include "io/mnist.hpp"
