"""Amortized posterior against the ECDF synthetic-likelihood MCMC on the 3-node network
(the protocol is `kuramoto_jax.npe.compare_with_ecdf_mcmc`).

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

from dataclasses import dataclass, field

import numpy as np

from kuramoto_jax import npe

from .three_node import Config as ThreeNodeConfig
from .three_node import run as run_three_node

METHODS = ("npe", "nuts", "sa")
SETTINGS = ("num_datasets", "num_draws", "nuts_samples", "nuts_warmup", "max_tree_depth", "sa_samples", "sa_warmup",
            "sa_thin", "c2st_draws", "ecdf")


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
    ecdf: npe.ECDFConfig = field(default_factory=npe.ECDFConfig)
    three_node: ThreeNodeConfig = field(default_factory=ThreeNodeConfig)

    def __post_init__(self):
        if len(self.test_params) != 6:
            raise ValueError(f"`test_params` must have 6 values (k12, k13, k21, k23, k31, k32), got {self.test_params!r}")


def _posterior(config: Config, ctx):
    if config.posterior_dir:
        ctx.log(f"loading the posterior from {config.posterior_dir}")
        return npe.load_posterior(config.posterior_dir), {}
    ctx.log("no posterior_dir: training a 3-node posterior with the `three_node` section")
    m = run_three_node(config.three_node, ctx)
    return npe.load_posterior(ctx.out_dir, require_complete=False), {f"npe_{k}": v for k, v in m.items()}


def run(config: Config, ctx) -> dict:
    post, npe_metrics = _posterior(config, ctx)
    sim = post.simulator
    if sim.num_params != 6:
        raise ValueError(f"`posterior_dir` holds a posterior over {sim.num_params} parameters; expected the 3-node network's 6")
    truth, names = np.asarray(config.test_params, float), sim.param_names
    metrics, draws, seconds = npe.compare_with_ecdf_mcmc(post, ctx.key("compare"), truth, log=ctx.log,
                                                         **{k: getattr(config, k) for k in SETTINGS})
    metrics = {**npe_metrics, **metrics}
    ctx.save_arrays(truth=truth, **{f"draws_{m}": draws[m].astype(np.float32) for m in METHODS},
                    **{f"seconds_{m}": seconds[m] for m in METHODS})
    figures = npe.comparison_figures({m: draws[m][0] for m in METHODS}, truth, names, *sim.prior_bounds)
    for name, fig in figures.items():
        ctx.save_figure(fig, name)
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
