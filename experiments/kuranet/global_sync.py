r"""KuraNet global synchrony, Cases I–III (paper Table I, Fig. 2).

Train a coupling function K_μ on graphs of n = 100 oscillators drawn from a
training set of 10,000 disorder samples, minimising the circular variance
V = 1 − R averaged over the states after the burn-in, with

    dθ_i/dt = ω_i + Σ_j K_ij sin(θ_j(t − τ_j) − θ_i) + b_i sin θ_i,
    K = ½(K̂ + K̂ᵀ),  K̂ = n · softmax(MLP([x_i, x_j])) (average weighted degree 1),

solved with Euler, dt = 0.1 (reference). Then evaluate three regimes, each for
the trained and for the control (the same MLP untrained, same normalisation):

* Data: test graphs of n = 100 (V averaged over `eval_graphs` graphs);
* Size: all training samples as ONE network (n = 10,000 by default);
* Data+Size: all test samples as one network.

The Size regimes run on the full n × n network (K built in row blocks, float32),
not on random 500-oscillator subsets as the reference code did.
Metrics: V_data, V_size, V_data_size, control_V_*, C_x_r2 (r² of V against the
graph-induced feature correlation C_x, Eq. 7, over the training batches),
timings. Case III also reports the peak of the fan-in map over (ω, τ).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax import kuranet as kn
from kuramoto_jax.run import OptimizerConfig, make_optimizer, train

from .common import ModelConfig, r_squared, timed

F32 = jnp.float32


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "PRNG seed (datasets, initialisation, batches)"})
    case: str = field(default="I", metadata={"choices": list(kn.CASES), "help": "disorder: I (ω), II (ω, b), III (ω, τ)"})
    n: int = field(default=100, metadata={"ge": 2, "help": "oscillators per training graph"})
    train_size: int = field(default=10_000, metadata={"ge": 2, "help": "training samples (= n of the Size regime)"})
    test_size: int = field(default=10_000, metadata={"ge": 2, "help": "test samples (= n of the Data+Size regime)"})
    steps: int = field(default=1500, metadata={"ge": 0, "help": "training steps (one graph each)"})
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(
        name="adam", learning_rate=1e-3, schedule="cosine", clip_norm=1.0))
    model: ModelConfig = field(default_factory=ModelConfig)
    dt: float = field(default=0.1, metadata={"gt": 0, "help": "Euler step"})
    burn_in_steps: int = field(default=100, metadata={"ge": 0, "help": "Euler steps before the loss window"})
    window_steps: int = field(default=50, metadata={"ge": 1, "help": "Euler steps in the loss window"})
    eval_graphs: int = field(default=50, metadata={"ge": 1, "help": "n-sized test graphs of the Data regime"})
    large: bool = field(default=True, metadata={"help": "evaluate the Size and Data+Size regimes"})
    checkpoint_every: int = field(default=500, metadata={"ge": 1, "help": "steps between checkpoints"})
    val_graphs: int = field(default=16, metadata={"ge": 1, "help": "validation graphs (training set) for best-step selection"})
    val_every: int = field(default=100, metadata={"ge": 1, "help": "steps between validations"})
    trace_oscillators: int = field(default=200, metadata={"ge": 1, "help": "phases kept for the n = 10,000 trace figure"})


def _theta0(key, n):
    return jax.random.uniform(key, (n,), F32, 0.0, 2 * jnp.pi)


def run(config: Config, ctx) -> dict[str, float]:
    c = config
    if c.n > min(c.train_size, c.test_size):
        raise ValueError(f"`n` = {c.n} must not exceed train_size and test_size")
    key = jax.random.key(c.seed)
    k_train, k_test, k_init, k_ctrl, k_fit, k_eval = jax.random.split(key, 6)
    train_raw = kn.sample_disorder(k_train, c.case, c.train_size, F32).raw
    test_raw = kn.sample_disorder(k_test, c.case, c.test_size, F32).raw
    d = train_raw.shape[1]
    module, params0 = kn.init_coupling(k_init, d, c.model.hidden, c.model.negative_slope, F32)
    _, control_params = kn.init_coupling(k_ctrl, d, c.model.hidden, c.model.negative_slope, F32)
    sim = dict(dt=c.dt, burn_in_steps=c.burn_in_steps, window_steps=c.window_steps)

    def graph_loss(params, raw, theta0):
        dis = kn.from_raw(c.case, raw)
        K = kn.coupling_matrix(module, params, dis.features, "global")
        theta = kn.simulate_window(K, dis.omega, theta0, field=dis.field, delay_steps=dis.delay_steps, **sim)
        V = kn.sync_loss(theta)
        C = kn.feature_correlation(jax.lax.stop_gradient(K), dis.raw)
        return V, {"C_x": C}

    def batch_fn(step, k):
        k1, k2 = jax.random.split(k)
        idx = jax.random.choice(k1, c.train_size, (c.n,), replace=False)
        return train_raw[idx], _theta0(k2, c.n)

    def loss_fn(params, batch, k):
        return graph_loss(params, *batch)

    # Validation graphs (from the training set, fixed initial phases) select the parameters kept:
    # single-graph training losses are noisy and the last step is not the best.
    kv1, kv2 = jax.random.split(jax.random.fold_in(k_fit, 10**6))
    val_raw = train_raw[jax.random.choice(kv1, c.train_size, (c.val_graphs * c.n,), replace=False)].reshape(
        c.val_graphs, c.n, d)
    val_th0 = jax.vmap(lambda k: _theta0(k, c.n))(jax.random.split(kv2, c.val_graphs))
    val_loss = jax.jit(lambda p: jnp.mean(jax.vmap(lambda r, t0: graph_loss(p, r, t0)[0])(val_raw, val_th0)))

    ctx.log(f"case {c.case}: training {c.steps} steps on n = {c.n} graphs (hidden {list(c.model.hidden)})")
    t = time.perf_counter()
    result = train(loss_fn, params=params0, optimizer=make_optimizer(c.optimizer, c.steps), num_steps=c.steps,
                   key=k_fit, batch_fn=batch_fn, ctx=ctx, checkpoint_every=c.checkpoint_every, has_aux=True,
                   name=f"global_case{c.case}", eval_fn=lambda p: {"loss": val_loss(p)},
                   eval_every=c.val_every if c.val_graphs else None)
    train_time = time.perf_counter() - t
    params = result.best_params
    ctx.log(f"kept the parameters of step {result.best_step} (validation V {result.best_loss:.4f})")
    hist = result.history
    ctx.save_arrays(train_loss=np.asarray(hist["loss"]), train_C_x=np.asarray(hist.get("C_x", [])))

    # Data regime: disjoint n-sized graphs of the test set, fixed initial phases.
    g = min(c.eval_graphs, c.test_size // c.n)
    perm = jax.random.permutation(jax.random.fold_in(k_eval, 0), c.test_size)[: g * c.n].reshape(g, c.n)
    th0s = jax.vmap(lambda k: _theta0(k, c.n))(jax.random.split(jax.random.fold_in(k_eval, 1), g))
    data_eval = jax.jit(jax.vmap(lambda p, raw, th0: graph_loss(p, raw, th0), in_axes=(None, 0, 0)))
    (V_tr, aux_tr), t_data = timed(data_eval, params, test_raw[perm], th0s)
    (V_ct, aux_ct), _ = timed(data_eval, control_params, test_raw[perm], th0s)
    metrics = {"V_data": float(jnp.mean(V_tr)), "control_V_data": float(jnp.mean(V_ct)),
               "V_data_std_over_graphs": float(jnp.std(V_tr)),
               "C_x_data": float(jnp.mean(aux_tr["C_x"])), "control_C_x_data": float(jnp.mean(aux_ct["C_x"])),
               "final_train_loss": float(np.mean(np.asarray(hist["loss"])[-50:])) if c.steps else float("nan"),
               "train_time_s": train_time, "time_per_step_s": train_time / max(c.steps, 1),
               "best_step": float(result.best_step), "best_val_V": float(result.best_loss)}
    if c.case in ("I", "II") and c.steps >= 3:
        metrics["C_x_r2"] = r_squared(hist["C_x"], hist["loss"])
    ctx.save_arrays(data_V=np.asarray(V_tr), data_C_x=np.asarray(aux_tr["C_x"]),
                    data_control_V=np.asarray(V_ct), data_control_C_x=np.asarray(aux_ct["C_x"]))

    if c.large:
        _large_regimes(c, ctx, module, params, control_params, train_raw, test_raw, k_eval, metrics)
    _figures(c, ctx, hist, metrics)
    ctx.summary(
        f"KuraNet global synchrony, Case {c.case}, seed {c.seed}: circular variance V (control) "
        f"Data {metrics['V_data']:.4f} ({metrics['control_V_data']:.4f})"
        + (f", Size {metrics['V_size']:.4f} ({metrics['control_V_size']:.4f}) at n = {c.train_size}, "
           f"Data+Size {metrics['V_data_size']:.4f} ({metrics['control_V_data_size']:.4f}) at n = {c.test_size} "
           "(full networks, float32)" if c.large else "")
        + f". Training: {c.steps} steps, {metrics['time_per_step_s'] * 1e3:.1f} ms/step."
    )
    return metrics


def _large_regimes(c, ctx, module, params, control_params, train_raw, test_raw, k_eval, metrics):
    total = c.burn_in_steps + c.window_steps
    m = c.trace_oscillators

    @jax.jit
    def big(p, raw, theta0):
        dis = kn.from_raw(c.case, raw)
        K = kn.coupling_matrix(module, p, dis.features, "global", block_rows=c.model.block_rows)
        theta = kn.simulate_window(K, dis.omega, theta0, field=dis.field, delay_steps=dis.delay_steps,
                                   dt=c.dt, burn_in_steps=0, window_steps=total)
        V_t = kj.circular_variance(theta)  # (T,)
        return {"V": jnp.mean(V_t[c.burn_in_steps:]), "V_t": V_t, "trace": theta[:, :m],
                "C_x": kn.feature_correlation(K, dis.raw), "fan_in": kn.fan_in(K)}

    for regime, raw, salt in (("size", train_raw, 2), ("data_size", test_raw, 3)):
        th0 = _theta0(jax.random.fold_in(k_eval, salt), raw.shape[0])
        for who, p in (("", params), ("control_", control_params)):
            out, secs = timed(big, p, raw, th0)
            metrics[f"{who}V_{regime}"] = float(out["V"])
            metrics[f"{who}C_x_{regime}"] = float(out["C_x"])
            metrics[f"{who}eval_{regime}_s"] = secs
            ctx.log(f"{who or 'trained '}{regime}: n = {raw.shape[0]}, V = {float(out['V']):.4f} ({secs:.1f} s)")
            ctx.save_arrays(**{f"{who}{regime}_V_t": np.asarray(out["V_t"]),
                               f"{who}{regime}_trace": np.asarray(out["trace"]),
                               f"{who}{regime}_fan_in": np.asarray(out["fan_in"])})
            if regime == "data_size" and who == "":
                _fan_in_map(c, ctx, np.asarray(raw), np.asarray(out["fan_in"]), metrics)


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


def _figures(c, ctx, hist, metrics):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arrays = dict(np.load(ctx.out_dir / "arrays.npz"))
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    loss = np.asarray(hist["loss"])
    if loss.size:
        w = max(1, loss.size // 50)
        ax[0].plot(np.convolve(loss, np.ones(w) / w, mode="valid"))
    ax[0].set(xlabel="training step", ylabel="V (running mean)", title=f"Case {c.case}: training")
    if "C_x" in hist and np.size(hist["C_x"]):
        ax[1].scatter(hist["C_x"], loss, s=2, alpha=0.3)
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
