r"""The finite-N locking threshold: the smallest coupling with a phase-locked state.

Mean field (θ̇_i = ω_i + (K/N) Σ_j sin(θ_j − θ_i)). With u_i = ω_i − ω̄ and
s = K r ≥ max|u_i|, the locked state is sin(θ_i − ψ) = u_i / s and the
self-consistency r = (1/N) Σ_i cos(θ_i − ψ) reads

    K = N / f(s),      f(s) = Σ_i sqrt(s² − u_i²) / s²,

so K_L = N / max_{s ≥ max|u|} f(s) (Mirollo & Strogatz 2005; Verwoerd & Mason 2008).
f'(s) = 0 is the fold condition

    Σ_i (2u_i² − s²) / sqrt(s² − u_i²) = 0,

whose left side falls strictly in s (each term has slope −s³/(s² − u_i²)^{3/2}),
runs from +∞ at s = max|u| and is negative beyond s = √2 max|u|: one root s*,
found by bisection. Since f'(s*) = 0, the envelope theorem gives
∂K_L/∂ω by differentiating N / f(s*) at fixed s*: exact, and no derivative of the
bisection is needed. For two oscillators K_L = |ω_1 − ω_2|.

General couplings (`saddle_node`, `locking_scale`). For a model with coupling K
(dense, sparse or mean field, with a lag or a field) the threshold is the smallest
scale κ_L such that κK has a locked state: the fold (saddle-node) of the locked
branch in κ. With G(x, κ) = f_κ(θ) − Ω 1 (unknowns x as in `_frame`), the fold
solves the extended system (Newton on the fold, e.g. Kuznetsov, *Elements of
applied bifurcation theory*, §10.2)

    G(x, κ) = 0,      D_x G(x, κ) w = 0,      cᵀ w = 1,

in the 2N + 1 unknowns (x, κ, w): w spans the kernel of D_x G, c is a fixed vector
with cᵀ w ≠ 0. The system is regular at a non-degenerate fold, so optimistix's
Newton with the implicit adjoint gives ∂κ_L/∂(ω, K, …). Its warm start follows
the branch down from strong coupling, aiming at the secant zero of
q(κ) = 1 / (κ³ |dx/dκ|²), which vanishes linearly at the fold (`bracket`).
"""

from __future__ import annotations

from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate as v
from .._model import Kuramoto
from . import _frame as fr
from . import _locked as lk


def _fold_condition(s, u):
    return jnp.sum((2 * u * u - s * s) / jnp.sqrt(s * s - u * u))


