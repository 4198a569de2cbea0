"""Models beyond the phase-only core, checked against closed forms and finite differences.

Stuart–Landau amplitudes, triadic coupling and Daido harmonics, adaptive couplings, multiplex
networks and the Ott–Antonsen reduction, all through `kj.simulate` / `kj.theory`.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kuramoto_jax as kj
from _gradcheck import fd_check

# Physics and gradient checks at tight tolerances: float64.
pytestmark = pytest.mark.x64



def _splay_lorentzian(n, r0):
    """Quantile Lorentzian ω (Δ = 1) and phases on the Ott–Antonsen manifold with ⟨e^{iθ}⟩ = r0.

    The Möbius map e^{iθ} = (e^{iφ} + r0)/(1 + r0 e^{iφ}) sends uniform φ to the Poisson kernel of
    mean r0; φ_i = 2π frac(i g) (g the golden ratio) pairs them with the ω quantiles without
    correlation and with a finite-size error far below the 1/sqrt(N) of random phases.
    """
    omega = kj.theory.deterministic_frequencies(n, "lorentzian", 1.0)
    phi = 2 * np.pi * np.mod((np.arange(n) + 0.5) * (math.sqrt(5) - 1) / 2, 1.0)
    w = (np.exp(1j * phi) + r0) / (1 + r0 * np.exp(1j * phi))
    return omega, np.angle(w)


# ---------------------------------------------------------------- Stuart–Landau


def test_stuart_landau_single_oscillator_limit_cycle():
    lam, w, z0 = 2.0, 1.3, 0.3 + 0.1j
    ts = jnp.linspace(0.0, 3.0, 7)
    sol = kj.simulate(kj.StuartLandau([w], kj.MeanField(0.0), lam=lam), jnp.array([z0]), t1=3.0, dt=1e-3, ts=ts)
    r0 = abs(z0)
    r = np.sqrt(lam / (1 + (lam / r0**2 - 1) * np.exp(-2 * lam * np.asarray(ts))))
    np.testing.assert_allclose(kj.amplitudes(sol.state[:, 0]), r, atol=1e-11)
    np.testing.assert_allclose(np.angle(sol.state[:, 0] * np.exp(-1j * w * np.asarray(ts))), np.angle(z0), atol=1e-11)


def test_amplitude_death_region_of_two_detuned_oscillators():
    """Aronson–Ermentrout–Kopell (1990): z = 0 is stable iff K > λ and Δω > 2 sqrt(λ(2K − λ)).

    Inside, |z| decays at the rate −Re μ of the linearisation, μ = λ − K + sqrt(K² − Δω²/4).
    """
    lam = 1.0

    @jax.jit
    def final_amplitude(K, dw):
        model = kj.StuartLandau(jnp.stack([-dw / 2, dw / 2]), kj.Dense(jnp.array([[0.0, 1.0], [1.0, 0.0]]) * K), lam=lam)
        ts = jnp.array([30.0, 40.0])
        sol = kj.simulate(model, jnp.array([0.5 + 0.1j, -0.2 + 0.4j]), t1=40.0, dt=0.01, ts=ts)
        return kj.mean_amplitude(sol.state)

    K = 2.0
    dw_c = 2 * math.sqrt(lam * (2 * K - lam))  # 3.464
    for dw in (0.97 * dw_c, 0.9 * dw_c):
        assert float(final_amplitude(K, dw)[-1]) > 0.1, dw  # oscillating (alive)
    for dw in (1.05 * dw_c, 1.12 * dw_c):  # Δω < 2K: real eigenvalues, the slower mode dominates
        a30, a40 = np.asarray(final_amplitude(K, dw))
        mu = lam - K + math.sqrt(K * K - dw * dw / 4)
        assert a40 < 1e-3
        assert math.log(a40 / a30) / 10.0 == pytest.approx(mu, rel=1e-3), dw
    assert float(final_amplitude(K, 1.3 * dw_c)[-1]) < 1e-3  # Δω > 2K: decay at rate K − λ, beating
    # K < λ: no death however large the detuning.
    assert float(final_amplitude(0.8, 12.0)[-1]) > 0.1


def test_stuart_landau_three_couplings_agree_and_vmap():
    n, K = 12, 1.5
    rng = np.random.default_rng(1)
    omega = rng.normal(size=n)
    z0 = rng.normal(size=n) + 1j * rng.normal(size=n)
    ts = jnp.linspace(0.0, 2.0, 5)
    sols = [
        kj.simulate(kj.StuartLandau(omega, c, lam=0.7), z0, t1=2.0, dt=0.01, ts=ts).state
        for c in (kj.MeanField(K), kj.Dense(np.full((n, n), K / n)), kj.Sparse.from_dense(np.full((n, n), K / n)))
    ]
    np.testing.assert_allclose(sols[0], sols[1], atol=1e-12)
    np.testing.assert_allclose(sols[0], sols[2], atol=1e-12)

    def final(Kc):
        return kj.mean_field_amplitude(kj.simulate(kj.StuartLandau(omega, kj.MeanField(Kc), lam=0.7), z0, t1=2.0, dt=0.01).state[-1])

    Ks = jnp.array([0.5, 1.5, 3.0])
    np.testing.assert_allclose(jax.vmap(final)(Ks), [final(k) for k in Ks], atol=1e-12)


def test_phase_reduction_to_kuramoto_at_strong_amplitude_attraction():
    """For λ ≫ K the phases follow θ̇_i = ω_i + Σ_j K_ij sin(θ_j − θ_i) with error O(K/λ)."""
    rng = np.random.default_rng(2)
    n = 6
    omega = rng.normal(size=n)
    K = rng.uniform(0, 0.5, (n, n))
    np.fill_diagonal(K, 0.0)
    theta0 = rng.uniform(0, 2 * np.pi, n)
    ts = jnp.linspace(0.0, 4.0, 5)
    ref = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), theta0, t1=4.0, dt=2e-3, ts=ts).theta
    errs = []
    for lam in (25.0, 100.0):
        z0 = math.sqrt(lam) * np.exp(1j * theta0)
        z = kj.simulate(kj.StuartLandau(omega, kj.Dense(K), lam=lam), z0, t1=4.0, dt=2e-3, ts=ts).state
        dphi = np.angle(np.asarray(z) * np.exp(-1j * np.asarray(ref)))
        errs.append(np.max(np.abs(dphi)))
    assert errs[1] < 0.03 and 3.0 < errs[0] / errs[1] < 5.0, errs  # first order in 1/λ


def test_stuart_landau_gradients_match_finite_differences():
    rng = np.random.default_rng(3)
    n = 3
    omega = rng.normal(size=n)
    z0 = rng.normal(size=n) + 1j * rng.normal(size=n)
    sizes = [n, n, n * n]

    def loss(x):
        o, lam, k = jnp.split(x, np.cumsum(sizes)[:-1])
        sol = kj.simulate(kj.StuartLandau(o, kj.Dense(k.reshape(n, n)), lam=lam), z0, t1=1.0, dt=0.05)
        z = sol.state[-1]
        return jnp.sum(jnp.real(z) * jnp.arange(1, n + 1)) + kj.mean_field_amplitude(z)

    fd_check(loss, jnp.concatenate([omega, jnp.array([0.5, 1.0, 1.5]), rng.uniform(0, 1, n * n)]))


# ---------------------------------------------------------------- higher order and harmonics


def test_triadic_all_to_all_equals_complete_triangle_list():
    n = 9
    rng = np.random.default_rng(4)
    omega, theta0 = rng.normal(size=n), rng.uniform(0, 2 * np.pi, n)
    K2 = 3.0
    ts = jnp.linspace(0.0, 3.0, 4)
    a = kj.simulate(kj.HigherOrderKuramoto(omega, kj.MeanField(1.0), kj.TriadicMeanField(K2, distinct=True)), theta0, t1=3.0, dt=0.01, ts=ts)
    b = kj.simulate(kj.HigherOrderKuramoto(omega, kj.MeanField(1.0), kj.Triangles.complete(n, K2 / n**2)), theta0, t1=3.0, dt=0.01, ts=ts)
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-12)
    # Both forms, O(N) and triangle list, against the brute-force sums over (j, l).
    th = theta0
    distinct = np.array([[[len({i, j, l}) == 3 for l in range(n)] for j in range(n)] for i in range(n)])
    terms = {
        "2j-l-i": np.sin(2 * th[None, :, None] - th[None, None, :] - th[:, None, None]),  # [i, j, l]
        "j+l-2i": np.sin(th[None, :, None] + th[None, None, :] - 2 * th[:, None, None]),
    }
    for form, pair in terms.items():
        np.testing.assert_allclose(kj.TriadicMeanField(K2, form=form).interaction(jnp.asarray(th)), K2 / n**2 * pair.sum((1, 2)), atol=1e-13)
        exact = K2 / n**2 * (pair * distinct).sum((1, 2))
        np.testing.assert_allclose(kj.TriadicMeanField(K2, distinct=True, form=form).interaction(jnp.asarray(th)), exact, atol=1e-13)
        np.testing.assert_allclose(kj.Triangles.complete(n, K2 / n**2, form=form).interaction(jnp.asarray(th)), exact, atol=1e-13)


def test_daido_harmonics_match_the_pairwise_sum_for_every_coupling():
    n = 7
    rng = np.random.default_rng(5)
    omega, th = rng.normal(size=n), rng.uniform(0, 2 * np.pi, n)
    K = rng.uniform(0, 1, (n, n)) * (rng.uniform(size=(n, n)) < 0.6)
    a, b = np.array([1.0, -0.4, 0.2]), np.array([0.1, 0.3, 0.0])
    diff = th[None, :] - th[:, None]
    gamma = sum(a[k] * np.sin((k + 1) * diff) + b[k] * np.cos((k + 1) * diff) for k in range(3))
    for coupling, Kmat in ((kj.Dense(K), K), (kj.Sparse.from_dense(K), K), (kj.MeanField(2.0), np.full((n, n), 2.0 / n))):
        model = kj.HigherOrderKuramoto(omega, coupling, sin_harmonics=a, cos_harmonics=b)
        np.testing.assert_allclose(model.vector_field(0.0, jnp.asarray(th)), omega + (Kmat * gamma).sum(1), atol=1e-13)
    # The first harmonic alone is the Kuramoto model, to rounding.
    ts = jnp.linspace(0, 2, 3)
    ref = kj.simulate(kj.Kuramoto(omega, kj.Dense(K)), th, t1=2.0, dt=0.01, ts=ts).theta
    np.testing.assert_allclose(kj.simulate(kj.HigherOrderKuramoto(omega, kj.Dense(K)), th, t1=2.0, dt=0.01, ts=ts).theta, ref, atol=1e-12)


def test_triadic_abrupt_transition_and_bistability_against_self_consistency():
    """Skardal & Arenas (2019), Lorentzian Δ = 1, K₂ = 6: below K_c = 2Δ the synchronised branch
    r₊ coexists with incoherence down to K₁ = sqrt(8ΔK₂) − K₂ ≈ 0.93."""
    n, K2 = 3000, 6.0
    omega, theta_inc = _splay_lorentzian(n, 0.0)
    ts = jnp.linspace(60.0, 80.0, 11)
    observe = lambda th: kj.order_parameter(th)[0]

    @jax.jit
    def mean_r(K1, theta0):
        model = kj.HigherOrderKuramoto(omega, kj.MeanField(K1), kj.TriadicMeanField(K2))
        return jnp.mean(kj.simulate(model, theta0, t1=80.0, dt=0.1, ts=ts, observe=observe).observables)

    sync = np.zeros(n)
    for K1 in (1.2, 1.6, 2.5):
        r_minus, r_plus = kj.theory.triadic_stationary_order_parameter(K1, K2)
        assert abs(float(mean_r(K1, sync)) - r_plus) < 0.01, (K1, r_plus)
    # Bistable below K_c: incoherence persists; above K_c it is unstable and jumps to r₊.
    assert float(mean_r(1.6, theta_inc)) < 0.05
    assert float(mean_r(2.5, theta_inc)) == pytest.approx(kj.theory.triadic_stationary_order_parameter(2.5, K2)[1], abs=0.01)
    # Below the saddle-node K₁ ≈ 0.93 the synchronised branch is gone.
    assert np.all(np.isnan(kj.theory.triadic_stationary_order_parameter(0.8, K2)))
    assert float(mean_r(0.8, sync)) < 0.05


def test_higher_order_gradients_match_finite_differences():
    n = 5
    rng = np.random.default_rng(6)
    omega, theta0 = rng.normal(size=n), rng.uniform(0, 2 * np.pi, n)
    tri = np.array([[0, 1, 2], [1, 2, 3], [2, 3, 4], [0, 3, 4]])

    def loss(x):
        K1, K2, a2, w = x[0], x[1], x[2], x[3:]
        model = kj.HigherOrderKuramoto(
            omega, kj.MeanField(K1), kj.Triangles(tri, w, n), sin_harmonics=jnp.stack([jnp.ones(()), a2])
        )
        th = kj.simulate(model, theta0, t1=1.0, dt=0.05).theta[-1]
        return jnp.sum(jnp.sin(th) * jnp.arange(n)) + kj.TriadicMeanField(K2).interaction(th).sum()

    fd_check(loss, jnp.concatenate([jnp.array([1.3, 0.7, 0.4]), rng.uniform(0.5, 1.5, 4)]))


# ---------------------------------------------------------------- adaptive couplings


@pytest.mark.parametrize("sparse", [False, True])
def test_adaptive_two_oscillator_fixed_point(sparse):
    """β = 0: K₁₂ = K₂₁ = α cos φ* and sin 2φ* = Δω/α at the stable phase-locked state."""
    dw, alpha = 0.5, 1.0
    omega = jnp.array([-dw / 2, dw / 2])
    coupling = kj.Sparse([1, 0], [0, 1], [0.2, 0.5], 2) if sparse else kj.Dense(jnp.array([[0.0, 0.2], [0.5, 0.0]]))
    model = kj.AdaptiveKuramoto(omega, coupling, epsilon=0.5, alpha=alpha)
    state = kj.simulate(model, jnp.array([0.0, 0.1]), t1=80.0, dt=0.02).state
    phi = 0.5 * math.asin(dw / alpha)
    assert float(state.theta[-1, 1] - state.theta[-1, 0]) == pytest.approx(phi, abs=1e-9)
    w = np.asarray(state.weights[-1])
    offdiag = w if sparse else w[[0, 1], [1, 0]]
    np.testing.assert_allclose(offdiag, alpha * math.cos(phi), atol=1e-9)


def test_adaptive_symmetry_preserved_for_even_rules_only():
    n = 6
    rng = np.random.default_rng(7)
    omega, theta0 = rng.normal(size=n), rng.uniform(0, 2 * np.pi, n)
    K0 = rng.uniform(0, 1, (n, n))
    K0 = K0 + K0.T
    ts = jnp.linspace(0, 5, 6)
    for beta, symmetric in ((0.0, True), (math.pi, True), (0.6, False)):
        model = kj.AdaptiveKuramoto(omega, kj.Dense(K0), epsilon=0.3, beta=beta, scale=1 / n)
        W = np.asarray(kj.simulate(model, theta0, t1=5.0, dt=0.01, ts=ts).state.weights)
        asym = np.max(np.abs(W - np.swapaxes(W, 1, 2)))
        assert (asym < 1e-13) if symmetric else (asym > 1e-2), (beta, asym)
    # Dense and sparse (all edges) agree.
    s, r = np.nonzero(K0.T)
    sparse = kj.AdaptiveKuramoto(omega, kj.Sparse(s, r, K0[r, s], n, sort=False), epsilon=0.3, beta=0.6, scale=1 / n)
    dense = kj.AdaptiveKuramoto(omega, kj.Dense(K0), epsilon=0.3, beta=0.6, scale=1 / n)
    a = kj.simulate(sparse, theta0, t1=2.0, dt=0.01).state
    b = kj.simulate(dense, theta0, t1=2.0, dt=0.01).state
    np.testing.assert_allclose(a.theta, b.theta, atol=1e-12)
    np.testing.assert_allclose(a.weights[-1], b.weights[-1][r, s], atol=1e-12)


def test_adaptive_gradients_match_finite_differences():
    n = 3
    rng = np.random.default_rng(8)
    omega, theta0, K0 = rng.normal(size=n), rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 1, (n, n))

    def loss(x):
        model = kj.AdaptiveKuramoto(omega, kj.Dense(K0), epsilon=x[0], alpha=x[1], beta=x[2])
        st = kj.simulate(model, kj.AdaptiveState(jnp.asarray(theta0), x[3:].reshape(n, n)), t1=1.0, dt=0.05).state
        return jnp.sum(jnp.sin(st.theta[-1]) * jnp.arange(n)) + jnp.sum(st.weights[-1] ** 2)

    fd_check(loss, jnp.concatenate([jnp.array([0.4, 1.2, 0.3]), jnp.asarray(K0.ravel())]))


def test_vmap_matches_loop_for_higher_order_and_adaptive_models():
    n = 5
    rng = np.random.default_rng(10)
    omega, theta0, K0 = rng.normal(size=n), rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 1, (n, n))
    tri = np.array([[0, 1, 2], [2, 3, 4]])

    def higher(K2):
        model = kj.HigherOrderKuramoto(omega, kj.Sparse.from_dense(K0), kj.Triangles(tri, K2, n), sin_harmonics=[1.0, 0.5])
        return kj.simulate(model, theta0, t1=1.0, dt=0.05).theta[-1]

    def adaptive(eps):
        return kj.simulate(kj.AdaptiveKuramoto(omega, kj.Dense(K0), epsilon=eps), theta0, t1=1.0, dt=0.05).state.weights[-1]

    xs = jnp.array([0.0, 0.5, 2.0])
    for f in (higher, adaptive):
        np.testing.assert_allclose(jax.vmap(f)(xs), jnp.stack([f(x) for x in xs]), atol=1e-12)


# ---------------------------------------------------------------- multiplex


def test_multiplex_equals_its_block_matrix_and_gradient():
    n = 5
    rng = np.random.default_rng(9)
    K = rng.uniform(0, 1, (n, n))
    layers = [kj.MeanField(2.0), kj.Dense(K), kj.Sparse.from_dense(K * (K > 0.5))]
    D = rng.uniform(0, 1, (3, 3))
    plex = kj.Multiplex(layers, D)
    omega, theta0 = rng.normal(size=3 * n), rng.uniform(0, 2 * np.pi, 3 * n)
    a = kj.simulate(kj.Kuramoto(omega, plex), theta0, t1=2.0, dt=0.01).theta
    b = kj.simulate(kj.Kuramoto(omega, kj.Dense(plex.to_dense())), theta0, t1=2.0, dt=0.01).theta
    np.testing.assert_allclose(a, b, atol=1e-12)
    z = kj.simulate(kj.StuartLandau(omega, plex), np.exp(1j * theta0), t1=1.0, dt=0.01).state
    zd = kj.simulate(kj.StuartLandau(omega, kj.Dense(plex.to_dense())), np.exp(1j * theta0), t1=1.0, dt=0.01).state
    np.testing.assert_allclose(z, zd, atol=1e-12)
    # Two identical layers, uncoupled inside, with inter-layer coupling d: each replica pair locks
    # at φ = arcsin(Δω / 2d) when the layers are detuned by Δω.
    d, dw = 0.8, 0.6
    pair = kj.Multiplex([kj.MeanField(0.0), kj.MeanField(0.0)], d, n=1)
    th = kj.simulate(kj.Kuramoto([0.0, dw], pair), [0.0, 0.0], t1=40.0, dt=0.01).theta[-1]
    assert float(th[1] - th[0]) == pytest.approx(math.asin(dw / (2 * d)), abs=1e-9)

    def loss(dd):
        th = kj.simulate(kj.Kuramoto(omega, kj.Multiplex(layers, dd)), theta0, t1=1.0, dt=0.05).theta[-1]
        return jnp.sum(jnp.sin(th) * jnp.arange(3 * n))

    fd_check(loss, jnp.asarray(D))


# ---------------------------------------------------------------- Ott–Antonsen


def test_ott_antonsen_closed_form_relaxation_and_stationary_r():
    ts = jnp.linspace(0.0, 50.0, 51)
    for K in (5.0, 2.0, 1.0):
        z = kj.theory.ott_antonsen(K, 1.0, 0.1, ts)
        np.testing.assert_allclose(jnp.abs(z), kj.theory.ott_antonsen_relaxation(K, 1.0, 0.1, ts), atol=1e-8)
    assert float(jnp.abs(kj.theory.ott_antonsen(5.0, 1.0, 0.1, jnp.array([200.0]))[0])) == pytest.approx(math.sqrt(1 - 2 / 5), abs=1e-9)
    # ω₀ rotates z: z(t) = e^{iω₀t} z(t)|_{ω₀=0}.
    z0 = kj.theory.ott_antonsen(4.0, 1.0, 0.2 + 0.1j, ts)
    zw = kj.theory.ott_antonsen(4.0, 1.0, 0.2 + 0.1j, ts, omega0=0.7)
    np.testing.assert_allclose(zw, z0 * jnp.exp(0.7j * ts), atol=1e-8)
    # A lag α: stationary R = sqrt(1 − 2Δ/(K cos α)).
    za = kj.theory.ott_antonsen(5.0, 1.0, 0.1, jnp.array([300.0]), lag=0.5)
    assert float(jnp.abs(za[0])) == pytest.approx(math.sqrt(1 - 2 / (5 * math.cos(0.5))), abs=1e-8)
    # Zero delay through the delay integrator reproduces the ODE (to RK4 accuracy).
    np.testing.assert_allclose(kj.theory.ott_antonsen(5.0, 1.0, 0.1, ts, delay=0.0, dt=0.05), kj.theory.ott_antonsen(5.0, 1.0, 0.1, ts), atol=1e-6)


def _oa_against_simulation(n, dt, t1=50.0, tol=0.01, field=0.0, lag=0.0, delay=None):
    omega, theta0 = _splay_lorentzian(n, 0.1)
    ts = jnp.linspace(0.0, t1, int(t1) + 1)
    worst = []
    for K in (5.0, 1.0):
        model = kj.Kuramoto(omega, kj.MeanField(K), field=field or None, lag=lag or None, delays=delay)
        sim = kj.simulate(model, theta0, t1=t1, dt=dt, ts=ts, observe=lambda th: kj.complex_order_parameter(th)).observables
        z = kj.theory.ott_antonsen(K, 1.0, 0.1, ts, field=field, lag=lag, delay=delay, dt=dt if delay else None)
        worst.append(float(jnp.max(jnp.abs(jnp.abs(sim) - jnp.abs(z)))))
    assert max(worst) < tol, worst
    return worst


def test_ott_antonsen_against_simulation_small_n():
    """A fast variant of the N = 10⁵ check: N = 5000, R(t) over [0, 50] for K = 5Δ and K = Δ."""
    _oa_against_simulation(5000, 0.1, tol=0.01)


def test_ott_antonsen_with_field_lag_and_delay_against_simulation():
    _oa_against_simulation(2000, 0.1, t1=20.0, tol=0.02, field=0.3, lag=0.4)
    _oa_against_simulation(2000, 0.1, t1=20.0, tol=0.02, delay=0.5)


@pytest.mark.slow
def test_ott_antonsen_against_n_1e5_simulation():
    """The acceptance check: |R_OA(t) − R_N(t)| < 0.01 on t ∈ [0, 50], N = 10⁵, K = 5Δ and K = Δ."""
    _oa_against_simulation(100_000, 0.05, tol=0.01)


def test_ott_antonsen_is_differentiable():
    ts = jnp.linspace(0.0, 5.0, 6)

    def loss(x):
        z = kj.theory.ott_antonsen(x[0], x[1], 0.1 + 0.05j, ts, omega0=x[2], field=x[3], lag=x[4])
        return jnp.sum(jnp.abs(z) ** 2) + jnp.real(z[-1])

    fd_check(loss, jnp.array([3.0, 0.8, 0.2, 0.1, 0.3]), rtol=1e-5)
    f = lambda K: jnp.abs(kj.theory.ott_antonsen(K, 1.0, 0.1, ts, delay=0.5, dt=0.05)[-1])
    fd_check(f, jnp.asarray(3.0), rtol=1e-5)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: kj.StuartLandau([0.0, 1.0], kj.Dense(np.ones((3, 3)))), r"`coupling` is for 3 oscillators"),
        (lambda: kj.simulate(kj.StuartLandau([0.0, 1.0], kj.MeanField(1.0)), [1.0], t1=1.0, dt=0.1), r"`z0` must have shape \(2,\)"),
        (lambda: kj.simulate(kj.StuartLandau([0.0], kj.MeanField(1.0)), [1.0], t1=1.0, dt=0.1, velocity0=[0.0]), r"`velocity0` is not used"),
        (lambda: kj.Triangles([[0, 1, 1]], 1.0, 3), r"three distinct nodes"),
        (lambda: kj.Triangles([[0, 1, 5]], 1.0, 3), r"`triangles` must hold nodes in \[0, 3\)"),
        (lambda: kj.HigherOrderKuramoto([0.0, 1.0], triadic=kj.Triangles([[0, 1, 2]], 1.0, 3)), r"`triadic` is for 3 oscillators"),
        (lambda: kj.AdaptiveKuramoto([0.0, 1.0], kj.MeanField(1.0), epsilon=0.1), r"`coupling` must be kuramoto_jax.Dense or Sparse"),
        (lambda: kj.AdaptiveKuramoto([0.0, 1.0], kj.Dense(np.ones((2, 2))), epsilon=-0.1), r"`epsilon` must be >= 0"),
        (lambda: kj.Multiplex([kj.Dense(np.ones((2, 2))), kj.Dense(np.ones((3, 3)))], 0.1), r"same n nodes"),
        (lambda: kj.Multiplex([kj.MeanField(1.0)], 0.1), r"`n` \(nodes per layer\) is required"),
        (lambda: kj.theory.ott_antonsen(1.0, 0.0, 0.1, [0.0, 1.0]), r"`delta` must be > 0"),
        (lambda: kj.theory.ott_antonsen(1.0, 1.0, 1.5, [0.0, 1.0]), r"`z0` must satisfy \|z0\| <= 1"),
        (lambda: kj.theory.ott_antonsen(1.0, 1.0, 0.1, [0.0, 1.0], delay=0.33, dt=0.1), r"`delay` = 0.33 must be a whole number"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
