"""Held-input reservoir: each input mechanism against a closed form or scipy, the class round trip."""


import jax
import jax.numpy as jnp
import numpy as np
import pytest

from kuramoto_jax.reservoir import (
    KuramotoReservoir,
    all_oscillator_features,
    drive_held,
    oscillator_group_features,
    random_held_params,
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


@pytest.mark.parametrize("coupling", ["mean_field", "dense"])
@pytest.mark.parametrize("mechanism", ["frequency", "phase_response", "coupling"])
def test_held_drive_against_scipy(x64, coupling, mechanism):
    from scipy.integrate import solve_ivp

    n = 5
    A = None
    if coupling == "dense":
        a = np.random.default_rng(3).standard_normal((n, n))
        A = jnp.asarray(a / np.max(np.abs(np.linalg.eigvals(a))))
    p, u = _params(n=n, K=1.3, A=A), _u(T=6)
    X, theta_end = drive_held(p, u, hold=HOLD, dt=0.01, mechanism=mechanism, virtual_nodes=2)
    om, w, phi, eps, K = (np.asarray(x, np.float64) for x in (p.omega, p.w, p.phi, p.eps, p.K))
    Kij = K / n * np.ones((n, n)) if A is None else K * np.asarray(A)

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
