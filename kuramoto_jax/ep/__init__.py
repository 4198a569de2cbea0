"""Equilibrium propagation in Kuramoto networks.

    from kuramoto_jax import ep
    theta = ep.equilibrium(K, omega, pinned=0)
    g_omega, g_K = ep.gradients(K, omega, target, outputs, beta=0.1, method="ep")
"""

from ._equilibrium import (
    Equilibrium,
    equilibrium,
    equilibrium_info,
    free_indices,
    jacobian,
    local_field_sweeps,
    max_eigenvalue,
    newton,
    reduced_jacobian,
    relax,
    solve,
    vector_field,
)
from ._gradients import METHODS, ep_estimate, field_estimate, gradients, implicit_gradients, loss, relaxation_gradients

__all__ = [
    "Equilibrium",
    "METHODS",
    "ep_estimate",
    "field_estimate",
    "free_indices",
    "equilibrium",
    "equilibrium_info",
    "gradients",
    "implicit_gradients",
    "jacobian",
    "local_field_sweeps",
    "loss",
    "max_eigenvalue",
    "reduced_jacobian",
    "relax",
    "relaxation_gradients",
    "solve",
    "vector_field",
]
from ._data import DATA_ENV, DATA_FILE, default_data_path, load_vowels
from ._networks import (Network, all_to_all, encode_frequencies, encode_phases, laplacian, layered, random_graph,
                        signed_layered, spectral_seed)
from ._batched import ENCODINGS, ESTIMATORS, Encoding, NetParams, ep_batch, ep_sample, free_equilibrium, nearest_class, predict
from ._readout import READOUTS, class_targets, readout_cos, readout_nearest
from ._training import EPHyper, Layout, Masks, Params, accuracies, ep_step, evaluate, train_epoch

__all__ += [
    "EPHyper", "Layout", "Masks", "Network", "Params", "READOUTS", "accuracies", "all_to_all", "class_targets",
    "DATA_ENV", "DATA_FILE", "default_data_path", "encode_frequencies", "ep_step", "evaluate", "laplacian", "layered", "load_vowels",
    "random_graph", "readout_cos", "readout_nearest", "spectral_seed", "train_epoch",
    "ENCODINGS", "ESTIMATORS", "Encoding", "NetParams", "encode_phases", "ep_batch", "ep_sample", "free_equilibrium",
    "nearest_class", "newton", "predict", "signed_layered",
]
