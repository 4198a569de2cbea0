"""`RunContext`: what a study's `run(config, ctx)` uses to talk to its run folder.

    ctx.out_dir                      pathlib.Path of the run folder
    ctx.log("...")                   printed unless quiet, appended to run.log
    ctx.progress(it, total, desc)    tqdm bar unless quiet
    ctx.save_arrays(name=array)      arrays.npz (atomic; successive calls merge)
    ctx.save_figure(fig, "name")     figures/name.png (atomic); closes the figure
    ctx.summary("paragraph")         summary.txt, printed at the end of the run
    ctx.devices, ctx.process_index   devices to use, this process's index
    ctx.resume                       True when the run continues an earlier one
    ctx.key("init", 3)               the named random stream (see `kj.stream_key`) under the config's seed
    ctx.precision, ctx.dtype         "float32" or "float64" and its dtype (the run executes in it)
    ctx.batch_map(fn, *batched)      `jax.vmap(fn)(*batched)` spread over ctx.devices

Only process 0 writes files when several JAX processes share a run folder.
run.log is the one file that is appended to (line by line, flushed) rather than
replaced: a run killed mid-way keeps every complete line logged so far.
"""

from __future__ import annotations

import datetime as _dt
import pathlib
import sys
from typing import Any, Iterable

import numpy as np

from .._validate import one_of
from . import _files

PRECISIONS = ("float32", "float64")


class RunContext:
    """Handle on a run folder passed to a study's `run(config, ctx)`.

    Args:
        out_dir: the run folder (created if missing).
        quiet: no terminal output (the log file is still written).
        resume: continue an earlier run in `out_dir` (training helpers read checkpoints).
        devices: JAX devices for the study (default: `jax.devices()`).
        process_index: index of this process in a multi-process run (default: `jax.process_index()`).
        process_count: number of processes in the run (default: `jax.process_count()`).
        seed: the config's seed, root of every `key(...)` stream (default 0).
        precision: "float32" or "float64", the floating-point precision the run executes in.
    """

    def __init__(self, out_dir, *, quiet: bool = False, resume: bool = False, devices=None,
                 process_index: int | None = None, process_count: int | None = None, seed: int = 0,
                 precision: str = "float32"):
        one_of("precision", precision, PRECISIONS)
        self.seed = int(seed)
        self.precision = precision
        self.out_dir = pathlib.Path(out_dir)
        self.quiet = bool(quiet)
        self.resume = bool(resume)
        if devices is None or process_index is None or process_count is None:
            import jax

            devices = list(jax.devices()) if devices is None else devices
            process_index = jax.process_index() if process_index is None else process_index
            process_count = jax.process_count() if process_count is None else process_count
        self.devices = list(devices)
        self.process_index = int(process_index)
        self.process_count = int(process_count)
        self._summary: str | None = None
        if self.is_main:
            self.out_dir.mkdir(parents=True, exist_ok=True)

    # -- randomness, precision, devices -------------------------------------------------------
    def key(self, *path: str | int):
        """The typed PRNG key of the stream named `path` under the config's seed.

        `ctx.key("init", member)` = `kj.stream_key(seed, "init", member)`: streams of different
        purposes, members and seeds never overlap.
        """
        from .._streams import stream_key

        return stream_key(self.seed, *path)

    @property
    def dtype(self):
        """The floating-point dtype of the run's precision (numpy dtype)."""
        return np.dtype(self.precision)

    def batch_map(self, fn, *batched, **kwargs):
        """`jax.vmap(fn)(*batched)` with the batch spread over `ctx.devices`
        (`kuramoto_jax.parallel.batch_map`; keyword arguments pass through)."""
        from .. import parallel

        kwargs.setdefault("devices", self.devices)
        return parallel.batch_map(fn, *batched, **kwargs)

    # -- files ---------------------------------------------------------------------------------
    @property
    def is_main(self) -> bool:
        """True on the process that writes the run folder (process 0)."""
        return self.process_index == 0

    @property
    def figures_dir(self) -> pathlib.Path:
        return self.out_dir / "figures"

    @property
    def checkpoint_dir(self) -> pathlib.Path:
        return self.out_dir / "checkpoints"

    def log(self, message: str) -> None:
        """Print `message` (unless quiet) and append it, time-stamped, to run.log."""
        text = str(message)
        if not self.quiet and self.is_main:
            print(text, flush=True)
        if self.is_main:
            stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            with open(self.out_dir / "run.log", "a", encoding="utf-8") as f:
                for line in text.splitlines() or [""]:
                    f.write(f"{stamp} {line}\n")
                f.flush()

    def progress(self, iterable: Iterable | None = None, total: int | None = None, desc: str | None = None,
                 **kwargs) -> Any:
        """`tqdm(iterable, total, desc)` on stderr, or the bare iterable when quiet."""
        if iterable is None:
            iterable = range(total) if total is not None else ()
        if self.quiet or not self.is_main:
            return iterable
        from tqdm.auto import tqdm

        return tqdm(iterable, total=total, desc=desc, file=sys.stderr, dynamic_ncols=True, **kwargs)

    def save_arrays(self, **arrays) -> pathlib.Path:
        """Store named arrays in arrays.npz, merged with what earlier calls stored."""
        path = self.out_dir / "arrays.npz"
        if not self.is_main:
            return path
        for name, value in arrays.items():
            if not name.isidentifier():
                raise ValueError(f"save_arrays: array name must be an identifier, got {name!r}")
        current = _files.load_npz(path)
        for name, value in arrays.items():
            arr = np.asarray(value)
            if arr.dtype == object:
                raise TypeError(f"save_arrays: `{name}` is not numeric (got {type(value).__name__})")
            current[name] = arr
        return _files.write_npz(path, current)

    def save_figure(self, fig, name: str, *, dpi: int = 120) -> pathlib.Path:
        """Save a matplotlib figure to figures/<name>.png atomically and close it."""
        import matplotlib.pyplot as plt

        stem = name[:-4] if name.endswith(".png") else name
        if not stem or "/" in stem or "\\" in stem:
            raise ValueError(f"save_figure: `name` must be a plain file name, got {name!r}")
        path = self.figures_dir / f"{stem}.png"
        try:
            if self.is_main:
                _files.atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=dpi, bbox_inches="tight"))
        finally:
            plt.close(fig)
        return path

    def save_json(self, name: str, obj) -> pathlib.Path:
        """Write any JSON-able object to <name>.json in the run folder (atomic)."""
        path = self.out_dir / (name if name.endswith(".json") else f"{name}.json")
        if self.is_main:
            _files.write_json(path, obj)
        return path

    def summary(self, text: str) -> None:
        """Record the run's one-paragraph summary (summary.txt; printed at the end)."""
        self._summary = str(text).strip()
        if self.is_main:
            _files.write_text(self.out_dir / "summary.txt", self._summary + "\n")

    @property
    def summary_text(self) -> str | None:
        return self._summary

    def __repr__(self):
        return (f"RunContext(out_dir={str(self.out_dir)!r}, resume={self.resume}, "
                f"devices={len(self.devices)}, process={self.process_index}/{self.process_count})")
