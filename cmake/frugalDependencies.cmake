# Finds frugal's dependencies. Used by frugal's own build and by the installed frugalConfig.cmake,
# so a consumer gets exactly the same targets.
include(CMakeFindDependencyMacro)

find_dependency(Eigen3 3.4 NO_MODULE)
# Debian's xsimd 8 target links the xtl target without finding it; find xtl first if present.
find_package(xtl QUIET)
find_dependency(xsimd 8)
find_dependency(ZLIB)
find_dependency(Kokkos 3.4)
# JSON for device calibrations (frugal/quantum); header-only.
find_dependency(nlohmann_json 3)
# FFTW (single and double precision) for the block-circulant operators' real FFTs. Debian's
# FFTW3 CMake files are incomplete, so use its pkg-config files.
find_dependency(PkgConfig)
if(NOT TARGET PkgConfig::frugal_fftw3)
  pkg_check_modules(frugal_fftw3 REQUIRED IMPORTED_TARGET GLOBAL fftw3f fftw3)
endif()

# Debian 12's Trilinos-built KokkosConfig.cmake computes its import prefix one level too high and
# points Kokkos::kokkos at a non-existent include directory. Repair the target from the variables
# the same file sets correctly, rather than detecting Kokkos again.
if(TARGET Kokkos::kokkos)
  get_target_property(_frugal_kokkos_inc Kokkos::kokkos INTERFACE_INCLUDE_DIRECTORIES)
  set(_frugal_kokkos_broken FALSE)
  foreach(_dir IN LISTS _frugal_kokkos_inc)
    if(NOT EXISTS "${_dir}")
      set(_frugal_kokkos_broken TRUE)
    endif()
  endforeach()
  if(_frugal_kokkos_broken AND DEFINED Kokkos_INCLUDE_DIRS)
    set_property(TARGET Kokkos::kokkos PROPERTY INTERFACE_INCLUDE_DIRECTORIES "${Kokkos_INCLUDE_DIRS}")
    if(DEFINED Kokkos_LIBRARY_DIRS)
      set_property(TARGET Kokkos::kokkos PROPERTY INTERFACE_LINK_DIRECTORIES "${Kokkos_LIBRARY_DIRS}")
    endif()
  endif()
  unset(_frugal_kokkos_inc)
  unset(_frugal_kokkos_broken)
endif()

# METIS 5 (optional), for graph::partition_metis. Looked for quietly: where it is absent nothing
# fails, frugal::metis is not defined and graph::partition_metis throws, naming the fallback
# (graph::partition_contiguous). -DFRUGAL_USE_METIS=OFF leaves it out even where it is installed.
# METIS 5.1 ships no CMake package of its own, hence find_path / find_library.
if((NOT DEFINED FRUGAL_USE_METIS OR FRUGAL_USE_METIS) AND NOT TARGET frugal::metis)
  find_path(FRUGAL_METIS_INCLUDE_DIR metis.h)
  find_library(FRUGAL_METIS_LIBRARY metis)
  mark_as_advanced(FRUGAL_METIS_INCLUDE_DIR FRUGAL_METIS_LIBRARY)
  if(FRUGAL_METIS_INCLUDE_DIR AND FRUGAL_METIS_LIBRARY)
    add_library(frugal::metis UNKNOWN IMPORTED)
    set_target_properties(frugal::metis PROPERTIES
      IMPORTED_LOCATION "${FRUGAL_METIS_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${FRUGAL_METIS_INCLUDE_DIR}"
      INTERFACE_COMPILE_DEFINITIONS FRUGAL_HAVE_METIS)
  endif()
endif()

# An optional header-only dependency: where FRUGAL_USE_<NAME> is not OFF and `header` is found,
# the imported target frugal::<name> carries its include directory and defines FRUGAL_HAVE_<NAME>;
# elsewhere the target does not exist (looked for quietly).
function(frugal_optional_headers name header)
  string(TOUPPER "${name}" upper)
  if((DEFINED FRUGAL_USE_${upper} AND NOT FRUGAL_USE_${upper}) OR TARGET frugal::${name})
    return()
  endif()
  find_path(FRUGAL_${upper}_INCLUDE_DIR ${header})
  mark_as_advanced(FRUGAL_${upper}_INCLUDE_DIR)
  if(FRUGAL_${upper}_INCLUDE_DIR)
    add_library(frugal::${name} INTERFACE IMPORTED)
    set_target_properties(frugal::${name} PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${FRUGAL_${upper}_INCLUDE_DIR}"
      INTERFACE_COMPILE_DEFINITIONS FRUGAL_HAVE_${upper})
  endif()
endfunction()

# LBFGS++ (optional, header-only on Eigen), for frugal/search's Gaussian-process hyperparameters.
# Where it is absent frugal::lbfgspp is not defined and only the search module is unavailable (its
# headers name the package in an #error). -DFRUGAL_USE_LBFGSPP=OFF leaves it out.
frugal_optional_headers(lbfgspp LBFGSB.h)

# NLopt (optional), for frugal/quantum's pulse optimisers (COBYLA, Nelder-Mead, BOBYQA, L-BFGS).
# Looked for quietly: where it is absent frugal::nlopt is not defined, the pulse level keeps its
# own SPSA and Adam, and asking for an NLopt method throws naming libnlopt-dev. Its C API (nlopt.h)
# is used, so any NLopt 2.x serves. -DFRUGAL_USE_NLOPT=OFF leaves it out.
if((NOT DEFINED FRUGAL_USE_NLOPT OR FRUGAL_USE_NLOPT) AND NOT TARGET frugal::nlopt)
  find_path(FRUGAL_NLOPT_INCLUDE_DIR nlopt.h)
  find_library(FRUGAL_NLOPT_LIBRARY nlopt)
  mark_as_advanced(FRUGAL_NLOPT_INCLUDE_DIR FRUGAL_NLOPT_LIBRARY)
  if(FRUGAL_NLOPT_INCLUDE_DIR AND FRUGAL_NLOPT_LIBRARY)
    add_library(frugal::nlopt UNKNOWN IMPORTED)
    set_target_properties(frugal::nlopt PROPERTIES
      IMPORTED_LOCATION "${FRUGAL_NLOPT_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${FRUGAL_NLOPT_INCLUDE_DIR}"
      INTERFACE_COMPILE_DEFINITIONS FRUGAL_HAVE_NLOPT)
  endif()
endif()

# Boost's headers (optional), for Boost.Odeint in frugal/quantum/pulse/adaptive.hpp (the adaptive
# integrator). Where Boost is absent frugal::odeint is not defined and that header alone is
# unavailable. -DFRUGAL_USE_ODEINT=OFF leaves it out.
frugal_optional_headers(odeint boost/numeric/odeint.hpp)
