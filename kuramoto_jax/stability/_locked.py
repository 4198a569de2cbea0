r"""The stable phase-locked state of a Kuramoto network and its linear stability.

A locked state θ_i(t) = φ_i + Ω t solves f(φ) = Ω 1 (see `_frame`). Its stability
is that of the fixed point φ in the rotating frame: the Jacobian J = ∂f/∂θ has the
zero mode J 1 = 0 of the common phase shift (without a field), and the state is
linearly stable when every other eigenvalue has a negative real part. Those are
the eigenvalues of the quotient operator J_⊥ = Qᵀ J Q, with Q (N, N−1) an
orthonormal basis of 1^⊥ (J 1 = 0 makes Qᵀ J Q the map induced on phases modulo a
common shift; it is symmetric when J is).

Finding it: Newton's method (optimistix, implicit adjoint) from a warm start. The
default warm start follows the state down from strong coupling: at κ_0 K with
κ_0 = 8 Σ|ω_i − ω̄| / min_i |Σ_j K_ij| every phase difference is small and Newton
from φ = 0 converges; κ is then halved down to 1 (at most `homotopy_steps` Newton
solves, each from the linear predictor along the branch; a failed solve halves the
step in log κ). This lands on the synchronous
(stable) branch whenever that branch reaches κ = 1 without a fold; a `theta0` skips
the homotopy (e.g. for twisted states on rings).
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate as v
from .._coupling import Dense, MeanField, Scaled, Sparse
from .._model import Kuramoto
from . import _frame as fr


class LockedState(NamedTuple):
    """A phase-locked state θ_i(t) = θ_i + Ω t and its spectrum.

    theta: (N,) phases in the frame rotating with Ω (θ_0 = 0 without a field).
    frequency: Ω, the common frequency (0 with a field).
    eigenvalues: (N,) eigenvalues of the Jacobian ∂f/∂θ at theta, sorted by
        decreasing real part (real when the Jacobian is symmetric, else complex).
    transverse_eigenvalues: (N−1,) the eigenvalues without the zero mode of a common
        phase shift ((N,) with a field), same order; stability is decided on these.
    residual: max_i |f_i(θ) − Ω|.
    converged: Newton met its tolerance and the residual is below `tol_residual`.
    stable: every transverse eigenvalue has a negative real part.
    """

    theta: jax.Array
    frequency: jax.Array
    eigenvalues: jax.Array
    transverse_eigenvalues: jax.Array
    residual: jax.Array
    converged: jax.Array
    stable: jax.Array

    @property
    def max_eigenvalue(self) -> jax.Array:
        """Largest real part of the transverse eigenvalues (< 0 when stable)."""
        return jnp.real(self.transverse_eigenvalues[0])

    @property
    def spectral_gap(self) -> jax.Array:
        """−max Re λ_⊥: the slowest relaxation rate towards the locked state."""
        return -self.max_eigenvalue


def complement_basis(n: int, dtype) -> jax.Array:
    """Q (n, n−1): an orthonormal basis of the vectors with zero sum (static, NumPy-built)."""
    a = np.eye(n)[:, : n - 1] - 1.0 / n
    q, _ = np.linalg.qr(a)
    return jnp.asarray(q, dtype)


def is_symmetric(model: Kuramoto) -> bool:
    """Static test: is ∂f/∂θ symmetric at every θ (symmetric K, no lag)? False when unknowable (traced)."""
    if model.lag is not None and not (v.is_concrete(model.lag) and float(model.lag) == 0.0):
        return False
    coupling = model.coupling
    while isinstance(coupling, Scaled):
        coupling = coupling.base
    if isinstance(coupling, MeanField):
        return True
    if isinstance(coupling, (Dense, Sparse)):
        leaves = jax.tree.leaves(coupling)
        if not all(v.is_concrete(x) for x in leaves):
            return False
        if isinstance(coupling, Sparse):
            return _edges_symmetric(coupling)
        K = np.asarray(coupling.to_dense())
        return bool(np.allclose(K, K.T, rtol=1e-12, atol=1e-14 * max(1.0, float(np.abs(K).max(initial=0.0)))))
    return False


def _edges_symmetric(coupling: Sparse) -> bool:
    """K_ij = K_ji for an edge list, in O(E log E) (no dense matrix; duplicate edges are summed)."""
    s, r = np.asarray(coupling.senders), np.asarray(coupling.receivers)
    w = np.asarray(coupling.weights, float)
    n = coupling.n

    def summed(a, b):
        key = a.astype(np.int64) * n + b
        uniq, inv = np.unique(key, return_inverse=True)
        return uniq, np.bincount(inv, weights=w)

    k1, w1 = summed(r, s)
    k2, w2 = summed(s, r)
    scale = max(1.0, float(np.abs(w).max(initial=0.0)))
    return bool(k1.shape == k2.shape and np.array_equal(k1, k2) and np.allclose(w1, w2, rtol=1e-12, atol=1e-14 * scale))


def _sorted_eigenvalues(J, symmetric: bool):
    if symmetric:
        return jnp.linalg.eigvalsh(0.5 * (J + J.T))[::-1]
    lam = jnp.linalg.eigvals(J)
    return lam[jnp.argsort(-jnp.real(lam))]


def spectrum(model: Kuramoto, theta, *, kappa=1.0, symmetric: bool | None = None):
    """(eigenvalues (N,), transverse eigenvalues (N−1,) or (N,)) of ∂f_κ/∂θ at θ, by decreasing real part."""
    if symmetric is None:
        symmetric = is_symmetric(model)
    J = fr.jacobian(model, theta, kappa)
    full = _sorted_eigenvalues(J, symmetric)
    if not fr.rotating(model):
        return full, full
    Q = complement_basis(model.n, J.dtype)
    return full, _sorted_eigenvalues(Q.T @ J @ Q, symmetric)


def transverse_spectrum(model: Kuramoto, theta, *, kappa=1.0, symmetric: bool | None = None):
    """Only the transverse eigenvalues of `spectrum` (one eigendecomposition instead of two)."""
    if symmetric is None:
        symmetric = is_symmetric(model)
    J = fr.jacobian(model, theta, kappa)
    if not fr.rotating(model):
        return _sorted_eigenvalues(J, symmetric)
    Q = complement_basis(model.n, J.dtype)
    return _sorted_eigenvalues(Q.T @ J @ Q, symmetric)


def strong_coupling_scale(model: Kuramoto):
    """κ_0 = 8 Σ|ω_i − ω̄| / min_i |Σ_j K_ij|, at least 1: a scale where every phase difference is small."""
    C, _ = model.coupling.aggregate(jnp.ones_like(model.omega), jnp.zeros_like(model.omega))
    row = jnp.min(jnp.abs(jnp.broadcast_to(C, model.omega.shape)))
    spread = jnp.sum(jnp.abs(model.omega - jnp.mean(model.omega)))
    return jnp.maximum(8.0 * spread / jnp.maximum(row, jnp.finfo(row.dtype).tiny), 1.0)


def initial_guess(model: Kuramoto, kappa):
    """x at coupling κK: φ = 0 with Ω = mean f_κ(0); with a field, a common phase ψ on the stable side."""
    dtype = fr.dtype_of(model)
    n = model.n
    if fr.rotating(model):
        theta = jnp.zeros((n,), dtype)
        return fr.pack(model, theta, jnp.mean(fr.drift(model, theta, kappa)))
    # Σ_i ω_i + Σ_i b_i sin ψ = 0, choosing cos ψ with Σ b cos ψ < 0 (stable for the common mode).
    b = jnp.sum(jnp.broadcast_to(model.field, (n,)))
    s = jnp.clip(-jnp.sum(model.omega) / jnp.where(b == 0, 1.0, b), -1.0, 1.0)
    psi = jnp.where(b > 0, jnp.pi - jnp.arcsin(s), jnp.arcsin(s))
    return jnp.full((n,), psi, dtype)


def _root(model: Kuramoto, x0, kappa, max_steps):
    return fr.newton(lambda x, args: fr.residual(args[0], x, args[1]), x0, (model, kappa), max_steps=max_steps)


def homotopy_start(model: Kuramoto, steps: int, max_steps: int):
    """Warm start at κ = 1 by following the state down from strong coupling κ_0 (values only).

    Each solve halves κ (never below 1) and starts Newton from the linear predictor
    x + (κ_new − κ) dx/dκ; a failed solve keeps the last state and retries with the step in
    log κ halved. At most `steps` solves.
    """
    model = jax.lax.stop_gradient(model)
    kappa0 = strong_coupling_scale(model)
    x0, _ = _root(model, initial_guess(model, kappa0), kappa0, max_steps)
    tol = fr.default_tol_residual(x0.dtype)

    def descending(state):
        i, kappa, *_ = state
        return (i < steps) & (kappa > 1)

    def body(state):
        i, kappa, x, d, ratio = state
        target = jnp.maximum(kappa * ratio, 1.0)
        x_new, ok = _root(model, x + (target - kappa) * d, target, max_steps)
        res = jnp.max(jnp.abs(fr.residual(model, x_new, target)))
        ok = ok & jnp.isfinite(res) & (res < tol)
        d_new = jax.lax.cond(ok, lambda: fr.branch_slope(model, x_new, target), lambda: d)
        return (i + 1, jnp.where(ok, target, kappa), jnp.where(ok, x_new, x), d_new,
                jnp.where(ok, ratio, jnp.sqrt(ratio)))

    half = jnp.asarray(0.5, x0.dtype)
    init = (jnp.zeros((), jnp.int32), kappa0, x0, fr.branch_slope(model, x0, kappa0), half)
    _, _, x, _, _ = jax.lax.while_loop(descending, body, init)
    return x


def solve_point(model: Kuramoto, x0=None, *, kappa=1.0, homotopy_steps: int = 40, max_steps: int = 50,
                tol_residual: float | None = None):
    """(x, residual, converged): the locked state's unknowns without its spectrum (traceable)."""
    if tol_residual is None:
        tol_residual = fr.default_tol_residual(fr.dtype_of(model))
    if x0 is None:
        x0 = homotopy_start(fr.scaled(model, kappa), homotopy_steps, max_steps)
    x, ok = _root(model, jax.lax.stop_gradient(x0), kappa, max_steps)
    res = jax.lax.stop_gradient(jnp.max(jnp.abs(fr.residual(model, x, kappa))))
    return x, res, ok & jnp.isfinite(res) & (res < tol_residual)


