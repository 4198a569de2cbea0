r"""Study 2: the read-out against the number of harmonics M and against oscillator features.

One batched run records, for each reservoir, Re, Im Z_m for m = 1..M_max and
cos θ_j, sin θ_j of the first `max_oscillators` oscillators of the seeded draw
(a random subset: the draw is iid). Read-outs are then fitted on nested subsets:
order parameters with M = 1..M_max harmonics (2M features) and oscillator
features of m oscillators (2m features), for both tasks of study 1, at K below
and above K_c, with the input on and the ε = 0 control.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax.reservoir import (INPUT_TERMS, drive_batch, order_parameter_features, oscillator_features,
                                   readout_errors, sample_reservoirs, tasks)

TASKS = ["prediction", "transformation"]


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "base seed"})
    n: int = field(default=500, metadata={"ge": 2, "help": "number of oscillators N"})
    law: str = field(default="gaussian", metadata={"choices": [law for law in kj.theory.LAWS if law != "lorentzian"]})
    omega_spread: float = field(default=0.4, metadata={"gt": 0, "help": "std (Gaussian) or half-width (uniform)"})
    omega_mean: float = field(default=0.5, metadata={"help": "mean natural frequency"})
    eps: float = field(default=0.01, metadata={"ge": 0, "help": "input gain (the control uses 0)"})
    input_freq: float = field(default=0.5, metadata={"gt": 0})
    input_term: str = field(default="additive", metadata={"choices": list(INPUT_TERMS)})
    dt: float = field(default=0.01, metadata={"gt": 0})
    washout: float = field(default=240.0, metadata={"ge": 0})
    train: float = field(default=30.0, metadata={"gt": 0})
    test: float = field(default=30.0, metadata={"gt": 0})
    k_over_kc: list[float] = field(default_factory=lambda: [0.5, 1.5], metadata={"help": "K / K_c values"})
    seeds: int = field(default=2, metadata={"ge": 1})
    max_harmonics: int = field(default=10, metadata={"ge": 1, "help": "largest M"})
    max_oscillators: int = field(default=50, metadata={"ge": 1, "help": "largest oscillator subset"})
    oscillator_counts: list[int] = field(default_factory=lambda: [1, 2, 5, 10, 25, 50])
    ridge: float = field(default=0.0, metadata={"ge": 0})

    def __post_init__(self):
        if self.max_oscillators > self.n:
            raise ValueError(f"`max_oscillators` must be <= n = {self.n}, got {self.max_oscillators}")
        bad = [m for m in self.oscillator_counts if not 1 <= m <= self.max_oscillators]
        if bad:
            raise ValueError(
                f"`oscillator_counts` must lie in [1, max_oscillators = {self.max_oscillators}], got {bad}")


def run(config: Config, ctx) -> dict[str, float]:
    import matplotlib.pyplot as plt

    dt, Mx, P = config.dt, config.max_harmonics, config.max_oscillators
    n_wash = int(round(config.washout / dt))
    n_train, n_test = int(round(config.train / dt)), int(round(config.test / dt))
    T = n_wash + n_train + n_test
    u, y_pred = tasks.sine_prediction(T, dt, config.input_freq)
    _, y_tri = tasks.sine_to_triangle(T, dt, config.input_freq)
    targets = {"prediction": y_pred[n_wash:], "transformation": y_tri[n_wash:]}
    kc = kj.theory.critical_coupling(config.law, config.omega_spread)
    zf, of = order_parameter_features(Mx), oscillator_features(np.arange(P))
    feats = lambda th: jnp.concatenate([zf(th), of(th)])
    S, nK = config.seeds, len(config.k_over_kc)
    omega, theta0 = sample_reservoirs(ctx.key("draws", config.law), S, config.n, config.law, config.omega_spread,
                                      config.omega_mean)  # (S, N): every K and both ε of a draw share them
    shape = (S, nK, 2)
    grid = lambda x: jnp.broadcast_to(x[:, None, None, :], shape + x.shape[-1:]).reshape(-1, x.shape[-1])
    K = np.broadcast_to(kc * np.asarray(config.k_over_kc)[None, :, None], shape).ravel()
    eps = np.broadcast_to(np.array([config.eps, 0.0]), shape).ravel()
    ctx.log(f"{len(K)} reservoirs of N = {config.n} ({config.law}), features: Z_1..Z_{Mx} and {P} oscillators")
    tic = time.perf_counter()
    X = drive_batch(grid(omega), grid(theta0), K, eps, u, dt, features=feats, skip=n_wash,
                    input_term=config.input_term).reshape(shape + (n_train + n_test, -1))
    ctx.log(f"sweep took {time.perf_counter() - tic:.1f} s")

    Ms, ms = np.arange(1, Mx + 1), np.asarray(config.oscillator_counts)
    cols_z = lambda M: np.r_[np.arange(M), Mx + np.arange(M)]
    cols_o = lambda m: 2 * Mx + np.r_[np.arange(m), P + np.arange(m)]
    errors = lambda cols, y: readout_errors(X[..., cols], y, n_train, config.ridge)[0].transpose(1, 2, 0)
    # (task, K, eps, draw, M or m)
    err_z = np.stack([np.stack([errors(cols_z(M), targets[t]) for M in Ms], -1) for t in TASKS])
    err_o = np.stack([np.stack([errors(cols_o(m), targets[t]) for m in ms], -1) for t in TASKS])
    ez, eo = err_z.mean(3), err_o.mean(3)
    ctx.save_arrays(M=Ms, oscillator_counts=ms, k_over_kc=np.asarray(config.k_over_kc), mse_order=err_z,
                    mse_oscillators=err_o)
    metrics = {}  # wall time is logged, not a metric (metrics depend only on config and seed)
    lines = []
    for ti, task in enumerate(TASKS):
        for ki, k in enumerate(config.k_over_kc):
            tag = f"{task}_k{k:g}kc_"
            for i, M in enumerate(Ms):
                metrics[tag + f"mse_M{M}"] = float(ez[ti, ki, 0, i])
                metrics[tag + f"mse_eps0_M{M}"] = float(ez[ti, ki, 1, i])
            for i, m in enumerate(ms):
                metrics[tag + f"mse_osc{m}"] = float(eo[ti, ki, 0, i])
            lines.append(f"{task} at K = {k:g} K_c: order parameters M = 1/{min(5, Mx)}/{Mx}: "
                         + "/".join(f"{ez[ti, ki, 0, i]:.2g}" for i in (0, min(5, Mx) - 1, Mx - 1))
                         + f"; oscillators m = {ms[0]}/{ms[-1]}: {eo[ti, ki, 0, 0]:.2g}/{eo[ti, ki, 0, -1]:.2g}")
            ctx.log(lines[-1])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ti, task in enumerate(TASKS):
        ax = axes[ti]
        for ki, k in enumerate(config.k_over_kc):
            ax.semilogy(2 * Ms, ez[ti, ki, 0], "-o", color=f"C{ki}", label=f"Z_1..Z_M, K = {k:g} K_c")
            ax.semilogy(2 * Ms, ez[ti, ki, 1], ":", color=f"C{ki}", label="Z_1..Z_M, eps = 0")
            ax.semilogy(2 * ms, eo[ti, ki, 0], "--s", color=f"C{ki}", label=f"cos/sin of m oscillators, K = {k:g} K_c")
        ax.set(xlabel="number of features (2M or 2m)", ylabel="test MSE", title=task)
        ax.legend(fontsize=6)
    fig.tight_layout()
    ctx.save_figure(fig, "readout_features")
    ctx.summary(f"Read-out comparison ({config.law}, N = {config.n}, eps = {config.eps}): " + "; ".join(lines) + ".")
    return metrics
