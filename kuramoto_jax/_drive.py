r"""External input drive ε w_i u(t) r(θ_i).

`u(t)` is a callable of time (scalar or (N,) output) or a `SampledSignal` series;
the phase response r(θ) is 1 ("additive", a frequency shift), sin θ or cos θ.
"""

from __future__ import annotations

from typing import Callable

import equinox as eqx
import jax
import jax.numpy as jnp

from . import _validate as v
from ._validate import one_of

RESPONSES = ("additive", "sin", "cos", "-sin", "-cos")


class SampledSignal(eqx.Module):
    """A signal given as samples u_k = u(t0 + k dt), linearly interpolated in t.

    values: (T,) or (T, N). Times outside the samples hold the end values.
    """

    values: jax.Array
    dt: float = eqx.field(static=True)
    t0: float = eqx.field(static=True)

    def __init__(self, values, dt: float, t0: float = 0.0):
        values = v.as_array("values", values)
        if values.ndim not in (1, 2) or values.shape[0] < 2:
            raise ValueError(f"`values` must be (T,) or (T, N) with T >= 2 samples, got {v.describe(values)}")
        v.check_finite("values", values)
        if not float(dt) > 0:
            raise ValueError(f"`dt` must be > 0, got {dt}")
        self.values, self.dt, self.t0 = values, float(dt), float(t0)

    def __call__(self, t):
        x = (t - self.t0) / self.dt
        last = self.values.shape[0] - 1
        k = jnp.clip(jnp.floor(x), 0, last - 1).astype(jnp.int32)
        w = jnp.clip(x - k, 0.0, 1.0)
        return (1 - w) * self.values[k] + w * self.values[k + 1]


class Drive(eqx.Module):
    """Input term ε · w_i · u(t) · r(θ_i) added to dθ_i/dt.

    signal: callable t ↦ scalar or (N,), or a `SampledSignal`.
    gain: ε (scalar). weights: optional (N,) input weights w_i (default 1).
    response: r(θ) in {"additive", "sin", "cos", "-sin", "-cos"}.
    """

    signal: Callable
    gain: jax.Array
    weights: jax.Array | None
    response: str = eqx.field(static=True)

    def __init__(self, signal, gain=1.0, weights=None, response: str = "additive"):
        if not callable(signal):
            raise TypeError(
                f"`drive` must be a callable u(t) or a SampledSignal, got {v.describe(signal)}"
            )
        one_of("drive_response", response, RESPONSES)
        self.signal = signal
        self.gain = v.scalar("drive_gain", gain)
        self.weights = None if weights is None else v.vector("drive_weights", weights)
        self.response = response

    def __call__(self, t, theta):
        u = self.signal(t)
        term = self.gain * u
        if self.weights is not None:
            term = term * self.weights
        if self.response == "sin":
            term = term * jnp.sin(theta)
        elif self.response == "cos":
            term = term * jnp.cos(theta)
        elif self.response == "-sin":
            term = -term * jnp.sin(theta)
        elif self.response == "-cos":
            term = -term * jnp.cos(theta)
        return jnp.broadcast_to(term, theta.shape)
