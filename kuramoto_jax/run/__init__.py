"""Config-driven runs of studies: typed YAML configs, run folders, training with exact resume.

A study is a registered module (the toolkit's own: `kuramoto_jax.experiments.*`; other
packages' through the entry-point group `kuramoto_jax.studies`) defining a dataclass
`Config` and `run(config, ctx) -> dict[str, float]`; `kuramoto-jax run NAME` (a shipped
config's name such as `kuranet/global_case1`, or a YAML file) validates the config against
`Config`, creates the run folder and calls `run`.

    from kuramoto_jax.run import train, OptimizerConfig, make_optimizer, RunContext
"""

from ._config import ConfigError, from_dict, to_dict
from ._context import RunContext
from ._load import RunFolder, load_run
from ._optim import OptimizerConfig, make_optimizer, make_schedule
from ._registry import ConfigInfo, StudyInfo, configs, find_config, import_study, studies
from ._study import RunError, execute, resolve
from ._checkpoint import load_checkpoint, save_checkpoint
from ._train import TrainingError, TrainResult, TrainState, train

__all__ = [
    "ConfigError",
    "OptimizerConfig",
    "RunContext",
    "RunError",
    "RunFolder",
    "TrainResult",
    "TrainState",
    "TrainingError",
    "execute",
    "ConfigInfo",
    "StudyInfo",
    "configs",
    "find_config",
    "import_study",
    "studies",
    "from_dict",
    "load_checkpoint",
    "load_run",
    "make_optimizer",
    "make_schedule",
    "resolve",
    "save_checkpoint",
    "to_dict",
    "train",
]
