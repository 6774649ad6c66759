# Warnings and sanitizers applied to every matnn target (not to third-party code).
add_library(matnn_compile_options INTERFACE)
target_compile_options(matnn_compile_options INTERFACE
  $<$<COMPILE_LANGUAGE:C,CXX>:-Wall -Wextra -Wpedantic>
  $<$<COMPILE_LANGUAGE:Fortran>:-Wall>)

# The hot loops are written for the compiler to vectorise; AVX-512 machines gain from -march=native,
# but a library that is installed elsewhere must not assume the build machine's CPU.
option(MATNN_NATIVE "Compile for the build machine's CPU (-march=native)" OFF)
if(MATNN_NATIVE)
  target_compile_options(matnn_compile_options INTERFACE $<$<COMPILE_LANGUAGE:C,CXX>:-march=native>)
endif()

if(MATNN_SANITIZE)
  list(JOIN MATNN_SANITIZE "," _matnn_sanitizers)
  message(STATUS "matnn: building with -fsanitize=${_matnn_sanitizers}")
  # -O1 as the sanitizer documentation recommends: at -O0 the instrumented training in the bindings
  # fixture runs 25 times slower than Release and overran its time limit on the CI machine.
  target_compile_options(matnn_compile_options INTERFACE
    -fsanitize=${_matnn_sanitizers} -fno-omit-frame-pointer -fno-sanitize-recover=all
    $<$<COMPILE_LANGUAGE:C,CXX>:-O1>)
  target_link_options(matnn_compile_options INTERFACE -fsanitize=${_matnn_sanitizers})
endif()

if(MATNN_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "MATNN_FUZZ needs clang (CC=clang CXX=clang++), found ${CMAKE_CXX_COMPILER_ID}")
  endif()
  # Coverage instrumentation for libFuzzer in every library; the harnesses link the fuzzer itself.
  target_compile_options(matnn_compile_options INTERFACE $<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link>)
endif()
