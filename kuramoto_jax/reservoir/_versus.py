r"""Kuramoto reservoir against an echo-state network on identical data, equal feature count D.

Protocol (every model, every task, every D):

- Data: one input series per task family, standardised, held sample by sample; targets raw.
  NARMA-10 and memory capacity share the iid input of NARMA-10; Mackey–Glass (τ = 17) is
  predicted `mg_horizon` samples ahead; the Hénon map (x_{k+1} = 1 − 1.4 x_k² + 0.3 x_{k−1}) one
  step ahead. The held-out task — the Lorenz system's x sampled every 0.1 time units, one sample
  ahead (`lorenz`) — is run only by the final comparison, once: the option scans that chose the
  grid design leave it out (`DESIGN_TASKS`), and they did score Hénon.
  Split: washout W | fit F | validation V (together the training samples) | test.
- Features: D per model. Kuramoto (`readout_layout`): N = D/2 oscillators read as cos θ_i,
  sin θ_i ("oscillators"), or N = ⌈D/4⌉ oscillators read as cos θ_i, sin θ_i plus D − 2N second
  harmonics ("harmonics") or pairwise products ("products", `second_order_features`), always D in
  all; ESN: D units (reservoirpy's `Reservoir`). Read-out: the same ridge (`fit_readout`, bias
  free) with λ chosen on V from `ridges` for both.
- Tuning, equal budget of G reservoir simulations per task and D: the Kuramoto grid over
  `GridPoint`s (K/K_c, ε, ω̄, σ, frequency law, coupling, read-out, input mechanism; a product of
  the configured lists) and the ESN grid over (spectral radius, leak, input scaling, bias), both
  scored on V. One draw per D and N is shared by every grid point (`base_draw`): the frequencies
  ω = ω̄ + σ x with x from one key per law, θ(0), w, φ, and one coupling shape per kind
  (`random_coupling_matrix`, spectral radius 1). Gradient tuning (`gradient_tune`): half the grid, then (G/2)/2 Adam steps on
  the best half-grid point (one value-and-gradient counted as 2 simulations), the loss the
  validation error of the ridge read-out solved in closed form inside the loss.
- Test: the chosen model's read-out refitted on F + V, scored once on the test samples
  (`nrmse_std`; memory capacity Σ_{d ≤ d_max} r²(d), `memory_capacity`).
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

import kuramoto_jax as kj

from .. import parallel
from .._validate import one_of
from . import tasks
from ._features import second_order_features
from ._held import (
    COUPLINGS,
    INPUT_MECHANISMS,
    HeldParams,
    all_oscillator_features,
    coupling_shape,
    drive_held,
    random_coupling_matrix,
    ridge_readout_jax,
    time_rescaled,
    validation_nrmse,
)
from ._readout import fit_readout
from ._reservoir import KuramotoReservoir
from .esn import esn_states
from .metrics import memory_capacity, nrmse_std

VERSUS_TASKS = ("narma10", "memory_capacity", "mackey_glass", "henon", "lorenz")
"""Tasks of the comparison; "lorenz" is the held-out task."""
DESIGN_TASKS = VERSUS_TASKS[:-1]
"""The tasks a design scan may score (every task but the held-out one)."""
SERIES = {"narma10": "random", "memory_capacity": "random", "mackey_glass": "mackey_glass", "henon": "henon",
          "lorenz": "lorenz"}


def lorenz(T: int, seed: int = 0, sample: float = 0.1, dt: float = 0.01, discard: int = 500):
    """x of the Lorenz system (σ, ρ, β) = (10, 28, 8/3), sampled every `sample` time units: T samples.

    Classical RK4 with step `dt` from a seeded start near (1, 1, 1), after `discard` samples of transient.
    """
    rng = np.random.default_rng(seed)
    state = np.array([1.0, 1.0, 1.0]) + 0.1 * rng.standard_normal(3)

    def f(v):
        x, y, z = v
        return np.array([10.0 * (y - x), x * (28.0 - z) - y, x * y - 8.0 / 3.0 * z])

    per = int(round(sample / dt))
    out = np.empty(T + discard)
    for k in range(T + discard):
        for _ in range(per):
            k1 = f(state)
            k2 = f(state + 0.5 * dt * k1)
            k3 = f(state + 0.5 * dt * k2)
            k4 = f(state + dt * k3)
            state = state + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        out[k] = state[0]
    return out[discard:]


def henon(T: int, seed: int = 0, discard: int = 100):
    """Hénon map x_{k+1} = 1 − 1.4 x_k² + 0.3 x_{k−1}, T samples after `discard` (seeded start)."""
    rng = np.random.default_rng(seed)
    x = np.zeros(T + discard + 2)
    x[:2] = 0.1 * rng.standard_normal(2)
    for k in range(1, len(x) - 1):
        x[k + 1] = 1 - 1.4 * x[k] ** 2 + 0.3 * x[k - 1]
    return x[discard + 2:]


def versus_data(total: int, seed: int, mg_horizon: int) -> dict:
    """{task: (u (total,) standardised input, y (total,) target)} — the same arrays for every model."""
    def std(x):
        return (x - x.mean()) / x.std()

    u_rand, y_narma = tasks.narma10(total + 1, seed=seed)
    mg = tasks.mackey_glass(total + mg_horizon, seed=seed)
    h = henon(total + 1, seed=seed)
    lz = lorenz(total + 1, seed=seed)
    u_r = std(u_rand)
    return {"narma10": (u_r, y_narma), "memory_capacity": (u_r, u_r),
            "mackey_glass": (std(mg[:total]), mg[mg_horizon:]), "henon": (std(h[:-1]), h[1:]),
            "lorenz": (std(lz[:-1]), lz[1:])}


def task_loss(task: str, X, u, y, fit: slice, val: slice, ridge: float, max_delay: int) -> float:
    """Validation loss (lower is better): NRMSE, or −MC for the memory capacity (numpy)."""
    if task == "memory_capacity":
        return -memory_capacity(X[fit], u[fit], X[val], u[val], max_delay, ridge=ridge)[0]
    return nrmse_std(fit_readout(X[fit], y[fit], ridge)(X[val]), y[val])


def choose_ridge(task, X, u, y, fit, val, ridges, max_delay):
    """(best validation loss, its ridge) over the candidate ridges."""
    losses = [task_loss(task, X, u, y, fit, val, r, max_delay) for r in ridges]
    i = int(np.argmin(losses))
    return float(losses[i]), float(ridges[i])


def test_score(task, X, u, y, train: slice, test: slice, ridge, max_delay) -> float:
    """Test NRMSE (or MC) with the read-out fitted on all training samples."""
    if task == "memory_capacity":
        return memory_capacity(X[train], u[train], X[test], u[test], max_delay, ridge=ridge)[0]
    return nrmse_std(fit_readout(X[train], y[train], ridge)(X[test]), y[test])


READOUTS = ("oscillators", "harmonics", "products")
"""Read-outs of the comparison's Kuramoto reservoir (`readout_layout`)."""


