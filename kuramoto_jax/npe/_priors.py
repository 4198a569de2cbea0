"""Priors as numpyro distributions, and the map from a bounded box to ℝ^P.

A uniform prior on [low, high]^P is mapped to unbounded space by

    u = logit((θ − low) / (high − low)),   θ = low + (high − low) σ(u),

so that the flow never puts mass outside the prior's support.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist


def uniform_prior(low, high):
    """Independent U(low_p, high_p) as a numpyro distribution with event shape (P,)."""
    low = jnp.asarray(np.asarray(low, float))
    high = jnp.asarray(np.asarray(high, float))
    if low.ndim != 1 or low.shape != high.shape:
        raise ValueError(f"`low`/`high` must be 1-D of equal shape, got {low.shape} and {high.shape}")
    if not bool(jnp.all(high > low)):
        raise ValueError(f"`high` must exceed `low`, got low={low}, high={high}")
    return dist.Uniform(low, high).to_event(1)


def to_unbounded(theta, low, high, eps=1e-6):
    """θ in (low, high) ↦ u = logit((θ − low)/(high − low)); clipped by eps at the edges."""
    z = (jnp.asarray(theta) - low) / (high - low)
    z = jnp.clip(z, eps, 1 - eps)
    return jnp.log(z) - jnp.log1p(-z)


def to_bounded(u, low, high):
    """u ∈ ℝ ↦ θ = low + (high − low) σ(u)."""
    return low + (high - low) * jax.nn.sigmoid(u)
