"""kuramoto_jax.stability side by side with oscillatools 0.1.0 (NumPy/SciPy) on identical problems.

Cases (random Gaussian ω, seed per N; float64):
* locking threshold, mean-field shape A = (1 − δ_ij)/N: `kj.stability.locking_threshold(ω)` (1-D
  fold of the self-consistency), `kj.stability.locking_scale(Dense(A))` (Newton on the saddle-node
  system) and `oscillatools.locate_saddle_node(ω, A, initial_coupling=1.5 K_ref)`, against an
  independent reference (SciPy brentq over K of the existence margin of the self-consistency);
* locking threshold of a random symmetric shape (no closed form): agreement of the two Newton
  solutions, and a brute-force check of ours (locked at 1.001 κ_L, not at 0.999 κ_L);
* stability spectrum at the locked state at 1.5 K_L: `kj.stability.spectrum` (jitted) against
  `oscillatools.stability_spectrum` (eigenvalues compared sorted);
* pseudo-arclength continuation of the mean-field locked branch from 1.5 K_L past the fold (60 steps
  of ds = 0.05 sqrt(N/20)), both from the same locked state: `kj.stability.continuation` (given it
  as `theta0`; without the spectra along the branch, which the peer does not compute) against
  `oscillatools.pseudo_arclength_continuation` with the same residual and analytic Jacobians written
  in NumPy; the branch's smallest K is compared with K_L;
* Lyapunov spectrum (RK4, dt = 0.05, QR every 20 steps, T = 100) at 0.8 K_L, all N exponents at
  N = 20 and the first 10 at N = 100: `kj.stability.lyapunov_spectrum` against
  `oscillatools.lyapunov_spectrum`; the sums (equal to the mean trace of the Jacobian for both when
  k = N) and the exponents are compared. Ours starts its first tangent vector on the common shift
  (exponent exactly 0), the peer on the identity, so finite-time exponents differ at O(1/T).

Timings: after one warm-up call (JAX compilation reported separately), the two tools are called
alternately `--repeats` times; the minimum wall and process-CPU times are reported.

    python benchmarks/stability_peers.py --out benchmarks/results/stability_peers_cpu
"""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import time

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from scipy import optimize  # noqa: E402

import kuramoto_jax as kj  # noqa: E402
from kuramoto_jax import stability as st  # noqa: E402


def reference_threshold(omega) -> float:
    """K_L by brentq over K of max_r [mean_i sqrt(1 − u_i²/(K r)²) − r] (an independent route)."""
    u = np.asarray(omega) - np.mean(omega)
    umax = np.max(np.abs(u))

    def margin(K):
        lo = umax / K
        if lo >= 1:
            return np.mean(np.sqrt(np.clip(1 - (u / K) ** 2, 0, None))) - lo
        h = lambda r: -(np.mean(np.sqrt(np.clip(1 - (u / (K * r)) ** 2, 0, None))) - r)
        return -optimize.minimize_scalar(h, bounds=(lo, 1.0), method="bounded", options={"xatol": 1e-14}).fun

    return optimize.brentq(margin, umax, 2 * np.sum(np.abs(u)) + umax, xtol=1e-14, rtol=1e-13)


def timed(fn, repeats_out, key):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    jax.block_until_ready(out) if isinstance(out, jax.Array) else None
    repeats_out.setdefault(key, []).append((time.perf_counter() - w0, time.process_time() - c0))
    return out


def compare(fns: dict, repeats: int):
    """Warm up each, then call alternately; returns (last outputs, {name: (min wall, min cpu, first-call wall)})."""
    first, outs, times = {}, {}, {}
    for name, fn in fns.items():
        w0 = time.perf_counter()
        outs[name] = fn()
        jax.block_until_ready(outs[name]) if isinstance(outs[name], jax.Array) else None
        first[name] = time.perf_counter() - w0
    for _ in range(repeats):
        for name, fn in fns.items():
            outs[name] = timed(fn, times, name)
    summary = {name: {"wall_s": min(t[0] for t in ts), "cpu_s": min(t[1] for t in ts), "first_call_s": first[name]}
               for name, ts in times.items()}
    return outs, summary


def mean_field_shape(n):
    return (np.ones((n, n)) - np.eye(n)) / n


def case_threshold(n, repeats, osc):
    omega = np.random.default_rng(n).normal(size=n)
    A = mean_field_shape(n)
    ref = reference_threshold(omega)
    w = jnp.asarray(omega)
    fns = {
        "ours_mean_field": lambda: st.locking_threshold(w),
        "ours_saddle_node": lambda: st.locking_scale(kj.Kuramoto(w, kj.Dense(jnp.asarray(A)))),
        "oscillatools": lambda: osc.locate_saddle_node(omega, A, initial_coupling=1.5 * ref),
    }
    outs, t = compare(fns, repeats)
    point = outs.pop("oscillatools")
    outs["oscillatools"] = point.critical_coupling
    # Is there a stable locked state at 1.001 K_ref (below the peer's fold when that is higher)?
    locked_just_above_ref = bool(st.locked_state(kj.Kuramoto(w, kj.MeanField(1.001 * ref)), check=False).stable)
    return {"case": "locking_threshold_mean_field", "n": n, "reference": ref,
            "stable_locked_state_at_1.001_reference": locked_just_above_ref,
            "rel_error": {k: abs(float(v) - ref) / ref for k, v in outs.items()},
            "oscillatools_converged": bool(point.converged), "timing": t}


