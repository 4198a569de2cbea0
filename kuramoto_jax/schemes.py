r"""Coupling schemes that spend one fixed coupling budget in different ways.

Every scheme returns a dense, symmetric (N, N) matrix K_ij with zero diagonal and
the budget of uniform all-to-all coupling of strength K,

    Σ_{i≠j} K_ij = K (N − 1)          (K/N on each of the N(N − 1) ordered pairs),

so that `kj.Kuramoto(omega, kj.Dense(schemes.proportional(omega, K, p)))` is
directly comparable with `kj.Kuramoto(omega, kj.MeanField(K))` at the same K:

* `uniform(n, K)`:                     K_ij = K/N;
* `proportional(omega, K, p)`:         K_ij ∝ |ω_i − ω_j|^p (p = 0 is uniform);
* `partially_correlated(omega, omega_other, K, p, rho)`:
                                       K_ij ∝ |ω̃_i − ω̃_j|^p with ω̃ = ρ ω + sqrt(1 − ρ²) ω'
                                       (ρ = 1 proportional, ρ = 0 random positive couplings);
* `prune(K, keep_fraction)`:           keep the strongest pairs, renormalise to K's budget;
* `softmax_allocation(logits, n, K)`:  K_ij = K (N − 1) e^{λ_ij} / Σ_{k<l} 2 e^{λ_kl}, λ_ij = λ_ji from
                                       N(N − 1)/2 free logits (a budget-keeping parametrisation
                                       for gradient descent over allocations);
* `effective_exponent(K_matrix, omega)`: the slope p of log K_ij against log |ω_i − ω_j|.

The proportional scheme is the "generalised proportional coupling" of the
proportional-coupling study (seed paper 002): with the budget constraint its
normalisation is 1/⟨|ω_i − ω_j|^p⟩ over pairs, i.e.

    K_ij = K (N − 1) |ω_i − ω_j|^p / Σ_{k≠l} |ω_k − ω_l|^p.

All functions are pure jnp code: they work under `jit` and `vmap` (over ω, K, p,
ρ and keep_fraction) and are differentiable in K and ω (for p ≥ 1; |x|^p has an
infinite slope at 0 for p < 1). Arguments are checked eagerly when concrete.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v

__all__ = ["uniform", "proportional", "partially_correlated", "prune", "budget", "softmax_allocation",
           "effective_exponent"]


def _check_range(name: str, x, lo=None, hi=None, *, lo_open: bool = False) -> None:
    """Value check on a concrete scalar (skipped for tracers under jit/vmap)."""
    if not v.is_concrete(x):
        return
    val = float(x)
    if lo is not None and (val < lo or (lo_open and val == lo)):
        op = ">" if lo_open else ">="
        raise ValueError(f"`{name}` must be {op} {lo}, got {val}")
    if hi is not None and val > hi:
        raise ValueError(f"`{name}` must be <= {hi}, got {val}")


def _frequencies(name: str, omega, n: int | None = None) -> jax.Array:
    omega = v.vector(name, omega, n)
    if omega.shape[0] < 2:
        raise ValueError(f"`{name}` must hold at least 2 frequencies, got {v.describe(omega)}")
    return omega


def _off_diagonal(n: int) -> jax.Array:
    return ~jnp.eye(n, dtype=bool)


def budget(K_matrix) -> jax.Array:
    """Σ_{i≠j} K_ij, the total coupling spent by a matrix (equals K (N − 1) for every scheme here)."""
    K_matrix = jnp.asarray(K_matrix)
    return jnp.sum(jnp.where(_off_diagonal(K_matrix.shape[-1]), K_matrix, 0.0), axis=(-2, -1))


def _normalise(weights: jax.Array, K, name: str) -> jax.Array:
    """Scale non-negative off-diagonal `weights` (N, N) to the budget K (N − 1)."""
    n = weights.shape[-1]
    weights = jnp.where(_off_diagonal(n), weights, 0.0)
    total = jnp.sum(weights)
    if v.is_concrete(total) and not float(total) > 0:
        raise ValueError(
            f"`{name}` are all equal, so |ω_i − ω_j|^p vanishes for every pair and cannot carry "
            "the budget: expected at least two distinct frequencies (or p = 0)"
        )
    return weights * (K * (n - 1) / total)


def uniform(n: int, K) -> jax.Array:
    """Uniform all-to-all coupling K_ij = K/N for i ≠ j, K_ii = 0; shape (n, n).

    The same dynamics as `kj.MeanField(K)` (whose j = i term sin(0) vanishes).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"`n` must be an int >= 2 (number of oscillators), got {n!r}")
    K = v.scalar("K", K)
    _check_range("K", K, 0.0)
    n = int(n)
    return jnp.where(_off_diagonal(n), K / n, jnp.zeros((), jnp.result_type(K, float)))


