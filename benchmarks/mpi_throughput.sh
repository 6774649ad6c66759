#!/usr/bin/env bash
# Training throughput of `matnn train` on 1 and 2 MPI ranks (a timed example, not a test):
# structures and atoms per second of the training steps, the parallel efficiency, and where an
# epoch's time goes (steps; rank 0's wait for the slowest rank and its gradient sums, or with the
# Kalman filter its gathering of the measurements; validation),
# plus the time to read the dataset. docs/parallel.md keeps the figures and the efficiency model
# built from them.
#
# Usage: benchmarks/mpi_throughput.sh MATNN EPOCHS CONFIG...
#   each CONFIG is run for EPOCHS epochs (its `epochs:` line replaced) into a temporary folder, on
#   1 rank and on 2 ranks, one OpenMP thread per rank; the first epoch is left out of the means,
#   or the first WARMUP_EPOCHS (an environment variable, a whole number below EPOCHS). Behler-
#   Parrinello on ranks needs about 15: a rank describes the structures dealt to it from another
#   rank's shard when they first come, and keeps them (docs/parallel.md, session 27).
#   A config that trains in parts (`continue_with`) is timed in its first part only: the list is
#   dropped. Run it from the repository root (the example configs name their data relative to it).
# Example: benchmarks/mpi_throughput.sh build/bin/matnn 4 \
#            examples/configs/potentials/si_behler_parrinello.yaml examples/configs/formation_energy.yaml
set -euo pipefail
matnn=$(realpath "$1")
epochs=$2
shift 2
warmup=${WARMUP_EPOCHS:-1}
if ! [[ "$warmup" =~ ^[0-9]+$ ]] || [ "$warmup" -ge "$epochs" ]; then
  echo "mpi_throughput.sh: WARMUP_EPOCHS=$warmup must be a whole number below EPOCHS ($epochs)" >&2
  exit 2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

printf '%-28s %5s %9s %9s %9s %9s %9s %10s %11s %6s\n' config ranks "read s" "epoch s" "steps s" \
  "wait s" "sum s" "valid s" "structs/s" "eff."
for config in "$@"; do
  name=$(basename "$config" .yaml)
  # continue_with runs to the next top-level key; then the epochs and the outputs are replaced.
  awk '/^continue_with:/ { dropping = 1; next } dropping && /^[^ #]/ { dropping = 0 } !dropping' "$config" |
    sed -e "s|^\(\s*\)epochs: .*|\1epochs: $epochs|" \
      -e "s|output: {model: [^}]*}|output: {model: $work/$name.h5}|" -e "s|^  model: .*|  model: $work/$name.h5|" >"$work/$name.yaml"
  base=""
  for ranks in 1 2; do
    if [ "$ranks" -eq 1 ]; then
      "$matnn" train "$work/$name.yaml" >"$work/$name.$ranks.out" 2>&1
    else
      mpirun --oversubscribe -np "$ranks" "$matnn" train "$work/$name.yaml" >"$work/$name.$ranks.out" 2>&1
    fi
    # Means over the epochs after the first: epoch time, steps, waiting, summing, validation.
    line=$(awk -v skip="$warmup" '
      / train [0-9]+ / || /^epoch / || /member [0-9\/]+  epoch / { n++ }
      /^  time/ && n > skip {
        gsub(/[(),]/, " ")
        for (i = 1; i <= NF; i++) {
          if ($(i + 1) == "s" && $(i + 2) ~ /^steps/) steps += $i
          if ($(i + 1) == "s" && $(i + 2) == "waiting") wait += $i
          if ($(i + 1) == "s" && ($(i + 2) == "summing" || $(i + 2) == "gathering")) sum += $i
          if ($(i + 1) == "s" && $(i + 2) == "validating") valid += $i
        }
        m++
      }
      /train, [0-9]+ validation/ { for (i = 1; i <= NF; i++) if ($(i + 1) == "train,") { train = $i; gsub(/\(/, "", train) }
                                   for (i = 1; i <= NF; i++) if ($i == "read" && $(i + 1) == "in") read = $(i + 2) }
      END { if (m == 0) exit 1; if (read == "") read = "-"
            printf "%s %s %.6f %.6f %.6f %.6f\n", train, read, steps / m, wait / m, sum / m, valid / m }
    ' "$work/$name.$ranks.out") || { echo "$name on $ranks ranks: no epochs (see below)"; tail -5 "$work/$name.$ranks.out"; continue; }
    read -r train read steps wait sum valid <<<"$line"
    rate=$(awk -v t="$train" -v s="$steps" 'BEGIN { printf "%.1f", t / s }')
    [ -n "$base" ] || base=$steps
    efficiency=$(awk -v b="$base" -v s="$steps" -v r="$ranks" 'BEGIN { printf "%.0f%%", 100 * b / (r * s) }')
    epoch=$(awk -v s="$steps" -v v="$valid" 'BEGIN { printf "%.4f", s + v }')
    printf '%-28s %5d %9s %9s %9.4f %9.4f %9.4f %10.4f %11s %6s\n' "$name" "$ranks" "$read" "$epoch" \
      "$steps" "$wait" "$sum" "$valid" "$rate" "$efficiency"
  done
done
