r"""Sparse proportional coupling: R̄ against the fraction of coupling terms kept.

Step 1 measures R̄(K/K_c) of the full scheme (exponent p) on a K grid and takes
k_sync_full, the smallest K/K_c with R̄ ≥ 0.9 (or `k_ratio` when given).
Step 2 keeps, for every realisation, the strongest fraction f of the pairs
(`schemes.prune`), renormalises to the same budget and measures R̄ at that K for
every f of `keep_fractions` (one batched solve over fractions × realisations).

Metrics: k_sync_full, keep_fraction_needed (smallest f with R̄ ≥ 0.9 at k_sync_full;
NaN if none, including f = 1 when the full scheme only just reached 0.9 with other
realisations), R_keep<f> for each fraction.
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
    p: float = field(default=1.0, metadata={"ge": 0, "help": "exponent of the proportional scheme"})
    realisations: int = field(default=100, metadata={"ge": 1, "help": "realisations per point"})
    k_grid: pc.KGrid = field(default_factory=lambda: pc.KGrid(start=0.5, stop=3.0, num=26))
    k_ratio: float = field(default=0.0, metadata={
        "ge": 0, "help": "K/K_c of the pruning sweep; 0 = the full scheme's k_sync from step 1"})
    keep_fractions: list[float] = field(
        default_factory=lambda: [0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7, 1.0],
        metadata={"gt": 0, "le": 1, "help": "fractions of the N(N−1)/2 pairs kept"})
    integration: pc.Integration = field(default_factory=lambda: pc.Integration(t1=40.0, dt=0.1, save_every=0.5))

    def __post_init__(self):
        if not self.keep_fractions:
            raise ValueError("`keep_fractions` must list at least one fraction")


def run(config: Config, ctx) -> dict[str, float]:
    import matplotlib.pyplot as plt

    integ = config.integration
    key = ctx.key("realisations", config.law)
    omega, theta0, other = pc.realisations(key, config.realisations, config.n, config.law)
    metrics = {}
    k = config.k_grid.values()
    if config.k_ratio > 0:
        k_use, R_full = float(config.k_ratio), None
        metrics["k_sync_full"] = float("nan")
    else:
        t0 = time.perf_counter()
        R_full = pc.order_parameter_sweep([config.p], 1.0, omega, theta0, other, k, integ)[0].mean(0)
        metrics["k_sync_full"] = pc.k_sync(k, R_full)
        ctx.log(f"full scheme: k_sync = {fmt(metrics['k_sync_full'])} ({time.perf_counter() - t0:.1f} s)")
        k_use = metrics["k_sync_full"] if np.isfinite(metrics["k_sync_full"]) else float(k[-1])
    fractions = np.asarray(sorted(config.keep_fractions), float)
    t0 = time.perf_counter()
    R = pc.pruned_sweep(fractions, config.p, omega, theta0, other, k_use, integ)  # (F, M)
    ctx.log(f"pruning sweep: {R.size} systems at K/K_c = {k_use:.2f} in {time.perf_counter() - t0:.1f} s")
    Rm = R.mean(1)
    hit = np.nonzero(Rm >= pc.SYNC_LEVEL)[0]
    metrics["keep_fraction_needed"] = float(fractions[hit[0]]) if hit.size else float("nan")
    metrics["pruning_k_ratio"] = k_use
    metrics.update({f"R_keep{tag(fr)}": float(r) for fr, r in zip(fractions, Rm)})
    arrays = {"keep_fractions": fractions, "R_keep": R}
    if R_full is not None:
        arrays.update(k_ratio=k, R_full=R_full)
    ctx.save_arrays(**arrays)

    fig, axes = plt.subplots(1, 2 if R_full is not None else 1, figsize=(10, 4), squeeze=False)
    ax = axes[0, 0]
    ax.errorbar(fractions, Rm, yerr=R.std(1) / np.sqrt(R.shape[1]), fmt="o-", ms=4)
    ax.axhline(pc.SYNC_LEVEL, color="gray", lw=0.6, ls="--")
    ax.set_xscale("log")
    ax.set_xlabel("fraction of coupling terms kept")
    ax.set_ylabel("R̄")
    ax.set_title(f"p = {config.p:g}, K/K_c = {k_use:.2f}, N = {config.n}")
    if R_full is not None:
        axes[0, 1].plot(k, R_full, "o-", ms=3)
        axes[0, 1].axhline(pc.SYNC_LEVEL, color="gray", lw=0.6, ls="--")
        axes[0, 1].set_xlabel("K / K_c")
        axes[0, 1].set_ylabel("R̄ (full scheme)")
    fig.tight_layout()
    ctx.save_figure(fig, "sparse")
    ctx.summary(
        f"Pruned p = {config.p:g} coupling at K/K_c = {k_use:.2f} (N = {config.n}, {config.realisations} realisations): "
        + ", ".join(f"{fr:g}: {r:.3f}" for fr, r in zip(fractions, Rm))
        + f". Smallest kept fraction with R̄ ≥ 0.9: {fmt(metrics['keep_fraction_needed'])}."
    )
    return metrics
