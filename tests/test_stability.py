"""kuramoto_jax.stability and the partial-synchrony diagnostics: closed forms, independent references,
brute force and finite-difference gradients (float64)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate, optimize

import kuramoto_jax as kj
from kuramoto_jax import stability as st

# Physics and gradient checks at tight tolerances: float64.
pytestmark = pytest.mark.x64


def _omega(n, seed=0):
    return jnp.asarray(np.random.default_rng(seed).normal(size=n))


def reference_threshold(omega):
    """K_L by brentq over K of the existence margin max_r [mean_i sqrt(1 − u_i²/(K r)²) − r] (scipy)."""
    u = np.asarray(omega) - np.mean(omega)
    umax = np.max(np.abs(u))

    def margin(K):
        lo = umax / K
        if lo >= 1:  # only r = 1 is left, and it fails unless every u_i = 0
            return np.mean(np.sqrt(np.clip(1 - (u / K) ** 2, 0, None))) - lo
        h = lambda r: -(np.mean(np.sqrt(np.clip(1 - (u / (K * r)) ** 2, 0, None))) - r)
        res = optimize.minimize_scalar(h, bounds=(lo, 1.0), method="bounded", options={"xatol": 1e-14})
        return -res.fun

    return optimize.brentq(margin, umax, 2 * np.sum(np.abs(u)) + umax, xtol=1e-14, rtol=1e-13)


# ------------------------------------------------------------------ closed forms


def test_two_oscillators_lock_at_the_detuning():
    # Δ̇ = Δω − K sin Δ (mean field with 1/N = 1/2): locked iff K ≥ |Δω|, λ = −K cos Δ* = −sqrt(K² − Δω²).
    omega = jnp.array([0.3, -0.5])
    assert float(st.locking_threshold(omega)) == pytest.approx(0.8, rel=1e-13)
    K = 1.3
    s = st.locked_state(kj.Kuramoto(omega, kj.MeanField(K)))
    assert float(s.theta[1] - s.theta[0]) == pytest.approx(math.asin(-0.8 / K), rel=1e-12)  # sin Δ* = Δω/K
    assert float(s.frequency) == pytest.approx(-0.1, abs=1e-14)
    np.testing.assert_allclose(s.eigenvalues, [0.0, -math.sqrt(K * K - 0.64)], atol=1e-12)
    with pytest.raises(ValueError, match="no phase-locked state"):
        st.locked_state(kj.Kuramoto(omega, kj.MeanField(0.79)))


def test_three_oscillators_closed_form_threshold():
    # ω = (−a, 0, a): the fold condition reduces to 3x² − 15a²x + 16a⁴ = 0 for x = s².
    a = 0.7
    s2 = a * a * (15 - math.sqrt(33)) / 6
    s = math.sqrt(s2)
    K_L = 3 * s2 / (2 * math.sqrt(s2 - a * a) + s)
    omega = jnp.array([-a, 0.0, a]) + 0.2
    assert float(st.locking_threshold(omega)) == pytest.approx(K_L, rel=1e-12)
    assert float(st.locking_scale(kj.Kuramoto(omega, kj.MeanField(2.0)))) == pytest.approx(K_L / 2, rel=1e-10)


@pytest.mark.parametrize("n", [5, 20, 60])
def test_threshold_and_locked_state_acceptance(n):
    omega = _omega(n, n)
    K_L = float(st.locking_threshold(omega))
    assert K_L == pytest.approx(reference_threshold(np.asarray(omega)), rel=1e-5)
    model = kj.Kuramoto(omega, kj.MeanField(1.2 * K_L))
    s = st.locked_state(model)
    velocity = model.drift(0.0, s.theta)
    assert float(jnp.ptp(velocity)) < 1e-7
    assert float(s.frequency) == pytest.approx(float(jnp.mean(omega)), abs=1e-12)
    lam = np.asarray(s.eigenvalues)
    assert abs(lam[0]) < 1e-9 and np.all(lam[1:] < -1e-6) and bool(s.stable)
    with pytest.raises(ValueError, match="no phase-locked state"):
        st.locked_state(kj.Kuramoto(omega, kj.MeanField(0.8 * K_L)))


def test_locked_state_agrees_across_couplings_and_with_lag():
    n = 6
    omega = _omega(n, 1)
    K = 1.5 * float(st.locking_threshold(omega))
    full = np.full((n, n), K / n)
    states = [st.locked_state(kj.Kuramoto(omega, c)) for c in
              (kj.MeanField(K), kj.Dense(full), kj.Sparse.from_dense(full))]
    for s in states[1:]:
        np.testing.assert_allclose(s.theta, states[0].theta, atol=1e-10)
        np.testing.assert_allclose(s.eigenvalues, states[0].eigenvalues, atol=1e-10)
    # Sakaguchi lag α: the locked state still solves f = Ω with the zero mode; Ω shifts by −K r sin α-like terms.
    lagged = kj.Kuramoto(omega, kj.MeanField(K), lag=0.3)
    s = st.locked_state(lagged)
    assert float(jnp.ptp(lagged.drift(0.0, s.theta))) < 1e-9
    assert float(jnp.min(jnp.abs(s.eigenvalues))) < 1e-9 and bool(s.stable)


def test_field_breaks_the_rotation_and_pins_the_phase():
    # Identical oscillators with a field b sin θ: θ_i = θ* with ω + b sin θ* = 0, stable branch cos θ* < 0 (b > 0).
    n, w, b = 4, 0.3, 0.8
    ring = st.ring_model(n, 1.0)
    model = kj.Kuramoto(jnp.full((n,), w), ring.coupling, field=b)
    s = st.locked_state(model)
    np.testing.assert_allclose(s.theta, math.pi + math.asin(w / b), atol=1e-12)
    assert float(s.frequency) == 0.0 and bool(s.stable)
    assert float(s.max_eigenvalue) == pytest.approx(b * math.cos(math.pi + math.asin(w / b)), rel=1e-10)


def test_jacobian_zero_mode():
    n = 7
    rng = np.random.default_rng(3)
    K = rng.uniform(size=(n, n))
    theta = jnp.asarray(rng.uniform(0, 6, n))
    for model in (kj.Kuramoto(_omega(n), kj.Dense(K), lag=0.4), kj.Kuramoto(_omega(n), kj.Sparse.from_dense(K))):
        J = st.jacobian(model, theta)
        np.testing.assert_allclose(J @ jnp.ones(n), 0.0, atol=1e-13)


def test_closed_form_jacobian_is_the_derivative_of_the_drift():
    """The O(N²) Jacobian against forward-mode differentiation of the model's own drift, for every
    coupling representation, with a lag, a field and a coupling scale κ."""
    n = 6
    rng = np.random.default_rng(4)
    K = rng.normal(size=(n, n))
    theta = jnp.asarray(rng.uniform(0, 6, n))
    field = jnp.asarray(rng.uniform(0.2, 1.0, n))
    for coupling in (kj.MeanField(1.3), kj.Dense(K), kj.Sparse.from_dense(K)):
        for extra in ({}, {"lag": 0.7}, {"field": field}, {"lag": -0.3, "field": 0.5}):
            model = kj.Kuramoto(_omega(n), coupling, **extra)
            for kappa in (1.0, 2.5):
                want = jax.jacfwd(lambda th: model.drift(0.0, th) + (kappa - 1) * model.coupling_term(th))(theta)
                np.testing.assert_allclose(st.jacobian(model, theta, kappa), want, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ general couplings, dynamics


def test_locking_scale_of_a_dense_shape_against_brute_force():
    n = 6
    rng = np.random.default_rng(4)
    A = rng.uniform(size=(n, n))
    A = (A + A.T) / n
    omega = _omega(n, 5)
    fold = st.saddle_node(kj.Kuramoto(omega, kj.Dense(A)))
    kappa = float(fold.scale)
    sparse = float(st.locking_scale(kj.Kuramoto(omega, kj.Sparse.from_dense(A))))
    assert sparse == pytest.approx(kappa, rel=1e-10)
    assert bool(st.locked_state(kj.Kuramoto(omega, kj.Dense(1.001 * kappa * A))).stable)
    with pytest.raises(ValueError):
        st.locked_state(kj.Kuramoto(omega, kj.Dense(0.999 * kappa * A)))
    # Uniform couplings reproduce the mean-field threshold.
    assert float(st.locking_scale(kj.Kuramoto(omega, kj.Dense(np.full((n, n), 1.0 / n))))) == pytest.approx(
        float(st.locking_threshold(omega)), rel=1e-10)


def test_simulation_locks_just_above_and_slips_just_below():
    omega = _omega(5, 6)
    K_L = float(st.locking_threshold(omega))
    ts = jnp.linspace(100.0, 300.0, 3)
    spreads = []
    for factor in (1.02, 0.98):
        model = kj.Kuramoto(omega, kj.MeanField(factor * K_L))
        sol = kj.simulate(model, jnp.zeros(5), t1=300.0, dt=0.05, ts=ts)
        w_eff = (sol.theta[-1] - sol.theta[1]) / (ts[-1] - ts[1])
        spreads.append(float(jnp.ptp(w_eff)))
    assert spreads[0] < 1e-6 and spreads[1] > 1e-2


def test_gradients_of_threshold_and_leading_eigenvalue_match_finite_differences():
    omega = _omega(6, 7)
    e = jnp.zeros(6).at[2].set(1.0)
    h = 1e-6
    fd = (st.locking_threshold(omega + h * e) - st.locking_threshold(omega - h * e)) / (2 * h)
    assert float(jax.grad(st.locking_threshold)(omega)[2]) == pytest.approx(float(fd), rel=1e-6)

    rng = np.random.default_rng(8)
    A = rng.uniform(size=(6, 6))
    A = (A + A.T) / 6
    scale = lambda M: st.locking_scale(kj.Kuramoto(omega, kj.Dense(M)))
    g = jax.grad(scale)(jnp.asarray(A))
    E = jnp.zeros((6, 6)).at[1, 3].set(1.0).at[3, 1].set(1.0)
    fd = (scale(A + h * E) - scale(A - h * E)) / (2 * h)
    assert float(g[1, 3] + g[3, 1]) == pytest.approx(float(fd), rel=1e-5)

    K = 1.4 * float(st.locking_threshold(omega))
    lead = lambda w, k: st.locked_state(kj.Kuramoto(w, kj.MeanField(k))).max_eigenvalue
    gw, gk = jax.grad(lead, argnums=(0, 1))(omega, K)
    fd_w = (lead(omega + h * e, K) - lead(omega - h * e, K)) / (2 * h)
    fd_k = (lead(omega, K + h) - lead(omega, K - h)) / (2 * h)
    assert float(gw[2]) == pytest.approx(float(fd_w), rel=1e-5)
    assert float(gk) == pytest.approx(float(fd_k), rel=1e-5)


def test_locked_state_under_vmap_and_jit():
    omega = _omega(5, 9)
    K_L = float(st.locking_threshold(omega))
    Ks = jnp.array([1.1, 1.5, 3.0]) * K_L
    out = jax.jit(jax.vmap(lambda k: st.solve_locked(kj.Kuramoto(omega, kj.MeanField(k)))))(Ks)
    assert bool(jnp.all(out.stable))
    single = st.locked_state(kj.Kuramoto(omega, kj.MeanField(Ks[1])))
    np.testing.assert_allclose(out.theta[1], single.theta, atol=1e-12)
    K_Ls = jax.vmap(st.locking_threshold)(jnp.stack([omega, 2 * omega]))
    np.testing.assert_allclose(K_Ls, [K_L, 2 * K_L], rtol=1e-12)


# ------------------------------------------------------------------ continuation and hysteresis


def test_continuation_passes_the_fold_at_the_locking_threshold():
    omega = _omega(6, 10)
    K_L = float(st.locking_threshold(omega))
    make = lambda K: kj.Kuramoto(omega, kj.MeanField(K))
    branch = st.continuation(make, 1.5 * K_L, ds=0.1, num_steps=30)
    assert bool(jnp.all(branch.converged))
    [i] = branch.fold_indices()
    assert branch.folds()[0] == pytest.approx(K_L, rel=1e-3)
    stable = np.asarray(branch.stable)
    assert stable[: i + 1].all() and not stable[i + 2:].any()  # the stable branch turns into the unstable one
    fold = st.refine_fold(make, branch.params[i], branch.theta[i], branch.frequency[i])
    assert float(fold.param) == pytest.approx(K_L, rel=1e-12)
    # Brute force on the stable part: an independent Newton solve and a simulation at the same K.
    j = i // 2
    K = float(branch.params[j])
    direct = st.locked_state(make(K))
    np.testing.assert_allclose(branch.theta[j], direct.theta, atol=1e-9)
    sol = kj.simulate(make(K), jnp.zeros(6), t1=200.0, dt=0.05)
    R_sim = kj.order_parameter(sol.theta[-1])[0]
    assert float(R_sim) == pytest.approx(float(kj.order_parameter(branch.theta[j])[0]), abs=1e-8)


def test_continuation_from_a_given_start_and_below_the_threshold():
    omega = _omega(6, 10)
    K_L = float(st.locking_threshold(omega))
    make = lambda K: kj.Kuramoto(omega, kj.MeanField(K))
    start = st.locked_state(make(1.5 * K_L))
    given = st.continuation(make, 1.5 * K_L, theta0=start.theta, ds=0.1, num_steps=5)
    own = st.continuation(make, 1.5 * K_L, ds=0.1, num_steps=5)
    np.testing.assert_allclose(given.theta, own.theta, atol=1e-10)
    with pytest.raises(ValueError, match="no locked state of make_model"):
        st.continuation(make, 0.8 * K_L, ds=0.1, num_steps=5)


def test_continuation_in_a_field_folds_at_the_closed_form():
    # Identical oscillators with θ̇ = ω + b sin θ (+ coupling): the locked state sin θ* = −ω/b exists iff b ≥ |ω|.
    w = 0.3
    make = lambda b: kj.Kuramoto(jnp.full((2,), w), kj.MeanField(1.0), field=b)
    branch = st.continuation(make, 1.0, ds=0.1, num_steps=30)
    [i] = branch.fold_indices()
    assert branch.folds()[0] == pytest.approx(w, rel=1e-2)
    fold = st.refine_fold(make, branch.params[i], branch.theta[i])
    assert float(fold.param) == pytest.approx(w, rel=1e-10) and bool(fold.converged)


def test_hysteresis_top_stage_is_the_locked_state():
    omega = _omega(6, 11)
    K_L = float(st.locking_threshold(omega))
    scales = np.array([0.5, 1.0, 3.0]) * K_L
    theta0 = jax.random.uniform(jax.random.key(0), (2, 6), maxval=2 * np.pi)
    loop = st.hysteresis_loop(kj.Kuramoto(omega, kj.MeanField(1.0)), scales, theta0, t1=40.0, dt=0.1)
    assert loop.R_up.shape == (2, 3) and loop.area.shape == (2,)
    R_lock = float(kj.order_parameter(st.locked_state(kj.Kuramoto(omega, kj.MeanField(scales[-1]))).theta)[0])
    np.testing.assert_allclose(loop.R_up[:, -1], R_lock, atol=1e-6)
    np.testing.assert_allclose(loop.R_down[:, -1], R_lock, atol=1e-6)
    R_one, _ = st.adiabatic_sweep(kj.Kuramoto(omega, kj.MeanField(1.0)), st.ramp_stages(scales), theta0[1],
                                  t1=40.0, dt=0.1, save_every=0.5)
    np.testing.assert_allclose(loop.R_up[1], R_one[:3], atol=1e-12)


# ------------------------------------------------------------------ Lyapunov spectra


def test_lyapunov_spectrum_of_two_locked_oscillators():
    omega, K = jnp.array([0.3, -0.5]), 1.3
    model = kj.Kuramoto(omega, kj.MeanField(K))
    start = st.locked_state(model).theta
    lam = st.lyapunov_spectrum(model, start, t1=1000.0, dt=0.05, renormalise_every=1.0)
    np.testing.assert_allclose(lam, [0.0, -math.sqrt(K * K - 0.64)], atol=1e-3)


def test_lyapunov_sum_is_the_mean_trace_and_one_exponent_vanishes():
    n = 4
    omega = _omega(n, 12)
    model = kj.Kuramoto(omega, kj.MeanField(0.6 * float(st.locking_threshold(omega))))  # unlocked
    theta0 = jnp.asarray(np.random.default_rng(1).uniform(0, 6, n))
    T, dt = 50.0, 0.02
    lam = st.lyapunov_spectrum(model, theta0, t1=T, dt=dt, renormalise_every=0.5)
    ts = jnp.linspace(0, T, 2501)  # the step grid
    orbit = kj.simulate(model, theta0, t1=T, dt=dt, ts=ts).theta
    tr = jax.vmap(lambda th: jnp.trace(st.jacobian(model, th)))(orbit)
    mean_trace = float(integrate.simpson(np.asarray(tr), x=np.asarray(ts)) / T)
    assert float(jnp.sum(lam)) == pytest.approx(mean_trace, abs=1e-6)
    assert float(jnp.min(jnp.abs(lam))) < 1e-12  # the common phase shift: J 1 = 0 exactly


# ------------------------------------------------------------------ basins


def test_twisted_states_spectrum_and_basins():
    n, K = 10, 1.0
    ring = st.ring_model(n, K)
    m = np.arange(n)
    for q in (0, 1, 2):
        s = st.locked_state(ring, st.twisted_state(n, q))
        expected = np.sort(-2 * K * math.cos(2 * math.pi * q / n) * (1 - np.cos(2 * math.pi * m / n)))[::-1]
        np.testing.assert_allclose(s.eigenvalues, expected, atol=1e-12)
        assert int(st.winding_number(s.theta)) == q and bool(s.stable)  # |q| < N/4 = 2.5
    s3 = st.locked_state(ring, st.twisted_state(n, 3), check=False)
    assert not bool(s3.stable)
    key = jax.random.key(2)
    basins = st.twisted_state_basins(n, key, samples=32, K=K, t1=200.0)
    assert sum(basins.values()) == pytest.approx(1.0)
    assert all(q is not None and abs(q) < n / 4 for q in basins)
    sync = st.basin_stability(ring, key, samples=32, t1=200.0, target=jnp.zeros(n))
    assert sync.fraction == pytest.approx(basins.get(0, 0.0))


def test_basin_stability_of_identical_mean_field_is_one():
    model = kj.Kuramoto(jnp.zeros(6), kj.MeanField(1.0))
    out = st.basin_stability(model, jax.random.key(3), samples=16, t1=60.0)
    assert out.fraction == 1.0 and out.stderr == 0.0


# ------------------------------------------------------------------ diagnostics


def test_chimera_and_metastability_closed_forms():
    R = jnp.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])  # one coherent, one incoherent group
    assert float(kj.chimera_index(R)) == pytest.approx(0.5)
    assert float(kj.metastability_index(R)) == 0.0
    R = jnp.array([[1.0, 1.0], [0.0, 0.0]])  # both groups switch together
    assert float(kj.chimera_index(R)) == 0.0
    assert float(kj.metastability_index(R)) == pytest.approx(0.5)
    # Through observe=: two uncoupled groups, one identical (coherent), one spread (incoherent, R = 0).
    n = 8
    labels = jnp.array([0] * 4 + [1] * 4)
    theta0 = jnp.concatenate([jnp.full(4, 0.3), jnp.arange(4) * jnp.pi / 2])
    model = kj.Kuramoto(jnp.zeros(n), kj.Dense(jnp.zeros((n, n))))
    sol = kj.simulate(model, theta0, t1=1.0, dt=0.1, ts=jnp.linspace(0, 1, 5),
                      observe=lambda th: kj.local_order_parameters(th, labels, 2))
    assert float(kj.chimera_index(sol.observables)) == pytest.approx(0.5, abs=1e-12)


def test_coherence_matrix_and_phase_clusters():
    ts = jnp.linspace(0, 2 * jnp.pi, 400, endpoint=False)
    theta = jnp.stack([ts, ts + 1.0, 2 * ts], 1)  # 0 and 1 locked at a fixed lag; 2 drifts
    C = kj.coherence_matrix(theta)
    np.testing.assert_allclose(C, [[1, 1, 0], [1, 1, 0], [0, 0, 1]], atol=1e-12)
    labels, count = kj.phase_clusters(jnp.array([0.01, 3.0, 6.27, 3.05, 1.5, 0.0]), tol=0.2)
    assert int(count) == 3
    labels = np.asarray(labels)
    assert labels[0] == labels[2] == labels[5] and labels[1] == labels[3] and len({labels[0], labels[1], labels[4]}) == 3


def test_bad_input_raises_named_errors():
    omega = jnp.array([0.1, 0.2, -0.3])
    with pytest.raises(ValueError, match="second-order"):
        st.locked_state(kj.Kuramoto(omega, kj.MeanField(1.0), mass=1.0))
    with pytest.raises(ValueError, match="omega"):
        st.locking_threshold(jnp.ones(3))
    with pytest.raises(TypeError, match="model"):
        st.locked_state(omega)
    with pytest.raises(ValueError, match="scales"):
        st.hysteresis_loop(kj.Kuramoto(omega, kj.MeanField(1.0)), [2.0, 1.0], jnp.zeros(3))
    with pytest.raises(ValueError, match="renormalise_every"):
        st.lyapunov_spectrum(kj.Kuramoto(omega, kj.MeanField(1.0)), jnp.zeros(3), t1=1.0, dt=0.3)
