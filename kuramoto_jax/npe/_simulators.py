r"""Simulators for amortized inference: pure JAX functions of (key, params).

Every simulator draws what is random besides the parameters (initial phases,
natural frequencies where they are redrawn, observation noise) from `key`, integrates

    dθ_i/dt = ω_i + Σ_j K_ij(params) sin(θ_j − θ_i)

with `kuramoto_jax.simulate` (fixed-step RK4), and returns the observed phases

    y_t = (θ(t) + ε_t) mod 2π,   ε_t ~ N(0, s² I),   t ∈ observation_times,

as an array of shape (T_obs, N). Observations are every `stride`-th integration step.
With `repeats` = R > 1, one data set is R trajectories of the same network (same
parameters and ω) from independent initial phases, stacked along time: (R·T_seg, N),
T_seg observations per trajectory. Transients are what carries information about the
couplings once a small network phase-locks, and R short runs show R of them.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax._streams import stream_key
from kuramoto_jax._validate import prng_key
from kuramoto_jax.parallel import batch_map

from ._priors import uniform_prior


def _positive(name, value):
    if not isinstance(value, (int, float, np.floating, np.integer)) or isinstance(value, bool):
        raise TypeError(f"`{name}` must be a number, got {type(value).__name__}")
    if not value > 0:
        raise ValueError(f"`{name}` must be > 0, got {value}")


@dataclasses.dataclass(frozen=True)
class ObservationProtocol:
    """When and how noisily the phases are observed.

    Attributes:
        t1: horizon; the simulation runs on [0, t1].
        dt: RK4 step.
        stride: observe every `stride`-th step, so observations are Δ = stride·dt apart.
        noise: s, standard deviation of the additive Gaussian phase noise.
        include_initial: whether t = 0 is an observation time.
        repeats: R, trajectories per data set, each on [0, t1] from fresh initial phases.
    """

    t1: float = 10.0
    dt: float = 0.05
    stride: int = 2
    noise: float = 0.05
    include_initial: bool = True
    repeats: int = 1

    def __post_init__(self):
        _positive("t1", self.t1)
        _positive("dt", self.dt)
        if not isinstance(self.stride, (int, np.integer)) or self.stride < 1:
            raise ValueError(f"`stride` must be an integer ≥ 1, got {self.stride!r}")
        if not isinstance(self.noise, (int, float)) or self.noise < 0:
            raise ValueError(f"`noise` must be a number ≥ 0, got {self.noise!r}")
        if isinstance(self.repeats, bool) or not isinstance(self.repeats, (int, np.integer)) or self.repeats < 1:
            raise ValueError(f"`repeats` must be an integer ≥ 1, got {self.repeats!r}")
        steps = self.t1 / self.dt
        if abs(steps - round(steps)) > 1e-9 * max(1.0, steps):
            raise ValueError(f"`t1` / `dt` must be a whole number of steps, got t1={self.t1}, dt={self.dt}")
        if round(steps) % self.stride:
            raise ValueError(f"the step count t1/dt = {round(steps)} must be a multiple of `stride` = {self.stride}")

    @property
    def num_steps(self) -> int:
        return int(round(self.t1 / self.dt))

    @property
    def segment_times(self) -> np.ndarray:
        """(T_seg,) observation times of one trajectory on the step grid."""
        first = 0 if self.include_initial else self.stride
        idx = np.arange(first, self.num_steps + 1, self.stride)
        return idx * self.dt

    @property
    def observation_times(self) -> np.ndarray:
        """(T_obs,) = (R·T_seg,) the time within its trajectory of every observation row."""
        return np.tile(self.segment_times, self.repeats)

    @property
    def spacing(self) -> float:
        return self.stride * self.dt


@dataclasses.dataclass(frozen=True)
class NetworkSimulator:
    """A general simulator for any coupling parametrisation.

    Args:
        n: number of oscillators N.
        coupling_fn: params (P,) ↦ a `kuramoto_jax` coupling (MeanField, Dense, Sparse).
        low: (P,) lower bounds of the uniform prior on params.
        high: (P,) upper bounds of the uniform prior on params.
        protocol: the `ObservationProtocol`.
        omega: fixed natural frequencies (N,), or None to redraw ω ~ N(omega_loc, omega_scale²)
            in every simulation.
        omega_scale: σ of the redrawn frequencies.
        omega_loc: mean of the redrawn frequencies.
        param_names: names of the P parameters.
        structure: "mean_field" or "dense" — which drift regression the summaries use
            (see `summaries.drift_least_squares`); "none" disables it.
        edges: for "dense": the (receiver, sender) pairs whose couplings are estimated.
    """

    n: int
    coupling_fn: Callable
    low: tuple
    high: tuple
    protocol: ObservationProtocol = ObservationProtocol()
    omega: tuple | None = None
    omega_scale: float = 1.0
    omega_loc: float = 0.0
    param_names: tuple = ()
    structure: str = "none"
    edges: tuple = ()

    def __post_init__(self):
        if not isinstance(self.n, (int, np.integer)) or self.n < 2:
            raise ValueError(f"`n` must be an integer ≥ 2, got {self.n!r}")
        low = np.asarray(self.low, float)
        high = np.asarray(self.high, float)
        if low.ndim != 1 or low.shape != high.shape:
            raise ValueError(f"`low` and `high` must be 1-D of equal length, got shapes {low.shape} and {high.shape}")
        if not np.all(high > low):
            raise ValueError(f"`high` must exceed `low` elementwise, got low={low}, high={high}")
        if self.omega is not None and np.asarray(self.omega).shape != (self.n,):
            raise ValueError(f"`omega` must have shape ({self.n},), got {np.asarray(self.omega).shape}")
        if self.structure not in ("none", "mean_field", "dense"):
            raise ValueError(f"`structure` must be 'none', 'mean_field' or 'dense', got {self.structure!r}")
        if not self.param_names:
            object.__setattr__(self, "param_names", tuple(f"theta_{i}" for i in range(low.size)))
        if len(self.param_names) != low.size:
            raise ValueError(f"`param_names` has {len(self.param_names)} names for {low.size} parameters")

    # -- prior -------------------------------------------------------------------------
    @property
    def num_params(self) -> int:
        return len(self.low)

    @property
    def prior_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.low, float), np.asarray(self.high, float)

    @property
    def prior(self):
        """The numpyro prior: independent U(low_p, high_p), event shape (P,)."""
        return uniform_prior(*self.prior_bounds)

    @property
    def observation_times(self) -> np.ndarray:
        return self.protocol.observation_times

    @property
    def segments(self) -> int:
        """Trajectories per data set (rows of an observation split into this many runs)."""
        return self.protocol.repeats

    # -- simulation --------------------------------------------------------------------
    def phases(self, key, params):
        """Noise-free, unwrapped θ at the observation times, (T_obs, N)."""
        params = jnp.asarray(params)
        k_theta, k_omega = jax.random.split(key)
        dtype = params.dtype if jnp.issubdtype(params.dtype, jnp.floating) else jnp.float32
        p = self.protocol
        if p.repeats == 1:  # keep the single-trajectory random stream of earlier runs
            theta0 = jax.random.uniform(k_theta, (self.n,), dtype, 0.0, 2 * jnp.pi)
        else:
            theta0 = jax.random.uniform(k_theta, (p.repeats, self.n), dtype, 0.0, 2 * jnp.pi)
        if self.omega is None:
            omega = self.omega_loc + self.omega_scale * jax.random.normal(k_omega, (self.n,), dtype)
        else:
            omega = jnp.asarray(self.omega, dtype)
        model = kj.Kuramoto(omega, self.coupling_fn(params))

        def one(th0):
            sol = kj.simulate(
                model, th0, t1=p.t1, dt=p.dt, ts=jnp.asarray(p.segment_times, dtype), solver="rk4", check_finite=False,
            )
            return sol.theta

        if p.repeats == 1:
            return one(theta0)
        return jax.vmap(one)(theta0).reshape(-1, self.n)

    def simulate(self, key, params):
        """One observation y (T_obs, N): wrapped phases with additive Gaussian noise."""
        k_sim, k_noise = jax.random.split(key)
        theta = self.phases(k_sim, params)
        noisy = theta + self.protocol.noise * jax.random.normal(k_noise, theta.shape, theta.dtype)
        return jnp.mod(noisy, 2 * jnp.pi)


def simple_network(
    n: int = 100, sigma: float = 1.0, k_max: float = 3.0, protocol: ObservationProtocol | None = None
) -> NetworkSimulator:
    """All-to-all network θ̇_i = ω_i + (K/N) Σ_j sin(θ_j − θ_i), ω ~ N(0, σ²) per simulation, K ~ U(0, k_max)."""
    _positive("sigma", sigma)
    _positive("k_max", k_max)
    return NetworkSimulator(
        n=n, coupling_fn=lambda p: kj.MeanField(p[0]), low=(0.0,), high=(float(k_max),),
        protocol=protocol or ObservationProtocol(), omega=None, omega_scale=float(sigma),
        param_names=("K",), structure="mean_field",
    )


THREE_NODE_EDGES = ((0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1))
"""The six directed couplings (i, j) of the paper's three-node network, in parameter order k_ij."""


