r"""Hysteresis under adiabatic ramps of K, and the loop area against p.

For each realisation of disorder (ω, θ0) and each exponent p, K/K_c is stepped up
from `k_grid.start` to `k_grid.stop` and back down on the same grid; every stage
integrates for `integration.t1` starting from the previous stage's final phases,
with the same ω and coupling matrix (only the strength changes), and records R̄
over the second half of the stage. The loop area is

    A = ∫ (R̄_down(k) − R̄_up(k)) dk         (trapezoid over the grid, k = K/K_c),

per realisation, then averaged. The ramp, the split into up and down branches and
the area are the library's (`kj.stability.adiabatic_sweep`, `split_ramp`, `loop_area`);
all (p, realisation) pairs run in one batched solve (`kuramoto_jax.proportional.ramp_sweep`).

Metrics: hysteresis_area_p0, hysteresis_area_p1 (and one per p in `ps`),
p_max_area (the p with the largest mean area).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

import kuramoto_jax as kj
from kuramoto_jax import proportional as pc
from kuramoto_jax.theory import LAWS

from . import tag


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "PRNG seed of frequencies and initial phases"})
    n: int = field(default=100, metadata={"ge": 2, "help": "number of oscillators N"})
    law: str = field(default="gaussian", metadata={"choices": list(LAWS), "help": "frequency law"})
    ps: list[float] = field(default_factory=lambda: [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0],
                            metadata={"ge": 0, "help": "exponents p of the proportional scheme"})
    realisations: int = field(default=10, metadata={"ge": 1, "help": "realisations of disorder per p"})
    k_grid: pc.KGrid = field(default_factory=lambda: pc.KGrid(start=0.1, stop=3.0, num=30))
    integration: pc.Integration = field(default_factory=lambda: pc.Integration(t1=40.0, dt=0.1, save_every=0.5))

    def __post_init__(self):
        if not self.ps:
            raise ValueError("`ps` must list at least one exponent p")


def run(config: Config, ctx) -> dict[str, float]:
    import matplotlib.pyplot as plt

    k = config.k_grid.values()
    stages = kj.stability.ramp_stages(k)  # up, then down (the top is not repeated)
    key = ctx.key("realisations", config.law)
    omega, theta0, other = pc.realisations(key, config.realisations, config.n, config.law)
    integ = config.integration
    ps = np.asarray(config.ps, float)
    t0 = time.perf_counter()
    R = pc.ramp_sweep(ps, omega, theta0, other, stages, integ)  # (P, M, S)
    ctx.log(f"{len(ps)} p x {config.realisations} realisations x {len(stages)} stages "
            f"(N = {config.n}) in {time.perf_counter() - t0:.1f} s")
    G = len(k)
    R_up, R_down = kj.stability.split_ramp(R, G)  # on the same k grid
    area = kj.stability.loop_area(k, R_up, R_down)  # (P, M)
    area_mean, area_sem = area.mean(1), area.std(1) / np.sqrt(max(1, area.shape[1] - 1))
    ctx.save_arrays(k_ratio=k, ps=ps, R_up=R_up, R_down=R_down, area=area)

    metrics = {f"hysteresis_area_p{tag(p)}": float(a) for p, a in zip(ps, area_mean)}
    for p in (0.0, 1.0):
        metrics.setdefault(f"hysteresis_area_p{tag(p)}", float("nan"))
    metrics["p_max_area"] = float(ps[int(np.argmax(area_mean))])

    show = [i for i, p in enumerate(ps) if p in (0.0, 1.0, 2.0, 3.0)] or list(range(min(4, len(ps))))
    fig, axes = plt.subplots(1, len(show) + 1, figsize=(3.6 * (len(show) + 1), 3.4))
    for ax, i in zip(axes[:-1], show):
        ax.plot(k, R_up[i].mean(0), "^-", ms=3, label="K up")
        ax.plot(k, R_down[i].mean(0), "v-", ms=3, label="K down")
        ax.set_title(f"p = {ps[i]:g}, area = {area_mean[i]:.3f}")
        ax.set_xlabel("K / K_c")
        ax.set_ylabel("R̄")
        ax.legend(fontsize=7)
    ax = axes[-1]
    ax.errorbar(ps, area_mean, yerr=area_sem, fmt="o-", ms=4)
    ax.axhline(0, color="gray", lw=0.6)
    ax.set_xlabel("p")
    ax.set_ylabel("loop area ∫(R̄_down − R̄_up) d(K/K_c)")
    fig.tight_layout()
    ctx.save_figure(fig, "hysteresis")
    ctx.summary(
        f"Adiabatic ramps K/K_c = {k[0]:g} → {k[-1]:g} → {k[0]:g} in {G} steps, {integ.t1:g} time units per step, "
        f"{config.realisations} realisations, N = {config.n}. Loop area: "
        + ", ".join(f"p = {p:g}: {a:.3f} ± {s:.3f}" for p, a, s in zip(ps, area_mean, area_sem))
        + f". Largest at p = {metrics['p_max_area']:g}."
    )
    return metrics
