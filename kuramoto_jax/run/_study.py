"""Resolving and running studies: config file or name → validated config → run folder.

A study is a registered module (see `_registry`: the toolkit's own are the modules
of `kuramoto_jax.experiments`) defining a dataclass `Config` and
`run(config, ctx) -> dict[str, float]`. Two config keys belong to the runner, not to
the study: `devices` ("all" or a count: the devices the run's batched work is split
over) and `precision` ("float32" or "float64"; the study's default is its module
constant `PRECISION`, else float32). A study may also define
`check_config(config)`, called while the config is resolved (before any run folder
is made), to reject a config for reasons the types cannot express (a missing data
file), raising `ConfigError` naming the key.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import pathlib
import platform
import shutil
import sys
import time
import traceback
from typing import Any, Sequence

import numpy as np
import yaml

from . import _config, _files, _registry
from ._config import ConfigError
from ._context import RunContext


class RunError(RuntimeError):
    """An expected failure during a run (non-finite loss, ...): reported as one message, exit code 1."""


@dataclasses.dataclass
class ResolvedRun:
    """A config file read, overridden and validated: everything needed to start the run."""

    study: str
    module: Any
    config: Any
    devices: str | int
    source: pathlib.Path | None
    precision: str = "float32"

    @property
    def config_name(self) -> str | None:
        """The shipped config's name (e.g. `kuranet/global_case1`), or None for another file."""
        return _registry.config_name(self.source)

    def to_dict(self) -> dict:
        return {"study": self.study, "devices": self.devices, "precision": self.precision,
                **_config.to_dict(self.config)}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)


def resolve(config=None, overrides: Sequence[str] = (), *, data: dict | None = None,
            check: bool = True) -> ResolvedRun:
    """Read a config (a YAML file or a shipped config's name), apply `--set` overrides, validate.

    `check=False` skips the study's own `check_config` (e.g. that a data file is readable), for
    comparing configs on a machine without the data.

    Raises ConfigError (one line, naming the key path) on any problem.
    """
    parsed = _config.parse_overrides(overrides)
    source = None
    if data is None:
        source = _registry.find_config(config)
        data = _config.read_yaml(source)
    else:
        data = dict(data)
    # `study` may itself be overridden; resolve it first so the right schema checks the rest.
    for parts, raw in parsed:
        if parts == ["study"]:
            data["study"] = raw
    if "study" not in data:
        where = f"config file {str(source)!r}" if source else "config"
        raise ConfigError(f"{where}: missing the top-level key `study` (the registered study to run; "
                          "see `kuramoto-jax list`)")
    study = _config.resolve_study_name(data["study"])
    module = _registry.import_study(study)
    data = _config.apply_overrides(data, module.Config, [(p, r) for p, r in parsed if p != ["study"]])
    devices = _config.resolve_devices(data.pop("devices", "all"))
    precision = _config.resolve_precision(data.pop("precision", getattr(module, "PRECISION", "float32")))
    data.pop("study")
    config = _config.from_dict(module.Config, data)
    check_config = getattr(module, "check_config", None)
    if check and callable(check_config):
        check_config(config)
    return ResolvedRun(study=study, module=module, config=config, devices=devices, source=source,
                       precision=precision)


def select_devices(spec: str | int) -> list:
    """The devices the config key `devices` names, through the one resolver (`parallel.resolve_devices`)."""
    import jax

    from .. import parallel

    available = jax.devices()
    if isinstance(spec, int) and spec > len(available):
        raise ConfigError(f"config key `devices`: got {spec}; this machine has {len(available)} device(s) "
                          f"({available[0].platform}); expected \"all\" or an integer <= {len(available)}")
    try:
        return parallel.resolve_devices(spec)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"config key `devices`: got {spec!r}; {err}") from None


