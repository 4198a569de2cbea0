r"""The likelihood-based baseline: a Gaussian synthetic likelihood of ECDF vectors
(Shah et al. 2023; the correlation-integral likelihood of Haario et al. 2015), sampled
with numpyro.

For one data set y, the features s_t (T, F) (by default the six statistics per time)
give one empirical CDF per feature at fixed bin points b_1..b_B:

    e_f(b) = (1/T) Σ_t 1[s_tf ≤ b]          → e(y) ∈ [0, 1]^{F·B}.

The vector is modelled as Gaussian, with covariance Σ₀ estimated from repeated
simulations at a reference parameter θ₀ and mean ē(θ) = mean of e over `num_sim`
simulations at θ with fixed random numbers (common random numbers make ē(θ) a fixed
function of θ):

    log L(θ) = log N(e(y_obs); ē(θ), (1 + 1/num_sim) Σ₀).

With the indicator replaced by σ((b − s)/h), ē(θ) is differentiable through the
simulator, so NUTS can be used; with h = 0 the gradient-free `SA` sampler is used.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
from numpyro.infer import MCMC, NUTS, SA

from kuramoto_jax._validate import prng_key
from kuramoto_jax.parallel import batch_map

from ._summaries import paper_summaries


def ecdf_vector(features, bins, smoothing: float = 0.0):
    """features (T, F), bins (F, B) ↦ (F·B,) ECDF values (sigmoid-smoothed if smoothing > 0)."""
    diff = bins[None, :, :] - features[:, :, None]  # (T, F, B)
    ind = jax.nn.sigmoid(diff / smoothing) if smoothing > 0 else (diff >= 0).astype(features.dtype)
    return ind.mean(0).reshape(-1)


@dataclasses.dataclass
class ECDFLikelihood:
    """Gaussian synthetic likelihood of ECDF vectors for `simulator`.

    Build with `ECDFLikelihood.fit(simulator, key, theta0, ...)`; then `log_likelihood(θ, e_obs)`.
    """

    simulator: object
    bins: jax.Array  # (F, B)
    cov: jax.Array  # (F·B, F·B)
    keys: jax.Array  # (num_sim,) common random numbers
    smoothing: float
    feature_fn: object

    @classmethod
    def fit(cls, simulator, key, theta0, num_ref: int = 200, num_bins: int = 10, num_sim: int = 20,
            smoothing: float = 0.0, feature_fn=paper_summaries, shrinkage: float = 0.2, jitter: float = 1e-6):
        if not 0 <= shrinkage <= 1:
            raise ValueError(f"`shrinkage` must be in [0, 1], got {shrinkage!r}")
        if num_ref < 2 or num_sim < 1 or num_bins < 1:
            raise ValueError(f"need num_ref ≥ 2, num_sim ≥ 1, num_bins ≥ 1, got {num_ref}, {num_sim}, {num_bins}")
        theta0 = jnp.asarray(theta0)
        if theta0.shape != (simulator.num_params,):
            raise ValueError(f"`theta0` must have shape ({simulator.num_params},), got {theta0.shape}")
        k_ref, k_crn = jax.random.split(prng_key("key", key))
        # The reference simulations are a batch: spread over the run's devices.
        feats = batch_map(lambda k: feature_fn(simulator.simulate(k, theta0)), jax.random.split(k_ref, num_ref))
        flat = feats.reshape(-1, feats.shape[-1])  # (num_ref·T, F)
        qs = jnp.linspace(0.0, 1.0, num_bins + 2)[1:-1]
        bins = jnp.quantile(flat, qs, axis=0).T  # (F, B) inner quantiles of the pooled features
        e = jax.vmap(lambda f: ecdf_vector(f, bins, smoothing))(feats)
        # Shrink towards the diagonal: with num_ref not ≫ F·B the sample covariance is
        # ill-conditioned and its inverse exaggerates Mahalanobis distances.
        s = jnp.cov(e, rowvar=False)
        cov = (1 - shrinkage) * s + shrinkage * jnp.diag(jnp.diag(s)) + jitter * jnp.eye(e.shape[1])
        return cls(simulator, bins, cov, jax.random.split(k_crn, num_sim), smoothing, feature_fn)

    def observe(self, y):
        """e(y_obs) of one observation (T_obs, N)."""
        return ecdf_vector(self.feature_fn(y), self.bins, self.smoothing)

    def mean(self, theta):
        sims = jax.vmap(lambda k: self.observe(self.simulator.simulate(k, theta)))(self.keys)
        return sims.mean(0)

    def log_likelihood(self, theta, e_obs):
        n = self.keys.shape[0]
        cov = (1 + 1 / n) * self.cov
        r = e_obs - self.mean(theta)
        chol = jnp.linalg.cholesky(cov)
        z = jax.scipy.linalg.solve_triangular(chol, r, lower=True)
        return -0.5 * jnp.sum(z**2) - jnp.sum(jnp.log(jnp.diag(chol))) - 0.5 * r.size * jnp.log(2 * jnp.pi)


def sample_ecdf_posterior(likelihood: ECDFLikelihood, key, observation, num_samples: int = 1000,
                          num_warmup: int = 500, sampler: str = "auto", progress_bar: bool = False,
                          max_tree_depth: int = 10):
    """Posterior draws (num_samples, P) of θ given one observation under the ECDF likelihood.

    sampler: "nuts" (needs smoothing > 0), "sa" (gradient-free) or "auto".
    max_tree_depth: NUTS trajectories have at most 2^max_tree_depth − 1 leapfrog steps
        (each one a gradient through `num_sim` simulations).
    """
    if sampler == "auto":
        sampler = "nuts" if likelihood.smoothing > 0 else "sa"
    if sampler not in ("nuts", "sa"):
        raise ValueError(f"`sampler` must be 'nuts', 'sa' or 'auto', got {sampler!r}")
    if sampler == "nuts" and likelihood.smoothing <= 0:
        raise ValueError("`sampler`='nuts' needs a likelihood built with smoothing > 0")
    e_obs = likelihood.observe(jnp.asarray(observation))
    prior = likelihood.simulator.prior

    def model():
        theta = numpyro.sample("theta", prior)
        numpyro.factor("synthetic_likelihood", likelihood.log_likelihood(theta, e_obs))

    kernel = NUTS(model, max_tree_depth=max_tree_depth) if sampler == "nuts" else SA(model)
    mcmc = MCMC(kernel, num_warmup=num_warmup, num_samples=num_samples, progress_bar=progress_bar)
    mcmc.run(prng_key("key", key))
    return np.asarray(mcmc.get_samples()["theta"])
