"""Gradients through the core: the dense aggregate's derivative rule, the scan path of
`simulate` against `diffrax.diffeqsolve`, and gradients under jit with any step budget."""

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kuramoto_jax as kj
from kuramoto_jax._coupling import dense_aggregate

# Physics and gradient checks at tight tolerances: float64.
pytestmark = pytest.mark.x64


def _network(n=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 1.0, n), rng.uniform(0.0, 0.6, (n, n)), rng.uniform(0, 2 * np.pi, n)


def test_dense_aggregate_derivatives_match_finite_differences():
    rng = np.random.default_rng(0)
    n = 7
    K = jnp.asarray(rng.normal(size=(n, n)))
    theta = jnp.asarray(rng.normal(size=(3, n)))  # a batch of source phases, and one row of it

    def loss(K, th):
        C, S = dense_aggregate(K, jnp.cos(th), jnp.sin(th))
        return jnp.sum(jnp.sin(C) * S**2 + 0.3 * C)

    h = 1e-6
    for th in (theta[0], theta):
        gK, gth = jax.grad(loss, (0, 1))(K, th)
        for _ in range(3):
            dK, dth = jnp.asarray(rng.normal(size=K.shape)), jnp.asarray(rng.normal(size=th.shape))
            fd_K = (loss(K + h * dK, th) - loss(K - h * dK, th)) / (2 * h)
            fd_th = (loss(K, th + h * dth) - loss(K, th - h * dth)) / (2 * h)
            assert float(jnp.vdot(gK, dK)) == pytest.approx(float(fd_K), rel=1e-7, abs=1e-9)
            assert float(jnp.vdot(gth, dth)) == pytest.approx(float(fd_th), rel=1e-7, abs=1e-9)
            # forward mode (the rule itself) agrees with reverse mode (its transpose)
            _, jv = jax.jvp(loss, (K, th), (dK, dth))
            assert float(jv) == pytest.approx(float(jnp.vdot(gK, dK) + jnp.vdot(gth, dth)), rel=1e-12)


def _solve_pair(coupling_of, solver, ts, noise=None, mass=None):
    """Loss and gradients through the scan path and through diffeqsolve (a given adjoint)."""
    omega, K, theta0 = _network()

    def loss(om, c, th0, adjoint):
        model = kj.Kuramoto(om, coupling_of(c), field=0.2, drive=jnp.sin, noise=noise, mass=mass)
        sol = kj.simulate(model, th0, t1=2.0, dt=0.1, ts=ts, solver=solver, adjoint=adjoint,
                          key=None if noise is None else jax.random.key(3))
        return jnp.sum(jnp.sin(sol.theta) ** 2), sol

    out = []
    for adjoint in (None, diffrax.RecursiveCheckpointAdjoint()):
        (value, sol), grads = jax.value_and_grad(loss, (0, 1, 2), has_aux=True)(omega, jnp.asarray(K), theta0, adjoint)
        out.append((value, sol, grads))
    return out


@pytest.mark.parametrize(
    "coupling_of",
    [kj.Dense, lambda K: kj.MeanField(jnp.sum(K) / 10), lambda K: kj.Sparse(*np.nonzero(np.ones((6, 6)))[::-1], K.ravel(), 6)],
    ids=["dense", "meanfield", "sparse"],
)
def test_scan_path_equals_diffeqsolve_values_and_gradients(coupling_of):
    ts = np.arange(0, 21, 4) * 0.1  # on the step grid, t = 0 included
    (v_scan, s_scan, g_scan), (v_dfx, s_dfx, g_dfx) = _solve_pair(coupling_of, "rk4", ts)
    assert s_scan.stats["max_steps"] == 20 and s_dfx.stats["max_steps"] == 100_000  # the two routes were taken
    np.testing.assert_allclose(s_scan.theta, s_dfx.theta, rtol=0, atol=1e-13)
    np.testing.assert_allclose(s_scan.ts, s_dfx.ts, rtol=0, atol=1e-15)
    assert float(v_scan) == pytest.approx(float(v_dfx), rel=1e-13)
    for a, b in zip(g_scan, g_dfx):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_scan_path_equals_diffeqsolve_with_noise_and_inertia(solver):
    (_, s_scan, g_scan), (_, s_dfx, g_dfx) = _solve_pair(kj.Dense, solver, None, noise=0.3, mass=1.5)
    assert s_scan.stats["max_steps"] == 20 and s_dfx.stats["max_steps"] == 100_000
    np.testing.assert_allclose(s_scan.theta, s_dfx.theta, atol=1e-13)
    np.testing.assert_allclose(s_scan.velocity, s_dfx.velocity, atol=1e-13)
    for a, b in zip(g_scan, g_dfx):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-12)


