#!/usr/bin/env bash
# KuraNet cluster synchrony (paper Table II and the segmentation images) on one GPU.
#
# Usage (from the repository root):  bash benchmarks/kuranet_gpu_cluster.sh OUT_DIR
#
# Runs the shipped cluster configs with several seeds (trained together in one batched
# computation per run), the paper's width 128 and the full n = 10,000 Size and Data+Size
# regimes (for the best seed, chosen on validation graphs): moons, circles, spirals, GMM k = 2..10 (one run per k; their average is written to OUT_DIR/gmm_avg.json), the generated segmentation
# image, and the global-synchrony Cases III, I and II (10 seeds, 1500 steps, every seed
# evaluated at n = 10,000) in the same queue. Every run writes its own
# folder OUT_DIR/<name>/ (metrics.json, arrays, figures) as soon as it completes; a log per
# run is OUT_DIR/<name>.log. The runs share one wall-clock budget (KN_BUDGET seconds,
# default 240): a queued run that no longer has KN_MIN_LEFT seconds is skipped, and a
# running one is stopped by `timeout` at the budget's end.
#
# Environment:
#   PYTHON       interpreter (default python)
#   KN_SEEDS     seeds per run (default 8; a seed costs little on a GPU: one vmapped computation)
#   KN_STEPS     training steps per run (default 600)
#   KN_LANES     runs at the same time (default 2: with 6 at once on an H200 no run finished in 225 s)
#   KN_BUDGET    total wall-clock seconds for all runs (default 240)
#   KN_MIN_LEFT  least seconds left to start a queued run (default 45)
#   KN_EXTRA     extra overrides for every run, e.g. a tiny CPU check:
#                KN_EXTRA="--set steps=3 --set n=12 --set train_size=60 --set test_size=48 ..."
#   KN_ONLY      space-separated run names to keep (default: all)
set -u
out="${1:?usage: bash benchmarks/kuranet_gpu_cluster.sh OUT_DIR}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
# Several runs share the GPU: no process may claim most of its memory up front.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
py="${PYTHON:-python}"
seeds="${KN_SEEDS:-8}"
steps="${KN_STEPS:-600}"
lanes="${KN_LANES:-2}"
budget="${KN_BUDGET:-240}"
min_left="${KN_MIN_LEFT:-45}"
extra="${KN_EXTRA:-}"
only="${KN_ONLY:-}"
end=$(( $(date +%s) + budget ))

"$py" -c "import jax; print('jax', jax.__version__, jax.devices())" 2>&1 | tail -n 1

# name  config  overrides (in priority order: the queue starts them in this order)
jobs="cluster_moons cluster_moons --set large_best_only=true
cluster_circles cluster_circles --set large_best_only=true
global_case3 global_case3 --set steps=1500 --set model.block_rows=1000 --set num_seeds=10
cluster_spirals cluster_spirals --set large_best_only=true
cluster_gmm_k2 cluster_gmm --set k=2 --set large_best_only=true --set figures=false
cluster_gmm_k3 cluster_gmm --set k=3 --set large_best_only=true --set figures=false
cluster_gmm_k4 cluster_gmm --set k=4 --set large_best_only=true --set figures=false
cluster_gmm_k5 cluster_gmm --set k=5 --set large_best_only=true
cluster_gmm_k6 cluster_gmm --set k=6 --set large_best_only=true --set figures=false
cluster_gmm_k7 cluster_gmm --set k=7 --set large_best_only=true --set figures=false
cluster_gmm_k8 cluster_gmm --set k=8 --set large_best_only=true --set figures=false
cluster_gmm_k9 cluster_gmm --set k=9 --set large_best_only=true --set figures=false
cluster_gmm_k10 cluster_gmm --set k=10 --set large_best_only=true --set figures=false
cluster_image cluster_image
global_case1 global_case1 --set steps=1500 --set model.block_rows=1000 --set num_seeds=10
global_case2 global_case2 --set steps=1500 --set model.block_rows=1000 --set num_seeds=10"

one() {  # name config overrides...
  local name="$1" cfg="$2"; shift 2
  local left=$(( end - $(date +%s) ))
  if [ "$left" -lt "$min_left" ]; then
    echo "--- $name skipped: ${left}s of the budget left"; return 0
  fi
  local t0; t0=$(date +%s)
  # shellcheck disable=SC2086  # KN_EXTRA is a list of words on purpose
  timeout "$left" "$py" -m kuramoto_jax.cli run "configs/kuranet/$cfg.yaml" \
    --set num_seeds="$seeds" --set steps="$steps" --set "model.hidden=[128,128]" --set model.block_rows=500 \
    "$@" $extra --out "$out/$name" --quiet >"$out/$name.log" 2>&1
  local rc=$?
  echo "--- $name exit $rc after $(( $(date +%s) - t0 ))s (limit ${left}s)"
  [ "$rc" -eq 0 ] || tail -n 5 "$out/$name.log"
}
export -f one
export out py seeds steps end min_left extra

echo "$jobs" | while read -r name rest; do
  if [ -z "$only" ] || [[ " $only " == *" $name "* ]]; then echo "$name $rest"; fi
done | xargs -P "$lanes" -L 1 bash -c 'one "$@"' _

# GMM average over the k that completed (paper: k = 2..10).
"$py" - "$out" <<'EOF'
import json, pathlib, re, sys
out = pathlib.Path(sys.argv[1])
per_k = {}
for k in range(2, 11):
    f = out / f"cluster_gmm_k{k}" / "metrics.json"
    if f.is_file():
        d = json.loads(f.read_text())
        if d.get("meta", {}).get("status") == "completed":
            per_k[k] = d["metrics"]
if per_k:
    names = sorted(set.intersection(*(set(m) for m in per_k.values())))
    avg = {n: sum(m[n] for m in per_k.values()) / len(per_k) for n in names if n.startswith(("L_", "control_L_", "block_L_"))}
    (out / "gmm_avg.json").write_text(json.dumps({"ks": sorted(per_k), "average": avg}, indent=1))
    print("GMM average over k =", sorted(per_k), {n: round(v, 4) for n, v in avg.items() if not re.search(r"_(std|s\d+)$", n)})
else:
    print("GMM average: no GMM run completed")
EOF
echo "done: $(( budget - (end - $(date +%s)) ))s of the ${budget}s budget used"
