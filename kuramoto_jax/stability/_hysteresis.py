r"""Hysteresis loops of the time-averaged order parameter under adiabatic ramps of the coupling.

The coupling of a model is scaled by κ_1 < κ_2 < … < κ_G and back down (the top is
not repeated): 2G − 1 stages. Each stage integrates `simulate` for a time t1 from the
previous stage's final phases (same ω, same coupling shape: only κ changes) and
records R̄, the mean of R(t) over the second half [t1/2, t1] sampled every
`save_every` on the step grid. The loop area

    A = ∫ (R̄_down(κ) − R̄_up(κ)) dκ          (trapezoid over the grid)

measures the bistability between the incoherent and the locked branch.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _validate as v
from .._model import Kuramoto
from .._observables import order_parameter
from .._solve import simulate
from ..parallel import batch_map
from . import _frame as fr


def averaging_times(t1: float, dt: float, save_every: float) -> np.ndarray:
    """Sample times of R(t) over the second half [t1/2, t1], on the grid of the step dt."""
    steps = int(round(t1 / dt))
    stride = max(1, int(round(save_every / dt)))
    return np.arange(steps // 2, steps + 1, stride) * dt


def ramp_stages(scales) -> np.ndarray:
    """(2G − 1,) stages: the grid up, then down without repeating the top."""
    k = np.asarray(scales, float)
    return np.concatenate([k, k[-2::-1]])


def split_ramp(values, num: int):
    """(…, 2G − 1) stage values ↦ (up, down), each (…, G) on the same increasing grid."""
    values = np.asarray(values)
    up = values[..., :num]
    down = np.concatenate([values[..., num:][..., ::-1], values[..., num - 1:num]], axis=-1)
    return up, down


def loop_area(scales, R_up, R_down) -> np.ndarray:
    """∫ (R̄_down − R̄_up) dκ over the grid `scales` (last axis)."""
    return np.trapezoid(np.asarray(R_down) - np.asarray(R_up), np.asarray(scales), axis=-1)


def adiabatic_sweep(model: Kuramoto, stages, theta0, *, t1: float, dt: float, save_every: float,
                    solver: str = "rk4"):
    """R̄ at each stage of a ramp of the coupling scale, traceable (vmap over models or θ0).

    Args:
        model: `Kuramoto` model; stage s uses coupling κ_s K.
        stages: (S,) scales κ_s, visited in order, each from the previous final phases.
        theta0: (N,) initial phases of the first stage.
        t1: per-stage integration time.
        dt: per-stage step.
        save_every: spacing of the saved R(t) averaged over each stage.

    Returns:
        (R̄ (S,), final phases (S, N)).
    """
    ts_np = averaging_times(float(t1), float(dt), float(save_every))
    ts, t_end = jnp.asarray(ts_np), float(ts_np[-1])
    obs = lambda th: (order_parameter(th)[0], th)

    def stage(theta, kappa):
        out = simulate(fr.scaled(model, kappa), theta, t1=t_end, dt=dt, ts=ts, observe=obs,
                       solver=solver).observables
        return out[1][-1], (jnp.mean(out[0]), out[1][-1])

    _, (R, finals) = jax.lax.scan(stage, theta0, jnp.asarray(stages, jnp.result_type(theta0, float)))
    return R, finals


class Hysteresis(NamedTuple):
    """scales (G,); R_up, R_down (B, G): R̄ on the way up and down; area (B,): the loop areas."""

    scales: np.ndarray
    R_up: np.ndarray
    R_down: np.ndarray
    area: np.ndarray


def hysteresis_loop(model: Kuramoto, scales, theta0, *, t1: float = 40.0, dt: float = 0.1,
                    save_every: float = 0.5, solver: str = "rk4", devices=None) -> Hysteresis:
    r"""Forward and backward adiabatic sweeps of the coupling scale from a batch of initial phases.

    Args:
        model: `Kuramoto` model whose coupling K is scaled by κ ∈ `scales`.
        scales: (G,) increasing coupling scales κ (for `MeanField(1.0)`: the K values).
        theta0: (B, N) initial phases (or (N,)); batched over the devices with `batch_map`.
        t1: per-stage integration time (module docstring).
        dt: per-stage step.
        save_every: spacing of the saved R(t) averaged over each stage.
        devices: passed to `kuramoto_jax.parallel.batch_map`.

    Returns:
        `Hysteresis` with R̄ up and down on the same grid and the loop area per initial condition.
    """
    model = fr.check_model("model", model)
    k = np.asarray(scales, float)
    if k.ndim != 1 or k.size < 2 or np.any(np.diff(k) <= 0):
        raise ValueError(f"`scales` must be a 1-D increasing grid of at least 2 values, got {v.describe(k)}")
    theta0 = v.as_array("theta0", theta0)
    single = theta0.ndim == 1
    theta0 = theta0[None] if single else theta0
    if theta0.ndim != 2 or theta0.shape[1] != model.n:
        raise ValueError(f"`theta0` must be (N,) or (B, N) with N = {model.n}, got {v.describe(theta0)}")
    for name, val in (("t1", t1), ("dt", dt), ("save_every", save_every)):
        v.scalar(name, val, positive=True)
    stages = ramp_stages(k)
    fn = lambda th: adiabatic_sweep(model, stages, th, t1=t1, dt=dt, save_every=save_every, solver=solver)[0]
    R = batch_map(fn, theta0, devices=devices, gather=True)
    up, down = split_ramp(R, k.size)
    area = loop_area(k, up, down)
    return Hysteresis(k, up, down, area)
