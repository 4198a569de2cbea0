r"""Quenched disorder of the global-synchrony tasks (paper Sec. III A).

Case I:   ω ~ U(−1, 1).
Case II:  ω ~ U(−1, 1), b ~ U(−1, 1) (external field b_i sin θ_i).
Case III: ω ~ U(2, 4), delays τ ~ NegativeBinomial(total_count 15, p 0.5)
          clipped at 40, counted in Euler steps; the delay belongs to the
          sender j (θ_j(t − τ_j) in the coupling sum).

The MLP sees standardised features x = (raw − centre) / scale with constants
of the law (not of the sample), so a feature means the same thing in every
graph and at every n.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .._validate import one_of

CASES = ("I", "II", "III")
"""The paper's disorder cases: I (frequencies ω), II (ω and fields b), III (ω and delays τ)."""

NB_TOTAL_COUNT = 15.0
NB_PROBS = 0.5
MAX_DELAY_STEPS = 40
"""Largest delay, in Euler steps, drawn in case III (the delay buffer's length)."""


class Disorder(NamedTuple):
    """One sample of n oscillators' intrinsic features.

    omega: (n,) natural frequencies ω_i.
    field: (n,) field strengths b_i, or None.
    delay_steps: (n,) integer delays τ_j in Euler steps, or None.
    raw: (n, d) the disorder variables in physical units ([ω], [ω, b] or [ω, τ]).
    features: (n, d) standardised features fed to the coupling function.
    """

    omega: jax.Array
    field: jax.Array | None
    delay_steps: jax.Array | None
    raw: jax.Array
    features: jax.Array


def _check_case(case):
    one_of("case", case, CASES)


def feature_names(case: str) -> tuple[str, ...]:
    """Names of the per-oscillator features of a disorder case: ("omega",), ("omega", "b") or ("omega", "tau")."""
    _check_case(case)
    return {"I": ("omega",), "II": ("omega", "b"), "III": ("omega", "tau")}[case]


def standardise(case: str, raw):
    """Map raw disorder (n, d) to the MLP's features (n, d) with the law's constants."""
    _check_case(case)
    raw = jnp.asarray(raw)
    if case == "III":
        centre = jnp.asarray([3.0, NB_TOTAL_COUNT], raw.dtype)
        scale = jnp.asarray([1.0, 5.0], raw.dtype)  # U(2,4) half-width; NB(15, ½) std ≈ 5.5
        return (raw - centre) / scale
    return raw  # U(−1, 1) is already centred and of unit scale


def negative_binomial(key, shape, total_count: float = NB_TOTAL_COUNT, probs: float = NB_PROBS):
    """Samples of NB(total_count, probs) as a gamma–Poisson mixture (mean r p / (1 − p)).

    Same parametrisation as torch.distributions.NegativeBinomial: the number
    of successes (probability `probs`) before `total_count` failures.
    """
    k1, k2 = jax.random.split(key)
    rate = jax.random.gamma(k1, total_count, shape) * (probs / (1.0 - probs))
    return jax.random.poisson(k2, rate, shape)


def from_raw(case: str, raw) -> Disorder:
    """Rebuild a `Disorder` from raw disorder variables (n, d)."""
    _check_case(case)
    raw = jnp.asarray(raw)
    omega = raw[:, 0]
    field = raw[:, 1] if case == "II" else None
    delays = raw[:, 1].astype(jnp.int32) if case == "III" else None
    return Disorder(omega, field, delays, raw, standardise(case, raw))


def sample_disorder(key, case: str, n: int, dtype=None) -> Disorder:
    """Draw n oscillators' disorder of Case I, II or III (see module docstring)."""
    _check_case(case)
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"`n` must be a positive int, got {n!r}")
    dtype = dtype or jnp.result_type(float)
    k1, k2 = jax.random.split(key)
    if case == "I":
        raw = jax.random.uniform(k1, (n, 1), dtype, -1.0, 1.0)
    elif case == "II":
        raw = jax.random.uniform(k1, (n, 2), dtype, -1.0, 1.0)
    else:
        omega = jax.random.uniform(k1, (n,), dtype, 2.0, 4.0)
        tau = jnp.minimum(negative_binomial(k2, (n,)), MAX_DELAY_STEPS).astype(dtype)
        raw = jnp.stack([omega, tau], -1)
    return from_raw(case, raw)
