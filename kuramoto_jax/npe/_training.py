"""Training q_φ(θ | x) by maximum likelihood on simulated pairs (θ_m, x_m):

    L(φ) = −(1/B) Σ_{m ∈ batch} log q_flow(z_m | c_m),

through `kuramoto_jax.run.train` (checkpoints, exact resume, best-on-validation weights), with
the optax optimiser, schedule and clipping that `TrainConfig` names.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import paramax

from kuramoto_jax._streams import stream_key
from kuramoto_jax._validate import prng_key
from kuramoto_jax.run import make_optimizer, train

from ._config import FlowConfig, TrainConfig
from ._flows import make_estimator


def validation_split(key, num: int, fraction: float):
    """(validation indices, training indices) of `num` pairs: a random `fraction` (at least one) held out."""
    n_val = max(1, int(round(fraction * num)))
    if num - n_val < 2:
        raise ValueError(f"need at least 3 training pairs, got {num}")
    perm = jax.random.permutation(prng_key("key", key), num)
    return perm[:n_val], perm[n_val:]


def _is_frozen(leaf):
    return isinstance(leaf, paramax.NonTrainable)


def fit_estimator(key, theta, x, low, high, flow_config: FlowConfig = FlowConfig(),
                  train_config: TrainConfig = TrainConfig(), ctx=None, name: str = "npe", sequence_shape=()):
    """Fit q_φ(θ | x) to training pairs θ (M, P), x (M, D).

    With `flow_config.embedding`, the summary network over the last T_seq·F entries of x
    (`sequence_shape` = (T_seq, F)) is trained jointly with the flow.

    Random streams (from `key`, typed or a legacy `jax.random.PRNGKey`): "init" (the
    networks' weights), "split" (`validation_split`), "steps" (the batches of `run.train`).

    Returns:
        (estimator with the best validation weights, `TrainResult` of `run.train`).
    """
    key = prng_key("key", key)
    theta = jnp.asarray(theta)
    x = jnp.asarray(x)
    if theta.ndim != 2 or x.ndim != 2 or theta.shape[0] != x.shape[0]:
        raise ValueError(f"`theta` (M, P) and `x` (M, D) must be 2-D with equal M, got {theta.shape}, {x.shape}")
    val_idx, tr_idx = validation_split(stream_key(key, "split"), theta.shape[0], train_config.validation_fraction)
    th_tr, x_tr, th_val, x_val = theta[tr_idx], x[tr_idx], theta[val_idx], x[val_idx]

    est = make_estimator(stream_key(key, "init"), th_tr, x_tr, low, high, flow_config, sequence_shape)
    # Only the networks' weights are trained (flow and summary network): the standardisation,
    # the prior box and the flowjax non-trainable leaves stay fixed (weight decay would
    # otherwise move them).
    nets = lambda e: (e.flow, e.embedding)
    trainable, static_nets = eqx.partition(nets(est), eqx.is_inexact_array, is_leaf=_is_frozen)
    rest = eqx.tree_at(nets, est, (None, None), is_leaf=lambda l: l is None)

    def assemble(t):
        return eqx.tree_at(nets, rest, eqx.combine(t, static_nets), is_leaf=lambda l: l is None)

    def loss_fn(t, batch, _key):
        e = assemble(t)
        th, xx = batch
        return -jnp.mean(e.log_prob_standardised(th, xx))

    m_tr = th_tr.shape[0]
    bs = min(train_config.batch_size, m_tr)

    def batch_fn(step, k):
        idx = jax.random.choice(k, m_tr, (bs,), replace=False)
        return th_tr[idx], x_tr[idx]

    @eqx.filter_jit
    def val_loss(t):
        return -jnp.mean(assemble(t).log_prob_standardised(th_val, x_val))

    optimizer = make_optimizer(train_config.optimizer_config(), train_config.num_steps)
    result = train(
        loss_fn, params=trainable, optimizer=optimizer, num_steps=train_config.num_steps, key=stream_key(key, "steps"),
        batch_fn=batch_fn, ctx=ctx, checkpoint_every=train_config.checkpoint_every,
        eval_fn=lambda t, _key: {"loss": val_loss(t)}, eval_every=train_config.eval_every, name=name,
    )
    return assemble(result.best_params), result
