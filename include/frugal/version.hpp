#pragma once
/// \file
/// The one place frugal's version is written; CMake parses it from here.

#define FRUGAL_VERSION_MAJOR 0
#define FRUGAL_VERSION_MINOR 1
#define FRUGAL_VERSION_PATCH 0

/// Version as one integer, major * 10000 + minor * 100 + patch.
#define FRUGAL_VERSION (FRUGAL_VERSION_MAJOR * 10000 + FRUGAL_VERSION_MINOR * 100 + FRUGAL_VERSION_PATCH)
