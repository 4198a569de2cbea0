"""Optimisers from config: `OptimizerConfig` (a config section) → an optax transformation.

    @dataclass
    class Config:
        seed: int = 0
        optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)

    opt = make_optimizer(config.optimizer, num_steps=config.steps)

The chain is: optional global-norm clipping → the optimiser's scaling → the
learning-rate schedule (optax's own `adam`, `adamw`, `sgd`, `rmsprop`, `lion`, `adabelief`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import optax

from .._validate import one_of

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "lion", "adabelief")
SCHEDULES = ("constant", "cosine", "warmup_cosine", "exponential", "linear")


@dataclass
class OptimizerConfig:
    """The optimiser section of a training config: optax optimiser, learning-rate schedule, clipping.

    Built into an optax transformation by `make_optimizer(config, num_steps)`.
    """

    name: str = field(default="adam", metadata={"choices": list(OPTIMIZERS), "help": "optax optimiser"})
    learning_rate: float = field(default=1e-3, metadata={"gt": 0, "help": "peak learning rate"})
    schedule: str = field(default="constant", metadata={"choices": list(SCHEDULES),
                                                       "help": "learning-rate schedule over the run"})
    warmup_steps: int = field(default=0, metadata={"ge": 0, "help": "linear warm-up (warmup_cosine)"})
    decay_steps: Optional[int] = field(default=None, metadata={
        "ge": 1, "help": "steps of decay (default: the training length)"})
    end_value_fraction: float = field(default=0.0, metadata={
        "ge": 0, "le": 1, "help": "final learning rate as a fraction of the peak (cosine/linear/exponential)"})
    b1: float = field(default=0.9, metadata={"ge": 0, "lt": 1, "help": "first-moment decay (adam-like)"})
    b2: float = field(default=0.999, metadata={"ge": 0, "lt": 1, "help": "second-moment decay (adam-like)"})
    momentum: float = field(default=0.0, metadata={"ge": 0, "lt": 1, "help": "sgd momentum (0: none)"})
    nesterov: bool = field(default=False, metadata={"help": "Nesterov momentum for sgd"})
    weight_decay: float = field(default=0.0, metadata={"ge": 0, "help": "decoupled weight decay (adamw, lion)"})
    clip_norm: Optional[float] = field(default=None, metadata={"gt": 0, "help": "clip gradients to this global norm"})


def make_schedule(cfg: OptimizerConfig, num_steps: int | None = None) -> optax.Schedule | float:
    """The learning rate of `cfg` as a float (constant) or an optax schedule over `num_steps` steps.

    Raises:
        ValueError: if a decaying schedule has neither `decay_steps` nor `num_steps`.
    """
    lr = cfg.learning_rate
    if cfg.schedule == "constant":
        return lr
    steps = cfg.decay_steps or num_steps
    if steps is None:
        raise ValueError(f"`optimizer.schedule`={cfg.schedule!r} needs `optimizer.decay_steps` or num_steps")
    # A run of 0 steps never takes the schedule past step 0; optax's decays need at least one step.
    steps = max(int(steps), 1)
    end = lr * cfg.end_value_fraction
    if cfg.schedule == "cosine":
        return optax.cosine_decay_schedule(lr, decay_steps=steps, alpha=cfg.end_value_fraction)
    if cfg.schedule == "warmup_cosine":
        return optax.warmup_cosine_decay_schedule(0.0, lr, warmup_steps=cfg.warmup_steps,
                                                  decay_steps=max(steps, cfg.warmup_steps + 1), end_value=end)
    if cfg.schedule == "linear":
        return optax.linear_schedule(lr, end, transition_steps=steps)
    if cfg.schedule == "exponential":
        rate = max(cfg.end_value_fraction, 1e-12)
        return optax.exponential_decay(lr, transition_steps=steps, decay_rate=rate)
    raise ValueError(f"`optimizer.schedule` must be one of {SCHEDULES}, got {cfg.schedule!r}")


def make_optimizer(cfg: OptimizerConfig | None = None, num_steps: int | None = None) -> optax.GradientTransformation:
    """The optax transformation described by `cfg` (default: Adam, lr 1e-3)."""
    cfg = OptimizerConfig() if cfg is None else cfg
    if not isinstance(cfg, OptimizerConfig):
        raise TypeError(f"`cfg` must be an OptimizerConfig, got {type(cfg).__name__}")
    one_of("optimizer.name", cfg.name, OPTIMIZERS)
    lr = make_schedule(cfg, num_steps)
    if cfg.name == "adam":
        opt = optax.adam(lr, b1=cfg.b1, b2=cfg.b2)
    elif cfg.name == "adamw":
        opt = optax.adamw(lr, b1=cfg.b1, b2=cfg.b2, weight_decay=cfg.weight_decay)
    elif cfg.name == "sgd":
        opt = optax.sgd(lr, momentum=cfg.momentum or None, nesterov=cfg.nesterov)
    elif cfg.name == "rmsprop":
        opt = optax.rmsprop(lr, decay=cfg.b2, momentum=cfg.momentum or None, nesterov=cfg.nesterov)
    elif cfg.name == "lion":
        opt = optax.lion(lr, b1=cfg.b1, b2=cfg.b2, weight_decay=cfg.weight_decay)
    else:
        opt = optax.adabelief(lr, b1=cfg.b1, b2=cfg.b2)
    if cfg.clip_norm is not None:
        opt = optax.chain(optax.clip_by_global_norm(cfg.clip_norm), opt)
    return opt
