r"""Three representations of one coupling law.

All of them compute, for every receiver i, the complex aggregate

    A_i = Σ_j K_ij e^{i θ_j}      returned as (C_i, S_i) = (Re A_i, Im A_i)

from the (possibly delayed) sender phases. The Kuramoto interaction then follows
without any N×N sines:

    Σ_j K_ij sin(θ_j − θ_i − α) = cos(θ_i + α) S_i − sin(θ_i + α) C_i.

* `MeanField(K)`: K_ij = K/N, A_i = K·Z for all i with Z = (1/N) Σ_j e^{iθ_j}: O(N).
* `Dense(K)`: one (N, N) @ (N, 2) product, i.e. a single read of K per evaluation.
  Its derivative rule is written by hand (`dense_aggregate`) so that a gradient costs
  matrix–vector products (JAX's own transpose of the stacked product is several
  times slower on CPUs).
* `Sparse(senders, receivers, weights, n)`: gather + segment-sum, O(E).
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v


def _materialize_on_cpu(table: jax.Array) -> jax.Array:
    """`table` unchanged, but computed once into memory on CPU backends.

    XLA's CPU fusion folds the elementwise producers of a gathered array (cos θ,
    sin θ and the Runge–Kutta stage update) into the gather itself, so they are
    recomputed once per edge instead of once per node: 10–15× slower per step at
    E/N = 200. An identity scatter is never fused as a producer and keeps working
    under vmap (where a `lax.cond` barrier turns into a fusible select).
    `optimization_barrier` is removed by the CPU pipeline. Other backends get the
    identity.
    """

    def cpu(x):
        idx = jnp.arange(x.shape[0])
        return jnp.zeros_like(x).at[idx].set(x, indices_are_sorted=True, unique_indices=True)

    return jax.lax.platform_dependent(table, cpu=cpu, default=lambda x: x)


@jax.custom_jvp
def dense_aggregate(K: jax.Array, cos_src: jax.Array, sin_src: jax.Array) -> tuple[jax.Array, jax.Array]:
    """(C, S) = (K cos θ, K sin θ) for K (N, N) and sources (..., N), reading K once.

    The derivative rule is written by hand so that reverse mode costs what
    matrix–vector products cost on every backend. For tangents (K̇, ċ, ṡ):

        Ċ_i = Σ_j K̇_ij cos θ_j + (K ċ)_i,     Ṡ_i = Σ_j K̇_ij sin θ_j + (K ṡ)_i,

    with the K̇ terms as elementwise products and row sums and [ċ; ṡ] Kᵀ as one
    (2, N) @ (N, N) product. Their transposes give, for cotangents (C̄, S̄),

        K̄ = C̄ ⊗ cos θ + S̄ ⊗ sin θ          (broadcast products: one fused pass writing K̄)
        [c̄; s̄] = [C̄; S̄] K                  (one more read of K)

    JAX's own transpose of the stacked product forms Kᵀ [C̄, S̄] as an (N, N)ᵀ @ (N, 2)
    product, which XLA's CPU backend runs several times slower (docs/gradients.md).
    Forward mode (`jax.jvp`, `jacfwd`) keeps working.
    """
    both = jnp.stack([cos_src, sin_src], axis=-1)
    both = K @ both if both.ndim == 2 else jnp.einsum("ij,...jk->...ik", K, both)
    return both[..., 0], both[..., 1]


def _dense_aggregate_jvp(primals, tangents):
    K, cos_src, sin_src = primals
    dK, dc, ds = tangents
    out = dense_aggregate(K, cos_src, sin_src)
    C, S = out
    tC, tS = jnp.zeros_like(C), jnp.zeros_like(S)
    zero = jax.custom_derivatives.SymbolicZero
    if not (isinstance(dc, zero) and isinstance(ds, zero)):
        dc = jnp.zeros_like(cos_src) if isinstance(dc, zero) else dc
        ds = jnp.zeros_like(sin_src) if isinstance(ds, zero) else ds
        b = jnp.stack([dc, ds], axis=-2) @ K.T  # (..., 2, N)
        tC, tS = tC + b[..., 0, :], tS + b[..., 1, :]
    if not isinstance(dK, zero):
        # Elementwise products and row sums (not dK @ c): their transpose is a broadcast
        # product that XLA fuses into the accumulation of K̄, instead of a small matmul.
        # cos θ, sin θ are materialised first: where the reverse pass recomputes them
        # (checkpointed steps), XLA's CPU fusion would otherwise fold their computation (and
        # the Runge–Kutta stage updates before it) into the N × N accumulation of K̄,
        # evaluating it N² times instead of N (3–5× slower gradients at N = 256:
        # benchmarks/results/grad_cpu.md, case dense256_recompute).
        src = _materialize_on_cpu(jnp.stack([cos_src, sin_src], axis=-1))
        tC = tC + jnp.sum(dK * src[..., None, :, 0], axis=-1)
        tS = tS + jnp.sum(dK * src[..., None, :, 1], axis=-1)
    return out, (tC.astype(C.dtype), tS.astype(S.dtype))


dense_aggregate.defjvp(_dense_aggregate_jvp, symbolic_zeros=True)


class AbstractCoupling(eqx.Module):
    """Base class: a coupling maps sender (cos θ_j, sin θ_j) to receiver aggregates."""

    @abc.abstractmethod
    def aggregate(self, cos_src: jax.Array, sin_src: jax.Array) -> tuple[jax.Array, jax.Array]:
        """(C, S) with C_i = Σ_j K_ij cos θ_j and S_i = Σ_j K_ij sin θ_j; shapes (N,) or broadcastable."""

    @property
    @abc.abstractmethod
    def size(self) -> int | None:
        """Number of oscillators fixed by this coupling (None for mean field)."""

    @abc.abstractmethod
    def to_dense(self, n: int | None = None) -> jax.Array:
        """The equivalent (N, N) matrix K_ij (for tests and small networks)."""


class MeanField(AbstractCoupling):
    r"""All-to-all coupling K_ij = K/N (including the harmless j = i term).

    θ̇_i = ω_i + (K/N) Σ_j sin(θ_j − θ_i) = ω_i + K R sin(ψ − θ_i).
    """

    strength: jax.Array

    def __init__(self, K):
        self.strength = v.scalar("K", K)

    def aggregate(self, cos_src, sin_src):
        return self.strength * jnp.mean(cos_src, -1, keepdims=True), self.strength * jnp.mean(
            sin_src, -1, keepdims=True
        )

    @property
    def size(self):
        return None

    def to_dense(self, n=None):
        if n is None:
            raise ValueError("`n` is required to expand a MeanField coupling to a dense matrix")
        return jnp.full((n, n), self.strength / n)


class Dense(AbstractCoupling):
    """Dense coupling matrix K_ij (row i = receiver, column j = sender); no implicit 1/N."""

    matrix: jax.Array

    def __init__(self, K):
        K = v.as_array("K", K)
        if K.ndim != 2 or K.shape[0] != K.shape[1]:
            raise ValueError(f"`K` must be a square (N, N) matrix, got {v.describe(K)}")
        v.check_finite("K", K)
        self.matrix = K

    def aggregate(self, cos_src, sin_src):
        # One read of K for both sums, K @ [cos θ, sin θ], with a hand-written reverse rule.
        return dense_aggregate(self.matrix, cos_src, sin_src)

    @property
    def size(self):
        return self.matrix.shape[0]

    def to_dense(self, n=None):
        return self.matrix


class Sparse(AbstractCoupling):
    """Edge-list coupling: edge e carries weight w_e from sender s_e to receiver r_e.

    Cost O(E) per evaluation (gather + segment sum); suits networks of 10^6 nodes.
    Edges are stored sorted by receiver so the segment sum can use sorted indices.
    """

    senders: jax.Array
    receivers: jax.Array
    weights: jax.Array
    n: int = eqx.field(static=True)
    sorted_by_receiver: bool = eqx.field(static=True)

    def __init__(self, senders, receivers, weights, n: int, *, sort: bool = True):
        if not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"`n` must be a positive int (number of oscillators), got {n!r}")
        n = int(n)
        senders = jnp.asarray(senders)
        receivers = jnp.asarray(receivers)
        if senders.ndim != 1 or receivers.shape != senders.shape:
            raise ValueError(
                "`senders` and `receivers` must be 1-D integer arrays of equal length, got "
                f"{v.describe(senders)} and {v.describe(receivers)}"
            )
        if not jnp.issubdtype(senders.dtype, jnp.integer) or not jnp.issubdtype(receivers.dtype, jnp.integer):
            raise TypeError(
                f"`senders`/`receivers` must be integer arrays, got dtypes {senders.dtype}, {receivers.dtype}"
            )
        weights = v.as_array("weights", weights)
        if weights.ndim == 0:
            weights = jnp.broadcast_to(weights, senders.shape)
        if weights.shape != senders.shape:
            raise ValueError(
                f"`weights` must have one entry per edge ({senders.shape[0]}), got {v.describe(weights)}"
            )
        v.check_finite("weights", weights)
        sorted_flag = False
        if v.is_concrete(senders) and v.is_concrete(receivers):
            s, r = np.asarray(senders), np.asarray(receivers)
            for name, idx in (("senders", s), ("receivers", r)):
                if idx.size and (idx.min() < 0 or idx.max() >= n):
                    raise ValueError(f"`{name}` must lie in [0, {n}), got values in [{idx.min()}, {idx.max()}]")
            if sort and v.is_concrete(weights):
                order = np.argsort(r, kind="stable")
                s, r = s[order], r[order]
                weights = jnp.asarray(np.asarray(weights)[order])
                sorted_flag = True
            senders, receivers = jnp.asarray(s, jnp.int32), jnp.asarray(r, jnp.int32)
        self.senders, self.receivers, self.weights, self.n = senders, receivers, weights, n
        self.sorted_by_receiver = sorted_flag

    @classmethod
    def from_dense(cls, K) -> "Sparse":
        """Keep the non-zero entries of a concrete (N, N) matrix as edges (j → i for K_ij ≠ 0)."""
        K = np.asarray(Dense(K).matrix)
        receivers, senders = np.nonzero(K)
        return cls(senders, receivers, jnp.asarray(K[receivers, senders]), K.shape[0])

    @classmethod
    def from_edges(cls, edges, weights=1.0, n: int | None = None, *, symmetric: bool = False) -> "Sparse":
        """From an (E, 2) array of (sender, receiver) pairs; `symmetric` adds the reverse edges."""
        e = np.asarray(edges)
        if e.ndim != 2 or e.shape[1] != 2:
            raise ValueError(f"`edges` must be an (E, 2) array of (sender, receiver), got shape {e.shape}")
        w = np.broadcast_to(np.asarray(weights, dtype=float), (e.shape[0],))
        if symmetric:
            e = np.concatenate([e, e[:, ::-1]])
            w = np.concatenate([w, w])
        if n is None:
            n = int(e.max()) + 1 if e.size else 0
        return cls(e[:, 0], e[:, 1], jnp.asarray(w), n)

    @classmethod
    def from_networkx(cls, graph, weight: str = "weight", default: float = 1.0) -> "Sparse":
        """From a networkx graph; undirected edges couple both ways. Nodes are relabelled 0..N−1."""
        nodes = list(graph.nodes())
        index = {node: k for k, node in enumerate(nodes)}
        s, r, w = [], [], []
        for a, b, data in graph.edges(data=True):
            wt = float(data.get(weight, default))
            s.append(index[a]); r.append(index[b]); w.append(wt)
            if not graph.is_directed():
                s.append(index[b]); r.append(index[a]); w.append(wt)
        return cls(np.asarray(s, int), np.asarray(r, int), jnp.asarray(w, dtype=float), len(nodes))

    def aggregate(self, cos_src, sin_src):
        table = _materialize_on_cpu(jnp.stack([cos_src, sin_src], axis=-1))
        both = table[self.senders] * self.weights[:, None]
        out = jax.ops.segment_sum(
            both, self.receivers, num_segments=self.n, indices_are_sorted=self.sorted_by_receiver
        )
        return out[:, 0], out[:, 1]

    @property
    def size(self):
        return self.n

    @property
    def num_edges(self) -> int:
        return self.senders.shape[0]

    def to_dense(self, n=None):
        return jnp.zeros((self.n, self.n), self.weights.dtype).at[self.receivers, self.senders].add(self.weights)


class Scaled(AbstractCoupling):
    """κ times a base coupling: Σ_j κ K_ij e^{iθ_j}, with κ kept outside K.

    A sweep over the coupling strength (`jax.vmap` over κ) then shares one unbatched K,
    and the strength stays a differentiable scalar.

    `Scaled(strength, base)`: `strength` is κ, a scalar (or a traced value under `vmap`/`grad`);
    `base` is the coupling κ multiplies (`MeanField`, `Dense`, `Sparse` or another coupling).
    """

    strength: jax.Array
    base: AbstractCoupling

    def aggregate(self, cos_src, sin_src):
        C, S = self.base.aggregate(cos_src, sin_src)
        return self.strength * C, self.strength * S

    @property
    def size(self):
        return self.base.size

    def to_dense(self, n=None):
        return self.strength * self.base.to_dense(n)
