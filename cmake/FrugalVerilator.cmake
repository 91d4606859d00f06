# Verilated frugal hardware cores for frugal's own executables (tests, examples, benchmarks).
#
# frugal_verilate(<target> <name> <generator arguments>...) writes <name>.v with frugal_fpga_gen at
# build time, verilates it with every lint warning on (-Wall: any warning fails the build), builds
# the model with Verilator's own make, and links V<name>__ALL.a into <target> (header V<name>.h;
# <name>_verilog.hpp holds the Verilog text as the constant <name>_verilog).
# frugal_verilator_runtime(<target>) adds Verilator's runtime library sources once per target.
# FRUGAL_HAVE_VERILATOR is set when Verilator was found and FRUGAL_FPGA_SIMULATION is on.
option(FRUGAL_FPGA_SIMULATION "Verilate the generated hardware for the fpga tests and example" ON)
set(FRUGAL_HAVE_VERILATOR OFF)
if(FRUGAL_FPGA_SIMULATION)
  find_program(FRUGAL_VERILATOR verilator)
  if(FRUGAL_VERILATOR)
    execute_process(COMMAND ${FRUGAL_VERILATOR} --getenv VERILATOR_ROOT OUTPUT_VARIABLE FRUGAL_VERILATOR_ROOT
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(EXISTS "${FRUGAL_VERILATOR_ROOT}/include/verilated.cpp")
      set(FRUGAL_HAVE_VERILATOR ON)
      message(STATUS "frugal: Verilator at ${FRUGAL_VERILATOR}: the fpga tests simulate the generated hardware")
    endif()
  endif()
  if(NOT FRUGAL_HAVE_VERILATOR)
    message(STATUS "frugal: Verilator not found (apt-get install verilator): the fpga simulation tests skip")
  endif()
endif()

function(frugal_verilate target name)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/verilated/${name})
  set(lib ${dir}/V${name}__ALL.a)
  add_custom_command(
    OUTPUT ${lib} ${dir}/${name}.v ${dir}/${name}_verilog.hpp
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND $<TARGET_FILE:frugal_fpga_gen> ${ARGN} --output ${dir}/${name}.v --header ${dir}/${name}_verilog.hpp
    COMMAND ${FRUGAL_VERILATOR} --cc --build -j 1 -Wall -O3 --Mdir ${dir} --prefix V${name} ${dir}/${name}.v
    DEPENDS frugal_fpga_gen
    COMMENT "Generating and verilating ${name}.v"
    VERBATIM)
  add_custom_target(${target}_${name}_rtl DEPENDS ${lib})
  add_dependencies(${target} ${target}_${name}_rtl)
  target_link_libraries(${target} PRIVATE ${lib})
  target_include_directories(${target} PRIVATE ${dir})
endfunction()

function(frugal_verilator_runtime target)
  set(rt ${FRUGAL_VERILATOR_ROOT}/include)
  target_sources(${target} PRIVATE ${rt}/verilated.cpp ${rt}/verilated_threads.cpp)
  set_source_files_properties(${rt}/verilated.cpp ${rt}/verilated_threads.cpp TARGET_DIRECTORY ${target}
                              PROPERTIES SKIP_UNITY_BUILD_INCLUSION ON COMPILE_OPTIONS "-w")
  target_include_directories(${target} SYSTEM PRIVATE ${rt} ${rt}/vltstd)
  find_package(Threads REQUIRED)
  target_link_libraries(${target} PRIVATE Threads::Threads)
  target_compile_definitions(${target} PRIVATE FRUGAL_HAVE_VERILATOR)
endfunction()
