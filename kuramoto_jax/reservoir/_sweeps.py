r"""Reservoir sweeps: many driven reservoirs in one batched run, then their read-out errors.

    omega, theta0 = sample_reservoirs(key, count, n, "gaussian", 0.4, 0.5)      # (count, n) each
    X = drive_batch(omega, theta0, K, eps, u, dt, features=order_parameter_features(5), skip=n_wash)
    err, y_hat = readout_errors(X, y, n_train)                                   # (B,), (B, T_test)

`drive_batch` is `drive_reservoir` vmapped over the leading axis of ω, θ(0), K, ε (and
of u and the input weights when they carry one), spread over the devices with
`kuramoto_jax.parallel.batch_map` (inside a run: the run's devices). The read-outs are
small dense least-squares problems solved on the host in float64 (`fit_readout`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate, parallel
from .._streams import stream_key
from ._features import drive_reservoir
from ._readout import fit_readout
from ._reservoir import sample_reservoir
from .metrics import mse

__all__ = ["drive_batch", "readout_errors", "sample_reservoirs", "sweep_summary"]


def sample_reservoirs(key, count: int, n: int, law: str, spread: float, mean: float,
                      frequencies: str = "random"):
    """`count` reservoir draws (ω, θ(0)), each of shape (count, n).

    Draw i is `sample_reservoir(kj.stream_key(key, "reservoir", i), ...)`, so it does not
    depend on `count`.

    Args:
        key: PRNG key (typed or legacy).
        count: number of draws ≥ 1.
        n: oscillators per reservoir.
        law: frequency law (`kj.theory.LAWS`).
        spread: spread of the law (Gaussian std, uniform or Lorentzian half-width).
        mean: mean natural frequency ω̄.
        frequencies: "random" (iid draws) or "quantile" (see `sample_reservoir`).

    Returns:
        (ω, θ(0)), each (count, n).
    """
    key = _validate.prng_key("key", key)
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"`count` must be an int >= 1, got {count!r}")
    draws = [sample_reservoir(stream_key(key, "reservoir", i), n, law, spread, mean, frequencies)
             for i in range(int(count))]
    return jnp.stack([d[0] for d in draws]), jnp.stack([d[1] for d in draws])


# One function object per static setting: `batch_map` compiles once per function and shape, so
# repeated sweeps of the same shape reuse the compiled program.
@functools.lru_cache(maxsize=32)
def _drive_fn(dt, features, skip, stride, input_term, solver, weighted):
    def one(omega, theta0, K, eps, u, w=None):
        return drive_reservoir(omega, theta0, K, eps, u, dt, features=features, skip=skip, stride=stride,
                               input_term=input_term, input_weights=w, solver=solver)[0]

    return one


def drive_batch(omega, theta0, K, eps, u, dt: float, *, features: Callable, skip: int = 0, stride: int = 1,
                input_term: str = "additive", input_weights=None, solver: str = "rk4") -> np.ndarray:
    """Features of B driven reservoirs in one batched computation (see `drive_reservoir`).

    Args:
        omega: (B, N) natural frequencies.
        theta0: (B, N) initial phases.
        K: (B,) mean-field couplings (or a scalar for all).
        eps: (B,) input gains (or a scalar for all).
        u: (T,) input shared by every reservoir, or (B, T) one input per reservoir.
        dt: sample spacing and integration step.
        features: θ (N,) ↦ (D,) feature map.
        skip: samples before the first recorded feature (the washout).
        stride: record every `stride`-th sample after `skip`.
        input_term: r(θ) of the input term.
        input_weights: None (w = 1) or (N,) weights shared by every reservoir.
        solver: fixed-step solver name.

    Returns:
        X of shape (B, S, D), float64 host array (the read-out is fitted in float64).
    """
    omega, theta0 = jnp.asarray(omega), jnp.asarray(theta0)
    if omega.ndim != 2 or theta0.shape != omega.shape:
        raise ValueError(f"`omega` and `theta0` must share one shape (B, N), got {omega.shape} and {theta0.shape}")
    B, dtype = omega.shape[0], omega.dtype
    K = jnp.broadcast_to(jnp.asarray(K, dtype), (B,))
    eps = jnp.broadcast_to(jnp.asarray(eps, dtype), (B,))
    u = jnp.asarray(u, dtype)
    if u.ndim not in (1, 2) or (u.ndim == 2 and u.shape[0] != B):
        raise ValueError(f"`u` must have shape (T,) or ({B}, T), got {u.shape}")
    batched = [omega, theta0, K, eps, jnp.broadcast_to(u, (B, u.shape[-1]))]
    if input_weights is not None:
        batched.append(jnp.broadcast_to(jnp.asarray(input_weights, dtype), omega.shape))
    fn = _drive_fn(float(dt), features, int(skip), int(stride), input_term, solver, input_weights is not None)
    X = parallel.batch_map(fn, *batched)
    return np.asarray(jax.block_until_ready(X), dtype=np.float64)


def readout_errors(X, y, n_train: int, ridge: float = 0.0, error: Callable = mse):
    """Fit a read-out on the first `n_train` samples of every feature series and test it on the rest.

    Args:
        X: (..., S, D) features (e.g. from `drive_batch`).
        y: (S,) target shared by every series, or (..., S) one per series.
        n_train: training samples (the first ones); the remaining S − n_train are the test.
        ridge: 0 = least squares (Moore–Penrose), > 0 = ridge penalty.
        error: (ŷ, y) ↦ float on the test samples (default `mse`).

    Returns:
        (errors (...), test predictions (..., S − n_train)).
    """
    X = np.asarray(X, dtype=np.float64)
    lead, (S, _) = X.shape[:-2], X.shape[-2:]
    if not 0 < n_train < S:
        raise ValueError(f"`n_train` must be in (0, {S}), got {n_train}")
    y = np.broadcast_to(np.asarray(y, dtype=np.float64), lead + (S,))
    errors, preds = np.zeros(lead), np.zeros(lead + (S - n_train,))
    for idx in np.ndindex(*lead):
        ro = fit_readout(X[idx][:n_train], y[idx][:n_train], ridge=ridge)
        preds[idx] = ro(X[idx][n_train:])
        errors[idx] = error(preds[idx], y[idx][n_train:])
    return errors, preds


def sweep_summary(k_over_kc, error_on, error_off, below: float = 0.5) -> dict[str, float]:
    """Read-outs of a K sweep of test errors across K_c, with the input on and the ε = 0 control.

    Args:
        k_over_kc: (G,) couplings K/K_c of the sweep (must contain `below`, up to 1e-9).
        error_on: (G,) test error with the input on.
        error_off: (G,) test error of the ε = 0 control on the same reservoirs.
        below: the K/K_c at which the sub-threshold error is read.

    Returns:
        dict with mse_below_kc (error at `below`), mse_above_kc (the minimum error, input on),
        k_best_over_kc (its K/K_c), mse_eps0_above_kc (the control there), k_within_1pct_over_kc
        (the first K/K_c within 1 % of the minimum), ratio_below_over_above and ratio_eps0_over_eps.
    """
    k, on, off = (np.asarray(x, dtype=np.float64) for x in (k_over_kc, error_on, error_off))
    hits = np.nonzero(np.abs(k - below) < 1e-9)[0]
    if not hits.size:
        raise ValueError(f"`k_over_kc` must contain below = {below}, got {k.tolist()}")
    i, kb = int(hits[0]), int(np.argmin(on))
    return {"mse_below_kc": float(on[i]), "mse_above_kc": float(on[kb]), "k_best_over_kc": float(k[kb]),
            "mse_eps0_above_kc": float(off[kb]), "k_within_1pct_over_kc": float(k[np.argmax(on <= 1.01 * on[kb])]),
            "ratio_below_over_above": float(on[i] / on[kb]), "ratio_eps0_over_eps": float(off[kb] / on[kb])}
