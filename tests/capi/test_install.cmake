# `cmake --install` into a scratch prefix, then build and run the consumer project against it.
# Run by CTest as: cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... [-DC_FLAGS=...] -P test_install.cmake
file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()

# The C and Fortran interfaces are installed: the component-less install of the whole project.
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The layout hosts rely on.
file(GLOB_RECURSE libraries RELATIVE ${prefix} ${prefix}/lib*/libmatnn.so*)
foreach(expected matnn.h status.h matnn_version.h)
  if(NOT EXISTS ${prefix}/include/matnn/${expected})
    message(FATAL_ERROR "include/matnn/${expected} not installed")
  endif()
endforeach()
file(GLOB private_headers ${prefix}/include/matnn/*.hpp)
if(private_headers)
  message(FATAL_ERROR "C++ engine headers must not be installed: ${private_headers}")
endif()
if(NOT libraries MATCHES "libmatnn.so.1")
  message(FATAL_ERROR "libmatnn.so.1 (SOVERSION 1) not installed: ${libraries}")
endif()

run(${CMAKE_COMMAND} -S ${SOURCE_DIR}/install -B ${WORK_DIR}/build
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS=${C_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${C_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/build)
run(${WORK_DIR}/build/consumer_cmake)
run(${WORK_DIR}/build/consumer_pkgconfig)
run(${WORK_DIR}/build/consumer_fortran_cmake)
run(${WORK_DIR}/build/consumer_fortran_pkgconfig)
file(REMOVE_RECURSE ${WORK_DIR})
