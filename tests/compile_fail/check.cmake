# Builds TARGET in BUILD_DIR, which must fail, and checks that the first "error:" line of the
# compiler's output matches EXPECT.
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
if(rc EQUAL 0)
  message(FATAL_ERROR "${TARGET} compiled, but it must not")
endif()
string(REGEX MATCH "error: [^\n]*" first "${out}\n${err}")
if(NOT first)
  message(FATAL_ERROR "${TARGET} failed without a compiler error:\n${out}\n${err}")
endif()
if(NOT first MATCHES "${EXPECT}")
  message(FATAL_ERROR "${TARGET}: the first error line does not match '${EXPECT}':\n${first}")
endif()
message(STATUS "${TARGET}: ${first}")
