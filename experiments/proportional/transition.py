r"""Transition curves R̄(K/K_c) for uniform (p = 0) and proportional (p = 1) coupling, and
the histogram of R̄ over realisations at the transition.

For each law, `realisations` draws of (ω, θ0) are shared by both schemes and all K
(common random numbers); all of them run in one batched solve (spread over the run's devices). The
histogram re-runs `histogram_realisations` fresh draws at one K/K_c (by default
the K/K_c where the p = 1 curve crosses R̄ = 0.5) for both schemes.

Metrics: k_sync_uniform, k_sync_proportional (smallest K/K_c with R̄ ≥ 0.9, first
law), k_sync_p0_<law>, k_sync_p1_<law>, k_half_p0/p1 (R̄ = 0.5 crossing),
histogram_k_ratio, bimodality_p0/p1 (Sarle's coefficient, > 0.555 suggests two modes),
middle_fraction_p0/p1 (share of realisations with 0.3 < R̄ < 0.7).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from kuramoto_jax import proportional as pc
from kuramoto_jax.theory import LAWS

from . import fmt, tag


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "PRNG seed of frequencies and initial phases"})
    n: int = field(default=100, metadata={"ge": 2, "help": "number of oscillators N"})
    laws: list[str] = field(default_factory=lambda: ["gaussian"],
                            metadata={"choices": list(LAWS), "help": "frequency laws (normalised to mean 0, variance 1)"})
    p: float = field(default=1.0, metadata={"ge": 0, "help": "exponent of the proportional scheme compared with p = 0"})
    realisations: int = field(default=100, metadata={"ge": 1, "help": "realisations per K"})
    k_grid: pc.KGrid = field(default_factory=pc.KGrid)
    histogram_realisations: int = field(default=500, metadata={"ge": 0, "help": "realisations for the histogram (0: skip)"})
    histogram_k_ratio: float = field(default=0.0, metadata={
        "ge": 0, "help": "K/K_c of the histogram; 0 = where the proportional curve crosses R̄ = 0.5"})
    integration: pc.Integration = field(default_factory=pc.Integration)


def run(config: Config, ctx) -> dict[str, float]:
    import matplotlib.pyplot as plt

    k = config.k_grid.values()
    ps = [0.0, config.p]
    metrics, arrays, R_by_law = {}, {"k_ratio": k}, {}
    for law in config.laws:
        omega, theta0, other = pc.realisations(ctx.key("realisations", law), config.realisations, config.n, law)
        t0 = time.perf_counter()
        R = pc.order_parameter_sweep(ps, 1.0, omega, theta0, other, k, config.integration)  # (2, M, G)
        ctx.log(f"{law}: {2 * config.realisations * len(k)} systems (N = {config.n}) in {time.perf_counter() - t0:.1f} s")
        Rm = R.mean(1)
        R_by_law[law] = Rm
        arrays[f"R_{law}"] = R
        for j, name in enumerate(("p0", f"p{tag(config.p)}")):
            metrics[f"k_sync_{name}_{law}"] = pc.k_sync(k, Rm[j])
            metrics[f"k_half_{name}_{law}"] = pc.crossing(k, Rm[j])
    first = config.laws[0]
    metrics["k_sync_uniform"] = metrics[f"k_sync_p0_{first}"]
    metrics["k_sync_proportional"] = metrics[f"k_sync_p{tag(config.p)}_{first}"]

    fig, axes = plt.subplots(1, 2 if config.histogram_realisations else 1, figsize=(11, 4), squeeze=False)
    ax = axes[0, 0]
    for law, Rm in R_by_law.items():
        ax.plot(k, Rm[0], "o-", ms=3, label=f"uniform (p = 0), {law}")
        ax.plot(k, Rm[1], "s-", ms=3, label=f"proportional (p = {config.p:g}), {law}")
    ax.axhline(pc.SYNC_LEVEL, color="gray", lw=0.6, ls="--")
    ax.set_xlabel("K / K_c")
    ax.set_ylabel("R̄ (time and realisation average)")
    ax.set_title(f"N = {config.n}, {config.realisations} realisations")
    ax.legend(fontsize=7)

    if config.histogram_realisations:
        kh = config.histogram_k_ratio or metrics[f"k_half_p{tag(config.p)}_{first}"]
        if not np.isfinite(kh):
            kh = float(k[len(k) // 2])
        metrics["histogram_k_ratio"] = float(kh)
        omega, theta0, other = pc.realisations(ctx.key("histogram"), config.histogram_realisations, config.n,
                                               first)
        t0 = time.perf_counter()
        Rh = pc.order_parameter_sweep(ps, 1.0, omega, theta0, other, [kh], config.integration)[:, :, 0]  # (2, M)
        ctx.log(f"histogram at K/K_c = {kh:.3f}: {Rh.size} systems in {time.perf_counter() - t0:.1f} s")
        arrays["histogram_R"] = Rh
        ax = axes[0, 1]
        bins = np.linspace(0, 1, 41)
        for j, name in enumerate(("p0", f"p{tag(config.p)}")):
            metrics[f"bimodality_{name}"] = pc.bimodality_coefficient(Rh[j])
            metrics[f"middle_fraction_{name}"] = float(np.mean((Rh[j] > 0.3) & (Rh[j] < 0.7)))
            ax.hist(Rh[j], bins=bins, alpha=0.6, label=f"p = {ps[j]:g} (b = {metrics[f'bimodality_{name}']:.2f})")
        ax.set_xlabel("R̄ of one realisation")
        ax.set_ylabel("count")
        ax.set_title(f"{config.histogram_realisations} realisations at K/K_c = {kh:.2f} ({first})")
        ax.legend(fontsize=8)
    fig.tight_layout()
    ctx.save_figure(fig, "transition")
    ctx.save_arrays(**arrays)

    lines = [f"N = {config.n}, {config.realisations} realisations, RK4 dt = {config.integration.dt}, "
             f"R averaged over t in [{config.integration.t1 / 2:g}, {config.integration.t1:g}], K_c = {pc.K_C:.3f}."]
    for law in config.laws:
        lines.append(f"{law}: R̄ ≥ 0.9 first at K/K_c = {fmt(metrics[f'k_sync_p0_{law}'])} (uniform) vs "
                     f"{fmt(metrics[f'k_sync_p{tag(config.p)}_{law}'])} (p = {config.p:g}).")
    if config.histogram_realisations:
        lines.append(f"At K/K_c = {metrics['histogram_k_ratio']:.2f}: bimodality coefficient "
                     f"{metrics['bimodality_p0']:.2f} (p = 0) vs {metrics[f'bimodality_p{tag(config.p)}']:.2f} "
                     f"(p = {config.p:g}); 5/9 ≈ 0.56 is the uniform-distribution threshold.")
    ctx.summary(" ".join(lines))
    return metrics