def test_long_solves_are_checkpointed_with_the_same_gradient(monkeypatch):
    """The scan path's three memory policies give the same gradient."""
    from kuramoto_jax import _solve

    omega, K, theta0 = _network()
    ts = np.arange(0, 41, 8) * 0.1

    def grad_K():
        f = lambda K: jnp.sum(jnp.cos(kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=4.0, dt=0.1, ts=ts).theta))
        return jax.grad(f)(jnp.asarray(K))

    stored = grad_K()  # every step's residuals kept
    monkeypatch.setattr(_solve, "_STORE_RESIDUALS", 10)  # states kept, steps recomputed
    np.testing.assert_allclose(grad_K(), stored, rtol=1e-12, atol=1e-14)
    monkeypatch.setattr(_solve, "_STORE_STATES", 10)  # √-sized checkpointed chunks
    np.testing.assert_allclose(grad_K(), stored, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("max_steps", [10, 11, 16, 32, None])
def test_gradient_under_jit_is_right_for_any_step_budget(max_steps):
    """Regression: a budget of 16 for 10 Euler steps with SaveAt(ts) gave a wrong gradient under jit.

    diffeqsolve's default adjoint then checkpoints 5 of the 10 steps, and with saves at
    ts the reverse pass of equinox's checkpointed loop came out wrong (docs/gradients.md).
    Fixed-step solves of known length now run as a scan, whatever the budget.
    """
    rng = np.random.default_rng(0)
    n = 5
    K0 = jnp.asarray(rng.uniform(0, 0.5, (n, n)))
    omega, theta0 = jnp.asarray(rng.uniform(-1, 1, n)), jnp.asarray(rng.uniform(0, 6, n))
    ts = np.arange(6, 11) * 0.1

    def loss(K):
        sol = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=1.0, dt=0.1, ts=ts, solver="euler",
                          max_steps=max_steps)
        return jnp.sum(jnp.cos(sol.theta))

    g = jax.jit(jax.grad(loss))(K0)
    f = jax.jit(loss)
    h = 1e-6
    for i, j in ((0, 1), (3, 2)):
        e = jnp.zeros((n, n)).at[i, j].set(h)
        fd = (f(K0 + e) - f(K0 - e)) / (2 * h)
        assert float(g[i, j]) == pytest.approx(float(fd), rel=1e-7, abs=1e-10)


# ---------------------------------------------------------------- truncated backpropagation

def _truncation_problem():
    n = 6
    K = jax.random.normal(jax.random.key(3), (n, n)) * 0.5
    omega, theta0 = jnp.linspace(-1.0, 1.0, n), jnp.linspace(0.0, 1.0, n)
    return K, omega, theta0, jnp.arange(11, 21) * 0.1  # saves at steps 11..20 of dt = 0.1


