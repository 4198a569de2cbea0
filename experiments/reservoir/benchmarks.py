r"""Study 3: NARMA-10, Mackey–Glass prediction and memory capacity against an echo-state network.

Discrete-time tasks drive the reservoir with a sample-and-hold input: sample
u_k is held for `hold` seconds, and the features are read at the end of each
hold. Inputs are standardised (zero mean, unit variance) before they drive any
reservoir; targets are computed from the raw series.

Compared at equal feature count D = 2M (+ bias):
  - kuramoto_z: Re, Im Z_1..Z_M of the Kuramoto reservoir;
  - kuramoto_osc: cos θ_j, sin θ_j of M oscillators of the same runs;
  - esn: an echo-state network with D units at fixed, documented hyperparameters
    (spectral radius `esn_spectral_radius`, leak `esn_leak`, input scale
    `esn_input_scale`, bias uniform on ±`esn_bias_scale`, dense W and W_in).
    With `esn_backend="auto"` it is reservoirpy's `Reservoir` node read out by
    its `Ridge` node when reservoirpy is importable (a benchmark extra), else the
    in-package numpy ESN (`kuramoto_jax.reservoir.esn`) with our read-out; the
    metric `esn_is_reservoirpy` (1/0) and the summary say which one ran;
  - esn_tuned: the same ESN implementation with (spectral radius, leak, input
    scale) chosen per task from the `esn_grid_*` lists on a validation split
    (the last `validation_fraction` of the training samples; read-out fitted on
    the rest), then refitted on all training samples and tested once;
  - esn_numpy: the in-package numpy ESN at the fixed hyperparameters (identical
    to `esn` when reservoirpy is absent), so both implementations appear in one run;
  - delay_line: the last D inputs (a linear memory baseline).
Every model except the reservoirpy ones uses `fit_readout` (ridge `ridge`,
bias not penalised), which is the same estimator as reservoirpy's `Ridge`.
Tasks: NARMA-10 (u_k iid uniform [0, 0.5]) and memory capacity share one random
input; Mackey–Glass (τ = 17, sampled every `mg_sample_every`) predicts
`mg_horizon` samples ahead. NRMSE on the test samples; MC = Σ_d r²(d), d ≤ `mc_max_delay`.
The Kuramoto reservoir is not tuned (K, ε fixed by the config).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax.reservoir import (
    INPUT_TERMS,
    EchoStateNetwork,
    drive_reservoir,
    fit_readout,
    memory_capacity,
    nrmse,
    order_parameter_features,
    oscillator_features,
    sample_reservoir,
    tasks,
)

MODELS = ["kuramoto_z", "kuramoto_osc", "esn", "esn_tuned", "esn_numpy", "delay_line"]
ESN_BACKENDS = ["auto", "reservoirpy", "numpy"]


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "base seed"})
    n: int = field(default=500, metadata={"ge": 2, "help": "number of oscillators N"})
    law: str = field(default="gaussian", metadata={"choices": ["gaussian", "uniform"]})
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
        "choices": ESN_BACKENDS, "help": "auto: reservoirpy if importable, else the in-package numpy ESN"})
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


def _reservoirpy():
    try:
        import reservoirpy
    except ImportError:
        return None
    return reservoirpy


def _esn_states(use_rpy: bool, units, spectral_radius, leak, input_scale, bias_scale, seed, x):
    """(T, units) ESN states after reading x_0..x_k, from x = 0."""
    if use_rpy:
        from reservoirpy import mat_gen
        from reservoirpy.nodes import Reservoir

        node = Reservoir(units, sr=spectral_radius, lr=leak, input_scaling=input_scale, input_connectivity=1.0,
                         rc_connectivity=1.0, bias=mat_gen.uniform(low=-bias_scale, high=bias_scale), seed=seed)
        return np.asarray(node.run(np.asarray(x, dtype=np.float64)[:, None]), dtype=np.float64)
    esn = EchoStateNetwork(units, spectral_radius, input_scale, bias_scale=bias_scale, leak=leak, seed=seed)
    return esn.states(x)


def _rpy_fit(X, y, ridge):
    """reservoirpy's Ridge node as a read-out: returns X ↦ ŷ."""
    from reservoirpy.nodes import Ridge

    node = Ridge(ridge=ridge)
    node.fit(np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(len(y), -1))
    return lambda Z: np.asarray(node.run(np.asarray(Z, np.float64)))[:, 0]


def _fit(X, y, ridge):
    return fit_readout(X, y, ridge)


def _scores(F, y_narma, u_std, y_mg, G, tr, te, config, fit):
    """(NARMA-10 NRMSE, MC, MC profile, Mackey–Glass NRMSE, predictions) of features F (random input), G (MG)."""
    ro = fit(F[tr], y_narma[tr], config.ridge)
    p_narma = ro(F[te])
    mc, prof = memory_capacity(F[tr], u_std[tr], F[te], u_std[te], config.mc_max_delay, ridge=config.ridge, fit=fit)
    ro = fit(G[tr], y_mg[tr], config.ridge)
    p_mg = ro(G[te])
    return nrmse(p_narma, y_narma[te]), mc, prof, nrmse(p_mg, y_mg[te]), p_narma, p_mg


