"""Equilibrium propagation in Kuramoto networks.

    from kuramoto_jax import ep
    theta = ep.equilibrium(K, omega, pinned=0)
    g_omega, g_K = ep.gradients(K, omega, target, outputs, beta=0.1, method="ep")
"""

from ._equilibrium import (
    Equilibrium,
    equilibrium,
    equilibrium_info,
    jacobian,
    max_eigenvalue,
    newton,
    reduced_jacobian,
    relax,
    solve,
    vector_field,
)
from ._gradients import METHODS, ep_estimate, gradients, implicit_gradients, loss, relaxation_gradients

__all__ = [
    "Equilibrium",
    "METHODS",
    "ep_estimate",
    "equilibrium",
    "equilibrium_info",
    "gradients",
    "implicit_gradients",
    "jacobian",
    "loss",
    "max_eigenvalue",
    "reduced_jacobian",
    "relax",
    "relaxation_gradients",
    "solve",
    "vector_field",
]
from ._data import default_data_path, load_vowels
from ._networks import Network, all_to_all, encode_frequencies, laplacian, layered, random_graph, spectral_seed
from ._readout import READOUTS, class_targets, readout_cos, readout_nearest
from ._training import EPHyper, Layout, Masks, Params, accuracies, ep_step, evaluate, train_epoch

__all__ += [
    "EPHyper", "Layout", "Masks", "Network", "Params", "READOUTS", "accuracies", "all_to_all", "class_targets",
    "default_data_path", "encode_frequencies", "ep_step", "evaluate", "laplacian", "layered", "load_vowels",
    "random_graph", "readout_cos", "readout_nearest", "spectral_seed", "train_epoch",
]
