r"""Study 3: NARMA-10, Mackey–Glass prediction and memory capacity against an echo-state network.

Discrete-time tasks drive the reservoir with a sample-and-hold input: sample
u_k is held for `hold` seconds, and the features are read at the end of each
hold. Inputs are standardised (zero mean, unit variance) before they drive any
reservoir; targets are computed from the raw series.

Compared at equal feature count D = 2M (+ bias), all with the same read-out
(`fit_readout`, ridge `ridge`):
  - kuramoto_z: Re, Im Z_1..Z_M of the Kuramoto reservoir;
  - kuramoto_osc: cos θ_j, sin θ_j of M oscillators of the same runs;
  - esn: a leaky tanh echo-state network with D units (plain numpy, `kuramoto_jax.reservoir.esn`);
  - delay_line: the last D inputs (a linear memory baseline).
Tasks: NARMA-10 (u_k iid uniform [0, 0.5]) and memory capacity share one random
input; Mackey–Glass (τ = 17, sampled every `mg_sample_every`) predicts
`mg_horizon` samples ahead. NRMSE on the test samples; MC = Σ_d r²(d), d ≤ `mc_max_delay`.
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

MODELS = ["kuramoto_z", "kuramoto_osc", "esn", "delay_line"]


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
    mg_sample_every: float = field(default=1.0, metadata={"gt": 0})
    mg_horizon: int = field(default=10, metadata={"ge": 1, "help": "Mackey–Glass steps ahead"})
    mc_max_delay: int = field(default=40, metadata={"ge": 1})


def _standardise(x):
    return (x - x.mean()) / x.std()


def run(config: Config, ctx) -> dict[str, float]:
    D = 2 * config.M
    stride = int(round(config.hold / config.dt))
    if stride < 1 or abs(stride * config.dt - config.hold) > 1e-9:
        raise ValueError(f"`hold` must be a whole number of dt steps, got hold={config.hold}, dt={config.dt}")
    W, Tr, Te = config.washout_samples, config.train_samples, config.test_samples
    total = W + Tr + Te
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

    esn = EchoStateNetwork(D, config.esn_spectral_radius, config.esn_input_scale, leak=config.esn_leak,
                           seed=config.seed)
    features = {}
    for i, name in enumerate(("random", "mackey_glass")):
        x = inputs[name]
        features[name] = {
            "kuramoto_z": Xk[i, :, :D],
            "kuramoto_osc": Xk[i, :, D:],
            "esn": esn.states(x),
            "delay_line": np.stack([np.r_[np.zeros(d), x[: len(x) - d]] for d in range(D)], 1),
        }
    tr, te = slice(W, W + Tr), slice(W + Tr, total)
    metrics: dict[str, float] = {}  # wall time is logged, not a metric
    mc_profiles = {}
    preds = {}
    for model in MODELS:
        F = features["random"][model]
        ro = fit_readout(F[tr], y_narma[tr], config.ridge)
        metrics[f"narma10_nrmse_{model}"] = nrmse(ro(F[te]), y_narma[te])
        preds[("narma", model)] = ro(F[te])
        mc, prof = memory_capacity(F[tr], inputs["random"][tr], F[te], inputs["random"][te],
                                   config.mc_max_delay, ridge=config.ridge)
        metrics[f"memory_capacity_{model}"] = mc
        mc_profiles[model] = prof
        G = features["mackey_glass"][model]
        ro = fit_readout(G[tr], y_mg[tr], config.ridge)
        metrics[f"mackey_glass_nrmse_{model}"] = nrmse(ro(G[te]), y_mg[te])
        preds[("mg", model)] = ro(G[te])
    lines = [f"{m}: NARMA-10 NRMSE {metrics[f'narma10_nrmse_{m}']:.3f}, MC {metrics[f'memory_capacity_{m}']:.2f}, "
             f"Mackey-Glass (+{config.mg_horizon}) NRMSE {metrics[f'mackey_glass_nrmse_{m}']:.3f}" for m in MODELS]
    for line in lines:
        ctx.log(line)
    ctx.save_arrays(mc_profiles=np.stack([mc_profiles[m] for m in MODELS]), models=np.array(MODELS),
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
    for m in ("kuramoto_z", "esn"):
        axes[1].plot(preds[("narma", m)][:k], "--", lw=1, label=m)
        axes[2].plot(preds[("mg", m)][:k], "--", lw=1, label=m)
    axes[1].set(xlabel="test sample", title="NARMA-10")
    axes[2].set(xlabel="test sample", title=f"Mackey-Glass, {config.mg_horizon} steps ahead")
    axes[1].legend(fontsize=7), axes[2].legend(fontsize=7)
    fig.tight_layout()
    ctx.save_figure(fig, "benchmarks")
    ctx.summary(f"Standard benchmarks at D = {D} features (Kuramoto N = {config.n}, K = {config.k_over_kc:g} K_c, "
                f"eps = {config.eps}, {config.input_term} input; ESN with {D} units): " + "; ".join(lines) + ".")
    return metrics
