"""API behaviour of the core: transforms, gradients, saving, delays, errors."""

import re

import diffrax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kuramoto_jax as kj
from _gradcheck import fd_check

# Physics and gradient checks at tight tolerances: float64.
pytestmark = pytest.mark.x64


def _network(n=6, seed=0):
    rng = np.random.default_rng(seed)
    omega = rng.normal(0.0, 1.0, n)
    K = rng.uniform(0.0, 1.0, (n, n))
    np.fill_diagonal(K, 0.0)
    return omega, K, rng.uniform(0, 2 * np.pi, n)


def test_issue_api_shapes():
    omega, K, theta0 = _network(5)
    save_times = jnp.linspace(0.0, 1.0, 4)
    sol = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=1.0, dt=0.01, ts=save_times, solver="rk4")
    assert sol.ts.shape == (4,) and sol.theta.shape == (4, 5)
    sol1 = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=1.0, dt=0.01)
    assert sol1.theta.shape == (1, 5)
    np.testing.assert_allclose(sol1.theta[0], sol.theta[-1], atol=1e-12)
    R, psi = kj.order_parameter(sol.theta)
    assert R.shape == psi.shape == (4,)
    sol_obj = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=1.0, dt=0.01, solver=diffrax.Heun())
    assert sol_obj.theta.shape == (1, 5)


def test_observe_saves_only_observables():
    omega, K, theta0 = _network(5, 1)
    model = kj.Kuramoto(omega, kj.Dense(K))
    ts = jnp.linspace(0, 1, 5)
    full = kj.simulate(model, theta0, t1=1.0, dt=0.01, ts=ts)
    obs = kj.simulate(model, theta0, t1=1.0, dt=0.01, ts=ts, observe=lambda th: kj.order_parameters(th, (1, 2)))
    assert obs.theta is None and obs.observables.shape == (5, 2, 2)
    np.testing.assert_allclose(obs.observables, kj.order_parameters(full.theta, (1, 2)), atol=1e-12)


def test_jit_no_recompile_and_vmap_matches_loop():
    omega, K, theta0 = _network(6, 2)
    traces = []

    @jax.jit
    def final_R(omega, K, theta0):
        traces.append(1)
        sol = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=1.0, dt=0.05)
        return kj.order_parameter(sol.theta[-1])[0]

    a = final_R(omega, K, theta0)
    b = final_R(omega + 0.1, K * 1.5, theta0 - 0.2)
    assert len(traces) == 1 and not np.isclose(a, b)
    thetas = jnp.stack([theta0, theta0 + 1.0, theta0 * 0.5])
    Ks = jnp.stack([K, 2 * K, 0.5 * K])
    batched = jax.vmap(final_R, in_axes=(None, 0, 0))(omega, Ks, thetas)
    loop = jnp.array([final_R(omega, Ks[i], thetas[i]) for i in range(3)])
    np.testing.assert_allclose(batched, loop, atol=1e-12)



def test_gradients_match_finite_differences():
    """∂/∂(ω, K, b, θ0) of a loss of the final state, dense, sparse and mean-field couplings."""
    omega, K, theta0 = _network(4, 3)
    b = np.array([0.1, -0.2, 0.3, 0.0])
    w = jnp.array([0.3, -1.0, 0.5, 2.0])
    senders, receivers = np.array([0, 1, 2, 3, 1]), np.array([1, 2, 3, 0, 3])
    sizes = [4, 16, 4, 4]

    def final_loss(omega, coupling, b, theta0):
        sol = kj.simulate(kj.Kuramoto(omega, coupling, field=b), theta0, t1=1.0, dt=0.05)
        return jnp.sum(w * jnp.sin(sol.theta[-1])) + kj.order_parameter(sol.theta[-1])[0]

    def dense(x):  # all parameters in one flat vector: one compilation for the whole check
        o, k, bb, t = jnp.split(x, np.cumsum(sizes)[:-1])
        return final_loss(o, kj.Dense(k.reshape(4, 4)), bb, t)

    fd_check(dense, jnp.concatenate([omega, K.ravel(), b, theta0]))
    fd_check(lambda k: final_loss(omega, kj.Sparse(senders, receivers, k, 4, sort=False), b, theta0), jnp.array([0.5, 1.0, 0.7, 0.2, 0.9]))
    fd_check(lambda k: final_loss(omega, kj.MeanField(k), b, theta0), jnp.asarray(1.7))


def test_zero_delays_reproduce_undelayed_exactly():
    omega, K, theta0 = _network(6, 4)
    ts = jnp.linspace(0, 2, 5)
    ref = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=2.0, dt=0.05, ts=ts).theta
    for solver in ("euler", "heun", "rk4"):
        ref = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=2.0, dt=0.05, ts=ts, solver=solver).theta

        # Traced delays force the delay integrator (history buffer) even though they are all zero.
        @jax.jit
        def delayed(tau):
            return kj.simulate(
                kj.Kuramoto(omega, kj.Dense(K), delays=tau), theta0, t1=2.0, dt=0.05, ts=ts, solver=solver, max_delay_steps=3
            ).theta

        np.testing.assert_allclose(delayed(jnp.zeros(6)), ref, atol=1e-13, rtol=0)


