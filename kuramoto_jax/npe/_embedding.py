r"""A learned summary network over time, trained jointly with the flow.

The sequence s (T_seq, F) of per-time features (standardised per entry) goes through
two 1-D convolutions over time (kernel k, GELU; the second with stride 2), is pooled by
its mean and maximum over time, and an MLP maps the 2·W pooled channels to E numbers:

    h = GELU(conv₂(GELU(conv₁([s, τ]))))            (W, T'),  τ = position in [0, 1]
    e = MLP([mean_t h, max_t h]) ∈ ℝ^E.

The position channel τ lets the filters tell the transient from the late, locked part.
The flow is conditioned on [fixed summaries, e]; both are trained on −log q(θ | x).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.random as jr


class SequenceEmbedding(eqx.Module):
    """(T_seq, F) ↦ (E,) summary network.

    Args:
        key: PRNG key for the initial weights.
        features: F, channels per time.
        width: W, convolution channels and MLP width.
        dim: E, output summaries.
        kernel: convolution kernel length (odd).
    """

    conv1: eqx.nn.Conv1d
    conv2: eqx.nn.Conv1d
    head: eqx.nn.MLP

    def __init__(self, key, features: int, width: int = 32, dim: int = 16, kernel: int = 5):
        k1, k2, k3 = jr.split(key, 3)
        self.conv1 = eqx.nn.Conv1d(features + 1, width, kernel, padding="SAME", key=k1)
        self.conv2 = eqx.nn.Conv1d(width, width, kernel, stride=2, padding=kernel // 2, key=k2)
        self.head = eqx.nn.MLP(2 * width, dim, width, 1, activation=jax.nn.gelu, key=k3)

    def __call__(self, s):
        t = s.shape[0]
        tau = jnp.linspace(0.0, 1.0, t, dtype=s.dtype)[None, :]
        h = jax.nn.gelu(self.conv1(jnp.concatenate([s.T, tau], 0)))
        h = jax.nn.gelu(self.conv2(h))
        return self.head(jnp.concatenate([h.mean(-1), h.max(-1)]))
