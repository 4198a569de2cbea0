"""Lean fixed-step solvers that plug into `diffrax.diffeqsolve`, and a grid Brownian path.

diffrax's tableau-based solvers carry a fixed per-step overhead that dominates
on accelerators (see benchmarks/); `RK4` here is the classical scheme written
directly as an `AbstractSolver`, so SaveAt, adjoints and progress meters keep
working at close to the cost of a hand-written `lax.scan`.
"""

from __future__ import annotations

from typing import ClassVar

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr

_tree_axpy = lambda a, x, y: jax.tree.map(lambda xi, yi: a * xi + yi, x, y)


class RK4(diffrax.AbstractSolver):
    """Classical 4th-order Runge–Kutta (fixed step only; ODEs only).

    Dense output is linear between steps: save on the step grid for 4th-order values.
    """

    term_structure: ClassVar = diffrax.AbstractTerm
    interpolation_cls: ClassVar = diffrax.LocalLinearInterpolation

    def order(self, terms):
        return 4

    def init(self, terms, t0, t1, y0, args):
        return None

    def step(self, terms, t0, t1, y0, args, solver_state, made_jump):
        del solver_state, made_jump
        h = t1 - t0
        half = t0 + 0.5 * h
        k1 = terms.vf(t0, y0, args)
        k2 = terms.vf(half, _tree_axpy(0.5 * h, k1, y0), args)
        k3 = terms.vf(half, _tree_axpy(0.5 * h, k2, y0), args)
        k4 = terms.vf(t1, _tree_axpy(h, k3, y0), args)
        y1 = rk4_combine(y0, k1, k2, k3, k4, h)
        return y1, None, dict(y0=y0, y1=y1), None, diffrax.RESULTS.successful

    def func(self, terms, t0, y0, args):
        return terms.vf(t0, y0, args)


def rk4_combine(y0, k1, k2, k3, k4, h):
    """y0 + h/6 (k1 + 2k2 + 2k3 + k4): shared by the diffeqsolve and delay integrators."""
    return jax.tree.map(lambda y, a, b, c, d: y + (h / 6) * (a + 2 * b + 2 * c + d), y0, k1, k2, k3, k4)


class GridBrownianPath(diffrax.AbstractBrownianPath):
    """Brownian increments on the fixed grid t0 + k·dt, one normal draw per step.

    Deterministic in `key` (the increment over step k uses fold_in(key, k)), cheap
    (no tree descent as in VirtualBrownianTree) and safe to differentiate through
    (it does not depend on the parameters). Only valid when every solver step is one
    grid interval, i.e. for fixed-step solvers with the same dt.
    """

    shape: tuple[int, ...] = eqx.field(static=True)
    key: jax.Array
    t0: float
    t1: float
    dt: float
    levy_area: ClassVar = diffrax.BrownianIncrement

    def __init__(self, shape, key, t0, t1, dt):
        self.shape = tuple(shape)
        self.key, self.t0, self.t1, self.dt = key, t0, t1, dt

    def evaluate(self, t0, t1=None, left=True, use_levy=False):
        if t1 is None:
            raise NotImplementedError("GridBrownianPath only provides increments over a step")
        k = jnp.round((t0 - self.t0) / self.dt).astype(jnp.int32)
        dtype = jnp.result_type(float)
        xi = jr.normal(jr.fold_in(self.key, k), self.shape, dtype)
        return jnp.sqrt(jnp.abs(t1 - t0)).astype(dtype) * xi


SOLVERS = {
    "euler": diffrax.Euler,
    "heun": diffrax.Heun,
    "midpoint": diffrax.Midpoint,
    "rk4": RK4,
    "tsit5": diffrax.Tsit5,
    "dopri5": diffrax.Dopri5,
    "dopri8": diffrax.Dopri8,
}
ADAPTIVE = ("tsit5", "dopri5", "dopri8")
SDE_SOLVERS = ("euler", "heun")
DELAY_SOLVERS = ("euler", "heun", "rk4")
