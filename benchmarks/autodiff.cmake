# Autodiff engine benchmarks: linear-layer throughput on the oneDNN and Eigen GEMM paths.
add_executable(bench_linear ${CMAKE_CURRENT_LIST_DIR}/bench_linear.cpp)
target_link_libraries(bench_linear PRIVATE matnn_autodiff benchmark::benchmark matnn_compile_options)
