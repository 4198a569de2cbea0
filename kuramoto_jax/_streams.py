"""Named random streams: one key per purpose, derived from a seed by folding names in.

    key = kj.stream_key(seed, "init")          # parameters
    key = kj.stream_key(seed, "init", member)  # member `member` of an ensemble
    key = kj.stream_key(seed, "data", "train") # nested purposes

A name is folded in as the CRC-32 of its UTF-8 bytes and an index as itself
(`jax.random.fold_in`), so the streams of two purposes, two members or two seeds
are different keys of the same generator, never shifted copies of one stream
(as `seed + i` gives: member 1 of seed 0 would be member 0 of seed 1). The
derivation depends only on the seed and the path, so a run reproduces whatever
else it draws and in whatever order.
"""

from __future__ import annotations

import zlib
from typing import Any

import jax
import numpy as np

from ._validate import prng_key

__all__ = ["stream_key"]


def _name_code(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def stream_key(seed: Any, *path: str | int) -> jax.Array:
    """The typed PRNG key of the stream named `path` under `seed`.

    Args:
        seed: a non-negative integer seed, or a PRNG key (typed or legacy uint32) to derive from.
        *path: names (str) and indices (int ≥ 0) naming the stream, e.g. ("init", 3).

    Returns:
        A typed key (`jax.random.key`), a scalar array of key dtype.
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        if not 0 <= int(seed) < 2**63:
            raise ValueError(f"`seed` must be a non-negative integer, got {int(seed)}")
        key = jax.random.key(int(seed))
    else:
        key = prng_key("seed", seed)
    for i, part in enumerate(path):
        if isinstance(part, str):
            key = jax.random.fold_in(key, _name_code(part))
        elif isinstance(part, (int, np.integer)) and not isinstance(part, (bool, np.bool_)):
            if not 0 <= int(part) < 2**32:
                raise ValueError(f"`path[{i}]` must be a name or an index in [0, 2**32), got {int(part)}")
            key = jax.random.fold_in(key, int(part))
        else:
            raise TypeError(f"`path[{i}]` must be a str name or an int index, got {part!r}")
    return key
