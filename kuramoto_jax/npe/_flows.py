r"""Conditional normalizing flows q_φ(θ | x) for neural posterior estimation.

The flow acts on standardised unbounded parameters and is conditioned on
standardised summaries:

    θ = low + (high − low) σ(u),   u = μ_u + s_u z,   c = (x − μ_x)/s_x,
    q(θ | x) = q_flow(z | c) |dz/dθ|.

The flow itself is flowjax's coupling flow (affine or rational-quadratic spline
transformers), and the map z ↦ θ is a chain of flowjax bijections (`Affine`, `Sigmoid`,
`Affine`), so `q(θ | x)` is a flowjax `Transformed` distribution whose log-Jacobian is
flowjax's: the bijectors are a maintained library's, not ours. With a learned summary
network (`FlowConfig.embedding`), the last T_seq·F entries of x are a sequence that
`SequenceEmbedding` maps to E numbers, and the flow is conditioned on
c = [standardised fixed summaries, embedding].
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr
from flowjax.bijections import Affine, Chain, RationalQuadraticSpline, Sigmoid
from flowjax.distributions import Normal, Transformed
from flowjax.flows import coupling_flow, masked_autoregressive_flow

from kuramoto_jax._validate import prng_key

from ._config import FlowConfig
from ._embedding import SequenceEmbedding
from ._priors import to_unbounded

def build_flow(key, dim: int, cond_dim: int, config: FlowConfig):
    """A flowjax conditional flow on ℝ^dim with a standard normal base, conditioned on ℝ^cond_dim.

    `key` may be typed or a legacy `jax.random.PRNGKey`."""
    key = prng_key("key", key)
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

    def bijection(self):
        """The flowjax bijection z ↦ θ = low + (high − low) σ(μ_u + s_u z) on ℝ^P → (low, high)."""
        return Chain([_affine(self.u_mean, self.u_std), Sigmoid(self.u_mean.shape),
                      _affine(self.low, self.high - self.low)])

    def distribution(self):
        """q(θ | c) as a flowjax distribution on the prior box, conditioned on c = `condition(x)`."""
        return Transformed(self.flow, self.bijection())

    def log_prob_standardised(self, theta, x):
        """log q_flow(z | c): the training objective (θ's Jacobian terms are constant in φ)."""
        return self.flow.log_prob(self._z(theta), self.condition(x))

    def log_prob(self, theta, x):
        """log q(θ | x) in the original parameter space; θ (..., P), x (..., D)."""
        return self.distribution().log_prob(theta, self.condition(x))

    def sample(self, key, x, num_samples: int):
        """num_samples draws θ ~ q(θ | x) for one summary vector x (D,): (num_samples, P);
        `key` typed or a legacy `jax.random.PRNGKey`."""
        return self.distribution().sample(prng_key("key", key), (num_samples,), condition=self.condition(x))


def _affine(loc, scale):
    """flowjax `Affine(loc, scale)` holding `scale` as given (its default stores softplus⁻¹(scale),
    which would round the fixed standardisation); scale > 0 here by construction."""
    return eqx.tree_at(lambda b: b.scale, Affine(loc, scale), jnp.asarray(scale))


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
    `key` may be typed or a legacy `jax.random.PRNGKey`.
    """
    key = prng_key("key", key)
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
