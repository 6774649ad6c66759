#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs dependencies, builds matnn in
# Release and runs every test, then builds again with AddressSanitizer + UndefinedBehaviorSanitizer
# and runs the C++ unit tests under them, then fuzzes every file reader for a short time with
# clang's libFuzzer. This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

jobs=$(nproc)
bash scripts/install-deps.sh

echo "== Release build and full test suite"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build, unit tests"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMATNN_SANITIZE="address;undefined" -DMATNN_BUILD_BENCHMARKS=OFF
cmake --build build-asan -j"$jobs"
# Open MPI keeps some allocations alive until process exit by design; they are not matnn's.
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE slow

echo "== libFuzzer harnesses (clang, AddressSanitizer + UndefinedBehaviorSanitizer), short runs"
# Every reader of untrusted bytes: extended XYZ, configs, HDF5 datasets and model files
# (docs/fuzzing.md), 30 s each.
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DMATNN_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMATNN_SANITIZE="address;undefined" -DMATNN_FUZZ_SECONDS=30
cmake --build build-fuzz -j"$jobs" --target fuzz_extxyz fuzz_config fuzz_dataset fuzz_model
ctest --test-dir build-fuzz --output-on-failure -L '^fuzz$'
