r"""Conditional normalizing flows q_φ(θ | x) for neural posterior estimation.

The flow acts on standardised unbounded parameters and is conditioned on
standardised summaries:

    u = logit((θ − low)/(high − low)),   z = (u − μ_u)/s_u,   c = (x − μ_x)/s_x,
    log q(θ | x) = log q_flow(z | c) − Σ_p log s_u,p + Σ_p log|du_p/dθ_p|.

The flow itself is flowjax's coupling flow (affine or rational-quadratic spline
transformers): the bijectors are a maintained library's, not ours. With a learned summary
network (`FlowConfig.embedding`), the last T_seq·F entries of x are a sequence that
`SequenceEmbedding` maps to E numbers, and the flow is conditioned on
c = [standardised fixed summaries, embedding].
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from flowjax.bijections import RationalQuadraticSpline
from flowjax.distributions import Normal
from flowjax.flows import coupling_flow, masked_autoregressive_flow

from ._embedding import SequenceEmbedding
from ._priors import to_bounded, to_unbounded

TRANSFORMERS = ("affine", "spline")
ARCHITECTURES = ("coupling", "autoregressive")
EMBEDDINGS = ("none", "conv")


@dataclasses.dataclass(frozen=True)
class FlowConfig:
    """Hyperparameters that rebuild the flow (saved next to its weights).

    Attributes:
        transformer: "affine" or "spline" (rational-quadratic, `knots` bins on [−interval, interval]).
        architecture: "coupling" (RealNVP-style) or "autoregressive" (MAF).
        flow_layers, nn_width, nn_depth: number of layers and conditioner MLP size.
        knots, interval: spline resolution and support (outside: identity).
        embedding: "none", or "conv" for a learned summary network over the sequence part of x.
        embedding_dim, embedding_width: its output size E and width W.
    """

    transformer: str = "spline"
    architecture: str = "coupling"
    flow_layers: int = 6
    nn_width: int = 128
    nn_depth: int = 2
    knots: int = 8
    interval: float = 5.0
    embedding: str = "none"
    embedding_dim: int = 16
    embedding_width: int = 32

    def __post_init__(self):
        if self.transformer not in TRANSFORMERS:
            raise ValueError(f"`transformer` must be one of {TRANSFORMERS}, got {self.transformer!r}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"`architecture` must be one of {ARCHITECTURES}, got {self.architecture!r}")
        if self.embedding not in EMBEDDINGS:
            raise ValueError(f"`embedding` must be one of {EMBEDDINGS}, got {self.embedding!r}")
        for name in ("flow_layers", "nn_width", "nn_depth", "knots", "embedding_dim", "embedding_width"):
            val = getattr(self, name)
            if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
                raise ValueError(f"`{name}` must be an integer ≥ 1, got {val!r}")
        if not self.interval > 0:
            raise ValueError(f"`interval` must be > 0, got {self.interval!r}")


def build_flow(key, dim: int, cond_dim: int, config: FlowConfig):
    """A flowjax conditional flow on ℝ^dim with a standard normal base, conditioned on ℝ^cond_dim."""
    transformer = None
    if config.transformer == "spline":
        transformer = RationalQuadraticSpline(knots=config.knots, interval=config.interval)
    base = Normal(jnp.zeros(dim))
    if config.architecture == "coupling":
        return coupling_flow(
            key, base_dist=base, transformer=transformer, cond_dim=cond_dim,
            flow_layers=config.flow_layers, nn_width=config.nn_width, nn_depth=config.nn_depth,
            nn_activation=jax.nn.gelu,
        )
    return masked_autoregressive_flow(
        key, base_dist=base, transformer=transformer, cond_dim=cond_dim,
        flow_layers=config.flow_layers, nn_width=config.nn_width, nn_depth=config.nn_depth,
        nn_activation=jax.nn.gelu,
    )


class PosteriorEstimator(eqx.Module):
    """q_φ(θ | x): a conditional flow with fixed standardisation and the bounded-prior map.

    Fields hold the flow, the optional summary network and the (non-trained) statistics;
    `x` are summaries (D,), θ parameters (P,) inside the prior box [low, high];
    `sequence_shape` = (T_seq, F) of the sequence at the end of x, () without one.
    """

    flow: eqx.Module
    x_mean: jax.Array
    x_std: jax.Array
    u_mean: jax.Array
    u_std: jax.Array
    low: jax.Array
    high: jax.Array
    embedding: eqx.Module | None = None
    sequence_shape: tuple = eqx.field(static=True, default=())

    def condition(self, x):
        """The flow's conditioning input for summaries x (..., D)."""
        c = (x - jax.lax.stop_gradient(self.x_mean)) / jax.lax.stop_gradient(self.x_std)
        if self.embedding is None:
            return c
        t, f = self.sequence_shape
        lead, fixed = c.shape[:-1], c.shape[-1] - t * f
        seq = c[..., fixed:].reshape((-1, t, f))
        emb = jax.vmap(self.embedding)(seq).reshape(lead + (-1,))
        return jnp.concatenate([c[..., :fixed], emb], -1)

    def _z(self, theta):
        u = to_unbounded(theta, self.low, self.high)
        return (u - jax.lax.stop_gradient(self.u_mean)) / jax.lax.stop_gradient(self.u_std)

    def log_prob_standardised(self, theta, x):
        """log q_flow(z | c): the training objective (θ's Jacobian terms are constant in φ)."""
        return self.flow.log_prob(self._z(theta), self.condition(x))

    def log_prob(self, theta, x):
        """log q(θ | x) in the original parameter space; θ (..., P), x (..., D)."""
        z = self._z(theta)
        w = (theta - self.low) / (self.high - self.low)
        log_jac = -jnp.log(self.u_std) - jnp.log(self.high - self.low) - jnp.log(w) - jnp.log1p(-w)
        return self.flow.log_prob(z, self.condition(x)) + jnp.sum(log_jac, -1)

    def sample(self, key, x, num_samples: int):
        """num_samples draws θ ~ q(θ | x) for one summary vector x (D,): (num_samples, P)."""
        z = self.flow.sample(key, (num_samples,), condition=self.condition(x))
        return to_bounded(z * self.u_std + self.u_mean, self.low, self.high)


