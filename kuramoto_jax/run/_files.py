"""Atomic file writes: write a temporary file in the target's folder, then `os.replace`.

`os.replace` is atomic on POSIX and Windows when source and target are on the same
file system, so a run killed at any moment leaves either the previous complete
file or the new complete file, never a truncated one.
"""

from __future__ import annotations

import io
import json
import os
import pathlib
import tempfile
from typing import Any, Callable

import numpy as np


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once: os.umask can only be read by setting it


def atomic_write(path, write: Callable[[Any], None], mode: str = "wb") -> pathlib.Path:
    """Call `write(fileobj)` on a temporary file next to `path`, fsync it, then rename it to `path`.

    The file gets the permissions of a file opened normally (0666 less the umask), not the
    owner-only 0600 of the temporary file.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, mode) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def write_bytes(path, data: bytes) -> pathlib.Path:
    return atomic_write(path, lambda f: f.write(data))


def write_text(path, text: str) -> pathlib.Path:
    return write_bytes(path, text.encode("utf-8"))


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, pathlib.PurePath):
        return str(x)
    raise TypeError(f"cannot write {type(x).__name__} to JSON")


def write_json(path, obj) -> pathlib.Path:
    text = json.dumps(obj, indent=2, sort_keys=False, default=_json_default, allow_nan=False)
    return write_text(path, text + "\n")


def load_npz(path) -> dict[str, np.ndarray]:
    path = pathlib.Path(path)
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def write_npz(path, arrays: dict[str, np.ndarray]) -> pathlib.Path:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return write_bytes(path, buf.getvalue())
