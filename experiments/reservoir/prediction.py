r"""Study 1: MSE against K across K_c for the sine prediction and sine → triangle tasks.

The reservoir (paper Section 5): N mean-field Kuramoto oscillators, ω ~ Gaussian
(σ = 0.4) or uniform (half-width 0.5, so K_c ≈ 0.638 and 0.637), mean ω̄ = 0.5,
driven by ε u(t), u = sin(0.5 t), for 240 s of washout, 30 s of read-out
training and 30 s of testing; read-out by least squares on Re, Im Z_m,
m = 1..M (+ bias, equivalent to m = −M..M). Both tasks share the reservoir
runs (same input). Every (law, seed, K, ε ∈ {ε, 0}) system is integrated in ONE
jitted, vmapped computation; for a given law and seed all K and both ε share
the same ω and θ(0) (common random numbers), so the ε = 0 control differs
only by the input.

Metrics (per law and task, MSE averaged over seeds): mse_below_kc at K = 0.5 K_c;
mse_above_kc at the K of minimum MSE (ε on), k_best_over_kc that K / K_c;
mse_eps0_above_kc the ε = 0 control at that K; per law, mean_abs_omega_offset =
mean over draws of |Ω_N − ω̄|, the sample-mean frequency offset that sets the
error floor above K_c. `frequencies="quantile"` (a variant beyond the paper)
replaces the iid draw of ω by deterministic quantiles with Ω_N = ω̄ exactly.
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
    drive_reservoir,
    fit_readout,
    mse,
    order_parameter_features,
    sample_reservoir,
    tasks,
)

LAWS = ["gaussian", "uniform"]
TASKS = ["prediction", "transformation"]


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "base seed (frequencies, initial phases)"})
    n: int = field(default=500, metadata={"ge": 2, "help": "number of oscillators N"})
    laws: list[str] = field(default_factory=lambda: list(LAWS), metadata={"choices": LAWS})
    gaussian_spread: float = field(default=0.4, metadata={"gt": 0, "help": "std of the Gaussian law"})
    uniform_spread: float = field(default=0.5, metadata={"gt": 0, "help": "half-width of the uniform law"})
    omega_mean: float = field(default=0.5, metadata={"help": "mean natural frequency ω̄"})
    frequencies: str = field(default="random", metadata={
        "choices": ["random", "quantile"],
        "help": "random: ω_j iid from the law (the paper); quantile: deterministic quantiles with sample mean "
                "exactly ω̄ (only θ(0) varies with the seed)"})
    eps: float = field(default=0.01, metadata={"ge": 0, "help": "input gain ε (the control uses ε = 0)"})
    input_freq: float = field(default=0.5, metadata={"gt": 0, "help": "Ω of u = sin(Ω t)"})
    input_term: str = field(default="additive", metadata={"choices": list(INPUT_TERMS)})
    dt: float = field(default=0.01, metadata={"gt": 0, "help": "sample spacing and RK4 step"})
    washout: float = field(default=240.0, metadata={"ge": 0, "help": "seconds discarded"})
    train: float = field(default=30.0, metadata={"gt": 0, "help": "seconds of read-out training"})
    test: float = field(default=30.0, metadata={"gt": 0, "help": "seconds of testing"})
    k_over_kc: list[float] = field(
        default_factory=lambda: [0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0],
        metadata={"help": "K values in units of the law's K_c (must include 0.5)"})
    seeds: int = field(default=2, metadata={"ge": 1, "help": "reservoir draws per law"})
    M: int = field(default=5, metadata={"ge": 1, "help": "order-parameter harmonics"})
    ridge: float = field(default=0.0, metadata={"ge": 0, "help": "0 = least squares (Moore–Penrose)"})

    def __post_init__(self):
        if not any(abs(k - 0.5) < 1e-9 for k in self.k_over_kc):
            raise ValueError(f"`k_over_kc` must include 0.5 (where mse_below_kc is measured), got {self.k_over_kc}")
        if not any(k >= 1 for k in self.k_over_kc):
            raise ValueError(f"`k_over_kc` needs values >= 1, got {self.k_over_kc}")


def spread(config: Config, law: str) -> float:
    return config.gaussian_spread if law == "gaussian" else config.uniform_spread


def sweep_features(config: Config):
    """Features of every (law, seed, K, ε) system in one batched run.

    Returns X (L, S, nK, 2, T_keep, 2M), the targets, the training length, the sweep
    wall time, the batch size, the step count and the sample means Ω_N (L, S) of ω.
    """
    dt = config.dt
    n_wash = int(round(config.washout / dt))
    n_train, n_test = int(round(config.train / dt)), int(round(config.test / dt))
    T = n_wash + n_train + n_test
    u, y_pred = tasks.sine_prediction(T, dt, config.input_freq)
    _, y_tri = tasks.sine_to_triangle(T, dt, config.input_freq)
    L, S, nK = len(config.laws), config.seeds, len(config.k_over_kc)
    omegas, thetas, Ks, epss = [], [], [], []
    omega_means = np.zeros((L, S))
    for li, law in enumerate(config.laws):
        kc = kj.theory.critical_coupling(law, spread(config, law))
        for s in range(S):
            key = jax.random.fold_in(jax.random.key(config.seed), 1000 * li + s)
            om, th = sample_reservoir(key, config.n, law, spread(config, law), config.omega_mean,
                                      config.frequencies)
            omega_means[li, s] = float(np.mean(np.asarray(om, dtype=np.float64)))
            for k in config.k_over_kc:
                for e in (config.eps, 0.0):
                    omegas.append(om), thetas.append(th), Ks.append(k * kc), epss.append(e)
    B = len(Ks)
    fn = jax.jit(jax.vmap(
        lambda om, th, K, e: drive_reservoir(
            om, th, K, e, jnp.asarray(u), dt, features=order_parameter_features(config.M), skip=n_wash,
            input_term=config.input_term)[0]))
    t0 = time.perf_counter()
    X = fn(jnp.stack(omegas), jnp.stack(thetas), jnp.asarray(Ks), jnp.asarray(epss))
    X = np.asarray(jax.block_until_ready(X), dtype=np.float64)
    wall = time.perf_counter() - t0
    X = X.reshape(L, S, nK, 2, n_train + n_test, 2 * config.M)
    targets = {"prediction": y_pred[n_wash:], "transformation": y_tri[n_wash:]}
    return X, targets, n_train, wall, B, T, omega_means


def run(config: Config, ctx) -> dict[str, float]:
    L, S, nK = len(config.laws), config.seeds, len(config.k_over_kc)
    ctx.log(f"{L} laws x {S} seeds x {nK} K values x 2 eps = {L * S * nK * 2} reservoirs of N = {config.n}, "
            f"{config.washout + config.train + config.test:g} s at dt = {config.dt} (one batched solve)")
    X, targets, n_train, wall, B, T, omega_means = sweep_features(config)
    ctx.log(f"sweep: {B} systems x {T} steps in {wall:.1f} s ({wall / (B * T) * 1e6:.2f} us per system-step)")
    kgrid = np.asarray(config.k_over_kc)
    err = np.zeros((L, len(TASKS), 2, S, nK))  # law, task, eps index (0: eps, 1: eps = 0), seed, K
    examples = {}
    for li, law in enumerate(config.laws):
        for ti, task in enumerate(TASKS):
            y = targets[task]
            for s in range(S):
                for ki in range(nK):
                    for ei in range(2):
                        F = X[li, s, ki, ei]
                        ro = fit_readout(F[:n_train], y[:n_train], ridge=config.ridge)
                        y_hat = ro(F[n_train:])
                        err[li, ti, ei, s, ki] = mse(y_hat, y[n_train:])
                        examples[(li, ti, ei, s, ki)] = y_hat
    R = np.sqrt(X[..., 0] ** 2 + X[..., config.M] ** 2).mean(-1)  # time-averaged |Z_1| (L, S, nK, 2)
    metrics: dict[str, float] = {}  # numbers that depend only on config and seed (wall time goes to the log)
    mean_err = err.mean(3)  # (L, tasks, 2, nK)
    i_half = int(np.argmin(np.abs(kgrid - 0.5)))
    lines = []
    for li, law in enumerate(config.laws):
        # above K_c the read-out sees a clock at Ω_N: its offset from ω̄ sets the error floor
        metrics[f"{law}_mean_abs_omega_offset"] = float(np.mean(np.abs(omega_means[li] - config.omega_mean)))
        for ti, task in enumerate(TASKS):
            on, off = mean_err[li, ti, 0], mean_err[li, ti, 1]
            kb = int(np.argmin(on))
            p = f"{law}_{task}_"
            metrics[p + "mse_below_kc"] = float(on[i_half])
            metrics[p + "mse_above_kc"] = float(on[kb])
            metrics[p + "k_best_over_kc"] = float(kgrid[kb])
            metrics[p + "mse_eps0_above_kc"] = float(off[kb])
            # the uniform law's locked state barely changes with K: the first K within 1 % of the minimum
            metrics[p + "k_within_1pct_over_kc"] = float(kgrid[np.argmax(on <= 1.01 * on[kb])])
            metrics[p + "ratio_below_over_above"] = float(on[i_half] / on[kb])
            metrics[p + "ratio_eps0_over_eps"] = float(off[kb] / on[kb])
            lines.append(f"{law}/{task}: MSE {on[i_half]:.3g} at 0.5 K_c, {on[kb]:.3g} at K = {kgrid[kb]:g} K_c "
                         f"(x{on[i_half] / on[kb]:.0f} lower); eps = 0 control there {off[kb]:.3g} "
                         f"(x{off[kb] / on[kb]:.2f})")
            ctx.log(lines[-1])
    ctx.save_arrays(sweep_seconds=np.asarray(wall), k_over_kc=kgrid, mse=err, R_mean=R, omega_sample_mean=omega_means,
                    laws=np.array(config.laws), tasks=np.array(TASKS),
                    test_targets=np.stack([targets[t][n_train:] for t in TASKS]))
    _figures(config, ctx, kgrid, err, R, examples, targets, n_train, mean_err)
    ctx.summary(
        f"Kuramoto reservoir (N = {config.n}, eps = {config.eps}, mean frequency {config.omega_mean}, "
        f"{config.frequencies} frequencies (sample means {np.round(omega_means, 4).tolist()}), "
        f"{config.input_term} input, M = {config.M}) swept over K/K_c = {list(config.k_over_kc)} with {S} seed(s): "
        + "; ".join(lines) + f". Sweep of {B} reservoirs took {wall:.0f} s."
    )
    return metrics


def _figures(config, ctx, kgrid, err, R, examples, targets, n_train, mean_err):
    L = len(config.laws)
    fig, axes = plt.subplots(1, L + 1, figsize=(4.2 * (L + 1), 3.6))
    for li, law in enumerate(config.laws):
        ax = axes[li]
        for ti, task in enumerate(TASKS):
            for ei, (ls, lab) in enumerate([("-o", f"eps = {config.eps}"), ("--x", "eps = 0")]):
                ax.semilogy(kgrid, mean_err[li, ti, ei], ls, color=f"C{ti}", label=f"{task}, {lab}")
        ax.axvline(1.0, color="k", lw=0.8)
        ax.set(title=f"{law} law", xlabel="K / K_c", ylabel="test MSE")
        ax.legend(fontsize=7)
    ax = axes[-1]
    for li, law in enumerate(config.laws):
        kc = kj.theory.critical_coupling(law, spread(config, law))
        ax.plot(kgrid, R[li, :, :, 0].mean(0), "o", color=f"C{li}", label=f"{law}: mean |Z_1|")
        kk = np.linspace(kgrid.min(), kgrid.max(), 200)
        ax.plot(kk, kj.theory.stationary_order_parameter(kk * kc, law, spread(config, law)), "-", color=f"C{li}",
                lw=0.8, label=f"{law}: theory")
    ax.set(xlabel="K / K_c", ylabel="R", title="order parameter")
    ax.legend(fontsize=7)
    fig.tight_layout()
    ctx.save_figure(fig, "mse_vs_k")

    fig, axes = plt.subplots(L, len(TASKS), figsize=(9, 2.6 * L), squeeze=False)
    t = np.arange(len(targets["prediction"]) - n_train) * config.dt
    for li, law in enumerate(config.laws):
        for ti, task in enumerate(TASKS):
            kb = int(np.argmin(mean_err[li, ti, 0]))
            ax = axes[li, ti]
            ax.plot(t, targets[task][n_train:], "k", lw=1, label="target")
            ax.plot(t, examples[(li, ti, 0, 0, kb)], "C1--", label=f"eps = {config.eps}, K = {kgrid[kb]:g} K_c")
            ax.plot(t, examples[(li, ti, 0, 0, int(np.argmin(np.abs(kgrid - 0.5))))], "C2:", label="K = 0.5 K_c")
            ax.set(title=f"{law}, {task}", xlabel="test time (s)")
            ax.legend(fontsize=6)
    fig.tight_layout()
    ctx.save_figure(fig, "test_traces")
