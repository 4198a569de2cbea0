"""Switching float64 on or off for a block of code, on every supported JAX version.

`jax.enable_x64(flag)` is the context manager in recent JAX; older releases (the
supported floor, 0.6.1) have it as `jax.experimental.enable_x64(flag)`. The runner
uses this to run a study in its `precision` without leaving global state changed.
"""

from __future__ import annotations

import jax


def x64(enabled: bool = True):
    """Context manager: float64 enabled (`enabled=True`) or disabled within the block."""
    if hasattr(jax, "enable_x64"):
        return jax.enable_x64(bool(enabled))
    from jax.experimental import enable_x64

    return enable_x64(bool(enabled))
