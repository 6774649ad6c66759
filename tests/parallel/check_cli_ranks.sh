#!/usr/bin/env bash
# Usage: check_cli_ranks.sh MPIEXEC MATNN DATA_DIR WORK_DIR
# `matnn predict` and `matnn eval` on 2 and 3 ranks against the serial run, for both potential
# kinds and both property-model kinds that capi_fixture trains (DATA_DIR/potential.h5,
# DATA_DIR/nequip/potential.h5, property.h5, cgcnn.h5, on DATA_DIR/data.h5): the same bytes in the
# CSV and extended XYZ files and the same printed metrics (Monte-Carlo dropout included). `matnn train --cv 3` of the property
# model on 2 ranks (rank 0 trains folds 1 and 3, rank 1 fold 2) against the serial run: the same
# printed table and fold models that predict the same bytes. Then faults: one rank given a dataset that does not exist (MPMD launch, so the other
# rank starts normally) must end the whole job, for predict and for train, with that rank's
# message and a non-zero status, within the timeout instead of hanging.
set -euo pipefail
mpiexec=$1
matnn=$2
data=$3
work=$4
rm -rf "$work"
mkdir -p "$work"
cd "$work"
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run() { timeout 120 "$mpiexec" --oversubscribe "$@"; }
status=0
fail() {
  echo "FAILED: $*"
  status=1
}

# Potentials also write extended XYZ; property models write CSV only.
for model in "$data/potential.h5" "$data/nequip/potential.h5" "$data/property.h5" "$data/cgcnn.h5"; do
  before=$status
  formats=csv
  case "$model" in */potential.h5) formats="csv xyz" ;; esac
  for format in $formats; do "$matnn" predict "$model" "$data/data.h5" -o "serial.$format" >/dev/null; done
  "$matnn" eval "$model" "$data/data.h5" >serial.txt
  for ranks in 2 3; do
    for format in $formats; do
      run -np "$ranks" "$matnn" predict "$model" "$data/data.h5" -o "ranks.$format" >/dev/null
      cmp "serial.$format" "ranks.$format" || fail "$model: predict $format on $ranks ranks differs from the serial file"
    done
    run -np "$ranks" "$matnn" eval "$model" "$data/data.h5" >ranks.txt
    diff serial.txt ranks.txt || fail "$model: eval on $ranks ranks prints other metrics than the serial run"
  done
  [ "$status" -ne "$before" ] || echo "$model: predict and eval on 2 and 3 ranks equal the serial run"
done

# Monte-Carlo dropout predictions (the composition model has dropout 0.1) on ranks.
"$matnn" predict "$data/property.h5" "$data/data.h5" -o mc_serial.csv --mc-samples 3 >/dev/null
for ranks in 2 3; do
  run -np "$ranks" "$matnn" predict "$data/property.h5" "$data/data.h5" -o mc_ranks.csv --mc-samples 3 >/dev/null
  cmp mc_serial.csv mc_ranks.csv || fail "predict --mc-samples on $ranks ranks differs from the serial file"
done

# Cross-validation with the folds over the ranks; each fold's config names its own model file.
for where in serial ranks; do
  sed "/\"test\":/d; s|\"model\": *\"[^\"]*\"|\"model\": \"$work/cv_$where.h5\"|" "$data/property.json" >"cv_$where.json"
done
grep -q "cv_serial.h5" cv_serial.json || fail "could not point the cross-validation config at its own model"
"$matnn" train cv_serial.json --cv 3 --quiet | sed 's/cv_serial/cv/' >cv_serial.txt
run -np 2 "$matnn" train cv_ranks.json --cv 3 --quiet | sed 's/cv_ranks/cv/' >cv_ranks.txt
before=$status
diff cv_serial.txt cv_ranks.txt || fail "--cv on 2 ranks prints other folds or metrics than the serial run"
for k in 1 2 3; do
  "$matnn" predict "cv_serial.fold$k.h5" "$data/data.h5" -o "cv_serial.$k.csv" >/dev/null
  "$matnn" predict "cv_ranks.fold$k.h5" "$data/data.h5" -o "cv_ranks.$k.csv" >/dev/null
  cmp "cv_serial.$k.csv" "cv_ranks.$k.csv" || fail "fold $k's model trained on 2 ranks predicts other values"
done
[ "$status" -ne "$before" ] || echo "--cv 3 on 2 ranks equals the serial run"

# Exit status and stderr of a job whose rank 1 cannot read its dataset; the timeout (124) is a hang.
faulty() {
  set +e
  run "$@" >fault.out 2>fault.err
  code=$?
  set -e
  if [ "$code" -eq 0 ] || [ "$code" -eq 124 ]; then
    fail "a job with a missing dataset on rank 1 ended with status $code"
  elif ! grep -q "missing.h5" fault.err; then
    fail "the job's errors do not name the missing file:"
    cat fault.err
  else
    echo "a missing dataset on rank 1 ends the job: status $code, $(grep -m1 missing.h5 fault.err)"
  fi
}
faulty -np 1 "$matnn" predict "$data/potential.h5" "$data/data.h5" -o fault.csv : \
  -np 1 "$matnn" predict "$data/potential.h5" "$work/missing.h5" -o fault.csv
[ ! -e fault.csv ] || fail "a failed prediction job left fault.csv"
sed "s|$data/data.h5|$work/missing.h5|; s|\"model\": *\"[^\"]*\"|\"model\": \"$work/fault_model.h5\"|" \
  "$data/potential.json" >missing.json
sed "s|\"model\": *\"[^\"]*\"|\"model\": \"$work/fault_model.h5\"|" "$data/potential.json" >good.json
grep -q missing.h5 missing.json || fail "could not point a config at the missing dataset"
faulty -np 1 "$matnn" train good.json --quiet : -np 1 "$matnn" train missing.json --quiet
[ ! -e fault_model.h5 ] || fail "a failed training job wrote a model"
exit "$status"