def run(config: Config, ctx) -> dict[str, float]:
    D = 2 * config.M
    stride = int(round(config.hold / config.dt))
    if stride < 1 or abs(stride * config.dt - config.hold) > 1e-9:
        raise ValueError(f"`hold` must be a whole number of dt steps, got hold={config.hold}, dt={config.dt}")
    W, Tr, Te = config.washout_samples, config.train_samples, config.test_samples
    total = W + Tr + Te
    rpy = _reservoirpy()
    if config.esn_backend == "reservoirpy" and rpy is None:
        raise ValueError("`esn_backend`='reservoirpy' but reservoirpy is not importable: install the benchmark "
                         "extra (pip install 'kuramoto_jax[bench]') or use esn_backend=auto/numpy")
    use_rpy = rpy is not None and config.esn_backend != "numpy"
    # random input (NARMA-10 and memory capacity) and Mackey–Glass
    u_rand, y_narma = tasks.narma10(total + 1, seed=config.seed)
    mg = tasks.mackey_glass(total + config.mg_horizon, sample_every=config.mg_sample_every, seed=config.seed)
    u_mg, y_mg = mg[:total], mg[config.mg_horizon:]
    inputs = {"random": _standardise(u_rand), "mackey_glass": _standardise(u_mg)}

    kc = kj.theory.critical_coupling(config.law, config.omega_spread)
    key = jax.random.key(config.seed)
    omega, theta0 = sample_reservoir(key, config.n, config.law, config.omega_spread, config.omega_mean)
    w = jax.random.normal(jax.random.fold_in(key, 7), (config.n,)) if config.random_input_weights else None
    zf, of = order_parameter_features(config.M), oscillator_features(np.arange(config.M))
    feats = lambda th: jnp.concatenate([zf(th), of(th)])
    U = jnp.stack([jnp.asarray(np.repeat(inputs[k], stride)) for k in ("random", "mackey_glass")])
    fn = jax.jit(jax.vmap(lambda u: drive_reservoir(
        omega, theta0, config.k_over_kc * kc, config.eps, u, config.dt, features=feats, skip=stride - 1,
        stride=stride, input_term=config.input_term, input_weights=w)[0]))
    ctx.log(f"Kuramoto reservoir N = {config.n}, K = {config.k_over_kc:g} K_c, eps = {config.eps}, "
            f"{total} samples x {stride} steps for 2 input series (one batched solve)")
    tic = time.perf_counter()
    Xk = np.asarray(jax.block_until_ready(fn(U)), dtype=np.float64)  # (2, total, 2D)
    wall = time.perf_counter() - tic
    ctx.log(f"Kuramoto runs took {wall:.1f} s")

    esn_name = f"reservoirpy {rpy.__version__} Reservoir + Ridge" if use_rpy else "in-package numpy ESN"
    ctx.log(f"ESN: {esn_name}, {D} units")
    fit_esn = _rpy_fit if use_rpy else _fit
    hp = (config.esn_spectral_radius, config.esn_leak, config.esn_input_scale, config.esn_bias_scale, config.seed)
    series = {name: inputs[name] for name in ("random", "mackey_glass")}
    features = {name: {
        "kuramoto_z": Xk[i, :, :D],
        "kuramoto_osc": Xk[i, :, D:],
        "esn": _esn_states(use_rpy, D, hp[0], hp[1], hp[2], hp[3], hp[4], x),
        "esn_numpy": _esn_states(False, D, hp[0], hp[1], hp[2], hp[3], hp[4], x),
        "delay_line": np.stack([np.r_[np.zeros(d), x[: len(x) - d]] for d in range(D)], 1),
    } for i, (name, x) in enumerate(series.items())}

    tr, te = slice(W, W + Tr), slice(W + Tr, total)
    # esn_tuned: choose (ρ, leak, input scale) per task on a validation split of the training samples
    n_val = int(round(config.validation_fraction * Tr))
    fit_part, val = slice(W, W + Tr - n_val), slice(W + Tr - n_val, W + Tr)
    grid = [(r, a_, s_) for r in config.esn_grid_spectral_radius for a_ in config.esn_grid_leak
            for s_ in config.esn_grid_input_scale]
    val_scores = np.zeros((len(grid), 3))  # NARMA NRMSE (low is good), MC (high), MG NRMSE (low)
    grid_states = []
    for gi, (r, a_, s_) in enumerate(ctx.progress(grid, total=len(grid), desc="ESN grid")):
        F = _esn_states(use_rpy, D, r, a_, s_, config.esn_bias_scale, config.seed, series["random"])
        G = _esn_states(use_rpy, D, r, a_, s_, config.esn_bias_scale, config.seed, series["mackey_glass"])
        grid_states.append((F, G))
        v = _scores(F, y_narma, series["random"], y_mg, G, fit_part, val, config, fit_esn)
        val_scores[gi] = v[0], v[1], v[3]
    best = {"narma10": int(np.argmin(val_scores[:, 0])), "memory_capacity": int(np.argmax(val_scores[:, 1])),
            "mackey_glass": int(np.argmin(val_scores[:, 2]))}

    metrics: dict[str, float] = {"esn_is_reservoirpy": float(use_rpy)}  # wall time is logged, not a metric
    mc_profiles, preds = {}, {}
    for model in MODELS:
        fit = fit_esn if model in ("esn", "esn_tuned") else _fit
        if model == "esn_tuned":
            # one evaluation per task with that task's chosen hyperparameters
            F, G = grid_states[best["narma10"]][0], grid_states[best["mackey_glass"]][1]
            r_n, _, _, r_m, p_n, p_m = _scores(F, y_narma, series["random"], y_mg, G, tr, te, config, fit)
            F_mc = grid_states[best["memory_capacity"]][0]
            mc, prof = memory_capacity(F_mc[tr], series["random"][tr], F_mc[te], series["random"][te],
                                       config.mc_max_delay, ridge=config.ridge, fit=fit)
        else:
            F, G = features["random"][model], features["mackey_glass"][model]
            r_n, mc, prof, r_m, p_n, p_m = _scores(F, y_narma, series["random"], y_mg, G, tr, te, config, fit)
        metrics[f"narma10_nrmse_{model}"] = r_n
        metrics[f"memory_capacity_{model}"] = mc
        metrics[f"mackey_glass_nrmse_{model}"] = r_m
        mc_profiles[model], preds[("narma", model)], preds[("mg", model)] = prof, p_n, p_m
    for task, gi in best.items():
        r, a_, s_ = grid[gi]
        metrics[f"esn_tuned_{task}_spectral_radius"] = float(r)
        metrics[f"esn_tuned_{task}_leak"] = float(a_)
        metrics[f"esn_tuned_{task}_input_scale"] = float(s_)
        ctx.log(f"esn_tuned for {task}: spectral radius {r}, leak {a_}, input scale {s_} "
                f"(validation NRMSE/MC/NRMSE {val_scores[gi, 0]:.3f}/{val_scores[gi, 1]:.2f}/{val_scores[gi, 2]:.3f})")
    lines = [f"{m}: NARMA-10 NRMSE {metrics[f'narma10_nrmse_{m}']:.3f}, MC {metrics[f'memory_capacity_{m}']:.2f}, "
             f"Mackey-Glass (+{config.mg_horizon}) NRMSE {metrics[f'mackey_glass_nrmse_{m}']:.3f}" for m in MODELS]
    for line in lines:
        ctx.log(line)
    ctx.save_arrays(mc_profiles=np.stack([mc_profiles[m] for m in MODELS]), models=np.array(MODELS),
                    esn_grid=np.asarray(grid), esn_grid_validation=val_scores,
                    narma_test=y_narma[te], mg_test=y_mg[te],
                    narma_pred=np.stack([preds[("narma", m)] for m in MODELS]),
                    mg_pred=np.stack([preds[("mg", m)] for m in MODELS]))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for i, m in enumerate(MODELS):
        axes[0].plot(np.arange(1, config.mc_max_delay + 1), mc_profiles[m], "-o", ms=3, label=m)
    axes[0].set(xlabel="delay d (samples)", ylabel="r^2(d)", title="memory capacity profile")
    axes[0].legend(fontsize=7)
    k = min(200, Te)
    axes[1].plot(y_narma[te][:k], "k", lw=1, label="NARMA-10 target")
    axes[2].plot(y_mg[te][:k], "k", lw=1, label="Mackey-Glass target")
    for m in ("kuramoto_z", "esn", "esn_tuned"):
        axes[1].plot(preds[("narma", m)][:k], "--", lw=1, label=m)
        axes[2].plot(preds[("mg", m)][:k], "--", lw=1, label=m)
    axes[1].set(xlabel="test sample", title="NARMA-10")
    axes[2].set(xlabel="test sample", title=f"Mackey-Glass, {config.mg_horizon} steps ahead")
    axes[1].legend(fontsize=7), axes[2].legend(fontsize=7)
    fig.tight_layout()
    ctx.save_figure(fig, "benchmarks")
    ctx.summary(f"Standard benchmarks at D = {D} features (Kuramoto N = {config.n}, K = {config.k_over_kc:g} K_c, "
                f"eps = {config.eps}, {config.input_term} input; esn = {esn_name} with {D} units, esn_tuned = the same "
                f"with hyperparameters chosen on a validation split, esn_numpy = the in-package ESN): "
                + "; ".join(lines) + ".")
    return metrics
