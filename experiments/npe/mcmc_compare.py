"""Amortized posterior against the ECDF synthetic-likelihood MCMC on the 3-node network.

At fixed test couplings K* (the paper's values did not survive in its text; ours are
documented in the config), `num_datasets` observations y_d ~ p(y | K*) are simulated with
the posterior's own simulator. For each y_d:

- NPE: draws from the trained q(K | y_d) (loaded from `posterior_dir`, or trained first
  with the `three_node` section when no folder is given);
- NUTS on the sigmoid-smoothed ECDF likelihood with common random numbers
  (`npe.ECDFLikelihood(smoothing > 0)`, gradients through the simulator);
- SA (numpyro's gradient-free sample-adaptive MCMC) on the unsmoothed ECDF likelihood.

Both likelihoods have their covariance fitted at K* (the setting of Shah et al., which
favours the baseline). Reported per method: marginal means and standard deviations,
pair correlations, contraction against the U(0, k_max) prior's variance, C2ST between
the methods' draws, and wall seconds per data set (likelihood fit + sampling, compile
included, as a user pays it). How informative the ECDF likelihood is, is measured
directly: the fraction of prior draws whose synthetic log-likelihood is at least the one
at K*.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from kuramoto_jax import npe

from .three_node import Config as ThreeNodeConfig
from .three_node import run as run_three_node

METHODS = ("npe", "nuts", "sa")


@dataclass
class ECDFSection:
    num_ref: int = field(default=200, metadata={"ge": 2, "help": "simulations at K* for the ECDF covariance"})
    num_bins: int = field(default=10, metadata={"ge": 1, "help": "ECDF bin points per feature"})
    num_sim: int = field(default=20, metadata={"ge": 1, "help": "common-random-number simulations per likelihood"})
    smoothing: float = field(default=0.02, metadata={"gt": 0, "help": "sigmoid width h for the NUTS likelihood"})
    shrinkage: float = field(default=0.2, metadata={"ge": 0, "le": 1, "help": "covariance shrinkage to its diagonal"})
    num_profile: int = field(default=200, metadata={"ge": 2, "help": "prior draws for the informativeness check"})


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "PRNG seed"})
    posterior_dir: str = field(default="", metadata={"help": "run folder of a three_node study ('' trains one first)"})
    test_params: list[float] = field(default_factory=lambda: [0.5, 1.5, 1.0, 0.3, 1.2, 0.8],
                                     metadata={"help": "K* = (k12, k13, k21, k23, k31, k32)"})
    num_datasets: int = field(default=2, metadata={"ge": 1, "help": "observations simulated at K*"})
    num_draws: int = field(default=1000, metadata={"ge": 10, "help": "NPE draws per data set"})
    nuts_samples: int = field(default=500, metadata={"ge": 10, "help": "NUTS draws kept per data set"})
    nuts_warmup: int = field(default=500, metadata={"ge": 1})
    max_tree_depth: int = field(default=10, metadata={"ge": 1, "help": "NUTS: at most 2^depth − 1 leapfrog steps"})
    sa_samples: int = field(default=1000, metadata={"ge": 10, "help": "SA draws kept per data set (after thinning)"})
    sa_warmup: int = field(default=5000, metadata={"ge": 1})
    sa_thin: int = field(default=5, metadata={"ge": 1, "help": "SA keeps every k-th of sa_samples·k draws"})
    c2st_draws: int = field(default=500, metadata={"ge": 10, "help": "draws per method in the C2ST"})
    ecdf: ECDFSection = field(default_factory=ECDFSection)
    three_node: ThreeNodeConfig = field(default_factory=ThreeNodeConfig)

    def __post_init__(self):
        if len(self.test_params) != 6:
            raise ValueError(f"`test_params` must have 6 values (k12, k13, k21, k23, k31, k32), got {self.test_params!r}")


def _posterior(config: Config, ctx):
    if config.posterior_dir:
        ctx.log(f"loading the posterior from {config.posterior_dir}")
        return npe.load_posterior(config.posterior_dir), {}
    ctx.log("no posterior_dir: training a 3-node posterior with the `three_node` section")
    m = run_three_node(dataclasses.replace(config.three_node, seed=config.seed), ctx)
    return npe.load_posterior(ctx.out_dir), {f"npe_{k}": v for k, v in m.items()}


def _stats(draws, low, high):
    prior_var = (high - low) ** 2 / 12
    corr = np.corrcoef(draws, rowvar=False)
    return draws.mean(0), draws.std(0, ddof=1), corr, 1 - draws.var(0, ddof=1) / prior_var


def run(config: Config, ctx) -> dict:
    post, npe_metrics = _posterior(config, ctx)
    sim = post.simulator
    if sim.num_params != 6:
        raise ValueError(f"`posterior_dir` holds a posterior over {sim.num_params} parameters; expected the 3-node network's 6")
    low, high = sim.prior_bounds
    truth = np.asarray(config.test_params, float)
    if np.any(truth <= low) or np.any(truth >= high):
        raise ValueError(f"`test_params` must lie inside the prior box ({low}, {high}), got {truth}")
    names = sim.param_names
    k_obs, k_npe, k_lik, k_mcmc, k_prof = jax.random.split(jax.random.key(config.seed + 1000), 5)
    dtype = post.estimator.x_mean.dtype
    theta_star = jnp.asarray(truth, dtype)
    e = config.ecdf

    draws = {m: [] for m in METHODS}
    seconds = {m: [] for m in METHODS}
    profile, warm = [], []
    at_draws = {m: [] for m in METHODS}
    for d in range(config.num_datasets):
        y = post.simulate(jax.random.fold_in(k_obs, d), theta_star)

        t = time.perf_counter()
        draws["npe"].append(np.asarray(post.sample(jax.random.fold_in(k_npe, d), y, config.num_draws)))
        seconds["npe"].append(time.perf_counter() - t)
        t = time.perf_counter()  # the same call once compiled: what every further data set costs
        post.sample(jax.random.fold_in(k_npe, d + config.num_datasets), y, config.num_draws).block_until_ready()
        warm.append(time.perf_counter() - t)

        for method, smoothing in (("nuts", e.smoothing), ("sa", 0.0)):
            t = time.perf_counter()
            lik = npe.ECDFLikelihood.fit(sim, jax.random.fold_in(k_lik, d), theta_star, num_ref=e.num_ref,
                                         num_bins=e.num_bins, num_sim=e.num_sim, smoothing=smoothing,
                                         shrinkage=e.shrinkage)
            kw = (dict(num_samples=config.nuts_samples, num_warmup=config.nuts_warmup,
                       max_tree_depth=config.max_tree_depth) if method == "nuts" else
                  dict(num_samples=config.sa_samples * config.sa_thin, num_warmup=config.sa_warmup))
            out = npe.sample_ecdf_posterior(lik, jax.random.fold_in(k_mcmc, 2 * d + (method == "sa")), y,
                                            sampler=method, **kw)
            draws[method].append(out[:: (config.sa_thin if method == "sa" else 1)])
            seconds[method].append(time.perf_counter() - t)
            ctx.log(f"data set {d}: {method} {seconds[method][-1]:.1f} s")
            if method == "nuts":
                # Informativeness: rank of log L(K*) among log L at prior draws.
                prior_draws = sim.prior.sample(jax.random.fold_in(k_prof, d), (e.num_profile,))
                e_obs = lik.observe(y)
                ll = jax.jit(jax.vmap(lambda th: lik.log_likelihood(th, e_obs)))(prior_draws)
                ll_star = float(lik.log_likelihood(theta_star, e_obs))
                profile.append((float(np.mean(np.asarray(ll) >= ll_star)), ll_star - float(np.median(ll))))
                lik_nuts, e_nuts, ll_nuts_star = lik, e_obs, ll_star
        # Where each method's draws sit on the smoothed likelihood: a flat ridge makes
        # very different draws score alike.
        f = jax.jit(jax.vmap(lambda th: lik_nuts.log_likelihood(th, e_nuts)))
        for m in METHODS:
            sub = draws[m][-1][:: max(1, len(draws[m][-1]) // 100)][:100]
            ll = np.asarray(f(jnp.asarray(sub, dtype)))
            at_draws[m].append((float(np.mean(ll >= ll_nuts_star)), float(np.median(ll)) - ll_nuts_star))

    metrics = dict(npe_metrics)
    stats = {m: [_stats(np.asarray(dr, float), low, high) for dr in draws[m]] for m in METHODS}
    for m in METHODS:
        mean = np.mean([s[0] for s in stats[m]], 0)
        sd = np.mean([s[1] for s in stats[m]], 0)
        corr = np.mean([s[2] for s in stats[m]], 0)
        con = np.mean([s[3] for s in stats[m]], 0)
        for p, name in enumerate(names):
            metrics[f"{m}_mean_{name}"] = float(mean[p])
            metrics[f"{m}_sd_{name}"] = float(sd[p])
            metrics[f"{m}_contraction_{name}"] = float(con[p])
        for i, j in itertools.combinations(range(len(names)), 2):
            metrics[f"{m}_corr_{names[i]}_{names[j]}"] = float(corr[i, j])
        metrics[f"{m}_abs_error"] = float(np.mean(np.abs(mean - truth)))
        metrics[f"{m}_seconds_per_dataset"] = float(np.mean(seconds[m][1:] if len(seconds[m]) > 1 else seconds[m]))
        metrics[f"{m}_seconds_first_dataset"] = float(seconds[m][0])
    rng = np.random.default_rng(config.seed)
    for a, b in itertools.combinations(METHODS, 2):
        accs = []
        for d in range(config.num_datasets):
            n = min(config.c2st_draws, len(draws[a][d]), len(draws[b][d]))
            da = draws[a][d][rng.choice(len(draws[a][d]), n, replace=False)]
            db = draws[b][d][rng.choice(len(draws[b][d]), n, replace=False)]
            accs.append(npe.c2st(da, db, seed=config.seed))
        metrics[f"c2st_{a}_{b}"] = float(np.mean(accs))
    metrics["npe_seconds_compiled"] = float(np.mean(warm))
    for m in METHODS:
        metrics[f"ecdf_frac_{m}_draws_above_truth"] = float(np.mean([a[0] for a in at_draws[m]]))
        metrics[f"ecdf_loglik_{m}_draws_median_minus_truth"] = float(np.mean([a[1] for a in at_draws[m]]))
    metrics["ecdf_prior_fraction_above_truth"] = float(np.mean([p[0] for p in profile]))
    metrics["ecdf_loglik_truth_minus_prior_median"] = float(np.mean([p[1] for p in profile]))

    ctx.save_arrays(truth=truth, **{f"draws_{m}": np.stack(draws[m]).astype(np.float32) for m in METHODS},
                    **{f"seconds_{m}": np.asarray(seconds[m]) for m in METHODS})
    _figures(ctx, {m: draws[m][0] for m in METHODS}, truth, names, low, high)
    rows = "; ".join(f"{n} {metrics[f'npe_mean_{n}']:.2f}±{metrics[f'npe_sd_{n}']:.2f} / "
                     f"{metrics[f'nuts_mean_{n}']:.2f}±{metrics[f'nuts_sd_{n}']:.2f} / "
                     f"{metrics[f'sa_mean_{n}']:.2f}±{metrics[f'sa_sd_{n}']:.2f}" for n in names)
    ctx.summary(
        f"3-node network at K* = {truth.tolist()}, {config.num_datasets} data set(s). Marginals NPE / NUTS-ECDF / "
        f"SA-ECDF (mean±sd): {rows}. C2ST NPE–NUTS {metrics['c2st_npe_nuts']:.3f}, NPE–SA {metrics['c2st_npe_sa']:.3f}, "
        f"NUTS–SA {metrics['c2st_nuts_sa']:.3f}. Seconds per data set: NPE {metrics['npe_seconds_per_dataset']:.3f}, "
        f"NUTS {metrics['nuts_seconds_per_dataset']:.1f}, SA {metrics['sa_seconds_per_dataset']:.1f}. ECDF likelihood: "
        f"{100 * metrics['ecdf_prior_fraction_above_truth']:.0f} % of prior draws score at least log L(K*).")
    return metrics


def _figures(ctx, draws, truth, names, low, high):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {"npe": "NPE (flow)", "nuts": "NUTS, smoothed ECDF", "sa": "SA, ECDF"}
    P = len(names)
    fig, axes = plt.subplots(1, P, figsize=(2.6 * P, 2.6))
    for p, ax in enumerate(axes):
        for c, m in enumerate(METHODS):
            ax.hist(draws[m][:, p], bins=30, range=(low[p], high[p]), density=True, histtype="step", color=f"C{c}",
                    label=labels[m])
        ax.axvline(truth[p], color="k", ls="--", lw=0.8)
        ax.set(xlabel=names[p], yticks=[])
    axes[0].legend(fontsize=6)
    fig.tight_layout()
    ctx.save_figure(fig, "mcmc_marginals")

    fig, axes = plt.subplots(P, 2 * P + 1, figsize=(1.5 * (2 * P + 1), 1.5 * P))
    for block, m in enumerate(("npe", "nuts")):
        for i in range(P):
            for j in range(P):
                ax = axes[i, block * (P + 1) + j]
                if i == j:
                    ax.hist(draws[m][:, i], bins=30, range=(low[i], high[i]), color=f"C{block}", alpha=0.7)
                    ax.axvline(truth[i], color="k", lw=0.8)
                elif i > j:
                    ax.plot(draws[m][:, j], draws[m][:, i], ".", ms=1, alpha=0.3, color=f"C{block}")
                    ax.plot(truth[j], truth[i], "r*", ms=5)
                    ax.set(xlim=(low[j], high[j]), ylim=(low[i], high[i]))
                else:
                    ax.axis("off")
                ax.tick_params(labelsize=4)
                if i == P - 1:
                    ax.set_xlabel(names[j], fontsize=6)
                if j == 0:
                    ax.set_ylabel(names[i], fontsize=6)
        axes[0, block * (P + 1) + P - 1].set_title(labels[m], fontsize=8)
    for i in range(P):
        axes[i, P].axis("off")
    fig.tight_layout()
    ctx.save_figure(fig, "mcmc_pairs")

    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    for ax, m in zip(axes, METHODS):
        im = ax.imshow(np.corrcoef(draws[m], rowvar=False), vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set(xticks=range(P), yticks=range(P), title=labels[m])
        ax.set_xticklabels(names, fontsize=6)
        ax.set_yticklabels(names, fontsize=6)
    fig.colorbar(im, ax=axes, shrink=0.8)
    ctx.save_figure(fig, "mcmc_correlations")