def case_threshold_random(n, repeats, osc):
    rng = np.random.default_rng(100 + n)
    omega = rng.normal(size=n)
    A = rng.uniform(size=(n, n))
    A = (A + A.T) / n
    np.fill_diagonal(A, 0.0)
    w = jnp.asarray(omega)
    start = 1.5 * float(st.locking_scale(kj.Kuramoto(w, kj.Dense(jnp.asarray(A)))))
    fns = {
        "ours_saddle_node": lambda: st.locking_scale(kj.Kuramoto(w, kj.Dense(jnp.asarray(A)))),
        "oscillatools": lambda: osc.locate_saddle_node(omega, A, initial_coupling=start),
    }
    outs, t = compare(fns, repeats)
    ours, theirs = float(outs["ours_saddle_node"]), float(outs["oscillatools"].critical_coupling)
    above = st.locked_state(kj.Kuramoto(w, kj.Dense(1.001 * ours * A)), check=False)
    below = st.locked_state(kj.Kuramoto(w, kj.Dense(0.999 * ours * A)), check=False)
    return {"case": "locking_threshold_random_shape", "n": n, "ours": ours, "oscillatools": theirs,
            "rel_difference": abs(ours - theirs) / ours, "oscillatools_converged": bool(outs["oscillatools"].converged),
            "brute_force_ok": bool(above.stable) and not bool(below.converged), "timing": t}


def case_spectrum(n, repeats, osc):
    omega = np.random.default_rng(n).normal(size=n)
    A = mean_field_shape(n)
    K = 1.5 * reference_threshold(omega)
    model = kj.Kuramoto(jnp.asarray(omega), kj.Dense(jnp.asarray(K * A)))
    theta = st.locked_state(model).theta
    spec = jax.jit(lambda th: st.spectrum(model, th, symmetric=True)[0])
    th_np = np.asarray(theta)
    fns = {"ours": lambda: spec(theta), "oscillatools": lambda: osc.stability_spectrum(th_np, K * A).eigenvalues}
    outs, t = compare(fns, repeats)
    a = np.sort(np.real(np.asarray(outs["ours"])))
    b = np.sort(np.real(np.asarray(outs["oscillatools"])))
    return {"case": "stability_spectrum", "n": n, "max_abs_difference": float(np.max(np.abs(a - b))),
            "leading_transverse": float(a[-2]), "timing": t}


def case_continuation(n, repeats, osc):
    omega = np.random.default_rng(n).normal(size=n)
    K_L = reference_threshold(omega)
    w = jnp.asarray(omega)
    make = lambda K: kj.Kuramoto(w, kj.MeanField(K))
    ds, steps = 0.05 * np.sqrt(n / 20), 60  # the state vector grows with N: longer steps reach the fold
    theta0 = st.locked_state(make(1.5 * K_L)).theta
    x0 = np.asarray(kj.stability._frame.pack(make(1.5 * K_L), theta0, float(np.mean(omega))))

    def G(x, K):
        th = np.concatenate([[0.0], x[:-1]])
        return omega + K * np.mean(np.sin(th[None, :] - th[:, None]), 1) - x[-1]

    def Gx(x, K):
        th = np.concatenate([[0.0], x[:-1]])
        C = K / n * np.cos(th[None, :] - th[:, None])
        J = C - np.diag(C.sum(1))
        return np.concatenate([J[:, 1:], -np.ones((n, 1))], 1)

    def GK(x, K):
        th = np.concatenate([[0.0], x[:-1]])
        return np.mean(np.sin(th[None, :] - th[:, None]), 1)

    fns = {
        # Like for like: oscillatools returns no spectra along the branch, so ours skips them too.
        # Both start from the same locked state x0 (the peer is handed it; ours gets it as theta0).
        "ours": lambda: st.continuation(make, 1.5 * K_L, theta0=theta0, ds=ds, num_steps=steps,
                                        stability=False).params,
        "oscillatools": lambda: osc.pseudo_arclength_continuation(
            G, Gx, GK, x0, 1.5 * K_L, step=ds, n_steps=steps, parameter_direction=-1.0).parameters,
    }
    outs, t = compare(fns, repeats)
    return {"case": "continuation", "n": n, "K_L": K_L, "steps": steps, "ds": ds,
            "min_param_rel_error": {k: (float(np.min(np.asarray(v))) - K_L) / K_L for k, v in outs.items()},
            "timing": t}


