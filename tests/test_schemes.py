"""Coupling schemes under a fixed budget: structure, budget, limits and dynamics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kuramoto_jax as kj
from kuramoto_jax import schemes


def _omega(n, seed=0):
    w = np.random.default_rng(seed).normal(size=n)
    return (w - w.mean()) / w.std()


def _check_structure(K, n, budget):
    K = np.asarray(K)
    assert K.shape == (n, n)
    np.testing.assert_allclose(K, K.T, atol=1e-5)
    np.testing.assert_array_equal(np.diag(K), 0.0)
    assert np.all(K >= 0)
    np.testing.assert_allclose(K.sum(), budget, rtol=1e-5)


def test_uniform_is_mean_field_budget():
    K = schemes.uniform(7, 2.5)
    _check_structure(K, 7, 2.5 * 6)
    np.testing.assert_allclose(np.asarray(K)[0, 1], 2.5 / 7)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.5])
def test_proportional_structure_and_budget(p):
    omega = _omega(12)
    K = schemes.proportional(omega, 1.7, p)
    _check_structure(K, 12, 1.7 * 11)


def test_proportional_closed_form_and_p0_limit():
    omega = np.array([-1.0, 0.0, 0.5, 2.0])
    K = np.asarray(schemes.proportional(omega, 2.0, 1.0))
    d = np.abs(omega[:, None] - omega[None, :])
    # Σ_{i≠j} |Δω| over ordered pairs; normalisation K (N−1) / that sum.
    np.testing.assert_allclose(K, 2.0 * 3 * d / d.sum(), rtol=1e-5)
    # Ratios follow the detuning to the power p.
    K2 = np.asarray(schemes.proportional(omega, 2.0, 2.0))
    np.testing.assert_allclose(K2[0, 3] / K2[1, 2], (3.0 / 0.5) ** 2, rtol=1e-5)
    np.testing.assert_allclose(schemes.proportional(omega, 2.0, 0.0), schemes.uniform(4, 2.0), rtol=1e-5)


def test_proportional_p0_dynamics_equal_mean_field():
    omega = _omega(16, 1)
    # Same vector field at arbitrary phases => same dynamics.
    a = kj.Kuramoto(omega, kj.Dense(schemes.proportional(omega, 1.3, 0.0)))
    b = kj.Kuramoto(omega, kj.MeanField(1.3))
    for seed in range(3):
        theta = np.random.default_rng(seed).uniform(0, 2 * np.pi, 16)
        np.testing.assert_allclose(a.drift(0.0, theta), b.drift(0.0, theta), atol=1e-5)


def test_partially_correlated_limits():
    omega, other = _omega(10, 3), _omega(10, 4)
    np.testing.assert_allclose(
        schemes.partially_correlated(omega, other, 1.2, 1.0, 1.0), schemes.proportional(omega, 1.2, 1.0), rtol=1e-5
    )
    np.testing.assert_allclose(
        schemes.partially_correlated(omega, other, 1.2, 1.0, 0.0), schemes.proportional(other, 1.2, 1.0), rtol=1e-5
    )
    K = schemes.partially_correlated(omega, other, 1.2, 2.0, 0.4)
    _check_structure(K, 10, 1.2 * 9)


def test_partially_correlated_correlation_grows_with_rho():
    # Correlation between coupling and detuning over pairs increases with ρ.
    n = 60
    omega, other = _omega(n, 5), _omega(n, 6)
    iu = np.triu_indices(n, 1)
    det = np.abs(omega[:, None] - omega[None, :])[iu]
    corr = [np.corrcoef(np.asarray(schemes.partially_correlated(omega, other, 1.0, 1.0, r))[iu], det)[0, 1]
            for r in (0.0, 0.5, 0.9, 1.0)]
    assert abs(corr[0]) < 0.2 and corr[-1] > 0.999
    assert np.all(np.diff(corr) > 0)


def test_prune_keeps_strongest_and_budget():
    omega = _omega(20, 7)
    K = np.asarray(schemes.proportional(omega, 1.5, 1.0))
    P = np.asarray(schemes.prune(K, 0.2))
    iu = np.triu_indices(20, 1)
    kept = P[iu] > 0
    assert kept.sum() == round(0.2 * len(iu[0]))
    # Every kept pair is at least as strong as every dropped one.
    assert K[iu][kept].min() >= K[iu][~kept].max()
    _check_structure(P, 20, 1.5 * 19)
    # Kept entries are rescaled by one common factor.
    ratio = P[iu][kept] / K[iu][kept]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)
    np.testing.assert_allclose(schemes.prune(K, 1.0), K, rtol=1e-5)


def test_prune_under_vmap_and_sparse():
    omega = _omega(15, 8)
    K = schemes.proportional(omega, 1.0, 1.0)
    fr = jnp.array([0.1, 0.5, 1.0])
    batch = jax.vmap(lambda f: schemes.prune(K, f))(fr)
    for f, P in zip(fr, batch):
        np.testing.assert_allclose(P, schemes.prune(K, float(f)), rtol=1e-5)
    # The pruned matrix gives the same vector field as a dense or a sparse coupling.
    P = schemes.prune(K, 0.3)
    theta = np.linspace(0, 6, 15)
    a = kj.Kuramoto(omega, kj.Dense(P)).drift(0.0, theta)
    sparse = kj.Sparse.from_dense(P)
    b = kj.Kuramoto(omega, sparse).drift(0.0, theta)
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert sparse.num_edges == 2 * round(0.3 * 15 * 14 / 2)


def test_schemes_under_jit_vmap_and_grad():
    omega = jnp.asarray(_omega(8, 9))
    ps = jnp.array([0.0, 1.0, 2.0])
    batch = jax.jit(jax.vmap(lambda p: schemes.proportional(omega, 2.0, p)))(ps)
    for p, K in zip(ps, batch):
        np.testing.assert_allclose(K, schemes.proportional(omega, 2.0, float(p)), rtol=1e-5)
    # The budget is linear in K.
    g = jax.grad(lambda k: jnp.sum(schemes.proportional(omega, k, 2.0)))(1.0)
    np.testing.assert_allclose(g, 7.0, rtol=1e-5)


def test_bad_input_messages():
    omega = _omega(5)
    with pytest.raises(ValueError, match="`n`"):
        schemes.uniform(1, 1.0)
    with pytest.raises(ValueError, match="`K` must be >= 0"):
        schemes.proportional(omega, -1.0, 1.0)
    with pytest.raises(ValueError, match="`p` must be >= 0"):
        schemes.proportional(omega, 1.0, -0.5)
    with pytest.raises(ValueError, match="`omega`"):
        schemes.proportional(np.ones((2, 3)), 1.0, 1.0)
    with pytest.raises(ValueError, match="distinct frequencies"):
        schemes.proportional(np.ones(4), 1.0, 1.0)
    with pytest.raises(ValueError, match="`omega_other` must have length 5"):
        schemes.partially_correlated(omega, np.zeros(4), 1.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="`rho` must be <= 1"):
        schemes.partially_correlated(omega, omega, 1.0, 1.0, 1.5)
    K = schemes.proportional(omega, 1.0, 1.0)
    with pytest.raises(ValueError, match="`keep_fraction` must be > 0"):
        schemes.prune(K, 0.0)
    with pytest.raises(ValueError, match="symmetric"):
        schemes.prune(np.triu(np.ones((4, 4)), 1), 0.5)
    with pytest.raises(ValueError, match="square"):
        schemes.prune(np.ones((3, 4)), 0.5)
    with pytest.raises(ValueError, match="non-finite"):
        schemes.proportional(np.array([0.0, np.nan, 1.0]), 1.0, 1.0)
