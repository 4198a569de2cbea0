"""Config-driven runs of studies: typed YAML configs, run folders, training with exact resume.

A study is a module under `experiments/` defining a dataclass `Config` and
`run(config, ctx) -> dict[str, float]`; `kuramoto-jax run configs/<name>.yaml`
validates the YAML against `Config`, creates the run folder and calls `run`.

    from kuramoto_jax.run import train, OptimizerConfig, make_optimizer, RunContext
"""

from ._config import ConfigError, from_dict, to_dict
from ._context import RunContext
from ._optim import OptimizerConfig, make_optimizer, make_schedule
from ._study import RunError, execute, find_repo_root, list_configs, list_studies, resolve
from ._train import TrainingError, TrainResult, load_checkpoint, save_checkpoint, train

__all__ = [
    "ConfigError",
    "OptimizerConfig",
    "RunContext",
    "RunError",
    "TrainResult",
    "TrainingError",
    "execute",
    "find_repo_root",
    "from_dict",
    "list_configs",
    "list_studies",
    "load_checkpoint",
    "make_optimizer",
    "make_schedule",
    "resolve",
    "save_checkpoint",
    "to_dict",
    "train",
]
