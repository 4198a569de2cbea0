"""Kuramoto-vs-ESN protocol: gradients of the validation loss, identical data, kwargs that rebuild the runs."""

import json
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kuramoto_jax as kj
from kuramoto_jax.reservoir import (
    KuramotoReservoir,
    drive_held,
    nrmse_std,
    random_held_params,
    tasks,
    validation_nrmse,
)
from kuramoto_jax.reservoir import _versus as vs
from kuramoto_jax.run import execute, resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_validation_loss_gradient_matches_finite_differences(x64):
    p = random_held_params(jax.random.key(2), 3, K=1.2, eps=0.8, omega_mean=1.0, omega_spread=0.4)
    u = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, 16))
    y = jnp.roll(u, 1) * u
    fit, val = slice(2, 12), slice(12, 16)

    def loss(K, eps, omega, w, phi, mechanism):
        q = p._replace(K=K, eps=eps, omega=omega, w=w, phi=phi)
        return validation_nrmse(drive_held(q, u, hold=0.5, dt=0.05, mechanism=mechanism)[0], y, fit, val, 1e-3)

    for mechanism in ("frequency", "phase_response"):
        args = (p.K, p.eps, p.omega, p.w, p.phi)
        grads = jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3, 4)), static_argnums=5)(*args, mechanism)
        f = jax.jit(loss, static_argnums=5)
        h = 1e-6
        for i, g in enumerate(grads):
            for j in range(max(1, np.size(args[i]))):
                e = jnp.zeros_like(args[i]).at[() if args[i].ndim == 0 else j].set(h)
                plus = [a + e if k == i else a for k, a in enumerate(args)]
                minus = [a - e if k == i else a for k, a in enumerate(args)]
                fd = (f(*plus, mechanism) - f(*minus, mechanism)) / (2 * h)
                gij = g if g.ndim == 0 else g[j]
                np.testing.assert_allclose(gij, fd, rtol=1e-5, atol=1e-8, err_msg=f"{mechanism} arg {i}[{j}]")


def test_versus_data_identical_for_both_models():
    data = vs.versus_data(300, seed=3, mg_horizon=4)
    u, y = tasks.narma10(301, seed=3)
    np.testing.assert_allclose(data["narma10"][1], y)
    np.testing.assert_allclose(data["narma10"][0], (u - u.mean()) / u.std())
    # the memory-capacity input is the NARMA input, its target that input itself
    np.testing.assert_array_equal(data["memory_capacity"][0], data["narma10"][0])
    np.testing.assert_array_equal(data["memory_capacity"][1], data["narma10"][0])
    h = vs.henon(301, seed=3)
    np.testing.assert_allclose(data["henon"][1], h[1:])
    np.testing.assert_allclose(1 - 1.4 * h[1:-1] ** 2 + 0.3 * h[:-2], h[2:], atol=1e-12)
    np.testing.assert_allclose(data["lorenz"][1], vs.lorenz(301, seed=3)[1:])


def test_lorenz_series_against_scipy():
    from scipy.integrate import solve_ivp

    x = vs.lorenz(3, seed=1, discard=0)  # samples at t = 0.1, 0.2, 0.3 from the seeded start
    start = np.array([1.0, 1.0, 1.0]) + 0.1 * np.random.default_rng(1).standard_normal(3)
    f = lambda t, v: [10 * (v[1] - v[0]), v[0] * (28 - v[2]) - v[1], v[0] * v[1] - 8 / 3 * v[2]]
    ref = solve_ivp(f, (0, 0.3), start, t_eval=[0.1, 0.2, 0.3], rtol=1e-12, atol=1e-12).y[0]
    np.testing.assert_allclose(x, ref, rtol=2e-5)  # RK4 with dt = 0.01: a few 1e-6 here (O(dt⁴))


