"""Equilibrium propagation: equilibria, exact and EP gradients, seeding, training step, studies."""

from __future__ import annotations

import numpy as np
import pytest

import jax
import jax.numpy as jnp

import kuramoto_jax as kj
from kuramoto_jax import ep


def random_system(n=6, seed=0, k_mean=5.0, p=0.6):
    rng = np.random.default_rng(seed)
    A = np.triu((rng.random((n, n)) < p).astype(float), 1)
    A[np.arange(n - 1), np.arange(1, n)] = 1.0  # ring: connected
    K = A * k_mean * rng.uniform(0.5, 1.5, (n, n))
    K = K + K.T
    omega = 0.3 * rng.standard_normal(n)
    return K, omega


OUT = np.array([4, 5])
TGT = np.array([-0.2, 0.2])


def loss_at(K, omega_c, pinned=0):
    th = np.asarray(ep.equilibrium(K, omega_c, pinned=pinned, center=False))
    return 0.5 * np.sum((th[OUT] - TGT) ** 2)


def test_equilibrium_is_a_stable_root_of_the_core_vector_field():
    K, omega = random_system()
    theta = ep.equilibrium(K, omega, pinned=0)
    assert theta.shape == (6,) and float(theta[0]) == 0.0
    # Residual through the core model itself, in the rotating frame.
    model = kj.Kuramoto(omega - omega.mean(), kj.Dense(K))
    assert np.max(np.abs(model.drift(0.0, theta))) < 1e-12
    assert float(ep.max_eigenvalue(theta, jnp.asarray(K))) < 0
    # Another pinned oscillator: the same phase differences.
    th3 = ep.equilibrium(K, omega, pinned=3)
    np.testing.assert_allclose(th3, theta - theta[3], atol=1e-10)


@pytest.mark.slow
def test_relaxation_reaches_the_newton_equilibrium():
    K, omega = random_system()
    theta = ep.equilibrium(K, omega)
    np.testing.assert_allclose(ep.equilibrium(K, omega, method="relax"), theta, atol=1e-10)


def test_two_oscillators_closed_form():
    # ω^c = (−a, a): a − K sin θ_1 = 0 → θ_1 = arcsin(a/K) (stable branch).
    a, k = 0.3, 1.0
    theta = ep.equilibrium(np.array([[0.0, k], [k, 0.0]]), np.array([-a, a]))
    np.testing.assert_allclose(theta, [0.0, np.arcsin(a / k)], atol=1e-13)


def test_unlockable_network_is_reported():
    K = np.array([[0.0, 0.1], [0.1, 0.0]])
    info = ep.equilibrium_info(K, np.array([-1.0, 1.0]))
    assert not bool(info.converged)
    with pytest.raises(Exception, match="did not converge"):
        ep.equilibrium(K, np.array([-1.0, 1.0]))
    with pytest.raises(RuntimeError, match="free equilibrium"):
        ep.gradients(K, np.array([-1.0, 1.0]), [0.1], [1], method="implicit")


def test_unstable_equilibrium_is_reported():
    # θ_1 = π − arcsin(a/K) is a root but unstable; Newton started next to it finds it.
    a, k = 0.3, 1.0
    K = np.array([[0.0, k], [k, 0.0]])
    info = ep.equilibrium_info(K, np.array([-a, a]), theta0=np.array([0.0, np.pi - 0.35]))
    assert bool(info.converged) and not bool(info.stable)
    with pytest.raises(Exception, match="unstable"):
        ep.equilibrium(K, np.array([-a, a]), theta0=np.array([0.0, np.pi - 0.35]))


