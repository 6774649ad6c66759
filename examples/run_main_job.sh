#!/usr/bin/env bash
# The main job on the shipped default data: build matnn, convert the example EMT alloy dataset
# from extended XYZ into the matnn HDF5 format, and summarise it.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > build-configure.log 2>&1 || { cat build-configure.log; exit 1; }
cmake --build build -j"$(nproc)" --target matnn_cli
mkdir -p out
./build/bin/matnn convert examples/data/emt_alloys.extxyz out/emt_alloys.h5 --unit formation_energy=eV/atom
./build/bin/matnn info out/emt_alloys.h5
