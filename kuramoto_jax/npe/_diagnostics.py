r"""Diagnostics of an approximate posterior over S test data sets with L draws each.

Notation: draws (S, L, P) from q(θ | x_s), true values θ*_s (S, P). Definitions follow
BayesFlow 2.0 (per parameter p):

    NRMSE_p       = median_l sqrt( mean_s (θ_slp − θ*_sp)² ) / (max_s θ*_sp − min_s θ*_sp)
    contraction_p = median_s [ 1 − Var_l(θ_slp) / Var_s(θ*_sp) ]
    calib. error_p = median_α |coverage_p(α) − α|, α on 20 points in [0.005, 0.995],
                    coverage_p(α) = fraction of s with θ*_sp in the central α interval of the draws.

SBC ranks r_sp = #{l : θ_slp < θ*_sp}; PIT = r/L. Under calibration the ranks are
uniform; `ecdf_bands` gives simultaneous bands for their ECDF (Säilynoja et al. 2022).
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _check(draws, truths):
    draws = np.asarray(draws, float)
    truths = np.asarray(truths, float)
    if draws.ndim == 2:
        draws = draws[..., None]
    if truths.ndim == 1:
        truths = truths[:, None]
    if draws.ndim != 3 or truths.ndim != 2 or draws.shape[0] != truths.shape[0] or draws.shape[2] != truths.shape[1]:
        raise ValueError(
            f"`draws` must be (S, L, P) and `truths` (S, P) with matching S and P, got {draws.shape} and {truths.shape}"
        )
    if draws.shape[1] < 2:
        raise ValueError(f"`draws` needs at least 2 draws per data set, got L = {draws.shape[1]}")
    return draws, truths


def range_normalised_rmse(draws, truths):
    """(P,) root-mean-square error over data sets, normalised by the range of the true values and
    taken as the median over draws (BayesFlow's NRMSE; the "nrmse" of the studies' metrics)."""
    draws, truths = _check(draws, truths)
    rmse = np.sqrt(np.mean((draws - truths[:, None, :]) ** 2, axis=0))  # (L, P)
    span = truths.max(0) - truths.min(0)
    return np.median(rmse / span, axis=0)


def contraction(draws, truths):
    """(P,) posterior contraction 1 − Var_post / Var_prior, median over data sets."""
    draws, truths = _check(draws, truths)
    post = draws.var(axis=1, ddof=1)
    prior = truths.var(axis=0, ddof=1)
    return np.median(1 - post / prior, axis=0)


def coverage(draws, truths, alphas):
    """(A, P) fraction of data sets whose θ* lies in the central α credible interval."""
    draws, truths = _check(draws, truths)
    alphas = np.asarray(alphas, float)
    lo = np.quantile(draws, (1 - alphas) / 2, axis=1)  # (A, S, P)
    hi = np.quantile(draws, (1 + alphas) / 2, axis=1)
    inside = (lo <= truths) & (truths <= hi)
    return inside.mean(axis=1)


def calibration_error(draws, truths, resolution: int = 20, min_quantile: float = 0.005, max_quantile: float = 0.995):
    """(P,) median over α of |coverage(α) − α|."""
    alphas = np.linspace(min_quantile, max_quantile, resolution)
    cov = coverage(draws, truths, alphas)
    return np.median(np.abs(cov - alphas[:, None]), axis=0)


def sbc_ranks(draws, truths):
    """(S, P) ranks of θ* among the L draws, in {0, …, L}."""
    draws, truths = _check(draws, truths)
    return np.sum(draws < truths[:, None, :], axis=1)


def pit(draws, truths):
    """(S, P) probability integral transform values F_q(θ*) estimated from the draws."""
    draws, _ = _check(draws, truths)
    return sbc_ranks(draws, truths) / draws.shape[1]


def ecdf_bands(num_ranks: int, num_points: int = 100, confidence: float = 0.95, num_simulations: int = 1000, seed: int = 0):
    """Simultaneous `confidence` bands for the ECDF of `num_ranks` uniform PIT values.

    The pointwise level γ is calibrated by simulation so that the whole ECDF of a uniform
    sample stays inside all pointwise binomial intervals with probability `confidence`.

    Returns:
        z (num_points,), lower (num_points,), upper (num_points,) on the ECDF scale.
    """
    if num_ranks < 1:
        raise ValueError(f"`num_ranks` must be ≥ 1, got {num_ranks}")
    rng = np.random.default_rng(seed)
    z = np.linspace(0, 1, num_points + 2)[1:-1]
    u = rng.uniform(size=(num_simulations, num_ranks))
    counts = (u[:, :, None] <= z).sum(1)  # (sims, points)
    cdf = stats.binom.cdf(counts, num_ranks, z)
    cdf_minus = stats.binom.cdf(counts - 1, num_ranks, z)
    two_sided = 2 * np.minimum(cdf, 1 - cdf_minus)
    gamma = np.quantile(two_sided.min(1), 1 - confidence)
    lower = stats.binom.ppf(gamma / 2, num_ranks, z) / num_ranks
    upper = stats.binom.ppf(1 - gamma / 2, num_ranks, z) / num_ranks
    return z, lower, upper


def ecdf_in_bands(pit_values, confidence: float = 0.95, num_points: int = 100):
    """Whether the ECDF of PIT values (S,) stays inside the simultaneous bands."""
    pit_values = np.asarray(pit_values, float).reshape(-1)
    z, lower, upper = ecdf_bands(pit_values.size, num_points, confidence)
    ecdf = (pit_values[:, None] <= z).mean(0)
    return bool(np.all((ecdf >= lower) & (ecdf <= upper)))


def c2st(samples_a, samples_b, seed: int = 0, folds: int = 5):
    """Classifier two-sample test accuracy (0.5: indistinguishable, 1: disjoint).

    A small MLP classifier is trained to tell samples_a (n, P) from samples_b (m, P);
    returns its mean `folds`-fold cross-validated accuracy on z-scored inputs.
    """
    from sklearn.model_selection import cross_val_score
    from sklearn.neural_network import MLPClassifier

    a = np.asarray(samples_a, float)
    b = np.asarray(samples_b, float)
    if a.ndim == 1:
        a = a[:, None]
    if b.ndim == 1:
        b = b[:, None]
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"`samples_a` and `samples_b` must be (n, P) with equal P, got {a.shape} and {b.shape}")
    X = np.concatenate([a, b])
    X = (X - X.mean(0)) / (X.std(0) + 1e-12)
    y = np.concatenate([np.zeros(len(a)), np.ones(len(b))])
    clf = MLPClassifier(hidden_layer_sizes=(10 * X.shape[1], 10 * X.shape[1]), max_iter=1000, random_state=seed)
    return float(np.mean(cross_val_score(clf, X, y, cv=folds, scoring="accuracy")))
