"""Equal-accuracy comparison with the PyPI package `kuramoto` 0.4.0 (scipy odeint / LSODA, float64).

The speed table of `core_bench.py` compares the toolkit's float32 fixed-step RK4 (dt = 0.01) with
`kuramoto` 0.4.0's float64 LSODA at its default tolerances: different precision, different solver.
This script compares them at equal accuracy instead.

Problem (as core_bench's all_to_all case): N = 1000 all-to-all oscillators (mean field K/N), K = 2,
ω ~ N(0, 1), θ0 ~ U(0, 2π) (key 0), T = 10. Reference: scipy's DOP853 in float64 at
rtol = atol = 1e-12. Error of a solution: max_i |wrap(θ_i(T) − θ_ref,i(T))|.

Measured (interleaved repeats, min wall time and min process CPU time):
* `kuramoto` 0.4.0 as it runs by default (odeint/LSODA, float64, rtol = atol = 1.49e-8);
* the toolkit in float64 with adaptive Tsit5 (PID controller) at the loosest tolerance of a ladder
  whose error is at most LSODA's ("equal accuracy"), and fixed-step RK4 at the largest dt of a ladder
  with error at most LSODA's;
* the toolkit's float32 RK4 at dt = 0.01 (core_bench's row) with its own error, for reference.

    python benchmarks/equal_accuracy.py [--repeats 2] [--out benchmarks/results/equal_accuracy_cpu]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp
import numpy as np
from scipy.integrate import solve_ivp

import kuramoto_jax as kj

N, K, T = 1000, 2.0, 10.0


def cpu_time() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def wrap_err(theta, ref) -> float:
    d = np.angle(np.exp(1j * (np.asarray(theta, np.float64) - ref)))
    return float(np.max(np.abs(d)))


def reference(theta0, omega):
    def f(t, th):
        z = np.mean(np.exp(1j * th))
        return omega + K * np.imag(z * np.exp(-1j * th))

    sol = solve_ivp(f, (0.0, T), theta0, method="DOP853", rtol=1e-12, atol=1e-12)
    return sol.y[:, -1]


def toolkit(omega, dtype, solver, dt, rtol=None):
    om = jnp.asarray(omega, dtype)
    kwargs = {} if rtol is None else {"rtol": rtol, "atol": rtol, "max_steps": 100_000}

    @jax.jit
    def run(th0):
        sol = kj.simulate(kj.Kuramoto(om, kj.MeanField(K)), th0, t1=T, dt=dt, solver=solver, **kwargs)
        return sol.theta[-1]

    return lambda th0: np.asarray(jax.block_until_ready(run(jnp.asarray(th0, dtype))))


def kuramoto040(omega):
    import kuramoto

    adj = np.ones((N, N))

    def run(th0):
        model = kuramoto.Kuramoto(coupling=K, dt=0.01, T=T, natfreqs=np.asarray(omega, np.float64))
        return model.run(adj_mat=adj, angles_vec=np.asarray(th0, np.float64))[:, -1]

    return run


def timed(fn, th0, repeats):
    fn(th0)  # compile / warm up
    walls, cpus = [], []
    for _ in range(repeats):
        c0, t0 = cpu_time(), time.perf_counter()
        out = fn(th0)
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_time() - c0)
    return out, min(walls), min(cpus)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--out", default="benchmarks/results/equal_accuracy_cpu")
    args = ap.parse_args(argv)
    from importlib import metadata

    k1, k2 = jax.random.split(jax.random.key(0))
    omega = np.asarray(jax.random.normal(k1, (N,)), np.float64)
    theta0 = np.asarray(jax.random.uniform(k2, (N,), maxval=2 * jnp.pi), np.float64)
    ref = reference(theta0, omega)

    rows = []
    lsoda_out, w, c = timed(kuramoto040(omega), theta0, args.repeats)
    e_lsoda = wrap_err(lsoda_out, ref)
    rows.append({"impl": "kuramoto 0.4.0 (odeint/LSODA, float64, default rtol = atol = 1.49e-8)", "error": e_lsoda,
                     "wall_s": w, "cpu_s": c})

    def ladder(name, make, params):
        chosen = None
        for prm in params:  # loosest first: the first one meeting the error wins
            out = make(prm)(theta0)
            err = wrap_err(out, ref)
            if err <= e_lsoda:
                chosen = prm
                break
        if chosen is None:
            return
        out, w, c = timed(make(chosen), theta0, args.repeats)
        rows.append({"impl": name(chosen), "error": wrap_err(out, ref), "wall_s": w, "cpu_s": c})

    ladder(lambda r: f"toolkit tsit5 adaptive (PID), float64, rtol = atol = {r:g}",
           lambda r: toolkit(omega, jnp.float64, "tsit5", 0.01, rtol=r), [1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10])
    ladder(lambda d: f"toolkit rk4 fixed step, float64, dt = {d:g}",
           lambda d: toolkit(omega, jnp.float64, "rk4", d), [0.1, 0.05, 0.02, 0.01, 0.005, 0.002])
    out, w, c = timed(toolkit(omega, jnp.float32, "rk4", 0.01), theta0, args.repeats)
    rows.append({"impl": "toolkit rk4 fixed step, float32, dt = 0.01 (core_bench's speed row)",
                     "error": wrap_err(out, ref), "wall_s": w, "cpu_s": c})
    for r in rows:
        r["cpu_ratio_vs_kuramoto040"] = rows[0]["cpu_s"] / r["cpu_s"]
        r["wall_ratio_vs_kuramoto040"] = rows[0]["wall_s"] / r["wall_s"]

    record = {"benchmark": "equal_accuracy", "problem": f"mean field N = {N}, K = {K}, T = {T}, key 0",
                  "reference": "scipy solve_ivp DOP853, float64, rtol = atol = 1e-12",
                  "error": "max_i |wrap(theta_i(T) - theta_ref_i(T))|", "machine": platform.node(),
                  "platform": f"{platform.system()} {platform.machine()}", "cpu_count": os.cpu_count(),
                  "load_average": list(os.getloadavg()), "repeats": args.repeats,
                  "versions": {p: metadata.version(p) for p in ("jax", "diffrax", "scipy", "numpy", "kuramoto")},
                  "rows": rows}
    with open(args.out + ".json", "w") as f:
        json.dump(record, f, indent=2)
    lines = [f"# Equal-accuracy comparison with `kuramoto` 0.4.0 ({record['problem']})", "",
             (f"Reference: {record['reference']}; error: {record['error']}. Machine: {record['cpu_count']}-core "
             f"CPU (`{record['machine']}`), jax {record['versions']['jax']}, diffrax {record['versions']['diffrax']}; "
             f"load average {record['load_average'][0]:.1f} (shared: compare CPU times). "
             f"Times: min over {args.repeats} repeats."), "",
             "| implementation | error vs reference | wall | process CPU | CPU-time ratio kuramoto 0.4.0 / this |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['impl']} | {r['error']:.1e} | {r['wall_s']:.3f} s | {r['cpu_s']:.3f} s | "
                     f"{r['cpu_ratio_vs_kuramoto040']:.1f} |")
    with open(args.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
