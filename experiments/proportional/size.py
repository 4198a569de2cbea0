r"""Size dependence of the proportional-coupling transition (seed paper 002, Fig. 2).

For each N in `sizes`, R̄(K/K_c) of the scheme with exponent p is measured on a K
grid (one batched solve per N), and the transition point k_half(N) is the K/K_c
where R̄ first crosses 0.5 (linear interpolation between grid points). Larger
networks self-average, so the number of realisations shrinks as 1/N down to
`min_realisations` (realisations(N) = max(min, round(realisations · 100 / N))).
The slope of the curve at the crossing is reported too (Fig. 2c).

Metrics: k_half_n<N> and slope_n<N> for every N, and size_exponent, the slope of
log k_half against log N (a least-squares fit over the sizes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from kuramoto_jax import proportional as pc
from kuramoto_jax.theory import LAWS

from . import fmt


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "PRNG seed of frequencies and initial phases"})
    sizes: list[int] = field(default_factory=lambda: [10, 30, 100, 300, 1000],
                             metadata={"ge": 2, "help": "network sizes N"})
    law: str = field(default="gaussian", metadata={"choices": list(LAWS), "help": "frequency law"})
    p: float = field(default=1.0, metadata={"ge": 0, "help": "exponent of the proportional scheme"})
    realisations: int = field(default=50, metadata={"ge": 1, "help": "realisations at N = 100 (scaled as 1/N)"})
    min_realisations: int = field(default=4, metadata={"ge": 1, "help": "fewest realisations at any N"})
    k_grid: pc.KGrid = field(default_factory=lambda: pc.KGrid(start=0.5, stop=2.0, num=16))
    integration: pc.Integration = field(default_factory=lambda: pc.Integration(t1=40.0, dt=0.1, save_every=0.5))

    def __post_init__(self):
        if not self.sizes:
            raise ValueError("`sizes` must list at least one N")


def run(config: Config, ctx) -> dict[str, float]:
    import matplotlib.pyplot as plt

    k = config.k_grid.values()
    sizes = sorted(set(int(n) for n in config.sizes))
    metrics, curves = {}, {}
    for n in ctx.progress(sizes, total=len(sizes), desc="sizes"):
        m = max(config.min_realisations, int(round(config.realisations * 100 / n)))
        omega, theta0, other = pc.realisations(ctx.key("realisations", config.law, n), m, n, config.law)
        t0 = time.perf_counter()
        R = pc.order_parameter_sweep([config.p], 1.0, omega, theta0, other, k, config.integration)[0]  # (M, G)
        ctx.log(f"N = {n}: {m} realisations x {len(k)} K in {time.perf_counter() - t0:.1f} s")
        curves[n] = R.mean(0)
        metrics[f"k_half_n{n}"] = pc.crossing(k, curves[n])
        metrics[f"slope_n{n}"] = pc.slope_at(k, curves[n])
    kh = np.array([metrics[f"k_half_n{n}"] for n in sizes])
    ok = np.isfinite(kh) & (kh > 0)
    if ok.sum() >= 2:
        metrics["size_exponent"] = float(np.polyfit(np.log(np.array(sizes)[ok]), np.log(kh[ok]), 1)[0])
    else:
        metrics["size_exponent"] = float("nan")
    ctx.save_arrays(k_ratio=k, sizes=np.array(sizes), R=np.stack([curves[n] for n in sizes]), k_half=kh)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for n in sizes:
        axes[0].plot(k, curves[n], "o-", ms=3, label=f"N = {n}")
    axes[0].axhline(0.5, color="gray", lw=0.6, ls="--")
    axes[0].set_xlabel("K / K_c")
    axes[0].set_ylabel("R̄")
    axes[0].set_title(f"p = {config.p:g}")
    axes[0].legend(fontsize=7)
    axes[1].semilogx(sizes, kh, "o-")
    axes[1].set_xlabel("N")
    axes[1].set_ylabel("K/K_c at R̄ = 0.5")
    axes[2].semilogx(sizes, [metrics[f"slope_n{n}"] for n in sizes], "o-")
    axes[2].set_xlabel("N")
    axes[2].set_ylabel("dR̄/d(K/K_c) at the crossing")
    fig.tight_layout()
    ctx.save_figure(fig, "size")
    ctx.summary(
        f"Transition point (R̄ = 0.5) of p = {config.p:g} coupling against N: "
        + ", ".join(f"N = {n}: {fmt(x)}" for n, x in zip(sizes, kh))
        + f"; log-log slope {metrics['size_exponent']:.3f}."
    )
    return metrics