def test_implicit_gradients_match_central_finite_differences():
    K, omega = random_system()
    omc = omega - omega.mean()
    g_om, g_K = ep.gradients(K, omc, TGT, OUT, method="implicit")
    h = 1e-5
    fd_om = np.zeros(6)
    for k in range(1, 6):
        e = np.zeros(6)
        e[k] = h
        fd_om[k] = (loss_at(K, omc + e) - loss_at(K, omc - e)) / (2 * h)
    fd_K = np.zeros((6, 6))
    for i, j in zip(*np.nonzero(np.triu(K, 1))):
        E = np.zeros((6, 6))
        E[i, j] = E[j, i] = h
        fd_K[i, j] = fd_K[j, i] = (loss_at(K + E, omc) - loss_at(K - E, omc)) / (2 * h)
    assert float(g_om[0]) == 0.0
    assert np.linalg.norm(g_om - fd_om) / np.linalg.norm(fd_om) < 1e-6
    assert np.linalg.norm(g_K - fd_K) / np.linalg.norm(fd_K) < 1e-6
    assert np.all(np.asarray(g_K)[K == 0] == 0) and np.allclose(g_K, np.asarray(g_K).T)
    # Closed form of the implicit function theorem: ∂L/∂ω^c = −J̃^{-T} e.
    theta = np.asarray(ep.equilibrium(K, omc, center=False))
    Jr = np.asarray(ep.reduced_jacobian(jnp.asarray(theta), jnp.asarray(K)))
    e = np.zeros(6)
    e[OUT] = theta[OUT] - TGT
    np.testing.assert_allclose(np.asarray(g_om)[1:], -np.linalg.solve(Jr.T, e[1:]), rtol=1e-10, atol=1e-14)


def test_ep_is_first_order_and_centered_second_order_in_beta():
    K, omega = random_system(seed=1)
    exact_om, exact_K = ep.gradients(K, omega, TGT, OUT, method="implicit")
    rel = lambda a, b: float(np.linalg.norm(a - b) / np.linalg.norm(b))
    g01 = ep.gradients(K, omega, TGT, OUT, beta=0.1, method="ep")
    cos = float(np.dot(g01[0], exact_om) / np.linalg.norm(g01[0]) / np.linalg.norm(exact_om))
    assert cos >= 0.999
    e1 = [rel(ep.gradients(K, omega, TGT, OUT, beta=b, method="ep")[0], exact_om) for b in (0.04, 0.02)]
    e2 = [rel(ep.gradients(K, omega, TGT, OUT, beta=b, method="centered")[0], exact_om) for b in (0.04, 0.02)]
    k1 = [rel(ep.gradients(K, omega, TGT, OUT, beta=b, method="ep")[1], exact_K) for b in (0.04, 0.02)]
    assert 1.8 < e1[0] / e1[1] < 2.2  # halving β halves the one-sided error
    assert 3.6 < e2[0] / e2[1] < 4.4  # and quarters the centred one
    assert 1.8 < k1[0] / k1[1] < 2.2
    assert e2[1] < e1[1] / 10


def test_autodiff_through_relaxation_matches_implicit():
    K, omega = random_system(seed=2)
    g_i = ep.gradients(K, omega, TGT, OUT, method="implicit")
    g_a = ep.gradients(K, omega, TGT, OUT, method="autodiff", t1=60.0, dt=0.05)
    np.testing.assert_allclose(g_a[0], g_i[0], atol=1e-8)
    np.testing.assert_allclose(g_a[1], g_i[1], atol=1e-8)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(K=np.ones((5, 5)) - np.eye(5)), r"`K` must be a square \(6, 6\)"),
        (dict(K=np.triu(np.ones((6, 6)), 1)), "`K` must be symmetric"),
        (dict(outputs=np.array([4, 9])), r"`outputs` must index oscillators in \[0, 6\)"),
        (dict(outputs=np.array([4.0, 5.0])), "integer indices"),
        (dict(target=np.array([0.1, 0.2, 0.3])), "`target`"),
        (dict(beta=0.0), "`beta` must be a finite number > 0"),
        (dict(method="backprop"), "`method` must be one of"),
        (dict(pinned=6), r"`pinned` must be in \[0, 6\)"),
    ],
)
def test_bad_input_names_the_argument(kwargs, match):
    K, omega = random_system()
    args = dict(K=K, omega=omega, target=TGT, outputs=OUT, beta=0.1, method="ep", pinned=0)
    args.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=match):
        ep.gradients(**args)


