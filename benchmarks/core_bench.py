r"""Timing of the core engine against yardsticks, in one process on one problem.

For each case the same initial phases θ₀, frequencies ω and coupling are given to

* ``toolkit rk4``   ``kj.simulate(..., solver="rk4")`` (the lean RK4 inside diffeqsolve),
* ``toolkit tsit5`` ``kj.simulate(..., solver="tsit5")`` on the same fixed grid
  (``ConstantStepSize``) so that the cost per step is comparable,
* ``hand scan``     a hand-written classical RK4 ``lax.scan`` using the identity
  Σ_j K_ij sin(θ_j − θ_i) = cos θ_i (K sin θ)_i − sin θ_i (K cos θ)_i,
* ``naive``         the same scan with N×N pairwise sines (timed over fewer steps
  and reported per step),
* the PyPI packages ``kuramoto`` 0.4.0 (numpy pairwise sines + scipy ``odeint``)
  and ``jaxkuramoto`` 0.0.8 (mean field only) when they are importable
  (``pip install "kuramoto_jax[bench]"``); missing peers are skipped.

Every timed call is jitted and compiled first; repeats of all implementations of a
case are interleaved so that load drift on a shared machine hits all of them alike.
Reported: median (and min) wall time, time per step, ratio to the hand scan and the
order parameter R(t1), compared between implementations.

Usage::

    python benchmarks/core_bench.py --small        # quick CPU run (about a minute)
    python benchmarks/core_bench.py                # CPU cases of the README
    python benchmarks/core_bench.py --gpu          # accelerator targets, self-contained

Results go to ``benchmarks/results/core_<machine>[_small|_gpu].{json,md}`` (or ``--out PREFIX``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import jax
import jax.numpy as jnp

import diffrax
import kuramoto_jax as kj

# ---------------------------------------------------------------------------
# machine and timing helpers


def machine_name() -> str:
    dev = jax.devices()[0]
    if dev.platform != "cpu":
        return str(dev.device_kind)
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "unknown"


STAT = "median"  # statistic behind per-step times and ratios; "min" on CPUs (see main)
CPU_TIMES = False  # also report process-CPU-time ratios (CPU backends)


def block(x):
    return jax.block_until_ready(x)


class Case:
    """Collects the implementations of one problem and times them interleaved."""

    def __init__(self, name: str, steps: int, description: str):
        self.name, self.steps, self.description = name, steps, description
        self.impls: list[dict] = []

    def add(self, label, fn, *, steps=None, rhs_per_step=4, jax_fn=True, note=""):
        self.impls.append(dict(label=label, fn=fn, steps=steps or self.steps, rhs=rhs_per_step, jax=jax_fn, note=note))

    def run(self, repeats: int, log) -> list[dict]:
        rows = []
        for im in self.impls:
            t, c = time.perf_counter(), time.process_time()
            try:
                out = block(im["fn"]())
            except Exception as err:  # a peer failing must not stop the benchmark
                im["error"] = f"{type(err).__name__}: {str(err)[:160]}"
                log(f"  {im['label']:34s} FAILED {im['error']}")
                continue
            im["first"] = time.perf_counter() - t
            im["first_cpu"] = time.process_time() - c
            im["R"] = float(out) if np.ndim(out) == 0 else None
            im["times"], im["cpu"] = [], []
        live = [im for im in self.impls if "error" not in im]
        for _ in range(repeats):
            for im in live:
                if not im["jax"] and len(im["times"]) >= 1 and im["first"] > 5.0:
                    continue  # slow numpy peers: the compile-free first call already counts
                t, c = time.perf_counter(), time.process_time()
                block(im["fn"]())
                im["times"].append(time.perf_counter() - t)
                im["cpu"].append(time.process_time() - c)
        for im in live:
            ts = im["times"] + ([] if im["jax"] else [im["first"]])
            im["median"] = statistics.median(ts)
            im["min"] = min(ts)
            # On a shared CPU the minimum is the least contended estimate of the cost.
            im["per_step"] = (im["min"] if STAT == "min" else im["median"]) / im["steps"]
            cs = im["cpu"] + ([] if im["jax"] else [im["first_cpu"]])
            # Process CPU time (all threads): the work done, insensitive to waiting for a core.
            im["cpu_min"] = min(cs)
            im["cpu_per_step"] = im["cpu_min"] / im["steps"]
        ref = next((im for im in live if im["label"].startswith("hand scan")), None)
        base = next((im for im in live if im["label"].startswith("toolkit rk4")), None)
        for im in self.impls:
            row = dict(case=self.name, impl=im["label"], steps=im["steps"], note=im["note"])
            if "error" in im:
                row["error"] = im["error"]
            else:
                row.update(
                    first_call_s=im["first"],
                    median_s=im["median"],
                    min_s=im["min"],
                    per_step_us=im["per_step"] * 1e6,
                    repeats=len(im["times"]),
                    cpu_min_s=im["cpu_min"],
                    cpu_per_step_us=im["cpu_per_step"] * 1e6,
                    R_t1=im["R"],
                )
                if ref is not None:
                    row["vs_hand_scan"] = im["per_step"] / ref["per_step"]
                    row["vs_hand_scan_cpu"] = im["cpu_per_step"] / ref["cpu_per_step"]
                if base is not None:
                    row["vs_toolkit_rk4"] = im["per_step"] / base["per_step"]
                if base is not None and im["R"] is not None and base["R"] is not None:
                    row["dR_vs_toolkit"] = abs(im["R"] - base["R"])
            rows.append(row)
            if "error" not in im:
                log(
                    f"  {im['label']:34s} {row['median_s']*1e3:11.2f} ms  {row['per_step_us']:10.1f} µs/step"
                    + (f"  x{row['vs_hand_scan']:6.2f} hand" if "vs_hand_scan" in row else "")
                    + (f" (cpu x{row['vs_hand_scan_cpu']:6.2f})" if CPU_TIMES and "vs_hand_scan" in row else "")
                    + (f"  R={im['R']:.4f}" if im["R"] is not None else "")
                    + (f"  ({im['note']})" if im["note"] else "")
                )
        return rows


# ---------------------------------------------------------------------------
# hand-written yardsticks (plain JAX)


def rk4_scan(f, th0, dt, steps):
    """Classical RK4 as a lax.scan over `steps` steps of size dt; returns θ(steps·dt)."""

    def step(th, _):
        k1 = f(th)
        k2 = f(th + 0.5 * dt * k1)
        k3 = f(th + 0.5 * dt * k2)
        k4 = f(th + dt * k3)
        return th + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4), None

    return jax.lax.scan(step, th0, None, length=steps)[0]


def f_meanfield(omega, K):
    def f(th):
        c, s = jnp.cos(th), jnp.sin(th)
        return omega + K * (jnp.mean(s) * c - jnp.mean(c) * s)

    return f


def f_dense(omega, Kmat):
    def f(th):
        c, s = jnp.cos(th), jnp.sin(th)
        both = Kmat @ jnp.stack([c, s], -1)  # one read of K
        return omega + c * both[:, 1] - s * both[:, 0]

    return f


def f_sparse(omega, senders, receivers, weights, n):
    def f(th):
        c, s = jnp.cos(th), jnp.sin(th)
        g = jnp.stack([c, s], -1)[senders] * weights[:, None]
        agg = jax.ops.segment_sum(g, receivers, num_segments=n, indices_are_sorted=True)
        return omega + c * agg[:, 1] - s * agg[:, 0]

    return f


def f_naive(omega, Kmat):
    def f(th):
        return omega + jnp.sum(Kmat * jnp.sin(th[None, :] - th[:, None]), axis=1)

    return f


def f_naive_meanfield(omega, K):
    n = omega.shape[0]

    def f(th):
        return omega + (K / n) * jnp.sum(jnp.sin(th[None, :] - th[:, None]), axis=1)

    return f


def R_of(th):
    return kj.order_parameter(th)[0]


# ---------------------------------------------------------------------------
# toolkit calls (the model is built inside jit, as users do under vmap/grad)


def tk_solve(make_coupling, solver, T, dt, fixed=True):
    ctrl = diffrax.ConstantStepSize() if fixed else None

    @jax.jit
    def run(theta0, omega, *cargs):
        model = kj.Kuramoto(omega, make_coupling(*cargs))
        sol = kj.simulate(model, theta0, t1=T, dt=dt, solver=solver, stepsize_controller=ctrl)
        return R_of(sol.theta[-1])

    return run


# ---------------------------------------------------------------------------
# peers


def import_peers():
    peers = {}
    try:
        import kuramoto as _k

        peers["kuramoto"] = _k
    except Exception as err:  # not installed: skipped
        peers["kuramoto_error"] = f"{type(err).__name__}: {err}"
    try:
        import jaxkuramoto as _jk

        peers["jaxkuramoto"] = _jk
    except Exception as err:
        peers["jaxkuramoto_error"] = f"{type(err).__name__}: {err}"
    return peers


def peer_versions():
    out = {}
    from importlib import metadata

    for name in ("kuramoto", "jaxkuramoto"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def kuramoto040_meanfield(mod, theta0, omega, K, T, dt):
    """kuramoto 0.4.0 with an all-ones adjacency: K/in-degree = K/N, i.e. the mean field."""
    n = omega.shape[0]
    adj = np.ones((n, n))
    th0 = np.asarray(theta0, np.float64)
    om = np.asarray(omega, np.float64)

    def run():
        model = mod.Kuramoto(coupling=K, dt=dt, T=T, natfreqs=om)
        act = model.run(adj_mat=adj, angles_vec=th0)  # (N, T/dt) on linspace(0, T, T/dt)
        th = act[:, -1]
        return np.abs(np.mean(np.exp(1j * th)))

    return run


def jaxkuramoto_meanfield(mod, theta0, omega, K, T, dt):
    """jaxkuramoto 0.0.8 as its README calls it (odeint re-jits on every call)."""
    from jaxkuramoto.solver import runge_kutta

    def run():
        model = mod.Kuramoto(omega, K)
        # ts = arange(0, t1, dt); observables[i] holds the state before step i, so the last
        # entry is after len(ts) − 2 steps: t1 = T + 1.5 dt records R at T
        sol = mod.odeint(model.vector_fn, runge_kutta, 0.0, T + 1.5 * dt, dt, theta0, observable_fn=model.orderparameter)
        return sol.observables[-1]

    return run


# ---------------------------------------------------------------------------
# problems


def problem(key, n, K_scale=None):
    k1, k2 = jax.random.split(key)
    omega = jax.random.normal(k1, (n,))
    theta0 = jax.random.uniform(k2, (n,), maxval=2 * jnp.pi)
    return theta0, omega


def random_dense(key, n, mean_strength):
    """K_ij uniform in [0, 2K/N]: all-to-all with heterogeneous weights, mean field K."""
    return jax.random.uniform(key, (n, n), maxval=2 * mean_strength / n)


def random_sparse(seed, n, edges, mean_strength):
    """Random directed graph with `edges` edges, weights K/in-degree on average."""
    rng = np.random.default_rng(seed)
    s = rng.integers(0, n, edges)
    r = rng.integers(0, n, edges)
    w = rng.uniform(0, 2 * mean_strength * n / edges, edges)
    return s, r, w


def copy_bandwidth(nbytes: int) -> float:
    """Device read+write bandwidth (bytes/s) from a jitted scaled copy of a float32 array."""
    n = nbytes // 4
    x = jnp.ones((n,), jnp.float32)
    f = jax.jit(lambda x: x * 1.0001)
    block(f(x))
    ts = []
    for _ in range(10):
        t = time.perf_counter()
        block(f(x))
        ts.append(time.perf_counter() - t)
    return 2 * 4 * n / statistics.median(ts)


# ---------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--small", action="store_true", help="quick CPU run with small sizes")
    mode.add_argument("--gpu", action="store_true", help="accelerator targets (mean field 1e6, dense 1e4)")
    ap.add_argument("--out", default=None, help="output prefix (default benchmarks/results/core_<machine>[_mode])")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats per implementation")
    ap.add_argument("--no-peers", action="store_true", help="skip the PyPI peers")
    ap.add_argument("--cases", default=None, help="comma-separated subset of: all_to_all,dense,meanfield,sparse,gradient")
    ap.add_argument("--size", action="append", default=[], metavar="KEY=VALUE", help="override a size, e.g. dense_n=500")
    args = ap.parse_args(argv)

    mode_name = "gpu" if args.gpu else ("small" if args.small else "full")
    global STAT, CPU_TIMES
    STAT = "min" if jax.devices()[0].platform == "cpu" else "median"
    CPU_TIMES = jax.devices()[0].platform == "cpu"
    repeats = args.repeats or (5 if args.gpu else 3)
    dev = jax.devices()[0]
    name = machine_name()
    meta = dict(
        machine=name,
        platform=dev.platform,
        device_kind=str(dev.device_kind),
        device_count=jax.device_count(),
        cpu_count=os.cpu_count(),
        jax=jax.__version__,
        diffrax=diffrax.__version__,
        numpy=np.__version__,
        python=platform.python_version(),
        kuramoto_jax=getattr(kj, "__version__", None),
        peers=peer_versions(),
        x64=bool(jax.config.jax_enable_x64),
        mode=mode_name,
        repeats=repeats,
        ratio_statistic=STAT,
        date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        command=" ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
    )
    try:
        meta["loadavg_start"] = os.getloadavg()
    except OSError:
        pass
    lines: list[str] = []

    def log(msg=""):
        print(msg, flush=True)
        lines.append(msg)

    log(f"machine: {name} ({dev.platform}), jax {jax.__version__}, diffrax {diffrax.__version__}, mode {mode_name}")
    peers = {} if args.no_peers else import_peers()
    if not args.no_peers:
        for p in ("kuramoto", "jaxkuramoto"):
            if p not in peers:
                log(f"peer {p} skipped: {peers.get(p + '_error')}")

    # sizes per mode: (steps for the timed solves, steps for the N² naive solves)
    if mode_name == "small":
        S = dict(a2a_n=300, a2a_T=2.0, dense_n=500, dense_steps=100, mf_n=20_000, mf_steps=200,
                 sp_n=20_000, sp_e=200_000, sp_steps=20, grad_n=200, grad_steps=200, naive_steps=20)
    elif mode_name == "full":
        S = dict(a2a_n=1000, a2a_T=10.0, dense_n=2000, dense_steps=100, mf_n=100_000, mf_steps=200,
                 sp_n=100_000, sp_e=1_000_000, sp_steps=20, grad_n=500, grad_steps=300, naive_steps=20)
    else:
        S = dict(a2a_n=1000, a2a_T=10.0, dense_n=10_000, dense_steps=200, mf_n=1_000_000, mf_steps=1000,
                 sp_n=100_000, sp_e=1_000_000, sp_steps=200, grad_n=1000, grad_steps=500, naive_steps=200)
    for item in args.size:
        k, _, val = item.partition("=")
        if k not in S:
            ap.error(f"--size {item!r}: unknown size {k!r}; valid: {sorted(S)}")
        S[k] = type(S[k])(float(val)) if isinstance(S[k], float) else int(float(val))
    meta["sizes"] = dict(S)
    dt = 0.01
    K = 2.0  # above K_c = 2/(π g(0)) ≈ 1.60 for standard normal ω: partial locking
    key = jax.random.key(0)
    wanted = None if args.cases is None else set(args.cases.split(","))
    rows: list[dict] = []
    extra: dict = {}

    def want(c):
        return wanted is None or c in wanted

    # 1. all-to-all ----------------------------------------------------------
    if want("all_to_all"):
        n, T = S["a2a_n"], S["a2a_T"]
        steps = int(round(T / dt))
        th0, om = problem(jax.random.fold_in(key, 1), n)
        case = Case("all_to_all", steps, f"all-to-all K={K}, N={n}, T={T}, dt={dt} ({steps} RK4 steps)")
        log(f"\n[{case.name}] {case.description}")
        Kd = jnp.full((n, n), K / n)
        f_rk = tk_solve(kj.MeanField, "rk4", T, dt)
        f_ts = tk_solve(kj.MeanField, "tsit5", T, dt)
        f_dn = tk_solve(kj.Dense, "rk4", T, dt)
        hand = jax.jit(lambda th, om: R_of(rk4_scan(f_meanfield(om, K), th, dt, steps)))
        hand_d = jax.jit(lambda th, om, Kd: R_of(rk4_scan(f_dense(om, Kd), th, dt, steps)))
        ns = min(S["naive_steps"], steps)
        naive = jax.jit(lambda th, om: rk4_scan(f_naive_meanfield(om, K), th, dt, ns))
        case.add("toolkit rk4 (MeanField)", lambda: f_rk(th0, om, K))
        case.add("toolkit tsit5 (MeanField, fixed dt)", lambda: f_ts(th0, om, K), rhs_per_step=6)
        case.add("toolkit rk4 (Dense K/N)", lambda: f_dn(th0, om, Kd))
        case.add("hand scan (mean field)", lambda: hand(th0, om))
        case.add("hand scan dense (identity)", lambda: hand_d(th0, om, Kd))
        case.add("naive pairwise scan", lambda: naive(th0, om), steps=ns, note=f"{ns} steps timed")
        if "jaxkuramoto" in peers:
            case.add("jaxkuramoto 0.0.8 (as called)", jaxkuramoto_meanfield(peers["jaxkuramoto"], th0, om, K, T, dt),
                     note="re-jits every call")
        if "kuramoto" in peers:
            case.add("kuramoto 0.4.0 (odeint, float64)", kuramoto040_meanfield(peers["kuramoto"], th0, om, K, T, dt),
                     jax_fn=False, note="LSODA, all-ones adjacency")
        rows += case.run(repeats, log)
        # Differences of R against the float64 reference of kuramoto 0.4.0 (same θ₀, ω).
        if "kuramoto" in peers:
            kr = next((r for r in rows if r["case"] == "all_to_all" and r["impl"].startswith("kuramoto 0.4.0")), None)
            tr = next((r for r in rows if r["case"] == "all_to_all" and r["impl"].startswith("toolkit rk4 (MeanField)")), None)
            if kr and tr and "error" not in kr:
                extra["kuramoto040_speedup"] = kr["per_step_us"] / tr["per_step_us"]
                extra["kuramoto040_speedup_cpu"] = kr["cpu_per_step_us"] / tr["cpu_per_step_us"]
                extra["kuramoto040_dR"] = abs(kr["R_t1"] - tr["R_t1"])
                log(f"  toolkit rk4 vs kuramoto 0.4.0: {extra['kuramoto040_speedup']:.0f}x faster, "
                    f"|ΔR(t1)| = {extra['kuramoto040_dR']:.2e} (target ≥ 50x, ≤ 0.02)")

    # 2. dense ---------------------------------------------------------------
    if want("dense"):
        n, steps = S["dense_n"], S["dense_steps"]
        T = steps * dt
        th0, om = problem(jax.random.fold_in(key, 2), n)
        Kd = random_dense(jax.random.fold_in(key, 3), n, K)
        case = Case("dense", steps, f"dense random K (mean {K}/N), N={n}, {steps} RK4 steps")
        log(f"\n[{case.name}] {case.description}")
        f_rk = tk_solve(kj.Dense, "rk4", T, dt)
        f_ts = tk_solve(kj.Dense, "tsit5", T, dt)
        hand = jax.jit(lambda th, om, Kd: R_of(rk4_scan(f_dense(om, Kd), th, dt, steps)))
        ns = min(S["naive_steps"], steps)
        naive = jax.jit(lambda th, om, Kd: rk4_scan(f_naive(om, Kd), th, dt, ns))
        case.add("toolkit rk4 (Dense)", lambda: f_rk(th0, om, Kd))
        case.add("toolkit tsit5 (Dense, fixed dt)", lambda: f_ts(th0, om, Kd), rhs_per_step=6)
        case.add("hand scan (identity)", lambda: hand(th0, om, Kd))
        case.add("naive pairwise scan", lambda: naive(th0, om, Kd), steps=ns, note=f"{ns} steps timed")
        drows = case.run(repeats, log)
        rows += drows
        # Memory floor: one read of K per right-hand side.
        itemsize = Kd.dtype.itemsize
        bw = copy_bandwidth(max(256 * 2**20, 4 * n * n) if mode_name == "gpu" else 64 * 2**20)
        k_bytes = itemsize * n * n
        floor = k_bytes / bw
        flops_rhs = 4 * n * n + 30 * n  # two multiply-adds per K entry (cos and sin columns)
        bytes_rhs = k_bytes + 10 * itemsize * n
        tr = next(r for r in drows if r["impl"].startswith("toolkit rk4"))
        hr = next(r for r in drows if r["impl"].startswith("hand scan"))
        per_rhs = tr.get("per_step_us", float("nan")) * 1e-6 / 4
        extra["dense"] = dict(
            n=n, copy_bandwidth_GBs=bw / 1e9, K_bytes=k_bytes, K_read_floor_us=floor * 1e6,
            toolkit_per_rhs_us=per_rhs * 1e6, hand_per_rhs_us=hr.get("per_step_us", float("nan")) / 4,
            toolkit_vs_floor=per_rhs / floor, flops_per_step=4 * flops_rhs, bytes_per_step=4 * bytes_rhs,
            arithmetic_intensity=flops_rhs / bytes_rhs,
            achieved_GBs=bytes_rhs / per_rhs / 1e9, achieved_GFLOPs=flops_rhs / per_rhs / 1e9,
        )
        d = extra["dense"]
        log(f"  copy bandwidth {d['copy_bandwidth_GBs']:.1f} GB/s; K = {k_bytes/1e6:.1f} MB -> read floor "
            f"{d['K_read_floor_us']:.1f} µs per RHS; toolkit {d['toolkit_per_rhs_us']:.1f} µs per RHS = "
            f"{d['toolkit_vs_floor']:.2f}x floor (GPU target ≤ 1.3x)")
        log(f"  per RK4 step: {d['flops_per_step']/1e6:.1f} MFLOP, {d['bytes_per_step']/1e6:.1f} MB "
            f"(intensity {d['arithmetic_intensity']:.2f} flop/byte); achieved {d['achieved_GBs']:.1f} GB/s, "
            f"{d['achieved_GFLOPs']:.1f} GFLOP/s")

    # 3. mean field ------------------------------------------------------------
    if want("meanfield"):
        n, steps = S["mf_n"], S["mf_steps"]
        T = steps * dt
        th0, om = problem(jax.random.fold_in(key, 4), n)
        case = Case("meanfield", steps, f"mean field K={K}, N={n}, {steps} RK4 steps")
        log(f"\n[{case.name}] {case.description}")
        f_rk = tk_solve(kj.MeanField, "rk4", T, dt)
        f_ts = tk_solve(kj.MeanField, "tsit5", T, dt)
        hand = jax.jit(lambda th, om: R_of(rk4_scan(f_meanfield(om, K), th, dt, steps)))
        case.add("toolkit rk4 (MeanField)", lambda: f_rk(th0, om, K))
        case.add("toolkit tsit5 (MeanField, fixed dt)", lambda: f_ts(th0, om, K), rhs_per_step=6)
        case.add("hand scan (mean field)", lambda: hand(th0, om))
        if "jaxkuramoto" in peers:
            case.add("jaxkuramoto 0.0.8 (as called)", jaxkuramoto_meanfield(peers["jaxkuramoto"], th0, om, K, T, dt),
                     note="re-jits every call")
        rows += case.run(repeats, log)
        # floor: 4 stages each read θ and write k (plus the sums): ~ 4·(2 reads + 1 write)·N·itemsize
        if mode_name == "gpu":
            bw = copy_bandwidth(256 * 2**20)
            extra["meanfield"] = dict(n=n, bytes_per_step=4 * 3 * 4 * n, floor_us=4 * 3 * 4 * n / bw * 1e6)
            log(f"  copy bandwidth {bw/1e9:.0f} GB/s; ~{extra['meanfield']['bytes_per_step']/1e6:.0f} MB moved per RK4 step "
                f"-> memory floor ~{extra['meanfield']['floor_us']:.1f} µs per step")

    # 4. sparse --------------------------------------------------------------
    if want("sparse"):
        n, E, steps = S["sp_n"], S["sp_e"], S["sp_steps"]
        T = steps * dt
        th0, om = problem(jax.random.fold_in(key, 5), n)
        s, r, w = random_sparse(5, n, E, K)
        case = Case("sparse", steps, f"random directed graph N={n}, E={E} edges, {steps} RK4 steps")
        log(f"\n[{case.name}] {case.description}")
        sp = kj.Sparse(s, r, w, n)  # sorted by receiver at construction
        ss, rr, ww = sp.senders, sp.receivers, sp.weights
        f_rk = jax.jit(lambda th, om, sp: R_of(kj.simulate(kj.Kuramoto(om, sp), th, t1=T, dt=dt, solver="rk4").theta[-1]))
        hand = jax.jit(lambda th, om, ss, rr, ww: R_of(rk4_scan(f_sparse(om, ss, rr, ww, n), th, dt, steps)))
        case.add("toolkit rk4 (Sparse)", lambda: f_rk(th0, om, sp))
        case.add("hand scan (gather + segment_sum)", lambda: hand(th0, om, ss, rr, ww))
        try:
            from jax.experimental import sparse as jsparse

            bcoo = jsparse.BCOO((ww, jnp.stack([rr, ss], 1)), shape=(n, n))

            def f_bcoo(om, A):
                def f(th):
                    c, si = jnp.cos(th), jnp.sin(th)
                    agg = A @ jnp.stack([c, si], -1)
                    return om + c * agg[:, 1] - si * agg[:, 0]

                return f

            hb = jax.jit(lambda th, om, A: R_of(rk4_scan(f_bcoo(om, A), th, dt, steps)))
            case.add("hand scan (BCOO matvec)", lambda: hb(th0, om, bcoo))
        except ImportError:
            pass
        rows += case.run(repeats, log)

    # 5. gradient cost -----------------------------------------------------
    if want("gradient"):
        n, steps = S["grad_n"], S["grad_steps"]
        T = steps * dt
        nsave = 20
        stride = steps // (2 * nsave)
        ts = (steps // 2 + stride * jnp.arange(nsave)) * dt  # on the step grid, as the hand scan saves
        th0, om = problem(jax.random.fold_in(key, 6), n)
        Kd = random_dense(jax.random.fold_in(key, 7), n, K)
        log(f"\n[gradient] loss = mean of R over {nsave} save times in [T/2, T]; dense N={n}, {steps} RK4 steps; "
            "gradient with respect to ω and K")

        def tk_loss(om, Kd, th0):
            model = kj.Kuramoto(om, kj.Dense(Kd))
            sol = kj.simulate(model, th0, t1=T, dt=dt, ts=ts, solver="rk4", observe=R_of)
            return jnp.mean(sol.observables)

        def hand_loss(om, Kd, th0):
            f = f_dense(om, Kd)
            th = rk4_scan(f, th0, dt, steps // 2)

            def outer(th, _):
                th = rk4_scan(f, th, dt, stride)
                return th, R_of(th)

            _, Rs = jax.lax.scan(outer, th, None, length=nsave - 1)
            return (R_of(th) + jnp.sum(Rs)) / nsave

        def tk_loss_all(om, Kd, th0):
            # every step stored for the backward pass (no recomputation), like the hand scan
            model = kj.Kuramoto(om, kj.Dense(Kd))
            adj = diffrax.RecursiveCheckpointAdjoint(checkpoints=steps + 1)
            sol = kj.simulate(model, th0, t1=T, dt=dt, ts=ts, solver="rk4", observe=R_of, adjoint=adj)
            return jnp.mean(sol.observables)

        case = Case("gradient", steps, f"dense N={n}, {steps} steps, loss = mean R(t)")
        for label, fn in (("toolkit rk4", tk_loss), ("toolkit rk4 checkpoints=all", tk_loss_all), ("hand scan", hand_loss)):
            fwd = jax.jit(fn)
            vg = jax.jit(jax.value_and_grad(fn, argnums=(0, 1)))
            case.add(f"{label} forward", lambda fwd=fwd: fwd(om, Kd, th0))
            case.add(f"{label} forward+gradient", lambda vg=vg: vg(om, Kd, th0)[0])
        grows = case.run(repeats, log)
        rows += grows
        get = {r["impl"]: r for r in grows if "error" not in r}
        g = {}
        for label in ("toolkit rk4", "toolkit rk4 checkpoints=all", "hand scan"):
            if f"{label} forward" in get and f"{label} forward+gradient" in get:
                g[label] = get[f"{label} forward+gradient"]["per_step_us"] / get[f"{label} forward"]["per_step_us"]
        extra["gradient_cost_ratio"] = g
        if g:
            log("  forward+gradient / forward: " + ", ".join(f"{k} {v:.2f}" for k, v in g.items()))
        if "toolkit rk4 forward" in get and "hand scan forward" in get:
            log(f"  loss toolkit {get['toolkit rk4 forward']['R_t1']:.6f} vs hand {get['hand scan forward']['R_t1']:.6f}")

    try:
        meta["loadavg_end"] = os.getloadavg()
    except OSError:
        pass

    # summary -----------------------------------------------------------------
    targets = build_targets(rows, extra, CPU_TIMES)
    log("\nsummary")
    for k, v in targets.items():
        log(f"  {k:56s} {v}")

    prefix = args.out
    if prefix is None:
        suffix = "" if mode_name == "full" else f"_{mode_name}"
        here = Path(__file__).resolve().parent
        prefix = str(here / "results" / f"core_{slug(name)}{suffix}")
    prefix = Path(prefix)
    if prefix.suffix in (".json", ".md"):
        prefix = prefix.with_suffix("")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    result = dict(meta=meta, targets=targets, extra=extra, rows=rows, log=lines)
    tmp = prefix.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=1, default=float))
    os.replace(tmp, prefix.with_suffix(".json"))
    prefix.with_suffix(".md").write_text(to_markdown(result, lines))
    print(f"\nwrote {prefix.with_suffix('.json')} and .md")


def build_targets(rows, extra, cpu_times: bool) -> dict:
    """The specification's targets, from the measured rows."""
    targets = {}
    for c in ("all_to_all", "meanfield", "dense", "sparse"):
        t = next((r for r in rows if r["case"] == c and r["impl"].startswith("toolkit rk4") and "vs_hand_scan" in r), None)
        if t:
            targets[f"{c}: toolkit rk4 / hand scan (≤ 1.5)"] = round(t["vs_hand_scan"], 3)
            if cpu_times:
                targets[f"{c}: toolkit rk4 / hand scan, process CPU time"] = round(t["vs_hand_scan_cpu"], 3)
    if "kuramoto040_speedup" in extra:
        targets["all_to_all: speed-up over kuramoto 0.4.0 (≥ 50)"] = round(extra["kuramoto040_speedup"], 1)
        if cpu_times and "kuramoto040_speedup_cpu" in extra:
            targets["all_to_all: speed-up over kuramoto 0.4.0, process CPU time"] = round(extra["kuramoto040_speedup_cpu"], 1)
        targets["all_to_all: |ΔR(t1)| vs kuramoto 0.4.0 (≤ 0.02)"] = float(f"{extra['kuramoto040_dR']:.3g}")
    if "dense" in extra:
        targets["dense: toolkit per RHS / K-read floor (GPU ≤ 1.3)"] = round(extra["dense"]["toolkit_vs_floor"], 3)
    g = {r["impl"]: r for r in rows if r["case"] == "gradient" and "error" not in r}
    for label in ("toolkit rk4", "toolkit rk4 checkpoints=all", "hand scan"):
        f, b = g.get(f"{label} forward"), g.get(f"{label} forward+gradient")
        if f and b:
            targets[f"gradient: {label} forward+gradient / forward"] = round(b["per_step_us"] / f["per_step_us"], 2)
            if cpu_times:
                targets[f"gradient: {label} forward+gradient / forward, process CPU time"] = round(
                    b["cpu_per_step_us"] / f["cpu_per_step_us"], 2
                )
    return targets


