"""Speed of the npe pieces: simulations per second of the simple-network simulator
(summaries included), flow training time per step, and milliseconds per posterior of
1000 draws from a raw observation.

    python benchmarks/npe_bench.py --small --out benchmarks/results/npe_cpu.json
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import time

import jax
import jax.numpy as jnp
import numpy as np

from kuramoto_jax import npe


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true", help="CPU-sized batch")
    ap.add_argument("--out", default=None, help="write JSON results here")
    ap.add_argument("--batch", type=int, default=None, help="simulations per compiled batch")
    args = ap.parse_args()
    batch = args.batch or (500 if args.small else 100_000)

    # The shipped simple-network protocol (configs/npe/simple.yaml).
    sim = npe.simple_network(protocol=npe.ObservationProtocol(t1=10.0, dt=0.1, stride=1, noise=0.05))
    summary = npe.SummaryConfig(paper_every=5, drift=True)
    f = jax.jit(jax.vmap(lambda k, p: npe.summarize(sim.simulate(k, p), sim, summary)))
    keys = jax.random.split(jax.random.key(0), batch)
    ps = jax.random.uniform(jax.random.key(1), (batch, 1), maxval=3.0)
    t = time.perf_counter()
    x = f(keys, ps).block_until_ready()
    compile_s = time.perf_counter() - t
    reps = []
    for r in range(3):
        t = time.perf_counter()
        f(jax.random.split(jax.random.key(10 + r), batch), ps).block_until_ready()
        reps.append(time.perf_counter() - t)
    sims_per_s = batch / min(reps)

    fc = npe.FlowConfig(transformer="spline", flow_layers=4, nn_width=64, nn_depth=2)
    tc = npe.TrainConfig(num_steps=200, batch_size=256, eval_every=100, checkpoint_every=200)
    x = np.asarray(x)
    t = time.perf_counter()
    est, _ = npe.fit_estimator(jax.random.key(2), np.asarray(ps), x, *sim.prior_bounds, fc, tc)
    train_s = time.perf_counter() - t

    post = npe.Posterior(est, sim, summary)
    y = sim.simulate(jax.random.key(3), jnp.array([1.5]))
    post.sample(jax.random.key(4), y, 1000).block_until_ready()
    t = time.perf_counter()
    for i in range(20):
        post.sample(jax.random.key(5 + i), y, 1000).block_until_ready()
    ms = 1e3 * (time.perf_counter() - t) / 20

    dev = jax.devices()[0]
    res = {
        "machine": socket.gethostname(), "platform": platform.platform(), "jax": jax.__version__,
        "device": dev.device_kind, "backend": jax.default_backend(), "batch": batch,
        "protocol": "N=100, t1=10, dt=0.1 RK4, 101 observations, six statistics at 21 times + drift LS",
        "simulate_compile_seconds": compile_s, "simulations_per_second": sims_per_s,
        "train_200_steps_seconds_incl_compile": train_s,
        "inference_ms_per_posterior_1000_draws": ms,
    }
    print(json.dumps(res, indent=2))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(res, fh, indent=2)


if __name__ == "__main__":
    main()
