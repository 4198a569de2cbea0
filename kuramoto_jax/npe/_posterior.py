"""A trained amortized posterior: summaries + flow + the simulator it was trained on,
saved with `eqx.tree_serialise_leaves` and a JSON of what rebuilds it (no pickle)."""

from __future__ import annotations

import dataclasses
import json
import pathlib

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from kuramoto_jax.run import load_run

from .._validate import prng_key
from ._config import FlowConfig
from ._flows import PosteriorEstimator, skeleton
from ._simulators import NetworkSimulator, ObservationProtocol, simple_network, three_node_network
from ._summaries import SummaryConfig, summarize

WEIGHTS = "posterior.eqx"
SPEC = "posterior.json"


def simulator_spec(simulator: NetworkSimulator, kind: str, **kwargs) -> dict:
    """A JSON-able description that `simulator_from_spec` turns back into the simulator."""
    return {"kind": kind, "protocol": dataclasses.asdict(simulator.protocol), **kwargs}


def simulator_from_spec(spec: dict) -> NetworkSimulator:
    """The simulator described by a saved spec (`simulator_spec`): "simple" or "three_node"."""
    protocol = ObservationProtocol(**spec["protocol"])
    if spec["kind"] == "simple":
        return simple_network(n=spec["n"], sigma=spec["sigma"], k_max=spec["k_max"], protocol=protocol)
    if spec["kind"] == "three_node":
        return three_node_network(omega=tuple(spec["omega"]), k_max=spec["k_max"], protocol=protocol)
    raise ValueError(f"unknown simulator kind {spec['kind']!r}: expected 'simple' or 'three_node'")


class Posterior:
    """q(θ | y) for observations y (T_obs, N) of `simulator` at `observation_times`."""

    def __init__(self, estimator: PosteriorEstimator, simulator: NetworkSimulator, summary: SummaryConfig):
        self.estimator = estimator
        self.simulator = simulator
        self.summary = summary
        self._summarize = jax.jit(lambda y: summarize(y, simulator, summary))
        self._sample = eqx.filter_jit(lambda est, k, x, n: est.sample(k, x, n))

    @property
    def observation_times(self) -> np.ndarray:
        return self.simulator.observation_times

    @property
    def prior_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return self.simulator.prior_bounds

    @property
    def param_names(self) -> tuple:
        return self.simulator.param_names

    def _check_observation(self, observation):
        y = jnp.asarray(observation)
        expected = (len(self.observation_times), self.simulator.n)
        if y.shape != expected:
            raise ValueError(
                f"`observation` must have shape (T_obs, N) = {expected} (phases at `observation_times`), got {y.shape}"
            )
        return y.astype(self.estimator.x_mean.dtype)

    def summaries(self, observation):
        """(D,) summaries of one observation (T_obs, N)."""
        return self._summarize(self._check_observation(observation))

    def sample(self, key, observation, num_samples: int):
        """num_samples draws θ ~ q(θ | observation): (num_samples, P).

        `key` may be a typed key (`jax.random.key`) or a legacy one (`jax.random.PRNGKey`).
        """
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
            raise ValueError(f"`num_samples` must be an integer ≥ 1, got {num_samples!r}")
        return self._sample(self.estimator, prng_key("key", key), self.summaries(observation), int(num_samples))

    def sample_summaries(self, key, x, num_samples: int):
        """Draws given precomputed summaries x (D,); `key` typed or legacy."""
        return self._sample(self.estimator, prng_key("key", key), jnp.asarray(x, self.estimator.x_mean.dtype),
                            int(num_samples))

    def log_prob(self, theta, observation):
        return self.estimator.log_prob(jnp.asarray(theta), self.summaries(observation))

    def simulate(self, key, params):
        """One observation (T_obs, N) of the training simulator at params (P,)."""
        params = jnp.asarray(params, self.estimator.x_mean.dtype)
        if params.shape != (self.simulator.num_params,):
            raise ValueError(f"`params` must have shape ({self.simulator.num_params},), got {params.shape}")
        return self.simulator.simulate(prng_key("key", key), params)


def save_posterior(run_dir, posterior: Posterior, sim_spec: dict, flow_config: FlowConfig):
    """Write posterior.eqx (weights) and posterior.json (hyperparameters) into run_dir."""
    run_dir = pathlib.Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    est = posterior.estimator
    spec = {
        "simulator": sim_spec,
        "summary": dataclasses.asdict(posterior.summary),
        "flow": dataclasses.asdict(flow_config),
        "dim": int(est.u_mean.shape[0]),
        "cond_dim": int(est.x_mean.shape[0]),
        "sequence_shape": list(est.sequence_shape),
        "dtype": str(est.x_mean.dtype),
    }
    tmp = run_dir / (WEIGHTS + ".tmp")
    eqx.tree_serialise_leaves(tmp, est)
    tmp.replace(run_dir / WEIGHTS)
    (run_dir / SPEC).write_text(json.dumps(spec, indent=2))


STUDIES = ("npe.simple", "npe.three_node", "npe.mcmc_compare")
"""The studies whose run folders hold a posterior."""


def load_posterior(run_dir, *, require_complete: bool = True) -> Posterior:
    """The posterior saved in a run folder (posterior.json + posterior.eqx).

    A run folder (one with config.yaml or metrics.json) is checked with
    `kuramoto_jax.run.load_run`: a run of another study, or an unfinished run when
    `require_complete`, is a ValueError saying so. A folder written by `save_posterior`
    outside a run is read as it is.

    Args:
        run_dir: the folder.
        require_complete: reject a run that has not completed (a study reading the posterior
            its own run just trained passes False).
    """
    run_dir = pathlib.Path(run_dir)
    if (run_dir / "config.yaml").is_file() or (run_dir / "metrics.json").is_file():
        load_run(run_dir, studies=STUDIES, require_complete=require_complete)
    if not (run_dir / SPEC).is_file() or not (run_dir / WEIGHTS).is_file():
        raise FileNotFoundError(f"`run_dir` {run_dir} holds no {SPEC} and {WEIGHTS}: expected a run folder of an npe study")
    spec = json.loads((run_dir / SPEC).read_text())
    simulator = simulator_from_spec(spec["simulator"])
    # A float64 posterior read where float64 is off is read as float32 (the weights are rounded).
    dtype = jnp.dtype(spec["dtype"]) if jax.config.jax_enable_x64 else jnp.dtype(jnp.float32)
    like = skeleton(spec["dim"], spec["cond_dim"], FlowConfig(**spec["flow"]), dtype=dtype,
                    sequence_shape=tuple(spec.get("sequence_shape", ())))
    est = eqx.tree_deserialise_leaves(run_dir / WEIGHTS, like)
    return Posterior(est, simulator, SummaryConfig(**spec["summary"]))
