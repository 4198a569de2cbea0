r"""The amortized posterior against the ECDF synthetic-likelihood MCMC at fixed couplings K*.

For `num_datasets` observations y_d ~ p(y | K*) of the posterior's own simulator:

- NPE: draws from the trained q(K | y_d);
- NUTS on the sigmoid-smoothed ECDF likelihood with common random numbers
  (`ECDFLikelihood(smoothing > 0)`, gradients through the simulator);
- SA (numpyro's gradient-free sample-adaptive MCMC) on the unsmoothed ECDF likelihood.

Both likelihoods have their covariance fitted at K* (the setting of Shah et al., which
favours the baseline). Reported per method: marginal means and standard deviations, pair
correlations, contraction against the uniform prior's variance, C2ST between the methods'
draws, wall seconds per data set (likelihood fit + sampling, compile included, as a user
pays it); and how informative the ECDF likelihood is: the fraction of prior draws whose
synthetic log-likelihood is at least the one at K*.

Random streams from `key` by name: "observation", "npe", "npe_timing", "likelihood",
"mcmc" (then the method's name), "profile" and "c2st", each then indexed by the data set.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from dataclasses import field

import jax
import jax.numpy as jnp
import numpy as np

from kuramoto_jax._streams import stream_key
from kuramoto_jax._validate import prng_key
from kuramoto_jax.parallel import batch_map

from ._diagnostics import c2st
from ._mcmc import ECDFLikelihood, sample_ecdf_posterior

METHODS = ("npe", "nuts", "sa")


@dataclasses.dataclass(frozen=True)
class ECDFConfig:
    """The ECDF synthetic likelihood of the comparison.

    Attributes:
        num_ref: simulations at K* for the ECDF covariance.
        num_bins: ECDF bin points per feature.
        num_sim: common-random-number simulations per likelihood evaluation.
        smoothing: sigmoid width h of the NUTS likelihood.
        shrinkage: covariance shrinkage towards its diagonal.
        num_profile: prior draws for the informativeness check.
    """

    num_ref: int = field(default=200, metadata={"ge": 2, "help": "simulations at K* for the ECDF covariance"})
    num_bins: int = field(default=10, metadata={"ge": 1, "help": "ECDF bin points per feature"})
    num_sim: int = field(default=20, metadata={"ge": 1, "help": "common-random-number simulations per likelihood"})
    smoothing: float = field(default=0.02, metadata={"gt": 0, "help": "sigmoid width h for the NUTS likelihood"})
    shrinkage: float = field(default=0.2, metadata={"ge": 0, "le": 1, "help": "covariance shrinkage to its diagonal"})
    num_profile: int = field(default=200, metadata={"ge": 2, "help": "prior draws for the informativeness check"})


def _stats(draws, low, high):
    prior_var = (high - low) ** 2 / 12
    return draws.mean(0), draws.std(0, ddof=1), np.corrcoef(draws, rowvar=False), 1 - draws.var(0, ddof=1) / prior_var


def compare_with_ecdf_mcmc(posterior, key, theta_star, *, num_datasets: int = 1, num_draws: int = 1000,
                           nuts_samples: int = 500, nuts_warmup: int = 500, max_tree_depth: int = 10,
                           sa_samples: int = 1000, sa_warmup: int = 5000, sa_thin: int = 5, c2st_draws: int = 500,
                           ecdf: ECDFConfig = ECDFConfig(), log=None):
    """Run the three methods on `num_datasets` observations at θ* = `theta_star` (P,).

    Args:
        posterior: the trained `Posterior` (its simulator simulates the observations).
        key: PRNG key (typed or a legacy `jax.random.PRNGKey`).
        theta_star: (P,) the test parameters, inside the prior box.
        num_datasets: observations simulated at θ*.
        num_draws: NPE draws per data set.
        nuts_samples: NUTS draws kept per data set.
        nuts_warmup: NUTS warm-up steps.
        max_tree_depth: NUTS trajectories have at most 2^depth − 1 leapfrog steps.
        sa_samples: SA draws kept per data set (after thinning).
        sa_warmup: SA warm-up steps.
        sa_thin: SA keeps every k-th of sa_samples·k draws.
        c2st_draws: draws per method in each C2ST.
        ecdf: the likelihood's `ECDFConfig`.
        log: optional callable for progress lines.

    Returns:
        (metrics dict, draws {method: (num_datasets, L_method, P)}, seconds {method: (num_datasets,)}).
    """
    key = prng_key("key", key)
    sim = posterior.simulator
    low, high = sim.prior_bounds
    truth = np.asarray(theta_star, float)
    if truth.shape != (sim.num_params,) or np.any(truth <= low) or np.any(truth >= high):
        raise ValueError(f"`theta_star` must be ({sim.num_params},) inside the prior box ({low}, {high}), got {truth}")
    log = log or (lambda _msg: None)
    dtype = posterior.estimator.x_mean.dtype
    theta = jnp.asarray(truth, dtype)
    draws, seconds = {m: [] for m in METHODS}, {m: [] for m in METHODS}
    profile, warm, at_draws = [], [], {m: [] for m in METHODS}
    for d in range(num_datasets):
        y = posterior.simulate(stream_key(key, "observation", d), theta)
        t = time.perf_counter()
        draws["npe"].append(np.asarray(posterior.sample(stream_key(key, "npe", d), y, num_draws)))
        seconds["npe"].append(time.perf_counter() - t)
        t = time.perf_counter()  # the same call once compiled: what every further data set costs
        posterior.sample(stream_key(key, "npe_timing", d), y, num_draws).block_until_ready()
        warm.append(time.perf_counter() - t)
        for method, smoothing in (("nuts", ecdf.smoothing), ("sa", 0.0)):
            t = time.perf_counter()
            lik = ECDFLikelihood.fit(sim, stream_key(key, "likelihood", d), theta, num_ref=ecdf.num_ref,
                                     num_bins=ecdf.num_bins, num_sim=ecdf.num_sim, smoothing=smoothing,
                                     shrinkage=ecdf.shrinkage)
            kw = (dict(num_samples=nuts_samples, num_warmup=nuts_warmup, max_tree_depth=max_tree_depth)
                  if method == "nuts" else dict(num_samples=sa_samples * sa_thin, num_warmup=sa_warmup))
            out = sample_ecdf_posterior(lik, stream_key(key, "mcmc", method, d), y, sampler=method, **kw)
            draws[method].append(out[:: (sa_thin if method == "sa" else 1)])
            seconds[method].append(time.perf_counter() - t)
            log(f"data set {d}: {method} {seconds[method][-1]:.1f} s")
            if method == "nuts":
                # Informativeness: rank of log L(K*) among log L at prior draws.
                prior_draws = sim.prior.sample(stream_key(key, "profile", d), (ecdf.num_profile,))
                e_nuts = lik.observe(y)
                ll = batch_map(lambda th: lik.log_likelihood(th, e_nuts), prior_draws, gather=True)
                ll_star = float(lik.log_likelihood(theta, e_nuts))
                profile.append((float(np.mean(np.asarray(ll) >= ll_star)), ll_star - float(np.median(ll))))
                lik_nuts = lik
        # Where each method's draws sit on the smoothed likelihood: a flat ridge makes very
        # different draws score alike.
        f = lambda th: lik_nuts.log_likelihood(th, e_nuts)  # one function object: one compilation
        for m in METHODS:
            sub = draws[m][-1][:: max(1, len(draws[m][-1]) // 100)][:100]
            ll = batch_map(f, jnp.asarray(sub, dtype), gather=True)
            at_draws[m].append((float(np.mean(ll >= ll_star)), float(np.median(ll)) - ll_star))

    metrics, names = {}, sim.param_names
    for m in METHODS:
        stats = [_stats(np.asarray(dr, float), low, high) for dr in draws[m]]
        mean, sd, corr, con = (np.mean([s[i] for s in stats], 0) for i in range(4))
        for p, name in enumerate(names):
            metrics.update({f"{m}_mean_{name}": float(mean[p]), f"{m}_sd_{name}": float(sd[p]),
                            f"{m}_contraction_{name}": float(con[p])})
        for i, j in itertools.combinations(range(len(names)), 2):
            metrics[f"{m}_corr_{names[i]}_{names[j]}"] = float(corr[i, j])
        metrics[f"{m}_abs_error"] = float(np.mean(np.abs(mean - truth)))
        metrics[f"{m}_seconds_per_dataset"] = float(np.mean(seconds[m][1:] if len(seconds[m]) > 1 else seconds[m]))
        metrics[f"{m}_seconds_first_dataset"] = float(seconds[m][0])
        metrics[f"ecdf_frac_{m}_draws_above_truth"] = float(np.mean([a[0] for a in at_draws[m]]))
        metrics[f"ecdf_loglik_{m}_draws_median_minus_truth"] = float(np.mean([a[1] for a in at_draws[m]]))
    for a, b in itertools.combinations(METHODS, 2):
        accs = []
        for d in range(num_datasets):
            k_a, k_b, k_clf = jax.random.split(stream_key(key, "c2st", a, b, d), 3)
            n = min(c2st_draws, len(draws[a][d]), len(draws[b][d]))
            da = draws[a][d][np.asarray(jax.random.choice(k_a, len(draws[a][d]), (n,), replace=False))]
            db = draws[b][d][np.asarray(jax.random.choice(k_b, len(draws[b][d]), (n,), replace=False))]
            accs.append(c2st(da, db, seed=int(jax.random.randint(k_clf, (), 0, 2**31 - 1))))
        metrics[f"c2st_{a}_{b}"] = float(np.mean(accs))
    metrics["npe_seconds_compiled"] = float(np.mean(warm))
    metrics["ecdf_prior_fraction_above_truth"] = float(np.mean([p[0] for p in profile]))
    metrics["ecdf_loglik_truth_minus_prior_median"] = float(np.mean([p[1] for p in profile]))
    return metrics, {m: np.stack(draws[m]) for m in METHODS}, {m: np.asarray(seconds[m]) for m in METHODS}
