"""Tiny runs of the equilibrium-propagation studies through the runner."""

import json
import pathlib
import sys

import numpy as np
import pytest

from kuramoto_jax import ep
from kuramoto_jax.run import execute, resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CONFIGS = ROOT / "configs" / "ep"


def _run(tmp_path, name, *sets):
    resolved = resolve(CONFIGS / f"{name}.yaml", [s for kv in sets for s in ("--set", kv)])
    metrics, _ = execute(resolved, tmp_path / name, quiet=True)
    saved = json.loads((tmp_path / name / "metrics.json").read_text())
    assert saved["meta"]["status"] == "completed"
    assert list((tmp_path / name / "figures").glob("*.png"))
    return metrics


def test_gradient_study_smoke(tmp_path):
    m = _run(tmp_path, "gradients_smoke")
    assert m["gradient_cosine_min"] > 0.999
    assert 0.9 < m["N6_slope_ep_omega"] < 1.1 and 1.9 < m["N6_slope_centered_omega"] < 2.1
    assert m["implicit_vs_fd_max"] < 1e-6


@pytest.mark.skipif(not (ep.default_data_path() or pathlib.Path("")).is_file(), reason="Hillenbrand vowels CSV not available")
def test_vowel_study_smoke(tmp_path):
    m = _run(tmp_path, "vowels_smoke")
    for key in ("omega_only_acc_all", "k_matched_acc_all", "converged_random", "converged_spectral"):
        assert 0.0 <= m[f"{key}"] <= 1.0 if key.startswith("converged") else 0.0 <= m[f"{key.split('_acc')[0]}_random_acc_all"] <= 1.0
    assert m["omega_only_random_skipped_frac"] == 0.0
    arrays = np.load(tmp_path / "vowels_smoke" / "arrays.npz")
    assert arrays["test_cos"].shape == (4,)


def test_digits_study_smoke(tmp_path):
    m = _run(tmp_path, "digits_smoke")
    assert 0.0 <= m["digits_test_acc"] <= 1.0 and m["logreg_test_acc"] > 0.8
    assert m["usable_fraction_mean"] > 0.5 and m["test_valid_fraction"] > 0.5
    assert (tmp_path / "digits_smoke" / "checkpoints" / "digits.msgpack").is_file()
