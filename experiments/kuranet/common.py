"""Pieces shared by the KuraNet studies: model config, timing, r², figures."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import numpy as np


@dataclass
class ModelConfig:
    hidden: list[int] = field(default_factory=lambda: [32, 32], metadata={
        "ge": 1, "help": "hidden widths of the pair MLP (paper: [128, 128]; 4x-16x slower to build K at n = 10,000)"})
    negative_slope: float = field(default=0.2, metadata={"ge": 0, "help": "LeakyReLU slope"})
    block_rows: int = field(default=250, metadata={"ge": 1, "help": "rows of K built at once at large n"})


@dataclass
class ReferenceProtocol:
    """Config fields of the reference code's evaluation protocol (its `evaluate.py`).

    The paper's tables were scored after long runs: the Data regime over the loss window after
    `ref_burn_in_steps` Euler steps, the Size regimes on the single state after
    `ref_size_burn_in_steps` steps. Both studies inherit these fields and report the metrics
    `*_ref` beside the training-window ones.
    """

    ref_eval: bool = field(default=True, metadata={
        "help": "also score every regime as the reference code's evaluate.py did (metrics *_ref): Data after "
                "`ref_burn_in_steps`, Size regimes on the state after `ref_size_burn_in_steps`"})
    ref_burn_in_steps: int = field(default=1000, metadata={
        "ge": 0, "help": "reference protocol, Data regime: Euler steps before the `window_steps` loss window"})
    ref_size_burn_in_steps: int = field(default=5000, metadata={
        "ge": 1, "help": "reference protocol, Size regimes: Euler steps before the single scored state"})


def r_squared(x, y) -> float:
    """r² of the least-squares line y ≈ a x + b (squared Pearson correlation)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    if x.size < 3 or np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1] ** 2)


def timed(fn, *args):
    """(result with arrays ready, seconds)."""
    t = time.perf_counter()
    out = jax.block_until_ready(fn(*args))
    return out, time.perf_counter() - t


def summary_stats(values) -> tuple[float, float, float]:
    v = np.asarray(values, float)
    return float(v.min()), float(v.mean()), float(v.std())


def per_seed_optimizer(base):
    """An optax transformation for parameters stacked over seeds (leading axis S).

    init and update are `jax.vmap` of the base transformation's, so every seed keeps
    its own moments, step count and schedule, and a global-norm clipping inside
    `base` clips each seed's gradient by that seed's own norm (not the norm of all
    seeds together): training S seeds at once is S independent trainings.
    """
    import optax

    def init(params):
        return jax.vmap(base.init)(params)

    def update(updates, state, params=None):
        if params is None:
            return jax.vmap(lambda u, s: base.update(u, s))(updates, state)
        return jax.vmap(base.update)(updates, state, params)

    return optax.GradientTransformation(init, update)
