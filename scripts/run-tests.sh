#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs dependencies, builds matnn in
# Release with MPI and runs every test (the MPI ones on 1 to 3 ranks), then builds again without
# MPI (serial HDF5, no MPI library loaded) under AddressSanitizer + UndefinedBehaviorSanitizer and
# runs the unit tests there, so both builds are tested, then runs the MPI tests in a sanitised
# build with MPI, then fuzzes every file reader for a short time with clang's libFuzzer. This is
# what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
bash scripts/install-deps.sh

echo "== Release build with MPI, full test suite"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DMATNN_WITH_MPI=ON
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== Build without MPI, AddressSanitizer + UndefinedBehaviorSanitizer, unit tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMATNN_WITH_MPI=OFF -DMATNN_SANITIZE="address;undefined" \
  -DMATNN_BUILD_BENCHMARKS=OFF
cmake --build build-asan -j"$jobs"
# Open MPI (in builds with it) keeps some allocations alive until process exit by design; not matnn's.
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE slow

echo "== Build with MPI, AddressSanitizer + UndefinedBehaviorSanitizer, the MPI tests"
# The code that runs only on several ranks (gathers, reductions, a synchronised batch
# normalisation's sums, the Kalman filter's shares) is checked for memory errors too. Leak checking
# is off here: Open MPI's progress thread and its plug-ins (unloaded before the report, so their
# frames cannot be named in a suppression) keep allocations until exit; the build above checks
# matnn's own code for leaks.
cmake -S . -B build-asan-mpi -DCMAKE_BUILD_TYPE=Debug -DMATNN_WITH_MPI=ON -DMATNN_SANITIZE="address;undefined" \
  -DMATNN_BUILD_BENCHMARKS=OFF
cmake --build build-asan-mpi -j"$jobs"
ASAN_OPTIONS=detect_leaks=0 ctest --test-dir build-asan-mpi --output-on-failure -j"$jobs" -L mpi

echo "== libFuzzer harnesses (clang, AddressSanitizer + UndefinedBehaviorSanitizer), short runs"
# Every reader of untrusted bytes: extended XYZ, configs, HDF5 datasets and model files
# (docs/fuzzing.md), 30 s each.
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DMATNN_FUZZ=ON -DMATNN_WITH_MPI=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMATNN_SANITIZE="address;undefined" -DMATNN_FUZZ_SECONDS=30
cmake --build build-fuzz -j"$jobs" --target fuzz_extxyz fuzz_config fuzz_dataset fuzz_model
ctest --test-dir build-fuzz --output-on-failure -L '^fuzz$'
