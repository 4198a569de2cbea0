"""Physics checks of the core engine: closed forms, references, orders, agreement."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import solve_ivp

import kuramoto_jax as kj

# Physics and gradient checks at tight tolerances: float64.
pytestmark = pytest.mark.x64


def _network(n=8, seed=0):
    rng = np.random.default_rng(seed)
    omega = rng.normal(0.0, 1.0, n)
    K = rng.uniform(0.0, 1.0, (n, n))
    np.fill_diagonal(K, 0.0)
    theta0 = rng.uniform(0, 2 * np.pi, n)
    return omega, K, theta0


def test_three_couplings_agree():
    n = 50
    omega, _, theta0 = _network(n, 1)
    K = 2.3
    ts = jnp.linspace(0.0, 5.0, 11)
    sols = [
        kj.simulate(kj.Kuramoto(omega, c), theta0, t1=5.0, dt=0.01, ts=ts).theta
        for c in (kj.MeanField(K), kj.Dense(np.full((n, n), K / n)), kj.Sparse.from_dense(np.full((n, n), K / n)))
    ]
    np.testing.assert_allclose(sols[0], sols[1], atol=1e-11)
    np.testing.assert_allclose(sols[0], sols[2], atol=1e-11)


def test_sparse_constructors_agree_with_dense():
    import networkx as nx

    g = nx.erdos_renyi_graph(30, 0.2, seed=3)
    for a, b in g.edges:
        g.edges[a, b]["weight"] = 0.5 + (a * 7 + b) % 5 / 10
    A = nx.to_numpy_array(g, weight="weight")
    s_nx = kj.Sparse.from_networkx(g)
    s_dense = kj.Sparse.from_dense(A)
    edges = np.array(list(g.edges))
    w = np.array([g.edges[a, b]["weight"] for a, b in edges])
    s_edges = kj.Sparse.from_edges(edges, w, n=30, symmetric=True)
    for s in (s_nx, s_dense, s_edges):
        np.testing.assert_allclose(s.to_dense(), A, atol=1e-14)


def _rhs_numpy(omega, K, b, alpha):
    def f(t, th):
        diff = th[None, :] - th[:, None] - alpha  # [i, j] = θ_j − θ_i − α
        return omega + (K * np.sin(diff)).sum(1) + b * np.sin(th)

    return f


@pytest.mark.parametrize("solver,dt,tol", [("tsit5", 0.1, 1e-8), ("dopri8", 0.1, 1e-8), ("rk4", 1e-3, 1e-9)])
def test_against_scipy_reference_with_field_and_lag(solver, dt, tol):
    """Heterogeneous dense network with field b and Sakaguchi lag α vs scipy DOP853 at rtol 1e-12."""
    omega, K, theta0 = _network(8, 2)
    b = np.linspace(-0.5, 0.5, 8)
    alpha = 0.3
    t1 = 5.0
    ts = np.linspace(0, t1, 6)
    ref = solve_ivp(_rhs_numpy(omega, K, b, alpha), (0, t1), theta0, method="DOP853", rtol=1e-12, atol=1e-12, t_eval=ts)
    model = kj.Kuramoto(omega, kj.Dense(K), field=b, lag=alpha)
    sol = kj.simulate(model, theta0, t1=t1, dt=dt, ts=ts, solver=solver, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(np.asarray(sol.theta), ref.y.T, atol=tol)


@pytest.mark.parametrize("solver,order", [("euler", 1), ("heun", 2), ("midpoint", 2), ("rk4", 4)])
def test_convergence_order(solver, order):
    omega, K, theta0 = _network(6, 4)
    model = kj.Kuramoto(omega, kj.Dense(2 * K), field=0.3)
    t1 = 2.0
    ref = kj.simulate(model, theta0, t1=t1, dt=0.1, solver="dopri8", rtol=1e-13, atol=1e-13).theta[-1]
    dts = [0.04, 0.02, 0.01] if order < 4 else [0.2, 0.1, 0.05]
    errs = [float(jnp.max(jnp.abs(kj.simulate(model, theta0, t1=t1, dt=dt, solver=solver).theta[-1] - ref))) for dt in dts]
    slopes = np.diff(np.log(errs)) / np.diff(np.log(dts))
    assert np.all(np.abs(slopes - order) < 0.3), (errs, slopes)


def test_theory_closed_forms():
    th = kj.theory
    assert th.critical_coupling("gaussian", 2.0) == pytest.approx(2 * 2.0 * math.sqrt(2 * math.pi) / math.pi, rel=1e-14)
    assert th.critical_coupling("lorentzian", 0.5) == pytest.approx(1.0, rel=1e-14)
    assert th.critical_coupling("uniform", 1.0) == pytest.approx(4 / math.pi, rel=1e-14)
    Ks = np.array([1.5, 2.5, 4.0, 10.0])
    # The generic self-consistency solver reproduces the Lorentzian closed form.
    lor_numeric = np.array([th._self_consistency_rhs(r, k, "lorentzian", 0.5) for r, k in zip(np.sqrt(1 - 1.0 / Ks), Ks)])
    np.testing.assert_allclose(lor_numeric, 1.0, atol=1e-9)
    np.testing.assert_allclose(th.stationary_order_parameter(Ks, "lorentzian", 0.5), np.sqrt(1 - 1.0 / Ks), rtol=1e-14)
    # Uniform law: first-order jump to π/4 at K_c; zero below.
    Kc = th.critical_coupling("uniform", 1.0)
    assert th.stationary_order_parameter(Kc * 0.99, "uniform") == 0.0
    assert th.stationary_order_parameter(Kc * (1 + 1e-9), "uniform") == pytest.approx(math.pi / 4, abs=1e-4)
    # Gaussian: continuous onset with r ≈ sqrt(16/(π K_c³) · (K − K_c)/(−g''(0)·...)) → just check monotone & small near K_c.
    r = th.stationary_order_parameter(np.array([1.0, 1.02, 1.1, 2.0, 5.0]) * th.critical_coupling("gaussian"), "gaussian")
    assert r[0] == 0.0 and 0 < r[1] < 0.25 and np.all(np.diff(r) > 0) and r[-1] < 1


@pytest.mark.parametrize("law", ["lorentzian", "gaussian"])
def test_simulated_order_parameter_matches_self_consistency(law):
    """Finite-N mean-field simulation with quantile frequencies approaches the N → ∞ r(K)."""
    n = 4000
    omega = kj.theory.deterministic_frequencies(n, law, 1.0)
    Kc = kj.theory.critical_coupling(law, 1.0)
    theta0 = np.zeros(n)  # start synchronised: the stationary branch
    ts = jnp.linspace(100.0, 150.0, 26)
    for ratio in (1.6, 2.5):
        model = kj.Kuramoto(omega, kj.MeanField(ratio * Kc))
        sol = kj.simulate(model, theta0, t1=150.0, dt=0.1, ts=ts, observe=lambda th: kj.order_parameter(th)[0])
        r_sim = float(jnp.mean(sol.observables))
        r_th = float(kj.theory.stationary_order_parameter(ratio * Kc, law, 1.0))
        assert abs(r_sim - r_th) < 0.02, (law, ratio, r_sim, r_th)


def test_noise_phase_variance_grows_as_sigma2_t():
    n = 4000
    sigma = 0.7
    model = kj.Kuramoto(np.zeros(n), kj.MeanField(0.0), noise=sigma)
    ts = jnp.array([0.25, 0.5, 1.0])
    for solver in ("euler", "heun"):
        sol = kj.simulate(model, np.zeros(n), t1=1.0, dt=0.01, ts=ts, key=jax.random.key(0), solver=solver)
        var = np.var(np.asarray(sol.theta), axis=1)
        np.testing.assert_allclose(var, sigma**2 * np.asarray(ts), rtol=0.08)
    # Same key → same path; different key → different path.
    a = kj.simulate(model, np.zeros(n), t1=1.0, dt=0.01, key=jax.random.key(1), solver="euler").theta
    b = kj.simulate(model, np.zeros(n), t1=1.0, dt=0.01, key=jax.random.key(1), solver="euler").theta
    c = kj.simulate(model, np.zeros(n), t1=1.0, dt=0.01, key=jax.random.key(2), solver="euler").theta
    assert np.array_equal(a, b) and not np.allclose(a, c)


def test_second_order_single_oscillator_closed_form():
    m, gamma, w, v0 = 0.5, 2.0, 1.3, -0.4
    model = kj.Kuramoto([w], kj.MeanField(0.0), mass=m, damping=gamma)
    ts = jnp.linspace(0, 3, 7)
    sol = kj.simulate(model, [0.2], velocity0=[v0], t1=3.0, dt=1e-3, ts=ts)
    vinf = w / gamma
    tau = m / gamma
    theta = 0.2 + vinf * ts + (v0 - vinf) * tau * (1 - jnp.exp(-ts / tau))
    np.testing.assert_allclose(sol.theta[:, 0], theta, atol=1e-10)
    np.testing.assert_allclose(sol.velocity[:, 0], vinf + (v0 - vinf) * jnp.exp(-ts / tau), atol=1e-10)


def test_second_order_overdamped_limit_matches_first_order():
    omega, K, theta0 = _network(6, 5)
    first = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=3.0, dt=1e-3).theta[-1]
    # m → 0 with γ = 1: inertial model relaxes to the first-order one (error O(m)).
    errs = []
    for m in (1e-2, 5e-3):
        model = kj.Kuramoto(omega, kj.Dense(K), mass=m, damping=1.0)
        v0 = model.drift(0.0, jnp.asarray(theta0))
        errs.append(float(jnp.max(jnp.abs(kj.simulate(model, theta0, velocity0=v0, t1=3.0, dt=1e-3).theta[-1] - first))))
    assert errs[1] < errs[0] < 0.05 and errs[0] / errs[1] > 1.6


def test_drive_callable_and_sampled():
    eps, w = 0.3, 0.7
    ts = jnp.linspace(0, 4, 9)
    model = kj.Kuramoto([w], kj.MeanField(0.0), drive=jnp.cos, drive_gain=eps)
    sol = kj.simulate(model, [0.0], t1=4.0, dt=1e-3, ts=ts)
    np.testing.assert_allclose(sol.theta[:, 0], w * ts + eps * jnp.sin(ts), atol=1e-10)
    dt_s = 1e-3
    samples = np.cos(np.arange(0, 4.0 + 2 * dt_s, dt_s))
    model_s = kj.Kuramoto([w], kj.MeanField(0.0), drive=kj.SampledSignal(samples, dt_s), drive_gain=eps)
    sol_s = kj.simulate(model_s, [0.0], t1=4.0, dt=1e-3, ts=ts)
    np.testing.assert_allclose(sol_s.theta[:, 0], w * ts + eps * jnp.sin(ts), atol=1e-6)
