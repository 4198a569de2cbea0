"""Class targets and readouts for two-or-more-output oscillator classifiers.

Targets (paper): the correct output at −margin, every other output at +margin.
Readouts, all on the output phases θ_out (M,):
  "cos"        argmax_m cos θ_out,m — the paper's; depends on where the outputs sit
               relative to the pinned reference phase, not only on their order.
  "nearest"    argmin_c ‖θ_out − y^c‖², the class whose target is closest in the
               loss's own metric; invariant to a common shift of the outputs
               (for two outputs: class 0 iff θ_out,0 < θ_out,1).
  "calibrated" the "nearest" decision with the class ↔ ordering assignment fitted on
               the training set (two classes): it does not depend on which way
               round the two output phases ended up.
"""

from __future__ import annotations

import jax.numpy as jnp

READOUTS = ("cos", "nearest", "calibrated")
"""Read-outs from output phases to classes: cosine to targets, nearest target phase, calibrated thresholds."""


def class_targets(n_classes: int, margin: float = 0.2):
    """(C, C) target phases: row c has −margin at output c and +margin elsewhere."""
    return margin - 2.0 * margin * jnp.eye(n_classes)


def readout_cos(theta_out):
    """argmax cos θ_out over the last axis."""
    return jnp.argmax(jnp.cos(theta_out), axis=-1)


def readout_nearest(theta_out, margin: float = 0.2):
    """argmin_c ‖θ_out − y^c‖² (the targets of `class_targets`)."""
    Y = class_targets(theta_out.shape[-1], margin)
    d = jnp.sum((theta_out[..., None, :] - Y) ** 2, axis=-1)
    return jnp.argmin(d, axis=-1)
