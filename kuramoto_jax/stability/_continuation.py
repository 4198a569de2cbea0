r"""Pseudo-arclength continuation of phase-locked states in a scalar parameter, with fold detection.

The locked states of a family of models, G(x, p) = f_p(θ) − Ω 1 = 0 (unknowns x as in
`_frame`; p a coupling strength, a field, a lag, … through `make_model(p)`), form
curves y(s) = (x(s), p(s)) in arclength s. Keller's pseudo-arclength method steps along
them: with the unit tangent t (the kernel of [D_x G, ∂_p G], oriented like the previous
one through the bordered system [[D_x G, ∂_p G], [t_prevᵀ]] t = [0, 1]),

    predictor  ŷ = y + ds t,      corrector  G(y') = 0,  tᵀ (y' − ŷ) = 0   (Newton–chord, then Newton),

which passes folds, where p(s) turns and D_x G is singular but the bordered system is
not. A fold lies between two points whose tangents' p-components t_p differ in sign;
`refine_fold` then solves the saddle-node system G = 0, D_x G w = 0, cᵀ w = 1 in
(x, p, w) by Newton.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate as v
from . import _frame as fr
from . import _locked as lk


class Branch(NamedTuple):
    """Points along a continued branch of locked states (S = num_steps + 1, the start first).

    params: (S,) parameter values p; theta: (S, N) phases; frequency: (S,) Ω;
    max_eigenvalue: (S,) largest real part of the transverse eigenvalues (< 0: stable);
    stable: (S,); converged: (S,) corrector success (points after a failure repeat the
    last good one and are marked False); tangent_p: (S,) p-component of the unit tangent.
    """

    params: jax.Array
    theta: jax.Array
    frequency: jax.Array
    max_eigenvalue: jax.Array
    stable: jax.Array
    converged: jax.Array
    tangent_p: jax.Array

    def fold_indices(self) -> np.ndarray:
        """Indices i with a fold between points i and i + 1 (t_p changes sign, both converged)."""
        tp = np.asarray(self.tangent_p)
        ok = np.asarray(self.converged)
        return np.nonzero((np.sign(tp[:-1]) != np.sign(tp[1:])) & ok[:-1] & ok[1:])[0]

    def folds(self) -> np.ndarray:
        """Parameter estimates of the folds: the extreme p of the quadratic through the three
        points around each sign change of t_p (accurate to O(ds³) on a smooth branch)."""
        p = np.asarray(self.params)
        out = []
        for i in self.fold_indices():
            j = int(np.clip(i, 1, len(p) - 2))
            a, b, c = p[j - 1], p[j], p[j + 1]
            # p along arclength s = −1, 0, 1 (steps of ds): vertex of the parabola.
            curv = a - 2 * b + c
            out.append(b - (c - a) ** 2 / (8 * curv) if curv != 0 else b)
        return np.asarray(out)


def _tangent(G, x, p, t_prev):
    """Unit tangent of G(x, p) = 0 oriented along t_prev (bordered solve)."""
    n = x.shape[0]
    J = jax.jacfwd(lambda y: G(y[:n], y[n]))(jnp.concatenate([x, p[None]]))
    A = jnp.concatenate([J, t_prev[None, :]], 0)
    rhs = jnp.zeros((n + 1,), x.dtype).at[-1].set(1.0)
    t = jnp.linalg.solve(A, rhs)
    return t / jnp.linalg.norm(t)


def _continue(make_model, x0, p0, direction, ds, num_steps, max_steps, symmetric, stability):
    p0 = jnp.asarray(p0, x0.dtype)

    def G(x, p):
        return fr.residual(make_model(p), x)

    n = x0.shape[0]
    # Initial orientation: increasing or decreasing p.
    t0 = _tangent(G, x0, p0, jnp.zeros((n + 1,), x0.dtype).at[-1].set(direction))

    def observe(x, p):
        model = make_model(p)
        theta, freq = fr.unpack(model, x)
        if not stability:
            return theta, freq, jnp.full((), jnp.nan, x.dtype)
        lam = jnp.real(lk.transverse_spectrum(model, theta, symmetric=symmetric)[0])
        return theta, freq, lam

    def step(carry, _):
        x, p, t, alive = carry
        y = jnp.concatenate([x, p[None]])
        y_pred = y + ds * t

        def H(yy, args):
            return jnp.concatenate([G(yy[:n], yy[n]), (t @ (yy - y_pred))[None]])

        # Newton–chord first (one factorisation per step); full Newton where it fails (near folds).
        y_new, ok = fr.newton(H, y_pred, None, max_steps=max_steps, chord=True)
        y_new, ok = jax.lax.cond(ok, lambda: (y_new, ok),
                                 lambda: fr.newton(H, y_pred, None, max_steps=max_steps))
        res = jnp.max(jnp.abs(H(y_new, None)))
        ok = ok & alive & jnp.isfinite(res) & (res < fr.default_tol_residual(x.dtype))
        x_new, p_new = y_new[:n], y_new[n]
        t_new = _tangent(G, x_new, p_new, t)
        x_new = jnp.where(ok, x_new, x)
        p_new = jnp.where(ok, p_new, p)
        t_new = jnp.where(ok, t_new, t)
        theta, freq, lam = observe(x_new, p_new)
        return (x_new, p_new, t_new, ok), (p_new, theta, freq, lam, ok, t_new[n])

    theta0, freq0, lam0 = observe(x0, p0)
    _, (ps, th, fq, lam, ok, tp) = jax.lax.scan(step, (x0, p0, t0, jnp.asarray(True)), None, length=num_steps)
    cat = lambda a, b: jnp.concatenate([jnp.asarray(a)[None], b])
    lam_all = cat(lam0, lam)
    ok_all = cat(True, ok)
    stable = ok_all & (lam_all < 0) if stability else jnp.zeros_like(ok_all)
    return Branch(cat(p0, ps), cat(theta0, th), cat(freq0, fq), lam_all, stable, ok_all, cat(t0[n], tp))


_continue_jit = eqx.filter_jit(_continue)


def continuation(make_model: Callable, p0, *, theta0=None, direction: float = -1.0, ds: float = 0.05,
                 num_steps: int = 100, max_steps: int = 20, symmetric: bool | None = None,
                 stability: bool = True) -> Branch:
    r"""Pseudo-arclength continuation of the locked states of `make_model(p)` from p = p0.

    Args:
        make_model: p ↦ `Kuramoto` (traceable in p), e.g. ``lambda K: kj.Kuramoto(ω, kj.MeanField(K))``,
            ``lambda b: kj.Kuramoto(ω, coupling, field=b)`` or ``lambda a: kj.Kuramoto(ω, coupling, lag=a)``.
        p0: start parameter; the start is the locked state of make_model(p0) (Newton from theta0,
            or the homotopy of `locked_state`).
        theta0: (N,) warm start of the first locked state (default: the homotopy).
        direction: +1 to start towards larger p, −1 towards smaller p.
        ds: arclength step in the (x, p) space; num_steps: steps taken.
        max_steps: Newton iterations per corrector.
        symmetric: symmetric Jacobians (real spectra); detected from make_model(p0) when None.
        stability: compute the leading transverse eigenvalue at every point (one O(N³)
            eigendecomposition each); False leaves max_eigenvalue NaN and stable False.

    Returns:
        A `Branch` (params, theta, frequency, max_eigenvalue, stable, converged, tangent_p),
        S = num_steps + 1 points; `branch.folds()` estimates fold parameters, `refine_fold`
        polishes them. Runs under `jit` (one compiled scan).
    """
    if not callable(make_model):
        raise TypeError(f"`make_model` must be a callable p ↦ Kuramoto, got {v.describe(make_model)}")
    p0 = v.scalar("p0", p0)
    model0 = fr.check_model("make_model(p0)", make_model(p0))
    if not direction in (-1, 1, -1.0, 1.0):
        raise ValueError(f"`direction` must be +1 or −1, got {direction!r}")
    v.scalar("ds", ds, positive=True)
    for name, val in (("num_steps", num_steps), ("max_steps", max_steps)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise ValueError(f"`{name}` must be a positive int, got {val!r}")
    x0 = None
    if theta0 is not None:
        theta0 = v.vector("theta0", theta0, model0.n).astype(fr.dtype_of(model0))
        x0 = fr.pack(model0, theta0, jnp.mean(fr.drift(model0, theta0)))
    # The start point only (its spectrum, when asked for, is the branch's first point).
    x0, res, converged = lk._point_jit(model0, x0)
    if v.is_concrete(converged) and not bool(converged):
        raise ValueError(f"continuation: no locked state of make_model(p0) found from the start (Newton "
                         f"residual {float(res):.3g}); pass a closer `theta0` or start at a stronger coupling")
    if symmetric is None:
        symmetric = lk.is_symmetric(model0)
    return _continue_jit(make_model, x0, p0, float(direction), float(ds), int(num_steps), int(max_steps),
                         bool(symmetric), bool(stability))


class FoldPoint(NamedTuple):
    """A fold of a branch: param p*, theta (N,), frequency, null_vector (N,), residual, converged."""

    param: jax.Array
    theta: jax.Array
    frequency: jax.Array
    null_vector: jax.Array
    residual: jax.Array
    converged: jax.Array


def _fold_residual(z, args):
    make_model, c = args
    n = c.shape[0]
    x, p, w = z[:n], z[n], z[n + 1:]
    g = lambda xx: fr.residual(make_model(p), xx)
    G, Gw = jax.jvp(g, (x,), (w,))
    return jnp.concatenate([G, Gw, (c @ w - 1.0)[None]])


def refine_fold(make_model: Callable, param, theta, frequency=None, *, max_steps: int = 50) -> FoldPoint:
    """Newton on the saddle-node system from a point (param, theta[, frequency]) near a fold.

    Typical use: ``i = branch.fold_indices()[0]; refine_fold(make_model, branch.params[i],
    branch.theta[i], branch.frequency[i])``. Returns a `FoldPoint` (values: arrays closed over by
    `make_model` are constants here; for derivatives of the fold in the coupling scale use
    `saddle_node` / `locking_scale`, which take the model as an argument).
    """
    param = v.scalar("param", param)
    model = fr.check_model("make_model(param)", make_model(param))
    theta = v.vector("theta", theta, model.n)
    if frequency is None:
        frequency = jnp.mean(fr.drift(model, theta))
    return _refine_jit(make_model, param, theta, jnp.asarray(frequency, theta.dtype), int(max_steps))


@eqx.filter_jit
def _refine_jit(make_model, param, theta, frequency, max_steps):
    model = make_model(param)
    x = fr.pack(model, theta, frequency)
    A = jax.jacfwd(lambda xx: fr.residual(model, xx))(x)
    w0 = jnp.linalg.svd(A)[2][-1]
    z0 = jnp.concatenate([x, param[None].astype(x.dtype), w0])
    z, ok = fr.newton(_fold_residual, z0, (make_model, w0), max_steps=max_steps)
    n = x.shape[0]
    res = jnp.max(jnp.abs(_fold_residual(z, (make_model, w0))))
    th, fq = fr.unpack(make_model(z[n]), z[:n])
    return FoldPoint(z[n], th, fq, z[n + 1:], res, ok & (res < fr.default_tol_residual(z.dtype)))