def render(json_path: str, log_path: str | None = None) -> None:
    """Rebuild the targets and the .md next to a recorded .json (same measurements)."""
    path = Path(json_path)
    result = json.loads(path.read_text())
    lines = result.get("log")
    if lines is None and log_path:
        lines = Path(log_path).read_text().splitlines()
    result["targets"] = build_targets(result["rows"], result["extra"], result["meta"]["platform"] == "cpu")
    result["log"] = lines or []
    path.write_text(json.dumps(result, indent=1, default=float))
    path.with_suffix(".md").write_text(to_markdown(result, result["log"]))


def to_markdown(result, lines) -> str:
    m = result["meta"]
    out = [
        f"# Core benchmark: {m['machine']} ({m['platform']})",
        "",
        f"- date {m['date']}, mode `{m['mode']}`, repeats {m['repeats']}, command `{m['command']}`",
        f"- jax {m['jax']}, diffrax {m['diffrax']}, numpy {m['numpy']}, python {m['python']}, x64 {m['x64']}",
        f"- peers: {m['peers']}",
        f"- load average at start/end: {m.get('loadavg_start')} / {m.get('loadavg_end')}"
        + (" (shared machine: absolute times are noisy)" if m["platform"] == "cpu" else ""),
        "",
        f"Per-step times and ratios use the {m['ratio_statistic']} wall time over repeats (interleaved); "
        "'CPU time' is the process CPU time (all threads, minimum over repeats), which on a shared "
        "machine measures the work done without the waiting for a core (meaningless on accelerators).",
        "",
        "| case | implementation | steps timed | median | min | per step | × hand scan | CPU time per step | × hand (CPU time) | R(t1) | note |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        if "error" in r:
            out.append(f"| {r['case']} | {r['impl']} | | failed | | | | | | | {r['error']} |")
            continue
        vs = f"{r['vs_hand_scan']:.2f}" if "vs_hand_scan" in r else ""
        vc = f"{r['vs_hand_scan_cpu']:.2f}" if "vs_hand_scan_cpu" in r else ""
        R = f"{r['R_t1']:.4f}" if r.get("R_t1") is not None else ""
        out.append(
            f"| {r['case']} | {r['impl']} | {r['steps']} | {r['median_s']*1e3:.1f} ms | {r['min_s']*1e3:.1f} ms | {r['per_step_us']:.1f} µs | {vs} | {r['cpu_per_step_us']:.1f} µs | {vc} | {R} | {r['note']} |"
        )
    out += ["", "## Targets", ""]
    out += [f"- {k}: **{v}**" for k, v in result["targets"].items()]
    out += ["", "## Log", "", "```", *lines, "```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--render":  # --render RESULT.json [LOG.txt]
        render(*sys.argv[2:4])
    else:
        main()
