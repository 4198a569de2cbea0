"""Tiny runs of the KuraNet studies through the runner (config → run folder → metrics)."""

import json
import pathlib
import sys

import numpy as np
import pytest

from kuramoto_jax.run import execute, resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CONFIGS = ROOT / "configs" / "kuranet"


def _run(tmp_path, name, *sets):
    resolved = resolve(CONFIGS / f"{name}.yaml", [s for kv in sets for s in ("--set", kv)])
    metrics, _ = execute(resolved, tmp_path / name, quiet=True)
    saved = json.loads((tmp_path / name / "metrics.json").read_text())
    assert saved["meta"]["status"] == "completed"
    assert list((tmp_path / name / "figures").glob("*.png"))
    return metrics


def test_global_smoke_run(tmp_path):
    m = _run(tmp_path, "global_smoke")
    for key in ("V_data", "V_size", "V_data_size", "control_V_data", "control_V_size", "control_V_data_size"):
        assert 0.0 <= m[key] <= 1.0, key
    assert np.isfinite(m["fan_in_peak_tau"]) and 0 <= m["fan_in_peak_tau"] <= 40


@pytest.mark.slow  # heavy (compilation-bound): run with `pytest -m slow`
def test_cluster_smoke_run(tmp_path):
    m = _run(tmp_path, "cluster_smoke")
    for key in ("L_data", "L_size", "L_data_size", "control_L_data", "block_L_size"):
        assert 0.0 <= m[key] <= 1.0, key


@pytest.mark.slow
def test_image_smoke_run(tmp_path):
    m = _run(tmp_path, "cluster_smoke", "dataset=image", "image.height=8", "image.width=8", "n=12")
    assert 0.0 < m["sbd"] <= 1.0 and 0.0 < m["sbd_kmeans_pixels"] <= 1.0


def test_shipped_configs_resolve():
    for path in sorted(CONFIGS.glob("*.yaml")):
        resolve(path, [])
