r"""What a gradient through `simulate` costs, against a hand-written `lax.scan`.

Loss: the mean order parameter R over evenly spaced save times of a classical RK4
solve (dt = 0.1); gradient with respect to the coupling (the (N, N) matrix, the
mean-field strength, the edge weights). For every case the same θ₀, ω and coupling
(float32) go to

* ``toolkit``             ``kj.simulate(..., observe=R)``: the default path (a fixed-step
  solve of known length runs the diffrax solver's ``step`` in a ``lax.scan``),
* ``toolkit diffeqsolve`` the same call with ``adjoint=RecursiveCheckpointAdjoint()``,
  which goes through ``diffrax.diffeqsolve``'s checkpointed while loop,
* ``toolkit before``      (dense only) ``diffeqsolve`` with the dense aggregate
  differentiated by JAX's own rule for ``K @ [cos θ, sin θ]`` — the state before the
  hand-written derivative rule,
* ``hand scan``           RK4 as a ``lax.scan`` with
  Σ_j K_ij sin(θ_j − θ_i) = cos θ_i (K sin θ)_i − sin θ_i (K cos θ)_i written as two
  matrix–vector products (mean field through Z = ⟨e^{iθ}⟩; sparse through gather +
  ``segment_sum``), differentiated by ``jax.grad``.

Also timed: the delay integrator (dense N = 256, Euler, sender delays of 0–10 steps)
against a hand-written ring-buffer Euler scan, and one KuraNet training step (Cases I
and III) with the previous dense rule and solve loop ("before") and the current ones.

Every function is jitted and compiled first; repeats of all implementations of a case
are interleaved (the machine may be shared) and the minimum wall time is kept, with
the minimum process CPU time beside it on CPUs. On accelerators the median is used.

    python benchmarks/grad_bench.py                 # CPU sizes; --device gpu adds the GPU sizes
    python benchmarks/grad_bench.py --cases dense256,meanfield256 --repeats 3

Writes ``benchmarks/results/grad_<platform>.json`` and ``.md`` (or ``--out PREFIX``).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

import jax
import jax.numpy as jnp

import diffrax
import kuramoto_jax as kj

sys.path.insert(0, str(Path(__file__).resolve().parent))
from core_bench import copy_bandwidth, f_meanfield, f_sparse, machine_name  # noqa: E402

DT = 0.1
K_MEAN = 2.0


def R_of(th):
    return kj.order_parameter(th)[0]


def block(x):
    return jax.block_until_ready(x)


# ---------------------------------------------------------------------------
# hand-written yardsticks


def rk4_scan(f, th, steps):
    def step(th, _):
        k1 = f(th)
        k2 = f(th + 0.5 * DT * k1)
        k3 = f(th + 0.5 * DT * k2)
        k4 = f(th + DT * k3)
        return th + (DT / 6) * (k1 + 2 * k2 + 2 * k3 + k4), None

    return jax.lax.scan(step, th, None, length=steps)[0]


def hand_loss(f, th0, stride, nsave):
    """Mean of R at steps 0, stride, …, (nsave − 1)·stride."""

    def outer(th, _):
        th = rk4_scan(f, th, stride)
        return th, R_of(th)

    _, Rs = jax.lax.scan(outer, th0, None, length=nsave - 1)
    return (R_of(th0) + jnp.sum(Rs)) / nsave


def f_dense(om, K):
    def f(th):
        c, s = jnp.cos(th), jnp.sin(th)
        return om + c * (K @ s) - s * (K @ c)

    return f


@jax.custom_jvp
def _aggregate_unmaterialised(K, cos_src, sin_src):
    both = K @ jnp.stack([cos_src, sin_src], axis=-1)
    return both[..., 0], both[..., 1]


@_aggregate_unmaterialised.defjvp
def _(primals, tangents):
    # The toolkit's dense rule as it was before the sources were materialised for the K cotangent.
    K, c, s = primals
    dK, dc, ds = tangents
    out = _aggregate_unmaterialised(K, c, s)
    b = jnp.stack([dc, ds], axis=-2) @ K.T
    return out, (b[..., 0, :] + jnp.sum(dK * c[..., None, :], axis=-1),
                 b[..., 1, :] + jnp.sum(dK * s[..., None, :], axis=-1))


class UnmaterialisedDense(kj.Dense):
    """`Dense` with the previous derivative rule (cos θ, sin θ not materialised for K̄)."""

    def aggregate(self, cos_src, sin_src):
        return _aggregate_unmaterialised(self.matrix, cos_src, sin_src)


class StackedDense(kj.Dense):
    """`Dense` with JAX's own derivative of K @ [cos θ, sin θ] (the rule before this benchmark's change)."""

    def aggregate(self, cos_src, sin_src):
        both = self.matrix @ jnp.stack([cos_src, sin_src], axis=-1)
        return both[..., 0], both[..., 1]


# ---------------------------------------------------------------------------
# timing


class Case:
    def __init__(self, name, description, stat):
        self.name, self.description, self.stat = name, description, stat
        self.fns: list[tuple[str, callable]] = []

    def add(self, label, fn):
        self.fns.append((label, fn))

    def run(self, repeats, log):
        log(f"\n[{self.name}] {self.description}")
        rec = {}
        for label, fn in self.fns:
            t = time.perf_counter()
            out = block(fn())
            rec[label] = dict(first_s=time.perf_counter() - t, value=float(out), wall=[], cpu=[])
        for _ in range(repeats):
            for label, fn in self.fns:
                t, c = time.perf_counter(), time.process_time()
                block(fn())
                rec[label]["wall"].append(time.perf_counter() - t)
                rec[label]["cpu"].append(time.process_time() - c)
        rows = []
        for label, r in rec.items():
            w = min(r["wall"]) if self.stat == "min" else statistics.median(r["wall"])
            row = dict(case=self.name, impl=label, time_s=w, min_s=min(r["wall"]), median_s=statistics.median(r["wall"]),
                       cpu_min_s=min(r["cpu"]), first_call_s=r["first_s"], value=r["value"], repeats=repeats)
            rows.append(row)
            log(f"  {label:44s} {w * 1e3:10.2f} ms   cpu {row['cpu_min_s'] * 1e3:10.2f} ms   value {r['value']:.6f}")
        return rows


def add_pair(case, label, loss, args, wrt):
    """Forward (the loss) and forward+gradient (value_and_grad with respect to args[wrt])."""
    fwd = jax.jit(loss)
    vg = jax.jit(jax.value_and_grad(loss, argnums=wrt))
    case.add(f"{label} forward", lambda: fwd(*args))
    case.add(f"{label} forward+gradient", lambda: vg(*args)[0])


def problem(seed, n):
    k1, k2 = jax.random.split(jax.random.key(seed))
    return jax.random.uniform(k2, (n,), maxval=2 * jnp.pi), jax.random.normal(k1, (n,))


def ts_grid(steps, nsave):
    stride = steps // (nsave - 1)
    return np.arange(nsave) * stride * DT, stride


def toolkit_loss(make_model, steps, nsave, adjoint=None):
    ts, _ = ts_grid(steps, nsave)

    def loss(coupling_arg, om, th0):
        sol = kj.simulate(make_model(coupling_arg, om), th0, t1=steps * DT, dt=DT, ts=ts, solver="rk4",
                          observe=R_of, adjoint=adjoint)
        return jnp.mean(sol.observables)

    return loss


def coupling_case(name, kind, n, steps, nsave, seed, stat, edges=None):
    th0, om = problem(seed, n)
    _, stride = ts_grid(steps, nsave)
    case = Case(name, "", stat)
    rk = diffrax.RecursiveCheckpointAdjoint()
    if kind == "dense":
        arg = jax.random.uniform(jax.random.fold_in(jax.random.key(seed), 1), (n, n), maxval=2 * K_MEAN / n)
        make = lambda K, om: kj.Kuramoto(om, kj.Dense(K))
        hand = lambda K, om, th0: hand_loss(f_dense(om, K), th0, stride, nsave)
        case.description = f"dense random K (mean {K_MEAN}/N), N={n}, {steps} RK4 steps, R saved {nsave}×; d/dK"
    elif kind == "meanfield":
        arg = jnp.asarray(K_MEAN)
        make = lambda K, om: kj.Kuramoto(om, kj.MeanField(K))
        hand = lambda K, om, th0: hand_loss(f_meanfield(om, K), th0, stride, nsave)
        case.description = f"mean field K={K_MEAN}, N={n}, {steps} RK4 steps, R saved {nsave}×; d/dK"
    else:
        rng = np.random.default_rng(seed)
        sp = kj.Sparse(rng.integers(0, n, edges), rng.integers(0, n, edges),
                       rng.uniform(0, 2 * K_MEAN * n / edges, edges).astype(np.float32), n)
        snd, rcv, arg = sp.senders, sp.receivers, sp.weights
        make = lambda w, om: kj.Kuramoto(om, kj.Sparse(snd, rcv, w, n))
        hand = lambda w, om, th0: hand_loss(f_sparse(om, snd, rcv, w, n), th0, stride, nsave)
        case.description = f"sparse random graph N={n}, E={edges}, {steps} RK4 steps, R saved {nsave}×; d/dweights"
    args = (arg, om, th0)
    add_pair(case, "toolkit", toolkit_loss(make, steps, nsave), args, 0)
    add_pair(case, "toolkit diffeqsolve", toolkit_loss(make, steps, nsave, rk), args, 0)
    if kind == "dense":
        make_old = lambda K, om: kj.Kuramoto(om, StackedDense(K))
        add_pair(case, "toolkit before", toolkit_loss(make_old, steps, nsave, rk), args, 0)
    add_pair(case, "hand scan", hand, args, 0)
    info = dict(kind=kind, n=n, steps=steps, nsave=nsave, edges=edges)
    return case, info


def recompute_case(n, steps, nsave, seed, stat):
    """Dense, with the scan path's long-solve memory policy forced: each step recomputed in the reverse pass."""
    from kuramoto_jax import _solve

    th0, om = problem(seed, n)
    K = jax.random.uniform(jax.random.fold_in(jax.random.key(seed), 1), (n, n), maxval=2 * K_MEAN / n)
    _, stride = ts_grid(steps, nsave)
    case = Case(f"dense{n}_recompute", f"dense N={n}, {steps} RK4 steps, every step recomputed in the reverse pass "
                f"(the policy above {_solve._STORE_RESIDUALS} stored elements); d/dK", stat)
    make = lambda K, om: kj.Kuramoto(om, kj.Dense(K))
    make_old = lambda K, om: kj.Kuramoto(om, UnmaterialisedDense(K))

    def hand(K, om, th0):
        f = f_dense(om, K)

        def outer(th, _):
            step = jax.checkpoint(lambda th, _: (rk4_scan(f, th, 1), None))
            th = jax.lax.scan(step, th, None, length=stride)[0]
            return th, R_of(th)

        _, Rs = jax.lax.scan(outer, th0, None, length=nsave - 1)
        return (R_of(th0) + jnp.sum(Rs)) / nsave

    args = (K, om, th0)
    add_pair(case, "toolkit", toolkit_loss(make, steps, nsave), args, 0)
    add_pair(case, "toolkit before", toolkit_loss(make_old, steps, nsave), args, 0)
    add_pair(case, "hand scan", hand, args, 0)
    # Compile under the forced policy (the toolkit reads it while tracing).
    saved = _solve._STORE_RESIDUALS
    _solve._STORE_RESIDUALS = 0
    try:
        for _, fn in case.fns:
            block(fn())
    finally:
        _solve._STORE_RESIDUALS = saved
    return case, dict(kind="dense_recompute", n=n, steps=steps, nsave=nsave)


