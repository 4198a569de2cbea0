r"""Sample-and-hold drive of a Kuramoto reservoir with inputs the dynamics cannot rotate away.

Each discrete input u_k is held for `hold` seconds, t ∈ [k h, (k+1) h):

    dθ_i/dt = ω_i + Σ_j K_ij sin(θ_j − θ_i) + ε w_i u_k r_i(θ_i),

with the input mechanism r_i

- "frequency":      r_i = 1, heterogeneous weights w_i: the input shifts each frequency
                    by its own amount ε w_i u_k (a common w_i = 1 would only rotate the
                    order parameters, see experiments/reservoir/RESULTS.md §1);
- "phase_response": r_i = sin(θ_i + φ_i), the phase-response curve of a type-II
                    oscillator with its own phase offset φ_i;
- "coupling":       no input term; the input modulates the coupling instead,
                    K_ij → K_ij (1 + ε u_k) (the synchrony level carries the input).

K_ij = K/N ("mean_field", `kj.MeanField`), K A_ij ("dense", `kj.Dense`) with A a signed
random matrix of spectral radius 1, or K A_ij ("sparse", `kj.Sparse`, O(E) per step) with A a signed
random directed graph of mean degree k (A_ij ≠ 0 with probability k/(N − 1), i ≠ j, weights N(0, 1)),
rescaled to spectral radius 1 like the dense one (`random_coupling_matrix`). The frequencies ω_i are
drawn from any law of `kj.theory.LAWS` (Gaussian, Lorentzian, uniform) with its spread σ, and the
operating point is K = (K/K_c) K_c(law, σ), K_c = 2/(π g(0)) (`kj.theory.critical_coupling`). The read-out sees features of θ at the end of
each hold, or, with V virtual nodes (time multiplexing), at t = k h + v h/V, v = 1..V,
concatenated into one row of V × (features of θ) per input sample.

All physical parameters live in one pytree (`HeldParams`), so `drive_held` is a pure
function of them: batch it with `parallel.batch_map`, differentiate it with `jax.grad`.
Integration is `kj.simulate` (fixed-step, `dt` dividing the hold) over each hold.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj

from .._validate import one_of

INPUT_MECHANISMS = ("frequency", "phase_response", "coupling")
"""Input mechanisms of `drive_held`: r_i = 1 (frequency), sin(θ_i + φ_i) (phase response), or K_ij (1 + ε u_k)."""
COUPLINGS = ("mean_field", "dense", "sparse")
"""Couplings of the held reservoir: `kj.MeanField(K)`, `kj.Dense(K A)` or `kj.Sparse` with weights K A_ij."""


class HeldParams(NamedTuple):
    """Physical parameters of a held-input reservoir (a pytree; every leaf differentiable).

    omega: ω (N,).  theta0: θ(0) (N,).  K: coupling scale (scalar).
    eps: input gain ε (scalar).  w: input weights w_i (N,).  phi: phase offsets φ_i (N,)
    (used by "phase_response" only).  A: coupling shape, None (mean field), an (N, N) array
    ("dense") or a `kj.Sparse` with the weights A_ij on its edges ("sparse").
    """

    omega: jax.Array
    theta0: jax.Array
    K: jax.Array
    eps: jax.Array
    w: jax.Array
    phi: jax.Array
    A: jax.Array | kj.Sparse | None = None


class PhaseResponseDrive(kj.Drive):
    """Input ε w_i u(t) sin(θ_i + φ_i) (a `kj.Drive` with a per-oscillator phase offset φ_i)."""

    phases: jax.Array

    def __init__(self, signal, gain, weights, phases):
        super().__init__(signal, gain, weights, "sin")
        self.phases = jnp.asarray(phases)

    def __call__(self, t, theta):
        return self.gain * self.signal(t) * self.weights * jnp.sin(theta + self.phases)


def held_model(params: HeldParams, uk, hold: float, mechanism: str) -> kj.Kuramoto:
    """The Kuramoto model of one hold: constant input u_k over [0, hold]."""
    signal = kj.SampledSignal(jnp.stack([uk, uk]), hold)
    K = params.K * (1 + params.eps * uk) if mechanism == "coupling" else params.K
    if params.A is None:
        coupling = kj.MeanField(K)
    elif isinstance(params.A, kj.Sparse):  # same edges, weights scaled by K (keeps the receiver order)
        coupling = eqx.tree_at(lambda c: c.weights, params.A, K * params.A.weights)
    else:
        coupling = kj.Dense(K * params.A)
    if mechanism == "coupling":
        return kj.Kuramoto(params.omega, coupling)
    if mechanism == "frequency":
        return kj.Kuramoto(params.omega, coupling, drive=signal, drive_gain=params.eps, drive_weights=params.w)
    return kj.Kuramoto(params.omega, coupling, drive=PhaseResponseDrive(signal, params.eps, params.w, params.phi))


def time_rescaled(params: HeldParams, hold, mechanism: str) -> HeldParams:
    """The parameters of one hold of length h = `hold` on the unit interval s = t/h ∈ [0, 1].

    dθ/ds = h f(θ, u_k), and every term of f is linear in one of ω, K, ε: h f is f with ω → h ω,
    K → h K and ε → h ε ("frequency", "phase_response"), or ω → h ω, K → h K ("coupling", where the
    input enters as K (1 + ε u_k)). Driving the result with hold=1 and dt = 1/m is the drive with hold h
    and dt = h/m (the same m steps), differentiable in h: the hold time as a continuous parameter.
    """
    one_of("mechanism", mechanism, INPUT_MECHANISMS)
    eps = params.eps if mechanism == "coupling" else hold * params.eps
    return params._replace(omega=hold * params.omega, K=hold * params.K, eps=eps)


def oscillator_group_features(n: int, groups: int) -> Callable:
    """θ (N,) ↦ (2G,) = [Re Z^(g), Im Z^(g)] of G contiguous groups, Z^(g) = mean_{j ∈ g} e^{iθ_j}."""
    if not 1 <= groups <= n:
        raise ValueError(f"`groups` must be in [1, {n}], got {groups}")
    return _group_features(int(n), int(groups))


@functools.lru_cache(maxsize=64)
def _group_features(n: int, groups: int) -> Callable:
    labels = jnp.asarray(np.arange(n) * groups // n)

    def features(theta):
        c = jax.ops.segment_sum(jnp.cos(theta), labels, groups) / jnp.bincount(labels, length=groups)
        s = jax.ops.segment_sum(jnp.sin(theta), labels, groups) / jnp.bincount(labels, length=groups)
        return jnp.concatenate([c, s])

    return features


def all_oscillator_features(theta):
    """θ (N,) ↦ (2N,) = [cos θ_1..cos θ_N, sin θ_1..sin θ_N]."""
    return jnp.concatenate([jnp.cos(theta), jnp.sin(theta)])


def drive_held(params: HeldParams, u, *, hold: float, dt: float, mechanism: str = "phase_response",
               features: Callable = all_oscillator_features, virtual_nodes: int = 1, solver: str = "rk4"):
    """Features of the reservoir driven by u (T,), each sample held for `hold` seconds.

    Args:
        params: `HeldParams` (N oscillators).
        u: (T,) input samples.
        hold: seconds each sample is held (a whole multiple of `dt` × `virtual_nodes`).
        dt: integration step.
        mechanism: "frequency", "phase_response" or "coupling" (module docstring).
        features: θ (N,) ↦ (d,) feature map.
        virtual_nodes: V read-out times per hold (time multiplexing).
        solver: fixed-step solver of `kj.simulate`.

    Returns:
        (X, θ_end): X (T, V d), row k read during the hold of u_k (after it: the last of its
        V blocks is at the end of the hold); θ at the end of the last hold (N,).
    """
    one_of("mechanism", mechanism, INPUT_MECHANISMS)
    steps = round(hold / dt)
    if steps < 1 or abs(steps * dt - hold) > 1e-9 * max(1.0, hold):
        raise ValueError(f"`hold` must be a whole number of `dt` steps, got hold={hold}, dt={dt}")
    V = int(virtual_nodes)
    if V < 1 or steps % V:
        raise ValueError(f"`virtual_nodes` must be >= 1 and divide the {steps} steps of a hold, got {virtual_nodes}")
    # in float64 before the cast: the last read-out time is exactly t1 = steps·dt (a float32 product could
    # land one ulp past it for a dt such as 0.1·h)
    ts = jnp.asarray(np.arange(1, V + 1) * (steps // V) * dt, dtype=jnp.result_type(float))

    def one_hold(theta, uk):
        sol = kj.simulate(held_model(params, uk, hold, mechanism), theta, t1=steps * dt, dt=dt, ts=ts,
                          solver=solver, max_steps=steps + 2, check_finite=False)
        return sol.theta[-1], jax.vmap(features)(sol.theta).reshape(-1)

    theta, X = jax.lax.scan(one_hold, jnp.asarray(params.theta0), jnp.asarray(u))
    return X, theta


def ridge_readout_jax(X, y, ridge):
    """Closed-form ridge read-out in JAX: W (D+1,) minimising ||[X 1] W − y||² + λ ||W_{:D}||² (bias free)."""
    A = jnp.concatenate([X, jnp.ones((X.shape[0], 1), X.dtype)], axis=1)
    P = jnp.eye(A.shape[1], dtype=X.dtype).at[-1, -1].set(0.0) * ridge
    return jnp.linalg.solve(A.T @ A + P, A.T @ y)


def validation_nrmse(X, y, fit: slice, val: slice, ridge):
    """NRMSE (std-normalised) on `val` of the ridge read-out fitted on `fit`, differentiable in X."""
    W = ridge_readout_jax(X[fit], y[fit], ridge)
    pred = X[val] @ W[:-1] + W[-1]
    return jnp.sqrt(jnp.mean((pred - y[val]) ** 2) / jnp.var(y[val]))


def random_coupling_matrix(key, n: int, mean_degree: float | None = None) -> np.ndarray:
    """A signed random coupling shape A (n, n) of spectral radius 1 (float64 numpy).

    mean_degree=None: dense, A_ij ~ N(0, 1). A number k: a directed Erdős–Rényi graph, each
    A_ij (i ≠ j) present with probability k/(n − 1) and weighted N(0, 1), so each oscillator has k
    inputs on average. Rescaled to max |λ(A)| = 1; a graph whose spectrum is all 0 (a directed
    acyclic draw, possible at small n k) is rescaled to spectral norm 1 instead.
    """
    a = np.asarray(jax.random.normal(kj.stream_key(key, "coupling"), (n, n)), dtype=np.float64)
    if mean_degree is not None:
        if not 0 < mean_degree <= n - 1:
            raise ValueError(f"`mean_degree` must be in (0, n − 1 = {n - 1}], got {mean_degree}")
        edges = np.asarray(jax.random.uniform(kj.stream_key(key, "coupling_edges"), (n, n))) < mean_degree / (n - 1)
        a = np.where(edges & ~np.eye(n, dtype=bool), a, 0.0)
    rho = np.max(np.abs(np.linalg.eigvals(a)))
    scale = rho if rho > 1e-9 else np.linalg.norm(a, 2)
    return a / scale if scale > 0 else a


def coupling_shape(coupling: str, matrix) -> jax.Array | kj.Sparse | None:
    """`HeldParams.A` of a coupling kind: None (mean field), the (n, n) matrix, or its `kj.Sparse` edges."""
    one_of("coupling", coupling, COUPLINGS)
    if coupling == "mean_field":
        return None
    a = jnp.asarray(matrix, dtype=jnp.result_type(float))
    return a if coupling == "dense" else kj.Sparse.from_dense(a)


def random_held_params(key, n: int, *, K: float, eps: float, omega_mean: float, omega_spread: float,
                       coupling: str = "mean_field", law: str = "gaussian", mean_degree: float = 3.0) -> HeldParams:
    """A seeded `HeldParams`: ω from the law, θ(0) uniform, w_i ~ N(0, 1), φ_i uniform, and for
    "dense"/"sparse" the signed shape `random_coupling_matrix` (spectral radius 1; sparse: `mean_degree`)."""
    one_of("coupling", coupling, COUPLINGS)
    keys = [kj.stream_key(key, name) for name in ("omega", "theta0", "w", "phi", "A")]
    omega = kj.theory.sample_frequencies(keys[0], n, law, omega_spread, omega_mean)
    theta0 = jax.random.uniform(keys[1], (n,), maxval=2 * math.pi)
    w = jax.random.normal(keys[2], (n,))
    phi = jax.random.uniform(keys[3], (n,), maxval=2 * math.pi)
    A = None
    if coupling != "mean_field":
        A = coupling_shape(coupling, random_coupling_matrix(keys[4], n, None if coupling == "dense" else mean_degree))
    f = jnp.result_type(float)
    return HeldParams(omega, theta0, jnp.asarray(K, f), jnp.asarray(eps, f), w, phi, A)
