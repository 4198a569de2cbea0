"""Phase-locked equilibria of a Kuramoto network in the rotating frame.

With symmetric couplings K_ij = K_ji the phase equations

    θ̇_i = F_i(θ) = ω^c_i + Σ_j K_ij sin(θ_j − θ_i),      ω^c = ω − mean(ω),

have Σ_i F_i = 0, so one equation is redundant and the global phase is free.
Pinning oscillator p at θ_p = 0 and dropping its equation gives the reduced
system F̃(θ̃) = 0 in the N − 1 free phases θ̃. Its Jacobian

    J̃ = −L̃(K cos Δθ),   L(W) = diag(W 1) − W,   Δθ_ij = θ_j − θ_i,

is the negative weighted graph Laplacian with the pinned row and column removed;
the equilibrium is linearly stable when J̃ is negative definite.

The nudged system of equilibrium propagation adds −β ∂L/∂θ_i = −β (θ_i − y_i) at
the output oscillators, whose Jacobian is J̃ − β diag(outputs).

Clamped-phase inputs (Wang et al.): oscillators in `clamped` are held at given
phases and leave the unknowns; their equations are dropped, none is pinned and ω
is not centred (the clamped phases fix the frame). A field b_i sin θ_i (the core
model's `field`) is allowed there; it breaks the rotational symmetry, so with
`clamped=()` all N phases are unknowns.

One Newton solver, `solve`, serves every use: the iteration (analytic reduced
Jacobian, an unrolled elimination that vectorises across a vmapped batch of
small systems) runs inside `jax.lax.custom_root`, so θ* is differentiable with
respect to ω, K, β, the targets, the field and the clamped phases by the
implicit function theorem, never by unrolling iterations. Where nothing is
differentiated (training and evaluation inside `vmap`) the same call is the
fast path: `custom_root` adds no work to the forward solve.

A relaxation alternative integrates the dynamics with `kuramoto_jax.simulate`
and polishes the result with Newton; `local_field_sweeps` is a cheap warm start
for layered networks.
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._coupling import Dense
from .._model import Kuramoto
from .._solve import simulate
from . import _checks as c


class Equilibrium(NamedTuple):
    """Result of an equilibrium solve.

    theta: (N,) phases (theta[pinned] == 0 in pinned mode).
    residual: max_i |F̃_i| at theta (including the nudge term).
    converged: Newton's residual is finite and below `tol_residual`.
    stable: the reduced Jacobian J̃ is negative definite (its symmetric part has a
        Cholesky factor), the condition for a linearly stable equilibrium.
    """

    theta: jax.Array
    residual: jax.Array
    converged: jax.Array
    stable: jax.Array

    @property
    def ok(self) -> jax.Array:
        """Converged and stable: safe to use."""
        return self.converged & self.stable


def free_indices(n: int, pinned: int = 0, clamped=None) -> np.ndarray:
    """Static indices of the unknown phases: all but `pinned`, or all but the `clamped` ones."""
    fixed = {int(pinned)} if clamped is None else {int(i) for i in clamped}
    return np.array([i for i in range(n) if i not in fixed], dtype=int)


def vector_field(theta, K, omega_c, beta=0.0, target=None, output_mask=None, field=None):
    """F_i(θ) = ω^c_i + Σ_j K_ij sin(θ_j − θ_i) + b_i sin θ_i − β m_i (θ_i − y_i), shape (N,).

    The coupling and field terms are the core model's (`Kuramoto(ω^c, Dense(K), field=b).drift`).
    """
    model = Kuramoto(omega_c, Dense(K), field=field)
    F = model.drift(0.0, theta)
    if target is not None:
        F = F - beta * output_mask * (theta - target)
    return F


def jacobian(theta, K, beta=0.0, output_mask=None, field=None):
    """Full Jacobian ∂F/∂θ = K cos Δθ − diag(Σ_j K_ij cos Δθ_ij) + diag(b cos θ) − β diag(m), shape (N, N)."""
    W = K * jnp.cos(theta[None, :] - theta[:, None])
    J = W - jnp.diag(jnp.sum(W, axis=1))
    if field is not None:
        J = J + jnp.diag(jnp.broadcast_to(field * jnp.cos(theta), theta.shape))
    if output_mask is not None:
        J = J - beta * jnp.diag(output_mask)
    return J


def reduced_jacobian(theta, K, pinned: int = 0, beta=0.0, output_mask=None, *, field=None, clamped=None):
    """J̃: the Jacobian restricted to the unknown phases (without the pinned or clamped ones)."""
    J = jacobian(theta, K, beta, output_mask, field)
    free = free_indices(theta.shape[-1], pinned, clamped)
    return J[np.ix_(free, free)]


def max_eigenvalue(theta, K, pinned: int = 0, beta=0.0, output_mask=None, *, field=None, clamped=None):
    """Largest eigenvalue of the symmetrised reduced Jacobian (stable iff < 0)."""
    Jr = reduced_jacobian(theta, K, pinned, beta, output_mask, field=field, clamped=clamped)
    return jnp.linalg.eigvalsh(0.5 * (Jr + Jr.T))[-1]


def _start(theta0, n, dtype, pinned, clamped):
    """(base, y0): the full phase vector holding the fixed phases, and the unknowns' start.

    Pinned mode shifts the warm start so that θ_p = 0; clamped mode keeps theta0's
    entries at the clamped oscillators as their (fixed) phases.
    """
    free = free_indices(n, pinned, clamped)
    theta0 = jnp.zeros((n,), dtype) if theta0 is None else jnp.asarray(theta0, dtype)
    if clamped is None:
        theta0 = theta0 - theta0[pinned]
    return theta0, theta0[free]


def _default_tol(dtype) -> float:
    # Accepted residual: a few hundred ulps of an O(1-10) right-hand side.
    return 1e-8 if dtype == jnp.float64 else 1e-4


def _solve_small(A, b):
    """x = A⁻¹ b for one (n, n) matrix by Gaussian elimination without pivoting.

    Near a stable equilibrium A = J̃ is negative definite, where elimination without
    pivoting is stable; elsewhere a zero pivot gives non-finite values, which the
    caller reports as not converged. For the small systems solved here (N ≲ 50) it
    vectorises across a vmapped batch far better than per-matrix LAPACK calls.
    """
    n = A.shape[-1]
    M = jnp.concatenate([A, b[..., None]], axis=-1)

    def eliminate(k, M):
        row = M[k] / M[k, k]
        M = M - M[:, k, None] * row[None, :]
        return M.at[k].set(row)

    # A rolled loop keeps the compiled program small (it is traced inside scans).
    M = jax.lax.fori_loop(0, n, eliminate, M)
    return M[:, -1]


def solve(
    K,
    omega_c,
    theta0=None,
    *,
    pinned: int = 0,
    beta=0.0,
    target=None,
    output_mask=None,
    field=None,
    clamped=None,
    max_steps: int = 50,
    tol_residual: float | None = None,
) -> Equilibrium:
    """Newton solve of the reduced (optionally nudged) equilibrium; traceable, no checks.

    Newton's iteration φ ← φ − J̃(φ)⁻¹ F̃(φ) with the analytic reduced Jacobian, until
    max |F̃| ≤ eps^¾ or `max_steps`; wrapped in `jax.lax.custom_root`, so that
    derivatives of θ* come from the implicit function theorem,
    dθ*/dp = −J̃⁻¹ ∂F̃/∂p, and the forward solve is the same code whether or not
    anything is differentiated.

    Args:
        K: (N, N) symmetric couplings.
        omega_c: (N,) frequencies: mean-centred ω^c in pinned mode, ω as is with `clamped`.
        theta0: (N,) initial guess (warm start); zeros when None. With `clamped`, its
            entries at the clamped oscillators are their fixed phases.
        pinned: index p with θ_p = 0 (static); ignored when `clamped` is given.
        beta: nudging strength β of the term −β m_i (θ_i − y_i).
        target: y (N,), the target phases of the nudge.
        output_mask: m (N,), 1 at the nudged (output) oscillators.
        field: b (N,) or scalar in the term b_i sin θ_i, or None.
        clamped: static tuple of oscillators held at their theta0 phases (removed
            from the unknowns), or None for pinned mode.
        max_steps: Newton iterations at most.
        tol_residual: accepted max |F̃| (default 1e-8 in float64, 1e-4 in float32).

    Returns:
        An `Equilibrium`; its theta is differentiable in K, omega_c, beta, target,
        field and the clamped phases.
    """
    n = omega_c.shape[-1]
    dtype = jnp.result_type(omega_c.dtype, K.dtype, float)
    if target is not None and output_mask is None:
        raise ValueError("`output_mask` is required with `target`")
    if tol_residual is None:
        tol_residual = _default_tol(dtype)
    nudged = target is not None
    tight = float(jnp.finfo(dtype).eps) ** 0.75  # quadratic convergence: one more step reaches ~eps
    free = free_indices(n, pinned, clamped)
    base, phi0 = _start(theta0, n, dtype, pinned, clamped)
    # Unrolled elimination vectorises well across a vmapped batch of small systems;
    # beyond a few dozen unknowns LAPACK's pivoted solve is faster and safer.
    lin_solve = _solve_small if free.size <= 64 else jnp.linalg.solve

    def F(phi):
        theta = base.at[free].set(phi)
        return vector_field(theta, K, omega_c, beta, target, output_mask, field)[free]

    def Jr(phi):
        return reduced_jacobian(base.at[free].set(phi), K, pinned, beta if nudged else 0.0,
                                output_mask if nudged else None, field=field, clamped=clamped)

    def newton(_, phi0):
        def cond(state):
            i, _, f = state
            return (i < max_steps) & (jnp.max(jnp.abs(f)) > tight)

        def body(state):
            i, phi, f = state
            phi = phi - lin_solve(Jr(phi), f)
            return i + 1, phi, F(phi)

        _, phi, f = jax.lax.while_loop(cond, body, (0, phi0, F(phi0)))
        return phi, jnp.max(jnp.abs(f))

    def tangent_solve(g, y):
        return jnp.linalg.solve(jax.jacobian(g)(y), y)

    phi, res = jax.lax.custom_root(F, phi0, newton, tangent_solve, has_aux=True)
    converged = jnp.isfinite(res) & (res < tol_residual)
    J = jax.lax.stop_gradient(Jr(phi))
    stable = jnp.all(jnp.isfinite(jnp.linalg.cholesky(-0.5 * (J + J.T))))
    return Equilibrium(base.at[free].set(phi), res, converged, stable)


def local_field_sweeps(K, omega, theta, groups, *, field=None, sweeps: int = 10):
    """Warm start by block coordinate descent: each oscillator in turn locks to its local field.

    Oscillator i alone, with every other phase held, has the stable equilibrium
    θ_i = ψ_i − arcsin(ω_i / R_i), where R_i e^{iψ_i} = Σ_j K_ij e^{iθ_j} − b_i is its
    local field (a field b_i sin θ_i acts like a coupling b_i to a phase π); this
    is the minimiser of the energy in θ_i. `groups` are static tuples of mutually
    uncoupled oscillators (the layers of a layered net), updated together, one
    group after another, `sweeps` times; everything else stays fixed. The energy
    never increases, so the sweeps head for a stable equilibrium; Newton polishes.
    Returns (N,) phases.
    """
    def sweep(_, theta):
        for g in groups:
            g = np.asarray(g, dtype=int)
            Z = K[g] @ jnp.exp(1j * theta)
            if field is not None:
                Z = Z - jnp.broadcast_to(field, theta.shape)[g]
            R = jnp.maximum(jnp.abs(Z), 1e-12)
            theta = theta.at[g].set(jnp.angle(Z) - jnp.arcsin(jnp.clip(omega[g] / R, -1.0, 1.0)))
        return theta

    # A rolled loop: the compiled program does not grow with the number of sweeps.
    return jax.lax.fori_loop(0, sweeps, sweep, theta)


def relax(
    K,
    omega_c,
    theta0=None,
    *,
    pinned: int = 0,
    t1: float = 200.0,
    dt: float = 0.05,
    solver: str = "rk4",
) -> jax.Array:
    """Relax the free dynamics θ̇ = F(θ) with `kuramoto_jax.simulate` for time t1.

    Returns (N,) phases shifted so that θ_pinned = 0. Gradient descent on the
    energy only reaches stable equilibria, which makes relaxation a robust
    (slower) alternative to Newton and a good start for it.
    """
    n = omega_c.shape[-1]
    if theta0 is None:
        theta0 = jnp.zeros((n,), jnp.result_type(omega_c.dtype, float))
    model = Kuramoto(omega_c, Dense(K))
    sol = simulate(model, theta0, t1=t1, dt=dt, solver=solver)
    theta = sol.theta[-1]
    return theta - theta[pinned]


def equilibrium(
    K,
    omega,
    pinned: int = 0,
    *,
    theta0=None,
    method: str = "newton",
    center: bool | None = None,
    field=None,
    clamped=None,
    clamped_phases=None,
    max_steps: int = 50,
    t1: float = 200.0,
    dt: float = 0.05,
    check: bool = True,
) -> jax.Array:
    """Stable equilibrium of the rotating-frame Kuramoto network.

    Solves ω^c_i + Σ_j K_ij sin(θ_j − θ_i) = 0 for i ≠ p with θ_p = 0.

    With `clamped` (input encoding as clamped phases), the oscillators in `clamped`
    are held at `clamped_phases` and only the others are unknowns: there is no
    rotating frame (the clamped phases fix it), so ω is not centred and no
    oscillator is pinned; a field b_i sin θ_i may be added.

    Args:
        K: (N, N) symmetric coupling matrix.
        omega: (N,) natural frequencies ω (centred internally: ω^c = ω − mean ω,
            in pinned mode unless `center=False`; never with `clamped`).
        pinned: p, the oscillator held at θ_p = 0 (pinned mode).
        theta0: (N,) initial guess / warm start (default zeros).
        method: "newton" (Newton from theta0) or "relax" (simulate the dynamics
            for `t1`, then polish with Newton; pinned mode only).
        field: b, scalar or (N,), in b_i sin θ_i (needs `clamped`: a field breaks
            the rotational symmetry that pinning relies on).
        clamped: (M,) indices of clamped oscillators; `()` with a field leaves all N free.
        clamped_phases: (M,) their phases.
        check: raise if the solve did not converge or the equilibrium is
            unstable (an `equinox` runtime error under `jit`).

    Returns:
        θ*, shape (N,), with θ*[pinned] == 0 (pinned mode) or θ*[clamped] ==
        clamped_phases; differentiable (implicit function theorem).
    """
    K, omega, theta0 = c.check_system(K, omega, pinned, theta0)
    theta0, field, clamped, center = c.check_clamping(omega, theta0, field, clamped, clamped_phases, center)
    if method not in ("newton", "relax"):
        raise ValueError(f"`method` must be 'newton' or 'relax', got {method!r}")
    if method == "relax" and clamped is not None:
        raise ValueError("`method='relax'` supports pinned mode only, got `clamped`; use method='newton'")
    return _equilibrium_jit(K, omega, theta0, field, pinned, clamped, method, center, max_steps, float(t1), float(dt), check)


@eqx.filter_jit
def _equilibrium_jit(K, omega, theta0, field, pinned, clamped, method, center, max_steps, t1, dt, check):
    # One compiled program per (shapes, options): repeated calls (finite-difference
    # checks, sweeps) do not re-trace the root finder.
    omega_c = omega - jnp.mean(omega) if center else omega
    if method == "relax":
        theta0 = relax(K, omega_c, theta0, pinned=pinned, t1=t1, dt=dt)
    eq = solve(K, omega_c, theta0, pinned=pinned, field=field, clamped=clamped, max_steps=max_steps)
    theta = eq.theta
    if check:
        theta = eqx.error_if(
            theta,
            ~eq.converged,
            "equilibrium: Newton did not converge (no phase-locked state from this start; "
            "try method='relax', another theta0, or stronger coupling)",
        )
        theta = eqx.error_if(
            theta,
            ~eq.stable,
            "equilibrium: the solution is unstable (reduced Jacobian not negative definite); "
            "try method='relax' or another theta0",
        )
    return theta
