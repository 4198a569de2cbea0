"""Checkpoints with named leaves: `save_checkpoint(path, tree, extra)` / `load_checkpoint(path, template)`.

One file per checkpoint, a NumPy `.npz` archive (read without pickle), written atomically:

* every array leaf of `tree` under its `jax.tree_util` key path, prefixed `tree`: e.g.
  `tree.params.layers[0].weight`, `tree.opt_state[1][0].mu['w']` (PRNG keys as their key data);
* the arrays of `extra` under `extra/<key>/<key>...`, its other plain values (numbers, strings,
  booleans, None, lists of those) as one JSON text.

`np.load(path)` lists what a checkpoint holds by name; loading matches leaves by name, so a
changed model fails with the names that differ, not with a position.
"""

from __future__ import annotations

import io
import json
import pathlib
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from . import _files
from ._study import RunError

FORMAT = 2
_META = "__meta__"


def _is_key(x) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _named_leaves(tree) -> list[tuple[str, Any]]:
    leaves, _ = jax.tree_util.tree_flatten_with_path(tree)
    return [("tree" + jax.tree_util.keystr(path), leaf) for path, leaf in leaves]


def _to_host(x) -> np.ndarray:
    return np.asarray(jax.random.key_data(x)) if _is_key(x) else np.asarray(x)


def _split_extra(extra: dict, prefix: str, arrays: dict) -> dict:
    """Arrays of `extra` into `arrays` (by path), the rest returned as JSON-able values."""
    plain = {}
    for k, v in extra.items():
        if not isinstance(k, str) or "/" in k:
            raise ValueError(f"save_checkpoint: `extra` keys must be strings without '/', got {k!r}")
        if isinstance(v, dict):
            plain[k] = {"__dict__": _split_extra(v, f"{prefix}/{k}", arrays)}
        elif isinstance(v, (np.ndarray, jax.Array)):
            arrays[f"{prefix}/{k}"] = np.asarray(v)
            plain[k] = {"__array__": f"{prefix}/{k}"}
        elif isinstance(v, np.generic):
            plain[k] = v.item()
        else:
            plain[k] = v
    return plain


def _join_extra(plain: dict, arrays) -> dict:
    out = {}
    for k, v in plain.items():
        if isinstance(v, dict) and "__dict__" in v:
            out[k] = _join_extra(v["__dict__"], arrays)
        elif isinstance(v, dict) and "__array__" in v:
            out[k] = arrays[v["__array__"]]
        else:
            out[k] = v
    return out


def save_checkpoint(path, tree, extra: dict | None = None) -> pathlib.Path:
    """Write the pytree `tree` (its array leaves, by key path) and plain `extra` values to `path`.

    Args:
        path: the file to write (atomically: a killed process leaves the previous file).
        tree: any pytree of arrays (equinox modules, optax states, dicts); PRNG keys allowed.
        extra: plain values (numbers, strings, None, lists, NumPy arrays, nested dicts of those).

    Returns:
        The path written.
    """
    arrays = {name: _to_host(leaf) for name, leaf in _named_leaves(tree)}
    plain = _split_extra(dict(extra or {}), "extra", arrays)
    meta = json.dumps({"format": FORMAT, "extra": plain}, allow_nan=True)
    arrays[_META] = np.asarray(meta)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return _files.write_bytes(path, buf.getvalue())


def load_checkpoint(path, template) -> tuple[Any, dict]:
    """Read a checkpoint written by `save_checkpoint` into the structure of `template`.

    Args:
        path: the checkpoint file.
        template: a pytree of the saved structure (e.g. freshly initialised parameters): its
            leaves' key paths, shapes and dtypes say what to read. None: read `extra` only (e.g.
            to learn how to build the template).

    Returns:
        (tree, extra): `template` with the saved leaves (None without a template), and the saved
        `extra` dict.

    Raises:
        RunError: if the file is not such a checkpoint, or names, shapes differ from `template`.
    """
    path = pathlib.Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise RunError(f"checkpoint {path}: not a checkpoint archive ({err})") from None
    with data:
        files = set(data.files)
        if _META not in files:
            raise RunError(f"checkpoint {path}: no {_META} entry (not written by save_checkpoint)")
        meta = json.loads(str(data[_META]))
        if meta.get("format") != FORMAT:
            raise RunError(f"checkpoint {path}: unknown format {meta.get('format')!r}, expected {FORMAT}")
        extra = _join_extra(meta["extra"], {f: data[f] for f in files if f.startswith("extra/")})
        if template is None:
            return None, extra
        named = _named_leaves(template)
        want = {n for n, _ in named}
        have = {f for f in files if f.startswith("tree")}
        if want != have:
            missing, unexpected = sorted(want - have), sorted(have - want)
            raise RunError(f"checkpoint {path}: leaves differ from the template (the model or optimiser changed "
                           f"since it was written): missing {missing[:5]}, unexpected {unexpected[:5]}")
        leaves = []
        for name, t in named:
            a = data[name]
            if _is_key(t):
                kd = jax.random.key_data(t)
                if a.shape != kd.shape:
                    raise RunError(f"checkpoint {path}: {name} is PRNG key data of shape {a.shape}, expected {kd.shape}")
                leaves.append(jax.random.wrap_key_data(jnp.asarray(a, kd.dtype), impl=jax.random.key_impl(t)))
                continue
            shape = tuple(np.shape(t))
            if tuple(a.shape) != shape:
                raise RunError(f"checkpoint {path}: {name} has shape {a.shape}, expected {shape} "
                               "(the model or optimiser changed since the checkpoint was written)")
            dtype = t.dtype if hasattr(t, "dtype") else np.asarray(t).dtype
            leaves.append(jnp.asarray(a, dtype=dtype))
    return jax.tree.unflatten(jax.tree.structure(template), leaves), extra
