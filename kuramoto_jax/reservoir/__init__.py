r"""Reservoir computing with driven Kuramoto networks.

    from kuramoto_jax.reservoir import KuramotoReservoir
    res = KuramotoReservoir(n=500, K=1.0, omega_law="gaussian", omega_spread=0.4, eps=0.01, key=jax.random.key(0))
    res.fit(u, y); y_hat = res.predict(u2)

Modules: `_features` (driving and order-parameter / oscillator features),
`_held` (sample-and-hold drive with frequency, phase-response and coupling inputs on mean-field,
dense or sparse couplings, closed-form ridge in JAX), `_readout` (least squares / ridge), `_sweeps` (batched drives and read-out errors of many
reservoirs), `tasks`, `metrics`, `esn` (echo-state baseline).
"""

from . import esn, metrics, tasks
from ._features import (
    INPUT_TERMS,
    SECOND_ORDER,
    drive_reservoir,
    drive_reservoir_jit,
    order_parameter_features,
    oscillator_features,
    second_order_features,
)
from ._figures import benchmark_figure, k_over_kc_figure
from ._held import (
    COUPLINGS,
    INPUT_MECHANISMS,
    HeldParams,
    PhaseResponseDrive,
    all_oscillator_features,
    coupling_shape,
    drive_held,
    oscillator_group_features,
    random_coupling_matrix,
    random_held_params,
    ridge_readout_jax,
    time_rescaled,
    validation_nrmse,
)
from ._readout import Readout, fit_readout
from ._reservoir import KuramotoReservoir, sample_reservoir
from ._sweeps import drive_batch, readout_errors, sample_reservoirs, sweep_summary
from .esn import (
    ESN_BACKENDS,
    EchoStateNetwork,
    esn_states,
    reservoirpy_readout,
    reservoirpy_version,
    tune_esn,
)
from .metrics import benchmark_scores, memory_capacity, mse, nrmse_std

__all__ = [
    "COUPLINGS",
    "ESN_BACKENDS",
    "INPUT_MECHANISMS",
    "INPUT_TERMS",
    "SECOND_ORDER",
    "EchoStateNetwork",
    "HeldParams",
    "KuramotoReservoir",
    "PhaseResponseDrive",
    "Readout",
    "all_oscillator_features",
    "benchmark_figure",
    "benchmark_scores",
    "coupling_shape",
    "drive_batch",
    "drive_held",
    "drive_reservoir",
    "drive_reservoir_jit",
    "esn",
    "esn_states",
    "fit_readout",
    "k_over_kc_figure",
    "memory_capacity",
    "metrics",
    "mse",
    "nrmse_std",
    "order_parameter_features",
    "oscillator_features",
    "oscillator_group_features",
    "random_coupling_matrix",
    "random_held_params",
    "readout_errors",
    "reservoirpy_readout",
    "reservoirpy_version",
    "ridge_readout_jax",
    "sample_reservoir",
    "sample_reservoirs",
    "second_order_features",
    "sweep_summary",
    "tasks",
    "time_rescaled",
    "tune_esn",
    "validation_nrmse",
]
