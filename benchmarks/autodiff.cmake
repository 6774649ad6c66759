# Autodiff engine and optimiser benchmarks: linear-layer throughput on the oneDNN and Eigen GEMM
# paths, and the Kalman filter update.
add_executable(bench_linear ${CMAKE_CURRENT_LIST_DIR}/bench_linear.cpp)
target_link_libraries(bench_linear PRIVATE matnn_autodiff benchmark::benchmark matnn_compile_options)

# The Kalman filter's update (the optimiser of Behler-Parrinello training).
add_executable(bench_kalman ${CMAKE_CURRENT_LIST_DIR}/bench_kalman.cpp)
target_link_libraries(bench_kalman PRIVATE matnn_nn benchmark::benchmark matnn_compile_options)

# Convolution and pooling (the spectrum and image models) next to the GEMM peak.
add_executable(bench_conv ${CMAKE_CURRENT_LIST_DIR}/bench_conv.cpp)
target_link_libraries(bench_conv PRIVATE matnn_autodiff benchmark::benchmark matnn_compile_options)
