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
find_package(OpenMP REQUIRED COMPONENTS CXX)
find_package(fmt REQUIRED)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(PkgConfig REQUIRED)

# MPI (data-parallel training and evaluation, retraining on a host's communicator) is optional.
# With it, libmatnn links MPI and the MPI build of HDF5, and a host must run the same MPI; without
# it, libmatnn links serial HDF5 and loads no MPI library at all, which is what hosts built with
# another MPI (MPICH, Intel MPI, Cray MPI) or none need. The C ABI is the same in both builds.
# Debian ships no CMake package for either HDF5, only pkg-config.
find_package(MPI COMPONENTS C)
if(MPI_C_FOUND)
  option(MATNN_WITH_MPI "Build with MPI (Open MPI and the Open MPI build of HDF5)" ON)
else()
  option(MATNN_WITH_MPI "Build with MPI (Open MPI and the Open MPI build of HDF5)" OFF)
endif()
add_library(matnn_hdf5 INTERFACE)
if(MATNN_WITH_MPI)
  if(NOT MPI_C_FOUND)
    message(FATAL_ERROR "MATNN_WITH_MPI is ON but no MPI was found (Debian: libopenmpi-dev)")
  endif()
  pkg_check_modules(MATNN_HDF5 REQUIRED IMPORTED_TARGET hdf5-openmpi)
  target_link_libraries(matnn_hdf5 INTERFACE PkgConfig::MATNN_HDF5 MPI::MPI_C)
  find_program(MATNN_MPIEXEC NAMES mpirun mpiexec)
else()
  pkg_check_modules(MATNN_HDF5 REQUIRED IMPORTED_TARGET hdf5-serial)
  target_link_libraries(matnn_hdf5 INTERFACE PkgConfig::MATNN_HDF5)
endif()
message(STATUS "matnn: MATNN_WITH_MPI=${MATNN_WITH_MPI} (HDF5: ${MATNN_HDF5_LINK_LIBRARIES})")

if(MATNN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(MATNN_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# Python with ASE/h5py/numpy: Debian's interpreter, not whatever python3 is first on PATH.
set(MATNN_PYTHON /usr/bin/python3 CACHE FILEPATH "Python interpreter with ASE, h5py and numpy")
