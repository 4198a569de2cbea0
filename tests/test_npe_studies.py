"""Tiny runs of the npe studies through the runner, the public posterior API on the run
folder, and the ECDF synthetic-likelihood baseline."""

import json
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kuramoto_jax import npe
from kuramoto_jax.run import execute, resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CONFIGS = ROOT / "configs" / "npe"


def _run(tmp_path, name):
    metrics, _ = execute(resolve(CONFIGS / f"{name}.yaml"), tmp_path / name, quiet=True)
    saved = json.loads((tmp_path / name / "metrics.json").read_text())
    assert saved["meta"]["status"] == "completed"
    assert {"recovery.png", "calibration.png", "posteriors.png"} <= {p.name for p in (tmp_path / name / "figures").glob("*.png")}
    for key in ("nrmse", "contraction", "calibration_error", "train_seconds", "simulate_seconds", "inference_ms_per_dataset"):
        assert np.isfinite(metrics[key]), key
    return metrics


def test_simple_smoke_run_and_load_posterior(tmp_path):
    m = _run(tmp_path, "simple_smoke")
    assert 0 <= m["calibration_error"] <= 0.5
    post = npe.load_posterior(tmp_path / "simple_smoke")
    low, high = post.prior_bounds
    y = post.simulate(jax.random.key(0), jnp.array([1.0]))
    assert y.shape == (len(post.observation_times), 16)
    draws = np.asarray(post.sample(jax.random.key(1), y, 200))
    assert draws.shape == (200, 1) and np.all((draws > low) & (draws < high))


@pytest.mark.slow
def test_three_node_smoke_run(tmp_path):
    m = _run(tmp_path, "three_node_smoke")
    for name in ("k12", "k13", "k21", "k23", "k31", "k32"):
        assert np.isfinite(m[f"nrmse_{name}"]) and np.isfinite(m[f"contraction_{name}"])
    assert (tmp_path / "three_node_smoke" / "figures" / "pairplot.png").is_file()


@pytest.mark.slow  # heavy (compilation-bound): run with `pytest -m slow`
def test_ecdf_vector_and_gaussian_synthetic_likelihood():
    from scipy import stats

    feats = jnp.array([[0.1, 5.0], [0.4, 6.0], [0.3, 7.0], [0.9, 8.0]])
    bins = jnp.array([[0.2, 0.5], [6.5, 9.0]])
    np.testing.assert_allclose(npe.ecdf_vector(feats, bins), [0.25, 0.75, 0.5, 1.0])
    sim = npe.simple_network(n=10, protocol=npe.ObservationProtocol(t1=1.0, dt=0.1, stride=1))
    lik = npe.ECDFLikelihood.fit(sim, jax.random.key(0), jnp.array([2.5]), num_ref=30, num_bins=3, num_sim=4)
    e_obs = lik.observe(sim.simulate(jax.random.key(7), jnp.array([2.5])))
    theta = jnp.array([1.0])
    expect = stats.multivariate_normal(np.asarray(lik.mean(theta)), 1.25 * np.asarray(lik.cov)).logpdf(np.asarray(e_obs))
    np.testing.assert_allclose(float(lik.log_likelihood(theta, e_obs)), expect, rtol=1e-8)
    with pytest.raises(ValueError, match="theta0"):
        npe.ECDFLikelihood.fit(sim, jax.random.key(0), jnp.array([1.0, 2.0]))


@pytest.mark.slow
def test_ecdf_mcmc_posterior_covers_truth():
    sim = npe.simple_network(n=20, protocol=npe.ObservationProtocol(t1=4.0, dt=0.1, stride=1))
    lik = npe.ECDFLikelihood.fit(sim, jax.random.key(0), jnp.array([2.5]), num_ref=60, num_bins=5, num_sim=8,
                                 smoothing=0.02)
    y = sim.simulate(jax.random.key(7), jnp.array([2.5]))
    draws = npe.sample_ecdf_posterior(lik, jax.random.key(1), y, num_samples=200, num_warmup=200)
    assert draws.shape == (200, 1)
    lo, hi = np.quantile(draws, [0.005, 0.995])
    assert lo < 2.5 < hi


@pytest.mark.slow  # NUTS compiles a gradient through the simulator: minutes under load
def test_mcmc_compare_smoke_run(tmp_path):
    metrics, _ = execute(resolve(CONFIGS / "mcmc_compare_smoke.yaml"), tmp_path / "mc", quiet=True)
    for m in ("npe", "nuts", "sa"):
        assert np.isfinite(metrics[f"{m}_seconds_per_dataset"])
        for name in ("k12", "k32"):
            assert 0 < metrics[f"{m}_mean_{name}"] < 2 and metrics[f"{m}_sd_{name}"] > 0
        assert -1 <= metrics[f"{m}_corr_k12_k13"] <= 1
    assert 0 <= metrics["c2st_npe_nuts"] <= 1 and 0 <= metrics["ecdf_prior_fraction_above_truth"] <= 1
    assert {"mcmc_marginals.png", "mcmc_pairs.png"} <= {p.name for p in (tmp_path / "mc" / "figures").glob("*.png")}
    assert npe.load_posterior(tmp_path / "mc").simulator.num_params == 6
