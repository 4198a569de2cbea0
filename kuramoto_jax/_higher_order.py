r"""Phase oscillators with Daido higher harmonics and triadic (higher-order) coupling.

    θ̇_i = ω_i + Σ_k Σ_j K_ij [a_k sin k(θ_j − θ_i) + b_k cos k(θ_j − θ_i)] + T_i(θ)

Harmonics (Daido, Prog. Theor. Phys. 88, 1213 (1992)) reuse the pairwise couplings'
`aggregate`: Σ_j K_ij e^{ik(θ_j − θ_i)} = e^{−ikθ_i} A_i(kθ), one aggregate per harmonic,
so `MeanField`, `Dense` and `Sparse` keep their O(N), one-read and O(E) costs.

Triadic coupling in the form of Skardal & Arenas (Phys. Rev. Lett. 122, 248301 (2019);
Commun. Phys. 3, 218 (2020)):

    T_i = (K₂/N²) Σ_{j,l} sin(2θ_j − θ_l − θ_i) = K₂ Im(Z₂ Z̄₁ e^{−iθ_i}),   Z_k = (1/N) Σ_j e^{ikθ_j},

O(N) through Z₁ and Z₂ (`TriadicMeanField`). On a hypergraph given as a list of triangles
{i, j, l} with weights w (`Triangles`), each triangle contributes to each of its nodes

    w [sin(2θ_j − θ_l − θ_i) + sin(2θ_l − θ_j − θ_i)],

at cost O(triangles). On the complete hypergraph with w = K₂/N² this is the all-to-all sum over
distinct j ≠ l ≠ i, which `TriadicMeanField(K2, distinct=True)` gives in O(N): the terms with
j = l and j = i cancel, leaving  N² Im(Z₂ Z̄₁ e^{−iθ_i}) − N Im(Z₂ e^{−2iθ_i})  before the K₂/N².
"""

from __future__ import annotations

import abc

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v
from ._coupling import AbstractCoupling
from ._protocol import AbstractModel
from ._validate import one_of

FORMS = ("2j-l-i", "j+l-2i")


class AbstractTriadic(eqx.Module):
    """A triadic coupling: θ (N,) ↦ T(θ) (N,)."""

    @abc.abstractmethod
    def interaction(self, theta: jax.Array) -> jax.Array:
        """T_i(θ), shape (N,)."""

    @property
    @abc.abstractmethod
    def size(self) -> int | None:
        """Number of oscillators fixed by the coupling (None for all-to-all)."""


class TriadicMeanField(AbstractTriadic):
    """All-to-all triadic coupling, O(N) through Z₁ and Z₂.

    form "2j-l-i" (default; Skardal & Arenas, PRL 2019):  T_i = (K₂/N²) Σ_{j,l} sin(2θ_j − θ_l − θ_i)
    = K₂ Im(Z₂ Z̄₁ e^{−iθ_i}). form "j+l-2i" (the simplicial form of Skardal & Arenas, Commun.
    Phys. 2020):  T_i = (K₂/N²) Σ_{j,l} sin(θ_j + θ_l − 2θ_i) = K₂ Im(Z₁² e^{−2iθ_i}).

    Args:
        K2: K₂ (scalar).
        distinct: sum only over distinct j ≠ l ≠ i (the complete hypergraph of triangles);
            the difference is O(1/N).
        form: "2j-l-i" or "j+l-2i".
    """

    strength: jax.Array
    distinct: bool = eqx.field(static=True)
    form: str = eqx.field(static=True)

    def __init__(self, K2, *, distinct: bool = False, form: str = "2j-l-i"):
        one_of("form", form, FORMS)
        self.strength = v.scalar("K2", K2)
        self.distinct = bool(distinct)
        self.form = form

    def interaction(self, theta):
        c, s = jnp.cos(theta), jnp.sin(theta)
        x1, y1 = jnp.mean(c), jnp.mean(s)
        c2, s2 = c * c - s * s, 2 * s * c
        x2, y2 = jnp.mean(c2), jnp.mean(s2)
        if self.form == "2j-l-i":
            # Z₂ Z̄₁ = (x2 + i y2)(x1 − i y1);  Im(W e^{−iθ}) = Im W cos θ − Re W sin θ.
            wr, wi = x2 * x1 + y2 * y1, y2 * x1 - x2 * y1
            out = wi * c - wr * s
        else:
            # Z₁² e^{−2iθ}: Im = Im(Z₁²) cos 2θ − Re(Z₁²) sin 2θ.
            out = 2 * x1 * y1 * c2 - (x1 * x1 - y1 * y1) * s2
        if self.distinct:
            n = theta.shape[-1]
            # Remove the j = l, j = i and l = i terms (for "2j-l-i" the j = l and j = i ones cancel).
            out = out - (y2 * c2 - x2 * s2) / n
            if self.form == "j+l-2i":
                out = out - 2 * (y1 * c - x1 * s) / n
        return self.strength * out

    @property
    def size(self):
        return None


