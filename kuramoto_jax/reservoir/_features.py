r"""Drive a Kuramoto reservoir with a sampled input and record its features.

The reservoir is the mean-field Kuramoto model with an input term (Eq. (3.1) of
the reservoir paper, read as an additive drive by default):

    dθ_j/dt = ω_j + (K/N) Σ_l sin(θ_l − θ_j) + ε w_j u(t) r(θ_j),

with r(θ) = 1 ("additive", w_j = 1 in the paper), or sin θ, cos θ, ... The
read-out sees features φ(θ(t_k)) at the sample times t_k = t0 + k dt only:
the order parameters Z_m = (1/N) Σ_j e^{i m θ_j} (real and imaginary parts) or
cos θ_j, sin θ_j of a few oscillators. N×T phases are never stored: the
integration runs as an outer `lax.scan` over save points, each one a call of
`kj.simulate` over `stride` steps that returns only the final state.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj

from .._validate import one_of

INPUT_TERMS = ("additive", "sin", "cos", "-sin", "-cos")
"""Input terms r(θ_i) of ε u(t) r(θ_i): additive (r = 1) or a phase response."""


@functools.lru_cache(maxsize=64)
def order_parameter_features(M: int, full: bool = False) -> Callable:
    """θ (N,) ↦ features from the order parameters Z_m.

    full=False: (2M,) = [Re Z_1..Re Z_M, Im Z_1..Im Z_M]. Because Z_{−m} = conj(Z_m)
    and Z_0 = 1, these plus a bias span exactly the same space as the real and
    imaginary parts of Z_m for m = −M..M (the paper's set), so least-squares
    predictions are identical.
    full=True: (2(2M+1),) = Re, Im of Z_m for m = −M..M (redundant, for checks).
    """
    if not isinstance(M, (int, np.integer)) or M < 1:
        raise ValueError(f"`M` (number of harmonics) must be an integer >= 1, got {M!r}")
    ks = tuple(range(-M, M + 1)) if full else tuple(range(1, M + 1))

    def features(theta):
        z = kj.order_parameters(theta, ks)  # (len(ks), 2)
        return jnp.concatenate([z[:, 0], z[:, 1]])

    return features


def oscillator_features(index) -> Callable:
    """θ (N,) ↦ (2m,) = [cos θ_i, sin θ_i for i in `index`] (m oscillators)."""
    index = np.asarray(index, dtype=int)
    if index.ndim != 1 or index.size < 1:
        raise ValueError(f"`index` must be a non-empty 1-D list of oscillator indices, got shape {index.shape}")
    return _oscillator_features(tuple(int(i) for i in index))


@functools.lru_cache(maxsize=64)
def _oscillator_features(index: tuple) -> Callable:
    # cached per index tuple: the same function object lets jitted drives reuse their compilation
    index = np.asarray(index, dtype=int)

    def features(theta):
        th = theta[index]
        return jnp.concatenate([jnp.cos(th), jnp.sin(th)])

    return features


SECOND_ORDER = ("harmonics", "products")
"""Second-order read-outs of `second_order_features`: second harmonics or pairwise products."""


def second_order_features(n: int, extra: int, kind: str = "products") -> Callable:
    """θ (N,) ↦ (2n + P,) = [cos θ_i, sin θ_i of the first n oscillators, P second-order features].

    A linear read-out of cos θ_i, sin θ_i cannot form products of its inputs (NARMA-10's
    y_k u_{k−9} u_k term, the Hénon map's x_k²); these features give it degree-2 terms:

    - kind="harmonics": cos 2θ_1, sin 2θ_1, cos 2θ_2, sin 2θ_2, ... (the first P; P ≤ 2n),
      the diagonal products (cos² θ = (1 + cos 2θ)/2, cos θ sin θ = sin 2θ / 2);
    - kind="products": x_a x_b (a < b) of x = (cos θ_1, sin θ_1, ..., cos θ_n, sin θ_n), in order of
      the lag b − a, then a (the first P; P ≤ n(2n − 1)). Lag 1 pairs each oscillator's own
      cos θ_i sin θ_i = sin(2θ_i)/2 with the neighbour products sin θ_i cos θ_{i+1}, and
      cos θ_i cos θ_j = [cos(θ_i − θ_j) + cos(θ_i + θ_j)]/2: the interference of two oscillators.

    D = 2n + P features in all.
    """
    one_of("kind", kind, SECOND_ORDER)
    limit = 2 * n if kind == "harmonics" else n * (2 * n - 1)
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"`n` (oscillators read) must be an integer >= 1, got {n!r}")
    if not isinstance(extra, (int, np.integer)) or not 0 <= extra <= limit:
        raise ValueError(f"`extra` (second-order features) must be an integer in [0, {limit}] for n={n}, got {extra!r}")
    return _second_order_features(int(n), int(extra), kind)


@functools.lru_cache(maxsize=64)
def _second_order_features(n: int, extra: int, kind: str) -> Callable:
    pairs = sorted(((a, b) for a in range(2 * n) for b in range(a + 1, 2 * n)), key=lambda ab: (ab[1] - ab[0], ab[0]))
    ia, ib = (np.asarray(i, dtype=int) for i in zip(*pairs[:extra])) if extra and kind == "products" else ((), ())

    def features(theta):
        th = theta[:n]
        c, s = jnp.cos(th), jnp.sin(th)
        if kind == "harmonics":
            second = jnp.stack([jnp.cos(2 * th), jnp.sin(2 * th)], axis=1).reshape(-1)[:extra]
        else:
            x = jnp.stack([c, s], axis=1).reshape(-1)  # interleaved cos θ_1, sin θ_1, cos θ_2, ...
            second = x[jnp.asarray(ia, dtype=int)] * x[jnp.asarray(ib, dtype=int)]
        return jnp.concatenate([c, s, second])

    return features


def _check_input(name: str, u) -> np.ndarray:
    if isinstance(u, jax.core.Tracer):
        return u
    arr = np.asarray(u, dtype=float)
    if arr.ndim != 1 or arr.shape[0] < 2:
        raise ValueError(
            f"`{name}` must be a 1-D array sampled every dt with at least 2 samples, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite, got {int(np.sum(~np.isfinite(arr)))} non-finite value(s)")
    return arr


def drive_reservoir(
    omega,
    theta0,
    K,
    eps,
    u,
    dt: float,
    *,
    features: Callable,
    skip: int = 0,
    stride: int = 1,
    input_term: str = "additive",
    input_weights=None,
    solver: str = "rk4",
):
    """Drive the reservoir with samples u_k = u(t0 + k dt) and record features.

    Args:
        omega: ω (N,) natural frequencies.  theta0: θ(t0) (N,).
        K: mean-field coupling (scalar).  eps: input gain ε (scalar).
        u: (T,) input samples; u(t) is linearly interpolated between samples.
        dt: sample spacing, also the integration step.
        features: θ (N,) ↦ (D,) feature map (see `order_parameter_features`).
        skip: samples before the first recorded feature (the washout).
        stride: record every `stride`-th sample after `skip`.
        input_term: r(θ) of the input term (see module docstring).
        input_weights: w (N,) or None (all ones).

    Returns:
        (X, theta_end): X (S, D) features at samples skip, skip+stride, ... ≤ T−1,
        and θ at the last recorded sample (N,).

    jit/vmap friendly in omega, theta0, K, eps, u, input_weights (build no model
    outside); `skip`, `stride`, `features`, `input_term` are static.
    """
    one_of("input_term", input_term, INPUT_TERMS)
    u = jnp.asarray(_check_input("u", u))
    T = u.shape[0]
    skip, stride = int(skip), int(stride)
    if not 0 <= skip < T:
        raise ValueError(f"`skip` must be in [0, {T - 1}] for an input of {T} samples, got {skip}")
    if stride < 1:
        raise ValueError(f"`stride` must be an integer >= 1, got {stride}")
    n_save = (T - 1 - skip) // stride + 1

    def model(u_piece):
        return kj.Kuramoto(
            omega,
            kj.MeanField(K),
            drive=kj.SampledSignal(u_piece, dt),
            drive_gain=eps,
            drive_weights=input_weights,
            drive_response=input_term,
        )

    def advance(theta, u_piece, steps):
        # each piece starts at t = 0 with its own samples: time stays small and
        # exact in float32 (an absolute clock of 300 s would round dt by 0.3 %).
        sol = kj.simulate(
            model(u_piece), theta, t0=0.0, t1=steps * dt, dt=dt, solver=solver, max_steps=steps + 2,
            check_finite=False,
        )
        return sol.theta[-1]

    theta = jnp.asarray(theta0)
    if skip > 0:
        theta = advance(theta, u[: skip + 1], skip)
    x0 = features(theta)
    if n_save == 1:
        return x0[None], theta
    starts = skip + stride * jnp.arange(n_save - 1)

    def body(th, start):
        piece = jax.lax.dynamic_slice(u, (start,), (stride + 1,))
        th = advance(th, piece, stride)
        return th, features(th)

    theta, xs = jax.lax.scan(body, theta, starts)
    return jnp.concatenate([x0[None], xs]), theta


drive_reservoir_jit = jax.jit(
    drive_reservoir, static_argnames=("dt", "features", "skip", "stride", "input_term", "solver")
)
"""`drive_reservoir` under `jax.jit` (compiled once per shapes and static settings)."""
drive_reservoir_jit.__doc__ = "`drive_reservoir` under `jax.jit` (compiled once per shapes and static settings)."
