"""Figures of an amortized posterior's accuracy and calibration (matplotlib, imported when called).

Each function returns matplotlib figures keyed by a file stem; a study saves them with
`ctx.save_figure(fig, name)`.
"""

from __future__ import annotations

import numpy as np

from ._diagnostics import ecdf_bands, pit


def _plt():
    import matplotlib.pyplot as plt  # the backend is the caller's choice (headless: Agg by default)

    return plt


def diagnostic_figures(draws, truths, names, low, high) -> dict:
    """{"recovery", "posteriors", "calibration"}: posterior medians with 90 % intervals against the
    truth, posterior histograms at 10 true values, PIT histograms and rank ECDFs with 95 %
    simultaneous bands; draws (S, L, P), truths (S, P), prior box [low, high] (P,)."""
    plt = _plt()
    draws, truths = np.asarray(draws), np.asarray(truths)
    P = truths.shape[1]
    med = np.median(draws, 1)
    q05, q95 = np.quantile(draws, [0.05, 0.95], axis=1)
    figs = {}
    fig, axes = plt.subplots(1, P, figsize=(3.2 * P, 3.2), squeeze=False)
    for p, ax in enumerate(axes[0]):
        ax.errorbar(truths[:, p], med[:, p], yerr=[med[:, p] - q05[:, p], q95[:, p] - med[:, p]], fmt=".",
                    ms=3, alpha=0.5, lw=0.6)
        ax.plot([low[p], high[p]], [low[p], high[p]], "k--", lw=0.8)
        ax.set(xlabel=f"true {names[p]}", ylabel="posterior median (90 %)", title=names[p])
    figs["recovery"] = fig

    order = np.argsort(truths[:, 0])
    pick = order[np.linspace(0, len(order) - 1, min(10, len(order))).astype(int)]
    fig, axes = plt.subplots(P, len(pick), figsize=(1.8 * len(pick), 1.8 * P), squeeze=False)
    for p in range(P):
        for j, s in enumerate(pick):
            ax = axes[p, j]
            ax.hist(draws[s, :, p], bins=30, color="C0", alpha=0.7)
            ax.axvline(truths[s, p], color="C3")
            ax.set_yticks([])
            ax.set_title(f"{names[p]}* = {truths[s, p]:.2f}", fontsize=7)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    figs["posteriors"] = fig

    pit_values = pit(draws, truths)
    z, lo, hi = ecdf_bands(pit_values.shape[0])
    fig, axes = plt.subplots(2, P, figsize=(3.2 * P, 5.6), squeeze=False)
    for p in range(P):
        axes[0, p].hist(pit_values[:, p], bins=20, range=(0, 1), color="C0", alpha=0.7)
        axes[0, p].axhline(pit_values.shape[0] / 20, color="k", lw=0.8)
        axes[0, p].set(title=f"PIT {names[p]}")
        ecdf = (pit_values[:, p][:, None] <= z).mean(0)
        axes[1, p].fill_between(z, lo - z, hi - z, color="0.85", label="95 % simultaneous")
        axes[1, p].plot(z, ecdf - z, "C0")
        axes[1, p].set(xlabel="fractional rank", ylabel="ECDF − uniform")
    axes[1, 0].legend(fontsize=7)
    fig.tight_layout()
    figs["calibration"] = fig
    return figs


def _corner(axes, draws, truth, names, *, color="C0", truth_color="C3", bounds=None, fontsize=7, labelsize=5):
    """Draw a corner plot of draws (L, P) into a P × P grid of axes: histograms on the diagonal, scatter
    below it with the true value (P,) starred, nothing above; `bounds` = (low, high) (P,) fixes the ranges."""
    P = len(names)
    for i in range(P):
        for j in range(P):
            ax = axes[i][j]
            if i == j:
                rng = None if bounds is None else (bounds[0][i], bounds[1][i])
                ax.hist(draws[:, i], bins=30, range=rng, color=color, alpha=0.7)
                ax.axvline(truth[i], color=truth_color, lw=0.8)
            elif i > j:
                ax.plot(draws[:, j], draws[:, i], ".", ms=1, alpha=0.3, color=color)
                ax.plot(truth[j], truth[i], "r*", ms=5)
                if bounds is not None:
                    ax.set(xlim=(bounds[0][j], bounds[1][j]), ylim=(bounds[0][i], bounds[1][i]))
            else:
                ax.axis("off")
            ax.tick_params(labelsize=labelsize)
            if i == P - 1:
                ax.set_xlabel(names[j], fontsize=fontsize)
            if j == 0:
                ax.set_ylabel(names[i], fontsize=fontsize)


def pair_figure(draws, truth, names):
    """Pair plot of one posterior's draws (L, P) with the true value (P,) starred."""
    plt = _plt()
    P = len(names)
    fig, axes = plt.subplots(P, P, figsize=(1.7 * P, 1.7 * P))
    _corner(axes, draws, truth, names)
    fig.tight_layout()
    return fig


COMPARISON_LABELS = {"npe": "NPE (flow)", "nuts": "NUTS, smoothed ECDF", "sa": "SA, ECDF"}


def comparison_figures(draws, truth, names, low, high) -> dict:
    """{"mcmc_marginals", "mcmc_pairs", "mcmc_correlations"} for draws {method: (L, P)} of
    "npe", "nuts" and "sa" on one data set at the true value (P,)."""
    plt = _plt()
    methods, labels = tuple(COMPARISON_LABELS), COMPARISON_LABELS
    P = len(names)
    fig, axes = plt.subplots(1, P, figsize=(2.6 * P, 2.6))
    for p, ax in enumerate(axes):
        for c, m in enumerate(methods):
            ax.hist(draws[m][:, p], bins=30, range=(low[p], high[p]), density=True, histtype="step", color=f"C{c}",
                    label=labels[m])
        ax.axvline(truth[p], color="k", ls="--", lw=0.8)
        ax.set(xlabel=names[p], yticks=[])
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    figs = {"mcmc_marginals": fig}

    fig, axes = plt.subplots(P, 2 * P + 1, figsize=(1.5 * (2 * P + 1), 1.5 * P))
    for block, m in enumerate(("npe", "nuts")):
        grid = [[axes[i, block * (P + 1) + j] for j in range(P)] for i in range(P)]
        _corner(grid, draws[m], truth, names, color=f"C{block}", truth_color="k", bounds=(low, high), fontsize=6,
                labelsize=4)
        axes[0, block * (P + 1) + P - 1].set_title(labels[m], fontsize=8)
    for i in range(P):
        axes[i, P].axis("off")
    fig.tight_layout()
    figs["mcmc_pairs"] = fig

    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    for ax, m in zip(axes, methods):
        im = ax.imshow(np.corrcoef(draws[m], rowvar=False), vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set(xticks=range(P), yticks=range(P), title=labels[m])
        ax.set_xticklabels(names, fontsize=6)
        ax.set_yticklabels(names, fontsize=6)
    fig.colorbar(im, ax=axes, shrink=0.8)
    figs["mcmc_correlations"] = fig
    return figs
