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


def check_outputs(outputs, target, n, pinned, clamped=None):
    """Output indices (M,) int in [0, N) without duplicates, none of them clamped, and targets (M,)."""
    out = np.asarray(outputs)
    if out.ndim != 1 or out.size == 0 or not np.issubdtype(out.dtype, np.integer):
        raise TypeError(f"`outputs` must be a non-empty 1-D array of integer indices, got {v.describe(out)}")
    if np.any(out < 0) or np.any(out >= n):
        raise ValueError(f"`outputs` must index oscillators in [0, {n}), got {out.tolist()}")
    if len(set(out.tolist())) != out.size:
        raise ValueError(f"`outputs` must not repeat indices, got {out.tolist()}")
    if clamped and set(out.tolist()) & set(clamped):
        raise ValueError(f"`outputs` must not be clamped oscillators, got {sorted(set(out.tolist()) & set(clamped))} in both")
    target = v.vector("target", target, out.size)
    return out, target


def check_clamping(omega, theta0, field, clamped, clamped_phases, center):
    """Clamped-phase and field options → (theta0 (N,) with the clamped phases set, field, clamped tuple, center).

    `clamped=None` is pinned mode (ω centred unless center=False, no field);
    otherwise the clamped oscillators are held at `clamped_phases` and ω is used as is.
    """
    n, dtype = omega.shape[0], omega.dtype
    if clamped is None:
        if clamped_phases is not None:
            raise ValueError("`clamped_phases` needs `clamped` (the indices of the clamped oscillators), got clamped=None")
        if field is not None:
            raise ValueError(
                "`field` needs `clamped`: a field breaks the rotational symmetry that pinning one oscillator "
                "relies on; pass the clamped oscillators, or clamped=() to leave all N phases free"
            )
        return theta0, None, None, True if center is None else bool(center)
    idx = np.asarray(clamped)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise TypeError(f"`clamped` must be a 1-D sequence of integer oscillator indices, got {v.describe(idx)}")
    if np.any(idx < 0) or np.any(idx >= n):
        raise ValueError(f"`clamped` must index oscillators in [0, {n}), got {idx.tolist()}")
    if len(set(idx.tolist())) != idx.size:
        raise ValueError(f"`clamped` must not repeat indices, got {idx.tolist()}")
    if idx.size == n:
        raise ValueError(f"`clamped` holds all {n} oscillators: nothing left to solve for")
    if idx.size == 0 and field is None:
        raise ValueError("`clamped=()` needs a `field`: without one the global phase is free and the equilibrium not isolated")
    if center:
        raise ValueError("`center=True` is for pinned mode; with `clamped` the phases fix the frame and ω is used as is")
    if field is not None:
        field = v.vector("field", field, n, allow_scalar=True).astype(dtype)
    theta0 = jnp.zeros((n,), dtype) if theta0 is None else theta0
    if idx.size:
        if clamped_phases is None:
            raise ValueError(f"`clamped_phases` is required with `clamped` ({idx.size} phases expected)")
        ph = v.vector("clamped_phases", clamped_phases, idx.size).astype(dtype)
        theta0 = theta0.at[idx].set(ph)
    return theta0, field, tuple(int(i) for i in idx.tolist()), False
