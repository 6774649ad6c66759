# Neighbour-list construction (cell lists) on fcc copper supercells.
add_executable(bench_neighbor_list ${CMAKE_CURRENT_LIST_DIR}/bench_neighbor_list.cpp)
target_link_libraries(bench_neighbor_list PRIVATE matnn_neighbors benchmark::benchmark matnn_compile_options)
