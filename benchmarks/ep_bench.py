"""Equilibrium-propagation training throughput: seeds batched with vmap vs one at a time.

Times one epoch of per-sample EP on /a/ vs /i/ (2+5+2 net, 220 training samples,
omega-only) for B seeds trained together (`jax.vmap` over seeds, `lax.scan` over
samples) and for a single seed, and extrapolates the 100 seeds x 200 epochs run.

    python benchmarks/ep_bench.py --small --out benchmarks/results/ep_cpu.json
"""

from __future__ import annotations

import argparse
import json
import platform
import socket
import time
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402


from kuramoto_jax.experiments.ep.vowels import Config, build_runs, make_fns  # noqa: E402
from kuramoto_jax import ep  # noqa: E402


def time_epochs(n_seeds, epochs, data_path):
    cfg = Config(n_seeds=n_seeds, epochs=epochs, modes=["omega_only"], inits=["random"])
    params, masks, X, Y, XT, YT, labels, layout = build_runs(cfg, data_path)
    epoch_fn, _ = make_fns(layout, ep.EPHyper())
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(1), i))(jnp.arange(len(labels)))
    t = time.perf_counter()
    p, _ = epoch_fn(params, masks, X, Y, keys)
    jax.block_until_ready(p)
    compile_s = time.perf_counter() - t
    t = time.perf_counter()
    for e in range(epochs):
        p, _ = epoch_fn(p, masks, X, Y, jax.vmap(lambda k: jax.random.fold_in(k, e))(keys))
    jax.block_until_ready(p)
    return compile_s, (time.perf_counter() - t) / epochs


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--small", action="store_true", help="few epochs (CPU)")
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--data", default="", help="Hillenbrand CSV (default: ep.default_data_path())")
    ap.add_argument("--out", default="", help="write JSON (and a .md next to it)")
    args = ap.parse_args()
    data_path = Path(args.data) if args.data else ep.default_data_path()
    epochs = 2 if args.small else 5
    rows = {}
    for b in (1, args.seeds):
        c, per = time_epochs(b, epochs, data_path)
        rows[b] = dict(compile_s=c, epoch_s=per, per_seed_epoch_ms=1e3 * per / b)
        print(f"seeds={b:4d}: compile {c:6.1f} s, epoch {per:7.3f} s, per seed-epoch {1e3 * per / b:7.2f} ms", flush=True)
    full = rows[args.seeds]["epoch_s"] * 200 * 100 / args.seeds
    seq = rows[1]["epoch_s"] * 200 * 100
    dev = jax.devices()[0]
    result = dict(
        machine=socket.gethostname(), platform=platform.platform(), cpu_count=__import__("os").cpu_count(),
        jax=jax.__version__, device=dev.device_kind, backend=dev.platform, epochs_timed=epochs, rows=rows,
        extrapolated_100x200_batched_s=full, extrapolated_100x200_one_at_a_time_s=seq, speedup=seq / full,
    )
    print(f"100 seeds x 200 epochs: batched {full:.0f} s vs one seed at a time {seq:.0f} s ({seq / full:.1f}x)")
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        md = [f"# EP training throughput ({dev.device_kind}, jax {jax.__version__}, {result['machine']})", "",
              "| seeds batched | compile s | epoch s | ms per seed-epoch |", "|---|---|---|---|"]
        md += [f"| {b} | {r['compile_s']:.1f} | {r['epoch_s']:.3f} | {r['per_seed_epoch_ms']:.2f} |" for b, r in rows.items()]
        md += ["", f"Extrapolated 100 seeds x 200 epochs: batched {full:.0f} s, one seed at a time {seq:.0f} s "
               f"(speed-up {seq / full:.1f}x)."]
        out.with_suffix(".md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
