r"""Order parameters and synchrony measures (all over the last axis unless stated).

Z_k = (1/N) Σ_j e^{i k θ_j}; R = |Z_1|, ψ = arg Z_1; circular variance V = 1 − R.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def complex_order_parameter(theta, k: int = 1, axis: int = -1):
    """Z_k = mean_j e^{i k θ_j} as a complex array (axis reduced)."""
    theta = jnp.asarray(theta)
    return jnp.mean(jnp.cos(k * theta), axis) + 1j * jnp.mean(jnp.sin(k * theta), axis)


def order_parameter(theta, k: int = 1, axis: int = -1):
    """(R_k, ψ_k) = (|Z_k|, arg Z_k) over `axis`; real arithmetic (safe under grad).

    theta: (..., N) phases. Returns two arrays of shape (...,).
    """
    theta = jnp.asarray(theta)
    c = jnp.mean(jnp.cos(k * theta), axis)
    s = jnp.mean(jnp.sin(k * theta), axis)
    # sqrt(x + tiny) keeps the gradient finite at R = 0.
    R = jnp.sqrt(c * c + s * s + jnp.finfo(c.dtype).tiny)
    return R, jnp.arctan2(s, c)


def order_parameters(theta, ks=(1,), axis: int = -1):
    """Real and imaginary parts of Z_k for each k in `ks`: array (..., len(ks), 2)."""
    theta = jnp.asarray(theta)
    out = [jnp.stack([jnp.mean(jnp.cos(k * theta), axis), jnp.mean(jnp.sin(k * theta), axis)], -1) for k in ks]
    return jnp.stack(out, -2)


def circular_variance(theta, axis: int = -1):
    """V = 1 − R ∈ [0, 1] (0 = phase locked at one phase)."""
    return 1.0 - order_parameter(theta, axis=axis)[0]


def time_average(values, ts, burn_in: float = 0.0, axis: int = 0):
    """Mean of `values` over the saved times with ts ≥ burn_in (along `axis`, the time axis)."""
    values = jnp.asarray(values)
    ts = jnp.asarray(ts)
    mask = (ts >= burn_in).astype(values.dtype)
    shape = [1] * values.ndim
    shape[axis] = -1
    mask = mask.reshape(shape)
    return jnp.sum(values * mask, axis) / jnp.maximum(jnp.sum(mask), 1)


def group_order_parameter(theta, labels, num_groups: int):
    """Per-group (R_g, ψ_g) for integer `labels` (N,) in [0, num_groups).

    theta: (..., N). Returns two arrays (..., num_groups). Empty groups give R = 0.
    """
    theta = jnp.asarray(theta)
    onehot = jax.nn.one_hot(jnp.asarray(labels), num_groups, dtype=theta.dtype)  # (N, G)
    members = onehot.sum(0)
    counts = jnp.maximum(members, 1)
    c = (jnp.cos(theta) @ onehot) / counts
    s = (jnp.sin(theta) @ onehot) / counts
    R = jnp.sqrt(c * c + s * s + jnp.finfo(c.dtype).tiny)
    # arctan2's gradient at (0, 0) is NaN: an empty group gets ψ = arctan2(0, 1) = 0 (the same
    # value) with a finite gradient, so a graph that misses a label does not poison training.
    empty = members == 0
    return R, jnp.arctan2(jnp.where(empty, 0.0, s), jnp.where(empty, 1.0, c))


def effective_frequencies(theta, ts, burn_in: float = 0.0):
    """ω_eff,i = (θ_i(t_end) − θ_i(t_start)) / (t_end − t_start) over ts ≥ burn_in.

    theta: (T, N) unwrapped phases; ts: (T,). Returns (N,).
    """
    theta = jnp.asarray(theta)
    ts = np.asarray(ts)
    start = int(np.searchsorted(ts, burn_in))
    start = min(start, len(ts) - 2)
    return (theta[-1] - theta[start]) / (ts[-1] - ts[start])


def locked_fraction(omega_eff, tol: float = 1e-2):
    """Fraction of oscillators whose effective frequency is within `tol` of the median one."""
    omega_eff = jnp.asarray(omega_eff)
    centre = jnp.median(omega_eff, -1, keepdims=True)
    return jnp.mean(jnp.abs(omega_eff - centre) < tol, -1)
