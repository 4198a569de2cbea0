"""Finding, loading and running studies: modules of the `experiments` package.

A study `experiments/<name>.py` (or `experiments/<app>/<name>.py`) defines a
dataclass `Config` and `run(config, ctx) -> dict[str, float]`. The `experiments`
package lives at the repository root next to `configs/`; the root is found by
walking up from the config file (then from the working directory, then from the
installed package) to a folder holding `experiments/__init__.py`.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as _dt
import importlib
import importlib.util
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

from . import _config, _files
from ._config import ConfigError
from ._context import RunContext


class RunError(RuntimeError):
    """An expected failure during a run (non-finite loss, ...): reported as one message, exit code 1."""


def _package_root() -> pathlib.Path:
    return pathlib.Path(__file__).resolve().parents[2]


def find_repo_root(*starts) -> pathlib.Path | None:
    """First folder, walking up from each start in turn, that holds experiments/__init__.py."""
    for start in [*starts, pathlib.Path.cwd(), _package_root()]:
        if start is None:
            continue
        p = pathlib.Path(start).resolve()
        if p.is_file():
            p = p.parent
        for cand in (p, *p.parents):
            if (cand / "experiments" / "__init__.py").is_file():
                return cand
    return None


def _ensure_on_path(root: pathlib.Path) -> None:
    s = str(root)
    # First on sys.path: another project's experiments/ seen earlier in this process must not win.
    while s in sys.path:
        sys.path.remove(s)
    sys.path.insert(0, s)
    # A different `experiments` package imported earlier (another checkout) must not shadow this one.
    mod = sys.modules.get("experiments")
    if mod is not None:
        paths = [pathlib.Path(p).resolve() for p in getattr(mod, "__path__", [])]
        if (root / "experiments").resolve() not in paths:
            for name in [n for n in sys.modules if n == "experiments" or n.startswith("experiments.")]:
                del sys.modules[name]


def _defines_study(path: pathlib.Path) -> tuple[bool, str]:
    """(defines Config and run at top level, first docstring line), read from the source without importing."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return False, ""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    doc = (ast.get_docstring(tree) or "").strip().splitlines()
    return {"Config", "run"} <= names, (doc[0] if doc else "")


def list_studies(root: pathlib.Path) -> list[tuple[str, str]]:
    """[(dotted study name, first docstring line)] for every study under root/experiments."""
    base = root / "experiments"
    out = []
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(base)
        if any(part.startswith((".", "_")) and part != "__init__.py" for part in rel.parts):
            continue
        if any(not (part.removesuffix(".py")).isidentifier() for part in rel.parts):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
            if not parts:
                continue
        ok, doc = _defines_study(path)
        if ok:
            out.append((".".join(parts), doc))
    return out


def list_configs(root: pathlib.Path) -> list[tuple[str, str]]:
    """[(config path relative to root, its study)] for every YAML file under root/configs."""
    out = []
    base = root / "configs"
    if not base.is_dir():
        return out
    for path in sorted([*base.rglob("*.yaml"), *base.rglob("*.yml")]):
        try:
            data = yaml.safe_load(path.read_text()) or {}
            study = str(data.get("study", "?")) if isinstance(data, dict) else "?"
        except yaml.YAMLError:
            study = "(invalid YAML)"
        out.append((str(path.relative_to(root)), study))
    return out


def import_study(name: str, root: pathlib.Path | None):
    """Import experiments.<name> and check it defines a dataclass Config and run()."""
    if root is None:
        raise ConfigError(
            f"config key `study`: got {name!r}, but no experiments/ package was found above the config file, "
            "the working directory or the installed package"
        )
    _ensure_on_path(root)
    modname = f"experiments.{name}"
    try:
        spec = importlib.util.find_spec(modname)
    except ModuleNotFoundError:
        spec = None
    if spec is None:
        known = ", ".join(s for s, _ in list_studies(root)) or "(none)"
        raise ConfigError(f"config key `study`: got {name!r}; no module experiments/{name.replace('.', '/')}.py "
                          f"under {root}; available studies: {known}")
    module = importlib.import_module(modname)
    cfg = getattr(module, "Config", None)
    if cfg is None or not dataclasses.is_dataclass(cfg) or not callable(getattr(module, "run", None)):
        raise ConfigError(f"config key `study`: got {name!r}; experiments.{name} must define a dataclass "
                          "`Config` and a function `run(config, ctx)`")
    return module


@dataclasses.dataclass
class ResolvedRun:
    """A config file read, overridden and validated: everything needed to start the run."""

    study: str
    module: Any
    config: Any
    devices: str | int
    root: pathlib.Path | None
    source: pathlib.Path | None

    def to_dict(self) -> dict:
        return {"study": self.study, "devices": self.devices, **_config.to_dict(self.config)}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, default_flow_style=None)


def resolve(config_path=None, overrides: Sequence[str] = (), *, data: dict | None = None) -> ResolvedRun:
    """Read a config file (or a mapping), apply `--set` overrides, import the study, validate.

    Raises ConfigError (one line, naming the key path) on any problem.
    """
    parsed = _config.parse_overrides(overrides)
    source = None
    if data is None:
        source = pathlib.Path(config_path)
        data = _config.read_yaml(source)
    else:
        data = dict(data)
    # `study` may itself be overridden; resolve it first so the right schema checks the rest.
    for parts, raw in parsed:
        if parts == ["study"]:
            data["study"] = raw
    if "study" not in data:
        where = f"config file {str(source)!r}" if source else "config"
        raise ConfigError(f"{where}: missing the top-level key `study` (the module under experiments/ to run)")
    study = _config.resolve_study_name(data["study"])
    root = find_repo_root(source)
    module = import_study(study, root)
    data = _config.apply_overrides(data, module.Config, [(p, r) for p, r in parsed if p != ["study"]])
    devices = _config.resolve_devices(data.pop("devices", "all"))
    data.pop("study")
    config = _config.from_dict(module.Config, data)
    return ResolvedRun(study=study, module=module, config=config, devices=devices, root=root, source=source)


