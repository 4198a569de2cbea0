r"""Kuramoto networks with adaptive (plastic) couplings: K_ij is part of the state.

    θ̇_i  = ω_i + σ Σ_j K_ij sin(θ_j − θ_i)
    K̇_ij = ε (α cos(θ_j − θ_i + β) − K_ij)

β = 0 is the Hebbian rule of Seliger, Young & Tsimring (Phys. Rev. E 65, 041906 (2002)):
in-phase pairs strengthen; β = π is anti-Hebbian. The phase-difference-dependent rule of
Aoki & Aoyagi (Phys. Rev. Lett. 102, 034101 (2009)) and Berner, Schöll & Yanchuk (SIAM J.
Appl. Dyn. Syst. 18, 2227 (2019)), K̇_ij = −ε (sin(θ_i − θ_j + β_B) + K_ij), is this rule with
α = 1 and β = −β_B − π/2.

Dense: K (N, N) in the state, O(N²) per evaluation (as the dense coupling). Sparse: one
weight per edge of a fixed edge list, O(E). With β = 0 (or π) the rule is even in θ_j − θ_i,
so a symmetric K stays symmetric.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from . import _validate as v
from ._coupling import Dense, Sparse
from ._protocol import AbstractModel


class AdaptiveState(eqx.Module):
    """State of an adaptive network: theta (…, N) phases and weights K, (…, N, N) dense or (…, E) per edge."""

    theta: jax.Array
    weights: jax.Array


class AdaptiveKuramoto(AbstractModel):
    """Kuramoto oscillators whose couplings follow K̇_ij = ε(α cos(θ_j − θ_i + β) − K_ij).

    Args:
        omega: ω (N,).
        coupling: `Dense(K0)` (every K_ij adapts) or `Sparse(...)` (the weights of its edges adapt);
            it fixes the structure; the initial weights come from `simulate`'s initial state.
        epsilon: ε ≥ 0, the adaptation rate (scalar).
        alpha: α, the target amplitude (scalar, default 1).
        beta: β, the plasticity phase (scalar, default 0: Hebbian).
        scale: σ, a global factor on the coupling sum (e.g. 1/N), default 1.

    `simulate(model, y0, ...)` takes y0 = θ0 (N,) (weights start at the coupling's) or an
    `AdaptiveState(theta0, K0)`; `ModelSolution.state` is an `AdaptiveState` with leading axis T.
    """

    omega: jax.Array
    coupling: Dense | Sparse
    epsilon: jax.Array
    alpha: jax.Array
    beta: jax.Array
    scale: jax.Array

    def __init__(self, omega, coupling, *, epsilon, alpha=1.0, beta=0.0, scale=1.0):
        omega = v.vector("omega", omega)
        if not isinstance(coupling, (Dense, Sparse)):
            raise TypeError(f"`coupling` must be kuramoto_jax.Dense or Sparse for adaptive weights, got {type(coupling).__name__}")
        if coupling.size != omega.shape[0]:
            raise ValueError(f"`coupling` is for {coupling.size} oscillators but `omega` has length {omega.shape[0]}")
        self.omega, self.coupling = omega, coupling
        self.epsilon = v.scalar("epsilon", epsilon, nonnegative=True)
        self.alpha = v.scalar("alpha", alpha)
        self.beta = v.scalar("beta", beta)
        self.scale = v.scalar("scale", scale)

    @property
    def n(self) -> int:
        """Number of oscillators N."""
        return self.omega.shape[0]

    @property
    def dense(self) -> bool:
        return isinstance(self.coupling, Dense)

    def _weights(self):
        return self.coupling.matrix if self.dense else self.coupling.weights

    def initial_state(self, y0):
        if isinstance(y0, AdaptiveState):
            theta0 = v.vector("theta0", y0.theta, self.n)
            w0 = v.as_array("weights0", y0.weights)
            want = self._weights().shape
            if w0.shape != want:
                raise ValueError(f"`weights0` must have shape {want} (as the coupling's), got {v.describe(w0)}")
            v.check_finite("weights0", w0)
        else:
            theta0 = v.vector("theta0", y0, self.n)
            w0 = self._weights()
        dtype = jnp.result_type(theta0.dtype, w0.dtype, self.omega.dtype)
        return AdaptiveState(theta0.astype(dtype), w0.astype(dtype))

    def vector_field(self, t, y, args=None):
        theta, w = y.theta, y.weights
        c, s = jnp.cos(theta), jnp.sin(theta)
        # α cos(θ_j − θ_i + β) = a_i cos θ_j + b_i sin θ_j with a = α(cos β cos θ + sin β sin θ),
        # b = α(cos β sin θ − sin β cos θ): one rank-2 update, no pairwise trigonometry.
        cb, sb = jnp.cos(self.beta), jnp.sin(self.beta)
        a = self.alpha * (cb * c + sb * s)
        b = self.alpha * (cb * s - sb * c)
        if self.dense:
            C, S = Dense(w).aggregate(c, s)
            target = a[:, None] * c[None, :] + b[:, None] * s[None, :]
        else:
            C, S = eqx.tree_at(lambda cp: cp.weights, self.coupling, w).aggregate(c, s)
            r, snd = self.coupling.receivers, self.coupling.senders
            target = a[r] * c[snd] + b[r] * s[snd]
        dtheta = self.omega + self.scale * (c * S - s * C)
        dw = self.epsilon * (target - w)
        return AdaptiveState(dtheta, dw)
