"""KuraNet library: coupling functions, normalisations, disorder, losses, metrics, dynamics."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kuramoto_jax as kj
from kuramoto_jax import kuranet as kn


def _mlp_reference(net, xi, xj, slope=0.2):
    """The pair MLP written out on one concatenated pair (independent of the broadcast trick)."""
    h = np.concatenate([xi, xj]) @ np.asarray(net.first) + np.asarray(net.first_bias)
    h = np.where(h > 0, h, slope * h)
    for w, b in net.layers:
        h = h @ np.asarray(w) + np.asarray(b)
        h = np.where(h > 0, h, slope * h)
    return float(h @ np.asarray(net.out))


def test_pair_mlp_matches_per_pair_reference_and_blocks(x64):
    net = kn.init_coupling(jax.random.key(0), 3, (6, 5))
    x = jax.random.normal(jax.random.key(1), (7, 3))
    L = kn.pair_logits(net, x)
    assert L.shape == (7, 7)
    xn = np.asarray(x)
    for i, j in [(0, 0), (2, 5), (6, 1)]:
        assert float(L[i, j]) == pytest.approx(_mlp_reference(net, xn[i], xn[j]), rel=1e-10)
    # Row blocks (with padding: 7 rows in blocks of 3) give the same matrix.
    Lb = kn.pair_logits(net, x, block_rows=3)
    np.testing.assert_allclose(np.asarray(Lb), np.asarray(L), rtol=1e-12)
    # A legacy uint32 key initialises the same network as the typed key of the same seed.
    legacy = kn.init_coupling(jax.random.PRNGKey(0), 3, (6, 5))
    np.testing.assert_array_equal(np.asarray(legacy.first), np.asarray(net.first))
    # The coupling function applies the normalisation to the logits, and checks the feature width.
    model = kn.CouplingFunction(net, "global")
    np.testing.assert_allclose(np.asarray(model.couplings(x)), np.asarray(kn.normalise_global(L)), rtol=1e-12)
    with pytest.raises(ValueError, match=r"`features` must have shape \(n, 3\)"):
        model.couplings(x[:, :2])


def test_normalise_global_positive_symmetric_unit_average_degree(x64):
    L = jax.random.normal(jax.random.key(2), (9, 9)) * 3
    K = kn.normalise_global(L)
    K = np.asarray(K)
    assert np.all(K > 0)
    np.testing.assert_allclose(K, K.T, rtol=1e-12)
    assert K.sum(1).mean() == pytest.approx(1.0, rel=1e-12)  # average weighted degree
    np.testing.assert_allclose(np.asarray(kn.normalise_global(L + 5.0)), K, rtol=1e-10)


def test_normalise_clusters_row_norm_then_symmetrise_over_n(x64):
    L = np.asarray(jax.random.normal(jax.random.key(3), (6, 6)))
    Kh = L / np.linalg.norm(L, axis=1, keepdims=True)
    want = 0.5 * (Kh + Kh.T) / 6
    np.testing.assert_allclose(np.asarray(kn.normalise_clusters(L)), want, rtol=1e-10)
    # Centred rows: a constant logit offset (all-attractive start) is removed.
    Kc = np.asarray(kn.normalise(L + 7.0, "clusters_centred"))
    Lc = L - L.mean(1, keepdims=True)
    Khc = Lc / np.linalg.norm(Lc, axis=1, keepdims=True)
    np.testing.assert_allclose(Kc, 0.5 * (Khc + Khc.T) / 6, rtol=1e-8)
    # Graph centring: one mean over all pairs, so a constant offset goes and the rows keep their differences.
    Kg = np.asarray(kn.normalise(L + 7.0, "clusters_graph_centred"))
    Lg = L - L.mean()
    Khg = Lg / np.linalg.norm(Lg, axis=1, keepdims=True)
    np.testing.assert_allclose(Kg, 0.5 * (Khg + Khg.T) / 6, rtol=1e-8)
    with pytest.raises(ValueError, match="normalisation"):
        kn.normalise(L, "softmax")
    with pytest.raises(ValueError, match="centring"):
        kn.normalise_clusters(L, centring="column")


def test_disorder_laws():
    d = kn.sample_disorder(jax.random.key(4), "III", 2_000)
    tau = np.asarray(d.delay_steps)
    raw_tau = np.asarray(kn.negative_binomial(jax.random.key(5), (40_000,)))
    # NB(r = 15, p = ½): mean r p/(1 − p) = 15, variance r p/(1 − p)² = 30.
    assert raw_tau.mean() == pytest.approx(15.0, abs=0.15)
    assert raw_tau.var() == pytest.approx(30.0, rel=0.05)
    assert tau.min() >= 0 and tau.max() <= kn.MAX_DELAY_STEPS and np.all(tau == np.round(tau))
    om = np.asarray(d.omega)
    assert 2.0 <= om.min() and om.max() <= 4.0
    d2 = kn.sample_disorder(jax.random.key(6), "II", 50)
    assert d2.features.shape == (50, 2) and d2.field.shape == (50,) and d2.delay_steps is None
    with pytest.raises(ValueError, match="case"):
        kn.sample_disorder(jax.random.key(0), "IV", 10)
    with pytest.raises(ValueError, match="`n`"):
        kn.sample_disorder(jax.random.key(0), "I", 0)


def test_losses_against_closed_forms(x64):
    th = jnp.asarray([[0.0, np.pi / 2], [0.1, 0.1]])
    # V = 1 − |mean e^{iθ}|: 1 − 1/√2 and 0.
    assert float(kn.sync_loss(th)) == pytest.approx(0.5 * (1 - 1 / np.sqrt(2)), rel=1e-12)
    labels = jnp.asarray([0, 0, 1, 1, 2, 2, 3, 3])
    splayed = jnp.repeat(jnp.arange(4) * np.pi / 2, 2)[None]
    assert float(kn.cluster_window_loss(splayed, labels, 4)) == pytest.approx(0.0, abs=1e-12)
    together = jnp.zeros((1, 8))
    # V_l = 0, S = S_max = (4/2)(1 + 1/4) = 2.5: loss S_max / (1 + S_max).
    assert float(kn.cluster_window_loss(together, labels, 4)) == pytest.approx(2.5 / 3.5, rel=1e-6)
    two = jnp.asarray([[0.0, 0.0, np.pi, np.pi]])
    assert float(kn.cluster_window_loss(two, jnp.asarray([0, 0, 1, 1]), 2)) == pytest.approx(0.0, abs=1e-12)


def test_feature_correlation_limits(x64):
    x = jnp.asarray([-1.0, 0.0, 2.0, 3.0])
    assert float(kn.feature_correlation(jnp.eye(4), x)) == pytest.approx(1.0)
    assert float(kn.feature_correlation(jnp.ones((4, 4)), x)) == pytest.approx(0.0, abs=1e-12)
    # Coupling only the two extremes (opposite signs about the mean 1): negative correlation.
    K = jnp.zeros((4, 4)).at[0, 3].set(1.0).at[3, 0].set(1.0)
    assert float(kn.feature_correlation(K, x)) == pytest.approx(2 * (-2 * 2) / (4 + 4))


def test_symmetric_best_dice():
    truth = np.array([0, 0, 1, 1, 2, 2])
    assert kn.symmetric_best_dice(np.array([5, 5, 7, 7, 9, 9]), truth) == 1.0
    pred = np.array([0, 0, 0, 0, 1, 1])
    # BD(pred, truth) = (2·2/(4+2) + 1)/2; BD(truth, pred) = (2/3 + 2/3 + 1)/3 → min.
    assert kn.symmetric_best_dice(pred, truth) == pytest.approx(min((2 / 3 + 1) / 2, (2 / 3 + 2 / 3 + 1) / 3))


def _euler_delay_reference(K, omega, b, d, theta0, dt, steps):
    """Independent NumPy Euler for dθ_i = ω_i + Σ_j K_ij sin(θ_j(t − d_j dt) − θ_i) + b_i sin θ_i."""
    hist = [np.array(theta0)]
    th = np.array(theta0)
    for k in range(steps):
        src = np.array([hist[max(k - d[j], 0)][j] for j in range(len(th))])
        th = th + dt * (omega + (K * np.sin(src[None, :] - th[:, None])).sum(1) + b * np.sin(th))
        hist.append(th)
    return np.array(hist)


def test_simulate_window_matches_numpy_reference_with_delays_and_field(x64):
    rng = np.random.default_rng(0)
    n, dt = 6, 0.1
    K = rng.uniform(0, 0.5, (n, n))
    omega, b, theta0 = rng.uniform(-1, 1, n), rng.uniform(-1, 1, n), rng.uniform(0, 6, n)
    d = np.array([0, 3, 1, 5, 2, 0])
    ref = _euler_delay_reference(K, omega, b, d, theta0, dt, 12)
    got = kn.simulate_window(jnp.asarray(K), jnp.asarray(omega), jnp.asarray(theta0), dt=dt, burn_in_steps=8,
                             window_steps=4, field=jnp.asarray(b), delay_steps=jnp.asarray(d))
    np.testing.assert_allclose(np.asarray(got), ref[9:13], rtol=1e-10, atol=1e-12)
    # Traced delays under jit (as in training) agree.
    f = jax.jit(lambda dd: kn.simulate_window(jnp.asarray(K), jnp.asarray(omega), jnp.asarray(theta0), dt=dt,
                                              burn_in_steps=8, window_steps=4, field=jnp.asarray(b), delay_steps=dd))
    np.testing.assert_allclose(np.asarray(f(jnp.asarray(d))), ref[9:13], rtol=1e-10, atol=1e-12)


def test_gradient_through_dynamics_matches_finite_differences(x64):
    net = kn.init_coupling(jax.random.key(7), 1, (4,))
    dis = kn.sample_disorder(jax.random.key(8), "I", 5)
    theta0 = jax.random.uniform(jax.random.key(9), (5,), minval=0, maxval=6)

    def loss(m):
        K = kn.coupling_matrix(m, dis.features, "global")
        return kn.sync_loss(kn.simulate_window(K, dis.omega, theta0, burn_in_steps=5, window_steps=5))

    g = jax.jit(jax.grad(loss))(net)
    f = jax.jit(loss)  # one compilation for both finite-difference evaluations
    e = jnp.zeros_like(net.first).at[0, 1].set(1e-6)
    shift = lambda s: eqx.tree_at(lambda m: m.first, net, net.first + s * e)
    fd = (f(shift(1)) - f(shift(-1))) / 2e-6
    assert float(g.first[0, 1]) == pytest.approx(float(fd), rel=1e-5, abs=1e-10)


def test_block_control_and_datasets():
    x, y, k = kn.make_dataset("gmm", 200, seed=1, k=4)
    assert x.shape == (200, 2) and k == 4 and set(np.unique(y)) <= {0, 1, 2, 3}
    K = np.asarray(kn.block_control_matrix(y, k, max_abs=0.3))
    assert np.abs(K).max() == pytest.approx(0.3)
    same = y[:, None] == y[None, :]
    assert np.all(K[same] > 0) and np.all(K[~same] < 0)
    for name in kn.DATASETS:
        xs, ys, kk = kn.make_dataset(name, 50, seed=0)
        assert xs.shape == (50, 2) and ys.shape == (50,)
    img, seg = kn.segmentation_image(16, 20, 4, seed=0)
    assert img.shape == (16, 20, 3) and seg.shape == (16, 20) and kn.pixel_features(img).shape == (320, 5)
    with pytest.raises(ValueError, match="dataset"):
        kn.make_dataset("swiss", 10)


def test_cluster_initial_phases():
    key, n = jax.random.key(3), 100
    default = kn.ClusterTask(n=n)
    # The default is the paper's N(π, 1), drawn exactly as before the option existed.
    np.testing.assert_array_equal(np.asarray(default.theta0(key, n)),
                                  np.asarray(jnp.pi + jax.random.normal(key, (n,))))
    splay = np.asarray(kn.ClusterTask(n=n, initial_phases="splay").theta0(key, n), np.float64)
    # Evenly spaced over the circle, in random order: R = |mean e^{iθ}| = 0 (every harmonic below n vanishes).
    assert abs(np.mean(np.exp(1j * splay))) < 1e-5 and abs(np.mean(np.exp(7j * splay))) < 1e-5
    np.testing.assert_allclose(np.sort((splay - np.pi) * n / (2 * np.pi)), np.arange(n), atol=1e-3)
    assert not np.all(np.diff(splay) > 0)
    uni = np.asarray(kn.ClusterTask(n=n, initial_phases="uniform").theta0(key, 4000))
    assert uni.min() >= 0 and uni.max() < 2 * np.pi and abs(np.mean(np.exp(1j * uni))) < 0.05
    with pytest.raises(ValueError, match="initial_phases"):
        kn.ClusterTask(initial_phases="zero")
    with pytest.raises(ValueError, match="energy_weight"):
        kn.ClusterTask(energy_weight=-1.0)


def test_energy_gap_closed_forms(x64):
    labels = jnp.asarray([0, 0, 1, 1, 2, 2])
    # ½(1 − cos Δφ) averaged over the orders of the target phases: ½(1 + 1/(k − 1)) = ¾ between groups.
    orders = [np.asarray(p) * 2 * np.pi / 3 for p in [(0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)]]
    w = np.mean([0.5 * (1 - np.cos(o[np.asarray(labels)][None, :] - o[np.asarray(labels)][:, None])) for o in orders], 0)
    np.testing.assert_allclose(w[0, 2], 0.75)
    n = 6
    # nK ∝ −w with ‖nK‖_F = √n reaches the bound −1; +w reaches +1; couplings within groups only: 0.
    K = -w / np.linalg.norm(w) * np.sqrt(n) / n
    assert float(kn.energy_gap(jnp.asarray(K), labels, 3)) == pytest.approx(-1.0, rel=1e-12)
    assert float(kn.energy_gap(jnp.asarray(-K), labels, 3)) == pytest.approx(1.0, rel=1e-12)
    same = (np.asarray(labels)[:, None] == np.asarray(labels)[None, :]).astype(float)
    assert float(kn.energy_gap(jnp.asarray(same), labels, 3)) == pytest.approx(0.0, abs=1e-12)
    # Ordered targets: w_ij = ½(1 − cos(2π(y_j − y_i)/k)); with k = 4 the groups 0 and 2 are opposite (w = 1),
    # neighbours have w = ½; −w/‖w‖ again reaches −1.
    lab4 = jnp.asarray([0, 1, 2, 3])
    w4 = np.asarray([[0, .5, 1, .5], [.5, 0, .5, 1], [1, .5, 0, .5], [.5, 1, .5, 0]])
    K4 = -w4 / np.linalg.norm(w4) * 2 / 4
    assert float(kn.energy_gap(jnp.asarray(K4), lab4, 4, label_order=True)) == pytest.approx(-1.0, rel=1e-12)
    assert float(kn.energy_gap(jnp.asarray(K4), lab4, 4)) > -1 + 1e-3
    # The block control (inter-group −) lies below global synchrony.
    assert float(kn.energy_gap(kn.block_control_matrix(labels, 3, 1.0), labels, 3)) < -0.5


def test_energy_gap_gradient_does_not_vanish_at_global_synchrony(x64):
    # One graph in global synchrony (θ(0) ≡ π): the window loss is flat in the network's
    # parameters (no K moves a synchronous state), the energy-gap term is not.
    x, y, _ = kn.make_dataset("moons", 12, seed=0)
    graph = {"x": jnp.asarray(x, jnp.float64), "y": jnp.asarray(y), "theta0": jnp.full((12,), np.pi)}
    net = kn.init_coupling(jax.random.key(1), 2, (8,))
    plain = kn.ClusterTask(n=12, window_steps=5)
    with_gap = kn.ClusterTask(n=12, window_steps=5, energy_weight=1.0)
    norm = lambda g: float(jnp.sqrt(sum(jnp.sum(leaf ** 2) for leaf in jax.tree.leaves(eqx.filter(g, eqx.is_array)))))
    g_plain = eqx.filter_grad(lambda m: plain.loss(m, graph)[0])(net)
    g_gap = eqx.filter_grad(lambda m: with_gap.loss(m, graph)[0])(net)
    assert norm(g_plain) < 1e-12
    assert norm(g_gap) > 1e-3
    # And it matches a finite difference of the term itself.
    e = jnp.zeros_like(net.first).at[1, 2].set(1e-6)
    gap = lambda m: kn.energy_gap(kn.coupling_matrix(m, graph["x"], "clusters"), graph["y"], 2)
    shift = lambda s: eqx.tree_at(lambda m: m.first, net, net.first + s * e)
    fd = (gap(shift(1)) - gap(shift(-1))) / 2e-6
    assert float(g_gap.first[1, 2]) == pytest.approx(float(fd), rel=1e-5, abs=1e-10)


def test_fit_validates_on_val_task():
    pool = tuple(jnp.asarray(a) for a in kn.make_dataset("moons", 400, seed=0)[:2])
    task = kn.ClusterTask(n=20, window_steps=5)
    train_task = kn.ClusterTask(n=20, window_steps=5, initial_phases="splay", energy_weight=1.0)
    fit = lambda t, **kw: kn.fit(t, pool, key=jax.random.key(0), members=2, steps=0, hidden=(8,), val_graphs=4, **kw)
    np.testing.assert_allclose(fit(train_task, val_task=task).val, fit(task).val, rtol=1e-6)
    assert not np.allclose(fit(train_task).val, fit(task).val, rtol=1e-3)


def test_reference_validation_scores_the_data_cells_protocol():
    # val_protocol = "reference" (the studies' config): validation scores each member exactly as the reference
    # protocol scores the Data regime (the loss window after ref_burn_in_steps), on the validation graphs.
    from kuramoto_jax.experiments.kuranet.common import ReferenceProtocol

    pool = tuple(jnp.asarray(a) for a in kn.make_dataset("moons", 400, seed=0)[:2])
    task, key = kn.ClusterTask(n=20, burn_in_steps=2, window_steps=5), jax.random.key(0)
    fit = lambda val_task: kn.fit(task, pool, key=key, members=2, steps=0, hidden=(8,), val_graphs=4, val_task=val_task)
    reference = fit(ReferenceProtocol(ref_burn_in_steps=30, val_protocol="reference").validation_task(task))
    val_set = jax.vmap(task.graph, (0, None))(jax.random.split(kj.stream_key(key, "validation"), 4), pool)
    scored = kn.score(task, reference, val_set, reference=(30, 5))
    np.testing.assert_allclose(reference.val, scored["L_ref"].mean(axis=1), rtol=1e-5)
    window = fit(ReferenceProtocol(ref_burn_in_steps=30).validation_task(task))
    np.testing.assert_allclose(window.val, scored["L"].mean(axis=1), rtol=1e-5)
    assert not np.allclose(window.val, reference.val, rtol=1e-2)
    with pytest.raises(ValueError, match="val_protocol"):
        ReferenceProtocol(val_protocol="best").validation_task(task)


def test_graphs_per_step_averages_the_loss_over_the_members_graphs():
    # A pool of exactly n oscillators from all-in-phase starts: every training graph is the same network up to a
    # permutation, and V is permutation invariant, so the mean over B = 3 graphs per step is each graph's loss and
    # training follows the one-graph run step for step (a sum, or graphs mixed across members, would not).
    pool = kn.sample_disorder(jax.random.key(3), "I", 12).raw
    task = kn.GlobalTask("I", n=12, burn_in_steps=2, window_steps=4)
    fit = lambda B: kn.fit(task, pool, key=jax.random.key(0), members=2, steps=3, hidden=(8,), val_graphs=2,
                           val_every=1, log_every=1, graphs_per_step=B)
    one, three = fit(1), fit(3)
    np.testing.assert_allclose(np.asarray(three.history["loss"]), np.asarray(one.history["loss"]), rtol=1e-4)
    np.testing.assert_allclose(three.val, one.val, rtol=1e-4)
    with pytest.raises(ValueError, match="graphs_per_step"):
        fit(0)
    # A scheduled cluster task: each member's B graphs carry that member's progress and index.
    cpool = tuple(jnp.asarray(a) for a in kn.make_dataset("moons", 200, seed=0)[:2])
    ctask = kn.ClusterTask(n=12, window_steps=3, energy_weight=0.5, energy_members=1)
    f = kn.fit(ctask, cpool, key=jax.random.key(0), members=2, steps=2, hidden=(8,), val_graphs=2, graphs_per_step=2,
               val_task=kn.ClusterTask(n=12, window_steps=3))
    assert np.asarray(f.history["loss"]).shape == (2, 2) and np.all(np.isfinite(f.val))


def test_size_transfer_scores_m_subsets_and_the_whole_pool_as_data_size(x64):
    # Networks of m oscillators drawn from the pool. At m = the pool's size every network is the whole pool in
    # another order; from all-in-phase starts the coupling is permutation-equivariant and V permutation-invariant,
    # so each equals the whole pool scored as one network (the Data+Size regime's network) to rounding.
    pool = kn.sample_disorder(jax.random.key(3), "I", 24).raw
    task = kn.GlobalTask("I", n=8, burn_in_steps=20, window_steps=5)
    fitted = kn.fit(task, pool, key=jax.random.key(0), members=2, steps=2, hidden=(8,), val_graphs=2)
    out = kn.size_transfer(task, fitted, pool, [8, 24], key=jax.random.key(1), graphs=3, reference=kn.Reference(40, 60))
    assert set(out) == {8, 24} and out[8]["V"].shape == (2, 3) and out[24]["V_ref"].shape == (2, 3)
    whole = jax.tree.map(lambda a: a[None], task.whole(jax.random.key(2), pool))
    scored = kn.score(task, fitted, whole, reference=(40, 5))
    np.testing.assert_allclose(out[24]["V"], np.repeat(scored["V"], 3, axis=1), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out[24]["V_ref"], np.repeat(scored["V_ref"], 3, axis=1), rtol=1e-9, atol=1e-12)
    # Subsets of 8 are different networks: their V differ from graph to graph (not the n = 24 value repeated).
    assert np.ptp(out[8]["V"][0]) > 1e-6 and not np.allclose(out[8]["V"], out[24]["V"])
    # Only the members asked for.
    one = kn.size_transfer(task, fitted, pool, [8], key=jax.random.key(1), graphs=3, members=[1])
    np.testing.assert_allclose(one[8]["V"], out[8]["V"][1:], rtol=1e-12)
    for bad, match in (([30], "sizes"), ([1], "sizes"), (8, "sizes"), ([8.5], "sizes")):
        with pytest.raises(ValueError, match=match):
            kn.size_transfer(task, fitted, pool, bad, key=jax.random.key(1))
    with pytest.raises(ValueError, match="graphs"):
        kn.size_transfer(task, fitted, pool, [8], key=jax.random.key(1), graphs=0)


def test_energy_decay_schedules_the_term():
    x, y, _ = kn.make_dataset("moons", 12, seed=0)
    g = {"x": jnp.asarray(x), "y": jnp.asarray(y), "theta0": jnp.linspace(0.0, 6.0, 12)}
    net = kn.init_coupling(jax.random.key(1), 2, (8,))
    loss = lambda t, **kw: float(t.loss(net, g | kw)[0])
    plain, const = kn.ClusterTask(n=12, window_steps=3), kn.ClusterTask(n=12, window_steps=3, energy_weight=0.5)
    assert abs(loss(const) - loss(plain)) > 1e-4 and not const.scheduled
    for decay in ("linear", "cosine"):
        t = kn.ClusterTask(n=12, window_steps=3, energy_weight=0.5, energy_decay=decay)
        assert t.scheduled
        assert loss(t, progress=jnp.asarray(0.0)) == pytest.approx(loss(const), rel=1e-6)
        assert loss(t, progress=jnp.asarray(1.0)) == pytest.approx(loss(plain), rel=1e-6)
    mid = kn.ClusterTask(n=12, window_steps=3, energy_weight=0.5, energy_decay="cosine")
    assert loss(mid, progress=jnp.asarray(0.5)) == pytest.approx(0.5 * (loss(const) + loss(plain)), rel=1e-5)
    # With energy_members = 1 only member 0 trains with the term.
    only0 = kn.ClusterTask(n=12, window_steps=3, energy_weight=0.5, energy_members=1)
    assert only0.scheduled
    assert loss(only0, member=jnp.asarray(0)) == pytest.approx(loss(const), rel=1e-6)
    assert loss(only0, member=jnp.asarray(1)) == pytest.approx(loss(plain), rel=1e-6)
    # fit hands the progress p = step / steps and the member to a scheduled task's training graphs.
    class Recording(kn.ClusterTask):
        def loss(self, net, graph):
            return super().loss(net, graph)[0], {"p": graph.get("progress", -1.0), "m": graph.get("member", -1)}

    pool = tuple(jnp.asarray(a) for a in kn.make_dataset("moons", 200, seed=0)[:2])
    task = Recording(n=12, window_steps=3, energy_weight=0.5, energy_decay="cosine")
    f = kn.fit(task, pool, key=jax.random.key(0), steps=4, hidden=(8,), val_graphs=2, log_every=1,
               val_task=kn.ClusterTask(n=12, window_steps=3))
    np.testing.assert_allclose(np.asarray(f.history["p"]).ravel(), [0.0, 0.25, 0.5, 0.75])
    f2 = kn.fit(task, pool, key=jax.random.key(0), members=2, steps=2, hidden=(8,), val_graphs=2, log_every=1,
                val_task=kn.ClusterTask(n=12, window_steps=3))
    np.testing.assert_array_equal(np.asarray(f2.history["m"]), [[0, 1], [0, 1]])
    with pytest.raises(ValueError, match="energy_decay"):
        kn.ClusterTask(energy_decay="exp")


def test_training_noise_breaks_global_synchrony_and_anneals_to_zero(x64):
    x, y, _ = kn.make_dataset("moons", 12, seed=0)
    pool = (jnp.asarray(x, jnp.float64), jnp.asarray(y))
    noisy = kn.ClusterTask(n=12, window_steps=5, noise=0.05)
    plain = kn.ClusterTask(n=12, window_steps=5)
    g = noisy.graph(jax.random.key(2), pool, jnp.arange(12)) | {"theta0": jnp.full((12,), np.pi)}
    assert "noise_key" not in plain.graph(jax.random.key(2), pool, jnp.arange(12))  # the default graph is unchanged
    net = kn.init_coupling(jax.random.key(1), 2, (8,))
    norm = lambda gr: float(jnp.sqrt(sum(jnp.sum(leaf ** 2) for leaf in jax.tree.leaves(eqx.filter(gr, eqx.is_array)))))
    grad = lambda t, gr: eqx.filter_grad(lambda m: t.loss(m, gr)[0])(net)
    # From global synchrony the noise kicks the phases apart, so K receives a gradient; without it none.
    assert norm(grad(plain, g)) < 1e-12
    assert norm(grad(noisy, g)) > 1e-4
    # Annealed to zero at the end of training: σ(1) = 0 gives the noiseless loss.
    g1 = g | {"progress": jnp.asarray(1.0)}
    assert float(noisy.loss(net, g1)[0]) == pytest.approx(float(plain.loss(net, g)[0]), rel=1e-12)
    with pytest.raises(ValueError, match="noise"):
        kn.ClusterTask(noise=-0.1)


def test_detach_burn_in_keeps_the_loss_and_drops_the_burn_in_gradient(x64):
    """Case III (delays): the same loss value, a different gradient (the burn-in's share is gone; the
    mechanism itself is tested against a two-stage solve in test_core_gradients.py)."""
    pool = kn.sample_disorder(jax.random.key(0), "III", 50).raw
    net = kn.PairMLP(len(kn.feature_names("III")), (8, 8), key=jax.random.key(1))
    full = kn.GlobalTask("III", n=12, burn_in_steps=6, window_steps=5)
    cut = kn.GlobalTask("III", n=12, burn_in_steps=6, window_steps=5, detach_burn_in=True)
    graph = full.graph(jax.random.key(2), pool)
    assert cut.loss(net, graph)[0] == full.loss(net, graph)[0]
    g_full = jax.grad(lambda m: full.loss(m, graph)[0])(net)
    g_cut = jax.grad(lambda m: cut.loss(m, graph)[0])(net)
    leaves = lambda g: np.concatenate([np.ravel(x) for x in jax.tree.leaves(eqx.filter(g, eqx.is_array))])
    assert np.abs(leaves(g_full) - leaves(g_cut)).max() > 1e-6
    with pytest.raises(ValueError, match="`detach_burn_in` must be True or False, got 1"):
        kn.GlobalTask("III", detach_burn_in=1)
    with pytest.raises(ValueError, match=r"`initial_phases` must be one of \('zero', 'uniform'\), got 'gaussian'"):
        kn.GlobalTask("III", initial_phases="gaussian")


def test_fourier_features_enter_as_cos_and_sin_and_train(x64):
    """With m Fourier features the pair MLP sees γ(x) = [x, cos 2πBx, sin 2πBx] for each oscillator
    (against the per-pair reference on γ), B gets a gradient, m = 0 keeps the plain network's draws."""
    net = kn.init_coupling(jax.random.key(0), 3, (6, 5), fourier_features=4, fourier_scale=0.5)
    plain = kn.init_coupling(jax.random.key(0), 3, (6, 5))
    assert net.fourier.shape == (4, 3) and net.first.shape == (2 * (3 + 8), 6)
    np.testing.assert_array_equal(np.asarray(plain.layers[0][0]), np.asarray(net.layers[0][0]))
    assert plain.fourier is None
    x = np.asarray(jax.random.normal(jax.random.key(1), (5, 3)))
    z = 2 * np.pi * x @ np.asarray(net.fourier).T
    gamma = np.concatenate([x, np.cos(z), np.sin(z)], axis=1)
    L = kn.pair_logits(net, x)
    for i, j in [(0, 0), (1, 4), (3, 2)]:
        assert float(L[i, j]) == pytest.approx(_mlp_reference(net, gamma[i], gamma[j]), rel=1e-10)
    g = jax.grad(lambda n: jnp.sum(jnp.sin(kn.pair_logits(n, x))))(net)
    assert np.abs(np.asarray(g.fourier)).max() > 0
    with pytest.raises(ValueError, match="`fourier_features` must be an int >= 0, got -1"):
        kn.init_coupling(jax.random.key(0), 3, (6,), fourier_features=-1)
    with pytest.raises(ValueError, match="`fourier_scale` must be a number > 0, got True"):
        kn.init_coupling(jax.random.key(0), 3, (6,), fourier_features=2, fourier_scale=True)