def delay_case(n, steps, seed, stat):
    """Dense Euler with per-sender delays of 0–10 steps; loss = mean R over the last 50 steps."""
    th0, om = problem(seed, n)
    K = jax.random.uniform(jax.random.fold_in(jax.random.key(seed), 1), (n, n), maxval=2 * K_MEAN / n)
    d = np.random.default_rng(seed).integers(0, 11, n)
    ts = (np.arange(steps - 49, steps + 1) * DT).astype(np.float32)
    H = int(d.max()) + 1

    def toolkit(K, om, th0):
        model = kj.Kuramoto(om, kj.Dense(K), delays=d * DT)
        sol = kj.simulate(model, th0, t1=steps * DT, dt=DT, ts=ts, solver="euler", observe=R_of)
        return jnp.mean(sol.observables)

    dj, cols = jnp.asarray(d), jnp.arange(n)

    def hand(K, om, th0):
        def step(carry, _):
            th, hist, k = carry
            hist = hist.at[k % H].set(th)
            src = hist[(k - dj) % H, cols]
            th = th + DT * (om + jnp.cos(th) * (K @ jnp.sin(src)) - jnp.sin(th) * (K @ jnp.cos(src)))
            return (th, hist, k + 1), R_of(th)

        _, Rs = jax.lax.scan(step, (th0, jnp.broadcast_to(th0, (H, n)), 0), None, length=steps)
        return jnp.mean(Rs[-50:])

    case = Case("delay", f"dense N={n} with sender delays 0–10 steps, {steps} Euler steps, R over the last 50; d/dK",
                stat)
    add_pair(case, "toolkit", toolkit, (K, om, th0), 0)
    add_pair(case, "hand scan", hand, (K, om, th0), 0)
    return case, dict(kind="delay", n=n, steps=steps)