def test_spectral_seed_is_the_inverse_laplacian_direction():
    net = ep.layered(jax.random.key(0))
    w = np.asarray(ep.spectral_seed(net.K, net.inputs, net.outputs, scale=0.3))
    assert np.isclose(np.max(np.abs(w)), 0.3) and np.all(w[list(net.inputs)] == 0)
    # Eigen-expansion Σ_i (s_i/λ_i) v_i of the reduced Laplacian, normalised.
    L = np.diag(np.asarray(net.K).sum(1)) - np.asarray(net.K)
    lam, V = np.linalg.eigh(L[1:, 1:])
    o1, o2 = net.outputs[0] - 1, net.outputs[1] - 1
    ref = np.concatenate([[0.0], V @ ((V[o1] - V[o2]) / lam)])
    ref[list(net.inputs)] = 0.0
    np.testing.assert_allclose(w, 0.3 * ref / np.max(np.abs(ref)), atol=1e-12)
    with pytest.raises(ValueError, match="exactly 2 outputs"):
        ep.spectral_seed(net.K, net.inputs, net.outputs[:1])


def test_layered_architecture_matches_the_paper():
    net = ep.layered(jax.random.key(3), 2, 5, 2)
    K = np.asarray(net.K)
    assert K.shape == (9, 9) and np.allclose(K, K.T)
    assert np.count_nonzero(np.triu(K, 1)) == 2 * 5 + 5 * 2 + 4
    assert np.all(K[np.ix_([0, 1], [2, 3, 4, 5, 6])] >= 1.0) and np.all(K[np.ix_([0, 1], [2, 3, 4, 5, 6])] <= 3.0)
    assert np.all(np.diag(K[2:7, 2:7], 1) <= 2.0) and K[0, 1] == 0 and K[7, 8] == 0


def test_newton_matches_optimistix_solve_and_training_step_lowers_the_loss():
    net = ep.layered(jax.random.key(1))
    layout = ep.Layout(net.inputs, net.outputs, 0)
    omc = net.omega.at[jnp.array([0, 1])].set(jnp.array([0.3, -0.6]))
    omc = omc - omc.mean()
    a, b = ep.newton(net.K, omc), ep.solve(net.K, omc)
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-12)
    assert bool(a.stable) == bool(b.stable)
    hyper = ep.EPHyper(lr_omega=0.05, lr_K=0.05, beta=0.01)
    n = net.n
    masks = ep.Masks(jnp.zeros(n).at[jnp.asarray(net.learnable)].set(1.0), (net.K > 0).astype(float))
    params = ep.Params(net.omega, net.K)
    x, c = jnp.array([0.2, -0.4]), 1

    @jax.jit
    def sample_loss(p):
        om = p.omega.at[jnp.array([0, 1])].set(1.5 * x)
        th = ep.newton(p.K, om - om.mean()).theta
        y = ep.class_targets(2, 0.2)[c]
        return 0.5 * jnp.sum((th[jnp.asarray(net.outputs)] - y) ** 2)

    step = jax.jit(lambda p, w: ep.ep_step(p, masks, w, x, c, layout, hyper))
    new, warm, st = step(params, jnp.zeros(n))
    assert not bool(st["skipped"]) and sample_loss(new) < sample_loss(params)
    assert np.all(np.asarray(new.K)[np.asarray(net.K) == 0] == 0)


def test_readouts():
    th = jnp.array([[-0.25, 0.15], [0.1, -0.3]])
    np.testing.assert_array_equal(ep.readout_cos(th), [1, 0])
    np.testing.assert_array_equal(ep.readout_nearest(th), [0, 1])
    np.testing.assert_allclose(ep.class_targets(2, 0.2), [[-0.2, 0.2], [0.2, -0.2]])


def test_vowel_loader(tmp_path):
    path = tmp_path / "v.csv"
    rows = ["vowel,F1,F2"] + [f"a,{700 + i},{1200 + i}" for i in range(10)] + [f"i,{300 + i},{2300 + i}" for i in range(10)]
    path.write_text("\n".join(rows))
    xtr, ytr, xte, yte = ep.load_vowels(path, ("a", "i"), seed=0)
    assert xtr.shape == (16, 2) and xte.shape == (4, 2)
    assert np.isclose(xtr.min(), -1) and np.isclose(xtr.max(), 1)
    with pytest.raises(FileNotFoundError, match="data_path"):
        ep.load_vowels(tmp_path / "missing.csv")
