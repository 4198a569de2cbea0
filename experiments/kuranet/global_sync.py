r"""KuraNet global synchrony, Cases I–III (paper Table I, Fig. 2).

Train a coupling function K_μ on graphs of n = 100 oscillators drawn from a training set of
10,000 disorder samples, minimising the circular variance V = 1 − R over the states after the
burn-in (`kn.GlobalTask`), with dθ_i/dt = ω_i + Σ_j K_ij sin(θ_j(t − τ_j) − θ_i) + b_i sin θ_i,
K = ½(K̂ + K̂ᵀ), K̂ = n · softmax(MLP([x_i, x_j])), Euler dt = 0.1 from θ(0) = 0 as the reference
code (`initial_phases: zero`: synchrony must be kept against the disorder; `uniform` asks for it
from incoherence, much harder). `num_seeds` members are trained at once and each keeps its best
validation check (`kn.fit`); the member with the lowest validation V is reported, with mean/std
over members and `<name>_s<j>` per member j. `kn.evaluate` scores the trained network and its
untrained control in the Data (test graphs of n), Size (all training samples as one network) and
Data+Size (all test samples) regimes, over the training window and, with `ref_eval`, the
reference code's protocol (metrics *_ref). Also: C_x_r2 (r² of V against the feature correlation
C_x, Eq. 7, over the chosen member's training steps), the peak of the fan-in map over the
features (Fig. 2C) and, with `size_sweep`, the chosen member's V at other network sizes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kuramoto_jax import kuranet as kn
from kuramoto_jax.run import ConfigError, OptimizerConfig

from .common import ModelConfig, ReferenceProtocol, fit_options, pop_large_regimes, select


@dataclass
class Config(ReferenceProtocol):
    seed: int = field(default=0, metadata={"help": "PRNG seed: every random stream is derived from it by name"})
    num_seeds: int = field(default=1, metadata={
        "ge": 1, "help": "ensemble members trained at once; metrics of the best (by validation) and mean/std"})
    case: str = field(default="I", metadata={"choices": list(kn.CASES), "help": "disorder: I (ω), II (ω, b), III (ω, τ)"})
    n: int = field(default=100, metadata={"ge": 2, "help": "oscillators per training graph"})
    train_size: int = field(default=10_000, metadata={"ge": 2, "help": "training samples (= n of the Size regime)"})
    test_size: int = field(default=10_000, metadata={"ge": 2, "help": "test samples (= n of the Data+Size regime)"})
    steps: int = field(default=1500, metadata={"ge": 0, "help": "training steps (one graph each)"})
    graphs_per_step: int = field(default=1, metadata={
        "ge": 1, "help": "graphs per member and training step, the loss their mean (1: the paper)"})
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(
        name="adam", learning_rate=1e-3, schedule="cosine", clip_norm=1.0))
    model: ModelConfig = field(default_factory=ModelConfig)
    initial_phases: str = field(default="zero", metadata={
        "choices": list(kn.GLOBAL_INITIAL_PHASES),
        "help": "θ_i(0): 'zero' (all in phase, as the reference code: synchrony must be kept against the "
                "disorder) or 'uniform' U(0, 2π) (synchrony must be reached from incoherence: much harder)"})
    dt: float = field(default=0.1, metadata={"gt": 0, "help": "Euler step"})
    burn_in_steps: int = field(default=100, metadata={"ge": 0, "help": "Euler steps before the loss window"})
    window_steps: int = field(default=50, metadata={"ge": 1, "help": "Euler steps in the loss window"})
    eval_graphs: int = field(default=50, metadata={"ge": 1, "help": "n-sized test graphs of the Data regime"})
    large: bool = field(default=True, metadata={"help": "evaluate the Size and Data+Size regimes"})
    large_best_only: bool = field(default=False, metadata={
        "help": "evaluate the Size regimes for the chosen member only (no spread there; saves time on a CPU)"})
    checkpoint_every: int = field(default=500, metadata={"ge": 1, "help": "steps between checkpoints"})
    val_graphs: int = field(default=16, metadata={"ge": 1, "help": "validation graphs (training set) for best-step selection"})
    val_every: int = field(default=100, metadata={"ge": 1, "help": "steps between validations"})
    trace_oscillators: int = field(default=200, metadata={"ge": 1, "help": "phases kept for the n = 10,000 trace figure"})
    detach_burn_in: bool = field(default=False, metadata={
        "help": "train through the window's steps only (the burn-in without gradients, as the reference code)"})
    size_sweep: list[int] = field(default_factory=list, metadata={
        "ge": 2, "help": "network sizes m at which the chosen member is also scored on `size_sweep_graphs` random "
                         "m-subsets of the test samples (metrics V_n<m>…, synced_n<m>: the share with V < ½; "
                         "`kn.size_transfer`); empty: none"})
    size_sweep_graphs: int = field(default=4, metadata={"ge": 1, "help": "networks per size of `size_sweep`"})


def check_config(config: Config) -> None:
    """Graph sizes within the sample pools, before the run starts (exit 2 naming the key)."""
    if config.n > min(config.train_size, config.test_size):
        raise ConfigError(f"config key `n`: got {config.n}; expected at most train_size = {config.train_size} "
                          f"and test_size = {config.test_size}")
    if any(m > config.test_size for m in config.size_sweep):
        raise ConfigError(f"config key `size_sweep`: got {config.size_sweep}; expected sizes of at most "
                          f"test_size = {config.test_size} (the networks are subsets of the test samples)")


def run(config: Config, ctx) -> dict[str, float]:
    c = config
    check_config(c)
    train_raw = kn.sample_disorder(ctx.key("train_data"), c.case, c.train_size).raw
    test_raw = kn.sample_disorder(ctx.key("test_data"), c.case, c.test_size).raw
    task = kn.GlobalTask(c.case, c.n, c.dt, c.burn_in_steps, c.window_steps, c.initial_phases, c.trace_oscillators,
                         c.detach_burn_in)
    ctx.log(f"case {c.case}: training {c.num_seeds} member(s) x {c.steps} steps on n = {c.n} graphs")
    fitted = kn.fit(task, train_raw, key=ctx.key("fit"), ctx=ctx, name=f"global_case{c.case}",
                    val_task=c.validation_task(task), **fit_options(c))
    b, h = fitted.best, fitted.history
    ctx.log(f"chosen member {b} (validation V {fitted.val[b]:.4f}); kept steps {fitted.best_steps.tolist()}")
    ev = kn.evaluate(task, fitted, test_raw, train_raw if c.large else None, key=ctx.key("eval"),
                     eval_graphs=c.eval_graphs, reference=c.reference(), block_rows=c.model.block_rows,
                     keep_large=("V_t", "trace", "fan_in"), large_members=[b] if c.large_best_only else None)
    big = 0 if c.large_best_only else b  # the chosen member's row in the large regimes' arrays
    train_V, train_C = (np.asarray(h.get(k, []), float).reshape(-1, fitted.members).T for k in ("loss", "C_x"))
    per_member = dict(ev.per_member, val_V=fitted.val)
    metrics = pop_large_regimes(per_member) if c.large_best_only else {}
    metrics |= {"best_seed": float(b), "num_seeds": float(fitted.members), "best_val_V": float(fitted.val[b]),
               "best_step": float(fitted.best_steps[b]), "V_data_std_over_graphs": float(np.std(ev.arrays["data_V"][b])),
               "final_train_loss": float(np.mean(train_V[b, -50:])) if c.steps else float("nan"),
               "train_time_s": fitted.train_time_s, "time_per_step_s": fitted.train_time_s / max(fitted.steps_run, 1),
               "skipped_steps_total": float(np.sum(fitted.skipped))}
    metrics |= {f"eval_{r}_s": t for r, t in ev.times.items()}
    if c.case in ("I", "II") and c.steps >= 3:
        per_member["C_x_r2"] = np.asarray([kn.r_squared(train_C[i], train_V[i]) for i in range(fitted.members)])
        metrics["C_x_r2_mean"] = float(np.nanmean(per_member["C_x_r2"]))
    select(metrics, per_member, b)
    if fitted.members >= 3:  # across optimisations, as the paper's scatter: r² of V_data against C_x_data
        metrics["C_x_r2_across_seeds"] = kn.r_squared(per_member["C_x_data"], per_member["V_data"])
    K0 = fitted.model().couplings(kn.from_raw(c.case, ev.arrays["data_graphs"]["raw"][0]).features)
    ctx.save_arrays(train_loss=train_V, train_C_x=train_C, val_V=fitted.val, best_steps=fitted.best_steps,
                    skipped_steps=fitted.skipped, data_raw0=ev.arrays["data_graphs"]["raw"][0], data_K0=K0,
                    **{k: v for k, v in ev.arrays.items() if k != "data_graphs" and not k.endswith("final")},
                    **{f"per_seed_{k}": np.asarray(v, float) for k, v in per_member.items()})
    if c.size_sweep:
        _size_sweep(c, ctx, task, fitted, test_raw, metrics)
    if c.large:
        _fan_in_peak(c, ctx, np.asarray(test_raw), ev.arrays["data_size_fan_in"][big], metrics)
    _figures(c, ctx, train_V[b], train_C[b], b, big, metrics)
    ctx.summary(
        f"KuraNet global synchrony, Case {c.case}, {fitted.members} member(s) (member {b} chosen by validation): "
        f"circular variance V (control) Data {metrics['V_data']:.4f} ({metrics['control_V_data']:.4f})"
        + (f", Size {metrics['V_size']:.4f} ({metrics['control_V_size']:.4f}) at n = {c.train_size}, Data+Size "
           f"{metrics['V_data_size']:.4f} ({metrics['control_V_data_size']:.4f}) at n = {c.test_size}" if c.large else "")
        + (f"; mean ± std over members: Data {metrics['V_data_mean']:.4f} ± {metrics['V_data_std']:.4f}"
           if fitted.members > 1 else "")
        + (f"; reference protocol (long burn-in): Data {metrics['V_data_ref']:.4f}"
           + (f", Size {metrics['V_size_ref']:.4f}, Data+Size {metrics['V_data_size_ref']:.4f}" if c.large else "")
           if c.ref_eval else "")
        + f". Training: {c.steps} steps, {metrics['time_per_step_s'] * 1e3:.1f} ms/step. Random streams are "
        "derived by name from the seed; each member keeps its own best validation check.")
    return metrics


def _size_sweep(c, ctx, task, fitted, test_raw, metrics):
    """The chosen member at the sizes of `size_sweep`: V (and its control) per size, mean, min and max over the
    networks, and `synced_n<m>`, the share of networks with V < ½ (order parameter R > ½): a coupling that admits
    both a synchronised and an incoherent state splits its networks between the two."""
    out = kn.size_transfer(task, fitted, test_raw, c.size_sweep, key=ctx.key("size_sweep"), graphs=c.size_sweep_graphs,
                           reference=c.reference(), block_rows=c.model.block_rows, members=[fitted.best])
    names = [k for k in ("V", "V_ref", "control_V", "control_V_ref") if k in out[c.size_sweep[0]]]  # _ref: ref_eval
    for m, o in out.items():
        for name in names:
            v = np.asarray(o[name][0], float)
            base, ref = (name[:-4], "_ref") if name.endswith("_ref") else (name, "")
            metrics[f"{base}_n{m}{ref}"] = float(v.mean())
            if not name.startswith("control_"):
                metrics[f"{base}_n{m}{ref}_min"] = float(v.min())
                metrics[f"{base}_n{m}{ref}_max"] = float(v.max())
                metrics[f"synced_n{m}{ref}"] = float(np.mean(v < 0.5))
    ctx.save_arrays(size_sweep=np.asarray(list(out), int),
                    **{f"size_sweep_{k}": np.stack([np.asarray(o[k][0], float) for o in out.values()]) for k in names})


def _fan_in_peak(c, ctx, raw, fan, metrics):
    """Mean fan-in weight ⟨k_j⟩ over 30 bins per feature (paper Fig. 2C) and the features at its peak."""
    edges = [np.linspace(raw[:, i].min(), raw[:, i].max() + 1e-6, 31) for i in range(raw.shape[1])]
    mean, counts = kn.binned_mean(fan, raw, edges)
    ctx.save_arrays(fan_in_map=mean, fan_in_counts=counts)
    masked = np.where(counts >= min(5, counts.max()), mean, np.nan)  # ignore nearly empty bins
    if not np.all(np.isnan(masked)):
        idx = np.unravel_index(np.nanargmax(masked), masked.shape)
        for i, name in enumerate(kn.feature_names(c.case)):
            metrics[f"fan_in_peak_{name}"] = float(0.5 * (edges[i][idx[i]] + edges[i][idx[i] + 1]))


def _figures(c, ctx, loss, C_x, b, big, metrics):
    import matplotlib.pyplot as plt

    arrays = dict(np.load(ctx.out_dir / "arrays.npz"))
    fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))
    if loss.size:
        w = max(1, loss.size // 50)
        ax[0].plot(np.convolve(loss, np.ones(w) / w, mode="valid"))
        ax[1].scatter(C_x, loss, s=2, alpha=0.3)
    ax[0].set(xlabel="training step", ylabel="V (running mean)", title=f"Case {c.case}: training (member {b})")
    ax[1].set(xlabel="C_x (Eq. 7)", ylabel="V", title=f"r² = {metrics.get('C_x_r2', float('nan')):.2f}")
    ctx.save_figure(fig, "training")
    if "data_size_trace" in arrays:
        ts = c.dt * np.arange(1, c.burn_in_steps + c.window_steps + 1)
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.5), sharey=True)
        for a, who, title in ((ax[0], "", "trained"), (ax[1], "control_", "control (untrained)")):
            a.plot(ts, np.mod(arrays[f"data_size_{who}trace"][big], 2 * np.pi), ",", alpha=0.5)
            a.axvline(c.burn_in_steps * c.dt, color="k", lw=0.5)
            a.set(xlabel="t", title=f"{title}: V = {metrics[f'{who}V_data_size']:.3f} (n = {c.test_size})")
        ax[0].set_ylabel("θ mod 2π")
        ctx.save_figure(fig, "phase_traces")
    if c.case == "III" and "fan_in_map" in arrays:
        fig, ax = plt.subplots(figsize=(5, 4))
        im = ax.imshow(arrays["fan_in_map"].T, origin="lower", aspect="auto", extent=[2, 4, 0, kn.MAX_DELAY_STEPS])
        fig.colorbar(im, label="⟨k_j⟩ fan-in")
        ax.set(xlabel="ω", ylabel="τ (Euler steps)", title="fan-in map (Data+Size)")
        ctx.save_figure(fig, "fan_in_map")