def kuranet_case(stat):
    """One training step (n = 100 graph, 150 Euler steps, gradient, Adam), before and after."""
    import equinox as eqx
    import optax

    from kuramoto_jax import kuranet as kn

    case = Case("kuranet", "KuraNet training step, n = 100, 150 Euler steps, hidden [32, 32]", stat)
    for kcase in ("I", "III"):
        dim = 1 if kcase == "I" else 2
        params = kn.init_coupling(jax.random.key(0), dim, (32, 32), dtype=jnp.float32)  # an equinox PairMLP
        opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3))
        state = opt.init(eqx.filter(params, eqx.is_inexact_array))

        def window_before(K, om, th0, field, delay_steps):
            # The previous route: JAX's rule for the dense product, and (without delays)
            # diffeqsolve storing every step through RecursiveCheckpointAdjoint(checkpoints=150).
            delays = None if delay_steps is None else delay_steps.astype(om.dtype) * 0.1
            model = kj.Kuramoto(om, StackedDense(K), field=field, delays=delays)
            ts = kn.window_times(0.1, 100, 50, np.float32)
            extra = {} if delay_steps is not None else dict(
                max_steps=150, adjoint=diffrax.RecursiveCheckpointAdjoint(checkpoints=150))
            return kj.simulate(model, th0, t1=15.0, dt=0.1, ts=ts, solver="euler",
                               max_delay_steps=None if delay_steps is None else kn.MAX_DELAY_STEPS, **extra).theta

        def window_after(K, om, th0, field, delay_steps):
            return kn.simulate_window(K, om, th0, field=field, delay_steps=delay_steps)

        for label, window in (("before", window_before), ("after", window_after)):
            def loss(p, k, window=window, kcase=kcase):
                k1, k2 = jax.random.split(k)
                dis = kn.sample_disorder(k1, kcase, 100, jnp.float32)
                K = kn.coupling_matrix(p, dis.features, "global")
                th0 = jax.random.uniform(k2, (100,), jnp.float32, 0, 6.283)
                return kn.sync_loss(window(K, dis.omega, th0, dis.field, dis.delay_steps))

            @eqx.filter_jit
            def step(p, s, k, loss=loss):
                value, g = eqx.filter_value_and_grad(loss)(p, k)
                u, s = opt.update(g, s, eqx.filter(p, eqx.is_inexact_array))
                return eqx.apply_updates(p, u), s, value

            case.add(f"Case {kcase} training step {label}",
                     lambda step=step, state=state, params=params: step(params, state, jax.random.key(1))[2])
    return case, dict(kind="kuranet")


