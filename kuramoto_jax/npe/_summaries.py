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

3. Optionally, a sequence s (T_seq, F) kept whole for a learned summary network
   (`npe.SequenceEmbedding`, trained jointly with the flow): "paper" = the six statistics
   per observation time; "pairs" = per time, cos and sin of every phase difference
   y_j − y_i (i < j) and every oscillator's wrapped increment divided by Δ (small N only).
   It is appended flattened after the fixed summaries.

With R > 1 trajectories per data set (`ObservationProtocol.repeats`), increments are
taken within each trajectory only; the unknown intercepts ω_i Δ are shared by all of them.

All are deterministic functions of y; the flow learns what they imply about θ.
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj

from .._validate import one_of

SEQUENCES = ("none", "paper", "pairs")
MAX_PAIRS_N = 10  # the "pairs" sequence has N(N − 1) + N channels


@dataclasses.dataclass(frozen=True)
class SummaryConfig:
    """Which summaries to compute.

    Attributes:
        paper_every: keep the six statistics at every `paper_every`-th observation time
            (0 drops them).
        drift: add the drift least-squares features.
        sequence: "none", "paper" or "pairs": the per-time sequence for a learned summary network.
        sequence_every: keep every `sequence_every`-th row of that sequence.
    """

    paper_every: int = 5
    drift: bool = True
    sequence: str = "none"
    sequence_every: int = 1

    def __post_init__(self):
        if not isinstance(self.paper_every, (int, np.integer)) or self.paper_every < 0:
            raise ValueError(f"`paper_every` must be an integer ≥ 0, got {self.paper_every!r}")
        one_of("sequence", self.sequence, SEQUENCES)
        if isinstance(self.sequence_every, bool) or not isinstance(self.sequence_every, (int, np.integer)) \
                or self.sequence_every < 1:
            raise ValueError(f"`sequence_every` must be an integer ≥ 1, got {self.sequence_every!r}")
        if self.paper_every == 0 and not self.drift and self.sequence == "none":
            raise ValueError("SummaryConfig: at least one of `paper_every` > 0, `drift` or a `sequence` is needed")


def paper_summaries(y):
    """The six statistics per observation time: (T_obs, N) ↦ (T_obs, 6)
    ordered (R, ψ, mean cos, sd cos, mean sin, sd sin)."""
    R, psi = kj.order_parameter(y)
    c, s = jnp.cos(y), jnp.sin(y)
    return jnp.stack([R, psi, c.mean(-1), c.std(-1), s.mean(-1), s.std(-1)], axis=-1)


def _wrap(a):
    return jnp.angle(jnp.exp(1j * a))


