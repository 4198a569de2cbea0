"""Equilibrium-propagation training throughput: members batched with vmap vs one at a time.

Times one epoch of per-sample EP on /a/ vs /i/ (2+5+2 net, omega-only, the vowel
protocol's `ep.sgd`) for B members trained together (stacked networks, one jitted
step per sample) and for a single member, and extrapolates the 100 seeds x 200 epochs
run. Float64 (as the vowel studies run) unless --precision float32.

    python benchmarks/ep_bench.py --small --out benchmarks/results/ep_cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from kuramoto_jax import ep
from kuramoto_jax._precision import x64


def time_epochs(n_members, epochs, data_path):
    nets, masks = ep.vowel_ensemble([(jax.random.key(s), "omega_only", "random") for s in range(n_members)])
    splits = [ep.load_vowels(data_path, ("a", "i"), key=jax.random.key(s)) for s in range(n_members)]
    X = jnp.asarray(np.stack([s[0] for s in splits]))
    Y = jnp.asarray(np.stack([s[1] for s in splits]))
    S = X.shape[1]
    grad = ep.grad_fn(0.1, mask=masks, ensemble=True)
    opt = ep.sgd(masks, lr_omega=1e-3, lr_K=1e-3, clip=2.0, omega_box=(-3.0, 3.0), K_box=(0.01, 8.0))

    @jax.jit
    def step(nets, state, i):
        batch = (X[:, i][:, None], Y[:, i][:, None])
        (_, _), g = grad(nets, batch, None)
        upd, state = opt.update(g, state, nets)
        return jax.tree.map(lambda p, u: p + u, nets, upd), state

    def epoch(nets, state):
        for i in range(S):
            nets, state = step(nets, state, i)
        return jax.block_until_ready(nets), state

    state = opt.init(nets)
    t = time.perf_counter()
    jax.block_until_ready(step(nets, state, 0))
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(epochs):
        nets, state = epoch(nets, state)
    return compile_s, (time.perf_counter() - t) / epochs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="one epoch (CPU)")
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--precision", default="float64", choices=["float32", "float64"])
    ap.add_argument("--data", default="", help="Hillenbrand CSV (default: ep.default_data_path())")
    ap.add_argument("--out", default="", help="write JSON (and a .md next to it)")
    args = ap.parse_args()
    data_path = Path(args.data) if args.data else ep.default_data_path()
    epochs = 1 if args.small else 5
    rows = {}
    with x64(args.precision == "float64"):
        for b in (1, args.seeds):
            c, per = time_epochs(b, epochs, data_path)
            rows[b] = dict(compile_s=c, epoch_s=per, per_seed_epoch_ms=1e3 * per / b)
            print(f"seeds={b:4d}: compile {c:6.1f} s, epoch {per:7.3f} s, per seed-epoch {1e3 * per / b:7.2f} ms",
                  flush=True)
    full = rows[args.seeds]["epoch_s"] * 200 * 100 / args.seeds
    seq = rows[1]["epoch_s"] * 200 * 100
    dev = jax.devices()[0]
    result = dict(
        machine=socket.gethostname(), platform=platform.platform(), cpu_count=os.cpu_count(), jax=jax.__version__,
        device=dev.device_kind, backend=dev.platform, precision=args.precision, epochs_timed=epochs, rows=rows,
        extrapolated_100x200_batched_s=full, extrapolated_100x200_one_at_a_time_s=seq, speedup=seq / full,
    )
    print(f"100 seeds x 200 epochs: batched {full:.0f} s vs one seed at a time {seq:.0f} s ({seq / full:.1f}x)")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        md = [f"# EP training throughput ({dev.device_kind}, jax {jax.__version__}, {args.precision}, "
              f"{result['machine']})", "",
              "| seeds batched | compile s | epoch s | ms per seed-epoch |", "|---|---|---|---|"]
        md += [f"| {b} | {r['compile_s']:.1f} | {r['epoch_s']:.3f} | {r['per_seed_epoch_ms']:.2f} |" for b, r in rows.items()]
        md += ["", f"Extrapolated 100 seeds x 200 epochs: batched {full:.0f} s, one seed at a time {seq:.0f} s "
               f"(speed-up {seq / full:.1f}x)."]
        out.with_suffix(".md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
