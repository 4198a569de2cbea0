r"""KuraNet's dynamics through the core engine (reference: Euler, dt = 0.1).

    dθ_i/dt = ω_i + Σ_j K_ij sin(θ_j(t − τ_j) − θ_i) + b_i sin θ_i

with K = K_μ(X) from `coupling_matrix` (no implicit 1/n: the normalisation
carries it). The loss window is the `window_steps` states after
`burn_in_steps` Euler steps.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj

from ._disorder import MAX_DELAY_STEPS


def window_times(dt: float, burn_in_steps: int, window_steps: int, dtype=None):
    """Save times (window_steps,) of the states after the burn-in: t = (burn_in + 1 … burn_in + window)·dt."""
    # NumPy (not jnp): the delay integrator needs concrete save times even under jit.
    steps = np.arange(burn_in_steps + 1, burn_in_steps + window_steps + 1)
    return (steps * dt).astype(dtype or jnp.result_type(float))


def simulate_window(K, omega, theta0, *, dt: float = 0.1, burn_in_steps: int = 100, window_steps: int = 50,
                    field=None, delay_steps=None, max_delay_steps: int = MAX_DELAY_STEPS, solver: str = "euler",
                    noise=None, key=None, detach_burn_in: bool = False):
    """Phases θ (window_steps, n) over the loss window of the network (K, ω, b, τ).

    K: (n, n); omega, theta0: (n,); field: (n,) or None; delay_steps: (n,)
    integer sender delays in steps, or None. Usable under jit/vmap/grad (traced
    delays are bounded by `max_delay_steps`). noise: σ of additive white noise
    (dθ_i = … dt + σ dW_i, Euler–Maruyama; may be traced) with its `key`, or None.
    detach_burn_in: gradients flow only through the window's steps, from the state after the
    burn-in (and, with delays, its buffered past) taken as a constant, as the reference code
    ran the burn-in without gradients (`simulate(gradient_from=...)`).
    """
    if not (isinstance(burn_in_steps, (int, np.integer)) and burn_in_steps >= 0):
        raise ValueError(f"`burn_in_steps` must be an int >= 0, got {burn_in_steps!r}")
    if not (isinstance(window_steps, (int, np.integer)) and window_steps >= 1):
        raise ValueError(f"`window_steps` must be an int >= 1, got {window_steps!r}")
    delays = None if delay_steps is None else jnp.asarray(delay_steps).astype(jnp.asarray(omega).dtype) * dt
    model = kj.Kuramoto(omega, kj.Dense(K), field=field, delays=delays, noise=noise)
    ts = window_times(dt, burn_in_steps, window_steps, np.dtype(jnp.asarray(omega).dtype))
    total = burn_in_steps + window_steps
    # Without delays this fixed-step solve of known length runs as a lax.scan whose
    # reverse pass stores every step (150 × n floats here), the fastest gradient.
    sol = kj.simulate(model, theta0, t1=float(total * dt), dt=dt, ts=ts, solver=solver,
                      max_delay_steps=None if delay_steps is None else int(max_delay_steps), key=key,
                      gradient_from=float(burn_in_steps * dt) if detach_burn_in and burn_in_steps else None)
    return sol.theta
