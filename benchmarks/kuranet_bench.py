"""KuraNet timings: one training step (n = 100 graph) and the n = 10,000 evaluation.

    python benchmarks/kuranet_bench.py [--small] [--hidden 32 32] [--members 4] [--out FILE.json]

Times (after compilation, best of --repeat): a training step (K_μ of a 100-graph,
150 Euler steps dt = 0.1, gradient, Adam update) for Cases I and III, as one jitted
hand-written step and through the library's protocol (`kn.fit`: `run.train` with an
ensemble of 1 and of `--members` members, validation off), whose ratio to the
hand-written step is the training loop's overhead; building the full K_μ(X) (float32,
row blocks) and running 150 Euler steps at n = 10,000 (`--small`: n = 2,000). Results
are recorded with the machine, JAX version and device.
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from kuramoto_jax import kuranet as kn
from kuramoto_jax.run import train

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
    params = kn.init_coupling(jax.random.key(0), d, hidden, dtype=F32)
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3))
    state = opt.init(params)

    def loss(p, k):
        k1, k2 = jax.random.split(k)
        dis = kn.sample_disorder(k1, case, 100, F32)
        K = kn.coupling_matrix(p, dis.features, "global")
        th0 = jax.random.uniform(k2, (100,), F32, 0, 6.283)
        return kn.sync_loss(kn.simulate_window(K, dis.omega, th0, field=dis.field, delay_steps=dis.delay_steps))

    @jax.jit
    def step(p, s, k):
        l, g = jax.value_and_grad(loss)(p, k)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, l

    return best_time(step, params, state, jax.random.key(1), repeat=repeat)


def fit_step_time(case, hidden, members, steps=40):
    """Seconds per step of the protocol's training loop (`run.train` with an ensemble, as `kn.fit` runs it).

    Timed from the batch draw of step 5 (after compilation) to that of the last step; the loop pulls
    the losses every 5 steps, so the host cannot run ahead of the device by more than that."""
    task = kn.GlobalTask(case, 100, initial_phases="uniform")
    pool = kn.sample_disorder(jax.random.key(2), case, 10_000, F32).raw
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3))
    nets = eqx.filter_vmap(lambda k: kn.init_coupling(k, pool.shape[1], hidden, dtype=F32))(
        jax.random.split(jax.random.key(3), members))
    draw = jax.jit(jax.vmap(lambda k: task.graph(k, pool)))
    stamps = {}

    def batch_fn(step, keys):
        stamps[step] = time.perf_counter()
        return draw(keys)

    train(lambda net, g, k: task.loss(net, g), params=nets, optimizer=opt, num_steps=6 + steps, key=jax.random.key(4),
          batch_fn=batch_fn, ensemble=members, has_aux=True, skip_nonfinite=True, log_every=5)
    return (stamps[5 + steps] - stamps[5]) / steps


def large_eval_times(n, hidden, block_rows, repeat):
    params = kn.init_coupling(jax.random.key(0), 1, hidden, dtype=F32)
    dis = kn.sample_disorder(jax.random.key(2), "I", n, F32)
    th0 = jax.random.uniform(jax.random.key(3), (n,), F32, 0, 6.283)
    build = jax.jit(lambda p, x: kn.coupling_matrix(p, x, "global", block_rows=block_rows))
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
    ap.add_argument("--members", type=int, default=4, help="ensemble size of the kn.fit timing")
    ap.add_argument("--fit-steps", type=int, default=40)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    hidden = tuple(args.hidden)
    n = 2000 if args.small else 10_000
    res = {"machine": f"{socket.gethostname()} ({platform.processor() or platform.machine()})",
           "jax": jax.__version__, "device": jax.devices()[0].device_kind, "hidden": list(hidden), "n_large": n}
    for case in ("I", "III"):
        res[f"train_step_case{case}_s"] = train_step_time(case, hidden, args.repeat)
        print(f"training step, Case {case}: {res[f'train_step_case{case}_s'] * 1e3:.1f} ms", flush=True)
        for m in (1, args.members):
            t = res[f"fit_step_case{case}_M{m}_s"] = fit_step_time(case, hidden, m, args.fit_steps)
            print(f"  kn.fit, {m} member(s): {t * 1e3:.1f} ms per step ({t / res[f'train_step_case{case}_s']:.2f}x the "
                  f"hand-written step; {t / m * 1e3:.1f} ms per member-step)", flush=True)
    tb, td = large_eval_times(n, hidden, args.block_rows, args.repeat)
    res.update(build_K_s=tb, dynamics_150_steps_s=td, eval_total_s=tb + td)
    print(f"n = {n}: build K {tb:.2f} s, 150 Euler steps {td:.2f} s", flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