def test_versus_study_kwargs_rebuild_reported_numbers(tmp_path):
    metrics, _ = execute(resolve(ROOT / "configs" / "reservoir" / "versus_esn_smoke.yaml"), tmp_path / "r", quiet=True)
    kw = json.loads((tmp_path / "r" / "reservoir_kwargs.json").read_text())
    assert set(kw) == set(vs.VERSUS_TASKS) and set(kw["narma10"]) == {"4", "6"}
    cfg = json.loads((tmp_path / "r" / "metrics.json").read_text())["meta"]
    data = vs.versus_data(20 + 100 + 40, 0, 2)
    for task in ("narma10", "mackey_glass", "henon", "lorenz"):
        u, y = data[task]
        for D, models in kw[task].items():
            for name, kwargs in models.items():
                pred = KuramotoReservoir(**kwargs).fit(u[:120], y[:120]).predict(u[120:])
                np.testing.assert_allclose(nrmse_std(pred, y[120:]), metrics[f"{task}_{D}_kuramoto_{name}"],
                                           rtol=1e-6, err_msg=f"{task} D={D} {name} {cfg.get('status')}")
    assert metrics["simulations_gradient_narma10_4"] <= metrics["kuramoto_grid_size"]


def test_recorded_kwargs_rebuild_the_record():
    # the committed record of configs/reservoir/versus_esn.yaml: its stored keyword arguments give its numbers
    rec = ROOT / "experiments" / "reservoir" / "records" / "versus_esn"
    kw = json.loads((rec / "reservoir_kwargs.json").read_text())
    metrics = json.loads((rec / "metrics.json").read_text())
    metrics = metrics.get("metrics", metrics)
    u, y = vs.versus_data(1700, 0, 10)["narma10"]
    pred = KuramotoReservoir(**kw["narma10"]["10"]["grid"]).fit(u[:1200], y[:1200]).predict(u[1200:])
    np.testing.assert_allclose(nrmse_std(pred, y[1200:]), metrics["narma10_10_kuramoto_grid"], rtol=1e-5)


def test_grid_points_of_every_option_rebuild_from_their_kwargs():
    # each option of the grid (law, coupling, read-out, mechanism), batched as in the study, against
    # KuramotoReservoir(**reservoir_kwargs) driven alone: same features, D = 6 always
    D, hold, dt = 6, 0.5, 0.1
    u = np.random.default_rng(0).standard_normal(30)
    points = [vs.GridPoint(1.5, 1.0, 1.0, 0.4, "gaussian", "mean_field", "oscillators", "phase_response"),
              vs.GridPoint(0.5, 0.7, 0.5, 0.3, "lorentzian", "sparse", "products", "phase_response"),
              vs.GridPoint(3.0, 0.5, 2.0, 0.8, "uniform", "dense", "harmonics", "coupling")]
    draws = {n: vs.base_draw(jax.random.key(n), n, mean_degree=1.0) for n in (2, 3)}
    X = vs.grid_features(draws, points, u[None], D, hold=hold, dt=dt)
    for p, Xp in zip(points, X):
        n = vs.readout_layout(p.readout, D)[0]
        params = vs.grid_params(draws[n], p)
        np.testing.assert_allclose(float(params.K), p.k_over_kc * kj.theory.critical_coupling(p.law, p.omega_spread),
                                   rtol=1e-6)
        kw = vs.reservoir_kwargs(params, hold=hold, dt=dt, mechanism=p.mechanism, ridge=1e-4, washout_samples=0,
                                 readout=p.readout, D=D, coupling=p.coupling)
        kw = json.loads(json.dumps(kw))  # as stored
        Xr = KuramotoReservoir(**kw).features(u)
        assert Xp.shape == (1, 30, D) and Xr.shape == (30, D)
        np.testing.assert_allclose(Xr, Xp[0], atol=1e-5, err_msg=str(p))
    assert vs.readout_layout("products", 10) == (3, 4) and vs.readout_layout("harmonics", 100) == (25, 50)


def test_option_best_is_the_minimum_over_the_points_with_each_option():
    points = vs.kuramoto_grid([0.5, 3.0], [1.0], [0.5], [0.8], ["gaussian", "uniform"], ["mean_field"],
                              ["oscillators", "products"])
    assert len(points) == 8 and points[1] == vs.GridPoint(0.5, 1.0, 0.5, 0.8, "gaussian", "mean_field", "products")
    losses = np.arange(8.0)[::-1].reshape(1, 8)  # point i has loss 7 − i
    names, best = vs.option_best(losses, points)
    got = dict(zip(names, best[0]))
    assert got["k_over_kc=0.5"] == 4 and got["k_over_kc=3.0"] == 0  # points 0-3, 4-7
    assert got["law=gaussian"] == 2 and got["readout=oscillators"] == 1 and got["eps=1.0"] == 0
    with pytest.raises(ValueError, match="readout"):
        vs.kuramoto_grid([1.0], [1.0], [0.5], [0.8], readout=["nope"])
