"""Minimal reproduction: a wrong reverse-mode gradient from `diffrax.diffeqsolve` with
`RecursiveCheckpointAdjoint` and `SaveAt(ts)` (diffrax 0.7.2, equinox 0.13.8, jax 0.10.2).

Plain diffrax, no kuramoto_jax: dy/dt = K sin y (5 states), Euler, float64. The
reference gradient stores every step (checkpoints = steps + 1); it matches central
finite differences. Other checkpoint counts should give the same gradient.

    python benchmarks/checkpoint_repro.py [--out benchmarks/results/checkpoint_repro_cpu.json]
"""

import argparse
import json

import jax
import jax.numpy as jnp
import numpy as np

import diffrax
import equinox

jax.config.update("jax_enable_x64", True)

n = 5
rng = np.random.default_rng(0)
K0 = jnp.asarray(rng.uniform(0, 0.5, (n, n)))
y0 = jnp.asarray(rng.uniform(0, 6, n))


def loss(K, steps, ts, checkpoints, max_steps):
    saveat = diffrax.SaveAt(t1=True) if ts is None else diffrax.SaveAt(ts=ts)
    sol = diffrax.diffeqsolve(diffrax.ODETerm(lambda t, y, K: K @ jnp.sin(y)), diffrax.Euler(), 0.0, 1.0, 1.0 / steps,
                              y0, args=K, saveat=saveat, max_steps=max_steps,
                              adjoint=diffrax.RecursiveCheckpointAdjoint(checkpoints=checkpoints))
    return jnp.sum(jnp.cos(sol.ys))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    cases = [  # steps, save times, [(checkpoints, max_steps)]
        (10, np.arange(6, 11) * 0.1, [(None, 16), (4, 4096), (5, 4096), (6, 4096)]),  # 0.6000000000000001, ...
        (10, np.arange(6, 11) / 10, [(None, 16), (5, 16), (6, 16), (None, 4096), (4, 4096), (5, 4096), (6, 4096),
                                     (7, 4096)]),
        (10, None, [(5, 4096), (6, 4096)]),
        (1000, np.linspace(0, 1, 11), [(None, 4096), (60, 4096), (30, 4096)]),
        (1000, np.linspace(0, 1, 1001), [(None, 4096), (60, 4096), (30, 4096)]),
    ]
    rows = []
    for steps, ts, trials in cases:
        ref = float(jax.grad(loss)(K0, steps, ts, steps + 1, 4096)[0, 1])
        e = jnp.zeros((n, n)).at[0, 1].set(1e-6)
        fd = float((loss(K0 + e, steps, ts, steps + 1, 4096) - loss(K0 - e, steps, ts, steps + 1, 4096)) / 2e-6)
        for c, ms in trials:
            eager = float(jax.grad(loss)(K0, steps, ts, c, ms)[0, 1])
            jitted = float(jax.jit(jax.grad(loss), static_argnums=(1, 3, 4))(K0, steps, ts, c, ms)[0, 1])
            row = dict(steps=steps, saves="t1" if ts is None else len(ts), checkpoints=c, max_steps=ms,
                       reference=ref, finite_difference=fd, eager=eager, jit=jitted,
                       wrong=bool(abs(eager - ref) > 1e-8 * abs(ref) or abs(jitted - ref) > 1e-8 * abs(ref)))
            rows.append(row)
            print(row, flush=True)
    meta = dict(jax=jax.__version__, diffrax=diffrax.__version__, equinox=equinox.__version__, x64=True)
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(dict(meta=meta, rows=rows), fh, indent=1)


if __name__ == "__main__":
    main()