def proportional(omega, K, p=1.0) -> jax.Array:
    r"""Generalised proportional coupling K_ij = K (N−1) |ω_i − ω_j|^p / Σ_{k≠l} |ω_k − ω_l|^p.

    Args:
        omega: ω, natural frequencies, shape (N,), N ≥ 2.
        K: coupling strength setting the budget Σ_{i≠j} K_ij = K (N − 1), scalar ≥ 0.
        p: exponent ≥ 0; p = 0 gives `uniform(N, K)`, p = 1 proportional coupling,
            large p spends the budget on the most detuned pairs.

    Returns:
        (N, N) symmetric matrix with zero diagonal.
    """
    omega = _frequencies("omega", omega)
    K = v.scalar("K", K)
    p = v.scalar("p", p)
    _check_range("K", K, 0.0)
    _check_range("p", p, 0.0)
    detuning = jnp.abs(omega[:, None] - omega[None, :])
    # 0^0 = 1 in jnp.power, so p = 0 gives exactly the uniform weights.
    return _normalise(jnp.power(detuning, p), K, "omega")


def partially_correlated(omega, omega_other, K, p=1.0, rho=1.0) -> jax.Array:
    r"""Couplings only partly correlated with the true detuning.

    The couplings are built from the mixed frequencies

        ω̃ = ρ ω + sqrt(1 − ρ²) ω',      K_ij = K (N−1) |ω̃_i − ω̃_j|^p / Σ_{k≠l} |ω̃_k − ω̃_l|^p,

    with ω' an independent draw of the same law (for unit-variance ω and ω', ω̃ has
    unit variance and correlation ρ with ω). ρ = 1 is `proportional(omega, K, p)`;
    ρ = 0 gives random positive couplings that carry no information on ω.
    (The seed paper's formula for this mix did not survive text extraction; this
    is the reading used throughout the toolkit.)

    Args:
        omega: ω, true natural frequencies, (N,).
        omega_other: ω', an independent frequency vector, (N,).
        K: budget strength, scalar ≥ 0.
        p: exponent ≥ 0.
        rho: ρ ∈ [0, 1], the mixing (correlation) parameter.

    Returns:
        (N, N) symmetric matrix with zero diagonal and budget K (N − 1).
    """
    omega = _frequencies("omega", omega)
    omega_other = _frequencies("omega_other", omega_other, omega.shape[0])
    rho = v.scalar("rho", rho)
    _check_range("rho", rho, 0.0, 1.0)
    mixed = rho * omega + jnp.sqrt(jnp.clip(1.0 - rho * rho, 0.0)) * omega_other
    return proportional(mixed, K, p)


