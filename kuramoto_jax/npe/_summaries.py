r"""Summary statistics of observed phases y (T_obs, N).

1. The six per observation time t (the paper's Table 1):
   R_t, ψ_t (Z_t = R_t e^{iψ_t} = mean_j e^{i y_tj}), mean_j cos y_tj, sd_j cos y_tj,
   mean_j sin y_tj, sd_j sin y_tj.

2. A drift least-squares estimate of the couplings. Between consecutive observations
   Δ apart, the model gives (trapezoidal rule for the coupling integral)

       θ_i(t+Δ) − θ_i(t) = ω_i Δ + Σ_j K_ij x_ij(t),
       x_ij(t) = Δ/2 [sin(θ_j − θ_i)(t) + sin(θ_j − θ_i)(t+Δ)],

   which is linear in K with one unknown intercept ω_i Δ per oscillator. Removing each
   oscillator's time mean and solving the least-squares problem gives K̂ even when ω is
   unknown and redrawn in every data set. For the mean field, Σ_j (K/N) sin(θ_j − θ_i) =
   K R sin(ψ − θ_i) and a single K̂ pools all N oscillators. The phase increments are
   taken on the circle (wrapped to (−π, π]), so wrapped observations are fine as long as
   an oscillator turns by less than π between observations.

   Features: K̂ (per estimated coupling), log Σ x̃² (how informative the data set is)
   and log of the residual variance (per receiver).

Both are deterministic functions of y; the flow learns what they imply about θ.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj


@dataclasses.dataclass(frozen=True)
class SummaryConfig:
    """Which summaries to compute.

    Attributes:
        paper_every: keep the six statistics at every `paper_every`-th observation time
            (0 drops them).
        drift: add the drift least-squares features.
    """

    paper_every: int = 5
    drift: bool = True

    def __post_init__(self):
        if not isinstance(self.paper_every, (int, np.integer)) or self.paper_every < 0:
            raise ValueError(f"`paper_every` must be an integer ≥ 0, got {self.paper_every!r}")
        if self.paper_every == 0 and not self.drift:
            raise ValueError("SummaryConfig: at least one of `paper_every` > 0 or `drift` is needed")


def paper_summaries(y):
    """The six statistics per observation time: (T_obs, N) ↦ (T_obs, 6)
    ordered (R, ψ, mean cos, sd cos, mean sin, sd sin)."""
    R, psi = kj.order_parameter(y)
    c, s = jnp.cos(y), jnp.sin(y)
    return jnp.stack([R, psi, c.mean(-1), c.std(-1), s.mean(-1), s.std(-1)], axis=-1)


def _wrap(a):
    return jnp.angle(jnp.exp(1j * a))


def _increments(y):
    return _wrap(y[1:] - y[:-1])  # (T_obs − 1, N)


def _demean(a):
    return a - a.mean(0, keepdims=True)


def drift_least_squares_mean_field(y, spacing):
    """Mean-field drift regression: (T_obs, N) ↦ (3,) = (K̂, log Σ x̃², log residual variance)."""
    d = _increments(y)
    z = kj.complex_order_parameter(y)  # (T_obs,)
    c = jnp.imag(z[:, None] * jnp.exp(-1j * y))  # R sin(ψ − y_i) = (1/N) Σ_j sin(y_j − y_i)
    x = 0.5 * spacing * (c[1:] + c[:-1])
    xt, dt_ = _demean(x), _demean(d)
    sxx = jnp.sum(xt * xt)
    k_hat = jnp.sum(xt * dt_) / sxx
    resid = jnp.mean((dt_ - k_hat * xt) ** 2)
    return jnp.stack([k_hat, jnp.log(sxx), jnp.log(resid)])


def drift_least_squares_edges(y, spacing, edges, ridge=1e-8):
    """Drift regression for the couplings K_ij of the listed (receiver i, sender j) edges.

    Returns (E + 2·R,) = (K̂ per edge in `edges` order, then per receiver: log Σ x̃², log
    residual variance), R = number of distinct receivers.
    """
    d = _increments(y)
    receivers = sorted({i for i, _ in edges})
    k_hat = {}
    extras = []
    for i in receivers:
        senders = [j for r, j in edges if r == i]
        s_now = jnp.stack([jnp.sin(y[:, j] - y[:, i]) for j in senders], -1)  # (T_obs, S)
        X = _demean(0.5 * spacing * (s_now[1:] + s_now[:-1]))  # (T_obs − 1, S)
        b = _demean(d[:, i])
        G = X.T @ X
        sol = jnp.linalg.solve(G + ridge * jnp.trace(G) * jnp.eye(len(senders)), X.T @ b)
        resid = jnp.mean((b - X @ sol) ** 2)
        for j, kij in zip(senders, sol):
            k_hat[(i, j)] = kij
        extras += [jnp.log(jnp.trace(G)), jnp.log(resid)]
    return jnp.stack([k_hat[tuple(e)] for e in edges] + extras)


def summarize(y, simulator, config: SummaryConfig):
    """All summaries of one observation y (T_obs, N) ↦ (D,)."""
    parts = []
    if config.paper_every:
        parts.append(paper_summaries(y)[:: config.paper_every].reshape(-1))
    if config.drift and simulator.structure != "none":
        spacing = simulator.protocol.spacing
        if simulator.structure == "mean_field":
            parts.append(drift_least_squares_mean_field(y, spacing))
        else:
            parts.append(drift_least_squares_edges(y, spacing, simulator.edges))
    return jnp.concatenate(parts)
