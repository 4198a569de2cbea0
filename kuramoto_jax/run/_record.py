"""Turning a finished run folder into a committed record: `kuramoto-jax record RUN_DIR`.

A record (see `_report`) is what every number in the results files comes from, so one is made
only from a run of a shipped config *as shipped*: the run's resolved config must equal
`configs/<meta.config>.yaml` resolved today (the `devices` key aside, which changes where the
work ran, not what it computed), precision included. A run with a `--set` override, a run of a
YAML file outside `configs/`, or an unfinished run is refused with the reason.

The record folder `experiments/<app>/records/<name>/` (`experiments/records/<name>/` for a config
at the top of `configs/`) receives the run's `config.yaml` and `metrics.json` unchanged and a
`summary.txt` that names the command, the machine, the precision, the seed and the wall time
before the study's own summary. It is written next to its final place and renamed into it, so
an interrupted call leaves no half-written record.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import tempfile

from ._config import ConfigError


def record_folder(root, config_name: str, name: str | None = None) -> tuple[str, pathlib.Path]:
    """(record key, folder) of a record of `config_name` (e.g. "kuranet/cluster_circles_cpu").

    `name` (default: the config's file stem) is the record's name inside its application's records.
    """
    app, _, stem = str(config_name).rpartition("/")
    name = stem if name is None else str(name)
    if not name or "/" in name or name.startswith("."):
        raise ConfigError(f"--name: got {name!r}; expected a folder name without '/' (e.g. table2_circles)")
    folder = pathlib.Path(root) / "experiments" / (app or "") / "records" / name
    return (f"{app}/{name}" if app else name), folder


def _summary(key: str, meta: dict, run_summary: str | None, note: str | None) -> str:
    device = meta.get("device", "?")
    cores = meta.get("cpu_count")
    machine = f"{device} ({meta.get('platform', '?')}" + (f", {cores} CPU cores)" if cores else ")")
    versions = meta.get("versions") or {}
    head = (f"Record `{key}`: `kuramoto-jax run configs/{meta['config']}.yaml`" + (f" ({note})" if note else "")
            + ".\n" + f"Machine: {machine}, jax {versions.get('jax', '?')}, {meta.get('precision', 'float32')}, "
            f"seed {meta.get('seed')}, wall time {float(meta.get('wall_seconds', float('nan'))):.0f} s"
            + (f" on {meta['devices']} devices" if (meta.get("devices") or 1) > 1 else "") + ".\n")
    return head + ("\n" + run_summary.strip() + "\n" if run_summary else "")


def make_record(run_dir, *, root=".", name: str | None = None, note: str | None = None,
                overwrite: bool = False) -> tuple[str, pathlib.Path]:
    """Write the record of a finished run of a shipped config; returns (record key, folder).

    Args:
        run_dir: the run folder (`kuramoto-jax run CONFIG --out RUN_DIR`).
        root: the repository checkout the record goes into (holds `configs/` and `experiments/`).
        name: the record's name (default: the config's file stem).
        note: a few words on what the run is, put in the summary's first line.
        overwrite: replace an existing record of that name (otherwise refused).

    Raises:
        ConfigError: the run is unfinished, not of a shipped config, differs from the config as
            shipped (the differing keys are named), or the record exists; nothing is written.
    """
    from ._load import load_run
    from ._report import config_differences
    from ._study import resolve

    root = pathlib.Path(root)
    if not (root / "configs").is_dir() or not (root / "experiments").is_dir():
        raise ConfigError(f"--root: got {str(root)!r}; expected the repository checkout (with configs/ and experiments/)")
    try:
        run = load_run(run_dir)
    except ValueError as err:
        raise ConfigError(f"RUN_DIR: {err}") from None
    config_name = run.meta.get("config")
    if not config_name:
        raise ConfigError(f"RUN_DIR: {str(run_dir)!r} ran a YAML file outside configs/ ({run.meta.get('config_file')!r}); "
                          "records come from shipped configs: add the file under configs/ and run it by name")
    shipped = root / "configs" / f"{config_name}.yaml"
    if not shipped.is_file():
        raise ConfigError(f"RUN_DIR: the run names config {config_name!r}, but {shipped} does not exist")
    resolved = resolve(shipped, check=False)
    diffs = config_differences(run.config, resolved, first="the run")
    if run.meta.get("precision", resolved.precision) != resolved.precision:
        diffs.append(f"precision: {run.meta.get('precision')!r} in the run, {resolved.precision!r} in the config")
    if diffs:
        raise ConfigError(f"RUN_DIR: the run differs from configs/{config_name}.yaml as shipped ("
                          + "; ".join(diffs[:5]) + (f"; and {len(diffs) - 5} more" if len(diffs) > 5 else "")
                          + "): a record comes from a config as shipped; make the variant a config of its own")
    key, folder = record_folder(root, config_name, name)
    if folder.exists() and not overwrite:
        raise ConfigError(f"--name: the record {key!r} exists ({folder}); pass --overwrite to replace it")
    summary_file = pathlib.Path(run_dir) / "summary.txt"
    run_summary = summary_file.read_text(encoding="utf-8") if summary_file.is_file() else None
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        for part in ("config.yaml", "metrics.json"):
            shutil.copyfile(pathlib.Path(run_dir) / part, staging / part)
        (staging / "summary.txt").write_text(_summary(key, run.meta, run_summary, note), encoding="utf-8")
        os.chmod(staging, 0o755)
        if folder.exists():  # --overwrite: the old record leaves only once the new one is complete
            old = folder.with_name(f".{folder.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(folder, old)
            os.replace(staging, folder)
            shutil.rmtree(old)
        else:
            os.replace(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return key, folder
