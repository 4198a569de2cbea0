r"""`KuramotoReservoir`: fit and predict with a driven mean-field Kuramoto network.

    dθ_j/dt = ω_j + (K/N) Σ_l sin(θ_l − θ_j) + ε u(t),      ω_j ~ g (mean ω̄, spread σ)

read out linearly through the order parameters Z_m, m = −M..M (plus a bias),
as in Section 5 of the reservoir paper (N = 500, dt = 0.01, ε = 0.01,
240 s washout). See experiments/reservoir/RESULTS.md for how the input term and
the defaults (ω̄ = 0.5, M = 5, Moore–Penrose read-out) were chosen.

With `hold` set, the reservoir reads one input sample per task step and holds it for
`hold` seconds (`_held.drive_held`): dθ_i/dt = ω_i + Σ_j K_ij sin(θ_j − θ_i) + ε w_i u_k r_i(θ_i),
r_i = 1 (input_mechanism="frequency") or sin(θ_i + φ_i) ("phase_response"), or no input term and
K_ij (1 + ε u_k) ("coupling"); K_ij = K/N
("mean_field"), K A_ij ("dense") or K A_ij on a sparse random graph ("sparse", `kj.Sparse`),
the operating point optionally given as K/K_c of the frequency law (`k_over_kc`), features read
at the end of each hold (or at V virtual nodes within it): cos θ_i, sin θ_i, group order
parameters, or those plus second harmonics / pairwise products (`second_order_features`). Every drawn array (ω, θ(0), w, φ, A) can be passed explicitly,
so a tuned reservoir is rebuilt from plain keyword arguments.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj

from .. import _validate
from .._streams import stream_key
from .._validate import one_of
from ._features import (
    INPUT_TERMS,
    SECOND_ORDER,
    drive_reservoir_jit,
    order_parameter_features,
    oscillator_features,
    second_order_features,
)
from ._held import (
    COUPLINGS,
    INPUT_MECHANISMS,
    HeldParams,
    coupling_shape,
    drive_held,
    oscillator_group_features,
    random_coupling_matrix,
)
from ._readout import Readout, fit_readout

FEATURES = ("order_parameters", "oscillators", "groups", *SECOND_ORDER)
FREQUENCIES = ("random", "quantile")


def sample_reservoir(key, n: int, law: str, spread: float, mean: float, frequencies: str = "random"):
    """(ω (n,), θ0 (n,)): frequencies from the law and phases uniform on [0, 2π).

    frequencies="random": ω_j iid from the law (the paper's draw); its sample mean
    Ω_N = (1/N) Σ_j ω_j misses ω̄ by ~ spread/√N. "quantile": the deterministic
    quantiles ω_j = G⁻¹((j − ½)/N) (`kj.theory.deterministic_frequencies`), whose
    mean is ω̄ for the symmetric laws; only θ0 then depends on `key`.
    `key` may be typed (`jax.random.key`) or legacy (`jax.random.PRNGKey`).
    """
    one_of("frequencies", frequencies, FREQUENCIES)
    k_omega, k_theta = jax.random.split(_validate.prng_key("key", key))
    if frequencies == "quantile":
        omega = jnp.asarray(kj.theory.deterministic_frequencies(n, law, spread, mean), dtype=jnp.result_type(float))
    else:
        omega = kj.theory.sample_frequencies(k_omega, n, law, spread, mean)
    theta0 = jax.random.uniform(k_theta, (n,), minval=0.0, maxval=2 * math.pi)
    return omega, theta0


class KuramotoReservoir:
    """A Kuramoto reservoir with a linear read-out.

    Args:
        n: N oscillators.  K: coupling scale (mean field K/N, or K A_ij).
        omega_law: "gaussian" (omega_spread = std), "uniform" (half-width) or "lorentzian".
        omega_spread: σ of the law; omega_mean: ω̄ (default 0.5 rad/s, the input's frequency).
        eps: input gain ε.  dt: sample spacing and integration step.
        washout: seconds of the fit input left out of the read-out fit.
        M: number of order-parameter harmonics (features Re, Im Z_m, m = −M..M).
        ridge: 0 = least squares (Moore–Penrose), > 0 = ridge penalty.
        key: PRNG key (typed `jax.random.key` or legacy `jax.random.PRNGKey`) of ω and θ(0)
            (stream "reservoir") and of random input weights (stream "input_weights").
        input_term: r(θ) of the input term ε w u(t) r(θ); "additive" (r = 1) by default.
        input_weights: None (w = 1), "random" (w ~ N(0, 1), seeded) or an (n,) array.
        features: "order_parameters", "oscillators" (cos θ_j, sin θ_j of `n_oscillator_features`
            oscillators, the first ones of the seeded draw), "groups", or "harmonics" / "products": the
            oscillator features plus `n_second_order` second harmonics or pairwise products
            (`second_order_features`; D = 2 n_oscillator_features + n_second_order).
        solver: fixed-step solver name for `kj.simulate`.
        frequencies: "random" (ω_j iid from the law, the paper) or "quantile" (deterministic
            quantiles with sample mean exactly ω̄; see `sample_reservoir`).
        hold: None (the paper's continuous input sampled every dt) or seconds each input sample
            is held (one sample per task step; `washout` is then rounded to whole holds).
        input_mechanism: with `hold`: "frequency" (ε w_i u), "phase_response" (ε w_i u sin(θ_i + φ_i))
            or "coupling" (K_ij (1 + ε u), no input term).
        input_phases: φ_i: None (zeros), "random" (uniform on [0, 2π), stream "input_phases") or (n,).
        virtual_nodes: with `hold`: V read-out times per hold (D = V × features of θ).
        coupling: with `hold`: "mean_field" (K/N), "dense" (K A_ij) or "sparse" (K A_ij on the
            non-zero entries of A, `kj.Sparse`).
        coupling_matrix: A for "dense"/"sparse": "random" (`random_coupling_matrix`: N(0, 1) entries,
            for "sparse" on a directed random graph of `mean_degree`, scaled to spectral radius 1;
            stream "coupling") or an (n, n) array.
        mean_degree: k of the random sparse graph (each A_ij, i ≠ j, present with probability k/(n − 1)).
        n_second_order: P second-order features of features="harmonics" / "products".
        k_over_kc: the operating point: K = k_over_kc · K_c(omega_law, omega_spread), overriding `K`.
        n_groups: G for features="groups" (Re, Im of the order parameter of G contiguous groups).
        omega: (n,) frequencies overriding the draw.
        theta0: (n,) initial phases overriding the draw.
        seed: integer seed used as `jax.random.key(seed)` when `key` is None (JSON-stored arguments).
    """

    def __init__(self, n: int = 500, K: float = 1.0, omega_law: str = "gaussian", omega_spread: float = 0.4,
                 eps: float = 0.01, dt: float = 0.01, washout: float = 240.0, key=None, *,
                 omega_mean: float = 0.5, M: int = 5, ridge: float = 0.0, input_term: str = "additive",
                 input_weights=None, features: str = "order_parameters", n_oscillator_features: int = 5,
                 solver: str = "rk4", frequencies: str = "random", hold: float | None = None,
                 input_mechanism: str = "frequency", input_phases=None, virtual_nodes: int = 1,
                 coupling: str = "mean_field", coupling_matrix=None, n_groups: int = 5, omega=None, theta0=None,
                 seed: int | None = None, mean_degree: float = 3.0, n_second_order: int = 0,
                 k_over_kc: float | None = None):
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"`n` must be an integer >= 1, got {n!r}")
        one_of("omega_law", omega_law, kj.theory.LAWS)
        for name, val in (("K", K), ("omega_spread", omega_spread), ("eps", eps), ("dt", dt),
                          ("washout", washout), ("omega_mean", omega_mean), ("ridge", ridge)):
            if not isinstance(val, (int, float, np.integer, np.floating)) or not math.isfinite(val):
                raise TypeError(f"`{name}` must be a finite real number, got {val!r}")
        if not omega_spread > 0:
            raise ValueError(f"`omega_spread` must be > 0, got {omega_spread}")
        if not dt > 0:
            raise ValueError(f"`dt` must be > 0, got {dt}")
        if washout < 0 or ridge < 0 or K < 0:
            raise ValueError(f"`washout`, `ridge` and `K` must be >= 0, got {washout}, {ridge}, {K}")
        if not isinstance(M, (int, np.integer)) or M < 1:
            raise ValueError(f"`M` must be an integer >= 1, got {M!r}")
        one_of("input_term", input_term, INPUT_TERMS)
        one_of("frequencies", frequencies, FREQUENCIES)
        one_of("features", features, FEATURES)
        if features in ("oscillators", *SECOND_ORDER) and not 1 <= n_oscillator_features <= n:
            raise ValueError(f"`n_oscillator_features` must be in [1, {n}], got {n_oscillator_features}")
        if key is None and seed is not None:
            if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
                raise TypeError(f"`seed` must be an integer, got {seed!r}")
            key = jax.random.key(int(seed))  # keyword arguments stored as JSON carry a seed
        if key is None:
            raise TypeError("`key` is required: pass a PRNG key, e.g. key=jax.random.key(0) (or an integer `seed`)")
        key = _validate.prng_key("key", key)
        if hold is not None:
            if not isinstance(hold, (int, float, np.integer, np.floating)) or not hold > 0:
                raise ValueError(f"`hold` must be None or a number of seconds > 0, got {hold!r}")
            one_of("input_mechanism", input_mechanism, INPUT_MECHANISMS)
            one_of("coupling", coupling, COUPLINGS)
        if features == "groups" and not 1 <= n_groups <= n:
            raise ValueError(f"`n_groups` must be in [1, {n}], got {n_groups}")
        if k_over_kc is not None:
            if not isinstance(k_over_kc, (int, float, np.integer, np.floating)) or not k_over_kc >= 0:
                raise ValueError(f"`k_over_kc` must be None or a number >= 0, got {k_over_kc!r}")
            K = float(k_over_kc) * kj.theory.critical_coupling(omega_law, float(omega_spread))
        self.n, self.K, self.omega_law, self.omega_spread = int(n), float(K), omega_law, float(omega_spread)
        self.omega_mean, self.eps, self.dt, self.washout = float(omega_mean), float(eps), float(dt), float(washout)
        self.M, self.ridge, self.key = int(M), float(ridge), key
        self.input_term, self.solver = input_term, solver
        key_draw, key_w = stream_key(key, "reservoir"), stream_key(key, "input_weights")
        self.frequencies = frequencies
        self.omega, self.theta0 = sample_reservoir(key_draw, self.n, omega_law, self.omega_spread, self.omega_mean,
                                                   frequencies)
        if input_weights is None:
            self.input_weights = None
        elif isinstance(input_weights, str):
            if input_weights != "random":
                raise ValueError(f"`input_weights` must be None, 'random' or an (n,) array, got {input_weights!r}")
            self.input_weights = jax.random.normal(key_w, (self.n,))
        else:
            w = np.asarray(input_weights, dtype=float)
            if w.shape != (self.n,):
                raise ValueError(f"`input_weights` must have shape ({self.n},), got {w.shape}")
            self.input_weights = jnp.asarray(w)
        if omega is not None:
            self.omega = jnp.asarray(_vector("omega", omega, self.n))
        if theta0 is not None:
            self.theta0 = jnp.asarray(_vector("theta0", theta0, self.n))
        self.hold = None if hold is None else float(hold)
        self.input_mechanism, self.virtual_nodes, self.coupling = input_mechanism, int(virtual_nodes), coupling
        if isinstance(input_phases, str):
            if input_phases != "random":
                raise ValueError(f"`input_phases` must be None, 'random' or an (n,) array, got {input_phases!r}")
            input_phases = jax.random.uniform(stream_key(key, "input_phases"), (self.n,), maxval=2 * math.pi)
        self.input_phases = jnp.zeros(self.n) if input_phases is None else jnp.asarray(
            _vector("input_phases", input_phases, self.n))
        if isinstance(coupling_matrix, str):
            if coupling_matrix != "random":
                raise ValueError(f"`coupling_matrix` must be None, 'random' or (n, n), got {coupling_matrix!r}")
            coupling_matrix = random_coupling_matrix(key, self.n, mean_degree if coupling == "sparse" else None)
        if coupling_matrix is not None:
            coupling_matrix = np.asarray(coupling_matrix, dtype=float)
            if coupling_matrix.shape != (self.n, self.n):
                raise ValueError(f"`coupling_matrix` must have shape ({self.n}, {self.n}), got {coupling_matrix.shape}")
        elif hold is not None and coupling != "mean_field":
            raise ValueError(f"`coupling`={coupling!r} needs `coupling_matrix` ('random' or an (n, n) array)")
        self.coupling_matrix = None if coupling_matrix is None else jnp.asarray(coupling_matrix)
        if features == "order_parameters":
            self.feature_map = order_parameter_features(self.M)
        elif features == "groups":
            self.feature_map = oscillator_group_features(self.n, n_groups)
        elif features in SECOND_ORDER:
            try:
                self.feature_map = second_order_features(int(n_oscillator_features), n_second_order, features)
            except ValueError as err:  # name the class's arguments
                raise ValueError(f"`n_second_order` / `n_oscillator_features` of features={features!r}: {err}") from None
        else:
            self.feature_map = oscillator_features(np.arange(n_oscillator_features))
        self.readout: Readout | None = None
        self.theta = None  # state at the last driven sample
        self._u_last = None

    @property
    def critical_coupling(self) -> float:
        """K_c = 2/(π g(0)) of the frequency law (N → ∞)."""
        return kj.theory.critical_coupling(self.omega_law, self.omega_spread)

    @property
    def held_params(self) -> HeldParams:
        """The physical parameters as a `HeldParams` pytree (the held drive's input)."""
        f = jnp.result_type(float)
        w = jnp.ones(self.n) if self.input_weights is None else self.input_weights
        A = coupling_shape(self.coupling, self.coupling_matrix)
        return HeldParams(self.omega, self.theta0, jnp.asarray(self.K, f), jnp.asarray(self.eps, f), w,
                          self.input_phases, A)

    def _drive(self, theta, u, skip):
        if self.hold is not None:
            X, theta = _drive_held_jit(self.held_params._replace(theta0=theta), jnp.asarray(u), self.hold, self.dt,
                                       self.input_mechanism, self.feature_map, self.virtual_nodes, self.solver)
            return np.asarray(X)[skip:], theta
        X, theta = drive_reservoir_jit(self.omega, theta, self.K, self.eps, jnp.asarray(u), dt=self.dt,
                                       features=self.feature_map, skip=skip, input_term=self.input_term,
                                       solver=self.solver, input_weights=self.input_weights)
        return np.asarray(X), theta

    def features(self, u) -> np.ndarray:
        """Features (T, D) of u driven from the drawn initial state (no washout removed)."""
        u = _series("u", u)
        X, _ = self._drive(self.theta0, u, 0)
        return X

    def fit(self, u, y) -> KuramotoReservoir:
        """Drive with u from θ(0), fit the read-out on samples after `washout`; returns self.

        u, y: 1-D, equal length, sampled every dt (y_k is the target at the time of u_k).
        """
        u, y = _series("u", u), _series("y", y)
        if len(u) != len(y):
            raise ValueError(f"`u` and `y` must have equal length, got {len(u)} and {len(y)}")
        skip = int(round(self.washout / (self.dt if self.hold is None else self.hold)))
        if skip > len(u) - 2:
            raise ValueError(
                f"`u` has {len(u)} samples ({len(u) * self.dt:g} s) but washout={self.washout:g} s needs "
                f"more than {skip + 1} samples: pass a longer input or a shorter washout"
            )
        X, self.theta = self._drive(self.theta0, u, skip)
        self.readout = fit_readout(X, y[skip:], ridge=self.ridge)
        self.train_prediction = self.readout(X)
        self._u_last = float(u[-1])
        return self

    def predict(self, u) -> np.ndarray:
        """Drive on from the state where the last fit/predict ended; returns ŷ with len(u) samples."""
        if self.readout is None:
            raise RuntimeError("call fit(u, y) before predict(u)")
        u = _series("u", u, min_len=1)
        if self.hold is not None:  # held samples need no overlap with the last fitted one
            X, self.theta = self._drive(self.theta, u, 0)
            return self.readout(X)
        X, self.theta = self._drive(self.theta, np.concatenate([[self._u_last], u]), 1)
        self._u_last = float(u[-1])
        return self.readout(X)


@functools.partial(jax.jit, static_argnums=(2, 3, 4, 5, 6, 7))
def _drive_held_jit(params, u, hold, dt, mechanism, features, virtual_nodes, solver):
    return drive_held(params, u, hold=hold, dt=dt, mechanism=mechanism, features=features,
                      virtual_nodes=virtual_nodes, solver=solver)


def _vector(name, x, n):
    arr = np.asarray(x, dtype=float)
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be a finite array of shape ({n},), got shape {arr.shape}")
    return arr


def _series(name, x, min_len: int = 2) -> np.ndarray:
    arr = np.asarray(x, dtype=float)
    if arr.ndim != 1 or arr.shape[0] < min_len:
        raise ValueError(f"`{name}` must be a 1-D array of at least {min_len} samples, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite, got {int(np.sum(~np.isfinite(arr)))} non-finite value(s)")
    return arr
