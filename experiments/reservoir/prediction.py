r"""Study 1: MSE against K across K_c for the sine prediction and sine → triangle tasks.

The reservoir (paper Section 5): N mean-field Kuramoto oscillators, ω ~ Gaussian (σ = 0.4) or uniform
(half-width 0.5; K_c ≈ 0.638 and 0.637), mean ω̄ = 0.5, driven by ε u(t), u = sin(0.5 t), for 240 s of
washout, 30 s of read-out training and 30 s of testing; read-out by least squares on Re, Im Z_m, m = 1..M
(+ bias, equivalent to m = −M..M). Both tasks share the reservoir runs. Every (law, draw, K, ε ∈ {ε, 0})
system is one example of one batched computation over the run's devices (`reservoir.drive_batch`); the
draws of a law come from `ctx.key("draws", law)`, and all K and both ε of a draw share its ω and θ(0), so
the ε = 0 control differs only by the input.

Metrics (per law and task, MSE averaged over draws; `reservoir.sweep_summary`): mse_below_kc at 0.5 K_c;
mse_above_kc at the K of minimum MSE (ε on), k_best_over_kc that K / K_c; mse_eps0_above_kc the ε = 0
control there; per law, mean_abs_omega_offset = mean over draws of |Ω_N − ω̄|, the sample-mean frequency
offset that sets the error floor above K_c. `frequencies="quantile"` (beyond the paper) replaces the iid
draw of ω by deterministic quantiles with Ω_N = ω̄ exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax.reservoir import (INPUT_TERMS, drive_batch, order_parameter_features, readout_errors,
                                   sample_reservoirs, sweep_summary, tasks)

LAWS = [law for law in kj.theory.LAWS if law != "lorentzian"]  # the laws with a spread key below
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


def run(config: Config, ctx) -> dict[str, float]:
    dt, laws, S, kgrid = config.dt, list(config.laws), config.seeds, np.asarray(config.k_over_kc)
    n_wash, n_train, n_test = (int(round(x / dt)) for x in (config.washout, config.train, config.test))
    T = n_wash + n_train + n_test
    u, y_pred = tasks.sine_prediction(T, dt, config.input_freq)
    _, y_tri = tasks.sine_to_triangle(T, dt, config.input_freq)
    targets = {"prediction": y_pred[n_wash:], "transformation": y_tri[n_wash:]}
    # (law, draw, K, ε ∈ {ε, 0}) systems; every K and both ε of a draw share its ω and θ(0).
    draws = [sample_reservoirs(ctx.key("draws", law), S, config.n, law, spread(config, law), config.omega_mean,
                               config.frequencies) for law in laws]
    omega, theta0 = (jnp.stack([d[i] for d in draws]) for i in (0, 1))  # (L, S, N)
    omega_means = np.mean(np.asarray(omega, dtype=np.float64), axis=-1)  # (L, S)
    kc = np.array([kj.theory.critical_coupling(law, spread(config, law)) for law in laws])
    shape = (len(laws), S, len(kgrid), 2)
    grid = lambda x: jnp.broadcast_to(x[:, :, None, None, :], shape + x.shape[-1:]).reshape(-1, x.shape[-1])
    K = np.broadcast_to(kc[:, None, None, None] * kgrid[None, None, :, None], shape).ravel()
    eps = np.broadcast_to(np.array([config.eps, 0.0]), shape).ravel()
    ctx.log(f"{len(K)} reservoirs of N = {config.n} ({' x '.join(map(str, shape))}: law, draw, K, eps), "
            f"{T * dt:g} s at dt = {dt} (one batched solve)")
    t0 = time.perf_counter()
    X = drive_batch(grid(omega), grid(theta0), K, eps, u, dt, features=order_parameter_features(config.M),
                    skip=n_wash, input_term=config.input_term).reshape(shape + (n_train + n_test, 2 * config.M))
    wall = time.perf_counter() - t0
    ctx.log(f"sweep: {len(K)} systems x {T} steps in {wall:.1f} s ({wall / (len(K) * T) * 1e6:.2f} us per system-step)")
    fits = [readout_errors(X, targets[task], n_train, config.ridge) for task in TASKS]  # each (L, S, nK, 2)
    err = np.stack([e for e, _ in fits], 1).transpose(0, 1, 4, 2, 3)  # law, task, eps (0: on, 1: 0), draw, K
    examples = np.stack([p for _, p in fits], 1)  # law, task, draw, K, eps, test sample
    R = np.sqrt(X[..., 0] ** 2 + X[..., config.M] ** 2).mean(-1)  # time-averaged |Z_1| (L, S, nK, 2)
    metrics: dict[str, float] = {}  # numbers that depend only on config and seed (wall time goes to the log)
    mean_err = err.mean(3)  # (L, tasks, 2, nK)
    lines = []
    for li, law in enumerate(config.laws):
        # above K_c the read-out sees a clock at Ω_N: its offset from ω̄ sets the error floor
        metrics[f"{law}_mean_abs_omega_offset"] = float(np.mean(np.abs(omega_means[li] - config.omega_mean)))
        for ti, task in enumerate(TASKS):
            m = sweep_summary(kgrid, mean_err[li, ti, 0], mean_err[li, ti, 1])
            metrics.update({f"{law}_{task}_{name}": value for name, value in m.items()})
            lines.append(f"{law}/{task}: MSE {m['mse_below_kc']:.3g} at 0.5 K_c, {m['mse_above_kc']:.3g} at "
                         f"K = {m['k_best_over_kc']:g} K_c (x{m['ratio_below_over_above']:.0f} lower); eps = 0 "
                         f"control there {m['mse_eps0_above_kc']:.3g} (x{m['ratio_eps0_over_eps']:.2f})")
            ctx.log(lines[-1])
    ctx.save_arrays(sweep_seconds=np.asarray(wall), k_over_kc=kgrid, mse=err, R_mean=R, omega_sample_mean=omega_means,
                    laws=np.array(config.laws), tasks=np.array(TASKS),
                    test_targets=np.stack([targets[t][n_train:] for t in TASKS]))
    _figures(config, ctx, kgrid, R, examples, targets, n_train, mean_err)
    ctx.summary(
        f"Kuramoto reservoir (N = {config.n}, eps = {config.eps}, mean frequency {config.omega_mean}, "
        f"{config.frequencies} frequencies (sample means {np.round(omega_means, 4).tolist()}), "
        f"{config.input_term} input, M = {config.M}) swept over K/K_c = {list(config.k_over_kc)} with {S} seed(s): "
        + "; ".join(lines) + f". Sweep of {len(K)} reservoirs took {wall:.0f} s."
    )
    return metrics


def _figures(config, ctx, kgrid, R, examples, targets, n_train, mean_err):
    import matplotlib.pyplot as plt

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
            ax.plot(t, examples[li, ti, 0, kb, 0], "C1--", label=f"eps = {config.eps}, K = {kgrid[kb]:g} K_c")
            ax.plot(t, examples[li, ti, 0, int(np.argmin(np.abs(kgrid - 0.5))), 0], "C2:", label="K = 0.5 K_c")
            ax.set(title=f"{law}, {task}", xlabel="test time (s)")
            ax.legend(fontsize=6)
    fig.tight_layout()
    ctx.save_figure(fig, "test_traces")
