# Extended XYZ reading and writing of a large frame.
add_executable(bench_extxyz ${CMAKE_CURRENT_LIST_DIR}/bench_extxyz.cpp)
target_link_libraries(bench_extxyz PRIVATE matnn_extxyz benchmark::benchmark matnn_compile_options)
