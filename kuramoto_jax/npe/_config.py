"""The two configuration sections of neural posterior estimation: the flow and its training.

They are the one definition of these settings: the studies nest them as their `flow:`
and `train:` sections (the runner checks YAML values against the field metadata below),
and the saved posterior stores the `FlowConfig` that rebuilds its flow.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Optional

import numpy as np

from kuramoto_jax.run import OptimizerConfig
from kuramoto_jax.run._optim import OPTIMIZERS, SCHEDULES


def _check(config) -> None:
    """Validate every field against its `choices`/`ge`/`gt`/`lt` metadata (direct construction;
    the runner applies the same metadata to YAML values first, naming the key path)."""
    for f in dataclasses.fields(config):
        val, meta = getattr(config, f.name), f.metadata
        if val is None and f.type.startswith("Optional"):
            continue
        if "choices" in meta and val not in meta["choices"]:
            raise ValueError(f"`{f.name}` must be one of {tuple(meta['choices'])}, got {val!r}")
        if f.type == "int" and (isinstance(val, bool) or not isinstance(val, (int, np.integer))):
            raise ValueError(f"`{f.name}` must be an integer, got {val!r}")
        for key, ok, sym in (("ge", lambda a, b: a >= b, "≥"), ("gt", lambda a, b: a > b, ">"),
                             ("lt", lambda a, b: a < b, "<")):
            if key in meta and not ok(val, meta[key]):
                raise ValueError(f"`{f.name}` must be {sym} {meta[key]}, got {val!r}")


@dataclasses.dataclass(frozen=True)
class FlowConfig:
    """Hyperparameters that rebuild the flow (saved next to its weights).

    Attributes:
        transformer: "affine" or "spline" (rational-quadratic, `knots` bins on [−interval, interval]).
        architecture: "coupling" (RealNVP-style) or "autoregressive" (MAF).
        flow_layers: number of flow layers.
        nn_width: width of the conditioner MLP.
        nn_depth: hidden layers of the conditioner MLP.
        knots: spline bins.
        interval: spline support [−interval, interval] (identity outside).
        embedding: "none", or "conv" for a learned summary network over the sequence part of x.
        embedding_dim: the summary network's output size E.
        embedding_width: the summary network's channels W.
    """

    transformer: str = field(default="spline", metadata={"choices": ["affine", "spline"],
                                                         "help": "coupling transformer"})
    architecture: str = field(default="coupling", metadata={"choices": ["coupling", "autoregressive"]})
    flow_layers: int = field(default=4, metadata={"ge": 1, "help": "number of flow layers"})
    nn_width: int = field(default=64, metadata={"ge": 1, "help": "conditioner MLP width"})
    nn_depth: int = field(default=2, metadata={"ge": 1, "help": "conditioner MLP depth"})
    knots: int = field(default=8, metadata={"ge": 2, "help": "spline bins"})
    interval: float = field(default=5.0, metadata={"gt": 0, "help": "spline support [-interval, interval]"})
    embedding: str = field(default="none", metadata={"choices": ["none", "conv"],
                                                     "help": "learned summary network over the summary sequence"})
    embedding_dim: int = field(default=16, metadata={"ge": 1, "help": "summary network outputs"})
    embedding_width: int = field(default=32, metadata={"ge": 1, "help": "summary network channels"})

    def __post_init__(self):
        _check(self)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation of the flow by maximum likelihood on simulated pairs (optax, through `run.train`).

    Attributes:
        num_steps: optimiser steps.
        batch_size: training pairs per step.
        optimizer: optax optimiser (`kuramoto_jax.run.make_optimizer`'s names).
        learning_rate: peak learning rate.
        schedule: learning-rate schedule over the run (`warmup_cosine`: linear warm-up, cosine decay to 0).
        warmup_steps: steps of linear warm-up.
        weight_decay: decoupled weight decay (adamw, lion).
        clip_norm: clip gradients to this global norm (None: no clipping).
        validation_fraction: share of the pairs held out for the validation loss.
        eval_every: steps between validation losses (the best validation weights are kept).
        checkpoint_every: steps between checkpoints.
    """

    num_steps: int = field(default=3000, metadata={"ge": 1, "help": "optimiser steps"})
    batch_size: int = field(default=256, metadata={"ge": 1})
    optimizer: str = field(default="adamw", metadata={"choices": list(OPTIMIZERS), "help": "optax optimiser"})
    learning_rate: float = field(default=1e-3, metadata={"gt": 0, "help": "peak learning rate"})
    schedule: str = field(default="warmup_cosine", metadata={"choices": list(SCHEDULES),
                                                             "help": "learning-rate schedule over the run"})
    warmup_steps: int = field(default=100, metadata={"ge": 0})
    weight_decay: float = field(default=1e-4, metadata={"ge": 0, "help": "decoupled weight decay (adamw, lion)"})
    clip_norm: Optional[float] = field(default=5.0, metadata={"gt": 0, "help": "gradient clipping (global norm)"})
    validation_fraction: float = field(default=0.1, metadata={"gt": 0, "lt": 1})
    eval_every: int = field(default=250, metadata={"ge": 1, "help": "validation loss every this many steps"})
    checkpoint_every: int = field(default=500, metadata={"ge": 1})

    def __post_init__(self):
        _check(self)

    def optimizer_config(self) -> OptimizerConfig:
        """The optax chain these settings describe (`kuramoto_jax.run.make_optimizer` builds it)."""
        return OptimizerConfig(name=self.optimizer, learning_rate=self.learning_rate, schedule=self.schedule,
                               warmup_steps=self.warmup_steps, weight_decay=self.weight_decay,
                               clip_norm=self.clip_norm)
