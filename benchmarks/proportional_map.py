"""Time the (p, K) map of the proportional-coupling study as one batched computation.

    python benchmarks/proportional_map.py                 # 21 p x 30 K x 100 realisations, N = 100
    python benchmarks/proportional_map.py --small         # a CPU-sized variant (5 realisations, t1 = 10)
    python benchmarks/proportional_map.py --out benchmarks/results/proportional_map_<machine>.json

Every (p, realisation, K) system runs in one batched solve (`kuramoto_jax.proportional.order_parameter_sweep`):
the coupling matrix of each (p, realisation) is shared by its whole K sweep, so each RHS
evaluation is a batch of (N, N) @ (N, 2·num_K) products. Compilation and execution are
timed separately (the first call, which compiles, then a second call). Results record the machine, the JAX
version and the device kind; a markdown line is written next to the JSON.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import time

import jax
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax import proportional as pc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--num-p", type=int, default=21)
    ap.add_argument("--num-k", type=int, default=30)
    ap.add_argument("--realisations", type=int, default=100)
    ap.add_argument("--t1", type=float, default=40.0)
    ap.add_argument("--dt", type=float, default=0.1)
    ap.add_argument("--small", action="store_true", help="5 realisations and t1 = 10 (CPU smoke size)")
    ap.add_argument("--float64", action="store_true")
    ap.add_argument("--out", type=pathlib.Path, default=None, help="JSON file to write (and .md beside it)")
    args = ap.parse_args(argv)
    if args.float64:
        jax.config.update("jax_enable_x64", True)
    if args.small:
        args.realisations, args.t1 = 5, 10.0

    integ = pc.Integration(t1=args.t1, dt=args.dt, save_every=0.5)
    ps = np.linspace(0.0, 3.0, args.num_p)
    k = np.linspace(0.1, 3.0, args.num_k)
    omega, theta0, other = pc.realisations(kj.stream_key(0, "realisations", "gaussian"), args.realisations, args.n)

    t0 = time.perf_counter()
    pc.order_parameter_sweep(ps, 1.0, omega, theta0, other, k, integ)
    t_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    R = pc.order_parameter_sweep(ps, 1.0, omega, theta0, other, k, integ)  # (P, M, G), on the host
    t_run = time.perf_counter() - t0
    t_compile = max(t_first - t_run, 0.0)

    systems = args.num_p * args.num_k * args.realisations
    steps = int(round(args.t1 / args.dt))
    dev = jax.devices()[0]
    result = {
        "benchmark": "proportional_map",
        "machine": platform.node(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu_count": __import__("os").cpu_count(),
        "device_kind": dev.device_kind,
        "device_platform": dev.platform,
        "jax": jax.__version__,
        "dtype": str(omega.dtype),
        "n": args.n, "num_p": args.num_p, "num_k": args.num_k, "realisations": args.realisations,
        "systems": systems, "rk4_steps": steps, "t1": args.t1, "dt": args.dt,
        "devices": len(jax.devices()), "compile_s": round(t_compile, 3), "run_s": round(t_run, 3),
        "systems_per_s": round(systems / t_run, 2),
        "us_per_system_step": round(1e6 * t_run / (systems * steps), 3),
        "mean_R": float(R.mean()),
    }
    print(json.dumps(result, indent=2))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        md = (f"| {result['machine']} ({result['device_kind']}) | jax {result['jax']} | {args.num_p} p x {args.num_k} K x "
              f"{args.realisations} real., N = {args.n}, {steps} RK4 steps | compile {t_compile:.1f} s | "
              f"run {t_run:.1f} s | {result['systems_per_s']} systems/s |\n")
        args.out.with_suffix(".md").write_text(md)


if __name__ == "__main__":
    main()