_point_jit = eqx.filter_jit(solve_point)


def solve_locked(model: Kuramoto, x0=None, *, kappa=1.0, homotopy_steps: int = 40, max_steps: int = 50,
                 tol_residual: float | None = None, symmetric: bool | None = None) -> LockedState:
    """Traceable core of `locked_state` (no checks): Newton from x0 (or the homotopy) at coupling κK."""
    x, res, converged = solve_point(model, x0, kappa=kappa, homotopy_steps=homotopy_steps, max_steps=max_steps,
                                    tol_residual=tol_residual)
    theta, frequency = fr.unpack(model, x)
    full, transverse = spectrum(model, theta, kappa=kappa, symmetric=symmetric)
    stable = converged & (jnp.real(transverse[0]) < 0)
    return LockedState(theta, frequency, full, transverse, res, converged, stable)


@eqx.filter_jit
def _locked_jit(model, x0, homotopy_steps, max_steps, tol_residual, symmetric):
    return solve_locked(model, x0, homotopy_steps=homotopy_steps, max_steps=max_steps,
                        tol_residual=tol_residual, symmetric=symmetric)


def locked_state(model: Kuramoto, theta0=None, *, frequency0=None, check: bool = True, homotopy_steps: int = 40,
                 max_steps: int = 50, tol_residual: float | None = None,
                 symmetric: bool | None = None) -> LockedState:
    r"""The stable phase-locked state θ_i(t) = θ_i + Ω t of a first-order model.

    Solves f(θ) = Ω 1 with f the model's drift (mean-field, dense or sparse coupling;
    a field b (then Ω = 0) and a Sakaguchi lag α are allowed), by Newton's method
    from `theta0` or from the strong-coupling homotopy (module docstring).

    Args:
        model: a first-order `Kuramoto` model without noise, drive or delays.
        theta0: (N,) warm start (skips the homotopy), e.g. a twisted state on a ring.
        frequency0: warm start for Ω (default: the mean of f(theta0)).
        check: raise a `ValueError` when no locked state was found (concrete values only;
            under `jit` inspect `.converged` and `.stable` instead).
        homotopy_steps: Newton solves on the way down from strong coupling.
        max_steps: Newton iterations per solve.
        tol_residual: accepted max |f − Ω| (default 1e-9 in float64, 1e-4 in float32).
        symmetric: whether ∂f/∂θ is symmetric (real eigenvalues by `eigvalsh`); detected
            when None (MeanField, or a concrete symmetric matrix, without lag).

    Returns:
        `LockedState` with theta (N,), frequency, eigenvalues (N,), transverse_eigenvalues,
        residual, converged, stable. Differentiable with respect to the model's arrays
        (ω, K, b, α) by the implicit function theorem; works under `jit` and `vmap`
        (with `check=False` or concrete inputs).
    """
    model = fr.check_model("model", model)
    n = model.n
    if n < 2 and fr.rotating(model):
        raise ValueError(f"`model` must have at least 2 oscillators for a locked state, got N = {n}")
    _check_options(homotopy_steps, max_steps)
    x0 = None
    if theta0 is not None:
        theta0 = v.vector("theta0", theta0, n).astype(fr.dtype_of(model))
        f0 = jnp.mean(fr.drift(model, theta0)) if frequency0 is None else v.scalar("frequency0", frequency0)
        x0 = fr.pack(model, theta0, f0)
    elif frequency0 is not None:
        raise ValueError("`frequency0` needs `theta0`; got theta0=None")
    if symmetric is None:
        symmetric = is_symmetric(model)
    out = _locked_jit(model, x0, int(homotopy_steps), int(max_steps), tol_residual, bool(symmetric))
    if check and v.is_concrete(out.converged) and not bool(out.converged):
        raise ValueError(
            "locked_state: no phase-locked state found (Newton did not converge, residual "
            f"{float(out.residual):.3g}); the coupling may be below the locking threshold "
            "(see kj.stability.locking_threshold / locking_scale), or pass a closer `theta0`"
        )
    return out


def _check_options(homotopy_steps, max_steps):
    for name, val in (("homotopy_steps", homotopy_steps), ("max_steps", max_steps)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise ValueError(f"`{name}` must be a positive int, got {val!r}")
