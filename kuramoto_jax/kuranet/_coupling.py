r"""Coupling functions K_μ(x_i, x_j) and the normalisations that turn them into K.

KuraNet replaces a fixed coupling matrix by a learned function of the
oscillators' features x_i ∈ R^d (paper Fig. 1): every ordered pair
[x_i, x_j] ∈ R^{2d} goes through an MLP 2d → 128 → 128 → 1, giving the
logits L_ij. A normalisation then maps L (n, n) to K (n, n):

* global synchrony: K = n · softmax(L) over all n² entries, then
  K ← ½(K + Kᵀ): positive couplings whose average weighted degree
  (1/n) Σ_ij K_ij is 1;
* cluster synchrony: signed couplings, each row scaled to unit L2 norm,
  K ← ½(K + Kᵀ), then divided by n (the 1/n of the cluster dynamics).

The network is an equinox Module, as everywhere in the project: the model is a pytree that
goes straight through vmap (seed ensembles), jit, grad, optax and the checkpoints (whose
leaves are then named, e.g. `tree.params.layers[0].weight`), with no separate
parameter dict; `CouplingFunction` pairs the network with its normalisation, so a
trained model is `K = model.couplings(features)`.

Why no BatchNorm (used by the reference code): batch statistics over the n²
pairs of one graph make K_ij depend on the whole graph, so the function
applied to n = 10,000 oscillators would not be the one trained on n = 100,
and a block-wise build would need two passes. A plain MLP trains well here.
"""

from __future__ import annotations

from typing import Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import integer, one_of

NORMALISATIONS = ("global", "clusters", "clusters_centred", "clusters_graph_centred", "none")
"""How pair logits become couplings K (n, n): see `normalise`."""
CENTRINGS = ("none", "row", "graph")


def _leaky(h, slope):
    return jnp.where(h > 0, h, slope * h)


class PairMLP(eqx.Module):
    """K_μ: R^d × R^d → R, an MLP on the concatenated pair [x_i, x_j].

    Called on row features (B, d) and column features (M, d) it returns the
    logits of all B·M pairs, L (B, M), with L_ij = MLP([x_i, x_j]).

    The first layer is linear in the concatenation, W [x_i; x_j] + c =
    W_r x_i + W_c x_j + c, so it is computed per oscillator (O((B + M) h))
    and broadcast over pairs; only the deeper layers cost O(B M h²).

    With `fourier_features` m > 0 each oscillator's features enter as
    γ(x) = [x, cos 2πBx, sin 2πBx], B (m, d) drawn from N(0, fourier_scale²) and trained with the
    rest (Fourier features, Tancik et al. 2020): a periodic dependence on a feature, such as the
    phase lag ωτ of a delayed sender, is then one linear layer away instead of many LeakyReLU kinks.

    Attributes:
        fourier: B (m, d) of the Fourier features, or None (m = 0: the paper's MLP on x).
        first: W (2d, h_1) of the first layer.
        first_bias: c (h_1,).
        layers: (W (h_{l-1}, h_l), c (h_l,)) of the deeper hidden layers.
        out: w (h_last,) of the output layer (no bias: every normalisation removes a constant shift).
        negative_slope: slope of the LeakyReLU for negative inputs.
    """

    fourier: jax.Array | None
    first: jax.Array
    first_bias: jax.Array
    layers: tuple
    out: jax.Array
    negative_slope: float = eqx.field(static=True)

    def __init__(self, num_features: int, hidden: Sequence[int] = (128, 128), negative_slope: float = 0.2, *,
                 key, dtype=None, fourier_features: int = 0, fourier_scale: float = 1.0):
        if isinstance(num_features, bool) or not isinstance(num_features, (int, np.integer)) or num_features < 1:
            raise ValueError(f"`num_features` must be a positive int, got {num_features!r}")
        hidden = tuple(int(h) for h in hidden)
        if len(hidden) == 0 or min(hidden) < 1:
            raise ValueError(f"`hidden` must be a non-empty list of positive widths, got {hidden!r}")
        m = integer("fourier_features", fourier_features, 0)
        if isinstance(fourier_scale, bool) or not isinstance(fourier_scale, (int, float, np.integer, np.floating)) \
                or not fourier_scale > 0:
            raise ValueError(f"`fourier_scale` must be a number > 0, got {fourier_scale!r}")
        dtype = dtype or jnp.result_type(float)
        widths = (2 * (int(num_features) + 2 * m),) + hidden
        keys = jax.random.split(key, len(widths))
        # The Fourier matrix draws from a key folded off the MLP's, which keeps the MLP's draws of m = 0.
        self.fourier = (float(fourier_scale) * jax.random.normal(jax.random.fold_in(key, 0x46F0), (m, int(num_features)),
                                                                 dtype) if m else None)
        # LeCun-normal weights (variance 1/fan-in) and zero biases.
        init = lambda k, shape: jax.random.normal(k, shape, dtype) / np.sqrt(shape[0])
        self.first = init(keys[0], (widths[0], widths[1]))
        self.first_bias = jnp.zeros((widths[1],), dtype)
        self.layers = tuple((init(keys[i], (widths[i], widths[i + 1])), jnp.zeros((widths[i + 1],), dtype))
                            for i in range(1, len(hidden)))
        self.out = init(keys[-1], (widths[-1], 1))[:, 0]
        self.negative_slope = float(negative_slope)

    @property
    def num_features(self) -> int:
        """d, the width of the oscillator features the network takes."""
        return self.first.shape[0] // 2 - (0 if self.fourier is None else 2 * self.fourier.shape[-2])

    def encode(self, x):
        """Per-oscillator input of the first layer: x (…, d), or γ(x) (…, d + 2m) with Fourier features."""
        if self.fourier is None:
            return x
        z = 2 * jnp.pi * (x @ self.fourier.T)
        return jnp.concatenate([x, jnp.cos(z), jnp.sin(z)], axis=-1)

    def __call__(self, x_rows, x_cols):
        """Logits L (B, M) of the pairs of x_rows (B, d) and x_cols (M, d)."""
        x_rows = self.encode(jnp.asarray(x_rows))
        x_cols = self.encode(jnp.asarray(x_cols))
        d = x_rows.shape[-1]
        a = x_rows @ self.first[:d]  # (B, h1)
        c = x_cols @ self.first[d:] + self.first_bias  # (M, h1)
        h = _leaky(a[..., :, None, :] + c[..., None, :, :], self.negative_slope)  # (B, M, h1)
        for w, b in self.layers:
            h = _leaky(h @ w + b, self.negative_slope)
        return h @ self.out


