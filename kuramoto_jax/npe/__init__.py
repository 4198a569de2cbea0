"""Amortized Bayesian inference of Kuramoto couplings (neural posterior estimation).

    from kuramoto_jax import npe
    sim = npe.simple_network()                                  # K ~ U(0, 3), N = 100, ω ~ N(0, 1)
    ev = npe.train_and_evaluate(key, sim, npe.SummaryConfig(), num_train=10_000, num_test=300, num_draws=1000,
                                flow=npe.FlowConfig(), train=npe.TrainConfig())
    ev.metrics                                                  # NRMSE, contraction, calibration error, timings
    draws = ev.posterior.sample(key, sim.simulate(key, jnp.array([1.5])), 1000)

The steps on their own: `simulate_dataset` (batched over the devices), `fit_estimator`,
`Posterior`, `sample_posteriors`, `posterior_metrics` (`range_normalised_rmse`,
`contraction`, `calibration_error`), `diagnostic_figures`.
"""

from ._compare import ECDFConfig, compare_with_ecdf_mcmc
from ._config import FlowConfig, TrainConfig
from ._diagnostics import (
    c2st,
    calibration_error,
    contraction,
    coverage,
    ecdf_bands,
    ecdf_in_bands,
    pit,
    range_normalised_rmse,
    sbc_ranks,
)
from ._embedding import SequenceEmbedding
from ._flows import PosteriorEstimator, build_flow, make_estimator
from ._mcmc import ECDFLikelihood, ecdf_vector, sample_ecdf_posterior
from ._plots import comparison_figures, diagnostic_figures, pair_figure
from ._posterior import Posterior, load_posterior, save_posterior, simulator_from_spec, simulator_spec
from ._priors import to_bounded, to_unbounded, uniform_prior
from ._protocol import Evaluation, posterior_metrics, sample_posteriors, time_inference, train_and_evaluate
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
from ._training import fit_estimator, validation_split

__all__ = [
    "ECDFConfig", "ECDFLikelihood", "Evaluation", "FlowConfig", "NetworkSimulator", "ObservationProtocol",
    "Posterior", "PosteriorEstimator", "SequenceEmbedding", "SummaryConfig", "THREE_NODE_EDGES", "TrainConfig",
    "build_flow", "c2st", "calibration_error", "compare_with_ecdf_mcmc", "comparison_figures", "contraction",
    "coverage", "diagnostic_figures", "drift_least_squares_edges", "drift_least_squares_mean_field", "ecdf_bands",
    "ecdf_in_bands", "ecdf_vector", "fit_estimator", "load_posterior", "make_estimator", "pair_figure",
    "pair_sequence", "paper_summaries", "pit", "posterior_metrics", "range_normalised_rmse", "sample_ecdf_posterior",
    "sample_posteriors", "save_posterior", "sbc_ranks", "sequence_features", "sequence_shape", "simple_network",
    "simulate_dataset", "simulator_from_spec", "simulator_spec", "summarize", "three_node_coupling",
    "three_node_network", "time_inference", "to_bounded", "to_unbounded", "train_and_evaluate", "uniform_prior",
    "validation_split",
]
