# Sources of the autodiff engine (paths relative to src/autodiff).
set(MATNN_AUTODIFF_SOURCES
  buffer_pool.cpp
  tensor.cpp
  graph.cpp
  gemm.cpp
  ops_elementwise.cpp
  ops_binary.cpp
  ops_reduce.cpp
  ops_index.cpp
  ops_shape.cpp
  ops_linalg.cpp
  conv_geometry.cpp
  conv_kernels.cpp
  onednn_kernels.cpp
  ops_conv.cpp
  ops_pool.cpp
  subnormals.cpp)
