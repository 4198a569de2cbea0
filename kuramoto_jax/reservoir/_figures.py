"""Figures of the reservoir benchmarks (matplotlib is imported when a figure is drawn)."""

from __future__ import annotations

import numpy as np


def benchmark_figure(mc_profiles: dict, predictions: dict, narma_target, mg_target, *, mg_horizon: int,
                     shown=("kuramoto_z", "esn", "esn_tuned"), samples: int = 200):
    """Memory-capacity profiles r²(d) of every model and the first test predictions of NARMA-10 and
    Mackey–Glass for the models in `shown`.

    Args:
        mc_profiles: model name → r²(d), shape (d_max,).
        predictions: ("narma" | "mg", model name) → test predictions, shape (T_test,).
        narma_target: NARMA-10 test targets, shape (T_test,).
        mg_target: Mackey–Glass test targets, shape (T_test,).
        mg_horizon: how many samples ahead Mackey–Glass is predicted (for the title).
        shown: models whose predictions are drawn.
        samples: how many test samples are drawn.

    Returns:
        The matplotlib figure (three panels).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for model, profile in mc_profiles.items():
        axes[0].plot(np.arange(1, len(profile) + 1), profile, "-o", ms=3, label=model)
    axes[0].set(xlabel="delay d (samples)", ylabel="r^2(d)", title="memory capacity profile")
    k = min(samples, len(narma_target))
    for ax, target, key, title in ((axes[1], narma_target, "narma", "NARMA-10"),
                                   (axes[2], mg_target, "mg", f"Mackey-Glass, {mg_horizon} steps ahead")):
        ax.plot(target[:k], "k", lw=1, label="target")
        for model in shown:
            ax.plot(predictions[(key, model)][:k], "--", lw=1, label=model)
        ax.set(xlabel="test sample", title=title)
    for ax in axes:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig


def k_over_kc_figure(k_over_kc, nrmse, distance, mechanisms, esn_level: float, D: int):
    """NARMA-10 validation NRMSE and the distance of two starts after the washout against K/K_c.

    Args:
        k_over_kc: the swept K/K_c, shape (S,).
        nrmse: validation NRMSE per mechanism, shape (M, S).
        distance: mean chord distance of two starts per mechanism, shape (M, S).
        mechanisms: the M input mechanisms (legend).
        esn_level: the grid-tuned ESN's validation NRMSE (a dashed line).
        D: feature count (title).

    Returns:
        The matplotlib figure (two panels).
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for m, mech in enumerate(mechanisms):
        axes[0].plot(k_over_kc, nrmse[m], "-o", label=mech)
        axes[1].plot(k_over_kc, distance[m], "-o", label=mech)
    axes[0].axhline(esn_level, color="k", ls="--", label="ESN (grid)")
    axes[0].set(ylabel="NARMA-10 validation NRMSE", title=f"D = {D}")
    axes[1].set(yscale="log", ylabel="distance of two starts after the washout", title="echo-state property")
    for ax in axes:
        ax.set(xscale="log", xlabel="K / K_c", xticks=list(k_over_kc), xticklabels=[f"{k:g}" for k in k_over_kc])
        ax.minorticks_off()
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