def init_coupling(key, num_features: int, hidden: Sequence[int] = (128, 128), negative_slope: float = 0.2,
                  dtype=None, fourier_features: int = 0, fourier_scale: float = 1.0) -> PairMLP:
    """A freshly initialised `PairMLP` for features of dimension `num_features` (the key: typed or legacy)."""
    from kuramoto_jax._validate import prng_key

    return PairMLP(num_features, hidden, negative_slope, key=prng_key("key", key), dtype=dtype,
                   fourier_features=fourier_features, fourier_scale=fourier_scale)


def pair_logits(net: PairMLP, x, x_cols=None, block_rows: int | None = None):
    """Logits L (n, M) of all pairs, built in row blocks of `block_rows`.

    x: (n, d) row features; x_cols: (M, d) column features (default x).
    With `block_rows` the hidden activations of only block_rows·M pairs exist
    at any time (a `lax.map` over blocks), so n = 10,000 never materialises
    the 10⁸ × 128 hidden layer; only L itself (n × M) is stored.
    """
    x = jnp.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"`x` must be (n, d) features, got shape {x.shape}")
    x_cols = x if x_cols is None else jnp.asarray(x_cols)
    n = x.shape[0]
    if block_rows is None or block_rows >= n:
        return net(x, x_cols)
    block_rows = int(block_rows)
    if block_rows < 1:
        raise ValueError(f"`block_rows` must be a positive int, got {block_rows}")
    nb = -(-n // block_rows)
    pad = nb * block_rows - n
    xp = jnp.concatenate([x, jnp.zeros((pad, x.shape[1]), x.dtype)]) if pad else x
    blocks = jax.lax.map(lambda rows: net(rows, x_cols), xp.reshape(nb, block_rows, x.shape[1]))
    return blocks.reshape(nb * block_rows, -1)[:n]


def normalise_global(logits):
    """Positive, symmetric K with average weighted degree 1.

    K = n · softmax(L) over all n² entries (so Σ_ij K_ij = n), then ½(K + Kᵀ)
    (which keeps the sum). logits: (n, n) → K (n, n).
    """
    L = jnp.asarray(logits)
    n = L.shape[-1]
    m = jax.lax.stop_gradient(jnp.max(L))
    e = jnp.exp(L - m)
    K = e * (n / jnp.sum(e))
    return 0.5 * (K + K.T)


def normalise_clusters(logits, eps: float = 1e-12, centring: str = "none"):
    """Signed, symmetric K for cluster synchrony, including the dynamics' 1/n.

    K̂_i· = L_i· / ‖L_i·‖₂ (unit L2 norm per row), K = ½(K̂ + K̂ᵀ) / n.

    centring: first subtract a mean logit, "none" (the paper), "row" (each row's
    mean) or "graph" (the mean over all n² pairs).
    Why: the row norm removes the scale of the logits but not a common offset,
    and a common positive offset makes every coupling attractive, which
    synchronises the whole network; there the cluster loss is stationary (for
    k = 2, L = ½ with a vanishing gradient) and training stays. Centring over the
    graph removes exactly that offset direction and keeps the block solution
    (intra-group +, inter-group −) representable; row centring also forces every
    row to sum to zero.
    """
    L = jnp.asarray(logits)
    one_of("centring", centring, CENTRINGS)
    if centring == "row":
        L = L - jnp.mean(L, -1, keepdims=True)
    elif centring == "graph":
        L = L - jnp.mean(L)
    n = L.shape[-1]
    Kh = L / jnp.sqrt(jnp.sum(L * L, -1, keepdims=True) + eps)
    return 0.5 * (Kh + Kh.T) / n


def normalise(logits, kind: str):
    """Couplings K (n, n) from pair logits L (n, n).

    Args:
        logits: L (n, n) from the pair network.
        kind: "global" (`normalise_global`), "clusters" (`normalise_clusters`), "clusters_centred" and
            "clusters_graph_centred" (the same after removing the mean logit of each row or of the graph),
            or "none" (K = L).
    """
    if kind == "global":
        return normalise_global(logits)
    if kind == "clusters":
        return normalise_clusters(logits)
    if kind == "clusters_centred":
        return normalise_clusters(logits, centring="row")
    if kind == "clusters_graph_centred":
        return normalise_clusters(logits, centring="graph")
    if kind == "none":
        return jnp.asarray(logits)
    raise ValueError(f"`normalisation` must be one of {NORMALISATIONS}, got {kind!r}")


def coupling_matrix(net: PairMLP, x, normalisation: str = "global", block_rows: int | None = None):
    """K_μ(X): the normalised (n, n) coupling matrix of the features x (n, d)."""
    one_of("normalisation", normalisation, NORMALISATIONS)
    return normalise(pair_logits(net, x, block_rows=block_rows), normalisation)


class CouplingFunction(eqx.Module):
    """A coupling function: the pair network and the normalisation that turns its logits into K.

    `kuramoto_jax.kuranet.load(run_dir)` returns one (the trained member chosen by validation).

    Attributes:
        net: the `PairMLP` K_μ.
        normalisation: one of `NORMALISATIONS` ("global" for the synchrony tasks, "clusters…" for clusters).
    """

    net: PairMLP
    normalisation: str = eqx.field(static=True, default="global")

    def couplings(self, features, block_rows: int | None = None):
        """K (n, n) for oscillator features (n, d), built in row blocks of `block_rows` when given."""
        x = jnp.asarray(features)
        if x.ndim != 2 or x.shape[1] != self.net.num_features:
            raise ValueError(f"`features` must have shape (n, {self.net.num_features}), got {x.shape}")
        return coupling_matrix(self.net, x, self.normalisation, block_rows)


def block_control_matrix(labels, num_groups: int, max_abs: float):
    """Block-coupling control of the cluster task (paper Fig. 3C).

    Intra-group logits +1, inter-group −1, normalised exactly as the learned
    couplings (`normalise_clusters`), then rescaled so that max_ij |K_ij|
    equals `max_abs` (the learned matrix's), so attraction and repulsion are
    on the same scale in both.
    labels: (n,) ints. Returns K (n, n).
    """
    labels = jnp.asarray(labels)
    same = labels[:, None] == labels[None, :]
    K = normalise_clusters(jnp.where(same, 1.0, -1.0).astype(jnp.result_type(float)))
    return K * (max_abs / jnp.max(jnp.abs(K)))
