"""Opening a finished run folder to reuse what it trained: `load_run`.

The applications' loaders (`kuranet.load`, `ep.load`, `npe.load_posterior`) start
here, so that every one of them rejects a run folder of another study, or a run
that did not finish, with the same clear message.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib
from typing import Sequence

import yaml


@dataclasses.dataclass(frozen=True)
class RunFolder:
    """A run folder read back: its resolved config, metrics and meta.

    Attributes:
        path: the folder.
        study: the study that ran (e.g. "kuranet.global_sync").
        config: the resolved config as written to config.yaml (a nested dict).
        metrics: the metrics the run returned (names → numbers).
        meta: the run's meta (status, seed, versions, devices, ...).
    """

    path: pathlib.Path
    study: str
    config: dict
    metrics: dict
    meta: dict


def _study_name(name: str) -> str:
    return str(name).replace("/", ".")


def load_run(run_dir, *, studies: Sequence[str] | None = None, require_complete: bool = True) -> RunFolder:
    """Read a run folder written by `kuramoto-jax run` (or `run.execute`).

    Args:
        run_dir: the run folder (the `--out` of the run).
        studies: the studies whose runs the caller can use (e.g. ("kuranet.global_sync",
            "kuranet.cluster_sync"); "/" is read as "."); None accepts any.
        require_complete: reject a run whose status is not "completed" (failed, interrupted
            or still running).

    Returns:
        A `RunFolder`.

    Raises:
        ValueError: the folder is not a run folder, holds a run of another study, or an
            unfinished run; the message says which and what was expected.
    """
    path = pathlib.Path(run_dir)
    config_file, metrics_file = path / "config.yaml", path / "metrics.json"
    if not path.is_dir():
        raise ValueError(f"`run_dir` {str(path)!r} is not a folder; expected the run folder of a finished run")
    if not config_file.is_file() or not metrics_file.is_file():
        raise ValueError(f"`run_dir` {str(path)!r} is not a run folder: it holds no config.yaml and metrics.json")
    try:
        record = json.loads(metrics_file.read_text())
        config = yaml.safe_load(config_file.read_text()) or {}
    except (ValueError, yaml.YAMLError) as err:
        raise ValueError(f"`run_dir` {str(path)!r}: cannot read its config.yaml/metrics.json ({err})") from None
    meta = record.get("meta") or {}
    study = _study_name(meta.get("study") or config.get("study") or "")
    if studies is not None:
        wanted = [_study_name(s) for s in studies]
        if study not in wanted:
            raise ValueError(f"`run_dir` {str(path)!r} holds a run of study {study or '(unknown)'!r}; "
                             f"expected a run of {' or '.join(repr(w) for w in wanted)}")
    status = meta.get("status")
    if require_complete and status != "completed":
        raise ValueError(f"`run_dir` {str(path)!r} holds an unfinished run (status {status!r}); finish it "
                         "with `kuramoto-jax run ... --resume --out` that folder, or load a completed run")
    return RunFolder(path=path, study=study, config=config, metrics=record.get("metrics") or {}, meta=meta)
