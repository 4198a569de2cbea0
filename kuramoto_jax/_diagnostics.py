r"""Measures of partial synchrony: chimera and metastability indices, coherence matrix, phase clusters.

With M groups of oscillators (labels) and their local order parameters R_c(t)
(`group_order_parameter`, saved through ``simulate(..., observe=...)``), Shanahan (2010)
defines

    chimera index       χ = ⟨σ_chi(t)⟩_t,   σ_chi(t) = (1/(M−1)) Σ_c (R_c(t) − ⟨R(t)⟩_c)²,
    metastability index λ = ⟨σ_met(c)⟩_c,   σ_met(c) = (1/(T−1)) Σ_t (R_c(t) − ⟨R_c⟩_t)²:

χ is large when groups differ in coherence at the same time (a chimera), λ when the
coherence of the groups varies in time. The coherence matrix is the phase-locking value
C_ij = |⟨e^{i(θ_i − θ_j)}⟩_t| of every pair over time.
"""

from __future__ import annotations

import jax.numpy as jnp

from ._observables import group_order_parameter


def local_order_parameters(theta, labels, num_groups: int):
    """R_c of each group c: theta (…, N), labels (N,) in [0, num_groups) → (…, num_groups).

    An `observe=` function for `simulate`: ``observe=lambda th: kj.local_order_parameters(th, labels, M)``.
    """
    return group_order_parameter(theta, labels, num_groups)[0]


def chimera_index(R_groups):
    """χ: the time average of the variance across groups (ddof 1) of R_c(t); R_groups (T, M) → scalar."""
    R = jnp.asarray(R_groups)
    if R.ndim != 2 or R.shape[1] < 2:
        raise ValueError(f"`R_groups` must be (T, M) with M >= 2 groups, got shape {R.shape}")
    return jnp.mean(jnp.var(R, axis=1, ddof=1))


def metastability_index(R_groups):
    """λ: the group average of the variance over time (ddof 1) of R_c(t); R_groups (T, M) → scalar."""
    R = jnp.asarray(R_groups)
    if R.ndim != 2 or R.shape[0] < 2:
        raise ValueError(f"`R_groups` must be (T, M) with T >= 2 times, got shape {R.shape}")
    return jnp.mean(jnp.var(R, axis=0, ddof=1))


def coherence_matrix(theta):
    """C_ij = |⟨e^{i(θ_i − θ_j)}⟩_t| (phase-locking value); theta (T, N) → (N, N), real arithmetic."""
    theta = jnp.asarray(theta)
    if theta.ndim != 2:
        raise ValueError(f"`theta` must be a (T, N) time series of phases, got shape {theta.shape}")
    c, s = jnp.cos(theta), jnp.sin(theta)
    T = theta.shape[0]
    re = (c.T @ c + s.T @ s) / T
    im = (s.T @ c - c.T @ s) / T
    return jnp.sqrt(re * re + im * im)


def phase_clusters(theta, tol: float = 0.1):
    """Group the phases of one snapshot into clusters on the circle.

    Sorting the phases around the circle, a new cluster starts wherever the gap to the
    previous phase exceeds `tol` (radians); the largest gap is the cut of the circle.

    Args:
        theta: (N,) phases.
        tol: largest gap inside a cluster.

    Returns:
        (labels (N,) ints in [0, count), count): jittable, fixed shapes.
    """
    theta = jnp.asarray(theta)
    if theta.ndim != 1:
        raise ValueError(f"`theta` must be (N,) phases of one snapshot, got shape {theta.shape}")
    phi = jnp.mod(theta, 2 * jnp.pi)
    order = jnp.argsort(phi)
    sorted_phi = phi[order]
    gaps = jnp.diff(jnp.concatenate([sorted_phi, sorted_phi[:1] + 2 * jnp.pi]))  # gap after each
    cut = jnp.argmax(gaps)  # start the walk after the largest gap
    n = theta.shape[0]
    walk = (cut + 1 + jnp.arange(n)) % n
    breaks = gaps[walk[:-1]] > tol  # gap between walk[i] and walk[i+1]
    labels_walk = jnp.concatenate([jnp.zeros((1,), int), jnp.cumsum(breaks.astype(int))])
    labels = jnp.zeros((n,), int).at[order[walk]].set(labels_walk)
    count = labels_walk[-1] + 1
    return labels, count