# ---------------------------------------------------------------------------


def targets_of(rows, infos, platform_, extra):
    by = {(r["case"], r["impl"]): r for r in rows}
    t = {}
    tol = 1.1 if platform_ == "cpu" else 1.2
    for name, info in infos.items():
        if info["kind"] == "dense_recompute":
            g = lambda impl: by[(name, impl)]["time_s"]
            t[f"{name}: toolkit fwd+grad / hand fwd+grad"] = round(g("toolkit forward+gradient") / g("hand scan forward+gradient"), 3)
            t[f"{name}: before fwd+grad / now fwd+grad"] = round(g("toolkit before forward+gradient") / g("toolkit forward+gradient"), 2)
            continue
        if info["kind"] not in ("dense", "meanfield", "sparse", "delay"):
            continue
        g = lambda impl, key="time_s": by[(name, impl)][key]
        t[f"{name}: toolkit fwd+grad / hand fwd+grad (≤ {tol})"] = round(g("toolkit forward+gradient") / g("hand scan forward+gradient"), 3)
        t[f"{name}: toolkit fwd+grad / toolkit fwd"] = round(g("toolkit forward+gradient") / g("toolkit forward"), 2)
        t[f"{name}: hand fwd+grad / hand fwd"] = round(g("hand scan forward+gradient") / g("hand scan forward"), 2)
        if platform_ == "cpu":
            t[f"{name}: toolkit fwd+grad / hand fwd+grad, CPU time"] = round(
                g("toolkit forward+gradient", "cpu_min_s") / g("hand scan forward+gradient", "cpu_min_s"), 3)
            t[f"{name}: toolkit fwd+grad / toolkit fwd, CPU time"] = round(
                g("toolkit forward+gradient", "cpu_min_s") / g("toolkit forward", "cpu_min_s"), 2)
        if (name, "toolkit diffeqsolve forward+gradient") in by:
            t[f"{name}: diffeqsolve fwd+grad / scan-path fwd+grad"] = round(
                g("toolkit diffeqsolve forward+gradient") / g("toolkit forward+gradient"), 3)
            t[f"{name}: diffeqsolve fwd / scan-path fwd"] = round(g("toolkit diffeqsolve forward") / g("toolkit forward"), 3)
        if (name, "toolkit before forward+gradient") in by:
            t[f"{name}: before fwd+grad / now fwd+grad"] = round(
                g("toolkit before forward+gradient") / g("toolkit forward+gradient"), 2)
    for name, floor in extra.get("dense_floor", {}).items():
        t[f"{name}: toolkit forward per RHS / one-read-of-K floor (GPU ≤ 1.3)"] = round(floor["ratio"], 3)
    for kcase in ("I", "III"):
        b, a = by.get(("kuranet", f"Case {kcase} training step before")), by.get(("kuranet", f"Case {kcase} training step after"))
        if a and b:
            t[f"kuranet Case {kcase}: training step before / after"] = round(b["time_s"] / a["time_s"], 2)
    return t


