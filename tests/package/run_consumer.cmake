# Installs frugal from FRUGAL_BINARY_DIR into a scratch prefix, then configures, builds and runs
# the consumer project next to this file against that prefix, as a user would.
set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(COMMAND ${CMAKE_COMMAND} --install "${FRUGAL_BINARY_DIR}" --prefix "${prefix}" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "install failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S "${CMAKE_CURRENT_LIST_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
                        -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release "-DKokkos_DIR=${KOKKOS_DIR}"
                        "-DCMAKE_PREFIX_PATH=${prefix}" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer failed: ${rc}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build "${WORK_DIR}/build" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the consumer failed: ${rc}")
endif()
execute_process(COMMAND "${WORK_DIR}/build/frugal_consumer" RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "the consumer failed: ${rc}")
endif()

# The installed package configures without METIS too (FRUGAL_USE_METIS=OFF takes the path of a
# machine where METIS is absent: no frugal::metis, no FRUGAL_HAVE_METIS).
execute_process(COMMAND ${CMAKE_COMMAND} -S "${CMAKE_CURRENT_LIST_DIR}" -B "${WORK_DIR}/build-no-metis" -G "${GENERATOR}"
                        -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release "-DKokkos_DIR=${KOKKOS_DIR}"
                        "-DCMAKE_PREFIX_PATH=${prefix}" -DFRUGAL_USE_METIS=OFF RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "configuring the consumer without METIS failed: ${rc}")
endif()
