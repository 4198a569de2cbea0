"""The vowel studies' data path: the `data_path` key or $KURAMOTO_JAX_DATA."""

from __future__ import annotations

import os
from pathlib import Path

from kuramoto_jax import ep
from kuramoto_jax.run import ConfigError

_HOW = (f"expected the Hillenbrand et al. (1995) vowel formants as a CSV with columns vowel, F1, F2: "
        f"pass --set data_path=/path/to/{ep.DATA_FILE} or set the environment variable {ep.DATA_ENV}")


def resolve_data_path(path: str) -> Path:
    """`data_path` from the config, or $KURAMOTO_JAX_DATA; ConfigError naming the key if unreadable."""
    p = Path(path).expanduser() if path else ep.default_data_path()
    if p is None:
        raise ConfigError(f"config key `data_path`: empty and {ep.DATA_ENV} is not set; {_HOW}")
    if not p.is_file() or not os.access(p, os.R_OK):
        raise ConfigError(f"config key `data_path`: got {str(p)!r}, which is not a readable file; {_HOW}")
    return p
