"""Tiny runs of the three reservoir studies through the runner (config -> run folder -> metrics)."""

import json
import pathlib

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
    # Two K below K_c and two above: the read-out error must drop past K_c, for both laws and tasks
    # (seed 0: 6-250x lower at the best K, 2 K_c; at this size other draws of the uniform law may not
    # lock within the grid).
    m = _run(tmp_path, "prediction_smoke", "k_over_kc=[0.5,0.8,1.25,2.0]")
    for law in ("gaussian", "uniform"):
        for task in ("prediction", "transformation"):
            p = f"{law}_{task}_"
            assert m[p + "k_best_over_kc"] > 1.0, p
            assert m[p + "mse_above_kc"] < 0.3 * m[p + "mse_below_kc"], p
            # with the additive input, ε only rotates the order parameters by ε∫u (exact
            # symmetry), so the ε = 0 control reads out nearly the same signal (within 1 % here)
            assert abs(m[p + "ratio_eps0_over_eps"] - 1) < 0.05, p
    # the uniform law locks abruptly: read-out far better above K_c, even at N = 40
    assert m["uniform_prediction_mse_above_kc"] < 0.2 * m["uniform_prediction_mse_below_kc"]


def test_readout_and_benchmark_studies(tmp_path):
    m = _run(tmp_path, "readout_smoke")
    for task in ("prediction", "transformation"):
        for M in (1, 2, 3):
            # the order-parameter read-out works above K_c only (seed 0: the MSE at 1.5 K_c is 0.0003-0.02 of
            # that at 0.5 K_c)
            assert m[f"{task}_k1.5kc_mse_M{M}"] < 0.05 * m[f"{task}_k0.5kc_mse_M{M}"], (task, M)
            # and, above K_c, the ε = 0 control matches it (the input is a common rotation): the two differ
            # by under 1 % of the sub-threshold error (float32 features resolve small MSEs only so far)
            gap = abs(m[f"{task}_k1.5kc_mse_eps0_M{M}"] - m[f"{task}_k1.5kc_mse_M{M}"])
            assert gap < 0.01 * m[f"{task}_k0.5kc_mse_M{M}"], (task, M)
    b = _run(tmp_path, "benchmarks_smoke")
    # the order-parameter read-out is far behind an echo-state network of equal feature count
    # (seed 0: memory capacity 0.06 vs 1.9-2.0; Mackey-Glass NRMSE 1.14 vs 0.11-0.21)
    for model in ("esn", "esn_tuned"):
        assert b[f"memory_capacity_{model}"] > 1.5 > 5 * b["memory_capacity_kuramoto_z"], model
        assert b[f"mackey_glass_nrmse_{model}"] < 0.5 * b["mackey_glass_nrmse_kuramoto_z"], model
    try:
        import reservoirpy  # noqa: F401  (a benchmark extra, absent from the test environment)

        has_rpy = True
    except ImportError:
        has_rpy = False
    assert b["esn_is_reservoirpy"] == float(has_rpy)
    if not has_rpy:  # the fallback is the in-package ESN itself
        assert b["narma10_nrmse_esn"] == b["narma10_nrmse_esn_numpy"]
    # a delay line of D = 4 taps recalls delays 1..3 exactly (its first tap is the present input);
    # longer delays add only the chance r² of 40 test samples
    assert 2.99 < b["memory_capacity_delay_line"] < 3.6


def test_bad_study_config_is_rejected(tmp_path):
    from kuramoto_jax.run import ConfigError

    with pytest.raises((ConfigError, ValueError), match="k_over_kc"):
        resolve(CONFIGS / "prediction_smoke.yaml", ["k_over_kc=[1.5, 2.0]"])
