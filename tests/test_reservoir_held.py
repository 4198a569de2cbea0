"""Held-input reservoir: each input mechanism against a closed form or scipy, the class round trip."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kuramoto_jax as kj
from kuramoto_jax.reservoir import (
    KuramotoReservoir,
    all_oscillator_features,
    drive_held,
    oscillator_group_features,
    random_coupling_matrix,
    random_held_params,
    second_order_features,
)

HOLD, DT = 0.5, 0.05


def _params(n=6, K=0.0, eps=0.7, omega_scale=1.0, A=None, seed=0):
    p = random_held_params(jax.random.key(seed), n, K=K, eps=eps, omega_mean=1.0, omega_spread=0.4)
    return p._replace(omega=p.omega * omega_scale, A=A)


def _u(T=12, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, T)


def test_frequency_input_closed_form():
    # K = 0: θ_i after k holds = θ_i(0) + ω_i h k + ε w_i h Σ_{l ≤ k} u_l (exact)
    p, u = _params(), _u()
    X, _ = drive_held(p, u, hold=HOLD, dt=DT, mechanism="frequency")
    k = np.arange(1, len(u) + 1)[:, None]
    theta = (np.asarray(p.theta0) + np.asarray(p.omega) * HOLD * k
             + float(p.eps) * np.asarray(p.w) * HOLD * np.cumsum(u)[:, None])
    np.testing.assert_allclose(X, np.concatenate([np.cos(theta), np.sin(theta)], 1), atol=2e-5)


def test_phase_response_closed_form():
    # K = 0, ω = 0: dθ/dt = a sin(θ + φ), a = ε w u_k ⇒ tan((θ+φ)/2) grows by e^{a h} per hold
    p, u = _params(omega_scale=0.0), _u()
    X, _ = drive_held(p, u, hold=HOLD, dt=DT, mechanism="phase_response")
    psi, rows = np.asarray(p.theta0 + p.phi, np.float64), []
    for uk in u:
        psi = 2 * np.arctan(np.tan(psi / 2) * np.exp(float(p.eps) * np.asarray(p.w) * uk * HOLD))
        rows.append(psi - np.asarray(p.phi))
    theta = np.array(rows)
    np.testing.assert_allclose(X, np.concatenate([np.cos(theta), np.sin(theta)], 1), atol=5e-5)


@pytest.mark.parametrize("coupling", ["mean_field", "dense", "sparse"])
@pytest.mark.parametrize("mechanism", ["frequency", "phase_response", "coupling"])
def test_held_drive_against_scipy(x64, coupling, mechanism):
    from scipy.integrate import solve_ivp

    n = 5
    A = a = None
    if coupling == "dense":
        a = np.random.default_rng(3).standard_normal((n, n))
        a /= np.max(np.abs(np.linalg.eigvals(a)))
        A = jnp.asarray(a)
    if coupling == "sparse":  # 8 of the 20 off-diagonal entries, as edges
        a = random_coupling_matrix(jax.random.key(3), n, mean_degree=1.6)
        A = kj.Sparse.from_dense(a)
        assert A.num_edges == np.count_nonzero(a) < n * (n - 1)
    p, u = _params(n=n, K=1.3, A=A), _u(T=6)
    X, theta_end = drive_held(p, u, hold=HOLD, dt=0.01, mechanism=mechanism, virtual_nodes=2)
    om, w, phi, eps, K = (np.asarray(x, np.float64) for x in (p.omega, p.w, p.phi, p.eps, p.K))
    Kij = K / n * np.ones((n, n)) if A is None else K * np.asarray(a, np.float64)

    def rhs(t, th, uk):
        coupling = (Kij * np.sin(th[None, :] - th[:, None])).sum(1)
        if mechanism == "coupling":  # the input scales the coupling: K_ij (1 + ε u_k)
            return om + (1 + eps * uk) * coupling
        r = 1.0 if mechanism == "frequency" else np.sin(th + phi)
        return om + coupling + eps * w * uk * r

    th, rows = np.asarray(p.theta0, np.float64), []
    for uk in u:
        sol = solve_ivp(rhs, (0, HOLD), th, t_eval=[HOLD / 2, HOLD], args=(uk,), rtol=1e-11, atol=1e-12)
        rows.append(np.concatenate([np.cos(sol.y[:, 0]), np.sin(sol.y[:, 0]), np.cos(sol.y[:, 1]), np.sin(sol.y[:, 1])]))
        th = sol.y[:, 1]
    np.testing.assert_allclose(X, np.array(rows), atol=1e-7)
    np.testing.assert_allclose(theta_end, th, atol=1e-7)


def test_group_features_are_group_order_parameters():
    theta = jnp.asarray(np.random.default_rng(0).uniform(0, 6.28, 10))
    f = oscillator_group_features(10, 2)(theta)
    z = [np.mean(np.exp(1j * np.asarray(theta[g]))) for g in (slice(0, 5), slice(5, 10))]
    np.testing.assert_allclose(f, [z[0].real, z[1].real, z[0].imag, z[1].imag], atol=1e-6)


def test_reservoir_held_fit_predict_is_one_continuous_drive():
    p, u = _params(n=8, K=1.0), _u(T=100)
    kw = dict(n=8, K=1.0, eps=0.7, dt=DT, washout=5 * HOLD, seed=0, hold=HOLD, input_mechanism="phase_response",  # noqa: C408
              input_weights=np.asarray(p.w), input_phases=np.asarray(p.phi), omega=np.asarray(p.omega),
              theta0=np.asarray(p.theta0), features="oscillators", n_oscillator_features=8, ridge=1e-4)
    res = KuramotoReservoir(**kw)
    y = u  # recall of the held sample
    res.fit(u[:70], y[:70])
    pred = res.predict(u[70:])
    X, _ = drive_held(p, u, hold=HOLD, dt=DT, mechanism="phase_response", features=all_oscillator_features)
    np.testing.assert_allclose(res.readout(np.asarray(X)[70:]), pred, atol=1e-4)


def test_reservoir_held_bad_input():
    with pytest.raises(ValueError, match="input_mechanism"):
        KuramotoReservoir(n=4, seed=0, hold=0.5, input_mechanism="nope")
    with pytest.raises(ValueError, match="coupling_matrix"):
        KuramotoReservoir(n=4, seed=0, hold=0.5, coupling="dense")
    with pytest.raises(ValueError, match="coupling_matrix"):
        KuramotoReservoir(n=4, seed=0, hold=0.5, coupling="sparse")
    with pytest.raises(ValueError, match="mean_degree"):
        KuramotoReservoir(n=4, seed=0, hold=0.5, coupling="sparse", coupling_matrix="random", mean_degree=5.0)
    with pytest.raises(ValueError, match="k_over_kc"):
        KuramotoReservoir(n=4, seed=0, k_over_kc=-1.0)
    with pytest.raises(ValueError, match="n_second_order"):
        KuramotoReservoir(n=4, seed=0, features="products", n_oscillator_features=2, n_second_order=7)
    with pytest.raises(ValueError, match="virtual_nodes"):
        drive_held(_params(), _u(), hold=HOLD, dt=DT, virtual_nodes=3)


def test_echo_state_property_frequency_vs_phase_response():
    # K = 0: a frequency input moves two starts by the same angle (their distance never changes: no
    # fading memory), while a phase-response input with ε|w u| > |ω| pins both near the zeros of
    # ω_i + ε w_i u_k sin(θ + φ_i), so they forget their start.
    from kuramoto_jax.reservoir._versus import phase_distance

    p, u = _params(n=6, eps=3.0, omega_scale=0.1), np.abs(_u(T=40)) + 0.5
    q = p._replace(theta0=p.theta0 + 1.0)
    d = {m: phase_distance(drive_held(p, u, hold=HOLD, dt=DT, mechanism=m)[0],
                           drive_held(q, u, hold=HOLD, dt=DT, mechanism=m)[0]) for m in ("frequency", "phase_response")}
    np.testing.assert_allclose(d["frequency"], 2 * np.sin(0.5), rtol=1e-4)  # chord of a 1 rad offset, for ever
    assert d["phase_response"][-1] < 1e-3 * d["phase_response"][0]


def test_sparse_coupling_given_the_dense_matrix_gives_the_dense_features():
    # the same (sparse) matrix through kj.Sparse's edge list and kj.Dense: one reservoir, two couplings
    a = random_coupling_matrix(jax.random.key(4), 12, mean_degree=3.0)
    kw = dict(n=12, K=2.0, eps=0.8, dt=DT, hold=HOLD, washout=0.0, seed=5, input_mechanism="phase_response",  # noqa: C408
              input_phases="random", input_weights="random", features="oscillators", n_oscillator_features=12,
              coupling_matrix=a)
    u = _u(T=30)
    Xs = KuramotoReservoir(coupling="sparse", **kw).features(u)
    Xd = KuramotoReservoir(coupling="dense", **kw).features(u)
    Xm = KuramotoReservoir(coupling="mean_field", **kw).features(u)
    np.testing.assert_allclose(Xs, Xd, atol=2e-5)
    assert np.abs(Xs - Xm).max() > 0.1  # the coupling matters at all


def test_random_sparse_coupling_has_its_mean_degree_and_unit_spectral_radius():
    n, k = 400, 5.0
    a = random_coupling_matrix(jax.random.key(0), n, mean_degree=k)
    degree = np.count_nonzero(a, axis=1)
    assert np.all(np.diag(a) == 0)
    # each of the n(n − 1) entries present with probability k/(n − 1): mean degree k ± sqrt(k/n) (binomial)
    assert abs(degree.mean() - k) < 4 * np.sqrt(k / n)
    np.testing.assert_allclose(np.max(np.abs(np.linalg.eigvals(a))), 1.0, rtol=1e-10)
    dense = random_coupling_matrix(jax.random.key(0), 30)
    assert np.count_nonzero(dense) == 900
    np.testing.assert_allclose(np.max(np.abs(np.linalg.eigvals(dense))), 1.0, rtol=1e-10)
    # KuramotoReservoir(coupling_matrix="random") draws the same shapes from its key
    res = KuramotoReservoir(n=30, seed=2, hold=0.5, coupling="sparse", coupling_matrix="random", mean_degree=4.0)
    np.testing.assert_allclose(res.coupling_matrix, random_coupling_matrix(jax.random.key(2), 30, 4.0), atol=1e-6)


def _uniform_locked_r(k_over_kc):
    # uniform law on [−γ, γ], K r ≥ γ (all locked): 1 = (K/2γ) [arcsin s + s √(1 − s²)], s = γ/(K r)
    from scipy.optimize import brentq

    K = k_over_kc * 4 / np.pi  # γ = 1
    return brentq(lambda r: K / 2 * (np.arcsin(1 / (K * r)) + np.sqrt(1 - 1 / (K * r) ** 2) / (K * r)) - 1,
                  1 / K + 1e-12, 1.0)


@pytest.mark.parametrize(("law", "k_over_kc", "r_theory"), [
    ("lorentzian", 2.0, np.sqrt(1 - 1 / 2.0)),  # Ott–Antonsen: r = √(1 − K_c/K), K_c = 2γ
    ("uniform", 1.5, _uniform_locked_r(1.5)),  # self-consistency, K_c = 4γ/π
])
def test_operating_point_of_each_law_reaches_its_steady_order_parameter(law, k_over_kc, r_theory):
    # no input (u = 0): K = (K/K_c) K_c(law, γ) relaxes to the law's stationary r (quantile ω, N = 2000)
    res = KuramotoReservoir(n=2000, omega_law=law, omega_spread=0.5, omega_mean=0.3, k_over_kc=k_over_kc, seed=0,
                            hold=1.0, dt=0.1, frequencies="quantile", features="order_parameters", M=1,
                            input_mechanism="frequency", washout=0.0)
    np.testing.assert_allclose(res.K, k_over_kc * kj.theory.critical_coupling(law, 0.5))
    X = res.features(np.zeros(80))
    r = np.hypot(X[-20:, 0], X[-20:, 1])
    np.testing.assert_allclose(r.mean(), r_theory, atol=0.01)


@pytest.mark.parametrize("kind", ["harmonics", "products"])
def test_second_order_features_closed_form(kind):
    theta = np.random.default_rng(2).uniform(0, 2 * np.pi, 7)
    n, P = 3, 5
    f = np.asarray(second_order_features(n, P, kind)(jnp.asarray(theta)))
    c, s = np.cos(theta[:n]), np.sin(theta[:n])
    if kind == "harmonics":
        second = [np.cos(2 * theta[0]), np.sin(2 * theta[0]), np.cos(2 * theta[1]), np.sin(2 * theta[1]),
                  np.cos(2 * theta[2])]
    else:  # lag-1 products of (cos θ_1, sin θ_1, cos θ_2, sin θ_2, cos θ_3, sin θ_3)
        second = [c[0] * s[0], s[0] * c[1], c[1] * s[1], s[1] * c[2], c[2] * s[2]]
    np.testing.assert_allclose(f, np.concatenate([c, s, second]), atol=1e-6)
    res = KuramotoReservoir(n=7, seed=0, hold=0.5, dt=0.05, washout=0.0, features=kind, n_oscillator_features=n,
                            n_second_order=P)
    assert res.features(_u(T=4)).shape == (4, 2 * n + P)  # D = 2n + P
    with pytest.raises(ValueError, match="extra"):
        second_order_features(2, 7, "harmonics")


@pytest.mark.parametrize("mechanism", ["frequency", "phase_response", "coupling"])
def test_hold_time_rescaled_to_the_unit_interval(x64, mechanism):
    # s = t/h: hold 1 with dt 1/m on (hω, hK, hε) is the hold h with dt h/m; d(loss)/dh against finite differences
    from kuramoto_jax.reservoir import time_rescaled, validation_nrmse

    p, u, m = _params(n=4, K=1.1), jnp.asarray(_u(T=14)), 5
    h = 0.7
    X, _ = drive_held(p, u, hold=h, dt=h / m, mechanism=mechanism)
    Xs, _ = drive_held(time_rescaled(p, h, mechanism), u, hold=1.0, dt=1 / m, mechanism=mechanism)
    np.testing.assert_allclose(Xs, X, atol=1e-12)
    if mechanism != "phase_response":
        return
    y = jnp.roll(u, 2)

    def loss(hold):
        Z = drive_held(time_rescaled(p, hold, mechanism), u, hold=1.0, dt=1 / m, mechanism=mechanism)[0]
        return validation_nrmse(Z, y, slice(2, 10), slice(10, 14), 1e-3)

    g = jax.grad(loss)(jnp.asarray(h))
    fd = (loss(h + 1e-6) - loss(h - 1e-6)) / 2e-6
    assert abs(float(g)) > 1e-3
    np.testing.assert_allclose(g, fd, rtol=1e-5)
