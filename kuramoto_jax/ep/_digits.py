"""The 8×8-digits classifier: a signed layered network with clamped-phase or frequency inputs."""

from __future__ import annotations

import dataclasses

import numpy as np

from ._network import Network, signed_layered
from ._training import learnable_mask


def digits_network(key, *, n_hidden: int = 32, k_in: float = 2.0, k_out: float = 2.0, encoding: str = "phase",
                   input_scale: float = np.pi / 2, target_on: float = 0.0, target_off: float = np.pi / 2,
                   sweeps: int = 30, newton_steps: int = 30, tol_residual: float = 1e-6,
                   learn_field: bool = True) -> tuple[Network, Network]:
    """(network, mask): a 64+H+10 `signed_layered` net for 8×8 images x ∈ [0, 1] and its learnable entries.

    Signed couplings K ~ N(0, k²/fan-in): a negative K favours anti-phase, so the hidden phases are a
    non-linear mix of the inputs (a positive-only net makes them near-linear weighted means). ω and K
    learn; the fields b of hidden and outputs too with `learn_field` (phase encoding only: a field breaks
    the rotational symmetry the pinned frequency encoding relies on).

    Args:
        key: PRNG key of the couplings.
        n_hidden: hidden oscillators H.
        k_in: input–hidden coupling scale.
        k_out: hidden–output coupling scale.
        encoding: "phase" (θ_in = s·x clamped) or "frequency" (ω_in = s·x, input 0 pinned).
        input_scale: s.
        target_on: target phase of the correct class's output.
        target_off: target phase of the other outputs.
        sweeps: local-field warm-start sweeps before Newton.
        newton_steps: Newton iterations at most.
        tol_residual: accepted max |F̃|.
        learn_field: learn the fields b.
    """
    if encoding == "frequency" and learn_field:
        raise ValueError("`learn_field` needs the phase encoding (a field breaks the rotational symmetry that "
                         "the pinned frequency encoding relies on); pass learn_field=False")
    net = signed_layered(key, 64, n_hidden, 10, k_in=k_in, k_out=k_out)
    net = dataclasses.replace(net, encoding=encoding, input_scale=float(input_scale), target_on=float(target_on),
                              target_off=float(target_off), sweeps=int(sweeps), newton_steps=int(newton_steps),
                              tol_residual=float(tol_residual))
    return net, learnable_mask(net, field=learn_field)