class GridPoint(NamedTuple):
    """One Kuramoto grid point: operating point K/K_c of the law, input gain ε, frequency law
    (mean ω̄, spread σ), coupling kind, read-out and input mechanism."""

    k_over_kc: float
    eps: float
    omega_mean: float
    omega_spread: float
    law: str = "gaussian"
    coupling: str = "mean_field"
    readout: str = "oscillators"
    mechanism: str = "phase_response"


def rebuilt_score(kwargs: dict, task: str, u, y, train: slice, test: slice, max_delay: int) -> float:
    """Test score of `KuramotoReservoir(**kwargs)` used as a user would: fit on u[:train.stop], predict
    u[train.stop:] and score the test slice (NRMSE), or the memory capacity of its features."""
    res = KuramotoReservoir(**kwargs)
    if task == "memory_capacity":
        return float(test_score(task, res.features(u), u, y, train, test, kwargs["ridge"], max_delay))
    pred = res.fit(u[: train.stop], y[: train.stop]).predict(u[train.stop:])
    return float(nrmse_std(pred, y[test]))


def kuramoto_grid(k_over_kc, eps, omega_mean, omega_spread, law=("gaussian",), coupling=("mean_field",),
                  readout=("oscillators",), mechanism=("phase_response",)) -> list[GridPoint]:
    """The Kuramoto grid: the product of the lists, in a fixed order (the last list fastest)."""
    for name, values, allowed in (("law", law, kj.theory.LAWS), ("coupling", coupling, COUPLINGS),
                                  ("readout", readout, READOUTS), ("mechanism", mechanism, INPUT_MECHANISMS)):
        bad = [v for v in values if v not in allowed]
        if bad or not values:
            raise ValueError(f"`{name}` must be a non-empty list of {allowed}, got {list(values)!r}")
    return [GridPoint(*p) for p in itertools.product(k_over_kc, eps, omega_mean, omega_spread, law, coupling,
                                                     readout, mechanism)]


