"""Shared steps of the npe studies: simulate a training set, train the flow, evaluate
on held-out simulations with BayesFlow 2.0's metrics, draw the diagnostic figures."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from kuramoto_jax import npe


@dataclass
class FlowSection:
    transformer: str = field(default="spline", metadata={"choices": ["affine", "spline"], "help": "coupling transformer"})
    architecture: str = field(default="coupling", metadata={"choices": ["coupling", "autoregressive"]})
    flow_layers: int = field(default=4, metadata={"ge": 1, "help": "number of flow layers"})
    nn_width: int = field(default=64, metadata={"ge": 1, "help": "conditioner MLP width"})
    nn_depth: int = field(default=2, metadata={"ge": 1, "help": "conditioner MLP depth"})
    knots: int = field(default=8, metadata={"ge": 2, "help": "spline bins"})
    interval: float = field(default=5.0, metadata={"gt": 0, "help": "spline support [-interval, interval]"})
    embedding: str = field(default="none", metadata={"choices": ["none", "conv"],
                                                     "help": "learned summary network over the summary sequence"})
    embedding_dim: int = field(default=16, metadata={"ge": 1, "help": "summary network outputs"})
    embedding_width: int = field(default=32, metadata={"ge": 1, "help": "summary network channels"})


@dataclass
class TrainSection:
    num_steps: int = field(default=3000, metadata={"ge": 1, "help": "optimiser steps"})
    batch_size: int = field(default=256, metadata={"ge": 1})
    learning_rate: float = field(default=1e-3, metadata={"gt": 0, "help": "AdamW peak rate (warm-up + cosine)"})
    warmup_steps: int = field(default=100, metadata={"ge": 0})
    weight_decay: float = field(default=1e-4, metadata={"ge": 0})
    validation_fraction: float = field(default=0.1, metadata={"gt": 0, "lt": 1})
    eval_every: int = field(default=250, metadata={"ge": 1, "help": "validation loss every this many steps"})
    checkpoint_every: int = field(default=500, metadata={"ge": 1})


def flow_config(s: FlowSection) -> npe.FlowConfig:
    return npe.FlowConfig(**vars(s))


def train_config(s: TrainSection) -> npe.TrainConfig:
    return npe.TrainConfig(**vars(s))


def simulate_summaries(sim, summary, key, num, chunk, ctx, desc):
    """θ (num, P), x (num, D) and the wall time (compile included)."""
    fn = lambda y: npe.summarize(y, sim, summary)
    t = time.perf_counter()
    theta, x = npe.simulate_dataset(sim, key, num, fn=fn, chunk=chunk,
                                    progress=lambda it: ctx.progress(it, desc=desc))
    return theta, x, time.perf_counter() - t


def draw_all(estimator, key, x, num_draws, chunk=100):
    """(S, L, P) posterior draws for summaries x (S, D), vmapped in chunks."""
    f = eqx.filter_jit(eqx.filter_vmap(lambda e, k, xx: e.sample(k, xx, num_draws), in_axes=(None, 0, 0)))
    keys = jax.random.split(key, x.shape[0])
    out = []
    for s in range(0, x.shape[0], chunk):
        out.append(np.asarray(f(estimator, keys[s:s + chunk], jnp.asarray(x[s:s + chunk]))))
    return np.concatenate(out)


def time_inference(post, key, observations, num_draws=1000):
    """Milliseconds per data set for summaries + num_draws draws from raw observations (T_obs, N)."""
    post.sample(key, observations[0], num_draws).block_until_ready()  # compile
    t = time.perf_counter()
    for i, y in enumerate(observations):
        post.sample(jax.random.fold_in(key, i), y, num_draws).block_until_ready()
    return 1e3 * (time.perf_counter() - t) / len(observations)


def metrics_of(draws, truths, names):
    n, c, e = npe.nrmse(draws, truths), npe.contraction(draws, truths), npe.calibration_error(draws, truths)
    out = {}
    if len(names) == 1:
        out.update(nrmse=float(n[0]), contraction=float(c[0]), calibration_error=float(e[0]))
    else:
        for i, name in enumerate(names):
            out[f"nrmse_{name}"] = float(n[i])
            out[f"contraction_{name}"] = float(c[i])
            out[f"calibration_error_{name}"] = float(e[i])
        out.update(nrmse=float(np.mean(n)), contraction=float(np.mean(c)), calibration_error=float(np.max(e)))
    return out


def train_and_evaluate(config, ctx, sim, spec, summary, name, sequence_shape=None):
    """The pipeline every study shares: simulate, fit, save the posterior, score a held-out set.

    Keys: one split of ``config.seed`` into (train, fit, test, draw, time), so a study's
    training and test simulations are reproducible from its seed alone. Returns a dict with
    the estimator ``est``, the fit ``result``, ``t_theta`` (S, P), ``t_x`` (S, D), ``draws``
    (S, L, P) and ``metrics`` (accuracy per `metrics_of` plus timings).
    """
    k_train, k_fit, k_test, k_draw, k_time = jax.random.split(jax.random.key(config.seed), 5)
    theta, x, sim_s = simulate_summaries(sim, summary, k_train, config.num_train, config.chunk, ctx, "simulate")
    ctx.log(f"simulated {config.num_train} data sets ({x.shape[1]} summaries) in {sim_s:.1f} s")
    t = time.perf_counter()
    est, result = npe.fit_estimator(k_fit, theta, x, *sim.prior_bounds, flow_config(config.flow),
                                    train_config(config.train), ctx=ctx, name=name, sequence_shape=sequence_shape)
    train_s = time.perf_counter() - t
    ctx.log(f"trained in {train_s:.1f} s; best validation loss {result.best_loss:.4f} at step {result.best_step}")
    post = npe.Posterior(est, sim, summary)
    npe.save_posterior(ctx.out_dir, post, spec, flow_config(config.flow))

    # Held-out test set: raw observations kept so the timed path is the public one.
    t_theta, t_obs = npe.simulate_dataset(sim, k_test, config.num_test, chunk=min(config.chunk, config.num_test))
    t_x = np.stack([np.asarray(post.summaries(y)) for y in t_obs])
    draws = draw_all(est, k_draw, t_x, config.num_draws)
    metrics = metrics_of(draws, t_theta, sim.param_names)
    ms = time_inference(post, k_time, t_obs[: min(20, config.num_test)], config.num_draws)
    metrics.update(train_seconds=train_s, simulate_seconds=sim_s,
                   simulations_per_second=config.num_train / sim_s, inference_ms_per_dataset=ms,
                   train_steps=float(result.step), best_step=float(result.best_step))
    return {"est": est, "result": result, "t_theta": t_theta, "t_x": t_x, "draws": draws, "metrics": metrics}


def figures(ctx, draws, truths, names, low, high, tag=""):
    """Recovery, posterior histograms at 10 true values, PIT histograms and ECDF with bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    P = truths.shape[1]
    med = np.median(draws, 1)
    q05, q95 = np.quantile(draws, [0.05, 0.95], axis=1)
    fig, axes = plt.subplots(1, P, figsize=(3.2 * P, 3.2), squeeze=False)
    for p, ax in enumerate(axes[0]):
        ax.errorbar(truths[:, p], med[:, p], yerr=[med[:, p] - q05[:, p], q95[:, p] - med[:, p]], fmt=".",
                    ms=3, alpha=0.5, lw=0.6)
        ax.plot([low[p], high[p]], [low[p], high[p]], "k--", lw=0.8)
        ax.set(xlabel=f"true {names[p]}", ylabel="posterior median (90 %)", title=names[p])
    ctx.save_figure(fig, f"recovery{tag}")

    order = np.argsort(truths[:, 0])
    pick = order[np.linspace(0, len(order) - 1, min(10, len(order))).astype(int)]
    fig, axes = plt.subplots(P, len(pick), figsize=(1.8 * len(pick), 1.8 * P), squeeze=False)
    for p in range(P):
        for j, s in enumerate(pick):
            ax = axes[p, j]
            ax.hist(draws[s, :, p], bins=30, color="C0", alpha=0.7)
            ax.axvline(truths[s, p], color="C3")
            ax.set_yticks([])
            ax.set_title(f"{names[p]}* = {truths[s, p]:.2f}", fontsize=7)
            ax.tick_params(labelsize=6)
    fig.tight_layout()
    ctx.save_figure(fig, f"posteriors{tag}")

    pit = npe.pit(draws, truths)
    z, lo, hi = npe.ecdf_bands(pit.shape[0])
    fig, axes = plt.subplots(2, P, figsize=(3.2 * P, 5.6), squeeze=False)
    for p in range(P):
        axes[0, p].hist(pit[:, p], bins=20, range=(0, 1), color="C0", alpha=0.7)
        axes[0, p].axhline(pit.shape[0] / 20, color="k", lw=0.8)
        axes[0, p].set(title=f"PIT {names[p]}")
        ecdf = (pit[:, p][:, None] <= z).mean(0)
        axes[1, p].fill_between(z, lo - z, hi - z, color="0.85", label="95 % simultaneous")
        axes[1, p].plot(z, ecdf - z, "C0")
        axes[1, p].set(xlabel="fractional rank", ylabel="ECDF − uniform")
    axes[1, 0].legend(fontsize=7)
    fig.tight_layout()
    ctx.save_figure(fig, f"calibration{tag}")