def _euler_dde_numpy(omega, K, theta0, d, dt, steps):
    """Independent reference: Euler for θ̇_i = ω_i + Σ_j K_ij sin(θ_j(t − d_j dt) − θ_i), constant history."""
    hist = [np.array(theta0, float)]
    for k in range(steps):
        th = hist[-1]
        src = np.array([hist[max(k - d[j], 0)][j] for j in range(len(th))])
        hist.append(th + dt * (omega + (K * np.sin(src[None, :] - th[:, None])).sum(1)))
    return np.array(hist)


def test_delays_against_independent_euler_reference_and_gradient():
    omega, K, theta0 = _network(5, 6)
    d = np.array([0, 1, 3, 2, 5])
    dt = 0.1
    model = kj.Kuramoto(omega, kj.Dense(K), delays=d * dt)
    ts = jnp.arange(0, 41) * dt
    sol = kj.simulate(model, theta0, t1=4.0, dt=dt, ts=ts, solver="euler")
    ref = _euler_dde_numpy(omega, K, theta0, d, dt, 40)
    np.testing.assert_allclose(sol.theta, ref, atol=1e-12)
    # Differentiable through the history buffer.
    f = lambda x: jnp.sum(jnp.sin(kj.simulate(kj.Kuramoto(x, kj.Dense(K), delays=d * dt), theta0, t1=2.0, dt=dt, solver="rk4").theta[-1]))
    fd_check(f, jnp.asarray(omega))


def test_delayed_rk4_converges():
    omega, K, theta0 = _network(4, 7)
    tau = np.array([0.0, 0.4, 0.8, 0.2])
    fine = kj.simulate(kj.Kuramoto(omega, kj.Dense(2 * K), delays=tau), theta0, t1=4.0, dt=0.0025, solver="rk4").theta[-1]
    errs = [
        float(jnp.max(jnp.abs(kj.simulate(kj.Kuramoto(omega, kj.Dense(2 * K), delays=tau), theta0, t1=4.0, dt=dt, solver="rk4").theta[-1] - fine)))
        for dt in (0.2, 0.1)
    ]
    # Hermite interpolation of the history keeps RK4 at (nearly) fourth order with delays.
    assert errs[1] < errs[0] / 10, errs


def test_solver_failures_are_reported():
    omega, K, theta0 = _network(4, 8)
    model = kj.Kuramoto(omega, kj.Dense(K))
    with pytest.raises(Exception, match=re.compile("max_steps|maximum number", re.I)):
        kj.simulate(model, theta0, t1=100.0, dt=0.1, solver="tsit5", max_steps=5)
    bad = kj.Kuramoto(omega, kj.Dense(K), drive=lambda t: jnp.where(t > 0.5, jnp.nan, 0.0))
    with pytest.raises(Exception, match="NaN or inf"):
        jax.block_until_ready(kj.simulate(bad, theta0, t1=1.0, dt=0.1).theta)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda o, K, t: kj.Kuramoto(o, kj.Dense(np.ones((3, 3)))), r"`coupling` is for 3 oscillators but `omega` has length 4"),
        (lambda o, K, t: kj.simulate(kj.Kuramoto(o, kj.Dense(K)), t[:3], t1=1.0, dt=0.1), r"`theta0` must have length 4"),
        (lambda o, K, t: kj.Kuramoto(o * np.nan, kj.Dense(K)), r"`omega` must be finite"),
        (lambda o, K, t: kj.simulate(kj.Kuramoto(o, kj.Dense(K)), t, t1=1.0, dt=0.0), r"`dt` must be > 0, got 0.0"),
        (lambda o, K, t: kj.simulate(kj.Kuramoto(o, kj.Dense(K)), t, t1=1.0, dt=-0.1), r"`dt` must be > 0"),
        (lambda o, K, t: kj.simulate(kj.Kuramoto(o, kj.Dense(K)), t, t0=2.0, t1=1.0, dt=0.1), r"`t1` must be > t0"),
        (lambda o, K, t: kj.Kuramoto(o, kj.Dense(K), delays=[0, -1, 0, 0]), r"`delays` must be >= 0"),
        (lambda o, K, t: kj.simulate(kj.Kuramoto(o, kj.Dense(K), delays=[0, 0.15, 0, 0]), t, t1=1.0, dt=0.1), r"`delays` must be whole numbers of steps"),
        (lambda o, K, t: kj.simulate(kj.Kuramoto(o, kj.Dense(K), noise=0.1), t, t1=1.0, dt=0.1), r"no `key` was given"),
        (lambda o, K, t: kj.simulate(kj.Kuramoto(o, kj.Dense(K)), t, t1=1.0, dt=0.1, solver="rk45"), r"`solver` must be one of \['dopri5'"),
        (lambda o, K, t: kj.simulate(kj.Kuramoto(o, kj.Dense(K), noise=0.1), t, t1=1.0, dt=0.1, solver="rk4", key=jax.random.key(0)), r"cannot integrate noise"),
        (lambda o, K, t: kj.Dense(np.ones((3, 4))), r"`K` must be a square"),
        (lambda o, K, t: kj.simulate(kj.Kuramoto(o, kj.Dense(K)), t, t1=1.0, dt=0.1, ts=[0.5, 2.0]), r"`ts` must lie in \[t0, t1\]"),
        (lambda o, K, t: kj.Sparse([0, 5], [1, 2], 1.0, 4), r"`senders` must lie in \[0, 4\)"),
        (lambda o, K, t: kj.Kuramoto(o, K), r"`coupling` must be kuramoto_jax.MeanField"),
        (lambda o, K, t: kj.simulate(kj.Kuramoto(o, kj.Dense(K)), t, t1=1.0), r"`dt` is required"),
        (lambda o, K, t: kj.theory.critical_coupling("cosine"), r"`law` must be one of"),
    ],
)
def test_bad_input_is_named_before_tracing(call, match):
    omega, K, theta0 = _network(4, 9)
    with pytest.raises((ValueError, TypeError), match=match):
        call(omega, K, theta0)