def _versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("kuramoto_jax", "jax", "jaxlib", "diffrax", "equinox", "optax", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _git_commit() -> str | None:
    """The commit of the checkout the package runs from (an editable install), else None."""
    checkout = pathlib.Path(__file__).resolve().parents[2]
    if not (checkout / ".git").exists() or not (checkout / "pyproject.toml").is_file():
        return None
    try:
        import subprocess

        res = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5)
        return res.stdout.strip() or None
    except Exception:
        return None


def _clean_metrics(metrics) -> tuple[dict, list[str]]:
    """Check the study's return value: a mapping of names to real numbers (non-finite → null)."""
    if metrics is None:
        return {}, []
    if not isinstance(metrics, dict):
        raise RunError(f"run() must return a dict of numbers, got {type(metrics).__name__}")
    out, nonfinite = {}, []
    for name, value in metrics.items():
        arr = np.asarray(value)
        if not isinstance(name, str) or arr.shape != () or not (
            np.issubdtype(arr.dtype, np.number) or arr.dtype == bool
        ) or np.iscomplexobj(arr):
            raise RunError(f"run() returned metric {name!r} = {value!r}; metrics must be real numbers")
        v = arr.item()
        if isinstance(v, float) and not math.isfinite(v):
            nonfinite.append(name)
            v = None
        elif isinstance(v, bool):
            v = int(v)
        out[name] = v
    return out, nonfinite


def default_out_dir(study: str, base="runs") -> pathlib.Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    path = pathlib.Path(base) / study / stamp
    k = 1
    while path.exists():
        path = pathlib.Path(base) / study / f"{stamp}-{k}"
        k += 1
    return path


RUN_FILES = ("config.yaml", "metrics.json", "arrays.npz", "summary.txt", "run.log")
RUN_DIRS = ("figures", "checkpoints")


class AlreadyComplete(Exception):
    """`--resume` on a run that finished with the same config: there is nothing to do."""


