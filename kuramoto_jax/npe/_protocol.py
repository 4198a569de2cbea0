r"""The amortized-inference protocol: simulate a training set, train the flow, score held-out data.

    ev = npe.train_and_evaluate(key, simulator, summary, num_train=10_000, num_test=300, num_draws=1000,
                                flow=npe.FlowConfig(), train=npe.TrainConfig())
    ev.metrics["nrmse"], ev.posterior.sample(key, observation, 1000)

Random streams, all derived by name from `key` (`kuramoto_jax.stream_key`): "training_set"
(prior draws and simulations), "fit" (weights, validation split, batches), "test_set",
"draws" (index s for test set s) and "timing". The simulations and the posterior draws of
the test sets are batched with `kuramoto_jax.parallel.batch_map` (without a `devices`
argument: inside a run over the run's devices), so the metrics do not depend on how many
devices ran them.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import jax
import numpy as np

from kuramoto_jax._streams import stream_key
from kuramoto_jax._validate import prng_key
from kuramoto_jax.parallel import batch_map

from ._config import FlowConfig, TrainConfig
from ._diagnostics import calibration_error, contraction, range_normalised_rmse
from ._posterior import Posterior
from ._simulators import simulate_dataset
from ._summaries import SummaryConfig, sequence_shape, summarize
from ._training import fit_estimator


@dataclasses.dataclass
class Evaluation:
    """What `train_and_evaluate` returns.

    Attributes:
        posterior: the trained `Posterior` (best validation weights).
        train_result: `kuramoto_jax.run.TrainResult` of the flow's training (loss history, best step).
        test_theta: (S, P) true parameters of the held-out test sets.
        test_x: (S, D) their summaries.
        draws: (S, L, P) posterior draws for every test set.
        metrics: accuracy (`posterior_metrics`) and timings (train_seconds, simulate_seconds,
            simulations_per_second, inference_ms_per_dataset, train_steps, best_step).
    """

    posterior: Posterior
    train_result: Any
    test_theta: np.ndarray
    test_x: np.ndarray
    draws: np.ndarray
    metrics: dict


def _count(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be an integer ≥ 1, got {value!r}")
    return int(value)


def sample_posteriors(estimator, key, x, num_draws: int, batch_size: int | None = 100):
    """(S, L, P) draws θ ~ q(θ | x_s) for summaries x (S, D), test set s from stream (key, s).

    Batched with `kuramoto_jax.parallel.batch_map` (the run's devices inside a run), at most
    `batch_size` data sets vmapped at once per device.
    """
    k_draw = prng_key("key", key)
    num_draws = _count("num_draws", num_draws)
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"`x` must be (S, D) summaries, got shape {x.shape}")
    return batch_map(lambda s, xs: estimator.sample(jax.random.fold_in(k_draw, s), xs, num_draws),
                     np.arange(x.shape[0], dtype=np.uint32), x, batch_size=batch_size, gather=True)


def posterior_metrics(draws, truths, names) -> dict[str, float]:
    """BayesFlow's three accuracy metrics of draws (S, L, P) against truths (S, P).

    One parameter: "nrmse" (`range_normalised_rmse`), "contraction", "calibration_error".
    Several: the same per parameter (suffix `_<name>`), plus the mean NRMSE and contraction and
    the worst calibration error over the parameters under the bare names.
    """
    n, c, e = range_normalised_rmse(draws, truths), contraction(draws, truths), calibration_error(draws, truths)
    if len(names) == 1:
        return {"nrmse": float(n[0]), "contraction": float(c[0]), "calibration_error": float(e[0])}
    out = {}
    for i, name in enumerate(names):
        out.update({f"nrmse_{name}": float(n[i]), f"contraction_{name}": float(c[i]),
                    f"calibration_error_{name}": float(e[i])})
    out.update(nrmse=float(np.mean(n)), contraction=float(np.mean(c)), calibration_error=float(np.max(e)))
    return out


def time_inference(posterior: Posterior, key, observations, num_draws: int = 1000) -> float:
    """Milliseconds per data set for summaries + num_draws draws from raw observations (T_obs, N),
    one data set per call as a user pays it, after a compiling call."""
    key = prng_key("key", key)
    posterior.sample(key, observations[0], num_draws).block_until_ready()
    t = time.perf_counter()
    for i, y in enumerate(observations):
        posterior.sample(jax.random.fold_in(key, i), y, num_draws).block_until_ready()
    return 1e3 * (time.perf_counter() - t) / len(observations)


def train_and_evaluate(key, simulator, summary: SummaryConfig, *, num_train: int, num_test: int, num_draws: int,
                       flow: FlowConfig = FlowConfig(), train: TrainConfig = TrainConfig(),
                       batch_size: int | None = None, ctx=None, name: str = "npe", num_timed: int = 20) -> Evaluation:
    """Simulate `num_train` pairs, fit q(θ | x), and score it on `num_test` fresh simulations.

    Args:
        key: PRNG key (typed, or a legacy `jax.random.PRNGKey`), root of the protocol's streams.
        simulator: the `NetworkSimulator` (its uniform prior is the training distribution).
        summary: the `SummaryConfig` x = summarize(y).
        num_train: training simulations (a `validation_fraction` of them validates).
        num_test: held-out test sets.
        num_draws: posterior draws per test set.
        flow: the flow's `FlowConfig`.
        train: the optimisation's `TrainConfig`.
        batch_size: simulations vmapped at once per device (bounds memory; None: all).
        ctx: the run's `RunContext` (log, checkpoints and resume of the training), or None.
        name: checkpoint name of the training.
        num_timed: test sets timed one at a time for `inference_ms_per_dataset`.

    Returns:
        An `Evaluation`.
    """
    key = prng_key("key", key)
    num_train, num_test, num_draws = (_count(n, v) for n, v in
                                      (("num_train", num_train), ("num_test", num_test), ("num_draws", num_draws)))
    log = ctx.log if ctx is not None else (lambda _msg: None)
    summarise = lambda y: summarize(y, simulator, summary)
    t = time.perf_counter()
    theta, x = simulate_dataset(simulator, stream_key(key, "training_set"), num_train, fn=summarise,
                                batch_size=batch_size)
    sim_s = time.perf_counter() - t
    log(f"simulated {num_train} data sets ({x.shape[1]} summaries) in {sim_s:.1f} s")

    t = time.perf_counter()
    est, result = fit_estimator(stream_key(key, "fit"), theta, x, *simulator.prior_bounds, flow, train, ctx=ctx,
                                name=name, sequence_shape=sequence_shape(simulator, summary))
    train_s = time.perf_counter() - t
    log(f"trained in {train_s:.1f} s; best validation loss {result.best_loss:.4f} at step {result.best_step}")
    post = Posterior(est, simulator, summary)

    # Held-out test sets: raw observations kept so that the timed path is the public one.
    t_theta, (t_obs, t_x) = simulate_dataset(
        simulator, stream_key(key, "test_set"), num_test, batch_size=batch_size,
        fn=lambda y: (y, summarise(y)))
    draws = sample_posteriors(est, stream_key(key, "draws"), t_x, num_draws)
    metrics = posterior_metrics(draws, t_theta, simulator.param_names)
    ms = time_inference(post, stream_key(key, "timing"), t_obs[:num_timed], num_draws)
    metrics.update(train_seconds=train_s, simulate_seconds=sim_s, simulations_per_second=num_train / sim_s,
                   inference_ms_per_dataset=ms, train_steps=float(result.step), best_step=float(result.best_step))
    return Evaluation(posterior=post, train_result=result, test_theta=t_theta, test_x=np.asarray(t_x),
                      draws=np.asarray(draws), metrics=metrics)

