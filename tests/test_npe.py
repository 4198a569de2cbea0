"""Tests of kuramoto_jax.npe: diagnostics against hand-computed values, summaries against
independent computations, the drift regression against known couplings, the flow's
density and a posterior calibrated on a problem with a closed-form posterior."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from kuramoto_jax import npe


# -- diagnostics ---------------------------------------------------------------------------
def test_range_normalised_rmse_contraction_by_hand():
    truths = np.array([[0.0], [1.0], [2.0]])
    # draws: data set s has draws θ*_s + (−1, +1)
    draws = truths[:, None, :] + np.array([-1.0, 1.0])[None, :, None]
    # per draw l: RMSE over s = 1, span 2 -> NRMSE 0.5
    np.testing.assert_allclose(npe.range_normalised_rmse(draws, truths), [0.5])
    # Var_post (ddof 1) = 2, Var_prior (ddof 1) of (0, 1, 2) = 1 -> 1 − 2 = −1
    np.testing.assert_allclose(npe.contraction(draws, truths), [-1.0])


def test_calibration_error_exact_posterior_and_overconfident():
    rng = np.random.default_rng(0)
    s, l = 400, 1000
    mu = rng.normal(size=s)
    truths = (mu + rng.normal(size=s))[:, None]
    exact = (mu[:, None] + rng.normal(size=(s, l)))[..., None]
    tight = (mu[:, None] + 0.2 * rng.normal(size=(s, l)))[..., None]
    assert npe.calibration_error(exact, truths)[0] < 0.04
    # an over-confident posterior with sd 0.2 covers α only at 2Φ⁻¹… : coverage(α) = 2Φ(0.2 z_α) − 1
    alphas = np.linspace(0.005, 0.995, 20)
    expect = np.median(np.abs(2 * stats.norm.cdf(0.2 * stats.norm.ppf((1 + alphas) / 2)) - 1 - alphas))
    np.testing.assert_allclose(npe.calibration_error(tight, truths)[0], expect, atol=0.04)


def test_ranks_pit_and_bands():
    draws = np.arange(10.0)[None, :, None].repeat(2, 0)
    truths = np.array([[3.5], [-1.0]])
    np.testing.assert_array_equal(npe.sbc_ranks(draws, truths)[:, 0], [4, 0])
    np.testing.assert_allclose(npe.pit(draws, truths)[:, 0], [0.4, 0.0])
    z, lo, hi = npe.ecdf_bands(200, num_points=50)
    assert np.all(lo <= z) and np.all(z <= hi)
    rng = np.random.default_rng(1)
    inside = np.mean([npe.ecdf_in_bands(rng.uniform(size=200)) for _ in range(40)])
    assert inside >= 0.8  # nominal 0.95
    assert not npe.ecdf_in_bands(rng.uniform(size=200) ** 2)


def test_c2st_separates_and_confuses():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 2))
    assert npe.c2st(a, rng.normal(size=(300, 2))) < 0.6
    assert npe.c2st(a, rng.normal(size=(300, 2)) + 3.0) > 0.95


def test_diagnostics_bad_shapes():
    with pytest.raises(ValueError, match="draws"):
        npe.range_normalised_rmse(np.zeros((3, 5, 2)), np.zeros((4, 2)))


# -- priors and summaries ------------------------------------------------------------------
def test_bounded_map_roundtrip_and_prior():
    low, high = jnp.array([0.0, -1.0]), jnp.array([3.0, 1.0])
    theta = jnp.array([[0.3, 0.5], [2.9, -0.99]])
    np.testing.assert_allclose(npe.to_bounded(npe.to_unbounded(theta, low, high), low, high), theta, rtol=1e-5, atol=1e-6)
    prior = npe.uniform_prior(low, high)
    assert prior.event_shape == (2,)
    np.testing.assert_allclose(prior.log_prob(theta), -np.log(6.0) * np.ones(2))
    with pytest.raises(ValueError, match="high"):
        npe.uniform_prior([1.0], [0.0])


def test_paper_summaries_match_numpy():
    y = np.random.default_rng(0).uniform(0, 2 * np.pi, (4, 7))
    s = np.asarray(npe.paper_summaries(jnp.asarray(y)))
    z = np.exp(1j * y).mean(1)
    expect = np.stack([np.abs(z), np.angle(z), np.cos(y).mean(1), np.cos(y).std(1), np.sin(y).mean(1), np.sin(y).std(1)], 1)
    np.testing.assert_allclose(s, expect, atol=1e-6)  # float32 summaries against the float64 reference


def test_drift_regression_recovers_mean_field_coupling():
    # Noise-free, fine observation grid: K̂ must match K to the trapezoid error.
    sim = npe.simple_network(n=50, protocol=npe.ObservationProtocol(t1=4.0, dt=0.02, stride=1, noise=0.0))
    for K in (0.4, 2.5):
        theta = sim.phases(jax.random.key(1), jnp.array([K]))
        y = jnp.mod(theta, 2 * jnp.pi)  # wrapped phases are handled by circular increments
        k_hat = npe.drift_least_squares_mean_field(y, sim.protocol.spacing)[0]
        assert abs(float(k_hat) - K) < 2e-3 * max(1.0, K)


def test_drift_regression_recovers_three_node_couplings():
    sim = npe.three_node_network(protocol=npe.ObservationProtocol(t1=3.0, dt=0.01, stride=1, noise=0.0))
    k = jnp.array([0.2, 1.5, 0.7, 0.1, 1.1, 0.4])
    y = jnp.mod(sim.phases(jax.random.key(3), k), 2 * jnp.pi)
    k_hat = npe.drift_least_squares_edges(y, sim.protocol.spacing, sim.edges)[:6]
    np.testing.assert_allclose(k_hat, k, atol=2e-3)


def test_three_node_coupling_layout():
    K = npe.three_node_coupling(jnp.arange(1.0, 7.0)).matrix
    np.testing.assert_array_equal(K, [[0, 1, 2], [3, 0, 4], [5, 6, 0]])


def test_simulator_shapes_and_validation():
    sim = npe.simple_network(n=10, protocol=npe.ObservationProtocol(t1=1.0, dt=0.1, stride=2))
    np.testing.assert_allclose(sim.observation_times, np.arange(0, 1.01, 0.2))
    y = sim.simulate(jax.random.key(0), jnp.array([1.0]))
    assert y.shape == (6, 10) and float(y.min()) >= 0 and float(y.max()) < 2 * np.pi
    th, x = npe.simulate_dataset(sim, jax.random.key(0), 5, batch_size=2)
    assert th.shape == (5, 1) and x.shape == (5, 6, 10)
    assert np.all((th >= 0) & (th <= 3))
    # data set m depends on (key, m) only: a shorter set, another batch size, a legacy key with
    # the same bits, or given parameters reproduce it
    th3, x3 = npe.simulate_dataset(sim, jax.random.PRNGKey(0), 3)
    np.testing.assert_array_equal(th3, th[:3])
    np.testing.assert_allclose(x3, x[:3], rtol=1e-6)
    _, x_given = npe.simulate_dataset(sim, jax.random.key(0), 5, params=th)
    np.testing.assert_allclose(x_given, x, rtol=1e-6)
    with pytest.raises(ValueError, match="stride"):
        npe.ObservationProtocol(t1=1.0, dt=0.1, stride=3)
    with pytest.raises(ValueError, match="sigma"):
        npe.simple_network(sigma=-1.0)
    with pytest.raises(ValueError, match="num"):
        npe.simulate_dataset(sim, jax.random.key(0), 0)


# -- flows and posteriors ------------------------------------------------------------------
def test_estimator_density_integrates_to_one():
    rng = np.random.default_rng(0)
    th = rng.uniform(0, 3, (50, 1))
    x = rng.normal(size=(50, 4))
    est = npe.make_estimator(jax.random.key(0), th, x, [0.0], [3.0], npe.FlowConfig(flow_layers=2, nn_width=8))
    grid = jnp.linspace(1e-5, 3 - 1e-5, 20001)[:, None]
    dens = jnp.exp(est.log_prob(grid, jnp.broadcast_to(jnp.asarray(x[0]), (grid.shape[0], 4))))
    assert abs(float(jnp.trapezoid(dens, grid[:, 0])) - 1) < 2e-3
    draws = est.sample(jax.random.key(1), jnp.asarray(x[0]), 100)
    assert draws.shape == (100, 1) and bool(jnp.all((draws > 0) & (draws < 3)))


def test_bounded_density_is_the_change_of_variables_of_the_flow():
    # q(θ | x) through flowjax's bijections equals the change of variables written out:
    # log q_flow(z | c) − Σ log s_u − Σ log(high − low) − Σ log w(1 − w), w = (θ − low)/(high − low).
    rng = np.random.default_rng(0)
    low, high = np.array([0.0, -1.0]), np.array([3.0, 2.0])
    th = rng.uniform(low, high, (60, 2))
    x = rng.normal(size=(60, 3))
    est = npe.make_estimator(jax.random.key(0), th, x, low, high, npe.FlowConfig(flow_layers=2, nn_width=8))
    theta, xx = jnp.asarray(th[:7], jnp.float32), jnp.asarray(x[:7], jnp.float32)
    w = (theta - est.low) / (est.high - est.low)
    z = (jnp.log(w) - jnp.log1p(-w) - est.u_mean) / est.u_std
    expect = est.flow.log_prob(z, est.condition(xx)) - jnp.sum(
        jnp.log(est.u_std) + jnp.log(est.high - est.low) + jnp.log(w) + jnp.log1p(-w), -1)
    np.testing.assert_allclose(est.log_prob(theta, xx), expect, rtol=1e-5, atol=1e-5)
    # draws are the flow's draws pushed through the same map
    zs = est.flow.sample(jax.random.key(4), (5,), condition=est.condition(xx[0]))
    np.testing.assert_allclose(est.sample(jax.random.key(4), xx[0], 5),
                               low + (high - low) / (1 + np.exp(-(est.u_mean + est.u_std * zs))), rtol=1e-5, atol=1e-6)
    # legacy uint32 keys are accepted and mean the same bits
    np.testing.assert_array_equal(est.sample(jax.random.PRNGKey(4), xx[0], 5), est.sample(jax.random.key(4), xx[0], 5))
    with pytest.raises(TypeError, match="`key` must be a PRNG key"):
        npe.make_estimator(4, th, x, low, high, npe.FlowConfig(flow_layers=1, nn_width=4))


def test_sample_posteriors_streams_and_metric_names():
    rng = np.random.default_rng(0)
    th = rng.uniform(0, 1, (40, 2))
    x = rng.normal(size=(40, 3))
    est = npe.make_estimator(jax.random.key(0), th, x, [0.0, 0.0], [1.0, 1.0], npe.FlowConfig(flow_layers=1, nn_width=4))
    draws = npe.sample_posteriors(est, jax.random.PRNGKey(3), x[:5], 6, batch_size=2)
    assert draws.shape == (5, 6, 2)
    # test set s draws from stream (key, s): the same for a shorter batch, and the estimator's own sample
    np.testing.assert_allclose(npe.sample_posteriors(est, jax.random.key(3), x[:2], 6), draws[:2], rtol=1e-6)
    np.testing.assert_allclose(est.sample(jax.random.fold_in(jax.random.key(3), 4), jnp.asarray(x[4], jnp.float32), 6),
                               draws[4], rtol=1e-5)
    m = npe.posterior_metrics(draws, th[:5], ("a", "b"))
    assert m["nrmse"] == pytest.approx((m["nrmse_a"] + m["nrmse_b"]) / 2)
    assert m["calibration_error"] == max(m["calibration_error_a"], m["calibration_error_b"])
    assert set(npe.posterior_metrics(draws[..., :1], th[:5, :1], ("K",))) == {"nrmse", "contraction", "calibration_error"}


def test_train_config_names_the_optax_chain():
    cfg = npe.TrainConfig(optimizer="sgd", learning_rate=0.01, schedule="constant", clip_norm=None)
    opt = cfg.optimizer_config()
    assert (opt.name, opt.learning_rate, opt.schedule, opt.clip_norm) == ("sgd", 0.01, "constant", None)
    with pytest.raises(ValueError, match="optimizer"):
        npe.TrainConfig(optimizer="newton")
    with pytest.raises(ValueError, match="clip_norm"):
        npe.TrainConfig(clip_norm=0.0)


def test_flow_config_validation():
    with pytest.raises(ValueError, match="transformer"):
        npe.FlowConfig(transformer="maf")
    with pytest.raises(ValueError, match="flow_layers"):
        npe.FlowConfig(flow_layers=0)


@pytest.mark.slow  # heavy (compilation-bound): run with `pytest -m slow`
def test_posterior_is_calibrated_on_gaussian_toy(tmp_path):
    # θ ~ U(0, 1), x = θ + 0.1 ε: the exact posterior is N(x, 0.1²) truncated to (0, 1).
    rng = np.random.default_rng(0)
    th = rng.uniform(0, 1, (2000, 1))
    x = th + 0.1 * rng.normal(size=th.shape)
    est, res = npe.fit_estimator(
        jax.random.key(0), th, x, [0.0], [1.0], npe.FlowConfig(transformer="affine", flow_layers=2, nn_width=32, nn_depth=1),
        npe.TrainConfig(num_steps=200, batch_size=256, learning_rate=5e-3, warmup_steps=10, eval_every=100,
                        checkpoint_every=200),
        name="toy",
    )
    ts = rng.uniform(0.1, 0.9, (100, 1))
    xs = ts + 0.1 * rng.normal(size=ts.shape)
    draws = np.stack([np.asarray(est.sample(jax.random.key(i), jnp.asarray(xs[i]), 400)) for i in range(100)])
    assert npe.calibration_error(draws, ts)[0] < 0.1
    sd = draws[:, :, 0].std(1)
    assert np.all(np.abs(np.median(sd) - 0.1) < 0.03)


@pytest.mark.slow  # heavy (compilation-bound): run with `pytest -m slow`
def test_posterior_save_load_roundtrip(tmp_path):
    sim = npe.simple_network(n=8, protocol=npe.ObservationProtocol(t1=1.0, dt=0.1, stride=1))
    sc = npe.SummaryConfig(paper_every=2)
    th, x = npe.simulate_dataset(sim, jax.random.key(0), 20, fn=lambda y: npe.summarize(y, sim, sc))
    fc = npe.FlowConfig(flow_layers=2, nn_width=8)
    est = npe.make_estimator(jax.random.key(1), th, x, *sim.prior_bounds, fc)
    post = npe.Posterior(est, sim, sc)
    npe.save_posterior(tmp_path, post, npe.simulator_spec(sim, "simple", n=8, sigma=1.0, k_max=3.0), fc)
    assert json.loads((tmp_path / "posterior.json").read_text())["flow"]["flow_layers"] == 2
    back = npe.load_posterior(tmp_path)
    y = back.simulate(jax.random.key(2), [1.0])
    assert y.shape == (len(back.observation_times), 8)
    np.testing.assert_allclose(back.sample(jax.random.key(3), y, 10), post.sample(jax.random.key(3), y, 10))
    np.testing.assert_allclose(back.prior_bounds[1], [3.0])
    with pytest.raises(ValueError, match="observation"):
        back.sample(jax.random.key(3), y[1:], 10)
    with pytest.raises(FileNotFoundError, match="run_dir"):
        npe.load_posterior(tmp_path / "missing")


# -- repeated trajectories and the learned summary network ----------------------------------
def test_repeats_stack_trajectories_and_drift_skips_their_joins():
    # R noise-free trajectories from fresh initial phases: the joins between them are not
    # increments, so K̂ must still recover K to the trapezoid error.
    protocol = npe.ObservationProtocol(t1=1.0, dt=0.01, stride=1, noise=0.0, repeats=3)
    sim = npe.three_node_network(protocol=protocol)
    assert sim.observation_times.shape == (303,) and sim.observation_times[101] == 0.0
    k = jnp.array([0.2, 1.5, 0.7, 0.1, 1.1, 0.4])
    theta = sim.phases(jax.random.key(3), k)
    assert theta.shape == (303, 3)
    assert not np.allclose(theta[0], theta[101])  # fresh initial phases per trajectory
    y = jnp.mod(theta, 2 * jnp.pi)
    k_hat = npe.drift_least_squares_edges(y, protocol.spacing, sim.edges, segments=3)[:6]
    np.testing.assert_allclose(k_hat, k, atol=2e-3)
    # the pair sequence: (T_obs − R) rows of 3 cos + 3 sin + 3 increments / Δ
    seq = npe.pair_sequence(y, protocol.spacing, segments=3)
    cfg = npe.SummaryConfig(paper_every=0, drift=False, sequence="pairs")
    assert seq.shape == npe.sequence_shape(sim, cfg) == (300, 9)
    d01 = np.asarray(theta[1] - theta[0])
    np.testing.assert_allclose(seq[0, 6:], d01 / protocol.spacing, rtol=1e-6)
    np.testing.assert_allclose(seq[0, 0], np.cos(theta[0, 1] - theta[0, 0]), atol=1e-6)
    with pytest.raises(ValueError, match="repeats"):
        npe.ObservationProtocol(repeats=0)
    with pytest.raises(ValueError, match="sequence"):
        npe.SummaryConfig(sequence="lstm")


def test_estimator_with_summary_network_density_and_roundtrip():
    rng = np.random.default_rng(0)
    th = rng.uniform(0, 3, (50, 1))
    x = rng.normal(size=(50, 2 + 6 * 3))  # 2 fixed summaries, then a (6, 3) sequence
    fc = npe.FlowConfig(flow_layers=2, nn_width=8, embedding="conv", embedding_dim=3, embedding_width=4)
    est = npe.make_estimator(jax.random.key(0), th, x, [0.0], [3.0], fc, sequence_shape=(6, 3))
    c = est.condition(jnp.asarray(x[:4]))
    assert c.shape == (4, 2 + 3)
    np.testing.assert_allclose(c[:, :2], (x[:4, :2] - x[:, :2].mean(0)) / x[:, :2].std(0), rtol=1e-5)
    import equinox as eqx

    log_prob = eqx.filter_jit(lambda e, th, xx: e.log_prob(th, xx))  # one compile instead of eager dispatch
    # (normalisation in θ holds for any conditioning input: test_estimator_density_integrates_to_one)
    grid = jnp.linspace(0.5, 2.5, 5)[:, None]
    # the sequence part matters: changing it changes log q
    x_alt = x[:5].copy()
    x_alt[:, 2:] += 1.0
    assert not np.allclose(log_prob(est, grid, jnp.asarray(x[:5])), log_prob(est, grid, jnp.asarray(x_alt)))
    from kuramoto_jax.npe._flows import skeleton

    like = skeleton(1, x.shape[1], fc, dtype=est.x_mean.dtype, sequence_shape=(6, 3))
    import io
    buf = io.BytesIO()
    eqx.tree_serialise_leaves(buf, est)
    buf.seek(0)
    back = eqx.tree_deserialise_leaves(buf, like)
    np.testing.assert_allclose(log_prob(back, grid[:5], jnp.asarray(x[:5])), log_prob(est, grid[:5], jnp.asarray(x[:5])))


@pytest.mark.slow  # training-bound (minutes on the loaded 2-core machine): run with `pytest -m slow`
def test_summary_network_learns_what_only_the_sequence_carries():
    # θ ~ U(0, 1); the fixed summary is noise; the sequence (10, 1) holds θ + 0.05 ε per row.
    # Only through the jointly trained summary network can q(θ | x) contract.
    rng = np.random.default_rng(0)
    m, t = 1000, 10
    th = rng.uniform(0, 1, (m, 1))
    x = np.concatenate([rng.normal(size=(m, 1)), th + 0.05 * rng.normal(size=(m, t))], 1)
    fc = npe.FlowConfig(transformer="affine", flow_layers=1, nn_width=16, nn_depth=1, embedding="conv",
                        embedding_dim=2, embedding_width=8)
    est, _ = npe.fit_estimator(jax.random.key(0), th, x, [0.0], [1.0], fc,
                               npe.TrainConfig(num_steps=150, batch_size=128, learning_rate=1e-2, warmup_steps=10,
                                               eval_every=150, checkpoint_every=150),
                               name="toy_embedding", sequence_shape=(t, 1))
    assert est.condition(jnp.asarray(x[:3])).shape == (3, 1 + 2)
    draws = np.stack([np.asarray(est.sample(jax.random.key(i), jnp.asarray(x[i]), 200)) for i in range(20)])
    assert np.median(draws[:, :, 0].std(1)) < 0.1  # prior sd 0.29; exact posterior sd ≈ 0.016
    assert np.median(np.abs(np.median(draws[:, :, 0], 1) - th[:20, 0])) < 0.08
    with pytest.raises(ValueError, match="sequence_shape"):
        npe.make_estimator(jax.random.key(0), th, x, [0.0], [1.0], fc, sequence_shape=(20, 1))