def option_best(losses, points) -> tuple[list[str], np.ndarray]:
    """Best loss among the grid points with each option level: (["field=value", ...], (..., L)).

    `losses` (..., P) over the P `points`; the levels are every value of every `GridPoint` field, in
    field order, that the grid holds (one value of a field gives the overall best).
    """
    losses = np.asarray(losses)
    names, cols = [], []
    for f in GridPoint._fields:
        for v in dict.fromkeys(getattr(p, f) for p in points):
            names.append(f"{f}={v}")
            cols.append(losses[..., [getattr(p, f) == v for p in points]].min(-1))
    return names, np.stack(cols, -1)


def readout_layout(readout: str, D: int) -> tuple[int, int]:
    """(N oscillators, P second-order features) of a read-out with D = 2N + P features.

    "oscillators": N = D/2, P = 0. "harmonics"/"products": N = ⌈D/4⌉ (raised until P fits,
    `second_order_features`), P = D − 2N: half the features linear, half second order.
    """
    one_of("readout", readout, READOUTS)
    if D < 2 or D % 2:
        raise ValueError(f"`D` must be an even number >= 2, got {D}")
    if readout == "oscillators":
        return D // 2, 0
    n = -(-D // 4)
    while D - 2 * n > (2 * n if readout == "harmonics" else n * (2 * n - 1)):
        n += 1
    return n, D - 2 * n


def readout_features(readout: str, D: int):
    """θ (N,) ↦ (D,) feature map of a read-out (`readout_layout`)."""
    n, extra = readout_layout(readout, D)
    return all_oscillator_features if readout == "oscillators" else second_order_features(n, extra, readout)


def esn_grid(spectral_radius, leak, input_scale, bias) -> list[tuple]:
    """The ESN grid (spectral radius, leak, input scaling, bias) in a fixed order."""
    return list(itertools.product(spectral_radius, leak, input_scale, bias))


class Draw(NamedTuple):
    """The random part of a reservoir of N oscillators, shared by every grid point of that N."""

    x: dict  # law ↦ standardised frequency offsets (N,): ω = ω̄ + σ x (one key for all laws)
    theta0: jax.Array
    w: jax.Array
    phi: jax.Array
    A: dict  # coupling kind ↦ signed shape (N, N) of spectral radius 1 (numpy), None for the mean field


def base_draw(key, n: int, mean_degree: float = 3.0) -> Draw:
    """θ(0), w_i ~ N(0, 1), φ_i uniform, the frequency offsets of each law (`kj.theory.sample_frequencies`
    with loc 0, scale 1) and the dense and sparse (mean degree min(k, N − 1)) coupling shapes."""
    k = [kj.stream_key(key, s) for s in ("omega", "theta0", "w", "phi", "A")]
    x = {law: kj.theory.sample_frequencies(k[0], n, law) for law in kj.theory.LAWS}
    A = {"mean_field": None, "dense": random_coupling_matrix(k[4], n)}
    A["sparse"] = random_coupling_matrix(k[4], n, min(mean_degree, n - 1)) if n > 1 else A["dense"]
    return Draw(x, jax.random.uniform(k[1], (n,), maxval=2 * math.pi), jax.random.normal(k[2], (n,)),
                jax.random.uniform(k[3], (n,), maxval=2 * math.pi), A)


def grid_params(draw: Draw, point: GridPoint) -> HeldParams:
    """`HeldParams` of a grid point on the fixed draw: ω = ω̄ + σ x_law, K = (K/K_c) K_c(law, σ)."""
    point = GridPoint(*point)
    f = jnp.result_type(float)
    K = point.k_over_kc * kj.theory.critical_coupling(point.law, point.omega_spread)
    omega = point.omega_mean + point.omega_spread * draw.x[point.law]
    return HeldParams(omega, draw.theta0, jnp.asarray(K, f), jnp.asarray(point.eps, f), draw.w, draw.phi,
                      coupling_shape(point.coupling, draw.A[point.coupling]))


def grid_features(draws: dict, points, U, D: int, *, hold, dt) -> list[np.ndarray]:
    """Features [(S, T, D)] of every grid point driven by the S input series (`draws`: N ↦ `Draw`).

    Points sharing their static setting (read-out, coupling kind, mechanism) run as one batched solve.
    """
    out: list = [None] * len(points)
    groups: dict = {}
    for i, p in enumerate(points):
        groups.setdefault((p.readout, p.coupling, p.mechanism), []).append(i)
    for (readout, _, mechanism), idx in groups.items():
        n = readout_layout(readout, D)[0]
        X = kuramoto_features([grid_params(draws[n], points[i]) for i in idx], U, hold=hold, dt=dt,
                              mechanism=mechanism, features=readout_features(readout, D))
        for j, i in enumerate(idx):
            out[i] = X[j]
    return out


def kuramoto_features(params_list, U, *, hold, dt, mechanism, features=all_oscillator_features):
    """Features (P, S, T, d) of P parameter sets driven by S input series, one batched solve."""
    P, S = len(params_list), U.shape[0]
    stacked = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *params_list)
    batched = jax.tree_util.tree_map(lambda x: jnp.repeat(x, S, axis=0), stacked)
    Ub = jnp.tile(jnp.asarray(U), (P, 1))
    X = parallel.batch_map(_driver(hold, dt, mechanism, features), batched, Ub, gather=True)
    return np.asarray(X, dtype=np.float64).reshape(P, S, U.shape[1], -1)