class Triangles(AbstractTriadic):
    """Triadic coupling on a hypergraph of triangles (2-simplices), O(number of triangles).

    Each triangle {i, j, l} adds to node i: w [sin(2θ_j − θ_l − θ_i) + sin(2θ_l − θ_j − θ_i)]
    (form "2j-l-i") or 2w sin(θ_j + θ_l − 2θ_i) (form "j+l-2i"), i.e. the ordered pairs (j, l)
    and (l, j) of the all-to-all sum.

    Args:
        triangles: (M, 3) integer node triples {i, j, l} (unordered).
        weights: w_m per triangle, scalar or (M,).
        n: number of oscillators N.
        form: "2j-l-i" (default) or "j+l-2i", as in `TriadicMeanField`.
    """

    triangles: jax.Array
    weights: jax.Array
    n: int = eqx.field(static=True)
    form: str = eqx.field(static=True)

    def __init__(self, triangles, weights, n: int, *, form: str = "2j-l-i"):
        one_of("form", form, FORMS)
        if not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"`n` must be a positive int (number of oscillators), got {n!r}")
        tri = np.asarray(triangles)
        if tri.ndim != 2 or tri.shape[1] != 3 or not np.issubdtype(tri.dtype, np.integer):
            raise ValueError(f"`triangles` must be an (M, 3) integer array of node triples, got {v.describe(tri)}")
        if tri.size and (tri.min() < 0 or tri.max() >= n):
            raise ValueError(f"`triangles` must hold nodes in [0, {n}), got values in [{tri.min()}, {tri.max()}]")
        if np.any((tri[:, 0] == tri[:, 1]) | (tri[:, 1] == tri[:, 2]) | (tri[:, 0] == tri[:, 2])):
            raise ValueError("`triangles` must hold three distinct nodes per row")
        w = v.as_array("weights", weights)
        if w.ndim == 0:
            w = jnp.broadcast_to(w, (tri.shape[0],))
        if w.shape != (tri.shape[0],):
            raise ValueError(f"`weights` must be a scalar or have one entry per triangle ({tri.shape[0]}), got {v.describe(w)}")
        v.check_finite("weights", w)
        self.triangles, self.weights, self.n = jnp.asarray(tri, jnp.int32), w, int(n)
        self.form = form

    @classmethod
    def complete(cls, n: int, weight, *, form: str = "2j-l-i") -> "Triangles":
        """Every triple of N nodes once (N(N−1)(N−2)/6 triangles); for tests and small N."""
        from itertools import combinations

        return cls(np.array(list(combinations(range(n), 3)), dtype=np.int64).reshape(-1, 3), weight, n, form=form)

    def interaction(self, theta):
        t = theta[self.triangles]  # (M, 3)
        out = jnp.zeros(theta.shape, jnp.result_type(theta.dtype, self.weights.dtype))
        for a in range(3):
            b, c = (a + 1) % 3, (a + 2) % 3
            ta, tb, tc = t[:, a], t[:, b], t[:, c]
            if self.form == "2j-l-i":
                contrib = self.weights * (jnp.sin(2 * tb - tc - ta) + jnp.sin(2 * tc - tb - ta))
            else:  # both orderings (j, l) and (l, j) of the same term
                contrib = 2 * self.weights * jnp.sin(tb + tc - 2 * ta)
            out = out + jax.ops.segment_sum(contrib, self.triangles[:, a], num_segments=self.n)
        return out

    @property
    def size(self):
        return self.n


