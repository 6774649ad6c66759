#!/usr/bin/env bash
# The main job on the shipped default data (examples/data/emt_alloys.extxyz, made with ASE's EMT):
#   1. build matnn;
#   2. convert the extended XYZ file into the matnn HDF5 dataset and summarise it;
#   3. train the composition-MLP baseline for the formation energy (an ensemble of 3, split by
#      composition) and evaluate it on its held-out test set, with predictions written to CSV;
#   4. train the composition classifier for is_stable and evaluate it the same way;
#   5. train CGCNN (from crystal structure) and the composition MLP on the EMT prototype set
#      (examples/data/emt_prototypes.extxyz: polymorphs of seven metals and their alloys), on a
#      random split and on a split by prototype, and print both test errors beside that of
#      predicting the training mean; on the prototype split (a CGCNN ensemble of 4), also how
#      much larger its calibrated sigma is on the unseen prototypes than on validation and how
#      well its embedding-distance OOD score tells them apart (ROC AUC);
#   6. train a small Behler-Parrinello potential on EMT copper MD data (energies and forces) and
#      print its held-out energy and force errors;
#   7. run that potential as a drop-in calculator: a short NVE MD through the ASE calculator
#      (Python ctypes), then the Fortran example host on the same cell;
#   8. install it as a KIM portable model and run NVT then NVE MD with it in LAMMPS;
#   9. train a small 1-D CNN that tells the crystal system from a powder X-ray diffraction pattern
#      (examples/data/xrd_patterns.h5) on a split by formula, and print its held-out accuracy
#      beside two classical methods on the same split (nearest pattern, Hanawalt search-match).
# Everything it writes goes to out/.
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > build-configure.log 2>&1 || { cat build-configure.log; exit 1; }
cmake --build build -j"$(nproc)" --target matnn_cli matnn matnn_md_example matnn_driver
matnn=./build/bin/matnn
mkdir -p out

echo "== dataset"
$matnn convert examples/data/emt_alloys.extxyz out/emt_alloys.h5 --unit formation_energy=eV/atom
$matnn info out/emt_alloys.h5

echo "== composition MLP: formation energy"
$matnn train --quiet examples/configs/formation_energy.yaml
$matnn eval out/formation_energy.model.h5 out/emt_alloys.h5 --subset test
$matnn predict out/formation_energy.model.h5 out/emt_alloys.h5 -o out/formation_energy.predictions.csv

echo "== composition MLP: stability classifier"
$matnn train --quiet examples/configs/stability.yaml
$matnn eval out/stability.model.h5 out/emt_alloys.h5 --subset test

echo "== property models from crystal structure: CGCNN against the composition MLP"
$matnn convert examples/data/emt_prototypes.extxyz out/emt_prototypes.h5 --unit formation_energy=eV/atom
for split in random by_prototype; do
  for kind in cgcnn composition; do
    $matnn train --quiet examples/configs/prototypes/${kind}_${split}.yaml > /dev/null
    $matnn eval out/${kind}_${split}.model.h5 out/emt_prototypes.h5 --subset test |
      awk -v what="$kind, $split split" '$1 == "mae" { mae = $2 } $1 == "baseline_mae" { base = $2 } $1 == "n" { n = $2 }
        $1 == "sigma_ratio_vs_validation" { ratio = $2 } $1 == "ood_auroc_vs_validation" { auroc = $2 }
        END { printf "%-32s test MAE %.4f eV/atom on %d structures (predicting the training mean: %.4f)\n", what, mae, n, base
              if (ratio != "") printf "%-32s sigma on test / on validation %.2f, OOD AUROC test vs validation %.2f\n", "", ratio, auroc }'
  done
done

echo "== interatomic potential: Behler-Parrinello for EMT copper"
$matnn convert examples/data/cu_emt_md.extxyz out/cu_emt_md.h5
$matnn train --quiet examples/configs/main_job_potential.yaml
$matnn eval out/cu_potential.model.h5 out/cu_emt_md.h5 --subset test

echo "== the potential as a calculator: ASE (Python ctypes) and a Fortran host"
PYTHONPATH=python MATNN_LIBRARY=build/capi/libmatnn.so OPENBLAS_CORETYPE=SkylakeX \
  /usr/bin/python3 examples/ase_md.py out/cu_potential.model.h5 out/cu_start.txt 200
./build/fortran/examples/md_example out/cu_potential.model.h5 out/cu_start.txt 5 1.0 | grep -E "^(energy|step)"

echo "== the potential in LAMMPS through the KIM API (pair_style kim)"
export KIM_API_MODEL_DRIVERS_DIR="$PWD/build/kim/model-drivers" KIM_API_PORTABLE_MODELS_DIR="$PWD/out/kim"
mkdir -p out/kim
$matnn kim-install out/cu_potential.model.h5 matnn_cu_main_job --collection environment \
  --deviation-file out/lammps_cu_md_deviation.txt --deviation-every 50
OMP_NUM_THREADS=1 lmp -in examples/lammps/cu_md.lammps -var model matnn_cu_main_job -var dump out/lammps_cu_md.dump \
  -log out/lammps_cu_md.log -screen none
grep -A4 "^Step" out/lammps_cu_md.log | tail -5
echo "model deviation of the LAMMPS frames (out/lammps_cu_md_deviation.txt, eV and eV/A):"
cat out/lammps_cu_md_deviation.txt

echo "== spectra: crystal system from powder X-ray diffraction patterns (1-D CNN)"
$matnn split examples/data/xrd_patterns.h5 --kind formula --validation 0.1 --test 0.2 --seed 1 \
  -o out/xrd_patterns_split.json
$matnn train --quiet examples/configs/spectra/main_job_xrd.yaml > /dev/null
$matnn eval out/xrd_crystal_system_small.model.h5 examples/data/xrd_patterns.h5 --subset test |
  awk '$1 == "accuracy" || $1 == "f1" || $1 == "n"'
OPENBLAS_CORETYPE=SkylakeX /usr/bin/python3 scripts/xrd_baselines.py examples/data/xrd_patterns.h5 out/xrd_patterns_split.json
