"""Reservoir library: drive/feature pipeline against the core, exact symmetries, read-out, tasks, metrics."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kuramoto_jax as kj
from kuramoto_jax.reservoir import (
    EchoStateNetwork,
    KuramotoReservoir,
    drive_reservoir,
    drive_reservoir_jit,
    fit_readout,
    memory_capacity,
    mse,
    nrmse_std,
    order_parameter_features,
    oscillator_features,
    tasks,
)

DT = 0.05


def _small(n=16, seed=0, mean=0.5):
    key = jax.random.key(seed)
    omega = mean + 0.3 * jax.random.normal(key, (n,))
    theta0 = jax.random.uniform(jax.random.fold_in(key, 1), (n,), maxval=2 * math.pi)
    return omega, theta0


def test_features_match_one_direct_simulate():
    # the scan of short solves must reproduce one long kj.simulate on the same step grid
    omega, theta0 = _small()
    T = 41
    u = np.sin(0.7 * np.arange(T) * DT)
    X, th_end = drive_reservoir(omega, theta0, 1.2, 0.3, u, DT, features=order_parameter_features(3), skip=10)
    model = kj.Kuramoto(omega, kj.MeanField(1.2), drive=kj.SampledSignal(jnp.asarray(u), DT), drive_gain=0.3)
    ts = jnp.arange(T) * DT
    sol = kj.simulate(model, theta0, t1=float(ts[-1]), dt=DT, ts=ts, solver="rk4")
    ref = jax.vmap(order_parameter_features(3))(sol.theta[10:])
    np.testing.assert_allclose(X, ref, atol=1e-5)
    np.testing.assert_allclose(th_end, sol.theta[-1], atol=1e-5)


def test_additive_input_is_a_common_rotation():
    # With r(θ) = 1 the substitution θ_j → θ_j − ε∫u leaves the mean-field model
    # invariant, so Z_m^ε(t) = Z_m^0(t) e^{i m ε ∫_0^t u}: the input only rotates
    # the order parameters (exact at any N; here to RK4 accuracy).
    omega, theta0 = _small(n=24)
    T, eps, M = 201, 0.4, 3
    t = np.arange(T) * DT
    u = np.cos(0.9 * t) + 0.3
    # jitted: ε is traced, so the driven run and the control share one compilation
    X1, _ = drive_reservoir_jit(omega, theta0, 0.8, eps, u, dt=DT, features=order_parameter_features(M))
    X0, _ = drive_reservoir_jit(omega, theta0, 0.8, 0.0, u, dt=DT, features=order_parameter_features(M))
    z1 = X1[:, :M] + 1j * X1[:, M:]
    z0 = X0[:, :M] + 1j * X0[:, M:]
    # ε ∫_0^t u of the linearly interpolated samples (what the model sees): trapezoid sums
    phase = eps * np.r_[0.0, np.cumsum(0.5 * DT * (u[1:] + u[:-1]))]
    rot = np.exp(1j * np.arange(1, M + 1)[None, :] * phase[:, None])
    np.testing.assert_allclose(z1, z0 * rot, atol=3e-5)
    # a field-like input (r = sin θ) breaks that symmetry
    Xs, _ = drive_reservoir(omega, theta0, 0.8, eps, u, DT, features=order_parameter_features(M), input_term="sin")
    zs = Xs[:, :M] + 1j * Xs[:, M:]
    assert np.max(np.abs(zs - z0 * rot)) > 1e-3


def test_full_harmonic_set_gives_the_same_fit():
    # Z_{-m} = conj(Z_m), Z_0 = 1: Re, Im Z_m for m = -M..M plus a bias span the
    # same space as Re, Im Z_m for m = 1..M plus a bias (the default features)
    omega, theta0 = _small()
    t = np.arange(120) * DT
    u, y = np.sin(0.5 * t), np.cos(0.5 * t) ** 3
    M = 2
    Xf, _ = drive_reservoir(omega, theta0, 1.0, 0.5, u, DT, features=order_parameter_features(M, full=True))
    assert Xf.shape[1] == 2 * (2 * M + 1)
    ks = np.arange(-M, M + 1)
    np.testing.assert_allclose(Xf[:, 2 * M + 1 + M], 0.0, atol=1e-12)  # Im Z_0
    np.testing.assert_allclose(Xf[:, M], 1.0, atol=1e-12)  # Re Z_0
    Xf = np.asarray(Xf)
    reduced = np.concatenate([Xf[:, : 2 * M + 1][:, ks > 0], Xf[:, 2 * M + 1 :][:, ks > 0]], 1)
    theta_probe = jnp.asarray(theta0)
    np.testing.assert_allclose(order_parameter_features(M)(theta_probe), reduced[0], atol=1e-12)
    np.testing.assert_allclose(fit_readout(reduced, y)(reduced), fit_readout(Xf, y)(Xf), atol=1e-8)


def test_oscillator_features():
    th = jnp.array([0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(oscillator_features([1, 3])(th), [math.cos(1), math.cos(3), math.sin(1), math.sin(3)])
    with pytest.raises(ValueError, match="index"):
        oscillator_features([])


def test_readout_recovers_linear_map_and_ridge_limits():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 6))
    w = rng.standard_normal(6)
    y = X @ w + 0.7
    ro = fit_readout(X, y)
    np.testing.assert_allclose(ro.weights, np.r_[w, 0.7], atol=1e-10)
    np.testing.assert_allclose(fit_readout(X, y, ridge=1e-10).weights, ro.weights, atol=1e-7)
    big = fit_readout(X, y, ridge=1e8).weights  # weights shrink to 0, the (unpenalised) bias to mean(y)
    assert np.max(np.abs(big[:-1])) < 1e-4 and abs(big[-1] - y.mean()) < 1e-3


def test_fit_then_predict_continues_the_same_trajectory():
    T1, T2 = 60, 30
    u = np.sin(0.5 * np.arange(T1 + T2) * DT)
    y = np.roll(u, -1)
    res = KuramotoReservoir(n=20, K=1.0, eps=0.5, dt=DT, washout=1.0, key=jax.random.key(3), M=2)
    res.fit(u[:T1], y[:T1])
    y_hat = res.predict(u[T1:])
    assert y_hat.shape == (T2,)
    X_all = res.features(u)  # one uninterrupted run from the seeded state
    np.testing.assert_allclose(y_hat, res.readout(X_all[T1:]), atol=1e-5)
    np.testing.assert_allclose(res.train_prediction, res.readout(X_all[20:T1]), atol=1e-5)


def test_reservoir_defaults_and_critical_coupling():
    res = KuramotoReservoir(n=500, K=1.0, omega_law="gaussian", omega_spread=0.4, eps=0.01, dt=0.01,
                            washout=240.0, key=jax.random.key(0))
    assert res.critical_coupling == pytest.approx(2 * 0.4 * math.sqrt(2 * math.pi) / math.pi)
    assert res.M == 5 and res.ridge == 0.0 and res.omega_mean == 0.5 and res.input_term == "additive"
    assert abs(float(jnp.mean(res.omega)) - 0.5) < 0.06 and abs(float(jnp.std(res.omega)) - 0.4) < 0.04
    uni = KuramotoReservoir(n=500, omega_law="uniform", omega_spread=0.5, key=jax.random.PRNGKey(1))
    assert uni.critical_coupling == pytest.approx(4 * 0.5 / math.pi)
    assert float(jnp.min(uni.omega)) >= 0.0 and float(jnp.max(uni.omega)) <= 1.0


def test_reservoir_key_typed_or_legacy():
    u = np.sin(0.5 * np.arange(40) * DT)
    typed = KuramotoReservoir(n=12, dt=DT, washout=0.5, key=jax.random.key(5), input_weights="random")
    legacy = KuramotoReservoir(n=12, dt=DT, washout=0.5, key=jax.random.PRNGKey(5), input_weights="random")
    np.testing.assert_array_equal(typed.omega, legacy.omega)
    np.testing.assert_array_equal(typed.input_weights, legacy.input_weights)
    np.testing.assert_array_equal(typed.features(u), legacy.features(u))
    other = KuramotoReservoir(n=12, dt=DT, washout=0.5, key=jax.random.key(6))
    assert not np.allclose(typed.omega, other.omega)
    with pytest.raises(TypeError, match="key"):
        KuramotoReservoir(n=12)
    with pytest.raises(TypeError, match="key"):
        KuramotoReservoir(n=12, key=5)


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="omega_law"):
        KuramotoReservoir(omega_law="cauchyish")
    with pytest.raises(ValueError, match="omega_spread"):
        KuramotoReservoir(omega_spread=0.0)
    with pytest.raises(ValueError, match="input_term"):
        KuramotoReservoir(input_term="multiplicative")
    res = KuramotoReservoir(n=10, dt=0.1, washout=1.0, key=jax.random.key(0))
    with pytest.raises(ValueError, match="equal length"):
        res.fit(np.zeros(30), np.zeros(29))
    with pytest.raises(ValueError, match="washout"):
        res.fit(np.zeros(5), np.zeros(5))
    with pytest.raises(ValueError, match="`u`"):
        res.fit(np.zeros((30, 2)), np.zeros(30))
    with pytest.raises(RuntimeError, match="fit"):
        res.predict(np.zeros(3))
    with pytest.raises(ValueError, match="`u` must be finite"):
        drive_reservoir(jnp.zeros(3), jnp.zeros(3), 1.0, 0.1, [0.0, np.nan], 0.1, features=order_parameter_features(1))


def test_metrics():
    y = np.sin(np.linspace(0, 10, 500))
    assert nrmse_std(np.full_like(y, y.mean()), y) == pytest.approx(1.0)
    assert mse(y, y) == 0.0
    with pytest.raises(ValueError, match="shape"):
        mse(y[:-1], y)
    # a perfect delay line of D taps has memory capacity D (one per delay up to D)
    rng = np.random.default_rng(1)
    u = rng.uniform(-1, 1, 700)
    D = 6
    X = np.stack([np.roll(u, d) for d in range(D + 1)], 1)
    mc, prof = memory_capacity(X[20:500], u[20:500], X[500:], u[500:], max_delay=D + 3)
    np.testing.assert_allclose(prof[:D], 1.0, atol=1e-9)
    assert mc == pytest.approx(D, abs=0.1)


def test_tasks():
    u, y = tasks.sine_prediction(100, 0.01)
    np.testing.assert_allclose(y[:-1], u[1:], atol=1e-12)
    t = np.linspace(0, 30, 1000)
    tri = tasks.triangle_wave(t, 0.5)
    assert np.max(np.abs(tri)) <= 1.0 + 1e-12
    assert np.max(np.abs(np.diff(tri) / np.diff(t))) == pytest.approx(2 * 0.5 / np.pi, rel=1e-6)
    u, y = tasks.narma10(300, seed=0)
    assert u.min() >= 0 and u.max() <= 0.5
    k = 50  # the recurrence holds sample by sample (row k holds y_{k+1} driven by u_0..u_k)
    yy = np.r_[0.0, y]
    assert yy[k + 1] == pytest.approx(0.3 * yy[k] + 0.05 * yy[k] * yy[k - 9 : k + 1].sum() + 1.5 * u[k - 9] * u[k] + 0.1)
    x = tasks.mackey_glass(400)
    # the chaotic attractor's range (τ = 17)
    assert 0.2 < x.min() and x.max() < 1.5 and np.std(x) > 0.1


def test_esn_states():
    esn = EchoStateNetwork(30, spectral_radius=0.8, seed=0)
    assert np.max(np.abs(np.linalg.eigvals(esn.W))) == pytest.approx(0.8)
    u = np.random.default_rng(0).uniform(-1, 1, 300)
    s = esn.states(u)
    assert s.shape == (300, 30) and np.all(np.abs(s) < 1)
    with pytest.raises(ValueError, match="units"):
        EchoStateNetwork(0)


def test_quantile_frequencies_have_the_exact_mean():
    from kuramoto_jax.reservoir import sample_reservoir

    for law, spread in (("gaussian", 0.4), ("uniform", 0.5)):
        om, th = sample_reservoir(jax.random.key(3), 500, law, spread, 0.5, frequencies="quantile")
        om2, th2 = sample_reservoir(jax.random.key(4), 500, law, spread, 0.5, frequencies="quantile")
        np.testing.assert_array_equal(om, om2)  # deterministic: only θ(0) follows the key
        assert not np.allclose(th, th2)
        assert abs(float(np.mean(np.asarray(om, np.float64))) - 0.5) < 1e-6
        np.testing.assert_allclose(np.asarray(om), kj.theory.deterministic_frequencies(500, law, spread, 0.5))
    with pytest.raises(ValueError, match="frequencies"):
        sample_reservoir(jax.random.key(0), 5, "gaussian", 0.4, 0.5, frequencies="sobol")


def test_reservoirpy_esn_matches_the_in_package_update_rule():
    # skipped where the benchmark extra is absent (the CI test extra does not install it)
    pytest.importorskip("reservoirpy")

    from reservoirpy import mat_gen
    from reservoirpy.nodes import Reservoir

    from kuramoto_jax.reservoir import esn_states, reservoirpy_readout

    u = np.random.default_rng(2).uniform(-1, 1, 200)
    node = Reservoir(8, sr=0.9, lr=0.5, input_scaling=0.5, input_connectivity=1.0, rc_connectivity=1.0,
                     bias=mat_gen.uniform(low=-0.2, high=0.2), seed=5)
    states = node.run(u[:, None])
    assert np.max(np.abs(np.linalg.eigvals(np.asarray(node.W)))) == pytest.approx(0.9)
    # the in-package ESN with reservoirpy's matrices reproduces its states
    esn = EchoStateNetwork(8, leak=0.5, seed=0)
    esn.W, esn.W_in, esn.b = np.asarray(node.W), np.asarray(node.Win)[:, 0], np.ravel(node.bias)
    np.testing.assert_allclose(esn.states(u), states, atol=1e-12)
    np.testing.assert_allclose(esn_states(u, 8, 0.9, 0.5, 0.5, 0.2, 5, backend="reservoirpy"), states, atol=1e-12)
    # reservoirpy's Ridge read-out is our ridge estimator (bias not penalised)
    y = np.sin(3 * u)
    np.testing.assert_allclose(reservoirpy_readout(states, y, 1e-3)(states), fit_readout(states, y, 1e-3)(states), atol=1e-8)
