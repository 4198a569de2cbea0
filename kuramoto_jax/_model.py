r"""The Kuramoto vector field with every variant the applications use.

First order:

    dθ_i/dt = ω_i + Σ_j K_ij sin(θ_j(t − τ_j) − θ_i − α) + b_i sin θ_i + ε u_i(t) [+ σ_i dW_i/dt]

Second order (inertial, as in power-grid and Josephson-array models):

    m θ̈_i + γ θ̇_i = ω_i + Σ_j K_ij sin(θ_j(t − τ_j) − θ_i − α) + b_i sin θ_i + ε u_i(t) [+ σ_i ξ_i]

solved as the first-order system (θ, ν = θ̇) with noise entering ν.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v
from ._coupling import AbstractCoupling
from ._drive import Drive


class Kuramoto(eqx.Module):
    """A Kuramoto network: frequencies, a coupling and optional extras.

    Args:
        omega: ω, natural frequencies, shape (N,).
        coupling: `MeanField`, `Dense` or `Sparse`.
        field: b_i in b_i sin θ_i, scalar or (N,).
        lag: Sakaguchi phase lag α (scalar).
        delays: per-sender transmission delays τ_j ≥ 0 in time units, (N,) or
            scalar; `simulate` requires them to be whole multiples of dt.
        drive: a `Drive`, or a callable u(t) / `SampledSignal` (wrapped with
            `drive_gain` ε, `drive_weights` and `drive_response`).
        noise: σ, additive white-noise amplitude, scalar or (N,); needs `key=` in `simulate`.
        mass: m > 0 for the second-order model (None = first order).
        damping: γ ≥ 0 of the second-order model (default 1).
    """

    omega: jax.Array
    coupling: AbstractCoupling
    field: jax.Array | None = None
    lag: jax.Array | None = None
    delays: jax.Array | None = None
    drive: Drive | None = None
    noise: jax.Array | None = None
    mass: jax.Array | None = None
    damping: jax.Array | None = None

    def __init__(
        self,
        omega,
        coupling: AbstractCoupling,
        *,
        field=None,
        lag=None,
        delays=None,
        drive=None,
        drive_gain=1.0,
        drive_weights=None,
        drive_response: str = "additive",
        noise=None,
        mass=None,
        damping=None,
    ):
        omega = v.vector("omega", omega)
        n = omega.shape[0]
        if not isinstance(coupling, AbstractCoupling):
            raise TypeError(
                "`coupling` must be kuramoto_jax.MeanField, Dense or Sparse, got "
                f"{type(coupling).__name__}"
            )
        if coupling.size is not None and coupling.size != n:
            raise ValueError(
                f"`coupling` is for {coupling.size} oscillators but `omega` has length {n}: "
                f"expected a coupling of size {n}"
            )
        self.omega = omega
        self.coupling = coupling
        self.field = None if field is None else v.vector("field", field, n, allow_scalar=True)
        self.lag = None if lag is None else v.scalar("lag", lag)
        if delays is not None:
            if isinstance(delays, (jax.Array, jax.core.Tracer)):
                delays = v.vector("delays", delays, n, allow_scalar=True)
                if v.is_concrete(delays) and np.any(np.asarray(delays) < 0):
                    raise ValueError(f"`delays` must be >= 0, got minimum {float(np.min(delays))}")
                delays = jnp.broadcast_to(delays, (n,))
            else:
                # Delays given as numbers stay a NumPy array, so that they remain concrete
                # inside jit: the delay integrator needs their values to size its history.
                try:
                    d = np.asarray(delays, dtype=float)
                except (TypeError, ValueError) as err:
                    raise TypeError(f"`delays` must be array-like, got {v.describe(delays)}") from err
                if d.ndim > 1 or (d.ndim == 1 and d.shape[0] != n):
                    raise ValueError(f"`delays` must be a scalar or a 1-D array of length {n}, got shape {d.shape}")
                if not np.all(np.isfinite(d)):
                    raise ValueError(f"`delays` must be finite, got {v.describe(d)}")
                if np.any(d < 0):
                    raise ValueError(f"`delays` must be >= 0, got minimum {float(np.min(d))}")
                delays = np.broadcast_to(d, (n,)).copy()
        self.delays = delays
        if drive is not None and not isinstance(drive, Drive):
            drive = Drive(drive, drive_gain, drive_weights, drive_response)
        if drive is not None and drive.weights is not None and drive.weights.shape[0] != n:
            raise ValueError(f"`drive_weights` must have length {n}, got {v.describe(drive.weights)}")
        self.drive = drive
        if noise is not None:
            noise = v.vector("noise", noise, n, allow_scalar=True)
            if v.is_concrete(noise) and np.any(np.asarray(noise) < 0):
                raise ValueError(f"`noise` (σ) must be >= 0, got minimum {float(np.min(noise))}")
        self.noise = noise
        if mass is None and damping is not None:
            raise ValueError("`damping` needs `mass` (the second-order model); got mass=None")
        if mass is not None:
            mass = v.vector("mass", mass, n, allow_scalar=True)
            if v.is_concrete(mass) and np.any(np.asarray(mass) <= 0):
                raise ValueError(f"`mass` must be > 0, got minimum {float(np.min(mass))}")
            damping = v.vector("damping", 1.0 if damping is None else damping, n, allow_scalar=True)
            if v.is_concrete(damping) and np.any(np.asarray(damping) < 0):
                raise ValueError(f"`damping` must be >= 0, got minimum {float(np.min(damping))}")
        self.mass, self.damping = mass, damping

    @property
    def n(self) -> int:
        """Number of oscillators N."""
        return self.omega.shape[0]

    @property
    def second_order(self) -> bool:
        return self.mass is not None

    def coupling_term(self, theta, cos_src=None, sin_src=None):
        """Σ_j K_ij sin(θ_j^src − θ_i − α), shape (N,); sources default to θ itself (no delay)."""
        cos_t, sin_t = jnp.cos(theta), jnp.sin(theta)
        if cos_src is None:
            cos_src, sin_src = cos_t, sin_t
        C, S = self.coupling.aggregate(cos_src, sin_src)
        if self.lag is not None:
            cos_t, sin_t = jnp.cos(theta + self.lag), jnp.sin(theta + self.lag)
        return cos_t * S - sin_t * C

    def drift(self, t, theta, cos_src=None, sin_src=None):
        """Deterministic right-hand side of the phase equation (the 'force' for second order)."""
        out = self.omega + self.coupling_term(theta, cos_src, sin_src)
        if self.field is not None:
            out = out + self.field * jnp.sin(theta)
        if self.drive is not None:
            out = out + self.drive(t, theta)
        return out

    def state_derivative(self, y, force):
        """dy/dt given the phase equation's force: `force` itself (first order) or, for the
        second-order model m θ̈ + γ θ̇ = force, [ν, (force − γ ν)/m] for y = [θ, ν] (2N,)."""
        if self.second_order:
            nu = y[self.n :]
            return jnp.concatenate([nu, (force - self.damping * nu) / self.mass])
        return force

    def vector_field(self, t, y, args=None):
        """diffrax-style f(t, y, args); y = θ (N,) or, for second order, [θ, ν] (2N,)."""
        theta = y[: self.n] if self.second_order else y
        return self.state_derivative(y, self.drift(t, theta))

    def diffusion_scale(self):
        """Diagonal diffusion σ matching the state: (N,) or [0, σ/m] (2N,) for second order."""
        sigma = jnp.broadcast_to(self.noise, (self.n,))
        if self.second_order:
            return jnp.concatenate([jnp.zeros_like(sigma), sigma / self.mass])
        return sigma
