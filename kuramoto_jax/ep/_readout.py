"""From output phases to classes.

Phases are defined modulo 2π, so distances between an output phase and its target
are taken on the circle: wrap(φ) ∈ [−π, π). The one readout, `readout`, picks the
class whose target pattern is nearest in that angular metric,

    ĉ = argmin_c Σ_m wrap(θ_out,m − y_{c,m})²,

the cost that training lowers (`ep_gradients` moves each output to the branch nearest
its target before nudging). It wraps because θ and θ + 2π are the same physical state:
without wrapping an output that drifted by a full turn would be read as far from every
target. For the two-level targets of `Network.targets` and outputs within a quarter
turn of them, it is the output closest to `target_on`; for two outputs with targets
∓m it is "class 0 iff θ_out,0 < θ_out,1".

`readout_cos` (argmax_m cos θ_out,m) is the equilibrium-propagation paper's readout,
kept to reproduce its protocol: it depends on where the outputs sit relative to the
pinned reference phase, not only on their order.
"""

from __future__ import annotations

import jax.numpy as jnp


def wrap(phi):
    """Angle in [−π, π), same shape as phi."""
    return jnp.mod(phi + jnp.pi, 2 * jnp.pi) - jnp.pi


def readout(theta_out, targets):
    """argmin_c Σ_m wrap(θ_out,m − targets[c, m])²: θ_out (…, M), targets (C, M) → (…,) classes."""
    d = jnp.sum(wrap(theta_out[..., None, :] - targets) ** 2, axis=-1)
    return jnp.argmin(d, axis=-1)


def readout_cos(theta_out):
    """The paper's readout argmax_m cos θ_out,m: θ_out (…, M) → (…,) classes."""
    return jnp.argmax(jnp.cos(theta_out), axis=-1)
