"""The locking-threshold budget study runs end to end from its smoke config."""

import json
import pathlib

import pytest

from kuramoto_jax.run import execute, resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_budget_smoke(tmp_path):
    resolved = resolve(ROOT / "configs" / "stability" / "budget_smoke.yaml", [])
    metrics, _ = execute(resolved, tmp_path / "budget", quiet=True)
    saved = json.loads((tmp_path / "budget" / "metrics.json").read_text())
    assert saved["meta"]["status"] == "completed"
    assert list((tmp_path / "budget" / "figures").glob("*.png"))
    # Uniform coupling is the mean field: its fold is the mean-field threshold.
    assert metrics["K_L_uniform"] == pytest.approx(metrics["K_L_mean_field"], rel=1e-9)
    assert metrics["brute_force_checks"] == 1.0
    assert metrics["K_L_optimised"] < metrics["K_L_uniform"]  # three descent steps from uniform already help


def test_softmax_allocation_keeps_the_budget_and_exponent_recovers_p():
    import jax.numpy as jnp
    import numpy as np

    from kuramoto_jax import schemes

    M = schemes.softmax_allocation(jnp.linspace(-1, 1, 15), 6)
    np.testing.assert_allclose(M, M.T, rtol=1e-6)
    assert float(schemes.budget(M)) == pytest.approx(5.0, rel=1e-6)
    np.testing.assert_allclose(schemes.softmax_allocation(jnp.zeros(15), 6), schemes.uniform(6, 1.0), atol=1e-6)
    omega = np.random.default_rng(0).normal(size=8)
    for p in (1.0, 2.0):
        assert schemes.effective_exponent(schemes.proportional(omega, 1.0, p), omega) == pytest.approx(p, rel=1e-5)
    with pytest.raises(ValueError, match="logits"):
        schemes.softmax_allocation(jnp.zeros(14), 6)