def config_name(source: pathlib.Path | None, root: pathlib.Path | None) -> str | None:
    """The shipped config's name (its path under configs/ without .yaml), or None for another file."""
    if source is None or root is None:
        return None
    try:
        rel = pathlib.Path(source).resolve().relative_to((root / "configs").resolve())
    except ValueError:
        return None
    return rel.with_suffix("").as_posix()


def select_devices(spec: str | int) -> list:
    import jax

    devs = list(jax.devices())
    if spec == "all":
        return devs
    if spec > len(devs):
        raise ConfigError(f"config key `devices`: got {spec}; this machine has {len(devs)} device(s) "
                          f"({devs[0].platform}); expected \"all\" or an integer <= {len(devs)}")
    return devs[:spec]


def _versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("kuramoto_jax", "jax", "jaxlib", "diffrax", "equinox", "optax", "flax", "numpy"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _git_commit(root: pathlib.Path | None) -> str | None:
    if root is None or not (root / ".git").exists():
        return None
    try:
        import subprocess

        res = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
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


def prepare_out_dir(out: pathlib.Path, *, resume: bool, overwrite: bool, config_yaml: str) -> None:
    """Check the run folder against --resume/--overwrite; raise ConfigError on a conflict."""
    has_run = (out / "metrics.json").exists() or (out / "checkpoints").exists()
    if resume:
        old = out / "config.yaml"
        if not old.is_file():
            raise ConfigError(f"--resume: {str(out)!r} holds no earlier run (no config.yaml)")
        if yaml.safe_load(old.read_text()) != yaml.safe_load(config_yaml):
            raise ConfigError(f"--resume: the resolved config differs from {str(old)!r}; resume with the same "
                              "config and --set values, or start a new run folder")
        return
    if has_run:
        if not overwrite:
            raise ConfigError(f"--out {str(out)!r} already holds a run; pass --resume to continue it or "
                              "--overwrite to replace it")
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        for name in RUN_DIRS:
            shutil.rmtree(out / name, ignore_errors=True)


def execute(resolved: ResolvedRun, out_dir, *, quiet: bool = False, resume: bool = False,
            overwrite: bool = False, argv: Sequence[str] | None = None) -> tuple[dict, RunContext]:
    """Run a resolved study in `out_dir`: config.yaml, metrics.json (with meta), summary, log.

    Raises ConfigError before the run starts, RunError or the study's own exception during it.
    """
    import jax

    out = pathlib.Path(out_dir)
    text = resolved.to_yaml()
    prepare_out_dir(out, resume=resume, overwrite=overwrite, config_yaml=text)
    devices = select_devices(resolved.devices)
    ctx = RunContext(out, quiet=quiet, resume=resume, devices=devices)
    seed = getattr(resolved.config, "seed", None)
    started = _dt.datetime.now(_dt.timezone.utc)
    meta = {
        "study": resolved.study,
        "status": "running",
        "seed": seed,
        "command": list(argv) if argv is not None else list(sys.argv),
        "config_file": str(resolved.source) if resolved.source else None,
        "started_utc": started.isoformat(timespec="seconds"),
        "versions": _versions(),
        "git_commit": _git_commit(resolved.root),
        "machine": platform.node(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu_count": os.cpu_count(),
        "config": config_name(resolved.source, resolved.root),
        # `device` names the hardware ("cpu", or the accelerator, e.g. "NVIDIA H200");
        # `devices` is how many of them the run used.
        "device": "cpu" if devices[0].platform == "cpu" else str(devices[0].device_kind),
        "devices": len(devices),
        "platform_name": devices[0].platform,
        "process_index": jax.process_index(),
        "process_count": jax.process_count(),
        "x64": bool(jax.config.jax_enable_x64),
        "resumed": bool(resume),
    }
    if ctx.is_main:
        _files.write_text(out / "config.yaml", text)
        _files.write_json(out / "metrics.json", {"metrics": {}, "meta": meta})
    ctx.log(f"{'resuming' if resume else 'running'} study {resolved.study} in {out}")
    t0 = time.perf_counter()
    try:
        metrics = resolved.module.run(resolved.config, ctx)
        metrics, nonfinite = _clean_metrics(metrics)
    except BaseException as err:
        meta.update(status="failed", error=f"{type(err).__name__}: {err}",
                    wall_seconds=round(time.perf_counter() - t0, 3),
                    finished_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
        if ctx.is_main:
            _files.write_json(out / "metrics.json", {"metrics": {}, "meta": meta})
            if not isinstance(err, (RunError, KeyboardInterrupt)):
                with open(out / "run.log", "a", encoding="utf-8") as f:
                    f.write(traceback.format_exc())
        raise
    meta.update(status="completed", wall_seconds=round(time.perf_counter() - t0, 3),
                finished_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
    if nonfinite:
        meta["nonfinite_metrics"] = nonfinite
    if ctx.is_main:
        _files.write_json(out / "metrics.json", {"metrics": metrics, "meta": meta})
    ctx.log(f"done in {meta['wall_seconds']:.1f} s; metrics in {out / 'metrics.json'}")
    return metrics, ctx
