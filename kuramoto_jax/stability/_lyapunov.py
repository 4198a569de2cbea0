r"""Lyapunov exponents by tangent-space integration with QR re-orthonormalisation.

Along a trajectory y(t) of ẏ = F(y) (the model's vector field: θ, or (θ, θ̇) for the
second-order model), k tangent vectors Q (D, k) evolve by the variational equation

    Q̇ = DF(y) Q,

computed column by column with forward-mode derivatives of the same right-hand side
(`jax.jvp`, no Jacobian is formed). Every τ time units Q = Q' R (QR factorisation),
Q ← Q', and the exponents are the time averages

    λ_j = (1 / (M τ)) Σ_{m=1}^{M} log |R_jj^{(m)}|       (Benettin et al. 1980).

The sum of all D exponents over a finite time T is exactly (1/T) ∫ tr DF dt
(Liouville), whatever τ. Without a field the flow commutes with a common phase shift,
so the shift direction e (1 on the phases, 0 on the velocities) is invariant, DF e = 0:
the first tangent vector is set to e/|e|, which gives its exponent 0 exactly and leaves the
others to the dynamics modulo the shift; the exponents are returned sorted.
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate as v
from .._model import Kuramoto
from .._solve import initial_state
from .._solvers import SOLVERS


class _Variational(eqx.Module):
    model: Kuramoto

    def __call__(self, t, state, args):
        y, Q = state
        f = lambda yy: self.model.vector_field(t, yy)
        dy, dQ = jax.vmap(lambda q: jax.jvp(f, (y,), (q,)), in_axes=1, out_axes=(None, 1))(Q)
        return dy, dQ


def lyapunov_spectrum(model: Kuramoto, theta0, *, k: int | None = None, t1: float = 200.0, dt: float = 0.05,
                      renormalise_every: float = 1.0, burn_in: float = 0.0, velocity0=None,
                      solver: str = "rk4"):
    r"""The first k Lyapunov exponents of the trajectory from theta0.

    Args:
        model: a deterministic `Kuramoto` model without delays (first or second order).
        theta0: (N,) initial phases (with `velocity0` (N,) for the second-order model).
        k: number of exponents (default: all, D = N or 2N).
        t1: averaging time after the burn-in; a whole number of `renormalise_every`.
        dt: fixed step of `solver` ("rk4", "heun", "midpoint", "euler").
        renormalise_every: τ, the time between QR re-orthonormalisations (a multiple of dt).
        burn_in: time integrated first (without tangent vectors) to reach the attractor.

    Returns:
        (k,) exponents, largest first (without a field, k includes the exact 0 of the shift). Works under `jit` and `vmap` (over θ0 or the model).
    """
    if not isinstance(model, Kuramoto):
        raise TypeError(f"`model` must be a kuramoto_jax.Kuramoto, got {type(model).__name__}")
    if model.noise is not None or model.delays is not None:
        raise ValueError("`model` must be deterministic and undelayed for Lyapunov exponents (noise=None, delays=None)")
    n = model.n
    theta0 = v.vector("theta0", theta0, n)
    dim = 2 * n if model.second_order else n
    y0 = initial_state(model, theta0, velocity0)
    k = dim if k is None else k
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= dim:
        raise ValueError(f"`k` must be an int in [1, {dim}], got {k!r}")
    if solver not in ("rk4", "heun", "midpoint", "euler"):
        raise ValueError(f"`solver` must be one of 'rk4', 'heun', 'midpoint', 'euler', got {solver!r}")
    for name, val in (("t1", t1), ("dt", dt), ("renormalise_every", renormalise_every)):
        v.scalar(name, val, positive=True)
    v.scalar("burn_in", burn_in, nonnegative=True)
    steps = float(renormalise_every) / float(dt)
    intervals = float(t1) / float(renormalise_every)
    if abs(steps - round(steps)) > 1e-6 * steps or abs(intervals - round(intervals)) > 1e-6 * intervals:
        raise ValueError(
            f"`renormalise_every` = {renormalise_every} must be a whole number of steps dt = {dt} and `t1` = {t1} "
            "a whole number of `renormalise_every`"
        )
    return _lyapunov_jit(model, y0, int(k), int(round(intervals)), float(renormalise_every), float(dt),
                         float(burn_in), solver)


@eqx.filter_jit
def _lyapunov_jit(model, y0, k, intervals, tau, dt, burn_in, solver_name):
    solver = SOLVERS[solver_name]()
    if burn_in > 0:
        y0 = diffrax.diffeqsolve(diffrax.ODETerm(lambda t, y, a: model.vector_field(t, y)), solver, 0.0, burn_in,
                                 dt, y0, max_steps=int(np.ceil(burn_in / dt)) + 1).ys[-1]
    term = diffrax.ODETerm(_Variational(model))
    dim = y0.shape[0]
    Q0 = jnp.eye(dim, k, dtype=y0.dtype)
    if model.field is None:
        n = model.n
        e = jnp.zeros((dim,), y0.dtype).at[:n].set(1.0 / np.sqrt(n))
        Q0 = jnp.linalg.qr(jnp.concatenate([e[:, None], jnp.eye(dim, dtype=y0.dtype)[:, : k - 1]], 1))[0]
    steps = int(round(tau / dt)) + 1

    def interval(carry, _):
        y, Q, t = carry
        sol = diffrax.diffeqsolve(term, solver, t, t + tau, dt, (y, Q), max_steps=steps)
        y, Q = sol.ys[0][-1], sol.ys[1][-1]
        Q, R = jnp.linalg.qr(Q)
        return (y, Q, t + tau), jnp.log(jnp.abs(jnp.diagonal(R)))

    t_start = jnp.asarray(burn_in, y0.dtype)
    _, logs = jax.lax.scan(interval, (y0, Q0, t_start), None, length=intervals)
    return jnp.sort(jnp.sum(logs, 0) / (intervals * tau))[::-1]
