"""What `simulate` returns, and the pieces every integrator shares to produce it:
the save function (θ, [θ, θ̇] or an observable at each save time), the step count of a
time span, and the packaging of saved states into a `Solution`."""

from __future__ import annotations

from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp


class Solution(eqx.Module):
    """Result of `simulate`.

    ts: (T,) save times. theta: (T, N) phases at ts (None when `observe` was given).
    velocity: (T, N) θ̇ for the second-order model, else None.
    observables: `observe(θ)` stacked over ts (a pytree with leading axis T), else None.
    stats: solver statistics (number of steps, ...).
    """

    ts: jax.Array
    theta: jax.Array | None
    velocity: jax.Array | None
    observables: Any
    stats: dict

    @property
    def final_theta(self) -> jax.Array:
        if self.theta is None:
            raise ValueError("phases were not saved (simulate was called with `observe=`)")
        return self.theta[-1]


def whole_steps(name: str, span: float, dt: float) -> int:
    """Number of whole dt steps in span, or a ValueError naming `name`."""
    k = span / dt
    kr = round(k)
    if abs(k - kr) > 1e-6 * max(1.0, k):
        raise ValueError(f"`{name}` = {span} must be a whole number of steps dt = {dt}, got {k:.6g} steps")
    return int(kr)


def truncated_run(run, carry, steps: int, detach_steps: int):
    """`run(carry, steps)`, with the carry after the first `detach_steps` steps made a constant
    for differentiation (truncated backpropagation; 0: differentiate through every step)."""
    if not detach_steps:
        return run(carry, steps)
    carry = jax.lax.stop_gradient(run(carry, detach_steps))
    return run(carry, steps - detach_steps)


class SaveFn(eqx.Module):
    """diffrax-style save function: θ, (θ, θ̇) for the second-order model, or `observe(θ)`."""

    n: int = eqx.field(static=True)
    second: bool = eqx.field(static=True)
    observe: Callable | None = eqx.field(static=True)

    def __call__(self, t, y, args):
        th = y[: self.n] if self.second else y
        if self.observe is not None:
            return self.observe(th)
        return (th, y[self.n :]) if self.second else th


def package(ts, ys, observe, second, check_finite, stats) -> Solution:
    if check_finite:
        leaves = jax.tree.leaves(ys)
        bad = jnp.any(jnp.stack([~jnp.all(jnp.isfinite(x)) for x in leaves])) if leaves else False
        ys = eqx.error_if(
            ys, bad, "simulate: the solution contains NaN or inf (unstable step size or bad parameters?)"
        )
    if observe is not None:
        return Solution(ts=ts, theta=None, velocity=None, observables=ys, stats=stats)
    if second:
        theta, vel = ys
        return Solution(ts=ts, theta=theta, velocity=vel, observables=None, stats=stats)
    return Solution(ts=ts, theta=ys, velocity=None, observables=None, stats=stats)
