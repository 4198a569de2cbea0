r"""KuraNet global synchrony, Cases I–III (paper Table I, Fig. 2).

Train a coupling function K_μ on graphs of n = 100 oscillators drawn from a
training set of 10,000 disorder samples, minimising the circular variance
V = 1 − R averaged over the states after the burn-in, with

    dθ_i/dt = ω_i + Σ_j K_ij sin(θ_j(t − τ_j) − θ_i) + b_i sin θ_i,
    K = ½(K̂ + K̂ᵀ),  K̂ = n · softmax(MLP([x_i, x_j])) (average weighted degree 1),

solved with Euler, dt = 0.1 (reference), from θ_i(0) = 0 for all i as the reference code
(`initial_phases: zero`): the network starts in phase and the coupling must keep it there
against the disorder (the paper's Fig. 2A: the untrained control "desynchronizes quickly").
Starting from U(0, 2π) (`initial_phases: uniform`) asks for synchronisation from incoherence
within 15 time units, a much harder task (V ≈ 0.25 after training, Case I). Then evaluate three regimes, each for
the trained and for the control (the same MLP untrained, same normalisation):

* Data: test graphs of n = 100 (V averaged over `eval_graphs` graphs);
* Size: all training samples as ONE network (n = 10,000 by default);
* Data+Size: all test samples as one network.

The Size regimes run on the full n × n network (K built in row blocks, float32),
not on random 500-oscillator subsets as the reference code did.

Two evaluation protocols. The training window (burn-in + window, the loss that is
trained) gives V_data, V_size, V_data_size. The reference code's evaluation script
scored the paper's tables differently, after long runs: the Data regime over the
window after 1000 Euler steps, the Size regimes on the single state after 5000
steps; `ref_eval` adds those numbers as V_*_ref (same graphs, initial phases and
networks; still the full n = 10,000 network).
Several seeds in one computation (`num_seeds` = S): seeds seed … seed + S − 1
differ in the initialisation, the control's initialisation and the stream of
training graphs; the datasets, validation and evaluation graphs come from `seed`
and are shared, so the seeds are compared on the same graphs. The parameters are
stacked over seeds and trained at once (vmapped loss, per-seed optimiser state and
clipping, `common.per_seed_optimizer`); each seed keeps the parameters of its
best validation check. The BEST seed is chosen by its validation loss (training-set
graphs), never by test data.

Metrics: V_data, V_size, V_data_size and control_V_* of the best seed, the same
names with `_mean` / `_std` over seeds and `_s<i>` per seed, best_seed, C_x_r2
(r² of V against the graph-induced feature correlation C_x, Eq. 7, over the best
seed's training batches), timings. Case III also reports the peak of the fan-in
map over (ω, τ) of the best seed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np
import optax

import kuramoto_jax as kj
from kuramoto_jax import kuranet as kn
from kuramoto_jax.run import OptimizerConfig, make_optimizer, train

from kuramoto_jax.run import load_checkpoint, save_checkpoint

from .common import ModelConfig, ReferenceProtocol, per_seed_optimizer, r_squared, timed

F32 = jnp.float32


@dataclass
class Config(ReferenceProtocol):
    seed: int = field(default=0, metadata={"help": "PRNG seed (datasets, initialisation, batches)"})
    num_seeds: int = field(default=1, metadata={
        "ge": 1, "help": "seeds seed..seed+num_seeds-1 trained at once; metrics of the best (by validation) and mean/std"})
    case: str = field(default="I", metadata={"choices": list(kn.CASES), "help": "disorder: I (ω), II (ω, b), III (ω, τ)"})
    n: int = field(default=100, metadata={"ge": 2, "help": "oscillators per training graph"})
    train_size: int = field(default=10_000, metadata={"ge": 2, "help": "training samples (= n of the Size regime)"})
    test_size: int = field(default=10_000, metadata={"ge": 2, "help": "test samples (= n of the Data+Size regime)"})
    steps: int = field(default=1500, metadata={"ge": 0, "help": "training steps (one graph each)"})
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(
        name="adam", learning_rate=1e-3, schedule="cosine", clip_norm=1.0))
    model: ModelConfig = field(default_factory=ModelConfig)
    initial_phases: str = field(default="zero", metadata={
        "choices": ["zero", "uniform"],
        "help": "θ_i(0): 'zero' (all in phase, as the reference code: synchrony must be kept against the "
                "disorder) or 'uniform' U(0, 2π) (synchrony must be reached from incoherence: much harder)"})
    dt: float = field(default=0.1, metadata={"gt": 0, "help": "Euler step"})
    burn_in_steps: int = field(default=100, metadata={"ge": 0, "help": "Euler steps before the loss window"})
    window_steps: int = field(default=50, metadata={"ge": 1, "help": "Euler steps in the loss window"})
    eval_graphs: int = field(default=50, metadata={"ge": 1, "help": "n-sized test graphs of the Data regime"})
    large: bool = field(default=True, metadata={"help": "evaluate the Size and Data+Size regimes"})
    checkpoint_every: int = field(default=500, metadata={"ge": 1, "help": "steps between checkpoints"})
    val_graphs: int = field(default=16, metadata={"ge": 1, "help": "validation graphs (training set) for best-step selection"})
    val_every: int = field(default=100, metadata={"ge": 1, "help": "steps between validations"})
    trace_oscillators: int = field(default=200, metadata={"ge": 1, "help": "phases kept for the n = 10,000 trace figure"})


def _theta0(key, n, kind="zero"):
    """Initial phases θ(0) (n,): all zero (reference code; delayed senders also see θ = 0 before
    t = 0), or uniform on [0, 2π)."""
    if kind == "zero":
        return jnp.zeros((n,), F32)
    return jax.random.uniform(key, (n,), F32, 0.0, 2 * jnp.pi)


def run(config: Config, ctx) -> dict[str, float]:
    c = config
    if c.n > min(c.train_size, c.test_size):
        raise ValueError(f"`n` = {c.n} must not exceed train_size and test_size")
    S = c.num_seeds
    key = jax.random.key(c.seed)
    k_train, k_test, _, _, _, k_eval = jax.random.split(key, 6)
    train_raw = kn.sample_disorder(k_train, c.case, c.train_size, F32).raw
    test_raw = kn.sample_disorder(k_test, c.case, c.test_size, F32).raw
    d = train_raw.shape[1]
    # Seed s: the same key layout as a single run with that seed (init, control, batches).
    seed_keys = [jax.random.split(jax.random.key(c.seed + i), 6) for i in range(S)]
    module, _ = kn.init_coupling(seed_keys[0][2], d, c.model.hidden, c.model.negative_slope, F32)
    stack = lambda trees: jax.tree.map(lambda *x: jnp.stack(x), *trees)
    init = lambda k: kn.init_coupling(k, d, c.model.hidden, c.model.negative_slope, F32)[1]
    params0 = stack([init(k[2]) for k in seed_keys])
    control_params = stack([init(k[3]) for k in seed_keys])
    fit_keys = jnp.stack([k[4] for k in seed_keys])
    sim = dict(dt=c.dt, burn_in_steps=c.burn_in_steps, window_steps=c.window_steps)

    def graph_loss(params, raw, theta0, burn_in_steps=c.burn_in_steps):
        dis = kn.from_raw(c.case, raw)
        K = kn.coupling_matrix(module, params, dis.features, "global")
        theta = kn.simulate_window(K, dis.omega, theta0, field=dis.field, delay_steps=dis.delay_steps,
                                   **dict(sim, burn_in_steps=burn_in_steps))
        V = kn.sync_loss(theta)
        C = kn.feature_correlation(jax.lax.stop_gradient(K), dis.raw)
        return V, {"C_x": C}

    def one_batch(k_fit, step):
        k1, k2 = jax.random.split(jax.random.fold_in(k_fit, step))
        idx = jax.random.choice(k1, c.train_size, (c.n,), replace=False)
        return train_raw[idx], _theta0(k2, c.n, c.initial_phases)

    sample = jax.jit(jax.vmap(one_batch, in_axes=(0, None)))

    def batch_fn(step, k):  # each seed draws its own graph from its own stream
        return sample(fit_keys, step)

    def loss_fn(params, batch, k):
        # Sum (not mean) over seeds: seed s's gradient is exactly its single-run gradient.
        V, aux = jax.vmap(graph_loss)(params, *batch)
        out = {f"V_s{i}": V[i] for i in range(S)} | {f"C_x_s{i}": aux["C_x"][i] for i in range(S)}
        return jnp.sum(V), out

    # Validation graphs (from the training set, fixed initial phases, shared by all seeds) select
    # each seed's kept parameters and the best seed: single-graph training losses are noisy.
    kv1, kv2 = jax.random.split(jax.random.fold_in(k_eval, 10**6))
    val_raw = train_raw[jax.random.choice(kv1, c.train_size, (c.val_graphs * c.n,), replace=False)].reshape(
        c.val_graphs, c.n, d)
    val_th0 = jax.vmap(lambda k: _theta0(k, c.n, c.initial_phases))(jax.random.split(kv2, c.val_graphs))
    over_graphs = jax.vmap(lambda p, r, t0: graph_loss(p, r, t0)[0], in_axes=(None, 0, 0))
    val_loss = jax.jit(lambda P: jnp.mean(jax.vmap(over_graphs, in_axes=(0, None, None))(P, val_raw, val_th0), -1))

    # Per-seed best-so-far, kept in a file next to the training checkpoint so a resumed run
    # continues from it (a replayed check gives the same values, so resume stays exact).
    name = f"global_case{c.case}"
    best_path = ctx.checkpoint_dir / f"{name}_best.msgpack"
    best = {"params": params0, "val": np.full(S, np.inf)}
    if ctx.resume and best_path.is_file():
        best["params"], extra = load_checkpoint(best_path, params0)
        best["val"] = np.asarray(extra["val"], float)

    def eval_fn(P):
        v = np.asarray(val_loss(P), float)
        better = v < best["val"]
        if better.any():
            mask = jnp.asarray(better)
            best["params"] = jax.tree.map(
                lambda new, old: jnp.where(mask.reshape((-1,) + (1,) * (new.ndim - 1)), new, old), P, best["params"])
            best["val"] = np.where(better, v, best["val"])
            if ctx.is_main:
                save_checkpoint(best_path, best["params"], {"val": best["val"]})
        return {"loss": float(np.mean(v))} | {f"V_s{i}": float(v[i]) for i in range(S)}

    ctx.log(f"case {c.case}: training {S} seed(s) x {c.steps} steps on n = {c.n} graphs "
            f"(hidden {list(c.model.hidden)})")
    t = time.perf_counter()
    # A step whose gradient is not finite (rare: exploding gradients through 150 steps of strongly
    # coupled, delayed dynamics) is skipped for that seed only, instead of poisoning its parameters.
    opt = per_seed_optimizer(optax.apply_if_finite(make_optimizer(c.optimizer, c.steps), c.steps + 1))
    result = train(loss_fn, params=params0, optimizer=opt, num_steps=c.steps, key=seed_keys[0][4],
                   batch_fn=batch_fn, ctx=ctx, checkpoint_every=c.checkpoint_every, has_aux=True, name=name,
                   eval_fn=eval_fn, eval_every=c.val_every)
    train_time = time.perf_counter() - t
    hist = result.history
    skipped = np.asarray(result.opt_state.total_notfinite) if c.steps else np.zeros(S)
    if c.steps == 0:
        best["params"] = params0
        best["val"] = np.asarray(val_loss(params0), float)
    params = best["params"]
    # Steps of the kept parameters, from the recorded validation history (exact after a resume too).
    ev_steps = np.asarray(hist.get("eval_step", []))
    best_steps = np.array([int(ev_steps[np.argmin(hist[f"eval_V_s{i}"])]) if ev_steps.size else 0
                           for i in range(S)])
    val_best = np.asarray(best["val"], float)
    b = int(np.argmin(val_best))
    ctx.log(f"best seed {c.seed + b} (validation V {val_best[b]:.4f}); kept steps {best_steps.tolist()}")
    train_V = np.stack([np.asarray(hist.get(f"V_s{i}", []), float) for i in range(S)])
    train_C = np.stack([np.asarray(hist.get(f"C_x_s{i}", []), float) for i in range(S)])
    if np.any(skipped):
        ctx.log(f"steps skipped for a non-finite gradient, per seed: {skipped.tolist()}")
    ctx.save_arrays(train_loss=train_V, train_C_x=train_C, val_V=val_best, best_steps=best_steps, skipped_steps=skipped,
                    seeds=np.arange(c.seed, c.seed + S))

    # Data regime: disjoint n-sized graphs of the test set, fixed initial phases, the same for all seeds.
    g = min(c.eval_graphs, c.test_size // c.n)
    perm = jax.random.permutation(jax.random.fold_in(k_eval, 0), c.test_size)[: g * c.n].reshape(g, c.n)
    th0s = jax.vmap(lambda k: _theta0(k, c.n, c.initial_phases))(jax.random.split(jax.random.fold_in(k_eval, 1), g))
    data_eval = jax.jit(jax.vmap(jax.vmap(graph_loss, in_axes=(None, 0, 0)), in_axes=(0, None, None)))
    (V_tr, aux_tr), t_data = timed(data_eval, params, test_raw[perm], th0s)  # (S, g)
    (V_ct, aux_ct), _ = timed(data_eval, control_params, test_raw[perm], th0s)
    per_seed = {"V_data": np.mean(V_tr, 1), "control_V_data": np.mean(V_ct, 1),
                "C_x_data": np.mean(aux_tr["C_x"], 1), "control_C_x_data": np.mean(aux_ct["C_x"], 1)}
    if c.ref_eval:
        # The reference evaluate.py: the same window, after a burn-in of ref_burn_in_steps.
        ref_loss = lambda p, raw, theta0: graph_loss(p, raw, theta0, c.ref_burn_in_steps)[0]
        ref_eval = jax.jit(jax.vmap(jax.vmap(ref_loss, in_axes=(None, 0, 0)), in_axes=(0, None, None)))
        per_seed["V_data_ref"] = np.mean(ref_eval(params, test_raw[perm], th0s), 1)
        per_seed["control_V_data_ref"] = np.mean(ref_eval(control_params, test_raw[perm], th0s), 1)
    metrics = {"best_seed": float(c.seed + b), "num_seeds": float(S), "best_val_V": float(val_best[b]),
               "best_step": float(best_steps[b]),
               "V_data_std_over_graphs": float(jnp.std(V_tr[b])),
               "final_train_loss": float(np.mean(train_V[b, -50:])) if c.steps else float("nan"),
               "train_time_s": train_time, "time_per_step_s": train_time / max(result.steps_run, 1),
               "eval_data_s": t_data, "skipped_steps_total": float(np.sum(skipped))}
    if c.case in ("I", "II") and c.steps >= 3:
        r2 = [r_squared(train_C[i], train_V[i]) for i in range(S)]
        metrics["C_x_r2"] = r2[b]
        metrics["C_x_r2_mean"] = float(np.nanmean(r2))
        per_seed["C_x_r2"] = np.asarray(r2)
    ctx.save_arrays(data_V=np.asarray(V_tr), data_C_x=np.asarray(aux_tr["C_x"]),
                    data_control_V=np.asarray(V_ct), data_control_C_x=np.asarray(aux_ct["C_x"]))

    if c.large:
        _large_regimes(c, ctx, module, params, control_params, train_raw, test_raw, k_eval, per_seed, metrics, b)
    for name_, vals in per_seed.items():
        vals = np.asarray(vals, float)
        if name_ != "C_x_r2":
            metrics[name_] = float(vals[b])
        metrics[f"{name_}_mean"] = float(np.mean(vals))
        metrics[f"{name_}_std"] = float(np.std(vals))
        if S > 1:
            metrics.update({f"{name_}_s{c.seed + i}": float(vals[i]) for i in range(S)})
    if S >= 3:  # across optimisations, as the paper's scatter: r² of V_data against C_x_data over seeds
        metrics["C_x_r2_across_seeds"] = r_squared(per_seed["C_x_data"], per_seed["V_data"])
    ctx.save_arrays(**{f"per_seed_{k}": np.asarray(v, float) for k, v in per_seed.items()})
    _figures(c, ctx, train_V[b], train_C[b], metrics)
    ctx.summary(
        f"KuraNet global synchrony, Case {c.case}, seeds {c.seed}..{c.seed + S - 1} (best {c.seed + b} by "
        f"validation): circular variance V (control) "
        f"Data {metrics['V_data']:.4f} ({metrics['control_V_data']:.4f})"
        + (f", Size {metrics['V_size']:.4f} ({metrics['control_V_size']:.4f}) at n = {c.train_size}, "
           f"Data+Size {metrics['V_data_size']:.4f} ({metrics['control_V_data_size']:.4f}) at n = {c.test_size} "
           "(full networks, float32)" if c.large else "")
        + (f"; mean ± std over {S} seeds: Data {metrics['V_data_mean']:.4f} ± {metrics['V_data_std']:.4f}"
           if S > 1 else "")
        + (f"; reference evaluation protocol (long burn-in): Data {metrics['V_data_ref']:.4f}"
           + (f", Size {metrics['V_size_ref']:.4f}, Data+Size {metrics['V_data_size_ref']:.4f}" if c.large else "")
           if c.ref_eval else "")
        + f". Training: {c.steps} steps, {metrics['time_per_step_s'] * 1e3:.1f} ms/step."
    )
    return metrics


def _large_regimes(c, ctx, module, params, control_params, train_raw, test_raw, k_eval, per_seed, metrics, best):
    total = c.burn_in_steps + c.window_steps
    m = c.trace_oscillators

    @jax.jit
    def big(p, raw, theta0):
        dis = kn.from_raw(c.case, raw)
        K = kn.coupling_matrix(module, p, dis.features, "global", block_rows=c.model.block_rows)
        theta = kn.simulate_window(K, dis.omega, theta0, field=dis.field, delay_steps=dis.delay_steps,
                                   dt=c.dt, burn_in_steps=0, window_steps=total)
        V_t = kj.circular_variance(theta)  # (T,)
        out = {"V": jnp.mean(V_t[c.burn_in_steps:]), "V_t": V_t, "trace": theta[:, :m],
               "C_x": kn.feature_correlation(K, dis.raw), "fan_in": kn.fan_in(K)}
        if c.ref_eval:  # the reference evaluate.py: the one state after ref_size_burn_in_steps (same K)
            last = kn.simulate_window(K, dis.omega, theta0, field=dis.field, delay_steps=dis.delay_steps,
                                      dt=c.dt, burn_in_steps=c.ref_size_burn_in_steps - 1, window_steps=1)
            out["V_ref"] = kj.circular_variance(last[-1])
        return out

    S = c.num_seeds
    seed_tree = lambda tree, i: jax.tree.map(lambda x: x[i], tree)
    for regime, raw, salt in (("size", train_raw, 2), ("data_size", test_raw, 3)):
        th0 = _theta0(jax.random.fold_in(k_eval, salt), raw.shape[0], c.initial_phases)
        for who, P in (("", params), ("control_", control_params)):
            V, V_ref, C, V_t, secs = [], [], [], [], []
            for i in range(S):  # one n x n matrix at a time (400 MB at n = 10,000 in float32)
                out, t = timed(big, seed_tree(P, i), raw, th0)
                V.append(float(out["V"]))
                V_ref.append(float(out.get("V_ref", np.nan)))
                C.append(float(out["C_x"]))
                V_t.append(np.asarray(out["V_t"]))
                secs.append(t)
                ctx.log(f"{who or 'trained '}{regime}, seed {c.seed + i}: n = {raw.shape[0]}, V = {V[-1]:.4f} "
                        + (f"(reference protocol {V_ref[-1]:.4f}) " if c.ref_eval else "") + f"({t:.1f} s)")
                if i == best:  # traces and fan-in of the best seed for the figures
                    ctx.save_arrays(**{f"{who}{regime}_trace": np.asarray(out["trace"]),
                                       f"{who}{regime}_fan_in": np.asarray(out["fan_in"])})
                    if regime == "data_size" and who == "":
                        _fan_in_map(c, ctx, np.asarray(raw), np.asarray(out["fan_in"]), metrics)
            per_seed[f"{who}V_{regime}"] = np.asarray(V)
            if c.ref_eval:
                per_seed[f"{who}V_{regime}_ref"] = np.asarray(V_ref)
            per_seed[f"{who}C_x_{regime}"] = np.asarray(C)
            metrics[f"{who}eval_{regime}_s"] = float(np.mean(secs[1:] if S > 1 else secs))  # after compilation
            ctx.save_arrays(**{f"{who}{regime}_V_t": np.stack(V_t)})


def _fan_in_map(c, ctx, raw, fan, metrics):
    """Mean fan-in weight ⟨k_j⟩ over 30 bins per feature (paper Fig. 2C for Case III)."""
    edges = [np.linspace(raw[:, i].min(), raw[:, i].max() + 1e-6, 31) for i in range(raw.shape[1])]
    mean, counts = kn.binned_mean(fan, raw, edges)
    ctx.save_arrays(fan_in_map=mean, fan_in_counts=counts)
    masked = np.where(counts >= min(5, counts.max()), mean, np.nan)  # ignore nearly empty bins
    if np.all(np.isnan(masked)):
        return
    idx = np.unravel_index(np.nanargmax(masked), masked.shape)
    centres = [0.5 * (e[1:] + e[:-1]) for e in edges]
    names = kn.feature_names(c.case)
    for i, name in enumerate(names):
        metrics[f"fan_in_peak_{name}"] = float(centres[i][idx[i]])


def _figures(c, ctx, loss, C_x, metrics):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arrays = dict(np.load(ctx.out_dir / "arrays.npz"))
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    if loss.size:
        w = max(1, loss.size // 50)
        ax[0].plot(np.convolve(loss, np.ones(w) / w, mode="valid"))
    ax[0].set(xlabel="training step", ylabel="V (running mean)", title=f"Case {c.case}: training (seed {int(metrics['best_seed'])})")
    if np.size(C_x):
        ax[1].scatter(C_x, loss, s=2, alpha=0.3)
        ax[1].set(xlabel="C_x (Eq. 7)", ylabel="V", title=f"r² = {metrics.get('C_x_r2', float('nan')):.2f}")
    ctx.save_figure(fig, "training")
    if "data_size_trace" in arrays:
        ts = c.dt * np.arange(1, c.burn_in_steps + c.window_steps + 1)
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
        for a, who, title in ((ax[0], "", "trained"), (ax[1], "control_", "control (untrained)")):
            tr = np.mod(arrays[f"{who}data_size_trace"], 2 * np.pi)
            a.plot(ts, tr, ",", color="tab:red" if not who else "tab:blue", alpha=0.5)
            a.axvline(c.burn_in_steps * c.dt, color="k", lw=0.5)
            a.set(xlabel="t", title=f"{title}: V = {metrics[f'{who}V_data_size']:.3f} (n = {c.test_size})")
        ax[0].set_ylabel("θ mod 2π")
        ctx.save_figure(fig, "phase_traces")
    if c.case == "III" and "fan_in_map" in arrays:
        fig, ax = plt.subplots(figsize=(5, 4))
        im = ax.imshow(arrays["fan_in_map"].T, origin="lower", aspect="auto",
                       extent=[2, 4, 0, kn.MAX_DELAY_STEPS])
        fig.colorbar(im, label="⟨k_j⟩ fan-in")
        ax.set(xlabel="ω", ylabel="τ (Euler steps)", title="fan-in map (Data+Size)")
        ctx.save_figure(fig, "fan_in_map")
