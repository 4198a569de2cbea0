r"""Mean-field theory of the Kuramoto transition (N → ∞).

Critical coupling K_c = 2 / (π g(0)) for a symmetric unimodal frequency density g.
Stationary order parameter from Kuramoto's self-consistency equation

    r = K r ∫_{−π/2}^{π/2} cos²φ g(K r sin φ) dφ,

which for the Lorentzian (half-width γ) gives r = sqrt(1 − K_c/K) with K_c = 2γ,
and for the uniform law on [−γ, γ] has a first-order jump to r = π/4 at K_c = 4γ/π.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from scipy import integrate, optimize

from . import _validate

LAWS = ("gaussian", "lorentzian", "uniform")
"""Names of the frequency laws g(ω) (every study and sampler takes one of these; 'normal' and
'cauchy' are accepted as aliases of the first two)."""


def _check_law(law: str) -> str:
    key = law.lower()
    aliases = {"normal": "gaussian", "cauchy": "lorentzian"}
    key = aliases.get(key, key)
    if key not in LAWS:
        raise ValueError(f"`law` must be one of {LAWS} (or 'normal', 'cauchy'), got {law!r}")
    return key


def density(omega, law: str, scale: float = 1.0):
    """g(ω) centred at 0: Gaussian std `scale`, Lorentzian half-width `scale`, uniform half-width `scale`."""
    law = _check_law(law)
    if not scale > 0:
        raise ValueError(f"`scale` must be > 0, got {scale}")
    w = np.asarray(omega, dtype=float)
    if law == "gaussian":
        return np.exp(-0.5 * (w / scale) ** 2) / (scale * math.sqrt(2 * math.pi))
    if law == "lorentzian":
        return scale / (math.pi * (w * w + scale * scale))
    return np.where(np.abs(w) <= scale, 0.5 / scale, 0.0)


def critical_coupling(law: str, scale: float = 1.0) -> float:
    """K_c = 2 / (π g(0)): 2σ·sqrt(2π)/π (Gaussian σ), 2γ (Lorentzian), 4γ/π (uniform ±γ)."""
    return float(2.0 / (math.pi * density(0.0, law, scale)))


def sample_frequencies(key, n: int, law: str, scale: float = 1.0, loc: float = 0.0, shape=None, *,
                       standardise: bool = False):
    """Draw ω from the law: the one frequency sampler of the toolkit.

    Args:
        key: PRNG key (typed `jax.random.key` or legacy `jax.random.PRNGKey`).
        n: number of oscillators N.
        law: one of `LAWS`: "gaussian" (std `scale`), "lorentzian" (half-width `scale`) or
            "uniform" (on [loc − scale, loc + scale]).
        scale: spread of the law.
        loc: centre of the law.
        shape: leading batch shape (default none).
        standardise: rescale every sample (along its last axis) to sample mean `loc` and sample
            standard deviation `scale` (removes the sample-to-sample fluctuations of the first
            two moments; the proportional-coupling protocol uses it with loc = 0, scale = 1).

    Returns:
        ω of shape (n,) or `shape` + (n,), in the default float dtype.
    """
    law = _check_law(law)
    key = _validate.prng_key("key", key)
    full = (n,) if shape is None else tuple(shape) + (n,)
    if law == "gaussian":
        x = jax.random.normal(key, full)
    elif law == "lorentzian":
        x = jax.random.cauchy(key, full)
    else:
        x = jax.random.uniform(key, full, minval=-1.0, maxval=1.0)
    if standardise:
        if n < 2:
            raise ValueError(f"`n` must be >= 2 to standardise a sample, got {n}")
        x = x - jnp.mean(x, axis=-1, keepdims=True)
        x = x / jnp.std(x, axis=-1, keepdims=True)
    return loc + scale * x


def deterministic_frequencies(n: int, law: str, scale: float = 1.0, loc: float = 0.0) -> np.ndarray:
    """Quantile ('regular') sample ω_i = G⁻¹((i − ½)/n): removes sampling disorder from finite-N checks."""
    law = _check_law(law)
    q = (np.arange(n) + 0.5) / n
    from scipy import stats

    if law == "gaussian":
        x = stats.norm.ppf(q)
    elif law == "lorentzian":
        x = stats.cauchy.ppf(q)
    else:
        x = 2 * q - 1
    return loc + scale * x


def _self_consistency_rhs(r: float, K: float, law: str, scale: float) -> float:
    """K ∫_{−π/2}^{π/2} cos²φ g(K r sin φ) dφ, i.e. RHS(r)/r of the self-consistency equation."""
    if law == "uniform":
        # g = 1/(2γ) on |ω| ≤ γ: the integral runs over |sin φ| ≤ γ/(K r), in closed form.
        x = scale / (K * r)
        phi0 = math.pi / 2 if x >= 1 else math.asin(x)
        return K / (2 * scale) * (phi0 + math.sin(phi0) * math.cos(phi0))
    f = lambda phi: np.cos(phi) ** 2 * density(K * r * np.sin(phi), law, scale)
    val, _ = integrate.quad(f, -math.pi / 2, math.pi / 2, epsabs=1e-13, epsrel=1e-12, limit=200)
    return K * val


def stationary_order_parameter(K, law: str, scale: float = 1.0) -> np.ndarray:
    """The largest stationary r(K) solving the self-consistency equation (0 below onset).

    K: scalar or array. Lorentzian uses the closed form. For the uniform law the
    branch starting at r = π/4 at K_c is returned (the first-order jump).
    """
    law = _check_law(law)
    Ks = np.atleast_1d(np.asarray(K, dtype=float))
    out = np.zeros_like(Ks)
    Kc = critical_coupling(law, scale)
    for idx, k in enumerate(Ks):
        if k <= 0:
            continue
        if law == "lorentzian":
            out[idx] = math.sqrt(1.0 - Kc / k) if k > Kc else 0.0
            continue
        # h(r) = RHS(r)/r − 1 with RHS(r)/r = K ∫ cos²φ g(K r sin φ) dφ; the largest root wins.
        h = lambda r: _self_consistency_rhs(r, k, law, scale) - 1.0
        # For a symmetric unimodal g, h is non-increasing in r: one bracket, one root (fast path).
        h_lo, h_hi = h(1e-6), h(1.0)
        if h_lo <= 0.0:
            continue
        if h_hi < 0.0:
            out[idx] = optimize.brentq(h, 1e-6, 1.0, xtol=1e-14, rtol=1e-12)
            continue
        grid = np.linspace(1e-6, 1.0, 400)
        vals = np.array([h(r) for r in grid])
        sign = np.where(np.sign(vals[:-1]) != np.sign(vals[1:]))[0]
        if sign.size == 0:
            out[idx] = 0.0
            continue
        j = sign[-1]
        out[idx] = optimize.brentq(h, grid[j], grid[j + 1], xtol=1e-14, rtol=1e-12)
    return out if np.ndim(K) else out[0]


# Reductions of the models beyond the phase-only core (defined next to their models).
from ._higher_order import triadic_stationary_order_parameter  # noqa: E402
from ._ott_antonsen import ott_antonsen, ott_antonsen_relaxation  # noqa: E402

__all__ = [
    "LAWS",
    "critical_coupling",
    "density",
    "deterministic_frequencies",
    "ott_antonsen",
    "ott_antonsen_relaxation",
    "sample_frequencies",
    "stationary_order_parameter",
    "triadic_stationary_order_parameter",
]
