r"""Linear read-out y ≈ W [x; 1] by least squares (Moore–Penrose) or ridge regression.

The paper solves the read-out with the Moore–Penrose inverse of the feature
matrix (ridge = 0); ridge > 0 minimises ||X W − Y||² + λ ||W||² without
penalising the bias. Solved in float64 numpy: the fit is a small dense problem
and the conditioning of order-parameter features (|Z_m| ≪ 1 below K_c) needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _design(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"features must be a 2-D array (samples, features), got shape {X.shape}")
    return np.concatenate([X, np.ones((X.shape[0], 1))], axis=1)


@dataclass
class Readout:
    """Fitted read-out: y_hat = X @ weights[:-1] + weights[-1] (weights (D+1,) or (D+1, P))."""

    weights: np.ndarray

    def __call__(self, X) -> np.ndarray:
        return _design(X) @ self.weights


def fit_readout(X, y, ridge: float = 0.0, rcond: float | None = None) -> Readout:
    """Fit W on features X (S, D) and targets y (S,) or (S, P)."""
    A = _design(X)
    y = np.asarray(y, dtype=np.float64)
    if y.shape[0] != A.shape[0]:
        raise ValueError(f"targets must have {A.shape[0]} samples (one per feature row), got shape {y.shape}")
    if not np.all(np.isfinite(A)):
        raise ValueError("features contain NaN or inf")
    if ridge < 0:
        raise ValueError(f"`ridge` must be >= 0, got {ridge}")
    if ridge == 0:
        W, *_ = np.linalg.lstsq(A, y, rcond=rcond)
    else:
        P = np.eye(A.shape[1]) * ridge
        P[-1, -1] = 0.0  # the bias is not penalised
        W = np.linalg.solve(A.T @ A + P, A.T @ y)
    return Readout(W)
