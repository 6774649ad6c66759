#!/usr/bin/env bash
# Installs every Debian package matnn builds, tests or runs its examples with.
# Idempotent: packages already present are skipped by apt-get. Needs root (or sudo).
set -euo pipefail

packages=(
  # toolchain and build
  build-essential cmake pkg-config gfortran git
  # numerical core
  libeigen3-dev libdnnl-dev
  # parallel I/O and training (the MPI build), and serial HDF5 (the build without MPI)
  libopenmpi-dev openmpi-bin libhdf5-openmpi-dev libhdf5-dev hdf5-tools
  # command line, configs, formatting
  libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libfmt-dev
  # crystal symmetry for prototype labels (spglib; Debian 12 names its package libsymspg-dev)
  libsymspg-dev
  # PNG and TIFF micrographs for `matnn import`
  libpng-dev libtiff-dev
  # tests and benchmarks; clang and its runtimes for the libFuzzer harnesses
  libgtest-dev libgmock-dev googletest libbenchmark-dev valgrind clang libclang-rt-14-dev
  # Python side (Debian's interpreter, /usr/bin/python3) and reference physics
  python3 python3-numpy python3-h5py python3-ase python3-matplotlib python3-lammps lammps liblammps-dev
  python3-mpi4py
  # data generators and classical baselines of the spectrum and image examples: pymatgen's
  # XRDCalculator (scripts/generate_xrd_data.py), scikit-image (scripts/micrograph_baselines.py)
  python3-pymatgen python3-skimage
  # independent PNG and TIFF writers for the import tests
  python3-pil python3-tifffile
  libkim-api-dev
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
