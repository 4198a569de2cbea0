#!/usr/bin/env bash
# KuraNet Table I on an accelerator: Cases I, II, III with the paper's width 128 and
# several seeds trained at once, one run folder per case, each under its own time limit.
#
# Usage (from the repository root):  benchmarks/kuranet_gpu.sh OUT_DIR
#   KN_SEEDS   seeds per case (default 10)
#   KN_BUDGET  seconds for all three cases together (default 240)
#   KN_SET     extra "--set key=value" overrides for every case (e.g. for a tiny CPU check:
#              KN_SET="--set steps=4 --set n=16 --set train_size=64 --set test_size=48 ...")
#   PYTHON     interpreter (default python3; the package must be importable, e.g. via PYTHONPATH)
#
# A run folder is complete (metrics.json with "status": "completed") as soon as its case
# finishes, so a later timeout keeps the earlier cases. Each case gets what is left of the
# budget, capped so the later cases keep a share; its log is OUT_DIR/global_caseN.log.
set -u
out="${1:?usage: benchmarks/kuranet_gpu.sh OUT_DIR}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py="${PYTHON:-python3}"
seeds="${KN_SEEDS:-10}"
budget="${KN_BUDGET:-240}"
extra="${KN_SET:-}"
start=$(date +%s)
"$py" -c "import jax; print('jax', jax.__version__, jax.devices())" 2>&1 | tail -n 1
# Estimated shares of the budget (H200: a Case I/II training step ~30 ms with the diffrax
# Euler solver, Case III ~6 ms with the delay integrator; compilation ~20-40 s per case).
for spec in "1:I:0.37" "2:II:0.37" "3:III:1.00"; do
  IFS=: read -r num case share <<<"$spec"
  left=$(( budget - ($(date +%s) - start) ))
  secs=$(awk -v l="$left" -v b="$budget" -v s="$share" 'BEGIN { x = int(b * s); if (x > l) x = l; print x }')
  if [ "$secs" -lt 5 ]; then echo "=== case $case skipped: budget spent"; continue; fi
  echo "=== case $case: $seeds seeds, limit ${secs}s, $(date -u +%H:%M:%S)"
  # shellcheck disable=SC2086  # $extra is a list of words on purpose
  timeout "$secs" "$py" -m kuramoto_jax.cli run "configs/kuranet/global_case${num}.yaml" \
    --set num_seeds="$seeds" --set "model.hidden=[128,128]" --set model.block_rows=1000 $extra \
    --out "$out/global_case${num}" --quiet >"$out/global_case${num}.log" 2>&1
  rc=$?
  echo "--- case $case exit $rc after $(( $(date +%s) - start ))s total; tail:"
  tail -n 4 "$out/global_case${num}.log"
done
echo "=== done in $(( $(date +%s) - start ))s"