def _mean_field_threshold(omega):
    u = omega - jnp.mean(omega)
    umax = jax.lax.stop_gradient(jnp.max(jnp.abs(u)))
    u_fixed = jax.lax.stop_gradient(u)

    # Bisection for the root in s = umax (1 + y), y in (0, 1/2]: the condition is +∞ at y = 0 and
    # negative at y = 1/2 > √2 − 1. Only midpoints are evaluated and a non-finite value counts as
    # positive, so the singular end (where s rounds to umax, in float32 above all) never breaks the
    # bracket, which optimistix's Bisection checks at both ends.
    def halve(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        val = _fold_condition(umax * (1 + mid), u_fixed)
        positive = (val > 0) | ~jnp.isfinite(val)
        return jnp.where(positive, mid, lo), jnp.where(positive, hi, mid)

    zero = jnp.zeros((), u.dtype)
    lo, hi = jax.lax.fori_loop(0, 80, halve, (zero, zero + 0.5))
    s = jax.lax.stop_gradient(umax * (1 + 0.5 * (lo + hi)))
    f = jnp.sum(jnp.sqrt(s * s - u * u)) / (s * s)
    return omega.shape[0] / f


_mean_field_jit = jax.jit(_mean_field_threshold)


def locking_threshold(omega):
    r"""K_L, the finite-N locking threshold of the mean-field model θ̇_i = ω_i + (K/N) Σ_j sin(θ_j − θ_i).

    A phase-locked state exists iff K ≥ K_L. Found from the fold of the
    self-consistency (module docstring); K_L = |ω_1 − ω_2| for N = 2.

    Args:
        omega: ω, (N,) natural frequencies, N ≥ 2, not all equal.

    Returns:
        K_L (scalar). Differentiable in ω (envelope theorem); works under `jit`, `vmap`.
    """
    omega = v.vector("omega", omega)
    if omega.shape[0] < 2:
        raise ValueError(f"`omega` must hold at least 2 frequencies, got {v.describe(omega)}")
    if v.is_concrete(omega) and float(np.ptp(np.asarray(omega))) == 0.0:
        raise ValueError("`omega` are all equal: identical oscillators lock at any K > 0 (K_L = 0); "
                         "expected at least two distinct frequencies")
    return _mean_field_jit(omega)


class Fold(NamedTuple):
    """The saddle-node point of the locked branch in the coupling scale κ.

    scale: κ_L (the model with coupling κK has a locked state iff κ ≥ κ_L near this branch).
    theta: (N,) locked phases at the fold; frequency: Ω there.
    null_vector: (N,) w, the kernel of D_x G at the fold (c^T w = 1).
    residual: max |extended system|; converged: Newton met its tolerance.
    """

    scale: jax.Array
    theta: jax.Array
    frequency: jax.Array
    null_vector: jax.Array
    residual: jax.Array
    converged: jax.Array


# The bracket stops once the fold estimate is within this relative distance of its upper end;
# the fold Newton starts there (the branch is then O(sqrt(1e-6)) from the fold).
_BRACKET_RTOL = 1e-6
# Newton iterations per bracket solve. A predicted start on the branch converges in a few
# iterations; a solve below the fold never converges, and capping it keeps failures cheap.
_BRACKET_NEWTON_STEPS = 12


def bracket(model: Kuramoto, iterations: int, max_steps: int):
    """(κ, x): a point of the locked branch just above its fold, values only (see module docstring).

    Near a fold κ_f the branch is x ≈ x_f + c sqrt(κ − κ_f), so q(κ) = 1 / (κ³ |dx/dκ|²) falls
    linearly to zero there; at strong coupling x ∝ 1/κ, so q ∝ κ and its secant zero is far
    below. Each step lowers κ to a target a quarter of the way from the secant zero of q (the
    fold estimate) back to the last good point (at most halving κ; 0.7 κ before two points
    exist), starting Newton from the linear predictor
    x + (κ_new − κ) dx/dκ. A failed solve becomes the lower end of a bracket, and targets stay
    above its midpoint. At most `iterations` solves; stops once the estimate is within 1e-6 κ.
    """
    model = jax.lax.stop_gradient(model)
    kappa0 = lk.strong_coupling_scale(model)
    x0, _ = lk._root(model, lk.initial_guess(model, kappa0), kappa0, max_steps)
    dtype = x0.dtype
    steps = min(max_steps, _BRACKET_NEWTON_STEPS)
    zero = jnp.zeros((), dtype)

    def slope_and_flatness(x, kappa):
        d = fr.branch_slope(model, x, kappa)
        return d, 1.0 / (kappa**3 * jnp.sum(d * d))

    def estimate(lo, hi, q_hi, k_prev, q_prev):
        """(fold estimate or −∞, remaining relative gap)."""
        valid = (k_prev > hi) & (q_prev > q_hi) & (q_hi > 0)
        est = jnp.where(valid, hi - q_hi * (k_prev - hi) / jnp.where(valid, q_prev - q_hi, 1.0), -jnp.inf)
        floor = jnp.maximum(est, lo)
        gap = jnp.where(valid | (lo > 0), hi - floor, hi)
        return est, gap

    def searching(state):
        i, lo, hi, _, _, q_hi, k_prev, q_prev = state
        _, gap = estimate(lo, hi, q_hi, k_prev, q_prev)
        return (i < iterations) & (gap > _BRACKET_RTOL * hi)

    def body(state):
        i, lo, hi, x_hi, d_hi, q_hi, k_prev, q_prev = state
        est, _ = estimate(lo, hi, q_hi, k_prev, q_prev)
        target = jnp.where(jnp.isfinite(est), jnp.maximum(est + 0.25 * (hi - est), 0.5 * hi), 0.7 * hi)
        target = jnp.where(lo > 0, jnp.maximum(target, 0.5 * (lo + hi)), target)
        x, ok = lk._root(model, x_hi + (target - hi) * d_hi, target, steps)
        res = jnp.max(jnp.abs(fr.residual(model, x, target)))
        ok = ok & jnp.isfinite(res) & (res < fr.default_tol_residual(dtype))
        # A failed solve keeps the last point's slope (no solve for it again).
        d, q = jax.lax.cond(ok, lambda: slope_and_flatness(x, target), lambda: (d_hi, q_hi))
        keep = lambda new, old: jnp.where(ok, new, old)
        return (i + 1, keep(lo, target), keep(target, hi), keep(x, x_hi), keep(d, d_hi), keep(q, q_hi),
                keep(hi, k_prev), keep(q_hi, q_prev))

    d0, q0 = slope_and_flatness(x0, kappa0)
    init = (jnp.zeros((), jnp.int32), zero, kappa0, x0, d0, q0, zero, zero)
    _, _, hi, x_hi, *_ = jax.lax.while_loop(searching, body, init)
    return hi, x_hi


def _fold_system(z, args):
    model, c = args
    n = c.shape[0]
    x, kappa, w = z[:n], z[n], z[n + 1:]
    g = lambda x_: fr.residual(model, x_, kappa)
    G, Gw = jax.jvp(g, (x,), (w,))
    return jnp.concatenate([G, Gw, jnp.reshape(c @ w - 1.0, (1,))])


def solve_fold(model: Kuramoto, *, iterations: int = 60, max_steps: int = 50) -> Fold:
    """Traceable core of `saddle_node` (no checks)."""
    kappa, x = bracket(model, iterations, max_steps)
    sm = jax.lax.stop_gradient(model)
    A = jax.jacfwd(lambda x_: fr.residual(sm, x_, kappa))(x)
    w0 = jnp.linalg.svd(A)[2][-1]  # right singular vector of the smallest singular value
    c = w0
    z0 = jnp.concatenate([x, jnp.reshape(kappa, (1,)), w0])
    z, ok = fr.newton(_fold_system, z0, (model, c), max_steps=max_steps)
    n = x.shape[0]
    res = jax.lax.stop_gradient(jnp.max(jnp.abs(_fold_system(z, (model, c)))))
    converged = ok & jnp.isfinite(res) & (res < fr.default_tol_residual(z.dtype))
    theta, frequency = fr.unpack(model, z[:n])
    return Fold(z[n], theta, frequency, z[n + 1:], res, converged)


@eqx.filter_jit
def _fold_jit(model, iterations, max_steps):
    return solve_fold(model, iterations=iterations, max_steps=max_steps)


def saddle_node(model: Kuramoto, *, iterations: int = 60, max_steps: int = 50, check: bool = True) -> Fold:
    r"""The fold of the locked branch in the coupling scale: Newton on the saddle-node condition.

    Args:
        model: a first-order `Kuramoto` model (mean-field, dense or sparse coupling; lag
            and field allowed); its coupling K sets the shape, the fold is at κ_L K.
        iterations: at most this many warm-start solves (`bracket`).
        max_steps: Newton iterations per solve.
        check: raise a `ValueError` if the fold Newton did not converge (concrete values).

    Returns:
        `Fold` (scale κ_L, theta (N,), frequency, null_vector (N,), residual, converged);
        κ_L is differentiable with respect to the model's arrays (implicit adjoint).
    """
    model = fr.check_model("model", model)
    if model.n < 2:
        raise ValueError(f"`model` must have at least 2 oscillators, got N = {model.n}")
    for name, val in (("iterations", iterations), ("max_steps", max_steps)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise ValueError(f"`{name}` must be a positive int, got {val!r}")
    out = _fold_jit(model, int(iterations), int(max_steps))
    if check and v.is_concrete(out.converged) and not bool(out.converged):
        raise ValueError(f"saddle_node: the fold Newton did not converge (residual {float(out.residual):.3g})")
    return out


def locking_scale(model: Kuramoto, **kwargs):
    r"""κ_L: the smallest factor κ for which the model with coupling κK has a locked state.

    For `Kuramoto(ω, MeanField(K))` this is `locking_threshold(ω) / K`; for a dense or
    sparse K it is the locking threshold of the coupling shape K. Keyword arguments go
    to `saddle_node`. Differentiable with respect to ω, K, the field and the lag.
    """
    return saddle_node(model, **kwargs).scale
