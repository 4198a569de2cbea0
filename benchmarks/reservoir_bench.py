"""Time the Kuramoto-reservoir K sweep (study 1's batched computation) and the single-reservoir fit.

    python benchmarks/reservoir_bench.py --small --out benchmarks/results/reservoir_cpu.json
    python benchmarks/reservoir_bench.py --out benchmarks/results/reservoir_gpu.json   # paper scale

Cases (each compiled first, then timed on fresh inputs of the same shapes):
  sweep:  B = laws x seeds x K values x 2 eps reservoirs of N oscillators driven for T steps in one
          batched computation (`kuramoto_jax.reservoir.drive_batch`, spread over the devices) that
          saves only Re, Im Z_1..Z_M after the washout;
  single: one reservoir (B = 1) of the same size, for the batching gain.
Reports wall seconds and microseconds per system-step, with machine, JAX version and device kind; on
a CPU also the process CPU time (all threads), which is less sensitive to other jobs on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax.reservoir import drive_batch, order_parameter_features, sample_reservoirs, tasks


def sweep_fn(u, dt, skip, M):
    return lambda om, th, K, e: drive_batch(om, th, K, e, u, dt, features=order_parameter_features(M), skip=skip)


def inputs(B, n, seed):
    om, th = sample_reservoirs(kj.stream_key(seed, "reservoirs"), B, n, "gaussian", 0.4, 0.5)
    kc = kj.theory.critical_coupling("gaussian", 0.4)
    Ks = jnp.asarray(np.resize(np.linspace(0.25, 3.0, 10), B) * kc)
    eps = jnp.asarray(np.resize([0.01, 0.0], B))
    return om, th, Ks, eps


def timed(fn, B, n, repeats):
    fn(*inputs(B, n, 0))  # compile (drive_batch returns host arrays: the work is done on return)
    times, cpu = [], []
    for r in range(repeats):
        args = inputs(B, n, r + 1)
        t0, c0 = time.perf_counter(), time.process_time()
        fn(*args)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(times), times, min(cpu)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="CPU-sized case (N = 100, 60 s, B = 8)")
    p.add_argument("--out", help="write results as JSON here")
    p.add_argument("--repeats", type=int, default=2)
    a = p.parse_args()
    if a.small:
        n, dt, washout, window, B, M = 100, 0.01, 40.0, 20.0, 8, 5
    else:  # the paper's scale and study 1's batch (2 laws x 2 seeds x 10 K x 2 eps)
        n, dt, washout, window, B, M = 500, 0.01, 240.0, 60.0, 80, 5
    T = int(round((washout + window) / dt))
    skip = int(round(washout / dt))
    u = jnp.asarray(tasks.sine_prediction(T, dt)[0])
    fn = sweep_fn(u, dt, skip, M)
    sweep_s, sweep_all, sweep_cpu = timed(fn, B, n, a.repeats)
    single_s, single_all, single_cpu = timed(fn, 1, n, a.repeats)
    dev = jax.devices()[0]
    res = {
        "benchmark": "reservoir K sweep",
        "machine": platform.node(),
        "platform": f"{platform.system()} {platform.machine()}",
        "device_kind": dev.device_kind,
        "backend": jax.default_backend(),
        "jax_version": jax.__version__,
        "dtype": str(jnp.asarray(1.0).dtype),
        "devices": len(jax.devices()),
        "case": {"n": n, "dt": dt, "steps": T, "washout_steps": skip, "batch": B, "harmonics": M, "solver": "rk4"},
        "sweep_seconds": sweep_s,
        "sweep_seconds_all": sweep_all,
        "sweep_us_per_system_step": sweep_s / (B * T) * 1e6,
        "sweep_cpu_seconds": sweep_cpu,
        "sweep_cpu_us_per_system_step": sweep_cpu / (B * T) * 1e6,
        "single_seconds": single_s,
        "single_cpu_us_per_system_step": single_cpu / T * 1e6,
        "single_us_per_system_step": single_s / T * 1e6,
        "batching_gain": (single_s * B) / sweep_s,
        "note": "2-core shared CPU: absolute times are noisy (other jobs run at the same time)"
        if dev.platform == "cpu" else "",
    }
    print(json.dumps(res, indent=2))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
