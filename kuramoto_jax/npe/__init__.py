"""Amortized Bayesian inference of Kuramoto couplings (neural posterior estimation).

    from kuramoto_jax import npe
    sim = npe.simple_network()                                  # K ~ U(0, 3), N = 100, ω ~ N(0, 1)
    theta, x = npe.simulate_dataset(sim, key, 10_000, fn=lambda y: npe.summarize(y, sim, npe.SummaryConfig()))
    est, _ = npe.fit_estimator(key, theta, x, *sim.prior_bounds)
    post = npe.Posterior(est, sim, npe.SummaryConfig())
    draws = post.sample(key, sim.simulate(key, jnp.array([1.5])), 1000)
    npe.nrmse(draws_all, truths), npe.contraction(...), npe.calibration_error(...)
"""

from ._diagnostics import (
    c2st,
    calibration_error,
    contraction,
    coverage,
    ecdf_bands,
    ecdf_in_bands,
    nrmse,
    pit,
    sbc_ranks,
)
from ._embedding import SequenceEmbedding
from ._flows import FlowConfig, PosteriorEstimator, build_flow, make_estimator
from ._posterior import Posterior, load_posterior, save_posterior, simulator_from_spec, simulator_spec
from ._mcmc import ECDFLikelihood, ecdf_vector, sample_ecdf_posterior
from ._priors import to_bounded, to_unbounded, uniform_prior
from ._simulators import (
    THREE_NODE_EDGES,
    NetworkSimulator,
    ObservationProtocol,
    simple_network,
    simulate_dataset,
    three_node_coupling,
    three_node_network,
)
from ._summaries import (
    SummaryConfig,
    drift_least_squares_edges,
    drift_least_squares_mean_field,
    pair_sequence,
    paper_summaries,
    sequence_features,
    sequence_shape,
    summarize,
)
from ._training import TrainConfig, fit_estimator

__all__ = [
    "ECDFLikelihood", "FlowConfig", "NetworkSimulator", "ObservationProtocol", "Posterior", "PosteriorEstimator",
    "SequenceEmbedding", "SummaryConfig", "THREE_NODE_EDGES", "TrainConfig", "build_flow", "c2st", "calibration_error",
    "contraction", "coverage", "drift_least_squares_edges", "drift_least_squares_mean_field", "ecdf_vector", "sample_ecdf_posterior",
    "ecdf_bands", "ecdf_in_bands", "fit_estimator", "load_posterior", "make_estimator", "nrmse",
    "pair_sequence", "paper_summaries", "pit", "sequence_features", "sequence_shape", "save_posterior", "sbc_ranks", "simple_network", "simulate_dataset",
    "simulator_from_spec", "simulator_spec", "summarize", "three_node_coupling", "three_node_network",
    "to_bounded", "to_unbounded", "uniform_prior",
]
