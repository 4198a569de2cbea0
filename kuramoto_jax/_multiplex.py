r"""Multiplex networks as a coupling: L layers of the same n nodes, each with its own coupling.

Node i of layer ℓ is oscillator ℓ·n + i (N = L·n). Its aggregate is the layer's own plus the
inter-layer coupling of its replicas in the other layers:

    A_{ℓi} = Σ_j K^{(ℓ)}_{ij} e^{iθ_{ℓj}} + Σ_{m ≠ ℓ} D_{ℓm} e^{iθ_{mi}},

so `Kuramoto`, `StuartLandau` and `HigherOrderKuramoto` accept it like any other coupling, at
the layers' own costs plus O(L² n) (e.g. Boccaletti et al., Phys. Rep. 544, 1 (2014)).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v
from ._coupling import AbstractCoupling


class Multiplex(AbstractCoupling):
    """L layers of n nodes: per-layer couplings plus inter-layer coupling between replicas.

    Args:
        layers: sequence of L couplings (`MeanField`, `Dense`, `Sparse`), each for n nodes.
        interlayer: D, scalar (all layer pairs) or (L, L) matrix D_{ℓm} (receiver ℓ, sender m;
            the diagonal is ignored).
        n: nodes per layer; required only when every layer is a `MeanField`.
    """

    layers: tuple
    interlayer: jax.Array
    n: int = eqx.field(static=True)

    def __init__(self, layers, interlayer, n: int | None = None):
        layers = tuple(layers)
        if not layers or not all(isinstance(c, AbstractCoupling) for c in layers):
            raise TypeError(f"`layers` must be a non-empty sequence of couplings, got {v.describe(layers)}")
        sizes = {c.size for c in layers if c.size is not None}
        if n is not None:
            sizes.add(int(n))
        if len(sizes) != 1:
            raise ValueError(
                f"every layer must couple the same n nodes; got sizes {sorted(sizes)}"
                if sizes
                else "`n` (nodes per layer) is required when every layer is a MeanField"
            )
        L = len(layers)
        D = v.as_array("interlayer", interlayer)
        if D.ndim == 0:
            D = D * (1.0 - jnp.eye(L, dtype=D.dtype))
        elif D.shape == (L, L):
            D = D * (1.0 - jnp.eye(L, dtype=D.dtype))
        else:
            raise ValueError(f"`interlayer` must be a scalar or an ({L}, {L}) matrix, got {v.describe(D)}")
        v.check_finite("interlayer", D)
        self.layers, self.interlayer, self.n = layers, D, sizes.pop()

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    def aggregate(self, cos_src, sin_src):
        L, n = self.num_layers, self.n
        c, s = cos_src.reshape(L, n), sin_src.reshape(L, n)
        C_inter, S_inter = self.interlayer @ c, self.interlayer @ s
        C, S = [], []
        for ell, layer in enumerate(self.layers):
            Cl, Sl = layer.aggregate(c[ell], s[ell])
            C.append(jnp.broadcast_to(Cl, (n,)) + C_inter[ell])
            S.append(jnp.broadcast_to(Sl, (n,)) + S_inter[ell])
        return jnp.concatenate(C), jnp.concatenate(S)

    @property
    def size(self):
        return self.num_layers * self.n

    def to_dense(self, n=None):
        L, m = self.num_layers, self.n
        eye = jnp.eye(m)
        rows = [
            [layer.to_dense(m) if ell == k else self.interlayer[ell, k] * eye for k in range(L)]
            for ell, layer in enumerate(self.layers)
        ]
        return jnp.block(rows)

    def layer_phases(self, theta):
        """θ (..., L·n) as (..., L, n)."""
        return jnp.asarray(theta).reshape(*np.shape(theta)[:-1], self.num_layers, self.n)
