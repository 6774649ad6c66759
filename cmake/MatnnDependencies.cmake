# Every dependency is a Debian package installed by scripts/install-deps.sh.
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
# oneDNN: Debian's CMake package for it requires OpenCL headers (it was built with the GPU runtime),
# which matnn never uses; the CPU library and header are all we need, so import them directly.
find_path(MATNN_DNNL_INCLUDE_DIR dnnl.h REQUIRED)
find_library(MATNN_DNNL_LIBRARY dnnl REQUIRED)
add_library(DNNL::dnnl UNKNOWN IMPORTED)
set_target_properties(DNNL::dnnl PROPERTIES
  IMPORTED_LOCATION ${MATNN_DNNL_LIBRARY}
  INTERFACE_INCLUDE_DIRECTORIES ${MATNN_DNNL_INCLUDE_DIR})
find_package(MPI REQUIRED COMPONENTS C CXX)
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(PkgConfig REQUIRED)

# HDF5 must be the MPI build so that ranks of a training job can read their own shards of one file.
# Debian ships no CMake package for it, only pkg-config.
pkg_check_modules(HDF5_MPI REQUIRED IMPORTED_TARGET hdf5-openmpi)
add_library(matnn_hdf5 INTERFACE)
target_link_libraries(matnn_hdf5 INTERFACE PkgConfig::HDF5_MPI MPI::MPI_C)

if(MATNN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(MATNN_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# Python with ASE/h5py/numpy: Debian's interpreter, not whatever python3 is first on PATH.
set(MATNN_PYTHON /usr/bin/python3 CACHE FILEPATH "Python interpreter with ASE, h5py and numpy")
