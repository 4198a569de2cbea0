r"""Basin stability of synchrony and the basins of twisted states on rings.

Basin stability (Menck, Heitzig, Marwan & Kurths 2013): the probability that a random
initial condition θ_0 ~ U[0, 2π)^N ends on a given attractor, estimated as the fraction
S_B of `samples` trajectories (standard error sqrt(S_B (1 − S_B) / samples)). Here the
attractor is a locked state θ* (by default the synchronous one of `locked_state`), and a
trajectory has reached it when the phases at t1 match θ* up to a common shift:

    d = 1 − |(1/N) Σ_j e^{i(θ_j(t1) − θ*_j)}| < tol.

Twisted states (Wiley, Strogatz & Girvan 2006): on a ring of N identical oscillators
coupled to their r nearest neighbours on each side, θ_j = 2π q j / N is an equilibrium for
every winding number q; for r = 1 its Jacobian has the eigenvalues
−2K cos(2πq/N)(1 − cos(2πm/N)), m = 0…N−1, so it is stable iff |q| < N/4. The basin
of each q is estimated from the winding numbers of the end states of random trajectories.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate as v
from .._coupling import Sparse
from .._model import Kuramoto
from .._solve import simulate
from ..parallel import batch_map
from . import _frame as fr


class BasinStability(NamedTuple):
    """fraction: S_B; stderr: its binomial standard error; reached: (samples,) bool; distance: (samples,) d."""

    fraction: float
    stderr: float
    reached: np.ndarray
    distance: np.ndarray


def _uniform_phases(key, samples: int, n: int, dtype):
    return jax.random.uniform(key, (samples, n), dtype, 0.0, 2 * jnp.pi)


def _final_phases(model, theta0s, t1, dt, solver, devices):
    fn = lambda th: simulate(model, th, t1=t1, dt=dt, solver=solver).theta[-1]
    return np.asarray(batch_map(fn, theta0s, devices=devices, gather=True))


def basin_stability(model: Kuramoto, key, *, samples: int = 100, t1: float = 100.0, dt: float = 0.1,
                    target=None, tol: float = 1e-3, solver: str = "rk4", devices=None) -> BasinStability:
    r"""Fraction of uniformly random initial phases whose trajectory reaches the locked state `target`.

    Args:
        model: a first-order deterministic `Kuramoto` model.
        key: PRNG key of the initial phases.
        samples: number of initial conditions (batched with `batch_map` over `devices`).
        t1: integration time of each trajectory.
        dt: step of each trajectory.
        solver: solver of each trajectory (see `simulate`).
        target: (N,) phases of the attractor (default: `locked_state(model).theta`).
        tol: threshold on d = 1 − |mean_j e^{i(θ_j − θ*_j)}|.

    Returns:
        `BasinStability` (fraction, stderr, reached (samples,), distance (samples,)).
    """
    from ._locked import locked_state

    model = fr.check_model("model", model)
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise ValueError(f"`samples` must be a positive int, got {samples!r}")
    target = locked_state(model).theta if target is None else v.vector("target", target, model.n)
    theta0s = _uniform_phases(key, int(samples), model.n, fr.dtype_of(model))
    final = _final_phases(model, theta0s, t1, dt, solver, devices)
    diff = final - np.asarray(target)[None]
    distance = 1.0 - np.abs(np.mean(np.exp(1j * diff), axis=1))
    reached = distance < tol
    f = float(np.mean(reached))
    return BasinStability(f, float(np.sqrt(f * (1 - f) / samples)), reached, distance)


def ring_model(n: int, K=1.0, *, neighbours: int = 1, omega=None) -> Kuramoto:
    """Identical oscillators (ω = 0 unless given) on a ring, each coupled with weight K to its
    `neighbours` nearest neighbours on either side (a `Sparse` coupling)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 3:
        raise ValueError(f"`n` must be an int >= 3, got {n!r}")
    if isinstance(neighbours, bool) or not isinstance(neighbours, (int, np.integer)) or not 1 <= neighbours < n / 2:
        raise ValueError(f"`neighbours` must be an int in [1, n/2), got {neighbours!r}")
    i = np.arange(n)
    edges = np.concatenate([np.stack([(i + d) % n, i], 1) for d in range(1, neighbours + 1)])
    coupling = Sparse.from_edges(edges, K, n, symmetric=True)
    omega = jnp.zeros((n,)) if omega is None else omega
    return Kuramoto(omega, coupling)


def twisted_state(n: int, q: int) -> jax.Array:
    """θ_j = 2π q j / N, shape (N,): the q-twisted state of a ring."""
    return 2 * jnp.pi * q * jnp.arange(n) / n


def winding_number(theta) -> jax.Array:
    """q = (1/2π) Σ_j wrap(θ_{j+1} − θ_j) around the ring (wrap to (−π, π]); theta (…, N) → (…,) ints."""
    theta = jnp.asarray(theta)
    d = jnp.roll(theta, -1, axis=-1) - theta
    wrapped = jnp.arctan2(jnp.sin(d), jnp.cos(d))
    return jnp.round(jnp.sum(wrapped, -1) / (2 * jnp.pi)).astype(int)


def twisted_state_basins(n: int, key, *, samples: int = 100, K=1.0, neighbours: int = 1, t1: float = 200.0,
                         dt: float = 0.1, tol: float = 1e-3, devices=None):
    r"""Basin sizes of the q-twisted states of a ring of identical oscillators.

    Returns a dict {q: fraction of the `samples` random initial conditions ending at the
    q-twisted state}; trajectories that have not settled on a twisted state by t1 (all
    neighbour differences within `tol` of 2πq/N) are counted under the key None.
    """
    model = ring_model(n, K, neighbours=neighbours)
    theta0s = _uniform_phases(key, int(samples), n, fr.dtype_of(model))
    final = _final_phases(model, theta0s, t1, dt, "rk4", devices)
    q = np.asarray(winding_number(final))
    d = np.angle(np.exp(1j * (np.roll(final, -1, 1) - final)))
    settled = np.max(np.abs(d - 2 * np.pi * q[:, None] / n), axis=1) < tol
    out: dict = {}
    for qi, ok in zip(q, settled):
        key_ = int(qi) if ok else None
        out[key_] = out.get(key_, 0) + 1.0 / samples
    return dict(sorted(out.items(), key=lambda kv: (kv[0] is None, kv[0] if kv[0] is not None else 0)))
