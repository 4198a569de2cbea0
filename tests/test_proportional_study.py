"""The proportional-coupling studies: protocol pieces against references, tiny runs of every study.

Tiny runs share shapes so that one compilation serves several studies (the K sweep
is cached per integration setting and jitted per shape).
"""

import json
import pathlib

import jax.numpy as jnp
import numpy as np
import pytest

import kuramoto_jax as kj
from kuramoto_jax import schemes
from kuramoto_jax.run import execute, resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]
from kuramoto_jax.experiments.proportional import common as c
from kuramoto_jax.experiments.proportional import hysteresis, size

CONFIGS = ROOT / "configs" / "proportional"
TINY = ["integration.t1=2", "integration.dt=0.25", "integration.save_every=0.5", "k_grid.num=4"]


def _run(tmp_path, name, *sets):
    resolved = resolve(CONFIGS / f"{name}.yaml", list(TINY) + list(sets))
    metrics, _ = execute(resolved, tmp_path / name, quiet=True)
    saved = json.loads((tmp_path / name / "metrics.json").read_text())
    assert saved["meta"]["status"] == "completed"
    assert list((tmp_path / name / "figures").glob("*.png"))
    return metrics


def test_realisations_are_normalised_and_deterministic():
    for law in ("gaussian", "uniform"):
        omega, theta0, other = c.realisations(3, 4, 50, law)
        np.testing.assert_allclose(np.mean(omega, 1), 0, atol=1e-12)
        np.testing.assert_allclose(np.var(omega, 1), 1, rtol=1e-10)
        assert np.all((theta0 >= 0) & (theta0 < 2 * np.pi))
        assert not np.allclose(omega, other)
    np.testing.assert_array_equal(omega, c.realisations(3, 4, 50, "uniform")[0])
    assert c.K_C == pytest.approx(2 * np.sqrt(2 * np.pi) / np.pi)


def test_scaled_coupling_matches_dense():
    omega = np.random.default_rng(0).normal(size=9)
    M = schemes.proportional(omega, 1.0, 2.0)
    theta = np.random.default_rng(1).uniform(0, 6, 9)
    a = kj.Kuramoto(omega, c.Scaled(jnp.asarray(1.7), kj.Dense(M))).drift(0.0, theta)
    b = kj.Kuramoto(omega, kj.Dense(1.7 * M)).drift(0.0, theta)
    np.testing.assert_allclose(a, b, rtol=1e-12)


def test_averaged_R_matches_mean_field_reference():
    # The batched, scaled-dense path against an independent mean-field solve of the same system.
    n = 12
    omega, theta0, _ = c.realisations(0, 1, n)
    integ = c.Integration(t1=4.0, dt=0.05, save_every=0.5)
    ks = jnp.array([0.5, 3.0]) * c.K_C
    R = c.averaged_R(omega[0], schemes.uniform(n, 1.0), ks, theta0[0], integ)
    ts = c.save_times(integ)
    for K, r in zip(ks, R):
        sol = kj.simulate(kj.Kuramoto(omega[0], kj.MeanField(K)), theta0[0], t1=4.0, dt=0.05, ts=ts)
        np.testing.assert_allclose(r, np.mean(kj.order_parameter(sol.theta)[0]), atol=1e-9)
    assert R[1] > 0.9  # strong coupling locks


def test_readouts_on_known_curves():
    k = np.linspace(0.1, 3.0, 30)
    R = np.clip((k - 1.0) / 0.8, 0, 1)
    assert c.k_sync(k, R) == pytest.approx(k[np.argmax(R >= 0.9)])
    assert c.crossing(k, R) == pytest.approx(1.4, abs=1e-9)
    assert np.isnan(c.k_sync(k, 0.5 * R))
    rng = np.random.default_rng(0)
    two = np.concatenate([rng.normal(0.1, 0.02, 500), rng.normal(0.9, 0.02, 500)])
    assert c.bimodality_coefficient(two) > 0.8 > 5 / 9 > c.bimodality_coefficient(rng.normal(0.5, 0.05, 1000))
    # Loop area: a down branch above the up branch by 0.5 on [1, 2] encloses 0.5.
    kk = np.linspace(0, 3, 301)
    up, down = (kk > 2).astype(float), (kk > 1).astype(float)
    assert hysteresis.loop_area(kk, up, down) == pytest.approx(1.0, abs=0.02)
    assert size.slope_at(k, R) == pytest.approx(1 / 0.8, rel=1e-9)


def test_studies_tiny(tmp_path):
    common = ("n=10", "realisations=2")
    m = _run(tmp_path, "transition", *common, "histogram_realisations=2")
    for key in ("k_sync_uniform", "k_sync_proportional", "histogram_k_ratio", "bimodality_p0", "bimodality_p1"):
        assert key in m
    m = _run(tmp_path, "pmap", *common, "num_p=2")
    assert {"p_star", "k_sync_best", "k_sync_uniform", "k_sync_p0", "k_sync_p3"} <= set(m)
    m = _run(tmp_path, "correlation", *common, "rhos=[1.0]")
    assert {"k_sync_uniform", "k_sync_rho1", "R_rho1"} <= set(m)
    m = _run(tmp_path, "sparse", *common, "keep_fractions=[0.2,1.0]")
    assert {"keep_fraction_needed", "k_sync_full", "R_keep0p2", "R_keep1"} <= set(m)
    assert 0 <= m["R_keep0p2"] <= 1
    m = _run(tmp_path, "hysteresis", *common, "ps=[0.0,1.0]")
    assert {"hysteresis_area_p0", "hysteresis_area_p1", "p_max_area"} <= set(m)
    m = _run(tmp_path, "size", "sizes=[10]", "realisations=1", "min_realisations=2")
    assert "k_half_n10" in m and "slope_n10" in m
    arrays = np.load(tmp_path / "size" / "arrays.npz")
    assert arrays["R"].shape == (1, 4)


def test_same_seed_same_metrics(tmp_path):
    a = _run(tmp_path / "a", "pmap", "n=10", "realisations=2", "num_p=2")
    b = _run(tmp_path / "b", "pmap", "n=10", "realisations=2", "num_p=2")
    assert a == b


def test_bad_config_rejected():
    from kuramoto_jax.run import ConfigError

    with pytest.raises(ConfigError, match="law"):
        resolve(CONFIGS / "pmap.yaml", ["law=laplace"])
    with pytest.raises(ConfigError, match="keep_fractions"):
        resolve(CONFIGS / "sparse.yaml", ["keep_fractions=[0.0,1.0]"])