def test_observables():
    n = 12
    splay_state = 2 * np.pi * np.arange(n) / n
    R, _ = kj.order_parameter(splay_state)
    assert abs(float(R)) < 1e-7
    R1, psi1 = kj.order_parameter(np.full(n, 0.4))
    assert float(R1) == pytest.approx(1.0) and float(psi1) == pytest.approx(0.4)
    R2, _ = kj.order_parameter(np.concatenate([np.zeros(6), np.full(6, np.pi)]), k=2)
    assert float(R2) == pytest.approx(1.0)  # two antipodal clusters: Z_1 = 0, |Z_2| = 1
    np.testing.assert_allclose(abs(kj.complex_order_parameter(splay_state, k=n)), 1.0)
    assert float(kj.circular_variance(np.zeros(n))) == pytest.approx(0.0, abs=1e-7)
    labels = np.repeat(np.arange(3), 4)
    clustered = np.repeat(2 * np.pi * np.arange(3) / 3, 4)
    Rg, psig = kj.group_order_parameter(clustered, labels, 3)
    np.testing.assert_allclose(Rg, 1.0, atol=1e-6)
    assert float(kj.splay(psig)) == pytest.approx(0.0, abs=1e-12)
    assert float(kj.splay(jnp.zeros(3))) == pytest.approx(1.0)
    assert float(kj.cluster_loss(clustered, labels, 3)) == pytest.approx(0.0, abs=1e-6)
    # Global synchrony: (0 + S_max) / (1 + S_max) with S_max = 3/2 for k = 3.
    assert float(kj.cluster_loss(np.zeros(n), labels, 3)) == pytest.approx(0.6, abs=1e-6)
    ts = jnp.linspace(0, 10, 101)
    omega = jnp.array([0.5, -0.2, 0.5])
    theta = ts[:, None] * omega[None, :]
    np.testing.assert_allclose(kj.effective_frequencies(theta, ts, burn_in=5.0), omega, atol=1e-12)
    assert float(kj.locked_fraction(omega)) == pytest.approx(2 / 3)
    x = jnp.stack([jnp.ones(101), ts], -1)
    np.testing.assert_allclose(kj.time_average(x, ts, burn_in=5.0), [1.0, 7.5], atol=1e-12)


def test_float32_fast_path():
    omega, K, theta0 = _network(6, 10)
    sol32 = kj.simulate(kj.Kuramoto(omega.astype(np.float32), kj.Dense(K.astype(np.float32))), theta0.astype(np.float32), t1=1.0, dt=np.float32(0.05))
    sol64 = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=1.0, dt=0.05)
    assert sol32.theta.dtype == jnp.float32
    np.testing.assert_allclose(sol32.theta, sol64.theta, atol=1e-5)


@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_cluster_loss_matches_the_papers_normalised_formula(k):
    """ℓ = (V̄ + S)/(1 + S_max) (Eq. 5-6 scaled to [0, 1]), written out independently in NumPy."""
    rng = np.random.default_rng(k)
    labels = rng.permutation(np.arange(40) % k)
    theta = rng.normal(0.0, 1.5, (3, 40)) + labels * 0.7
    z = np.array([[np.exp(1j * t[labels == l]).mean() for l in range(k)] for t in theta])
    vbar = 1 - np.abs(z).mean(-1)
    psi = np.angle(z)
    S = sum(np.abs(np.exp(1j * g * psi).sum(-1)) ** 2 / (2 * g * g * k) for g in range(1, k // 2 + 1))
    smax = sum(k / (2 * g * g) for g in range(1, k // 2 + 1))
    expected = (vbar + S) / (1 + smax)
    np.testing.assert_allclose(kj.cluster_loss(jnp.asarray(theta), jnp.asarray(labels), k), expected, rtol=1e-5)