def _segments(a, segments):
    """(R·T, ...) ↦ (R, T, ...): the rows of each trajectory."""
    return a.reshape((segments, a.shape[0] // segments) + a.shape[1:])


def _increments(y, segments=1):
    """Circular increments within each trajectory: (R·T, N) ↦ (R·(T − 1), N)."""
    ys = _segments(y, segments)
    d = _wrap(ys[:, 1:] - ys[:, :-1])
    return d.reshape((-1,) + d.shape[2:])


def _trapezoid(a, spacing, segments=1):
    """Δ/2 (a(t) + a(t + Δ)) within each trajectory: (R·T, ...) ↦ (R·(T − 1), ...)."""
    a = _segments(a, segments)
    x = 0.5 * spacing * (a[:, 1:] + a[:, :-1])
    return x.reshape((-1,) + x.shape[2:])


def _demean(a):
    return a - a.mean(0, keepdims=True)


def drift_least_squares_mean_field(y, spacing, segments=1):
    """Mean-field drift regression: (T_obs, N) ↦ (3,) = (K̂, log Σ x̃², log residual variance).

    `segments`: the number R of trajectories stacked along the rows of y."""
    d = _increments(y, segments)
    z = kj.complex_order_parameter(y)  # (T_obs,)
    c = jnp.imag(z[:, None] * jnp.exp(-1j * y))  # R sin(ψ − y_i) = (1/N) Σ_j sin(y_j − y_i)
    x = _trapezoid(c, spacing, segments)
    xt, dt_ = _demean(x), _demean(d)
    sxx = jnp.sum(xt * xt)
    k_hat = jnp.sum(xt * dt_) / sxx
    resid = jnp.mean((dt_ - k_hat * xt) ** 2)
    return jnp.stack([k_hat, jnp.log(sxx), jnp.log(resid)])


def drift_least_squares_edges(y, spacing, edges, ridge=1e-8, segments=1):
    """Drift regression for the couplings K_ij of the listed (receiver i, sender j) edges.

    Returns (E + 2·R,) = (K̂ per edge in `edges` order, then per receiver: log Σ x̃², log
    residual variance), R = number of distinct receivers. `segments`: trajectories stacked
    along the rows of y.
    """
    d = _increments(y, segments)
    receivers = sorted({i for i, _ in edges})
    k_hat = {}
    extras = []
    for i in receivers:
        senders = [j for r, j in edges if r == i]
        s_now = jnp.stack([jnp.sin(y[:, j] - y[:, i]) for j in senders], -1)  # (T_obs, S)
        X = _demean(_trapezoid(s_now, spacing, segments))  # (T_obs − R, S)
        b = _demean(d[:, i])
        G = X.T @ X
        sol = jnp.linalg.solve(G + ridge * jnp.trace(G) * jnp.eye(len(senders)), X.T @ b)
        resid = jnp.mean((b - X @ sol) ** 2)
        for j, kij in zip(senders, sol):
            k_hat[(i, j)] = kij
        extras += [jnp.log(jnp.trace(G)), jnp.log(resid)]
    return jnp.stack([k_hat[tuple(e)] for e in edges] + extras)


def pair_sequence(y, spacing, segments=1):
    """(T_obs, N) ↦ (T_obs − R, N(N − 1) + N): per time, cos and sin of y_j − y_i (i < j),
    then each oscillator's wrapped increment over the next Δ divided by Δ."""
    n = y.shape[-1]
    i, j = np.triu_indices(n, 1)
    diff = y[:, j] - y[:, i]
    rows = _segments(jnp.concatenate([jnp.cos(diff), jnp.sin(diff)], -1), segments)[:, :-1]
    rows = rows.reshape(-1, rows.shape[-1])
    return jnp.concatenate([rows, _increments(y, segments) / spacing], -1)


def sequence_features(y, simulator, config: SummaryConfig):
    """The sequence (T_seq, F) fed to a learned summary network."""
    if config.sequence == "paper":
        seq = paper_summaries(y)
    elif config.sequence == "pairs":
        seq = pair_sequence(y, simulator.protocol.spacing, simulator.protocol.repeats)
    else:
        raise ValueError("`sequence_features` needs a SummaryConfig with `sequence` 'paper' or 'pairs'")
    return seq[:: config.sequence_every]


def sequence_shape(simulator, config: SummaryConfig) -> tuple:
    """(T_seq, F) of `sequence_features` for this simulator, or () without a sequence."""
    if config.sequence == "none":
        return ()
    t_obs, n, r = len(simulator.observation_times), simulator.n, simulator.protocol.repeats
    if config.sequence == "paper":
        t, f = t_obs, 6
    else:
        t, f = t_obs - r, n * (n - 1) + n
    return (len(range(0, t, config.sequence_every)), f)


def summarize(y, simulator, config: SummaryConfig):
    """All summaries of one observation y (T_obs, N) ↦ (D,): fixed ones, then the flattened sequence."""
    if config.sequence == "pairs" and simulator.n > MAX_PAIRS_N:
        raise ValueError(f"`sequence`='pairs' is for networks of at most {MAX_PAIRS_N} oscillators, got N = {simulator.n}")
    parts = []
    segments = simulator.protocol.repeats
    if config.paper_every:
        parts.append(paper_summaries(y)[:: config.paper_every].reshape(-1))
    if config.drift and simulator.structure != "none":
        spacing = simulator.protocol.spacing
        if simulator.structure == "mean_field":
            parts.append(drift_least_squares_mean_field(y, spacing, segments))
        else:
            parts.append(drift_least_squares_edges(y, spacing, simulator.edges, segments=segments))
    if config.sequence != "none":
        parts.append(sequence_features(y, simulator, config).reshape(-1))
    return jnp.concatenate(parts)
