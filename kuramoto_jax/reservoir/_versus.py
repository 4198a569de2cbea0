r"""Kuramoto reservoir against an echo-state network on identical data, equal feature count D.

Protocol (every model, every task, every D):

- Data: one input series per task family, standardised, held sample by sample; targets raw.
  NARMA-10 and memory capacity share the iid input of NARMA-10; Mackey–Glass (τ = 17) is
  predicted `mg_horizon` samples ahead; the held-out task (Hénon map, x_{k+1} = 1 − 1.4 x_k² +
  0.3 x_{k−1}, one step ahead from x_0..x_k) is chosen in advance and run once.
  Split: washout W | fit F | validation V (together the training samples) | test.
- Features: D per model. Kuramoto: N = D/2 oscillators read as cos θ_i, sin θ_i
  (`drive_held`); ESN: D units (reservoirpy's `Reservoir`). Read-out: the same ridge
  (`fit_readout`, bias free) with λ chosen on V from `ridges` for both.
- Tuning, equal budget of G reservoir simulations per task and D: the Kuramoto grid over
  (K/K_c, ε, ω̄, σ) and the ESN grid over (spectral radius, leak, input scaling, bias), both
  scored on V. Gradient tuning (`gradient_tune`): half the grid, then (G/2)/2 Adam steps on
  the best half-grid point (one value-and-gradient counted as 2 simulations), the loss the
  validation error of the ridge read-out solved in closed form inside the loss.
- Test: the chosen model's read-out refitted on F + V, scored once on the test samples
  (`nrmse_std`; memory capacity Σ_{d ≤ d_max} r²(d), `memory_capacity`).
"""

from __future__ import annotations

import itertools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

import kuramoto_jax as kj

from .. import parallel
from . import tasks
from ._held import HeldParams, drive_held, ridge_readout_jax, validation_nrmse
from ._readout import fit_readout
from .esn import esn_states
from .metrics import memory_capacity, nrmse_std

VERSUS_TASKS = ("narma10", "memory_capacity", "mackey_glass", "henon")
"""Tasks of the comparison; "henon" is the held-out task."""
SERIES = {"narma10": "random", "memory_capacity": "random", "mackey_glass": "mackey_glass", "henon": "henon"}


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
    u_r = std(u_rand)
    return {"narma10": (u_r, y_narma), "memory_capacity": (u_r, u_r),
            "mackey_glass": (std(mg[:total]), mg[mg_horizon:]), "henon": (std(h[:-1]), h[1:])}


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


def kuramoto_grid(k_over_kc, eps, omega_mean, omega_spread) -> list[tuple]:
    """The Kuramoto grid (K/K_c, ε, ω̄, σ) in a fixed order."""
    return list(itertools.product(k_over_kc, eps, omega_mean, omega_spread))


def esn_grid(spectral_radius, leak, input_scale, bias) -> list[tuple]:
    """The ESN grid (spectral radius, leak, input scaling, bias) in a fixed order."""
    return list(itertools.product(spectral_radius, leak, input_scale, bias))


def base_draw(key, n: int):
    """Standard-normal frequency offsets z, θ(0), w_i ~ N(0, 1), φ_i uniform: fixed across the grid."""
    k = [kj.stream_key(key, s) for s in ("omega", "theta0", "w", "phi")]
    return (jax.random.normal(k[0], (n,)), jax.random.uniform(k[1], (n,), maxval=2 * math.pi),
            jax.random.normal(k[2], (n,)), jax.random.uniform(k[3], (n,), maxval=2 * math.pi))


def grid_params(draw, point) -> HeldParams:
    """`HeldParams` of a grid point (K/K_c, ε, ω̄, σ) on the fixed draw (Gaussian law, mean field)."""
    z, theta0, w, phi = draw
    kr, eps, mean, spread = point
    f = jnp.result_type(float)
    K = kr * kj.theory.critical_coupling("gaussian", spread)
    return HeldParams(mean + spread * z, theta0, jnp.asarray(K, f), jnp.asarray(eps, f), w, phi)


def kuramoto_features(params_list, U, *, hold, dt, mechanism):
    """Features (P, S, T, 2N) of P parameter sets driven by S input series, one batched solve."""
    P, S = len(params_list), U.shape[0]
    stacked = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *params_list)
    batched = jax.tree_util.tree_map(lambda x: jnp.repeat(x, S, axis=0), stacked)
    Ub = jnp.tile(jnp.asarray(U), (P, 1))
    X = parallel.batch_map(_driver(hold, dt, mechanism), batched, Ub, gather=True)
    return np.asarray(X, dtype=np.float64).reshape(P, S, U.shape[1], -1)


_DRIVERS: dict = {}


def _driver(hold, dt, mechanism):
    # one function object per static setting, so batch_map reuses its compilation
    key = (hold, dt, mechanism)
    if key not in _DRIVERS:
        _DRIVERS[key] = lambda p, u: drive_held(p, u, hold=hold, dt=dt, mechanism=mechanism)[0]
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
                  dt: float, mechanism: str, steps: int, learning_rate: float, max_delay: int):
    """Adam on (ω, log K, log ε, w, φ) against the validation loss; returns (best params, losses (steps + 1,)).

    The loss drives the reservoir with `drive_held` (`kj.simulate`) and solves the ridge read-out in
    closed form inside it: NRMSE on `val`, or −MC for the memory capacity. Each step costs one
    value-and-gradient; the last parameters are scored once more (losses[-1]).
    """
    u, y = jnp.asarray(u), jnp.asarray(y)

    def unpack(q):
        return params._replace(omega=q["omega"], K=jnp.exp(q["logK"]), eps=jnp.exp(q["logeps"]), w=q["w"],
                               phi=q["phi"])

    def loss(q):
        X = drive_held(unpack(q), u, hold=hold, dt=dt, mechanism=mechanism)[0]
        if task == "memory_capacity":
            return -validation_memory_capacity(X, u, fit, val, ridge, max_delay)
        return validation_nrmse(X, y, fit, val, ridge)

    q = {"omega": params.omega, "logK": jnp.log(params.K), "logeps": jnp.log(params.eps), "w": params.w,
         "phi": params.phi}
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
    return unpack(best_q), np.asarray(losses)


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


def reservoir_kwargs(params: HeldParams, *, hold, dt, mechanism, ridge, washout_samples) -> dict:
    """Keyword arguments with which `KuramotoReservoir(**kwargs)` rebuilds a held reservoir (JSON-safe)."""
    n = int(params.omega.shape[0])
    return {"n": n, "K": _short(params.K)[0], "eps": _short(params.eps)[0], "dt": dt, "hold": hold,
            "washout": washout_samples * hold, "seed": 0, "input_mechanism": mechanism, "ridge": ridge,
            "features": "oscillators", "n_oscillator_features": n, "omega": _short(params.omega),
            "theta0": _short(params.theta0), "input_weights": _short(params.w), "input_phases": _short(params.phi)}
