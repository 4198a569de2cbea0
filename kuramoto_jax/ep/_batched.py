"""Mini-batch equilibrium propagation with clamped-phase or frequency input encoding.

A sample x (D,) enters the network in one of two ways:

  "phase"      (Wang et al.) the D input oscillators are clamped at θ_in = s·x and
               removed from the unknowns; the other oscillators solve
                   ω_i + Σ_j K_ij sin(θ_j − θ_i) + b_i sin θ_i = 0,
               with ω used as is (the clamped phases fix the frame) and a
               learnable field b.
  "frequency"  (the equilibrium-propagation paper) ω_in = s·x, ω centred, the
               first input pinned at θ = 0; no field.

For every sample of a batch (`jax.vmap`) the free equilibrium θ* and the nudged
one θ^β (or θ^{±β}, "centered") are solved by the lean Newton iteration, and the
EP estimates of ∂L/∂ω, ∂L/∂K (existing edges) and ∂L/∂b are averaged over the
samples whose equilibria converged and are stable. Unusable samples are counted,
never averaged in.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from ._equilibrium import local_field_sweeps, newton
from ._gradients import ep_estimate, field_estimate

ENCODINGS = ("phase", "frequency")
"""Input encodings of `Encoding`: clamped input phases, or input frequencies ω_in."""
ESTIMATORS = ("ep", "centered")
"""Gradient estimators of `ep_batch`: one-sided (β) or centred (±β) equilibrium propagation."""


class NetParams(NamedTuple):
    """Trainable parameters of a batched EP network: ω (N,), symmetric K (N, N), fields b (N,)."""

    omega: jax.Array  # (N,) natural frequencies (inputs' entries unused)
    K: jax.Array  # (N, N) symmetric couplings, zero off the edges
    field: jax.Array  # (N,) b_i of b_i sin θ_i (unused with frequency encoding)


class Encoding(NamedTuple):
    """Static description of the inputs and outputs (hashable: a jit static argument)."""

    inputs: tuple
    outputs: tuple
    kind: str = "phase"
    scale: float = 1.0
    groups: tuple = ()  # mutually uncoupled oscillator groups for `local_field_sweeps` (e.g. (hidden, outputs))
    sweeps: int = 0  # warm-start sweeps before Newton (0: Newton from θ = 0 at the unknowns)


def _system(params: NetParams, x, enc: Encoding):
    """(ω, θ0, field, pinned, clamped) of one sample's equilibrium problem."""
    n = params.omega.shape[-1]
    inp = jnp.asarray(enc.inputs)
    if enc.kind == "phase":
        theta0 = jnp.zeros((n,), params.omega.dtype).at[inp].set(enc.scale * x)
        om, field, pinned, clamped = params.omega, params.field, 0, tuple(enc.inputs)
    else:
        om = params.omega.at[inp].set(enc.scale * x)
        om = om - jnp.mean(om)
        theta0, field, pinned, clamped = jnp.zeros((n,), params.omega.dtype), None, int(enc.inputs[0]), None
    if enc.sweeps:
        theta0 = local_field_sweeps(params.K, om, theta0, enc.groups, field=field, sweeps=enc.sweeps)
    return om, theta0, field, pinned, clamped


def free_equilibrium(params: NetParams, x, enc: Encoding, *, max_steps: int = 30, tol_residual=None):
    """Free equilibrium of one sample x (D,): an `Equilibrium` with θ (N,)."""
    om, theta0, field, pinned, clamped = _system(params, x, enc)
    return newton(params.K, om, theta0, pinned=pinned, field=field, clamped=clamped,
                  max_steps=max_steps, tol_residual=tol_residual)


def ep_sample(params: NetParams, x, y_out, enc: Encoding, beta: float, estimator: str = "ep",
              *, max_steps: int = 30, tol_residual=None):
    """EP gradient of L = ½ Σ_{m∈outputs} (θ*_m − y_m)² for one sample.

    Args: x (D,), y_out (M,) target phases of the outputs; the error θ*_m − y_m is
    taken on the branch in [−π, π).
    Returns (loss (), grads `NetParams`, ok (), θ*_out (M,)); ok = every equilibrium
    used converged and is stable.
    """
    n = params.omega.shape[-1]
    dtype = params.omega.dtype
    out = jnp.asarray(enc.outputs)
    om, theta0, field, pinned, clamped = _system(params, x, enc)
    mask = jnp.zeros((n,), dtype).at[out].set(1.0)
    y = jnp.zeros((n,), dtype).at[out].set(y_out.astype(dtype))
    kw = dict(pinned=pinned, field=field, clamped=clamped, max_steps=max_steps, tol_residual=tol_residual)
    free = newton(params.K, om, theta0, **kw)
    # Phases are defined mod 2π: move each output to the branch nearest its target,
    # so that the cost ½ (θ − y)² measures the angular error (the same physical state).
    free = free._replace(theta=free.theta.at[out].set(y_out + wrap(free.theta[out] - y_out)))
    nudge = lambda b: newton(params.K, om, free.theta, beta=b, target=y, output_mask=mask, **kw)
    plus = nudge(beta)
    ok = free.converged & free.stable & plus.converged & plus.stable
    if estimator == "centered":
        minus = nudge(-beta)
        ok = ok & minus.converged & minus.stable
        a, b, ba = minus.theta, plus.theta, -beta
    else:
        a, b, ba = free.theta, plus.theta, 0.0
    g_om, g_K = ep_estimate(a, b, ba, beta, params.K)
    g_b = field_estimate(a, b, ba, beta) if enc.kind == "phase" else jnp.zeros_like(g_om)
    loss = 0.5 * jnp.sum(mask * (free.theta - y) ** 2)
    return loss, NetParams(g_om, g_K, g_b), ok, free.theta[out]


def ep_batch(params: NetParams, X, Y_out, enc: Encoding, beta: float, estimator: str = "ep", **kw):
    """Mean loss and EP gradients over the usable samples of a batch X (B, D), Y_out (B, M).

    Returns (loss (), grads `NetParams`, n_ok ()): a sample whose free or nudged
    equilibrium failed contributes to neither the loss nor the gradient.
    """
    loss, g, ok, _ = jax.vmap(lambda x, y: ep_sample(params, x, y, enc, beta, estimator, **kw))(X, Y_out)
    w = ok.astype(loss.dtype)
    n_ok = jnp.sum(w)
    mean = lambda a: jnp.tensordot(w, jnp.where(ok.reshape((-1,) + (1,) * (a.ndim - 1)), a, 0.0), axes=1) / jnp.maximum(n_ok, 1.0)
    return mean(loss), jax.tree.map(mean, g), n_ok


def wrap(phi):
    """Angle in [−π, π)."""
    return jnp.mod(phi + jnp.pi, 2 * jnp.pi) - jnp.pi


def nearest_class(theta_out, targets):
    """argmin_c Σ_m wrap(θ_out,m − targets[c, m])², θ_out (…, M), targets (C, M) → (…,) class indices."""
    d = jnp.sum(wrap(theta_out[..., None, :] - targets) ** 2, axis=-1)
    return jnp.argmin(d, axis=-1)


def predict(params: NetParams, X, enc: Encoding, targets, **kw):
    """Nearest-target classes (B,) and validity (B,) of the free equilibria of X (B, D)."""

    def one(x):
        eq = free_equilibrium(params, x, enc, **kw)
        return nearest_class(eq.theta[jnp.asarray(enc.outputs)], targets), eq.converged & eq.stable

    return jax.vmap(one)(X)
