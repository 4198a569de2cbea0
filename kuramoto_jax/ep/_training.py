"""Training a `Network` by equilibrium propagation: gradients, masks, optimisers, evaluation.

For a sample (x, c) with targets y = `Network.targets`[c] on the outputs O:

  1. free equilibrium θ* of the sample (`Network.solve`); each output is moved to the
     branch nearest its target, θ*_m ← y_m + wrap(θ*_m − y_m) (the same physical
     state; the cost ½ Σ_m (θ_m − y_m)² then measures the angular error);
  2. nudged equilibrium θ^β (−β (θ_m − y_m) at the outputs), warm-started from θ*,
     and θ^{−β} as well for the centred estimator;
  3. the EP estimates of ∂L/∂ω, ∂L/∂K (existing edges) and ∂L/∂b
     (`ep_estimate`, `field_estimate`).

A sample whose free or nudged equilibrium is unconverged or unstable contributes to
neither the loss nor the gradient (`ep_batch` averages over the usable ones and
counts them). `grad_fn` packages this for `kuramoto_jax.run.train` (optionally for an
ensemble: networks stacked on a leading axis, each with its own batch); updates are
optax transformations (`sgd`: per-parameter learning rates, element-wise clipping
and a box projection, the vowel protocol; any `run.make_optimizer` chain otherwise).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import parallel
from .._validate import one_of
from ._gradients import ep_estimate, field_estimate, loss, output_target
from ._network import Network
from ._readout import readout_cos, wrap

ESTIMATORS = ("ep", "centered")
"""Gradient estimators: one-sided (β) or centred (±β) equilibrium propagation."""


def _with_arrays(net: Network, omega, K, field) -> Network:
    return eqx.tree_at(lambda m: (m.omega, m.K, m.field), net, (omega, K, field))


def ep_gradients(net: Network, x, label, beta: float, estimator: str = "ep"):
    """EP gradient of L = ½ Σ_{m∈outputs} (θ*_m − y_m)² for one sample (traceable).

    Args:
        net: the network.
        x: (D,) input.
        label: () class index c; the targets are net.targets[c].
        beta: nudging strength β > 0.
        estimator: "ep" (θ^β vs θ*) or "centered" (θ^{+β} vs θ^{−β}).

    Returns:
        (loss (), grads (a `Network` holding ∂L/∂ω, ∂L/∂K, ∂L/∂b), ok (), θ* (N,)); ok says
        that every equilibrium used converged and is stable.
    """
    out = np.asarray(net.outputs, dtype=int)
    y_out = net.targets[label]
    free = net.solve(x)
    theta = free.theta.at[out].set(y_out + wrap(free.theta[out] - y_out))
    y, m = output_target(net.n, net.outputs, y_out, net.omega.dtype)
    plus = net.solve(x, theta, beta=beta, target=y, output_mask=m)
    ok = free.ok & plus.ok
    if estimator == "centered":
        minus = net.solve(x, theta, beta=-beta, target=y, output_mask=m)
        ok = ok & minus.ok
        a, ba = minus.theta, -beta
    else:
        a, ba = theta, 0.0
    g_om, g_K = ep_estimate(a, plus.theta, ba, beta, net.K)
    g_b = field_estimate(a, plus.theta, ba, beta) if net.encoding == "phase" else jnp.zeros_like(g_om)
    return loss(theta, y, m), _with_arrays(net, g_om, g_K, g_b), ok, theta


def ep_batch(net: Network, X, labels, beta: float, estimator: str = "ep"):
    """Mean loss and EP gradients over the usable samples of a batch X (B, D), labels (B,) (traceable).

    Returns:
        (loss (), grads `Network`, n_ok ()): a sample whose free or nudged equilibrium failed
        contributes to neither the loss nor the gradient.
    """
    losses, g, ok, _ = jax.vmap(lambda x, c: ep_gradients(net, x, c, beta, estimator))(X, labels)
    w = ok.astype(losses.dtype)
    n_ok = jnp.sum(w)

    def mean(a):
        return jnp.tensordot(w, jnp.where(ok.reshape((-1,) + (1,) * (a.ndim - 1)), a, 0.0), axes=1) / jnp.maximum(n_ok, 1.0)

    return mean(losses), jax.tree.map(mean, g), n_ok


def grad_fn(beta: float, estimator: str = "ep", mask: Network | None = None, *, ensemble: bool = False) -> Callable:
    """The `grad_fn(params, batch, key) -> ((loss, aux), grads)` of `kuramoto_jax.run.train` (has_aux=True).

    Args:
        beta: nudging strength β.
        estimator: "ep" or "centered".
        mask: a `Network` of 0/1 arrays (`learnable_mask`): gradients of frozen entries are zeroed.
        ensemble: params are networks stacked on a leading axis E and batch = (X (E, B, D),
            labels (E, B)), one batch per member; the loss is the members' mean.

    Returns:
        The function; aux = {"usable": share of the samples whose equilibria were usable} and,
        for an ensemble, "usable_members" (E,) per member.
    """
    one_of("estimator", estimator, ESTIMATORS)

    def one(net, X, labels):
        return ep_batch(net, X, labels, beta, estimator)

    def fn(params, batch, key):
        X, labels = batch
        lss, g, n_ok = (jax.vmap(one) if ensemble else one)(params, X, labels)
        if mask is not None:
            g = jax.tree.map(lambda a, m: a * m, g, mask)
        aux = {"usable": jnp.sum(n_ok) / labels.size}
        if ensemble:
            aux["usable_members"] = n_ok / labels.shape[-1]
        return (jnp.mean(lss), aux), g

    return fn


def learnable_mask(net: Network, *, omega: bool = True, K: bool = True, field: bool = False) -> Network:
    """A `Network` of 0/1 arrays: ω of the non-inputs, K on existing edges, b of hidden and outputs."""
    n, dtype = net.n, net.omega.dtype
    learn = np.zeros(n)
    learn[list(net.learnable)] = 1.0
    hid_out = np.zeros(n)
    hid_out[list(net.hidden + net.outputs)] = 1.0
    m_om = jnp.asarray(learn * omega, dtype)
    m_K = (net.K != 0).astype(dtype) * float(K)
    m_b = jnp.asarray(hid_out * field, dtype)
    return _with_arrays(net, m_om, m_K, m_b)


def project_box(lower, upper) -> optax.GradientTransformation:
    """An optax transformation that keeps params + updates inside [lower, upper] (pytrees like params)."""

    def init(params):
        return optax.EmptyState()

    def update(updates, state, params):
        new = optax.projections.projection_box(optax.apply_updates(params, updates), lower, upper)
        return jax.tree.map(lambda a, p: a - p, new, params), state

    return optax.GradientTransformation(init, update)


def sgd(mask: Network, *, lr_omega: float, lr_K: float, lr_field: float = 0.0, clip: float | None = None,
        omega_box=(-np.inf, np.inf), K_box=(-np.inf, np.inf)) -> optax.GradientTransformation:
    """Plain SGD with a learning rate per parameter kind, element-wise clipping and a parameter box.

    The chain: optax.clip(clip) on every gradient component → −η_ω, −η_K, −η_b per kind →
    projection of the learnable entries of `mask` onto ω ∈ omega_box and, on existing edges,
    K ∈ K_box (frozen entries get zero gradients and stay as they are).

    Args:
        mask: the learnable entries (`learnable_mask`), possibly stacked for an ensemble.
        lr_omega: learning rate of ω.
        lr_K: learning rate of K.
        lr_field: learning rate of b.
        clip: clip every gradient component to ±clip (None: no clipping).
        omega_box: (low, high) of the learnable ω.
        K_box: (low, high) of K on the learnable edges.
    """
    inf = jnp.inf
    lower = _with_arrays(mask, jnp.where(mask.omega > 0, omega_box[0], -inf), jnp.where(mask.K > 0, K_box[0], -inf),
                         jnp.full_like(mask.field, -inf))
    upper = _with_arrays(mask, jnp.where(mask.omega > 0, omega_box[1], inf), jnp.where(mask.K > 0, K_box[1], inf),
                         jnp.full_like(mask.field, inf))
    rates = _with_arrays(mask, -lr_omega * jnp.ones_like(mask.omega), -lr_K * jnp.ones_like(mask.K),
                         -lr_field * jnp.ones_like(mask.field))
    scale = optax.GradientTransformation(
        lambda params: optax.EmptyState(),
        lambda updates, state, params=None: (jax.tree.map(lambda u, r: u * r, updates, rates), state))
    chain = [optax.clip(clip)] if clip is not None else []
    return optax.chain(*chain, scale, project_box(lower, upper))


def evaluate(net: Network, x, label) -> dict:
    """The free equilibrium of one sample x (D,) with class `label`, read out (traceable).

    Map it over samples with `jax.vmap` or `kuramoto_jax.parallel.batch_map`
    (e.g. `batch_map(functools.partial(evaluate, net), X, labels)`).

    Returns:
        dict: valid () (converged and stable), pred () (`readout`), pred_cos () (`readout_cos`),
        loss () (½ Σ_m wrap(θ_m − y_m)² over the outputs) and theta_out (M,).
    """
    eq = net.solve(x)
    th = eq.theta[np.asarray(net.outputs, dtype=int)]
    return dict(valid=eq.ok, pred=net.classify(eq.theta), pred_cos=readout_cos(th),
                loss=0.5 * jnp.sum(wrap(th - net.targets[label]) ** 2), theta_out=th)


def predict(net: Network, X) -> jax.Array:
    """Class labels (B,) of inputs X (B, D): the nearest target pattern at each free equilibrium.

    A sample whose free equilibrium did not converge or is unstable gets label −1 (no
    prediction: it counts as wrong in an accuracy). The samples are spread over the
    devices with `kuramoto_jax.parallel.batch_map` (inside a run: the run's devices).
    """
    if net.omega.ndim != 1:
        raise ValueError(f"`net` is an ensemble of {net.omega.shape[:-1]} networks; predict with one member "
                         "(`ep.load(run_dir, member=i)` or jax.tree.map(lambda a: a[i], net))")
    X = jnp.asarray(X)
    if X.ndim != 2 or X.shape[-1] != len(net.inputs):
        raise ValueError(f"`x` must have shape (batch, {len(net.inputs)}), got {X.shape}")

    def one(x):
        eq = net.solve(x)
        return jnp.where(eq.ok, net.classify(eq.theta), -1)

    return parallel.batch_map(one, X)
