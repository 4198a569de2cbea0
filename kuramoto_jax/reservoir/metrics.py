r"""Error metrics and memory capacity of a read-out.

MSE = (1/S) Σ_k (ŷ_k − y_k)²;  NRMSE normalised by the target's standard deviation,
nrmse_std = sqrt(MSE / Var(y)) (`kuramoto_jax.npe` has another NRMSE, normalised by the range);
memory capacity MC = Σ_{d=1}^{D} r²(u_{k−d}, ŷ_{d,k}) (Jaeger 2001), r the Pearson
correlation on test samples of a read-out trained to recall the input d samples back.
"""

from __future__ import annotations

import numpy as np

from ._readout import fit_readout


def mse(y_hat, y) -> float:
    """Mean squared error over all samples."""
    y_hat, y = np.asarray(y_hat, dtype=float), np.asarray(y, dtype=float)
    if y_hat.shape != y.shape:
        raise ValueError(f"`y_hat` has shape {y_hat.shape} but `y` has shape {y.shape}: expected equal shapes")
    return float(np.mean((y_hat - y) ** 2))


def nrmse_std(y_hat, y) -> float:
    """RMSE normalised by the target's standard deviation, sqrt(MSE / Var(y)): 1 for predicting the
    mean, 0 for a perfect fit."""
    var = float(np.var(np.asarray(y, dtype=float)))
    if var == 0:
        raise ValueError("`y` is constant: NRMSE is undefined")
    return float(np.sqrt(mse(y_hat, y) / var))


def memory_capacity(X_train, u_train, X_test, u_test, max_delay: int, ridge: float = 1e-8, fit=fit_readout):
    """MC and its profile r²(d), d = 1..max_delay, from features X (S, D) and inputs u (S,).

    The feature row k has seen the inputs u_0..u_k; the read-out for delay d is
    trained on rows k ≥ d to output u_{k−d}. `fit(X, y, ridge)` returns a callable
    X ↦ ŷ (default `fit_readout`; another library's read-out can be plugged in).
    """
    u_train, u_test = np.asarray(u_train, float), np.asarray(u_test, float)
    X_train, X_test = np.asarray(X_train, float), np.asarray(X_test, float)
    if X_train.shape[0] != u_train.shape[0] or X_test.shape[0] != u_test.shape[0]:
        raise ValueError("features and inputs must have the same number of samples")
    if not 1 <= max_delay < min(len(u_train), len(u_test)):
        raise ValueError(f"`max_delay` must be in [1, {min(len(u_train), len(u_test)) - 1}], got {max_delay}")
    r2 = np.zeros(max_delay)
    for d in range(1, max_delay + 1):
        ro = fit(X_train[d:], u_train[:-d], ridge)
        pred, target = np.asarray(ro(X_test[d:])).reshape(-1), u_test[:-d]
        if np.std(pred) == 0:
            continue
        r2[d - 1] = np.corrcoef(pred, target)[0, 1] ** 2
    return float(r2.sum()), r2


def benchmark_scores(F, u, y_narma, G, y_mg, train: slice, test: slice, *, max_delay: int, ridge: float,
                     fit=fit_readout):
    """NARMA-10, memory-capacity and Mackey–Glass scores of one model's features.

    Args:
        F: (T, D) features driven by the random input `u` (NARMA-10 and memory capacity).
        u: (T,) the standardised random input.
        y_narma: (T,) NARMA-10 target.
        G: (T, D) features driven by the Mackey–Glass series.
        y_mg: (T,) Mackey–Glass target (the series some samples ahead).
        train: samples the read-outs are fitted on.
        test: samples they are scored on.
        max_delay: largest delay of the memory capacity.
        ridge: ridge penalty of the read-outs.
        fit: `fit(X, y, ridge)` ↦ callable X ↦ ŷ (default `fit_readout`).

    Returns:
        (NARMA-10 NRMSE, MC, MC profile (max_delay,), Mackey–Glass NRMSE, NARMA-10 test prediction,
        Mackey–Glass test prediction); NRMSEs are `nrmse_std`.
    """
    p_narma = fit(F[train], y_narma[train], ridge)(F[test])
    mc, profile = memory_capacity(F[train], u[train], F[test], u[test], max_delay, ridge=ridge, fit=fit)
    p_mg = fit(G[train], y_mg[train], ridge)(G[test])
    return nrmse_std(p_narma, y_narma[test]), mc, profile, nrmse_std(p_mg, y_mg[test]), p_narma, p_mg