class HigherOrderKuramoto(AbstractModel):
    """Phase oscillators with a Daido pairwise coupling function and triadic coupling.

    θ̇_i = ω_i + Σ_k Σ_j K_ij [a_k sin k(θ_j − θ_i) + b_k cos k(θ_j − θ_i)] + T_i(θ);
    `simulate` takes θ0 (N,) and saves θ (T, N).

    Args:
        omega: ω (N,).
        pairwise: `MeanField`, `Dense`, `Sparse` or `Multiplex`, or None (no pairwise term).
        triadic: `TriadicMeanField` or `Triangles`, or None.
        sin_harmonics: a_k for k = 1..H, shape (H,); default (1,) (the Kuramoto coupling).
        cos_harmonics: b_k for k = 1..H, shape (H,) (default zeros).
    """

    omega: jax.Array
    pairwise: AbstractCoupling | None
    triadic: AbstractTriadic | None
    sin_harmonics: jax.Array
    cos_harmonics: jax.Array | None

    def __init__(self, omega, pairwise=None, triadic=None, *, sin_harmonics=(1.0,), cos_harmonics=None):
        omega = v.vector("omega", omega)
        n = omega.shape[0]
        if pairwise is not None and not isinstance(pairwise, AbstractCoupling):
            raise TypeError(f"`pairwise` must be MeanField, Dense, Sparse, Multiplex or None, got {type(pairwise).__name__}")
        if triadic is not None and not isinstance(triadic, AbstractTriadic):
            raise TypeError(f"`triadic` must be TriadicMeanField, Triangles or None, got {type(triadic).__name__}")
        for label, c in (("pairwise", pairwise), ("triadic", triadic)):
            if c is not None and c.size is not None and c.size != n:
                raise ValueError(f"`{label}` is for {c.size} oscillators but `omega` has length {n}")
        a = v.vector("sin_harmonics", sin_harmonics)
        b = None if cos_harmonics is None else v.vector("cos_harmonics", cos_harmonics, a.shape[0])
        self.omega, self.pairwise, self.triadic = omega, pairwise, triadic
        self.sin_harmonics, self.cos_harmonics = a, b

    @property
    def n(self) -> int:
        """Number of oscillators N."""
        return self.omega.shape[0]

    def initial_state(self, theta0):
        return v.vector("theta0", theta0, self.n)

    def vector_field(self, t, theta, args=None):
        out = self.omega
        if self.pairwise is not None:
            for k in range(self.sin_harmonics.shape[0]):
                kth = (k + 1) * theta
                ck, sk = jnp.cos(kth), jnp.sin(kth)
                C, S = self.pairwise.aggregate(ck, sk)
                # Σ_j K_ij sin k(θ_j − θ_i) = cos kθ_i S_i − sin kθ_i C_i; the cos term: cos C + sin S.
                out = out + self.sin_harmonics[k] * (ck * S - sk * C)
                if self.cos_harmonics is not None:
                    out = out + self.cos_harmonics[k] * (ck * C + sk * S)
        if self.triadic is not None:
            out = out + self.triadic.interaction(theta)
        return out


def triadic_stationary_order_parameter(K1, K2, delta: float = 1.0) -> np.ndarray:
    """Stationary r of the Skardal–Arenas model with Lorentzian ω (half-width Δ), N → ∞.

    On the Ott–Antonsen manifold ṙ = −Δr + (K₁/2) r(1 − r²) + (K₂/2) r³(1 − r²), so the
    non-zero branches solve K₁ + K₂ r² = 2Δ/(1 − r²):

        r±² = [K₂ − K₁ ± sqrt((K₁ + K₂)² − 8ΔK₂)] / (2K₂).

    Returns (..., 2) with (r₋, r₊) (the unstable and the stable synchronised branch); NaN
    where a branch does not exist. K1, K2 scalars or arrays (broadcast).
    """
    K1, K2 = np.broadcast_arrays(np.asarray(K1, float), np.asarray(K2, float))
    with np.errstate(invalid="ignore", divide="ignore"):
        root = np.sqrt((K1 + K2) ** 2 - 8 * delta * K2)
        pairwise_only = 1 - 2 * delta / K1  # K₂ = 0: the Kuramoto branch r² = 1 − 2Δ/K₁
        branches = [
            np.where(K2 > 0, (K2 - K1 - root) / (2 * K2), np.nan),
            np.where(K2 > 0, (K2 - K1 + root) / (2 * K2), pairwise_only),
        ]
        out = [np.where((r2 > 0) & (r2 < 1), np.sqrt(np.abs(r2)), np.nan) for r2 in branches]
    return np.stack(out, -1)
