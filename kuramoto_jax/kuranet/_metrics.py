r"""Metrics of trained KuraNets: C_x (Eq. 7), fan-in maps, segmentation scores."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def feature_correlation(K, x):
    r"""Graph-induced feature correlation (paper Eq. 7).

    C_x = Σ_ij K_ij ⟨x_i − x̄, x_j − x̄⟩ / Σ_ij K_ij ‖x_i − x̄‖²,   x̄ = (1/n) Σ_i x_i.

    Negative values: the coupling budget is spent between oscillators with
    disparate features. K: (n, n); x: (n,) or (n, d). Returns a scalar.
    """
    K = jnp.asarray(K)
    x = jnp.asarray(x, K.dtype)
    if x.ndim == 1:
        x = x[:, None]
    if x.shape[0] != K.shape[0]:
        raise ValueError(f"`x` must have n = {K.shape[0]} rows, got shape {x.shape}")
    dx = x - jnp.mean(x, 0)
    num = jnp.sum(dx * (K @ dx))
    den = jnp.sum(jnp.sum(K, 1) * jnp.sum(dx * dx, 1))
    return num / den


def fan_in(K):
    """Fan-in weight of every sender j: ⟨k_j⟩ = (1/n) Σ_i K_ij. K (n, n) → (n,)."""
    K = jnp.asarray(K)
    return jnp.mean(K, 0)


def binned_mean(values, coords, edges):
    """Mean of `values` (n,) in the bins of `coords` (n, d) given per-dimension `edges`.

    Returns (mean (b_1, …, b_d) with NaN in empty bins, counts (b_1, …, b_d)).
    Used for the fan-in maps over feature bins (paper Fig. 2C).
    """
    values = np.asarray(values, float)
    coords = np.asarray(coords, float)
    if coords.ndim == 1:
        coords = coords[:, None]
    s, _ = np.histogramdd(coords, bins=edges, weights=values)
    c, _ = np.histogramdd(coords, bins=edges)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan), c


def phase_kmeans(theta, k: int, seed: int = 0):
    """Segments from phases: k-means with k clusters on (cos θ, sin θ). theta (n,) → labels (n,)."""
    from sklearn.cluster import KMeans

    th = np.asarray(theta, float)
    pts = np.stack([np.cos(th), np.sin(th)], -1)
    return KMeans(k, n_init=10, random_state=seed).fit_predict(pts).astype(np.int32)


def best_dice(a, b):
    """BD(a, b) = (1/M) Σ_{segments A of a} max_{segments B of b} 2|A ∩ B| / (|A| + |B|)."""
    a = np.asarray(a).ravel()
    b = np.asarray(b).ravel()
    if a.shape != b.shape:
        raise ValueError(f"label maps must have the same size, got {a.shape} and {b.shape}")
    la, ia = np.unique(a, return_inverse=True)
    lb, ib = np.unique(b, return_inverse=True)
    inter = np.zeros((la.size, lb.size))
    np.add.at(inter, (ia, ib), 1)
    sa = inter.sum(1)
    sb = inter.sum(0)
    dice = 2 * inter / (sa[:, None] + sb[None, :])
    return float(np.mean(dice.max(1)))


def symmetric_best_dice(pred, truth):
    """SBD = min(BD(pred, truth), BD(truth, pred)) ∈ [0, 1] (1: identical up to relabelling)."""
    return min(best_dice(pred, truth), best_dice(truth, pred))


def r_squared(x, y) -> float:
    """r² of the least-squares line y ≈ a x + b (squared Pearson correlation); NaN below 3 points or without spread."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.size < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1] ** 2)