def to_markdown(res):
    m = res["meta"]
    out = [f"# Gradient cost: {m['machine']} ({m['platform']})", "",
           f"- date {m['date']}, command `{m['command']}`",
           f"- jax {m['jax']}, diffrax {m['diffrax']}, equinox {m['equinox']}, float32, {m['cpu_count']} CPUs visible, "
           f"repeats {m['repeats']} (interleaved), statistic: {m['statistic']} wall time",
           f"- load average at start/end: {m.get('loadavg_start')} / {m.get('loadavg_end')}", "",
           "| case | implementation | time | CPU time (min) | first call | value |", "|---|---|---|---|---|---|"]
    for r in res["rows"]:
        out.append(f"| {r['case']} | {r['impl']} | {r['time_s'] * 1e3:.1f} ms | {r['cpu_min_s'] * 1e3:.1f} ms | "
                   f"{r['first_call_s']:.2f} s | {r['value']:.6f} |")
    out += ["", "## Ratios", ""] + [f"- {k}: **{v}**" for k, v in res["targets"].items()]
    out += ["", "## Log", "", "```", *res["log"], "```", ""]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto",
                    help="cpu: the CPU sizes; gpu: also the accelerator sizes (auto: from the default backend)")
    ap.add_argument("--cases", default=None, help="comma-separated subset of the case names")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--out", default=None, help="output prefix (default benchmarks/results/grad_<platform>)")
    args = ap.parse_args(argv)
    dev = jax.devices()[0]
    gpu = args.device == "gpu" or (args.device == "auto" and dev.platform != "cpu")
    stat = "min" if dev.platform == "cpu" else "median"
    repeats = args.repeats or (5 if dev.platform == "cpu" else 10)
    import equinox

    meta = dict(machine=machine_name(), platform=dev.platform, device_kind=str(dev.device_kind), cpu_count=os.cpu_count(),
                jax=jax.__version__, diffrax=diffrax.__version__, equinox=equinox.__version__,
                python=platform.python_version(), x64=bool(jax.config.jax_enable_x64), repeats=repeats, statistic=stat,
                date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                command=" ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]))
    try:
        meta["loadavg_start"] = os.getloadavg()
    except OSError:
        pass
    lines: list[str] = []

    def log(msg=""):
        print(msg, flush=True)
        lines.append(msg)

    log(f"machine: {meta['machine']} ({dev.platform}), jax {jax.__version__}, diffrax {diffrax.__version__}")
    builders = {
        "dense256": lambda: coupling_case("dense256", "dense", 256, 500, 26, 1, stat),
        "dense2000": lambda: coupling_case("dense2000", "dense", 2000, 50, 6, 2, stat),
        "meanfield256": lambda: coupling_case("meanfield256", "meanfield", 256, 500, 26, 3, stat),
        "meanfield1e4": lambda: coupling_case("meanfield1e4", "meanfield", 10_000, 500, 26, 4, stat),
        "sparse1e5": lambda: coupling_case("sparse1e5", "sparse", 10_000, 200, 11, 5, stat, edges=100_000),
        "dense256_recompute": lambda: recompute_case(256, 500, 26, 1, stat),
        "delay": lambda: delay_case(256, 500, 6, stat),
        "kuranet": lambda: kuranet_case(stat),
    }
    if gpu:
        builders.update({
            "dense1e4": lambda: coupling_case("dense1e4", "dense", 10_000, 200, 11, 7, stat),
            "meanfield1e6": lambda: coupling_case("meanfield1e6", "meanfield", 1_000_000, 1000, 11, 8, stat),
            "sparse1e6": lambda: coupling_case("sparse1e6", "sparse", 100_000, 200, 11, 9, stat, edges=1_000_000),
        })
    wanted = list(builders) if args.cases is None else args.cases.split(",")
    unknown = [c for c in wanted if c not in builders]
    if unknown:
        ap.error(f"--cases: unknown {unknown}; valid: {list(builders)}")
    rows, infos, extra = [], {}, {"dense_floor": {}}
    for name in wanted:
        case, info = builders[name]()
        infos[name] = info
        crow = case.run(repeats, log)
        rows += crow
        if info["kind"] == "dense":
            # Floor of the forward pass: one read of K per right-hand side at copy bandwidth.
            n = info["n"]
            bw = copy_bandwidth(max(64 * 2**20, 4 * n * n) if dev.platform != "cpu" else 64 * 2**20)
            fwd = next(r for r in crow if r["impl"] == "toolkit forward")["time_s"]
            per_rhs = fwd / (4 * info["steps"])
            floor = 4 * n * n / bw
            extra["dense_floor"][name] = dict(copy_bandwidth_GBs=bw / 1e9, per_rhs_us=per_rhs * 1e6,
                                              floor_us=floor * 1e6, ratio=per_rhs / floor)
            log(f"  forward per RHS {per_rhs * 1e6:.1f} µs; one read of K at {bw / 1e9:.1f} GB/s: {floor * 1e6:.1f} µs "
                f"(× {per_rhs / floor:.2f})")
    try:
        meta["loadavg_end"] = os.getloadavg()
    except OSError:
        pass
    targets = targets_of(rows, infos, dev.platform, extra)
    log("\nratios")
    for k, v in targets.items():
        log(f"  {k:72s} {v}")
    prefix = Path(args.out) if args.out else Path(__file__).resolve().parent / "results" / f"grad_{dev.platform}"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    res = dict(meta=meta, cases=infos, targets=targets, extra=extra, rows=rows, log=lines)
    prefix.with_suffix(".json").write_text(json.dumps(res, indent=1, default=float))
    prefix.with_suffix(".md").write_text(to_markdown(res))
    print(f"\nwrote {prefix.with_suffix('.json')} and .md")


if __name__ == "__main__":
    main()