def _leaf_differences(old, new, path=()) -> list[tuple[str, ...]]:
    """Key paths at which two resolved configs (nested mappings) differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in dict.fromkeys([*old, *new]):
            out += _leaf_differences(old.get(key), new.get(key), (*path, str(key)))
        return out
    return [] if old == new else [path]


def _run_status(out: pathlib.Path) -> str | None:
    try:
        return json.loads((out / "metrics.json").read_text())["meta"]["status"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def prepare_out_dir(out: pathlib.Path, *, resume: bool, overwrite: bool, config_yaml: str) -> None:
    """Check the run folder against --resume/--overwrite; raise ConfigError on a conflict.

    `--resume` continues a run with the same resolved config; a training run may also be
    extended by raising only its step counts (keys named `steps`). Raises `AlreadyComplete`
    when the run already finished with the same config.
    """
    has_run = (out / "metrics.json").exists() or (out / "checkpoints").exists()
    if resume:
        old = out / "config.yaml"
        if not old.is_file():
            raise ConfigError(f"--resume: {str(out)!r} holds no earlier run (no config.yaml)")
        before, after = yaml.safe_load(old.read_text()), yaml.safe_load(config_yaml)
        changed = _leaf_differences(before, after)
        if not changed:
            if _run_status(out) == "completed":
                raise AlreadyComplete(f"the run in {str(out)!r} is already complete; nothing to resume")
            return
        extends = (out / "checkpoints").is_dir() and all(
            p[-1] == "steps" and _is_count(_get(before, p)) and _is_count(_get(after, p))
            and _get(after, p) >= _get(before, p) for p in changed)
        if not extends:
            keys = ", ".join("`" + ".".join(p) + "`" for p in changed)
            raise ConfigError(f"--resume: the resolved config differs from {str(old)!r} at {keys}; resume with "
                              "the same config and --set values (a training run may only raise `steps`), "
                              "or start a new run folder")
        return
    if has_run:
        if not overwrite:
            raise ConfigError(f"--out {str(out)!r} already holds a run; pass --resume to continue it or "
                              "--overwrite to replace it")
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        for name in RUN_DIRS:
            shutil.rmtree(out / name, ignore_errors=True)


def _get(tree, path):
    for key in path:
        tree = tree.get(key) if isinstance(tree, dict) else None
    return tree


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def execute(resolved: ResolvedRun, out_dir, *, quiet: bool = False, resume: bool = False,
            overwrite: bool = False, argv: Sequence[str] | None = None) -> tuple[dict, RunContext]:
    """Run a resolved study in `out_dir`: config.yaml, metrics.json (with meta), summary, log.

    Raises ConfigError before the run starts, RunError or the study's own exception during it.
    """
    import jax

    out = pathlib.Path(out_dir)
    text = resolved.to_yaml()
    prepare_out_dir(out, resume=resume, overwrite=overwrite, config_yaml=text)
    from .. import parallel
    from .._precision import x64

    devices = select_devices(resolved.devices)
    seed = getattr(resolved.config, "seed", None)
    ctx = RunContext(out, quiet=quiet, resume=resume, devices=devices, seed=seed if isinstance(seed, int) else 0,
                     precision=resolved.precision)
    started = _dt.datetime.now(_dt.timezone.utc)
    meta = {
        "study": resolved.study,
        "status": "running",
        "seed": seed,
        "command": list(argv) if argv is not None else list(sys.argv),
        "config_file": str(resolved.source) if resolved.source else None,
        "started_utc": started.isoformat(timespec="seconds"),
        "versions": _versions(),
        "git_commit": _git_commit(),
        "machine": platform.node(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu_count": os.cpu_count(),
        "config": resolved.config_name,
        # `device` names the hardware ("cpu", or the accelerator, e.g. "NVIDIA H200");
        # `devices` is how many of them the run's batched work was split over (1 when the
        # study batched nothing through `batch_map`; filled in when the run ends).
        "device": "cpu" if devices[0].platform == "cpu" else str(devices[0].device_kind),
        "devices": None,
        "devices_given": len(devices),
        "platform_name": devices[0].platform,
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "precision": resolved.precision,
        "x64": resolved.precision == "float64",
        "resumed": bool(resume),
    }
    if ctx.is_main:
        _files.write_text(out / "config.yaml", text)
        _files.write_json(out / "metrics.json", {"metrics": {}, "meta": meta})
    ctx.log(f"{'resuming' if resume else 'running'} study {resolved.study} in {out}")
    t0 = time.perf_counter()
    usage = parallel.DeviceUsage()
    try:
        # The run's precision and devices hold inside this block only: nothing global is left changed.
        with x64(resolved.precision == "float64"), parallel.use_devices(devices) as usage:
            metrics = resolved.module.run(resolved.config, ctx)
            metrics, nonfinite = _clean_metrics(metrics)
    except BaseException as err:
        interrupted = isinstance(err, KeyboardInterrupt)
        meta.update(devices=max(usage.max_devices, 1))
        meta.update(status="interrupted" if interrupted else "failed",
                    wall_seconds=round(time.perf_counter() - t0, 3),
                    finished_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        if not interrupted:
            meta["error"] = f"{type(err).__name__}: {err}"
        if ctx.is_main:
            _files.write_json(out / "metrics.json", {"metrics": {}, "meta": meta})
            if not isinstance(err, (RunError, KeyboardInterrupt)):
                with open(out / "run.log", "a", encoding="utf-8") as f:
                    f.write(traceback.format_exc())
        raise
    meta.update(devices=max(usage.max_devices, 1), batched_calls=usage.calls)
    meta.update(status="completed", wall_seconds=round(time.perf_counter() - t0, 3),
                finished_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    if nonfinite:
        meta["nonfinite_metrics"] = nonfinite
    if ctx.is_main:
        _files.write_json(out / "metrics.json", {"metrics": metrics, "meta": meta})
    ctx.log(f"done in {meta['wall_seconds']:.1f} s; metrics in {out / 'metrics.json'}")
    return metrics, ctx
