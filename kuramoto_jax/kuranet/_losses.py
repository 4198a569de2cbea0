r"""Training losses over the post-burn-in window (paper Eq. 3–6).

The loss of a trajectory θ(t) is the instantaneous loss ℓ averaged over the
saved states after the burn-in, (1/T) Σ_{t > t₀} ℓ(θ(t)):

* global synchrony: ℓ = V = 1 − R (`kj.circular_variance`);
* cluster synchrony: ℓ = ½((1/k) Σ_l V_l + S) scaled to [0, 1] (`kj.cluster_loss`, with
  the splay term S of Eq. 6 normalised to [0, 1]).
"""

from __future__ import annotations

import jax.numpy as jnp

import kuramoto_jax as kj


def sync_loss(theta_window):
    """Mean circular variance over a window: theta_window (T, n) → scalar in [0, 1]."""
    return jnp.mean(kj.circular_variance(theta_window))


def cluster_window_loss(theta_window, labels, num_groups: int):
    """Mean cluster loss over a window: theta_window (T, n), labels (n,) → scalar in [0, 1]."""
    return jnp.mean(kj.cluster_loss(theta_window, labels, num_groups))
