r"""The proportional-coupling protocol: disorder realisations, batched K sweeps of R̄, read-outs.

Protocol (Pando et al., Supplemental Material I):

* natural frequencies drawn from a law (`kj.theory.LAWS`, normal by default) and
  standardised to sample mean 0 and sample variance 1; initial phases uniform on [0, 2π);
* K_ij from a budget scheme (`kuramoto_jax.schemes`), Σ_{i≠j} K_ij = K (N − 1);
* integrate with RK4 from t = 0 to t1; R̄ = time average of R(t) over the second
  half [t1/2, t1], sampled every `save_every`;
* average R̄ over realisations of (ω, θ0).

Coupling strengths are quoted as k = K/K_c with K_c = 2/(π g(0)) = 2·sqrt(2π)/π ≈ 1.596,
the mean-field critical coupling of the unit-variance Gaussian
(`kj.theory.critical_coupling("gaussian", 1.0)`), for every law: all laws are
standardised to unit variance, so K/K_c is the same physical budget in every run.

Batching: a scheme is built once per (exponent p, realisation) at unit strength,
M = scheme(ω, 1, p); every K of a sweep then uses K·M through `kj.Scaled`, so under
`vmap` over K the coupling stays one shared matrix and the K sweep of a realisation
is one (N, N) @ (N, 2·G) product per right-hand-side evaluation. The (p, realisation)
pairs are the batch axis spread over devices by `kuramoto_jax.parallel.batch_map`
(inside a run: the run's devices).

    omega, theta0, other = realisations(kj.stream_key(seed, "realisations"), M, N)
    R = order_parameter_sweep([0.0, 1.0], 1.0, omega, theta0, other, k_ratios, Integration())  # (2, M, G)
    k_sync(k_ratios, R.mean(1)[1])
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from . import _validate, parallel, schemes, theory
from ._coupling import Dense, Scaled
from ._model import Kuramoto
from ._observables import order_parameter
from ._solve import simulate
from ._streams import stream_key

__all__ = [
    "K_C",
    "SYNC_LEVEL",
    "Integration",
    "KGrid",
    "averaged_order_parameter",
    "best_exponent",
    "bimodality_coefficient",
    "coupling_matrix",
    "crossing",
    "k_sync",
    "order_parameter_sweep",
    "pruned_sweep",
    "ramp_sweep",
    "realisations",
    "save_times",
    "slope_at",
]

K_C = float(theory.critical_coupling("gaussian", 1.0))
"""K_c = 2·sqrt(2π)/π ≈ 1.596 of the unit-variance Gaussian: the unit of every K/K_c."""

SYNC_LEVEL = 0.9
"""R̄ at which a network counts as synchronised (`k_sync`)."""


@dataclass
class Integration:
    """Time integration and averaging window (time units of 1/σ_ω)."""

    t1: float = field(default=100.0, metadata={"gt": 0, "help": "end time; R is averaged over [t1/2, t1]"})
    dt: float = field(default=0.1, metadata={"gt": 0, "help": "RK4 step"})
    save_every: float = field(default=0.5, metadata={"gt": 0, "help": "spacing of the R(t) samples averaged"})


@dataclass
class KGrid:
    """Grid of normalised couplings K/K_c."""

    start: float = field(default=0.1, metadata={"ge": 0, "help": "smallest K/K_c"})
    stop: float = field(default=3.0, metadata={"gt": 0, "help": "largest K/K_c"})
    num: int = field(default=30, metadata={"ge": 2, "help": "number of K values"})

    def values(self) -> np.ndarray:
        """(num,) K/K_c values, evenly spaced from `start` to `stop`."""
        if not self.stop > self.start:
            raise ValueError(f"k_grid.stop must be > k_grid.start = {self.start}, got {self.stop}")
        return np.linspace(self.start, self.stop, self.num)


def _keys(key, purpose: str, count: int):
    return jnp.stack([stream_key(key, purpose, i) for i in range(count)])


def realisations(key, count: int, n: int, law: str = "gaussian"):
    """`count` independent disorder realisations (ω, θ0, ω'), each of shape (count, n).

    Realisation i uses the streams `kj.stream_key(key, "omega", i)`, `(key, "theta0", i)` and
    `(key, "omega_other", i)`, so it does not depend on `count`. ω and ω' are standardised
    draws of `law` (sample mean 0, variance 1); ω' is an independent frequency vector for the
    partially correlated couplings; θ0 is uniform on [0, 2π).

    Args:
        key: PRNG key (typed or legacy).
        count: number of realisations M ≥ 1.
        n: number of oscillators N ≥ 2.
        law: frequency law, one of `kj.theory.LAWS`.

    Returns:
        (ω, θ0, ω'), each (count, n).
    """
    key = _validate.prng_key("key", key)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"`count` must be an int >= 1, got {count!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"`n` must be an int >= 2, got {n!r}")
    draw = jax.vmap(lambda k: theory.sample_frequencies(k, int(n), law, standardise=True))
    omega, other = draw(_keys(key, "omega", count)), draw(_keys(key, "omega_other", count))
    theta0 = jax.vmap(lambda k: jax.random.uniform(k, (int(n),), minval=0.0, maxval=2 * math.pi))(
        _keys(key, "theta0", count))
    return omega, theta0, other


def save_times(integration: Integration) -> np.ndarray:
    """Sample times of R(t) over [t1/2, t1], on the RK4 step grid."""
    steps = int(round(integration.t1 / integration.dt))
    stride = max(1, int(round(integration.save_every / integration.dt)))
    idx = np.arange(steps // 2, steps + 1, stride)
    return idx * integration.dt


def coupling_matrix(omega, other, p, rho=1.0):
    """Unit-budget (K = 1) coupling matrix (N, N) of the partially correlated proportional scheme
    (`schemes.partially_correlated`; ρ = 1 is `schemes.proportional`, p = 0 uniform)."""
    return schemes.partially_correlated(omega, other, 1.0, p, rho)


def averaged_order_parameter(omega, base, strengths, theta0, integration: Integration):
    """Time-averaged R̄ of one disorder realisation for many coupling strengths (traceable).

    Args:
        omega: (N,) natural frequencies.
        base: (N, N) coupling matrix at unit strength (a scheme with K = 1).
        strengths: (G,) absolute coupling strengths K (not K/K_c).
        theta0: (N,) initial phases.
        integration: time integration and averaging window.

    Returns:
        R̄ of shape (G,).
    """
    ts_np = save_times(integration)
    ts, t1 = jnp.asarray(ts_np, dtype=omega.dtype), float(ts_np[-1])
    coupling = Dense(base)

    def one(k):
        model = Kuramoto(omega, Scaled(k, coupling))
        sol = simulate(model, theta0, t1=t1, dt=integration.dt, ts=ts, solver="rk4",
                       observe=lambda th: order_parameter(th)[0])
        return jnp.mean(sol.observables)

    return jax.vmap(one)(strengths)


def _integration_key(integration: Integration) -> tuple[float, float, float]:
    return float(integration.t1), float(integration.dt), float(integration.save_every)


# One function object per integration setting: `batch_map` compiles once per function and shape.
@functools.lru_cache(maxsize=16)
def _sweep_fn(t1: float, dt: float, save_every: float):
    integ = Integration(t1, dt, save_every)

    def one(p, rho, omega, theta0, other, k_ratios):
        return averaged_order_parameter(omega, coupling_matrix(omega, other, p, rho), k_ratios * K_C, theta0, integ)

    return one


@functools.lru_cache(maxsize=16)
def _ramp_fn(t1: float, dt: float, save_every: float):
    from .stability import adiabatic_sweep

    def one(p, omega, theta0, other, stages):
        model = Kuramoto(omega, Dense(coupling_matrix(omega, other, p)))
        return adiabatic_sweep(model, stages * K_C, theta0, t1=t1, dt=dt, save_every=save_every)[0]

    return one


@functools.lru_cache(maxsize=16)
def _pruned_fn(t1: float, dt: float, save_every: float):
    integ = Integration(t1, dt, save_every)

    def one(fraction, p, omega, theta0, other, k_ratio):
        base = schemes.prune(coupling_matrix(omega, other, p), fraction)
        return averaged_order_parameter(omega, base, (k_ratio * K_C)[None], theta0, integ)[0]

    return one


def _pairs(values, omega, theta0, other):
    """Flatten the (value, realisation) grid: each of the outputs has P·M rows, value-major."""
    values = jnp.asarray(values, dtype=omega.dtype)
    P, M = values.shape[0], omega.shape[0]
    tile = lambda x: jnp.tile(x, (P,) + (1,) * (x.ndim - 1))
    return jnp.repeat(values, M, axis=0), tile(omega), tile(theta0), tile(other), P, M


def _check_realisations(omega, theta0, other):
    omega, theta0, other = (jnp.asarray(x) for x in (omega, theta0, other))
    if omega.ndim != 2 or theta0.shape != omega.shape or other.shape != omega.shape:
        raise ValueError("`omega`, `theta0` and `other` must share one shape (M, N) (see `realisations`), got "
                         f"{omega.shape}, {theta0.shape} and {other.shape}")
    return omega, theta0, other


def order_parameter_sweep(ps, rhos, omega, theta0, other, k_ratios, integration: Integration) -> np.ndarray:
    """R̄ for every scheme (p_i, ρ_i), realisation and K/K_c: one batched computation.

    Args:
        ps: (P,) exponents p of the schemes.
        rhos: (P,) mixing parameters ρ (or a scalar for all; 1 = proportional coupling).
        omega: (M, N) frequencies of the realisations.
        theta0: (M, N) initial phases.
        other: (M, N) independent frequencies ω' (used for ρ < 1).
        k_ratios: (G,) couplings K/K_c.
        integration: time integration and averaging window.

    Returns:
        R̄ of shape (P, M, G) (host array).
    """
    omega, theta0, other = _check_realisations(omega, theta0, other)
    ps = jnp.atleast_1d(jnp.asarray(ps, dtype=omega.dtype))
    rhos = jnp.broadcast_to(jnp.asarray(rhos, dtype=omega.dtype), ps.shape)
    p_b, om, th, ot, P, M = _pairs(ps, omega, theta0, other)
    rho_b = jnp.repeat(rhos, M)
    k = jnp.broadcast_to(jnp.asarray(k_ratios, dtype=omega.dtype), (P * M, np.size(k_ratios)))
    R = parallel.batch_map(_sweep_fn(*_integration_key(integration)), p_b, rho_b, om, th, ot, k)
    return np.asarray(R).reshape(P, M, -1)


def ramp_sweep(ps, omega, theta0, other, stages, integration: Integration) -> np.ndarray:
    """R̄ at every stage of an adiabatic K ramp (`kj.stability.adiabatic_sweep`), per p and realisation.

    Args:
        ps: (P,) exponents of the proportional scheme (ρ = 1).
        omega: (M, N) frequencies.
        theta0: (M, N) initial phases of the first stage.
        other: (M, N) independent frequencies (unused at ρ = 1; kept for one realisation format).
        stages: (S,) K/K_c of the stages in order (`kj.stability.ramp_stages`).
        integration: per-stage integration time and averaging window.

    Returns:
        R̄ of shape (P, M, S) (host array).
    """
    omega, theta0, other = _check_realisations(omega, theta0, other)
    p_b, om, th, ot, P, M = _pairs(jnp.atleast_1d(jnp.asarray(ps, dtype=omega.dtype)), omega, theta0, other)
    st = jnp.broadcast_to(jnp.asarray(stages, dtype=omega.dtype), (P * M, np.size(stages)))
    R = parallel.batch_map(_ramp_fn(*_integration_key(integration)), p_b, om, th, ot, st)
    return np.asarray(R).reshape(P, M, -1)


def pruned_sweep(fractions, p, omega, theta0, other, k_ratio, integration: Integration) -> np.ndarray:
    """R̄ at one K/K_c after keeping the strongest fraction f of the pairs (`schemes.prune`).

    Args:
        fractions: (F,) kept fractions in (0, 1].
        p: exponent of the proportional scheme.
        omega: (M, N) frequencies.
        theta0: (M, N) initial phases.
        other: (M, N) independent frequencies (unused at ρ = 1).
        k_ratio: K/K_c of the sweep.
        integration: time integration and averaging window.

    Returns:
        R̄ of shape (F, M) (host array).
    """
    omega, theta0, other = _check_realisations(omega, theta0, other)
    f_b, om, th, ot, F, M = _pairs(jnp.atleast_1d(jnp.asarray(fractions, dtype=omega.dtype)), omega, theta0, other)
    p_b = jnp.full((F * M,), p, dtype=omega.dtype)
    k_b = jnp.full((F * M,), k_ratio, dtype=omega.dtype)
    R = parallel.batch_map(_pruned_fn(*_integration_key(integration)), f_b, p_b, om, th, ot, k_b)
    return np.asarray(R).reshape(F, M)


# ----------------------------------------------------------------------------- read-outs


def k_sync(k_ratios, R_mean, level: float = SYNC_LEVEL) -> float:
    """Smallest K/K_c on the grid with R̄ ≥ level (NaN if none)."""
    k_ratios, R_mean = np.asarray(k_ratios), np.asarray(R_mean)
    hit = np.nonzero(R_mean >= level)[0]
    return float(k_ratios[hit[0]]) if hit.size else float("nan")


def crossing(k_ratios, R_mean, level: float = 0.5) -> float:
    """First K/K_c where R̄ crosses `level` from below, by linear interpolation (NaN if never)."""
    x, y = np.asarray(k_ratios, float), np.asarray(R_mean, float)
    above = np.nonzero(y >= level)[0]
    if not above.size:
        return float("nan")
    i = above[0]
    if i == 0:
        return float(x[0])
    return float(x[i - 1] + (level - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1]))


def slope_at(k_ratios, R_mean, level: float = 0.5) -> float:
    """dR̄/d(K/K_c) on the grid interval where R̄ first reaches `level` (NaN if never or at the first point)."""
    k, R = np.asarray(k_ratios, float), np.asarray(R_mean, float)
    above = np.nonzero(R >= level)[0]
    if not above.size or above[0] == 0:
        return float("nan")
    i = above[0]
    return float((R[i] - R[i - 1]) / (k[i] - k[i - 1]))


def bimodality_coefficient(samples) -> float:
    """Sarle's b = (g² + 1) / (κ + 3(n−1)²/((n−2)(n−3))); b > 5/9 ≈ 0.555 suggests bimodality."""
    x = np.asarray(samples, float)
    n = x.size
    m, s = x.mean(), x.std()
    if n < 4 or s == 0:
        return float("nan")
    g = np.mean((x - m) ** 3) / s**3
    kappa = np.mean((x - m) ** 4) / s**4 - 3.0
    return float((g * g + 1) / (kappa + 3 * (n - 1) ** 2 / ((n - 2) * (n - 3))))


def best_exponent(ps, k_ratios, R_map):
    """Read-outs of a (p, K) map R̄ of shape (P, G).

    Returns:
        (best p per K (G,), R̄ there (G,), k_sync per p (P,), p* (the p with the lowest k_sync;
        the mean of tied p), lowest tied p, highest tied p); NaN for p* when no p synchronises.
    """
    ps, R_map = np.asarray(ps), np.asarray(R_map)
    cols = np.arange(R_map.shape[1])
    arg = np.argmax(R_map, axis=0)
    ks = np.array([k_sync(k_ratios, row) for row in R_map])
    finite = np.isfinite(ks)
    if not finite.any():
        return ps[arg], R_map[arg, cols], ks, float("nan"), float("nan"), float("nan")
    tied = ps[finite & (ks == np.nanmin(ks))]
    return ps[arg], R_map[arg, cols], ks, float(tied.mean()), float(tied.min()), float(tied.max())
