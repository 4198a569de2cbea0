r"""Study 3: NARMA-10, Mackey–Glass prediction and memory capacity against an echo-state network.

Sample-and-hold input (u_k held for `hold` seconds, features read at the end of each hold), standardised;
targets from the raw series. Models at equal feature count D = 2M (+ bias): kuramoto_z (Re, Im Z_1..Z_M
of the reservoir drawn from `ctx.key("reservoir")`), kuramoto_osc (cos θ_j, sin θ_j of M of its
oscillators), esn (D units at the fixed `esn_*` hyperparameters: reservoirpy's Reservoir + Ridge when
importable and `esn_backend` allows, else the in-package numpy ESN; metric `esn_is_reservoirpy`),
esn_tuned (the same with (spectral radius, leak, input scale) chosen per task from the `esn_grid_*` lists
on the last `validation_fraction` of the training samples, `reservoir.tune_esn`), esn_numpy (the
in-package ESN at the fixed hyperparameters) and delay_line (the last D inputs). Read-outs: `fit_readout`
(ridge, bias not penalised; the estimator of reservoirpy's Ridge). NARMA-10 (u_k iid uniform [0, 0.5])
and memory capacity share one random input; Mackey–Glass (τ = 17) is predicted `mg_horizon` samples
ahead. Scores (`reservoir.benchmark_scores`): `nrmse_std` on the test samples; MC = Σ_d r²(d),
d ≤ `mc_max_delay`. The Kuramoto reservoir is not tuned (K, ε fixed by the config).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax.reservoir import (ESN_BACKENDS, INPUT_TERMS, benchmark_figure, benchmark_scores, drive_batch,
                                   esn_states, fit_readout, order_parameter_features, oscillator_features,
                                   reservoirpy_readout, reservoirpy_version, sample_reservoir, tasks, tune_esn)

MODELS = ["kuramoto_z", "kuramoto_osc", "esn", "esn_tuned", "esn_numpy", "delay_line"]


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "base seed"})
    n: int = field(default=500, metadata={"ge": 2, "help": "number of oscillators N"})
    law: str = field(default="gaussian", metadata={"choices": [law for law in kj.theory.LAWS if law != "lorentzian"]})
    omega_spread: float = field(default=0.4, metadata={"gt": 0})
    omega_mean: float = field(default=0.5)
    k_over_kc: float = field(default=1.5, metadata={"gt": 0, "help": "coupling in units of K_c"})
    eps: float = field(default=0.5, metadata={"ge": 0, "help": "input gain on the standardised input"})
    input_term: str = field(default="additive", metadata={"choices": list(INPUT_TERMS)})
    random_input_weights: bool = field(default=False, metadata={"help": "w_j ~ N(0, 1) instead of w_j = 1"})
    dt: float = field(default=0.01, metadata={"gt": 0})
    hold: float = field(default=0.5, metadata={"gt": 0, "help": "seconds per input sample"})
    M: int = field(default=5, metadata={"ge": 1, "help": "harmonics; D = 2M features for every model"})
    washout_samples: int = field(default=200, metadata={"ge": 10})
    train_samples: int = field(default=1000, metadata={"ge": 20})
    test_samples: int = field(default=500, metadata={"ge": 20})
    ridge: float = field(default=1e-6, metadata={"ge": 0})
    esn_spectral_radius: float = field(default=0.9, metadata={"gt": 0})
    esn_input_scale: float = field(default=0.5, metadata={"gt": 0})
    esn_leak: float = field(default=1.0, metadata={"gt": 0, "le": 1})
    esn_bias_scale: float = field(default=0.2, metadata={"ge": 0, "help": "ESN bias uniform on [-b, b]"})
    esn_backend: str = field(default="auto", metadata={
        "choices": ["auto", *ESN_BACKENDS], "help": "auto: reservoirpy if importable, else the in-package numpy ESN"})
    esn_grid_spectral_radius: list[float] = field(default_factory=lambda: [0.5, 0.9, 1.2], metadata={"gt": 0})
    esn_grid_leak: list[float] = field(default_factory=lambda: [0.3, 1.0], metadata={"gt": 0, "le": 1})
    esn_grid_input_scale: list[float] = field(default_factory=lambda: [0.1, 0.5, 1.0], metadata={"gt": 0})
    validation_fraction: float = field(default=0.2, metadata={
        "gt": 0, "lt": 1, "help": "last part of the training samples used to choose esn_tuned's hyperparameters"})
    mg_sample_every: float = field(default=1.0, metadata={"gt": 0})
    mg_horizon: int = field(default=10, metadata={"ge": 1, "help": "Mackey–Glass steps ahead"})
    mc_max_delay: int = field(default=40, metadata={"ge": 1})

    def __post_init__(self):
        n_val = int(round(self.validation_fraction * self.train_samples))
        if not self.mc_max_delay < min(n_val, self.test_samples):
            raise ValueError(
                f"`mc_max_delay` must be below the validation ({n_val}) and test ({self.test_samples}) sample "
                f"counts, got {self.mc_max_delay}: lower it or raise `validation_fraction` / `train_samples`")


def _standardise(x):
    return (x - x.mean()) / x.std()


def run(config: Config, ctx) -> dict[str, float]:
    D = 2 * config.M
    stride = int(round(config.hold / config.dt))
    if stride < 1 or abs(stride * config.dt - config.hold) > 1e-9:
        raise ValueError(f"`hold` must be a whole number of dt steps, got hold={config.hold}, dt={config.dt}")
    W, Tr, Te = config.washout_samples, config.train_samples, config.test_samples
    total = W + Tr + Te
    rpy = reservoirpy_version()
    if config.esn_backend == "reservoirpy" and rpy is None:
        raise ValueError("`esn_backend`='reservoirpy' but reservoirpy is not importable: install the benchmark "
                         "extra (pip install 'kuramoto_jax[bench]') or use esn_backend=auto/numpy")
    use_rpy = rpy is not None and config.esn_backend != "numpy"
    # random input (NARMA-10 and memory capacity) and Mackey–Glass
    u_rand, y_narma = tasks.narma10(total + 1, seed=config.seed)
    mg = tasks.mackey_glass(total + config.mg_horizon, sample_every=config.mg_sample_every, seed=config.seed)
    u_mg, y_mg = mg[:total], mg[config.mg_horizon:]
    series = {"random": _standardise(u_rand), "mackey_glass": _standardise(u_mg)}

    kc = kj.theory.critical_coupling(config.law, config.omega_spread)
    omega, theta0 = sample_reservoir(ctx.key("reservoir"), config.n, config.law, config.omega_spread,
                                     config.omega_mean)
    w = jax.random.normal(ctx.key("input_weights"), (config.n,)) if config.random_input_weights else None
    zf, of = order_parameter_features(config.M), oscillator_features(np.arange(config.M))
    U = np.stack([np.repeat(series[k], stride) for k in series])  # one reservoir per input series
    ctx.log(f"Kuramoto reservoir N = {config.n}, K = {config.k_over_kc:g} K_c, eps = {config.eps}, "
            f"{total} samples x {stride} steps for 2 input series (one batched solve)")
    tic = time.perf_counter()
    Xk = drive_batch(jnp.stack([omega] * 2), jnp.stack([theta0] * 2), config.k_over_kc * kc, config.eps, U,
                     config.dt, features=lambda th: jnp.concatenate([zf(th), of(th)]), skip=stride - 1,
                     stride=stride, input_term=config.input_term, input_weights=w)  # (2, total, 2D)
    ctx.log(f"Kuramoto runs took {time.perf_counter() - tic:.1f} s")

    esn_name = f"reservoirpy {rpy} Reservoir + Ridge" if use_rpy else "in-package numpy ESN"
    ctx.log(f"ESN: {esn_name}, {D} units")
    fit_esn, backend = (reservoirpy_readout, "reservoirpy") if use_rpy else (fit_readout, "numpy")
    hp = (config.esn_spectral_radius, config.esn_leak, config.esn_input_scale, config.esn_bias_scale, config.seed)
    features = {name: {
        "kuramoto_z": Xk[i, :, :D], "kuramoto_osc": Xk[i, :, D:],
        "esn": esn_states(x, D, *hp, backend), "esn_numpy": esn_states(x, D, *hp, "numpy"),
        "delay_line": np.stack([np.r_[np.zeros(d), x[: len(x) - d]] for d in range(D)], 1),
    } for i, (name, x) in enumerate(series.items())}
    tr, te = slice(W, W + Tr), slice(W + Tr, total)
    scores = lambda F, G, fit: benchmark_scores(F, series["random"], y_narma, G, y_mg, tr, te,
                                                max_delay=config.mc_max_delay, ridge=config.ridge, fit=fit)
    # esn_tuned: (ρ, leak, input scale) chosen per task on the last part of the training samples
    n_val = int(round(config.validation_fraction * Tr))
    grid = [(r, a, s) for r in config.esn_grid_spectral_radius for a in config.esn_grid_leak
            for s in config.esn_grid_input_scale]
    best, val_scores, grid_states = tune_esn(
        grid, series["random"], y_narma, series["mackey_glass"], y_mg, slice(W, W + Tr - n_val),
        slice(W + Tr - n_val, W + Tr), units=D, bias_scale=config.esn_bias_scale, seed=config.seed, backend=backend,
        max_delay=config.mc_max_delay, ridge=config.ridge, fit=fit_esn,
        progress=lambda g: ctx.progress(g, total=len(g), desc="ESN grid"))

    metrics: dict[str, float] = {"esn_is_reservoirpy": float(use_rpy)}  # wall time is logged, not a metric
    mc_profiles, preds = {}, {}
    for model in MODELS:
        fit = fit_esn if model in ("esn", "esn_tuned") else fit_readout
        if model == "esn_tuned":  # one evaluation per task with that task's chosen hyperparameters
            r_n, _, _, r_m, p_n, p_m = scores(grid_states[best["narma10"]][0], grid_states[best["mackey_glass"]][1], fit)
            _, mc, prof, *_ = scores(grid_states[best["memory_capacity"]][0], grid_states[0][1], fit)
        else:
            r_n, mc, prof, r_m, p_n, p_m = scores(features["random"][model], features["mackey_glass"][model], fit)
        metrics.update({f"narma10_nrmse_{model}": r_n, f"memory_capacity_{model}": mc,
                        f"mackey_glass_nrmse_{model}": r_m})
        mc_profiles[model], preds[("narma", model)], preds[("mg", model)] = prof, p_n, p_m
    for task, gi in best.items():
        for name, value in zip(("spectral_radius", "leak", "input_scale"), grid[gi]):
            metrics[f"esn_tuned_{task}_{name}"] = float(value)
        ctx.log(f"esn_tuned for {task}: spectral radius, leak, input scale {grid[gi]} (validation "
                f"NRMSE/MC/NRMSE {val_scores[gi, 0]:.3f}/{val_scores[gi, 1]:.2f}/{val_scores[gi, 2]:.3f})")
    lines = [f"{m}: NARMA-10 NRMSE {metrics[f'narma10_nrmse_{m}']:.3f}, MC {metrics[f'memory_capacity_{m}']:.2f}, "
             f"Mackey-Glass (+{config.mg_horizon}) NRMSE {metrics[f'mackey_glass_nrmse_{m}']:.3f}" for m in MODELS]
    for line in lines:
        ctx.log(line)
    ctx.save_arrays(mc_profiles=np.stack([mc_profiles[m] for m in MODELS]), models=np.array(MODELS),
                    esn_grid=np.asarray(grid), esn_grid_validation=val_scores, narma_test=y_narma[te],
                    mg_test=y_mg[te], narma_pred=np.stack([preds[("narma", m)] for m in MODELS]),
                    mg_pred=np.stack([preds[("mg", m)] for m in MODELS]))
    fig = benchmark_figure(mc_profiles, preds, y_narma[te], y_mg[te], mg_horizon=config.mg_horizon)
    ctx.save_figure(fig, "benchmarks")
    ctx.summary(f"Standard benchmarks at D = {D} features (Kuramoto N = {config.n}, K = {config.k_over_kc:g} K_c, "
                f"eps = {config.eps}, {config.input_term} input; esn = {esn_name} with {D} units, esn_tuned = the same "
                f"with hyperparameters chosen on a validation split, esn_numpy = the in-package ESN): "
                + "; ".join(lines) + ".")
    return metrics
