"""The models beyond the phase-only core against oscillatools 0.1.0 (NumPy), agreement and speed.

    pip install -e ".[bench]"                     # adds oscillatools==0.1.0
    python benchmarks/models_peers.py             # writes benchmarks/results/models_peers_cpu.{json,md}
    python benchmarks/models_peers.py --small     # a quick run (smaller N, fewer repeats)

Cases (float64 on both sides, the same classical RK4 with the same dt and number of steps, so the
results agree to rounding, not just to a tolerance):

* ott_antonsen: `kj.theory.ott_antonsen(..., solver="rk4")` vs `ott_antonsen_trajectory`;
* adaptive: `kj.AdaptiveKuramoto(omega, kj.Dense(K0), epsilon=ε)` (β = 0: the Hebbian rule)
  vs `integrate_adaptive_kuramoto` with `networked_kuramoto_force` and `hebbian_plasticity_rate`;
* multiplex: `kj.Kuramoto(omega, kj.Multiplex([kj.Dense(A¹), kj.Dense(A²)], B))` vs `integrate_multiplex`;
* triadic_force: one evaluation of `kj.TriadicMeanField(K2, form="j+l-2i").interaction` (jitted)
  vs `triadic_mean_field_force` (oscillatools has no integrator for the triadic model alone).

oscillatools' Stuart–Landau integrator couples through the real parts on a ring (a different
model from the diffusive ż_i = ... + Σ_j K_ij (z_j − z_i) here), so it is not compared.

Also recorded: the Ott–Antonsen R(t) against an N = 10⁵ mean-field simulation with quantile
Lorentzian frequencies on t ∈ [0, 50] (the acceptance check; tests/test_models.py has it as a
slow test).

Timing: after one warm-up call (compilation for us), the minimum over `--repeats` interleaved
calls of both wall time and process CPU time (the machine is a shared 2-core VM: CPU time is the
fairer measure; the peer is single-threaded NumPy, XLA may use both cores).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import kuramoto_jax as kj  # noqa: E402


def _time(fn, repeats):
    wall, cpu = [], []
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn())
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def _pair(ours, peer, repeats):
    """Interleaved timing of both callables (one warm-up each)."""
    jax.block_until_ready(ours())
    peer()
    t = {"ours": [], "peer": []}
    for _ in range(repeats):
        t["ours"].append(_time(ours, 1))
        t["peer"].append(_time(peer, 1))
    best = {k: (min(x[0] for x in v), min(x[1] for x in v)) for k, v in t.items()}
    return {
        "ours_wall_s": best["ours"][0], "ours_cpu_s": best["ours"][1],
        "peer_wall_s": best["peer"][0], "peer_cpu_s": best["peer"][1],
        "speedup_cpu": best["peer"][1] / best["ours"][1], "speedup_wall": best["peer"][0] / best["ours"][0],
    }


def case_ott_antonsen(osc, repeats, steps=5000, dt=0.01):
    ts = jnp.arange(steps + 1) * dt
    z0 = 0.1 + 0.05j
    ours = jax.jit(lambda K: kj.theory.ott_antonsen(K, 1.0, z0, ts, solver="rk4", dt=dt))
    peer = lambda: osc.ott_antonsen_trajectory(z0, 5.0, 1.0, dt, steps)
    diff = float(np.max(np.abs(np.asarray(ours(5.0)) - peer())))
    return {"case": "ott_antonsen", "n": 1, "steps": steps, "max_abs_diff": diff, **_pair(lambda: ours(5.0), peer, repeats)}


def case_adaptive(osc, n, repeats, steps=200, dt=0.01, eps=0.2):
    rng = np.random.default_rng(n)
    omega, theta0, K0 = rng.normal(size=n), rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 1, (n, n)) / n
    t1 = steps * dt
    ours = jax.jit(
        lambda th, K: kj.simulate(kj.AdaptiveKuramoto(omega, kj.Dense(K), epsilon=eps), th, t1=t1, dt=dt).state
    )
    force = lambda th, K: osc.networked_kuramoto_force(th, K)
    rule = lambda th, K: osc.hebbian_plasticity_rate(th, K, plasticity_rate=eps)
    peer = lambda: osc.integrate_adaptive_kuramoto(theta0, K0, omega, force, rule, dt=dt, n_steps=steps)
    a, b = ours(theta0, K0), peer()
    diff_theta = float(np.max(np.abs(np.asarray(a.theta[-1]) - b.phases[-1])))
    diff_K = float(np.max(np.abs(np.asarray(a.weights[-1]) - b.couplings[-1])))
    return {"case": "adaptive", "n": n, "steps": steps, "max_abs_diff": max(diff_theta, diff_K),
            **_pair(lambda: ours(theta0, K0), peer, repeats)}


def case_multiplex(osc, n, repeats, steps=1000, dt=0.01):
    rng = np.random.default_rng(n + 1)
    L = 2
    omega, theta0 = rng.normal(size=(L, n)), rng.uniform(0, 2 * np.pi, (L, n))
    A = rng.uniform(0, 2, (L, n, n)) / n
    B = np.array([[0.0, 0.7], [0.4, 0.0]])
    t1 = steps * dt

    @jax.jit
    def ours(th):
        plex = kj.Multiplex([kj.Dense(A[0]), kj.Dense(A[1])], B)
        return kj.simulate(kj.Kuramoto(omega.ravel(), plex), th.ravel(), t1=t1, dt=dt).theta[-1]

    peer = lambda: osc.integrate_multiplex(theta0, omega, A, B, dt, steps)
    diff = float(np.max(np.abs(np.asarray(ours(theta0)).reshape(L, n) - peer().phases[-1])))
    return {"case": "multiplex", "n": L * n, "steps": steps, "max_abs_diff": diff, **_pair(lambda: ours(theta0), peer, repeats)}


def case_triadic_force(osc, n, repeats, calls=100):
    rng = np.random.default_rng(n + 2)
    theta = rng.uniform(0, 2 * np.pi, n)
    force = jax.jit(lambda th: kj.TriadicMeanField(1.7, form="j+l-2i").interaction(th))
    th_j = jnp.asarray(theta)
    diff = float(np.max(np.abs(np.asarray(force(th_j)) - osc.triadic_mean_field_force(theta, 1.7))))

    def ours():  # `calls` evaluations per timing, as the peer's
        for _ in range(calls):
            out = force(th_j)
        return out

    def peer():
        for _ in range(calls):
            out = osc.triadic_mean_field_force(theta, 1.7)
        return out

    return {"case": f"triadic_force ({calls} calls, {osc.last_triadic_mean_field_force_tier_used()} tier)", "n": n,
            "steps": 0, "max_abs_diff": diff, **_pair(ours, peer, repeats)}


def ott_antonsen_vs_simulation(n=100_000, dt=0.05, t1=50.0, r0=0.1):
    """max_t |R_OA(t) − R_N(t)| for K = 5Δ and K = Δ (Δ = 1), N quantile Lorentzian frequencies."""
    omega = kj.theory.deterministic_frequencies(n, "lorentzian", 1.0)
    phi = 2 * np.pi * np.mod((np.arange(n) + 0.5) * (math.sqrt(5) - 1) / 2, 1.0)
    theta0 = np.angle((np.exp(1j * phi) + r0) / (1 + r0 * np.exp(1j * phi)))  # OA manifold, ⟨e^{iθ}⟩ = r0
    ts = jnp.linspace(0.0, t1, int(t1) + 1)
    out = []
    for K in (5.0, 1.0):
        c0 = time.process_time()
        R = kj.simulate(kj.Kuramoto(omega, kj.MeanField(K)), theta0, t1=t1, dt=dt, ts=ts,
                        observe=lambda th: kj.order_parameter(th)[0]).observables
        R_oa = jnp.abs(kj.theory.ott_antonsen(K, 1.0, r0, ts))
        out.append({"K_over_delta": K, "n": n, "dt": dt, "max_abs_diff_R": float(jnp.max(jnp.abs(R - R_oa))),
                    "R_final_sim": float(R[-1]), "R_final_oa": float(R_oa[-1]), "cpu_s": time.process_time() - c0})
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--small", action="store_true")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--out", default=None)
    p.add_argument("--no-oa-check", action="store_true")
    args = p.parse_args()
    import oscillatools as osc

    repeats = args.repeats or (2 if args.small else 3)
    sizes = (10, 100) if args.small else (10, 100, 300)
    rows = [case_ott_antonsen(osc, repeats)]
    for n in sizes:
        rows.append(case_adaptive(osc, n, repeats))
    for n in ((10, 100) if args.small else (10, 100, 300)):
        rows.append(case_multiplex(osc, n, repeats))
    for n in ((100, 10_000) if args.small else (100, 10_000, 1_000_000)):
        rows.append(case_triadic_force(osc, n, repeats))
    oa = [] if args.no_oa_check else ott_antonsen_vs_simulation(n=20_000 if args.small else 100_000)
    meta = {"machine": "2-core x86 CPU VM (shared, loaded)", "cpu": platform.processor() or platform.machine(),
            "jax": jax.__version__, "oscillatools": getattr(osc, "__version__", "?"), "precision": "float64",
            "repeats": repeats, "timing": "min over interleaved repeats after one warm-up; CPU = process time"}
    prefix = args.out or os.path.join(os.path.dirname(__file__), "results", "models_peers_cpu" + ("_small" if args.small else ""))
    with open(prefix + ".json", "w") as f:
        json.dump({"meta": meta, "peers": rows, "ott_antonsen_vs_simulation": oa}, f, indent=2)
    lines = [
        "# Models beyond Kuramoto vs oscillatools 0.1.0",
        "",
        f"Machine: {meta['machine']}; jax {meta['jax']}, oscillatools {meta['oscillatools']}, {meta['precision']}; "
        f"{meta['timing']} ({repeats} repeats). Produced by `benchmarks/models_peers.py{' --small' if args.small else ''}`.",
        "",
        "| case | N | RK4 steps | max abs difference | ours CPU s | oscillatools CPU s | speed-up (CPU) | speed-up (wall) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['n']} | {r['steps']} | {r['max_abs_diff']:.1e} | {r['ours_cpu_s']:.4f} | "
                     f"{r['peer_cpu_s']:.4f} | {r['speedup_cpu']:.1f}× | {r['speedup_wall']:.1f}× |")
    if oa:
        lines += ["", "Ott–Antonsen R(t) vs a mean-field simulation (quantile Lorentzian ω, Δ = 1, RK4, t ∈ [0, 50], R(0) = 0.1):", "",
                  "| K/Δ | N | dt | max_t abs(R_OA − R_N) | R(50) simulated | R(50) OA | CPU s |", "|---|---|---|---|---|---|---|"]
        for r in oa:
            lines.append(f"| {r['K_over_delta']:g} | {r['n']} | {r['dt']} | {r['max_abs_diff_R']:.4f} | {r['R_final_sim']:.4f} | "
                         f"{r['R_final_oa']:.4f} | {r['cpu_s']:.1f} |")
    with open(prefix + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
