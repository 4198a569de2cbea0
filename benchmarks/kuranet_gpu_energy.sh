#!/usr/bin/env bash
# KuraNet Table II with the energy-gap training term on one GPU: the shipped configs
# configs/kuranet/cluster_*_energy*_10seeds_w128.yaml (10 seeds chosen by
# validation, width 128, the paper's normalisation and evaluation protocol, n = 10,000 Size regimes for the
# chosen member), run as shipped (no overrides), one after another within one wall-clock budget; each finished
# run becomes its record (`kuramoto-jax record`: experiments/kuranet/records/table2_<set>/ for each cell's headline
# config, the config's name for a variant, in this checkout); the Case III headline
# global_case3_long_burn_in_fourier_10seeds_w128 (record table1_case3) may be queued too with KN_ONLY,
# and the records and run logs are packed into one archive.
#
# Usage (from the repository root):  bash benchmarks/kuranet_gpu_energy.sh OUT_DIR
#
# Environment:
#   PYTHON       interpreter (default python)
#   KN_BUDGET    total wall-clock seconds (default 480): a run that would start with fewer than KN_MIN_LEFT
#                seconds left is skipped, and a running one is stopped at the budget's end
#   KN_MIN_LEFT  least seconds left to start a run (default 60)
#   KN_ONLY      space-separated config stems to run, in order (default: the GMM average, the longest Table II
#                headline on a CPU; every table2_* record was made on a CPU, and a run here replaces its record)
#   KN_EXTRA     extra arguments for every run (for a CPU check of the script only, e.g. "--set steps=2 ...";
#                runs with overrides are not records)
#                (`kuramoto-jax record` refuses such runs, so they leave no record)
# Output: OUT_DIR/<config stem>/ (run folders), OUT_DIR/<config stem>.log, the records, and
# OUT_DIR/kuranet_energy.tar.gz (records as experiments/kuranet/records/table2_*/, run folders without checkpoints).
set -u
out="${1:?usage: bash benchmarks/kuranet_gpu_energy.sh OUT_DIR}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py="${PYTHON:-python}"
budget="${KN_BUDGET:-480}"
min_left="${KN_MIN_LEFT:-60}"
only="${KN_ONLY:-cluster_gmm_avg_energy_refval_10seeds_w128}"
extra="${KN_EXTRA:-}"
end=$(( $(date +%s) + budget ))
"$py" -c "import jax; print('jax', jax.__version__, jax.devices())" 2>&1 | tail -n 1
for name in $only; do
  left=$(( end - $(date +%s) ))
  if [ "$left" -lt "$min_left" ]; then echo "--- $name skipped: ${left}s left"; continue; fi
  t0=$(date +%s)
  # shellcheck disable=SC2086  # KN_EXTRA is a list of words on purpose
  timeout "$left" "$py" -m kuramoto_jax.cli run "kuranet/$name" --out "$out/$name" --quiet $extra \
    >"$out/$name.log" 2>&1
  rc=$?
  echo "--- $name exit $rc after $(( $(date +%s) - t0 ))s"
  if [ "$rc" -eq 0 ]; then
    # The headline config of each Table II cell gives the record table2_<set>; variants keep their config's name.
    case "$name" in
      cluster_circles_energy_10seeds_w128) record=table2_circles ;;
      cluster_moons_energy_decay_10seeds_w128) record=table2_moons ;;
      cluster_spirals_fourier_energy_decay_10seeds_w128) record=table2_spirals ;;
      cluster_gmm_avg_energy_refval_10seeds_w128) record=table2_gmm_avg ;;
      global_case3_long_burn_in_fourier_10seeds_w128) record=table1_case3 ;;
      *) record="$name" ;;
    esac
    "$py" -m kuramoto_jax.cli record "$out/$name" --name "$record" --overwrite \
      --note "$name: 10 seeds chosen by validation, width 128, as shipped; GPU queue" || echo "--- $name: no record"
  else
    tail -n 5 "$out/$name.log"
  fi
done
records=$(for name in $only; do ls -d "experiments/kuranet/records/$name" 2>/dev/null; done; \
          ls -d experiments/kuranet/records/table2_* experiments/kuranet/records/table1_case3 2>/dev/null)
# Run folders keep no checkpoints in the archive (records never hold them).
tar -czf "$out/kuranet_energy.tar.gz" --exclude=checkpoints $records \
  -C "$out" $(cd "$out" && ls -d cluster_* global_* 2>/dev/null)
echo "archive: $out/kuranet_energy.tar.gz"