_DRIVERS: dict = {}


def _driver(hold, dt, mechanism, features):
    # one function object per static setting, so batch_map reuses its compilation
    key = (hold, dt, mechanism, features)
    if key not in _DRIVERS:
        _DRIVERS[key] = lambda p, u: drive_held(p, u, hold=hold, dt=dt, mechanism=mechanism, features=features)[0]
    return _DRIVERS[key]


def esn_features(u, units, point, seed, backend: str = "reservoirpy") -> np.ndarray:
    """ESN states (T, units) at the grid point (ρ, leak, input scaling, bias); `esn_states` backend."""
    rho, leak, scale, bias = point
    return esn_states(u, units, rho, leak, scale, bias, seed, backend=backend)


def validation_memory_capacity(X, u, fit: slice, val: slice, ridge, max_delay: int):
    """Σ_{d ≤ d_max} r²(d) on `val`, all delays fitted on the rows of `fit` from d_max on (JAX, differentiable)."""
    def lagged(sl):
        rows = jnp.arange(sl.start + max_delay, sl.stop)
        return X[rows], u[rows[:, None] - jnp.arange(1, max_delay + 1)[None, :]]

    Xf, Yf = lagged(fit)
    Xv, Yv = lagged(val)
    W = ridge_readout_jax(Xf, Yf, ridge)
    P = Xv @ W[:-1] + W[-1]
    Pc, Yc = P - P.mean(0), Yv - Yv.mean(0)
    r2 = (Pc * Yc).sum(0) ** 2 / ((Pc**2).sum(0) * (Yc**2).sum(0))
    return r2.sum()