def three_node_coupling(params):
    """(6,) couplings (K_12, K_13, K_21, K_23, K_31, K_32) ↦ Dense 3×3 K (row = receiver)."""
    params = jnp.asarray(params)
    rows = jnp.array([e[0] for e in THREE_NODE_EDGES])
    cols = jnp.array([e[1] for e in THREE_NODE_EDGES])
    return kj.Dense(jnp.zeros((3, 3), params.dtype).at[rows, cols].set(params))


def three_node_network(
    omega=(0.3, -0.5, 0.8), k_max: float = 2.0, protocol: ObservationProtocol | None = None
) -> NetworkSimulator:
    """The closed 3-node network with six directed couplings K_ij ~ U(0, k_max) and fixed ω."""
    _positive("k_max", k_max)
    return NetworkSimulator(
        n=3, coupling_fn=three_node_coupling, low=(0.0,) * 6, high=(float(k_max),) * 6,
        protocol=protocol or ObservationProtocol(t1=20.0, dt=0.05, stride=2, noise=0.05),
        omega=tuple(float(w) for w in omega),
        param_names=tuple(f"k{i + 1}{j + 1}" for i, j in THREE_NODE_EDGES),
        structure="dense", edges=THREE_NODE_EDGES,
    )


def simulate_dataset(simulator, key, num, fn=None, batch_size: int | None = None, params=None):
    """Draw θ_m ~ prior and y_m ~ simulator(θ_m), m = 0..num−1, batched over the run's devices.

    Data set m uses the streams `stream_key(key, "prior", m)` and `stream_key(key, "simulate", m)`,
    so the first M data sets are the same whatever `num` ≥ M, `batch_size` or device count.
    The batch goes through `kuramoto_jax.parallel.batch_map` without a `devices` argument:
    inside a run it is spread over the run's devices, elsewhere over every device.

    Args:
        simulator: a `NetworkSimulator`.
        key: PRNG key (typed, or a legacy `jax.random.PRNGKey`).
        num: number of data sets.
        fn: y (T_obs, N) ↦ pytree of arrays, applied inside the batch (e.g. summaries) so that
            only what is needed is stored; default keeps y.
        batch_size: data sets vmapped at once on each device (sequential chunks bound peak
            memory); None: the whole share of a device at once.
        params: optional (num, P) parameters to use instead of prior draws.

    Returns:
        (params (num, P), outputs (num, ...)) as numpy arrays.
    """
    key = prng_key("key", key)
    if isinstance(num, bool) or not isinstance(num, (int, np.integer)) or num < 1:
        raise ValueError(f"`num` must be an integer ≥ 1, got {num!r}")
    fn = fn if fn is not None else (lambda y: y)
    index = np.arange(num, dtype=np.uint32)
    # fold_in(stream_key(key, name), m) is stream_key(key, name, m), with m traced.
    k_prior, k_sim = stream_key(key, "prior"), stream_key(key, "simulate")
    if params is None:
        low, high = simulator.prior_bounds

        def one(m):
            p = jax.random.uniform(jax.random.fold_in(k_prior, m), (simulator.num_params,), minval=low, maxval=high)
            return p, fn(simulator.simulate(jax.random.fold_in(k_sim, m), p))

        return batch_map(one, index, batch_size=batch_size, gather=True)
    params = np.asarray(params)
    if params.shape != (num, simulator.num_params):
        raise ValueError(f"`params` must have shape ({num}, {simulator.num_params}), got {params.shape}")

    def given(m, p):
        return fn(simulator.simulate(jax.random.fold_in(k_sim, m), p))

    return params, batch_map(given, index, jnp.asarray(params), batch_size=batch_size, gather=True)
