r"""Reservoir computing with driven Kuramoto networks.

    from kuramoto_jax.reservoir import KuramotoReservoir
    res = KuramotoReservoir(n=500, K=1.0, omega_law="gaussian", omega_spread=0.4, eps=0.01)
    res.fit(u, y); y_hat = res.predict(u2)

Modules: `_features` (driving and order-parameter / oscillator features),
`_readout` (least squares / ridge), `tasks`, `metrics`, `esn` (echo-state baseline).
"""

from . import esn, metrics, tasks
from ._features import (
    INPUT_TERMS,
    drive_reservoir,
    drive_reservoir_jit,
    order_parameter_features,
    oscillator_features,
)
from ._readout import Readout, fit_readout
from ._reservoir import KuramotoReservoir, sample_reservoir
from .esn import EchoStateNetwork
from .metrics import memory_capacity, mse, nrmse

__all__ = [
    "INPUT_TERMS",
    "EchoStateNetwork",
    "KuramotoReservoir",
    "Readout",
    "drive_reservoir",
    "drive_reservoir_jit",
    "esn",
    "fit_readout",
    "memory_capacity",
    "metrics",
    "mse",
    "nrmse",
    "order_parameter_features",
    "oscillator_features",
    "sample_reservoir",
    "tasks",
]