def gradient_tune(params: HeldParams, task: str, u, y, fit: slice, val: slice, *, ridge: float, hold: float,
                  dt: float, mechanism: str, steps: int, learning_rate: float, max_delay: int,
                  features=all_oscillator_features, tune_hold: bool = False):
    """Adam on (ω, log K, log ε, w, φ) against the validation loss; returns (best params, losses (steps + 1,), hold).

    The loss drives the reservoir with `drive_held` (`kj.simulate`) and solves the ridge read-out in
    closed form inside it: NRMSE on `val`, or −MC for the memory capacity. Each step costs one
    value-and-gradient; the last parameters are scored once more (losses[-1]). The coupling shape
    `params.A` stays fixed. tune_hold=True adds log h: each hold runs on the unit interval
    (`time_rescaled`) with the m = hold/dt steps of the given hold, so the tuned hold h keeps m steps
    of h/m; the returned hold is h (the given one otherwise).
    """
    u, y = jnp.asarray(u), jnp.asarray(y)
    m = round(hold / dt)

    def unpack(q):
        return params._replace(omega=q["omega"], K=jnp.exp(q["logK"]), eps=jnp.exp(q["logeps"]), w=q["w"],
                               phi=q["phi"])

    def loss(q):
        if tune_hold:
            p = time_rescaled(unpack(q), jnp.exp(q["loghold"]), mechanism)
            X = drive_held(p, u, hold=1.0, dt=1.0 / m, mechanism=mechanism, features=features)[0]
        else:
            X = drive_held(unpack(q), u, hold=hold, dt=dt, mechanism=mechanism, features=features)[0]
        if task == "memory_capacity":
            return -validation_memory_capacity(X, u, fit, val, ridge, max_delay)
        return validation_nrmse(X, y, fit, val, ridge)

    q = {"omega": params.omega, "logK": jnp.log(params.K), "logeps": jnp.log(params.eps), "w": params.w,
         "phi": params.phi}
    if tune_hold:
        q["loghold"] = jnp.log(jnp.asarray(hold, params.K.dtype))
    opt = optax.adam(learning_rate)
    state = opt.init(q)
    vg = jax.jit(jax.value_and_grad(loss))
    losses, best, best_q = [], np.inf, q
    for _ in range(steps):
        value, g = vg(q)
        value = float(value)
        losses.append(value)
        if value < best:
            best, best_q = value, q
        updates, state = opt.update(g, state, q)
        q = optax.apply_updates(q, updates)
    final = float(jax.jit(loss)(q))
    losses.append(final)
    if final < best:
        best_q = q
    h = float(jnp.exp(best_q["loghold"])) if tune_hold else hold
    return unpack(best_q), np.asarray(losses), h


def phase_distance(X1, X2) -> np.ndarray:
    """(T,) mean chord distance (1/N) Σ_i |e^{iθ_i} − e^{iθ'_i}| of two runs from their features [cos θ, sin θ] (T, 2N).

    Two copies of a reservoir started from different θ(0) and driven by the same input: the
    distance decays to 0 when the reservoir forgets its initial state (the echo-state property).
    """
    n = X1.shape[-1] // 2
    d = np.asarray(X1, np.float64) - np.asarray(X2, np.float64)
    return np.sqrt(d[..., :n] ** 2 + d[..., n:] ** 2).mean(-1)


def _short(x):
    # the shortest decimal that rounds back to the same float (float32 values print in ~9 digits)
    return [float(str(v)) for v in np.asarray(x).reshape(-1)]


def reservoir_kwargs(params: HeldParams, *, hold, dt, mechanism, ridge, washout_samples, readout="oscillators",
                     D=None, coupling="mean_field") -> dict:
    """Keyword arguments with which `KuramotoReservoir(**kwargs)` rebuilds a held reservoir (JSON-safe).

    `readout` and `D` give the feature map (`readout_layout`; D = 2N by default); `coupling` the kind
    of `params.A` (its matrix is stored as nested lists).
    """
    n = int(params.omega.shape[0])
    kw = {"n": n, "K": _short(params.K)[0], "eps": _short(params.eps)[0], "dt": dt, "hold": hold,
          "washout": washout_samples * hold, "seed": 0, "input_mechanism": mechanism, "ridge": ridge,
          "features": "oscillators", "n_oscillator_features": n, "omega": _short(params.omega),
          "theta0": _short(params.theta0), "input_weights": _short(params.w), "input_phases": _short(params.phi)}
    if readout != "oscillators":
        n_read, extra = readout_layout(readout, 2 * n if D is None else D)
        kw.update(features=readout, n_oscillator_features=n_read, n_second_order=extra)
    if coupling != "mean_field":
        A = params.A.to_dense() if isinstance(params.A, kj.Sparse) else params.A
        kw.update(coupling=coupling, coupling_matrix=np.reshape(_short(A), (n, n)).tolist())
    return kw
