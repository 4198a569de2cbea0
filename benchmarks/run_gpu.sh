#!/usr/bin/env bash
# Run every benchmark once on an accelerator machine, each under its own time limit.
# Usage: benchmarks/run_gpu.sh RESULTS_DIR
# Results (JSON/markdown per benchmark and a log per benchmark) go to RESULTS_DIR.
set -u
out="${1:?results directory}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
py="${PYTHON:-python3}"
run() {  # name, seconds, command...
  local name="$1" secs="$2"; shift 2
  echo "=== $name (limit ${secs}s) $(date -u +%H:%M:%S)"
  timeout "$secs" "$@" >"$out/$name.log" 2>&1
  echo "--- $name exit $? ; tail:"; tail -n 25 "$out/$name.log"
}
"$py" -c "import jax; print(jax.__version__, jax.devices())"
run core         150 "$py" benchmarks/core_bench.py --gpu --no-peers --out "$out/core_gpu"
run proportional  60 "$py" benchmarks/proportional_map.py --out "$out/proportional_map_gpu.json"
run kuranet       60 "$py" benchmarks/kuranet_bench.py --out "$out/kuranet_gpu.json"
run npe           45 "$py" benchmarks/npe_bench.py --out "$out/npe_gpu.json"
run reservoir     45 "$py" benchmarks/reservoir_bench.py --out "$out/reservoir_gpu.json"
run scaling       60 "$py" benchmarks/scaling.py --parts sweep,sparse,memory --out "$out/scaling_gpu"
