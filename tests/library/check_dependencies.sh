#!/usr/bin/env bash
# Usage: check_dependencies.sh WITH_MPI FILE...
# Checks which HDF5 and MPI libraries each FILE (libmatnn.so, the matnn command) loads, directly or
# through its dependencies: a build without MPI must load serial HDF5 and no MPI library at all (a
# host built with another MPI, or none, loads it), a build with MPI the Open MPI build of HDF5.
set -euo pipefail
with_mpi=$1
shift
status=0
for file in "$@"; do
  loaded=$(ldd "$file")
  mpi=$(grep -E 'lib(mpi|open-pal|open-rte|pmix)[^ ]*\.so' <<<"$loaded" || true)
  if [ "$with_mpi" = ON ]; then
    grep -q 'libhdf5_openmpi' <<<"$loaded" || { echo "$file: the MPI build does not load the Open MPI HDF5"; status=1; }
    [ -n "$mpi" ] || { echo "$file: the MPI build loads no MPI library"; status=1; }
  else
    grep -q 'libhdf5_serial' <<<"$loaded" || { echo "$file: the build without MPI does not load serial HDF5"; status=1; }
    if [ -n "$mpi" ]; then
      echo "$file: the build without MPI loads MPI libraries:"
      echo "$mpi"
      status=1
    fi
  fi
  [ "$status" -eq 0 ] && echo "$file: dependencies as expected for MATNN_WITH_MPI=$with_mpi"
done
exit "$status"
