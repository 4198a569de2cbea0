r"""Shared protocol of the proportional-coupling studies: disorder, batched R̄, read-outs.

Protocol (seed paper 002, Supplemental Material I):
* natural frequencies drawn from a law (normal by default) and normalised to
  sample mean 0 and sample variance 1; initial phases uniform on [0, 2π);
* K_ij from a budget scheme (`kuramoto_jax.schemes`), Σ_{i≠j} K_ij = K (N − 1);
* integrate with RK4 from t = 0 to t1; R̄ = time average of R(t) over the
  second half [t1/2, t1], sampled every `save_every`;
* average R̄ over realisations of (ω, θ0).

Coupling strengths are quoted as K/K_c with K_c = 2/(π g(0)) = 2·sqrt(2π)/π ≈ 1.596,
the mean-field critical coupling of the unit-variance Gaussian
(`kj.theory.critical_coupling("gaussian", 1.0)`), for every law: all laws are
normalised to unit variance, so K/K_c is the same physical budget in every run.

Batching: a scheme is built once per (realisation, p) at unit strength, M = scheme(ω, 1, p);
every K of a sweep then uses K·M. `kj.Scaled` carries the factor K outside the matrix,
so that under `vmap` over K the coupling stays one shared matrix and the whole K
sweep of a realisation is one (N, N) @ (N, 2·num_K) product per RHS evaluation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj

K_C = float(kj.theory.critical_coupling("gaussian", 1.0))
LAWS = ("gaussian", "lorentzian", "uniform")
SYNC_LEVEL = 0.9


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
        if not self.stop > self.start:
            raise ValueError(f"k_grid.stop must be > k_grid.start = {self.start}, got {self.stop}")
        return np.linspace(self.start, self.stop, self.num)


def sample_omega(key, n: int, law: str = "gaussian") -> jax.Array:
    """ω of length n from `law`, normalised to sample mean 0 and sample variance 1."""
    if law not in LAWS:
        raise ValueError(f"`law` must be one of {list(LAWS)}, got {law!r}")
    w = kj.theory.sample_frequencies(key, n, law, 1.0)
    w = w - jnp.mean(w)
    return w / jnp.std(w)


def realisations(seed: int, count: int, n: int, law: str = "gaussian", stream: int = 0):
    """`count` independent (ω, θ0, ω') triples, each (count, n); deterministic in (seed, stream).

    ω' is an independent frequency vector of the same law (for partially correlated couplings).
    """
    key = jax.random.fold_in(jax.random.key(seed), stream)
    k_w, k_t, k_o = jax.random.split(key, 3)
    omega = jax.vmap(lambda k: sample_omega(k, n, law))(jax.random.split(k_w, count))
    other = jax.vmap(lambda k: sample_omega(k, n, law))(jax.random.split(k_o, count))
    theta0 = jax.random.uniform(k_t, (count, n), minval=0.0, maxval=2 * np.pi)
    return omega, theta0, other


def save_times(integ: Integration) -> np.ndarray:
    """Sample times of R(t) over [t1/2, t1], on the RK4 step grid."""
    steps = int(round(integ.t1 / integ.dt))
    stride = max(1, int(round(integ.save_every / integ.dt)))
    first = steps // 2
    idx = np.arange(first, steps + 1, stride)
    return idx * integ.dt


def _order(theta):
    return kj.order_parameter(theta)[0]


def averaged_R(omega, base, strengths, theta0, integ: Integration, *, final_state: bool = False):
    """Time-averaged R̄ of one disorder realisation for many coupling strengths.

    Args:
        omega: (N,) natural frequencies.
        base: (N, N) coupling matrix at unit strength (a scheme with K = 1).
        strengths: (G,) absolute coupling strengths K (not K/K_c).
        theta0: (N,) or (G, N) initial phases.
        final_state: also return the phases at t1, (G, N).

    Returns:
        R̄ of shape (G,) [and θ(t1) of shape (G, N)].
    """
    ts_np = save_times(integ)
    ts, t1 = jnp.asarray(ts_np), float(ts_np[-1])
    coupling = kj.Dense(base)

    def one(k, th0):
        model = kj.Kuramoto(omega, kj.Scaled(k, coupling))
        obs = (lambda th: (_order(th), th)) if final_state else _order
        out = kj.simulate(model, th0, t1=t1, dt=integ.dt, ts=ts, observe=obs, solver="rk4").observables
        if final_state:
            return jnp.mean(out[0]), out[1][-1]
        return jnp.mean(out)

    th_axis = 0 if jnp.ndim(theta0) == 2 else None
    return jax.vmap(one, in_axes=(0, th_axis))(strengths, theta0)


def scheme_matrix(omega, other, p, rho=1.0):
    """Unit-budget coupling matrix M (K = 1) of the (partially correlated) proportional scheme."""
    from kuramoto_jax import schemes

    return schemes.partially_correlated(omega, other, 1.0, p, rho)


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


def fmt(x: float) -> str:
    return "none" if not np.isfinite(x) else f"{x:.2f}"


def tag(x: float) -> str:
    """Metric-name friendly number: 1.5 -> '1p5', 2.0 -> '2'."""
    s = f"{x:g}".replace(".", "p").replace("-", "m")
    return s


# ----------------------------------------------------------------------------- batched sweeps


@functools.lru_cache(maxsize=None)
def make_sweep(t1: float, dt: float, save_every: float):
    """Jitted sweep (p (P,), ρ (P,), ω, θ0, ω' (M, N), K/K_c (G,)) ↦ R̄ of shape (P, M, G).

    Scheme P: partially correlated proportional coupling with exponent p and mixing ρ
    (ρ = 1: `schemes.proportional`; p = 0: uniform). One compilation per shape; every
    (scheme, realisation, K) system of the sweep runs in the same batched solve.
    """
    integ = Integration(t1=t1, dt=dt, save_every=save_every)

    def per_real(p, rho, omega, theta0, other, k_ratios):
        return averaged_R(omega, scheme_matrix(omega, other, p, rho), k_ratios * K_C, theta0, integ)

    over_real = jax.vmap(per_real, in_axes=(None, None, 0, 0, 0, None))
    return jax.jit(jax.vmap(over_real, in_axes=(0, 0, None, None, None, None)))


def sweep(integ: Integration, ps, rhos, omega, theta0, other, k_ratios) -> np.ndarray:
    """R̄ (P, M, G) for schemes (ps[i], rhos[i]), realisations (ω, θ0, ω') and K/K_c values."""
    f = make_sweep(float(integ.t1), float(integ.dt), float(integ.save_every))
    ps = jnp.asarray(ps, dtype=omega.dtype)
    rhos = jnp.broadcast_to(jnp.asarray(rhos, dtype=omega.dtype), ps.shape)
    return np.asarray(f(ps, rhos, omega, theta0, other, jnp.asarray(k_ratios, dtype=omega.dtype)))
