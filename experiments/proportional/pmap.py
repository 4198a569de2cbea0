r"""The (p, K) map of R̄ for generalised proportional coupling K_ij ∝ |ω_i − ω_j|^p.

Every (p, realisation, K) system of the map runs in ONE jitted, vmapped solve
(`kuramoto_jax.proportional.order_parameter_sweep`): for N = 100, 21 p × 30 K × 100 realisations = 63,000 systems.
From the realisation-averaged map R̄(p, K):

* best p at each K: argmax_p R̄(p, K) (Fig. 5a of the seed paper), and R̄ there;
* k_sync(p): the smallest K/K_c on the grid with R̄ ≥ 0.9;
* p_star: the p with the lowest k_sync(p) (ties: the mean of the tied p values
  is reported as p_star, their range as p_star_low/p_star_high);
* best_p_strong: the median over K/K_c ≥ `strong_k_ratio` of the best p at each K
  (the strong-coupling regime in which the paper reports p ≈ 2 as optimal).

Metrics: p_star, p_star_low, p_star_high, best_p_strong, k_sync_best, k_sync_uniform (p = 0 row),
k_sync_p<p> for every p, map_seconds is logged (not a metric: it depends on the machine).
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
    law: str = field(default="gaussian", metadata={"choices": list(LAWS), "help": "frequency law"})
    p_start: float = field(default=0.0, metadata={"ge": 0, "help": "smallest p"})
    p_stop: float = field(default=3.0, metadata={"ge": 0, "help": "largest p"})
    num_p: int = field(default=21, metadata={"ge": 2, "help": "number of p values"})
    realisations: int = field(default=100, metadata={"ge": 1, "help": "realisations per (p, K)"})
    k_grid: pc.KGrid = field(default_factory=pc.KGrid)
    strong_k_ratio: float = field(default=1.5, metadata={"gt": 0, "help": "K/K_c from which best_p_strong is taken"})
    integration: pc.Integration = field(default_factory=pc.Integration)

    def __post_init__(self):
        if not self.p_stop > self.p_start:
            raise ValueError(f"`p_stop` must be > p_start = {self.p_start}, got {self.p_stop}")


def run(config: Config, ctx) -> dict[str, float]:
    import matplotlib.pyplot as plt

    k = config.k_grid.values()
    ps = np.linspace(config.p_start, config.p_stop, config.num_p)
    key = ctx.key("realisations", config.law)
    omega, theta0, other = pc.realisations(key, config.realisations, config.n, config.law)
    systems = len(ps) * config.realisations * len(k)
    steps = int(round(config.integration.t1 / config.integration.dt))
    ctx.log(f"map: {len(ps)} p x {len(k)} K x {config.realisations} realisations = {systems} systems "
            f"of N = {config.n}, {steps} RK4 steps each, one batched solve")
    t0 = time.perf_counter()
    R = pc.order_parameter_sweep(ps, 1.0, omega, theta0, other, k, config.integration)  # (P, M, G)
    seconds = time.perf_counter() - t0
    ctx.log(f"map done in {seconds:.1f} s (including compilation): {systems / seconds:.1f} systems/s")
    R_map = R.mean(1)
    p_best, R_best, ks, p_star, p_lo, p_hi = pc.best_exponent(ps, k, R_map)
    ctx.save_arrays(ps=ps, k_ratio=k, R_map=R_map, R_std=R.std(1), p_best=p_best, R_best=R_best, k_sync=ks)
    ctx.save_json("timing.json", {"systems": systems, "steps": steps, "n": config.n, "seconds": seconds})

    metrics = {"p_star": p_star, "p_star_low": p_lo, "p_star_high": p_hi,
               "k_sync_best": float(np.nanmin(ks)) if np.isfinite(ks).any() else float("nan"),
               "k_sync_uniform": float(ks[0]) if ps[0] == 0 else float("nan")}
    strong = k >= config.strong_k_ratio - 1e-9
    metrics["best_p_strong"] = float(np.median(p_best[strong])) if strong.any() else float("nan")
    metrics.update({f"k_sync_p{tag(round(p, 4))}": float(x) for p, x in zip(ps, ks)})

    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    dp, dk = ps[1] - ps[0], k[1] - k[0]
    im = axes[0].imshow(R_map, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="viridis",
                        extent=[k[0] - dk / 2, k[-1] + dk / 2, ps[0] - dp / 2, ps[-1] + dp / 2])
    axes[0].contour(k, ps, R_map, levels=[0.5, pc.SYNC_LEVEL], colors=["w", "r"], linewidths=0.8)
    fig.colorbar(im, ax=axes[0], label="R̄")
    axes[0].set_xlabel("K / K_c")
    axes[0].set_ylabel("p")
    axes[0].set_title(f"R̄(p, K), N = {config.n}, {config.realisations} realisations")
    axes[1].plot(k, p_best, "o-", ms=3)
    axes[1].set_xlabel("K / K_c")
    axes[1].set_ylabel("best p")
    ax2 = axes[1].twinx()
    ax2.plot(k, R_best, "s--", ms=2, color="C1")
    ax2.set_ylabel("R̄ at best p", color="C1")
    axes[2].plot(ps, ks, "o-", ms=4)
    axes[2].set_xlabel("p")
    axes[2].set_ylabel("smallest K/K_c with R̄ ≥ 0.9")
    axes[2].set_title(f"p* = {p_star:.2f} (ties {p_lo:.2f}–{p_hi:.2f})")
    fig.tight_layout()
    ctx.save_figure(fig, "pmap")
    ctx.summary(
        f"(p, K) map, {systems} systems (N = {config.n}, {steps} RK4 steps each) in one batched solve, "
        f"{seconds:.0f} s on this machine. Smallest synchronising K/K_c (R̄ ≥ 0.9): "
        f"{fmt(metrics['k_sync_uniform'])} for p = 0, {fmt(metrics['k_sync_best'])} at best; "
        f"p* = {p_star:.2f} (range of tied p: {p_lo:.2f}–{p_hi:.2f}); median best p for "
        f"K/K_c ≥ {config.strong_k_ratio:g}: {metrics['best_p_strong']:.2f}."
    )
    return metrics
