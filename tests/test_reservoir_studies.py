"""Tiny runs of the three reservoir studies through the runner (config -> run folder -> metrics)."""

import json
import pathlib

import numpy as np
import pytest

from kuramoto_jax.run import execute, resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs" / "reservoir"


def _run(tmp_path, name, *sets):
    metrics, _ = execute(resolve(CONFIGS / f"{name}.yaml", list(sets)), tmp_path / name, quiet=True)
    saved = json.loads((tmp_path / name / "metrics.json").read_text())
    assert saved["meta"]["status"] == "completed"
    assert list((tmp_path / name / "figures").glob("*.png"))
    assert (tmp_path / name / "arrays.npz").exists()
    return metrics


def test_prediction_study(tmp_path):
    m = _run(tmp_path, "prediction_smoke")
    for law in ("gaussian", "uniform"):
        for task in ("prediction", "transformation"):
            p = f"{law}_{task}_"
            for key in ("mse_below_kc", "mse_above_kc", "k_best_over_kc", "mse_eps0_above_kc"):
                assert np.isfinite(m[p + key])
            assert m[p + "k_best_over_kc"] in (0.5, 2.0)
            # with the additive input, ε only rotates the order parameters by ε∫u (exact
            # symmetry), so the ε = 0 control reads out nearly the same signal
            assert 0.5 < m[p + "ratio_eps0_over_eps"] < 2.0
    # the uniform law locks abruptly: read-out far better above K_c, even at N = 40
    assert m["uniform_prediction_mse_above_kc"] < 0.2 * m["uniform_prediction_mse_below_kc"]


def test_readout_and_benchmark_studies(tmp_path):
    m = _run(tmp_path, "readout_smoke")
    assert {"prediction_k1.5kc_mse_M1", "transformation_k0.5kc_mse_osc4", "prediction_k1.5kc_mse_eps0_M3"} <= set(m)
    b = _run(tmp_path, "benchmarks_smoke")
    for model in ("kuramoto_z", "kuramoto_osc", "esn", "esn_tuned", "esn_numpy", "delay_line"):
        assert np.isfinite(b[f"narma10_nrmse_{model}"])
        assert 0 <= b[f"memory_capacity_{model}"] <= 5 + 1e-9  # at most one per delay
    try:
        import reservoirpy  # noqa: F401  (a benchmark extra, absent from the test environment)

        has_rpy = True
    except ImportError:
        has_rpy = False
    assert b["esn_is_reservoirpy"] == float(has_rpy)
    if not has_rpy:  # the fallback is the in-package ESN itself
        assert b["narma10_nrmse_esn"] == b["narma10_nrmse_esn_numpy"]
    assert b["esn_tuned_narma10_spectral_radius"] in (0.5, 0.9)  # chosen from the smoke config's grid
    # a delay line of D = 4 taps recalls delays 1..3 exactly (its first tap is the present input);
    # longer delays add only the chance r² of 40 test samples
    assert 2.99 < b["memory_capacity_delay_line"] < 3.6


def test_bad_study_config_is_rejected(tmp_path):
    from kuramoto_jax.run import ConfigError

    with pytest.raises((ConfigError, ValueError), match="k_over_kc"):
        resolve(CONFIGS / "prediction_smoke.yaml", ["k_over_kc=[1.5, 2.0]"])
