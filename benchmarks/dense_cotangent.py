r"""Where the dense coupling's gradient goes: the K̄ accumulation inside the time loop.

Reverse mode through a fixed-step solve with a dense coupling accumulates, at every
right-hand-side evaluation e with sources (c_e, s_e) = (cos θ, sin θ) and aggregate
cotangents (C̄_e, S̄_e),

    K̄ += C̄_e ⊗ c_e + S̄_e ⊗ s_e,

inside the backward loop: one read and one write of the (N, N) accumulator per step, which
XLA fuses for the four RK4 stages into one loop over N² elements with eight outer products.
Two measurements:

1. micro: the per-step cost of that fused rank-8 update, against the same update as one
   (N, 8) @ (8, N) product per step, and against deferring every step's vectors to one
   product after the loop (``einsum("tki,tkj->ij")``);
2. end to end, on a hand-written RK4 ``lax.scan`` (dense K, N = 256 × 500 steps and
   N = 2000 × 50 steps, float32), the gradient of R(θ(t1)) with respect to K:

   * ``current``: the toolkit's dense aggregate and its hand-written derivative rule
     (`kuramoto_jax._coupling.dense_aggregate`), accumulating K̄ in the loop;
   * ``deferred (custom VJP)``: each evaluation adds a zero "tap" (N, 2) per step and stage to
     its aggregate; K enters the loop as a constant; a custom VJP of the whole solve returns
     K̄ = Σ_e tap̄_e ⊗ [c_e, s_e] as one product after the backward loop (forward mode is
     lost: JAX cannot push tangents through a custom VJP);
   * ``deferred (two-pass custom JVP)``: the same taps, with a custom JVP (forward mode kept):
     a first forward pass records [c_e, s_e], the tangent of the taps is dK [c_e, s_e]
     (one product), and the solve is pushed forward once more.

Gradients of the three agree (checked here). Minimum process CPU time over repeats,
after compilation.

    python benchmarks/dense_cotangent.py --out benchmarks/results/dense_cotangent_cpu
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from kuramoto_jax._coupling import dense_aggregate

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from core_bench import machine_name  # noqa: E402

DT = 0.1


def cpu_ms(fn, repeats):
    jax.block_until_ready(fn())
    best = float("inf")
    for _ in range(repeats):
        c = time.process_time()
        jax.block_until_ready(fn())
        best = min(best, time.process_time() - c)
    return best * 1e3


def micro(n, repeats, steps=20):
    rng = np.random.default_rng(0)
    A = jnp.asarray(rng.normal(size=(steps, 8, n)), jnp.float32)
    B = jnp.asarray(rng.normal(size=(steps, 8, n)), jnp.float32)
    zero = jnp.zeros((n, n), jnp.float32)

    def fused(A, B):
        return jax.lax.fori_loop(0, steps, lambda i, acc: acc + sum(A[i, k][:, None] * B[i, k][None, :]
                                                                    for k in range(8)), zero)

    def product(A, B):
        return jax.lax.fori_loop(0, steps, lambda i, acc: acc + A[i].T @ B[i], zero)

    def deferred(A, B):
        return jnp.einsum("tki,tkj->ij", A, B)

    out = {}
    for name, fn in (("fused rank-8 update per step", fused), ("rank-8 product per step", product),
                     ("one product after the loop", deferred)):
        f = jax.jit(fn)
        out[name] = cpu_ms(lambda: f(A, B), repeats) * 1e3 / steps  # µs per step
    return out


def end_to_end(n, steps, repeats):
    rng = np.random.default_rng(1)
    K = jnp.asarray(rng.uniform(size=(n, n)) * 2 / n, jnp.float32)
    omega = jnp.asarray(rng.normal(size=n), jnp.float32)
    theta0 = jnp.asarray(rng.uniform(0, 2 * np.pi, size=n), jnp.float32)
    R = lambda th: jnp.abs(jnp.mean(jnp.exp(1j * th)))

    def rk4(f, th):
        k1 = f(th, 0)
        k2 = f(th + 0.5 * DT * k1, 1)
        k3 = f(th + 0.5 * DT * k2, 2)
        k4 = f(th + DT * k3, 3)
        return th + DT / 6 * (k1 + 2 * k2 + 2 * k3 + k4)

    def current(K):
        def f(th, _):
            c, s = jnp.cos(th), jnp.sin(th)
            C, S = dense_aggregate(K, c, s)
            return omega + c * S - s * C

        return R(jax.lax.scan(lambda th, _: (rk4(f, th), None), theta0, None, length=steps)[0])

    def tapped(K, taps):
        """(θ(t1), sources (steps, 4, n, 2)): K a constant, each evaluation's aggregate + its tap."""
        Kc = jax.lax.stop_gradient(K)

        def step(th, tap):
            sources = []

            def f(x, i):
                c, s = jnp.cos(x), jnp.sin(x)
                sources.append(jax.lax.stop_gradient(jnp.stack([c, s], -1)))
                C, S = dense_aggregate(Kc, c, s)
                return omega + c * (S + tap[i, :, 1]) - s * (C + tap[i, :, 0])

            return rk4(f, th), jnp.stack(sources)

        return jax.lax.scan(step, theta0, taps)

    zeros = jnp.zeros((steps, 4, n, 2), jnp.float32)

    @jax.custom_vjp
    def solve_vjp(K):
        return tapped(K, zeros)[0]

    def vjp_fwd(K):
        (th, sources), pullback = jax.vjp(lambda t: tapped(K, t), zeros)
        return th, (pullback, sources)

    def vjp_bwd(res, g):
        pullback, sources = res
        (tap_bar,) = pullback((g, jnp.zeros_like(sources)))
        return (jnp.einsum("tsik,tsjk->ij", tap_bar, sources),)

    solve_vjp.defvjp(vjp_fwd, vjp_bwd)

    @jax.custom_jvp
    def solve_jvp(K):
        return tapped(K, zeros)[0]

    @solve_jvp.defjvp
    def _(primals, tangents):
        (K,), (dK,) = primals, tangents
        _, sources = tapped(K, zeros)
        dtaps = jnp.einsum("ij,tsjk->tsik", dK, sources)
        (th, _), (dth, _) = jax.jvp(lambda t: tapped(K, t), (zeros,), (dtaps,))
        return th, dth

    forward = jax.jit(current)
    variants = {"current": current, "deferred (custom VJP)": lambda K: R(solve_vjp(K)),
                "deferred (two-pass custom JVP)": lambda K: R(solve_jvp(K))}
    grads = {name: jax.jit(jax.value_and_grad(fn)) for name, fn in variants.items()}
    fwd_ms = cpu_ms(lambda: forward(K), repeats)
    rows = {"forward": fwd_ms}
    ref = grads["current"](K)[1]
    agree = {}
    for name, g in grads.items():
        rows[f"forward+gradient, {name}"] = cpu_ms(lambda g=g: g(K)[1], repeats)
        agree[name] = float(jnp.max(jnp.abs(g(K)[1] - ref)) / jnp.max(jnp.abs(ref)))
    return {"n": n, "steps": steps, "ms": rows, "ratio_to_forward": {k: v / fwd_ms for k, v in rows.items()},
            "max_rel_gradient_difference_to_current": agree}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results/dense_cotangent_cpu")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--machine-note", default="", help="e.g. 'shared with one other job'")
    args = ap.parse_args()
    meta = {"machine": machine_name(), "note": args.machine_note, "jax": jax.__version__, "cpus": os.cpu_count(),
            "repeats": args.repeats, "statistic": "min process CPU time"}
    res = {"meta": meta, "micro_us_per_step": {n: micro(n, args.repeats) for n in (256, 2000)},
           "end_to_end": [end_to_end(256, 500, args.repeats), end_to_end(2000, 50, args.repeats)]}
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=1))
    lines = [f"# Dense coupling: the K̄ accumulation ({meta['machine']}{', ' + meta['note'] if meta['note'] else ''})",
             "", f"jax {meta['jax']}, float32, {meta['cpus']} CPUs, min process CPU time over {args.repeats} repeats.", "",
             "## Per-step cost of the rank-8 K̄ update (µs per step, 20 steps)", "",
             "| N | fused rank-8 update per step | rank-8 product per step | one product after the loop |",
             "|---|---|---|---|"]
    for n, r in res["micro_us_per_step"].items():
        lines.append(f"| {n} | " + " | ".join(f"{v:.0f}" for v in r.values()) + " |")
    lines += ["", "## Hand-written RK4 scan, gradient of R(θ(t1)) with respect to K", "",
              "| N × steps | forward (ms) | current | deferred (custom VJP) | deferred (two-pass custom JVP) |",
              "|---|---|---|---|---|"]
    for r in res["end_to_end"]:
        ms, ra = r["ms"], r["ratio_to_forward"]
        cells = [f"{ms[f'forward+gradient, {k}']:.1f} ms ({ra[f'forward+gradient, {k}']:.2f}×)"
                 for k in ("current", "deferred (custom VJP)", "deferred (two-pass custom JVP)")]
        lines.append(f"| {r['n']} × {r['steps']} | {ms['forward']:.1f} | " + " | ".join(cells) + " |")
    lines += ["", "Ratios in parentheses: forward+gradient / forward. Largest relative gradient difference to "
              "`current`: " + ", ".join(f"N = {r['n']}: " + ", ".join(f"{k} {v:.1e}" for k, v in
                                        r["max_rel_gradient_difference_to_current"].items())
                                        for r in res["end_to_end"]) + "."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
