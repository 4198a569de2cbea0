"""Eager argument checks for the equilibrium-propagation API (before tracing)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import _validate as v


def check_system(K, omega, pinned, theta0=None):
    """Validate K (N, N) symmetric, ω (N,), pinned ∈ [0, N), θ0 (N,) or None."""
    omega = v.vector("omega", omega)
    n = omega.shape[0]
    K = v.as_array("K", K)
    if K.ndim != 2 or K.shape != (n, n):
        raise ValueError(f"`K` must be a square ({n}, {n}) matrix to match `omega` of length {n}, got {v.describe(K)}")
    v.check_finite("K", K)
    if v.is_concrete(K):
        Kn = np.asarray(K)
        if not np.allclose(Kn, Kn.T, rtol=1e-10, atol=1e-12):
            raise ValueError(
                f"`K` must be symmetric (K_ij = K_ji), got max |K − Kᵀ| = {float(np.max(np.abs(Kn - Kn.T))):.3g}"
            )
    if isinstance(pinned, bool) or not isinstance(pinned, (int, np.integer)):
        raise TypeError(f"`pinned` must be an int oscillator index, got {pinned!r}")
    if not 0 <= int(pinned) < n:
        raise ValueError(f"`pinned` must be in [0, {n}), got {pinned}")
    if n < 2:
        raise ValueError(f"need at least 2 oscillators, got `omega` of length {n}")
    if theta0 is not None:
        theta0 = v.vector("theta0", theta0, n)
    dtype = jnp.result_type(omega.dtype, K.dtype)
    return K.astype(dtype), omega.astype(dtype), None if theta0 is None else theta0.astype(dtype)


def check_outputs(outputs, target, n, pinned):
    """Output indices (M,) int in [0, N) without duplicates and targets (M,)."""
    out = np.asarray(outputs)
    if out.ndim != 1 or out.size == 0 or not np.issubdtype(out.dtype, np.integer):
        raise TypeError(f"`outputs` must be a non-empty 1-D array of integer indices, got {v.describe(out)}")
    if np.any(out < 0) or np.any(out >= n):
        raise ValueError(f"`outputs` must index oscillators in [0, {n}), got {out.tolist()}")
    if len(set(out.tolist())) != out.size:
        raise ValueError(f"`outputs` must not repeat indices, got {out.tolist()}")
    target = v.vector("target", target, out.size)
    return out, target