@pytest.mark.parametrize("solver", ["euler", "rk4"])
def test_gradient_from_equals_a_detached_two_stage_solve(solver):
    """Gradients from t_b = the gradient of a solve restarted at t_b from the stopped state at t_b;
    the values never change, t_b = t0 is the full gradient, and θ0 gets no gradient past t0."""
    K, omega, theta0, ts = _truncation_problem()
    model = lambda K: kj.Kuramoto(omega, kj.Dense(K))

    def loss(K, th0=theta0, gradient_from=None):
        sol = kj.simulate(model(K), th0, t1=2.0, dt=0.1, ts=ts, solver=solver, gradient_from=gradient_from)
        return jnp.sum(jnp.sin(sol.theta) * jnp.arange(1, 7))

    def two_stage(K):
        burnt = jax.lax.stop_gradient(kj.simulate(model(K), theta0, t1=1.0, dt=0.1, solver=solver).theta[-1])
        sol = kj.simulate(model(K), burnt, t0=1.0, t1=2.0, dt=0.1, ts=ts, solver=solver)
        return jnp.sum(jnp.sin(sol.theta) * jnp.arange(1, 7))

    full, truncated = jax.grad(loss)(K), jax.grad(loss)(K, gradient_from=1.0)
    np.testing.assert_allclose(truncated, jax.grad(two_stage)(K), rtol=1e-11, atol=1e-13)
    batched = jax.jit(jax.vmap(jax.grad(lambda K: loss(K, gradient_from=1.0))))(jnp.stack([K, 2 * K]))
    np.testing.assert_allclose(batched[0], truncated, rtol=1e-12, atol=1e-14)
    assert np.abs(full - truncated).max() > 1e-2  # the burn-in's share of the gradient is gone
    np.testing.assert_array_equal(jax.grad(loss)(K, gradient_from=0.0), full)
    assert loss(K) == loss(K, gradient_from=1.1)
    np.testing.assert_array_equal(jax.grad(loss, argnums=1)(K, theta0, 0.5), np.zeros(6))


def test_gradient_from_cuts_the_delay_buffer_too():
    """With sender delays the buffered past before t_b is constant as well: against a hand-written
    delayed Euler loop whose whole history is stopped at step b."""
    K, omega, theta0, ts = _truncation_problem()
    d = np.array([0, 1, 2, 3, 0, 5])
    b, dt = 8, 0.1

    def by_hand(K):
        hist = [theta0]
        for k in range(20):
            if k == b:
                hist = [jax.lax.stop_gradient(h) for h in hist]
            th = hist[-1]
            src = jnp.stack([hist[max(k - int(dj), 0)][j] for j, dj in enumerate(d)])
            hist.append(th + dt * (omega + jnp.sum(K * jnp.sin(src[None, :] - th[:, None]), axis=1)))
        return jnp.sum(jnp.sin(jnp.stack(hist[11:])) * jnp.arange(1, 7))

    def ours(K):
        model = kj.Kuramoto(omega, kj.Dense(K), delays=jnp.asarray(d * dt))
        sol = kj.simulate(model, theta0, t1=2.0, dt=dt, ts=ts, solver="euler", gradient_from=b * dt)
        return jnp.sum(jnp.sin(sol.theta) * jnp.arange(1, 7))

    np.testing.assert_allclose(ours(K), by_hand(K), rtol=1e-12)
    np.testing.assert_allclose(jax.grad(ours)(K), jax.grad(by_hand)(K), rtol=1e-10, atol=1e-12)


def test_gradient_from_rejects_what_it_cannot_do():
    K, omega, theta0, ts = _truncation_problem()
    model = kj.Kuramoto(omega, kj.Dense(K))
    with pytest.raises(ValueError, match=r"`gradient_from` must lie in \[t0, first save time\] = \[0.0, 1.1"):
        kj.simulate(model, theta0, t1=2.0, dt=0.1, ts=ts, solver="euler", gradient_from=1.5)
    with pytest.raises(ValueError, match="`gradient_from - t0`"):
        kj.simulate(model, theta0, t1=2.0, dt=0.1, ts=ts, solver="euler", gradient_from=0.55)
    with pytest.raises(ValueError, match="`gradient_from` needs a fixed-step solve.*'tsit5'"):
        kj.simulate(model, theta0, t1=2.0, dt=0.1, ts=ts, solver="tsit5", gradient_from=0.5)
    with pytest.raises(ValueError, match="`gradient_from` needs a fixed-step solve.*got dt=None"):
        kj.simulate(model, theta0, t1=2.0, ts=ts, solver="tsit5", gradient_from=0.5)
    with pytest.raises(ValueError, match="`gradient_from` is not used by StuartLandau"):
        kj.simulate(kj.StuartLandau(omega, kj.Dense(K)), jnp.ones(6, complex), t1=1.0, dt=0.1, gradient_from=0.5)