def case_lyapunov(n, repeats, osc):
    rng = np.random.default_rng(200 + n)
    omega = rng.normal(size=n)
    theta0 = rng.uniform(0, 2 * np.pi, n)
    K = 0.8 * reference_threshold(omega)
    A = K * mean_field_shape(n)
    dt, every, T = 0.05, 20, 100.0
    k = n if n <= 20 else 10  # all exponents at N = 20; the first 10 beyond (the peer's cost grows as N² k)
    model = kj.Kuramoto(jnp.asarray(omega), kj.Dense(jnp.asarray(A)))
    fns = {
        "ours": lambda: st.lyapunov_spectrum(model, jnp.asarray(theta0), k=k, t1=T, dt=dt,
                                             renormalise_every=every * dt),
        "oscillatools": lambda: osc.lyapunov_spectrum(theta0, omega, A, dt, int(round(T / dt)), num_exponents=k,
                                                      reorth_interval=every),
    }
    outs, t = compare(fns, repeats)
    a, b = np.asarray(outs["ours"]), np.asarray(outs["oscillatools"])
    return {"case": "lyapunov_spectrum", "n": n, "k": k, "T": T, "dt": dt,
            "max_abs_difference_after_the_zero_mode": float(np.max(np.abs(np.sort(a)[:-1] - np.sort(b)[:-1]))),
            "sum": {"ours": float(a.sum()), "oscillatools": float(b.sum())},
            "largest": {"ours": float(a[0]), "oscillatools": float(b[0])},
            "smallest": {"ours": float(a[-1]), "oscillatools": float(b[-1])},
            "exact_zero_ours": float(np.min(np.abs(a))), "timing": t}


def markdown(results, meta) -> str:
    lines = [f"# kuramoto_jax.stability vs oscillatools {meta['oscillatools']}", "",
             f"Machine: {meta['machine']}; jax {meta['jax']}, float64; minimum over {meta['repeats']} "
             "alternating calls after a warm-up (wall / process CPU, seconds; first-call wall includes "
             "JAX compilation).", "", "| case | N | accuracy | ours wall / CPU | oscillatools wall / CPU | speed-up wall / CPU |",
             "|---|---|---|---|---|---|"]
    for r in results:
        t = r["timing"]
        theirs = t["oscillatools"]
        for name, tt in t.items():
            if name == "oscillatools":
                continue
            if r["case"] == "locking_threshold_mean_field":
                acc = (f"rel. error vs reference: ours {r['rel_error'][name]:.1e}, theirs "
                       f"{r['rel_error']['oscillatools']:.1e} (converged flag {r['oscillatools_converged']})")
            elif r["case"] == "locking_threshold_random_shape":
                acc = f"rel. difference {r['rel_difference']:.1e}; brute force {'ok' if r['brute_force_ok'] else 'FAILED'}"
            elif r["case"] == "stability_spectrum":
                acc = f"max eigenvalue difference {r['max_abs_difference']:.1e}"
            elif r["case"] == "continuation":
                e = r["min_param_rel_error"]
                acc = f"branch min K vs K_L: ours {e['ours']:+.1e}, theirs {e['oscillatools']:+.1e}"
            else:
                acc = (f"k = {r['k']}: sum {r['sum']['ours']:.6f} vs {r['sum']['oscillatools']:.6f}; smallest "
                       f"{r['smallest']['ours']:.4f} vs {r['smallest']['oscillatools']:.4f}; zero mode: ours "
                       f"{r['exact_zero_ours']:.0e}, theirs largest {r['largest']['oscillatools']:.4f}")
            lines.append(f"| {r['case']} ({name}) | {r['n']} | {acc} | {tt['wall_s']:.4f} / {tt['cpu_s']:.4f} "
                         f"(first {tt['first_call_s']:.1f}) | {theirs['wall_s']:.4f} / {theirs['cpu_s']:.4f} | "
                         f"{theirs['wall_s'] / tt['wall_s']:.1f}× / {theirs['cpu_s'] / max(tt['cpu_s'], 1e-9):.1f}× |")
    return "\n".join(lines) + "\n"


def main():
    import oscillatools as osc

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results/stability_peers_cpu")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default="20,100,200")
    ap.add_argument("--machine", default="2-core x86 CPU VM (shared, loaded)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = []
    for n in sizes:
        for case in (case_threshold, case_threshold_random, case_spectrum, case_continuation, case_lyapunov):
            if case is case_lyapunov and n > 100:
                continue
            r = case(n, args.repeats, osc)
            print(json.dumps(r))
            results.append(r)
    meta = {"machine": args.machine, "platform": platform.platform(), "jax": jax.__version__,
            "oscillatools": osc.__version__, "repeats": args.repeats}
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    out.with_suffix(".md").write_text(markdown(results, meta))
    print(markdown(results, meta))


if __name__ == "__main__":
    main()
