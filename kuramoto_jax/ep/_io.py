"""Saving and reloading trained EP networks.

A trained `Network` (or a stack of them: an ensemble) is written as two files: the
arrays through `kuramoto_jax.run.save_checkpoint` (`<name>.npz`, leaves named by their key paths) and the static
layout that rebuilds its structure (`<name>.json`: indices, encoding, readout targets,
solver settings, the ensemble shape). `load(run_dir)` reads the network a study run
saved in its `checkpoints/` folder.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib

import jax
import jax.numpy as jnp

from ._network import Network

STUDIES = ("ep/digits", "ep/vowels")
"""Studies whose runs save a trained network (`load` accepts their run folders)."""
NETWORK_FILE = "network"
"""Stem of the saved network's files in a run's checkpoints folder."""

_FLOAT32_TOL = 1e-4
_STATIC = ("inputs", "hidden", "outputs", "encoding", "input_scale", "target_on", "target_off", "sweeps",
           "newton_steps", "tol_residual")


def save_network(path, net: Network) -> pathlib.Path:
    """Write `net` to `path` (.npz arrays) and its layout beside it (.json); returns the .npz path."""
    from ..run import save_checkpoint

    path = pathlib.Path(path).with_suffix(".npz")
    layout = {k: (list(v) if isinstance(v, tuple) else v) for k, v in ((k, getattr(net, k)) for k in _STATIC)}
    layout["batch_shape"] = list(net.omega.shape[:-1])
    layout["n"] = net.n
    layout["dtype"] = str(net.omega.dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".json").write_text(json.dumps(layout, indent=1) + "\n")
    return save_checkpoint(path, net, {})


def load_network(path) -> Network:
    """Read a network written by `save_network` (a stack of networks for an ensemble).

    The arrays take the saved dtype where it is enabled; a float64 network read while float64 is
    off becomes float32, and its residual tolerance is raised to float32's default (1e-4) if it was
    tighter.
    """
    from ..run import load_checkpoint

    path = pathlib.Path(path).with_suffix(".npz")
    meta = json.loads(path.with_suffix(".json").read_text())
    shape, n = tuple(meta["batch_shape"]), int(meta["n"])
    static = {k: (tuple(meta[k]) if isinstance(meta[k], list) else meta[k]) for k in _STATIC}
    dtype = jax.dtypes.canonicalize_dtype(meta["dtype"])  # float32 when float64 is not enabled
    template = Network(jnp.zeros(shape + (n,), dtype), jnp.zeros(shape + (n, n), dtype), jnp.zeros(shape + (n,), dtype),
                       **static)
    net, _ = load_checkpoint(path, template)
    if dtype != jnp.dtype(meta["dtype"]) and net.tol_residual is not None and net.tol_residual < _FLOAT32_TOL:
        # Saved in float64, read in float32: a residual tolerance below what float32 reaches would reject
        # nearly every equilibrium; use float32's default instead.
        net = dataclasses.replace(net, tol_residual=_FLOAT32_TOL)
    return net


def load(run_dir, member: int | None = None) -> Network:
    """The trained network of an `ep/digits` or `ep/vowels` run folder, ready for `.predict(x)`.

    Args:
        run_dir: a completed run folder of one of `STUDIES`.
        member: for an ensemble run (ep/vowels: one network per mode, init and seed, in the
            order of the study's arrays), the member to return; None returns the whole stack.

    Returns:
        A `Network` (digits: inputs x of shape (b, 64), the 8×8 images scaled to [0, 1]).

    Raises:
        ValueError: for a folder that is not a completed run of one of `STUDIES`, or without
            a saved network, or a `member` out of range.
    """
    from ..run import load_run

    run = load_run(run_dir, studies=STUDIES)
    path = pathlib.Path(run.path) / "checkpoints" / f"{NETWORK_FILE}.npz"
    if not path.is_file() or not path.with_suffix(".json").is_file():
        raise ValueError(f"`run_dir` {str(run_dir)!r} holds no trained network ({path} is missing)")
    net = load_network(path)
    if member is not None:
        size = net.omega.shape[0] if net.omega.ndim > 1 else 0
        if isinstance(member, bool) or not isinstance(member, int) or not 0 <= member < size:
            raise ValueError(f"`member` must be an int in [0, {size}) for this run, got {member!r}")
        net = jax.tree.map(lambda a: a[member], net)
    return net
