"""KuraNet timings: one training step (n = 100 graph) and the n = 10,000 evaluation.

    python benchmarks/kuranet_bench.py [--small] [--hidden 32 32] [--out FILE.json]

Times (after compilation, best of --repeat): a training step (K_μ of a 100-graph,
150 Euler steps dt = 0.1, gradient, Adam update) for Cases I and III; building the
full K_μ(X) (float32, row blocks) and running 150 Euler steps at n = 10,000
(`--small`: n = 2,000). Results are recorded with the machine, JAX version and device.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import time

import jax
import jax.numpy as jnp
import optax

from kuramoto_jax import kuranet as kn

F32 = jnp.float32


def best_time(fn, *args, repeat=3):
    jax.block_until_ready(fn(*args))  # compile
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t)
    return min(times)


def train_step_time(case, hidden, repeat):
    d = 1 if case == "I" else 2
    module, params = kn.init_coupling(jax.random.key(0), d, hidden, dtype=F32)
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3))
    state = opt.init(params)

    def loss(p, k):
        k1, k2 = jax.random.split(k)
        dis = kn.sample_disorder(k1, case, 100, F32)
        K = kn.coupling_matrix(module, p, dis.features, "global")
        th0 = jax.random.uniform(k2, (100,), F32, 0, 6.283)
        return kn.sync_loss(kn.simulate_window(K, dis.omega, th0, field=dis.field, delay_steps=dis.delay_steps))

    @jax.jit
    def step(p, s, k):
        l, g = jax.value_and_grad(loss)(p, k)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, l

    return best_time(step, params, state, jax.random.key(1), repeat=repeat)


def large_eval_times(n, hidden, block_rows, repeat):
    module, params = kn.init_coupling(jax.random.key(0), 1, hidden, dtype=F32)
    dis = kn.sample_disorder(jax.random.key(2), "I", n, F32)
    th0 = jax.random.uniform(jax.random.key(3), (n,), F32, 0, 6.283)
    build = jax.jit(lambda p, x: kn.coupling_matrix(module, p, x, "global", block_rows=block_rows))
    t_build = best_time(build, params, dis.features, repeat=repeat)
    K = build(params, dis.features)
    dyn = jax.jit(lambda K, om, th: kn.sync_loss(kn.simulate_window(K, om, th)))
    t_dyn = best_time(dyn, K, dis.omega, th0, repeat=repeat)
    return t_build, t_dyn


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--small", action="store_true", help="n = 2,000 instead of 10,000 for the large evaluation")
    ap.add_argument("--hidden", type=int, nargs="+", default=[32, 32])
    ap.add_argument("--block-rows", type=int, default=250)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    hidden = tuple(args.hidden)
    n = 2000 if args.small else 10_000
    res = {"machine": f"{socket.gethostname()} ({platform.processor() or platform.machine()})",
           "jax": jax.__version__, "device": jax.devices()[0].device_kind, "hidden": list(hidden), "n_large": n}
    for case in ("I", "III"):
        res[f"train_step_case{case}_s"] = train_step_time(case, hidden, args.repeat)
        print(f"training step, Case {case}: {res[f'train_step_case{case}_s'] * 1e3:.1f} ms", flush=True)
    tb, td = large_eval_times(n, hidden, args.block_rows, args.repeat)
    res.update(build_K_s=tb, dynamics_150_steps_s=td, eval_total_s=tb + td)
    print(f"n = {n}: build K {tb:.2f} s, 150 Euler steps {td:.2f} s", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