def _networks(key, dim: int, x_dim: int, config: FlowConfig, sequence_shape):
    """(flow, embedding or None) for parameters in ℝ^dim and summaries x in ℝ^x_dim."""
    sequence_shape = tuple(int(s) for s in (sequence_shape or ()))
    if config.embedding == "none":
        return build_flow(key, dim, x_dim, config), None, ()
    if len(sequence_shape) != 2 or min(sequence_shape) < 1 or sequence_shape[0] * sequence_shape[1] > x_dim:
        raise ValueError(
            f"`sequence_shape` must be (T_seq, F) with T_seq·F ≤ D = {x_dim} for embedding={config.embedding!r}, "
            f"got {sequence_shape}"
        )
    k_flow, k_emb = jr.split(key)
    t, f = sequence_shape
    emb = SequenceEmbedding(k_emb, f, config.embedding_width, config.embedding_dim)
    flow = build_flow(k_flow, dim, x_dim - t * f + config.embedding_dim, config)
    return flow, emb, sequence_shape


def make_estimator(key, theta, x, low, high, config: FlowConfig, sequence_shape=()) -> PosteriorEstimator:
    """A fresh estimator whose standardisation uses training pairs θ (M, P), x (M, D).

    sequence_shape: (T_seq, F) of the sequence at the end of x, needed with an embedding.
    """
    theta = jnp.asarray(theta)
    x = jnp.asarray(x)
    if theta.ndim != 2 or x.ndim != 2 or theta.shape[0] != x.shape[0]:
        raise ValueError(f"`theta` (M, P) and `x` (M, D) must be 2-D with equal M, got {theta.shape}, {x.shape}")
    low = jnp.asarray(low, theta.dtype)
    high = jnp.asarray(high, theta.dtype)
    u = to_unbounded(theta, low, high)
    x_std = jnp.std(x, 0)
    flow, emb, shape = _networks(key, theta.shape[1], x.shape[1], config, sequence_shape)
    return PosteriorEstimator(
        flow=flow, x_mean=jnp.mean(x, 0), x_std=jnp.where(x_std > 0, x_std, 1.0),
        u_mean=jnp.mean(u, 0), u_std=jnp.std(u, 0), low=low, high=high, embedding=emb, sequence_shape=shape,
    )


def skeleton(dim: int, cond_dim: int, config: FlowConfig, dtype=jnp.float32, sequence_shape=()) -> PosteriorEstimator:
    """An estimator with the right structure, to be filled by `eqx.tree_deserialise_leaves`.

    cond_dim is the summary dimension D."""
    z = jnp.zeros(dim, dtype)
    c = jnp.zeros(cond_dim, dtype)
    flow, emb, shape = _networks(jr.key(0), dim, cond_dim, config, sequence_shape)
    if emb is not None:
        emb = jax.tree_util.tree_map(lambda a: a.astype(dtype) if eqx.is_inexact_array(a) else a, emb)
    return PosteriorEstimator(
        flow=flow, x_mean=c, x_std=c + 1, u_mean=z, u_std=z + 1, low=z, high=z + 1, embedding=emb, sequence_shape=shape,
    )
