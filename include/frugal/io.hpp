#pragma once
/// \file
/// frugal/io: dataset readers.

#include "io/idx.hpp"
#include "io/mnist.hpp"
