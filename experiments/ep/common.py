"""Shared pieces of the equilibrium-propagation studies: data path and float64."""

from __future__ import annotations

from pathlib import Path

import jax

from kuramoto_jax import ep


def use_float64() -> None:
    """EP differences (θ^β − θ*)/β at small β need float64 to be meaningful."""
    jax.config.update("jax_enable_x64", True)


def resolve_data_path(path: str) -> Path:
    """`data_path` from the config, or the default (env KURAMOTO_JAX_DATA / ../shared/data)."""
    p = Path(path) if path else ep.default_data_path()
    if not p.is_file():
        raise FileNotFoundError(
            f"`data_path` {str(p)!r} does not exist: expected the Hillenbrand vowels CSV "
            "(columns vowel, F1, F2); set data_path or KURAMOTO_JAX_DATA"
        )
    return p
