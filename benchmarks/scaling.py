"""Scale-out benchmarks: sweep throughput against device count, sharding the batch
against sharding the oscillators, a 10^6-node / 10^7-edge sparse network on one
device, and the memory of a KuraNet training step and of an NPE training set.

    python benchmarks/scaling.py --small --virtual-devices 4 --out benchmarks/results/scaling_cpu
    python benchmarks/scaling.py --out benchmarks/results/scaling_gpu          # on a GPU machine

`--virtual-devices K` splits the CPU into K XLA devices (XLA_FLAGS is set before JAX
is imported). They share the machine's cores, so a CPU "scaling curve" measures
how well the work is spread over cores, not how devices would scale.
Writes OUT.json (all numbers) and OUT.md (tables), naming machine, JAX version
and device kind. Timings: best of `--repeat` runs after a warm-up call.
Device peaks (`peak_bytes_in_use`, or the process's max RSS on the CPU) are
process-wide maxima: for a clean peak of one workload run its part alone
(e.g. `--parts sparse`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import sys
import time


def _args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--small", action="store_true", help="CPU-sized problems")
    p.add_argument("--out", default=None, help="write OUT.json and OUT.md")
    p.add_argument("--virtual-devices", type=int, default=0, help="split the CPU into this many devices")
    p.add_argument("--parts", default="sweep,oscillators,sparse,memory",
                   help="comma list of: sweep, oscillators, sparse, memory")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--sparse-nodes", type=int, default=None, help="override the large sparse network size")
    p.add_argument("--sparse-degree", type=int, default=10, help="edges per node of the sparse network")
    p.add_argument("--sparse-steps", type=int, default=None)
    return p.parse_args()


ARGS = _args() if __name__ == "__main__" else None
if ARGS is not None and ARGS.virtual_devices:
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={ARGS.virtual_devices}"
    ).strip()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import NamedSharding, PartitionSpec as P  # noqa: E402

import kuramoto_jax as kj  # noqa: E402
from kuramoto_jax import parallel as kp  # noqa: E402

GB = 1e9


def _block(x):
    return jax.tree.map(lambda a: a.block_until_ready() if hasattr(a, "block_until_ready") else a, x)


def best_time(fn, repeat):
    """Seconds of the fastest of `repeat` calls after one warm-up (compile) call."""
    t = time.perf_counter()
    _block(fn())
    first = time.perf_counter() - t
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        _block(fn())
        times.append(time.perf_counter() - t)
    return min(times), first


def memory_stats(compiled):
    m = compiled.memory_analysis()
    if m is None:
        return {}
    return {
        "argument_bytes": int(m.argument_size_in_bytes),
        "output_bytes": int(m.output_size_in_bytes),
        "temp_bytes": int(m.temp_size_in_bytes),
        "total_GB": (m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes) / GB,
    }


def device_peak():
    """Peak bytes in use on device 0 (GPU/TPU), else the process's max RSS (CPU)."""
    stats = jax.devices()[0].memory_stats()
    if stats and "peak_bytes_in_use" in stats:
        return {"device_peak_GB": stats["peak_bytes_in_use"] / GB}
    return {"process_max_rss_GB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / GB}


# --------------------------------------------------------------------------- workloads


def npe_simulator(n=100, dt=0.05, steps=400, n_obs=20):
    """One data set of the simple-network NPE simulator: K, ω ~ N(0,1), random θ0, RK4,
    6 summaries (R, ψ, mean/std of cos θ and sin θ) at n_obs times. (K, key) -> (n_obs, 6)."""
    t1 = dt * steps
    ts = jnp.linspace(t1 / n_obs, t1, n_obs)

    def summaries(th):
        R, psi = kj.order_parameter(th)
        c, s = jnp.cos(th), jnp.sin(th)
        return jnp.stack([R, psi, c.mean(), c.std(), s.mean(), s.std()])

    def simulate_one(K, key):
        k1, k2 = jax.random.split(key)
        omega = jax.random.normal(k1, (n,))
        theta0 = jax.random.uniform(k2, (n,), maxval=2 * jnp.pi)
        model = kj.Kuramoto(omega, kj.MeanField(K))
        return kj.simulate(model, theta0, t1=t1, dt=dt, ts=ts, observe=summaries).observables

    return simulate_one


def sweep_inputs(batch, seed=0):
    Ks = jnp.linspace(0.0, 3.0, batch, dtype=jnp.float32)
    keys = jax.random.key_data(jax.random.split(jax.random.key(seed), batch))
    return Ks, keys


def part_sweep(small, repeat):
    """Throughput of a batch of NPE simulations against the number of devices."""
    batch = 512 if small else 65536
    sim = npe_simulator()
    fn = lambda K, kd: sim(K, jax.random.wrap_key_data(kd))  # noqa: E731
    Ks, keys = sweep_inputs(batch)
    ndev = len(jax.devices())
    counts = sorted({c for c in (1, 2, 4, 8, 16, 32, 64) if c <= ndev} | {ndev})
    ref = np.asarray(kp.batch_map(fn, Ks, keys, devices=1, gather=True))
    rows = []
    for mode in ("shard_map", "jit"):
        for c in counts:
            run = lambda: kp.batch_map(fn, Ks, keys, devices=c, mode=mode)  # noqa: E731
            sec, first = best_time(run, repeat)
            err = float(np.max(np.abs(kp.gather(run()) - ref)))
            rows.append({"mode": mode, "devices": c, "batch": batch, "seconds": sec, "first_call_s": first,
                         "systems_per_s": batch / sec, "max_abs_diff_vs_1_device": err})
            print(f"sweep {mode:9s} devices={c:2d} batch={batch}: {sec:.3f} s, {batch / sec:,.0f} systems/s, "
                  f"diff vs 1 device {err:.1e}", flush=True)
    base = {r["mode"]: r["seconds"] for r in rows if r["devices"] == 1}
    for r in rows:
        r["speedup_vs_1"] = base[r["mode"]] / r["seconds"]
    return {"workload": "NPE simulator: mean field N=100, RK4 dt=0.05, 400 steps, 20x6 summaries, float32",
            "rows": rows}


def random_sparse(n, degree, seed=0):
    """Random directed graph with n·degree edges, weights 1/degree (float32), sorted by receiver."""
    rng = np.random.default_rng(seed)
    e = n * degree
    senders = rng.integers(0, n, e, dtype=np.int32)
    receivers = np.sort(rng.integers(0, n, e, dtype=np.int32))
    weights = np.full(e, 1.0 / degree, np.float32)
    return kj.Sparse(senders, receivers, jnp.asarray(weights), n, sort=False), rng


def _one_system(steps, dt=0.01):
    def run(model, theta0):
        sol = kj.simulate(model, theta0, t1=steps * dt, dt=dt, observe=lambda th: kj.order_parameter(th)[0])
        return sol.observables

    return jax.jit(run)


def part_oscillators(small, repeat):
    """One large system with its oscillators sharded over devices, against one device."""
    ndev = len(jax.devices())
    rows = []
    cases = [("sparse", 2**17 if small else 2**20, 10), ("mean_field", 2**18 if small else 2**22, None)]
    steps = 20 if small else 200
    for kind, n, degree in cases:
        rng = np.random.default_rng(1)
        omega = jnp.asarray(rng.normal(size=n), jnp.float32)
        theta0 = jnp.asarray(rng.uniform(0, 2 * np.pi, n), jnp.float32)
        if kind == "sparse":
            coupling, _ = random_sparse(n, degree)
        else:
            coupling = kj.MeanField(jnp.asarray(1.0, jnp.float32))
        model = kj.Kuramoto(omega, coupling)
        run = _one_system(steps)
        for c in sorted({1, ndev}):
            mesh = kp.make_mesh(c)
            shard = NamedSharding(mesh, P(kp.BATCH))
            # Shard every per-oscillator and per-edge array along its only axis.
            m = jax.tree.map(lambda a: jax.device_put(a, shard) if a.ndim == 1 else jax.device_put(a, NamedSharding(mesh, P())), model)
            th = jax.device_put(theta0, shard)
            sec, first = best_time(lambda: run(m, th), repeat)
            rows.append({"coupling": kind, "n": n, "edges": n * degree if degree else None, "devices": c,
                         "steps": steps, "seconds": sec, "us_per_step": 1e6 * sec / steps})
            print(f"one system {kind} n={n} sharded over {c} device(s): {1e6 * sec / steps:,.0f} us/step", flush=True)
    return {"note": "oscillators of ONE system sharded (jit sharding propagation), RK4, R saved at t1", "rows": rows}


def part_sparse(small, repeat, nodes=None, degree=10, steps=None):
    """Time per RK4 step and memory of one large sparse network on one device (float32)."""
    n = nodes or (10**5 if small else 10**6)
    steps = steps or (5 if small else 100)
    t = time.perf_counter()
    coupling, rng = random_sparse(n, degree)
    build = time.perf_counter() - t
    omega = jnp.asarray(rng.normal(size=n), jnp.float32)
    theta0 = jnp.asarray(rng.uniform(0, 2 * np.pi, n), jnp.float32)
    model = kj.Kuramoto(omega, coupling)
    run = _one_system(steps)
    compiled = run.lower(model, theta0).compile()
    mem = memory_stats(compiled)
    sec, first = best_time(lambda: compiled(model, theta0), max(1, repeat - 1))
    e = n * degree
    # Bytes that must stay resident: edges (int32 s, r + f32 w) and the per-node state.
    model_bytes = e * 12 + n * 4 * 2
    row = {"n": n, "edges": e, "steps": steps, "seconds": sec, "ms_per_step": 1e3 * sec / steps,
           "graph_build_s": build, "model_bytes_GB": model_bytes / GB, **mem, **device_peak()}
    # Per RHS: gather 2 floats per edge, multiply, segment-sum: ~ E·(4+4+8+8+8) bytes of traffic.
    row["traffic_per_rhs_GB_estimate"] = e * 32 / GB
    print(f"sparse n={n:,} edges={e:,}: {row['ms_per_step']:.2f} ms/step, compiled total {mem.get('total_GB', 0):.3f} GB, "
          f"{device_peak()}", flush=True)
    return row


# --------------------------------------------------------------------------- memory plans


def kuranet_step(n, batch, variant, burn=100, loss_steps=50, dt=0.1, hidden=128, chunk=100):
    """A KuraNet-style training step: an MLP 4→h→h→1 on every ordered pair [x_i, x_j] of a
    graph's features gives K (symmetrised, positive, normalised to mean degree 1); Euler
    burn-in without gradient, then `loss_steps` steps whose circular variance is the loss.
    Returns (loss_and_grad, params, example inputs)."""
    key = jax.random.key(0)
    k1, k2, k3 = jax.random.split(key, 3)
    params = {
        "w1": jax.random.normal(k1, (4, hidden), jnp.float32) * 0.5,
        "b1": jnp.zeros(hidden, jnp.float32),
        "w2": jax.random.normal(k2, (hidden, hidden), jnp.float32) / np.sqrt(hidden),
        "b2": jnp.zeros(hidden, jnp.float32),
        "w3": jax.random.normal(k3, (hidden, 1), jnp.float32) / np.sqrt(hidden),
    }
    leaky = lambda z: jnp.where(z > 0, z, 0.01 * z)  # noqa: E731

    def rows(p, xi, x):
        # Couplings of receivers xi (r, 2) with every sender x (n, 2): (r, n).
        a = xi @ p["w1"][:2] + p["b1"]
        b = x @ p["w1"][2:]
        h = leaky(a[:, None, :] + b[None, :, :])
        h = leaky(h @ p["w2"] + p["b2"])
        return (h @ p["w3"])[..., 0]

    def coupling(p, x):
        if variant in ("chunked", "blocks_no_remat"):
            f = lambda xi: rows(p, xi, x)  # noqa: E731
            if variant == "chunked":
                # Without the checkpoint, lax.map (a scan) stacks every block's
                # residuals for the backward pass: blocking alone saves nothing.
                f = jax.checkpoint(f)
            raw = jax.lax.map(f, x.reshape(-1, chunk, 2)).reshape(n, n)
        elif variant == "remat":
            raw = jax.checkpoint(rows)(p, x, x)
        else:
            raw = rows(p, x, x)
        raw = 0.5 * (raw + raw.T)
        return n * jax.nn.softmax(raw.reshape(-1)).reshape(n, n)  # mean weighted degree 1

    def one_graph(p, x, omega, theta0):
        K = coupling(p, x)
        model = kj.Kuramoto(omega, kj.Dense(K))
        th = kj.simulate(model, theta0, t1=burn * dt, dt=dt, solver="euler").theta[-1]
        th = jax.lax.stop_gradient(th)
        ts = dt * jnp.arange(1, loss_steps + 1)
        sol = kj.simulate(model, th, t1=loss_steps * dt, dt=dt, ts=ts, solver="euler",
                          observe=kj.circular_variance)
        return sol.observables.mean()

    def loss(p, xs, omegas, theta0s):
        return jnp.mean(jax.vmap(one_graph, in_axes=(None, 0, 0, 0))(p, xs, omegas, theta0s))

    rng = np.random.default_rng(0)
    xs = jnp.asarray(rng.normal(size=(batch, n, 2)), jnp.float32)
    omegas = jnp.asarray(rng.uniform(-1, 1, (batch, n)), jnp.float32)
    theta0s = jnp.asarray(rng.uniform(0, 2 * np.pi, (batch, n)), jnp.float32)
    return jax.jit(jax.value_and_grad(loss)), params, (xs, omegas, theta0s)


def kuranet_bytes(n, batch, hidden=128, burn=100, loss_steps=50, chunk=None):
    """Hand count (float32) of the large live buffers of the step above."""
    pairs = batch * n * n if chunk is None else batch * chunk * n
    return {
        "pair_activation_GB_per_tensor": pairs * hidden * 4 / GB,
        "K_GB": batch * n * n * 4 / GB,
        "states_GB": batch * n * 4 * (burn + loss_steps) / GB,
    }


def part_memory(small, repeat):
    out = {}
    # KuraNet: compile at the target size (compiling needs no memory for buffers),
    # run a small size to check the step works and time it.
    n_full, b_full = 1000, 32
    rows = []
    for variant in ("plain", "remat", "blocks_no_remat", "chunked"):
        f, params, inputs = kuranet_step(n_full, b_full, variant)
        t = time.perf_counter()
        compiled = f.lower(params, *inputs).compile()
        rows.append({"variant": variant, "n": n_full, "batch": b_full, "compile_s": time.perf_counter() - t,
                     **memory_stats(compiled),
                     **kuranet_bytes(n_full, b_full, chunk=100 if variant in ("chunked", "blocks_no_remat") else None)})
        print(f"kuranet n={n_full} batch={b_full} {variant}: {rows[-1].get('total_GB', float('nan')):.2f} GB (compiled)", flush=True)
    run_n, run_b = (200, 4) if small else (1000, 32)
    f, params, inputs = kuranet_step(run_n, run_b, "chunked")
    sec, first = best_time(lambda: f(params, *inputs), max(1, repeat - 2))
    out["kuranet"] = {"compiled_at_target": rows, "run": {"n": run_n, "batch": run_b, "variant": "chunked",
                                                         "seconds_per_step": sec, **device_peak()}}
    print(f"kuranet run n={run_n} batch={run_b} chunked: {sec:.3f} s/step", flush=True)

    # NPE training set of 10^5 simulations.
    total = 10**5
    sim = npe_simulator()
    fn = lambda K, kd: sim(K, jax.random.wrap_key_data(kd))  # noqa: E731
    Ks, keys = sweep_inputs(total)
    npe_rows = []
    for chunk in (None, 10**4):
        g = jax.jit(lambda K, kd: jax.lax.map(lambda a: fn(*a), (K, kd), batch_size=chunk)) if chunk else jax.jit(jax.vmap(fn))
        compiled = g.lower(Ks, keys).compile()
        npe_rows.append({"simulations": total, "vmapped_at_once": chunk or total, **memory_stats(compiled)})
        print(f"npe {total} sims, {chunk or total} at once: {npe_rows[-1].get('total_GB', float('nan')):.3f} GB (compiled)", flush=True)
    run_b = 2000 if small else total
    sec, _ = best_time(lambda: kp.batch_map(fn, Ks[:run_b], keys[:run_b], devices=1), 1)
    out["npe"] = {"compiled": npe_rows, "dataset_GB": total * 20 * 6 * 4 / GB,
                  "run": {"simulations": run_b, "seconds": sec, "simulations_per_s": run_b / sec, **device_peak()}}
    print(f"npe run {run_b} sims: {run_b / sec:,.0f} sims/s", flush=True)
    return out


# --------------------------------------------------------------------------- report


def meta():
    d = jax.devices()[0]
    return {"machine": socket.gethostname(), "platform": platform.platform(), "processor": platform.processor(),
            "cpu_count": os.cpu_count(), "jax": jax.__version__, "backend": d.platform, "device_kind": d.device_kind,
            "device_count": len(jax.devices()), "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "x64": bool(jax.config.jax_enable_x64), "command": " ".join(sys.argv),
            "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
            "load_average_1_5_15": list(os.getloadavg())}


def markdown(res):
    m = res["meta"]
    lines = [f"# Scaling benchmark ({m['device_kind']} x{m['device_count']}, {m['backend']})", "",
             f"machine {m['machine']} ({m['cpu_count']} CPUs), jax {m['jax']}, `{m['command']}`, {m['date_utc']} UTC, "
             f"load average at start {m.get('load_average_1_5_15', ['?'])[0]}", ""]
    if "sweep" in res:
        lines += [f"## Sweep throughput against device count", "", res["sweep"]["workload"], "",
                  "| mode | devices | batch | s | systems/s | speed-up vs 1 | max diff vs 1 device |", "|---|---|---|---|---|---|---|"]
        for r in res["sweep"]["rows"]:
            lines.append(f"| {r['mode']} | {r['devices']} | {r['batch']} | {r['seconds']:.3f} | {r['systems_per_s']:,.0f} | "
                         f"{r['speedup_vs_1']:.2f} | {r['max_abs_diff_vs_1_device']:.1e} |")
        lines.append("")
    if "oscillators" in res:
        lines += ["## One system, oscillators sharded", "", res["oscillators"]["note"], "",
                  "| coupling | n | edges | devices | µs/step |", "|---|---|---|---|---|"]
        for r in res["oscillators"]["rows"]:
            lines.append(f"| {r['coupling']} | {r['n']:,} | {r['edges'] or '-'} | {r['devices']} | {r['us_per_step']:,.0f} |")
        lines.append("")
    if "sparse" in res:
        r = res["sparse"]
        lines += ["## Large sparse network on one device (float32, RK4)", "",
                  "| n | edges | ms/step | model GB | compiled args+out+temp GB | peak |", "|---|---|---|---|---|---|",
                  f"| {r['n']:,} | {r['edges']:,} | {r['ms_per_step']:.2f} | {r['model_bytes_GB']:.3f} | "
                  f"{r.get('total_GB', float('nan')):.3f} | "
                  + (f"device {r['device_peak_GB']:.3f} GB" if "device_peak_GB" in r else f"process RSS {r['process_max_rss_GB']:.2f} GB")
                  + " |", ""]
    if "memory" in res:
        k = res["memory"]["kuranet"]
        lines += ["## KuraNet training step memory (n = 1000, batch 32, float32; compiled, not run)", "",
                  "| variant | args GB | temp GB | total GB | one pair-activation tensor GB |", "|---|---|---|---|---|"]
        for r in k["compiled_at_target"]:
            lines.append(f"| {r['variant']} | {r.get('argument_bytes', 0) / GB:.3f} | {r.get('temp_bytes', 0) / GB:.2f} | "
                         f"{r.get('total_GB', float('nan')):.2f} | {r['pair_activation_GB_per_tensor']:.2f} |")
        rr = k["run"]
        lines += ["", f"Run: n = {rr['n']}, batch {rr['batch']}, {rr['variant']}: {rr['seconds_per_step']:.3f} s per step.", ""]
        npe = res["memory"]["npe"]
        lines += ["## NPE training set of 10^5 simulations (float32; compiled, not run)", "",
                  f"Data set itself: {npe['dataset_GB'] * 1e3:.0f} MB.", "",
                  "| vmapped at once | args GB | temp GB | total GB |", "|---|---|---|---|"]
        for r in npe["compiled"]:
            lines.append(f"| {r['vmapped_at_once']:,} | {r.get('argument_bytes', 0) / GB:.3f} | {r.get('temp_bytes', 0) / GB:.3f} | "
                         f"{r.get('total_GB', float('nan')):.3f} |")
        nr = npe["run"]
        lines += ["", f"Run: {nr['simulations']:,} simulations in {nr['seconds']:.2f} s ({nr['simulations_per_s']:,.0f} per s).", ""]
    return "\n".join(lines)


def main(args):
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    res = {"meta": meta()}
    print(json.dumps(res["meta"]), flush=True)
    if "sweep" in parts:
        res["sweep"] = part_sweep(args.small, args.repeat)
    if "oscillators" in parts:
        res["oscillators"] = part_oscillators(args.small, args.repeat)
    if "sparse" in parts:
        res["sparse"] = part_sparse(args.small, args.repeat, args.sparse_nodes, args.sparse_degree, args.sparse_steps)
    if "memory" in parts:
        res["memory"] = part_memory(args.small, args.repeat)
    md = markdown(res)
    print(md)
    if args.out:
        base = args.out[:-5] if args.out.endswith(".json") else args.out
        os.makedirs(os.path.dirname(base) or ".", exist_ok=True)
        with open(base + ".json", "w") as fh:
            json.dump(res, fh, indent=1)
        with open(base + ".md", "w") as fh:
            fh.write(md + "\n")


if __name__ == "__main__":
    main(ARGS)
