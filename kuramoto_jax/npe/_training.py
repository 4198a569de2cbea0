"""Training q_φ(θ | x) by maximum likelihood on simulated pairs (θ_m, x_m):

    L(φ) = −(1/B) Σ_{m ∈ batch} log q_flow(z_m | c_m),

through `kuramoto_jax.run.train` (checkpoints, exact resume, best-on-validation weights).
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import paramax

from kuramoto_jax.run import OptimizerConfig, make_optimizer, train

from ._flows import FlowConfig, PosteriorEstimator, make_estimator


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation of the flow: AdamW with warm-up and cosine decay by default."""

    num_steps: int = 3000
    batch_size: int = 256
    learning_rate: float = 1e-3
    warmup_steps: int = 100
    weight_decay: float = 1e-4
    validation_fraction: float = 0.1
    eval_every: int = 250
    checkpoint_every: int = 500

    def __post_init__(self):
        for name in ("num_steps", "batch_size", "eval_every", "checkpoint_every"):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"`{name}` must be an integer ≥ 1, got {val!r}")
        if not 0 < self.validation_fraction < 1:
            raise ValueError(f"`validation_fraction` must be in (0, 1), got {self.validation_fraction!r}")


def _is_frozen(leaf):
    return isinstance(leaf, paramax.NonTrainable)


def fit_estimator(key, theta, x, low, high, flow_config: FlowConfig = FlowConfig(),
                  train_config: TrainConfig = TrainConfig(), ctx=None, name: str = "npe", sequence_shape=()):
    """Fit q_φ(θ | x) to training pairs θ (M, P), x (M, D).

    With `flow_config.embedding`, the summary network over the last T_seq·F entries of x
    (`sequence_shape` = (T_seq, F)) is trained jointly with the flow.

    Returns:
        (estimator with the best validation weights, `TrainResult` of `run.train`).
    """
    theta = jnp.asarray(theta)
    x = jnp.asarray(x)
    if theta.ndim != 2 or x.ndim != 2 or theta.shape[0] != x.shape[0]:
        raise ValueError(f"`theta` (M, P) and `x` (M, D) must be 2-D with equal M, got {theta.shape}, {x.shape}")
    m = theta.shape[0]
    n_val = max(1, int(round(train_config.validation_fraction * m)))
    if m - n_val < 2:
        raise ValueError(f"need at least 3 training pairs, got {m}")
    k_init, k_split, k_train = jax.random.split(key, 3)
    perm = jax.random.permutation(k_split, m)
    val_idx, tr_idx = perm[:n_val], perm[n_val:]
    th_tr, x_tr, th_val, x_val = theta[tr_idx], x[tr_idx], theta[val_idx], x[val_idx]

    est = make_estimator(k_init, th_tr, x_tr, low, high, flow_config, sequence_shape)
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

    optimizer = make_optimizer(
        OptimizerConfig(name="adamw", learning_rate=train_config.learning_rate, schedule="warmup_cosine",
                        warmup_steps=train_config.warmup_steps, weight_decay=train_config.weight_decay,
                        clip_norm=5.0),
        train_config.num_steps,
    )
    result = train(
        loss_fn, params=trainable, optimizer=optimizer, num_steps=train_config.num_steps, key=k_train,
        batch_fn=batch_fn, ctx=ctx, checkpoint_every=train_config.checkpoint_every,
        eval_fn=lambda t, _key: {"loss": val_loss(t)}, eval_every=train_config.eval_every, name=name,
    )
    return assemble(result.best_params), result