def prune(K, keep_fraction) -> jax.Array:
    r"""Keep the strongest `keep_fraction` of the coupling pairs and renormalise to K's budget.

    Pairs {i, j} (i < j) are ranked by K_ij (ties broken by position); the
    round(keep_fraction · N(N−1)/2) strongest are kept (at least one), all others
    set to zero, and the result is rescaled so that Σ_{i≠j} equals that of the
    input. The input must be symmetric with zero diagonal (as every scheme here).

    Args:
        K: (N, N) symmetric coupling matrix with non-negative entries.
        keep_fraction: fraction of pairs kept, in (0, 1]; may be traced (vmap over it).

    Returns:
        (N, N) symmetric matrix with zero diagonal and the same budget; use
        `kj.Sparse.from_dense` on it to simulate in O(kept edges).
    """
    K = v.as_array("K", K)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] < 2:
        raise ValueError(f"`K` must be a square (N, N) coupling matrix with N >= 2, got {v.describe(K)}")
    v.check_finite("K", K)
    if v.is_concrete(K):
        a = np.asarray(K)
        if not np.allclose(a, a.T, rtol=1e-6, atol=1e-12 * max(1.0, float(np.abs(a).max()))):
            raise ValueError("`K` must be symmetric (K_ij = K_ji), got a non-symmetric matrix")
        if np.any(a < 0):
            raise ValueError(f"`K` must have non-negative entries, got minimum {float(a.min())}")
    keep_fraction = v.scalar("keep_fraction", keep_fraction)
    _check_range("keep_fraction", keep_fraction, 0.0, 1.0, lo_open=True)
    return _prune(K, keep_fraction)


@jax.jit
def _prune(K, keep_fraction):
    # One compiled kernel per shape: eager dispatch of the sort/scatter ops is slow.
    n = K.shape[0]
    iu, ju = np.triu_indices(n, k=1)
    pairs = K[iu, ju]
    num_pairs = pairs.shape[0]
    keep = jnp.clip(jnp.round(keep_fraction * num_pairs), 1, num_pairs)
    # rank 0 = strongest; a stable sort keeps exactly `keep` pairs even with ties.
    rank = jnp.argsort(jnp.argsort(-pairs, stable=True), stable=True)
    kept = jnp.where(rank < keep, pairs, 0.0)
    upper = jnp.zeros_like(K).at[iu, ju].set(kept)
    pruned = upper + upper.T
    total_in, total_out = budget(K), budget(pruned)
    return pruned * jnp.where(total_out > 0, total_in / jnp.where(total_out > 0, total_out, 1.0), 0.0)


def softmax_allocation(logits, n: int, K=1.0) -> jax.Array:
    r"""A symmetric (n, n) coupling with zero diagonal and the budget K (N − 1), from free pair logits.

        K_ij = K_ji = K (N − 1) e^{λ_p} / (2 Σ_q e^{λ_q}),    p = the pair {i, j} (i < j),

    so every allocation of the budget is reached by some λ, λ = 0 is uniform coupling (K/N per
    ordered pair), and gradient descent over λ keeps the budget exactly.

    Args:
        logits: λ, shape (N(N − 1)/2,), one per unordered pair in `numpy.triu_indices(n, 1)` order.
        n: N, the number of oscillators (≥ 2).
        K: coupling strength setting the budget, scalar ≥ 0.

    Returns:
        (n, n) matrix; differentiable in `logits` and K, usable under `jit` and `vmap`.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"`n` must be an int >= 2 (number of oscillators), got {n!r}")
    logits = jnp.asarray(logits)
    pairs = n * (n - 1) // 2
    if logits.shape != (pairs,):
        raise ValueError(f"`logits` must have shape ({pairs},) (one per pair of {n} oscillators), "
                         f"got shape {logits.shape}")
    iu, ju = np.triu_indices(n, 1)
    upper = jnp.zeros((n, n), logits.dtype).at[iu, ju].set(jax.nn.softmax(logits))
    return (upper + upper.T) * (K * (n - 1) / 2)


def effective_exponent(K_matrix, omega) -> float:
    """The slope p of the least-squares line of log K_ij against log |ω_i − ω_j| over pairs i < j.

    p = 1 or 2 for `proportional(omega, K, p)` exactly; a summary of how any allocation weights
    detuned pairs. Pairs with K_ij ≤ 0 or ω_i = ω_j are left out. Host-side (NumPy), not traceable.
    """
    K_matrix, omega = np.asarray(K_matrix, float), np.asarray(omega, float)
    iu, ju = np.triu_indices(len(omega), 1)
    x, y = np.abs(omega[iu] - omega[ju]), K_matrix[iu, ju]
    keep = (x > 0) & (y > 0)
    if keep.sum() < 2:
        raise ValueError("`K_matrix` and `omega` leave fewer than 2 pairs with K_ij > 0 and ω_i ≠ ω_j")
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])
