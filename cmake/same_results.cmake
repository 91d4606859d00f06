# Runs an example twice, with OMP_NUM_THREADS=1 and =2, and fails unless the lines of its output
# that match FILTER (its seeded results: accuracies, AUCs, fidelities) are identical. frugal's
# kernels split work by the shape alone, so a seeded run must not depend on the thread count.
#   cmake -DCOMMAND="prog;arg;..." -DFILTER=<regex> -DWORK_DIR=<dir> [-DNEEDS=<file>] -P same_results.cmake
# With NEEDS, prints "frugal-skip" (the test's skip pattern) when that data file is absent.
if(NOT "${NEEDS}" STREQUAL "" AND NOT EXISTS "${NEEDS}")
  message(STATUS "frugal-skip: ${NEEDS} is not installed")
  return()
endif()
foreach(_threads 1 2)
  file(MAKE_DIRECTORY "${WORK_DIR}/threads${_threads}")
  execute_process(COMMAND ${CMAKE_COMMAND} -E env OMP_NUM_THREADS=${_threads} OMP_PROC_BIND=false ${COMMAND}
                  WORKING_DIRECTORY "${WORK_DIR}/threads${_threads}" OUTPUT_VARIABLE _out ERROR_VARIABLE _err
                  RESULT_VARIABLE _rc)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR "the run on ${_threads} thread(s) failed (${_rc}):\n${_out}\n${_err}")
  endif()
  string(REGEX MATCHALL "${FILTER}" _results_${_threads} "${_out}")
  list(SORT _results_${_threads})  # jobs run concurrently finish in any order; their results may not differ
  list(LENGTH _results_${_threads} _count)
  if(_count EQUAL 0)
    message(FATAL_ERROR "no output line matched '${FILTER}' on ${_threads} thread(s):\n${_out}")
  endif()
endforeach()
if(NOT _results_1 STREQUAL _results_2)
  string(REPLACE ";" "\n" _one "${_results_1}")
  string(REPLACE ";" "\n" _two "${_results_2}")
  message(FATAL_ERROR "seeded results differ between 1 and 2 threads:\n-- 1 thread:\n${_one}\n-- 2 threads:\n${_two}")
endif()
list(LENGTH _results_1 _count)
message(STATUS "${_count} result lines identical on 1 and 2 threads")
