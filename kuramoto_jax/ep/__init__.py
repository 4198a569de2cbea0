"""Equilibrium propagation in Kuramoto networks.

    from kuramoto_jax import ep
    theta = ep.equilibrium(K, omega, pinned=0)
    g_omega, g_K = ep.gradients(K, omega, target, outputs, beta=0.1, method="ep")

    net = ep.load(run_dir)          # a trained ep/digits network
    labels = net.predict(x)         # x (b, 64), the 8×8 images scaled to [0, 1]

One solver (`solve`: Newton with implicit derivatives) under every equilibrium; one
parameter type (`Network`, an equinox module); training through
`kuramoto_jax.run.train` with `grad_fn` and an optax optimiser.
"""

from ._data import (
    DATA_ENV,
    DATA_FILE,
    default_data_path,
    load_digits,
    load_vowels,
    logistic_baseline,
)
from ._digits import digits_network
from ._equilibrium import (
    Equilibrium,
    equilibrium,
    free_indices,
    jacobian,
    local_field_sweeps,
    max_eigenvalue,
    reduced_jacobian,
    relax,
    solve,
    vector_field,
)
from ._gradients import (
    METHODS,
    ep_estimate,
    field_estimate,
    finite_difference_gradients,
    gradients,
    implicit_gradients,
    loss,
    output_target,
    relaxation_gradients,
)
from ._io import NETWORK_FILE, STUDIES, load, load_network, save_network
from ._network import (
    ENCODINGS,
    Network,
    all_to_all,
    laplacian,
    layered,
    random_graph,
    signed_layered,
    spectral_seed,
)
from ._readout import readout, readout_cos, wrap
from ._training import (
    ESTIMATORS,
    ep_batch,
    ep_gradients,
    evaluate,
    grad_fn,
    learnable_mask,
    predict,
    project_box,
    sgd,
)
from ._vowels import (
    INITS,
    MODES,
    accuracies,
    vowel_ensemble,
    vowel_member,
    vowel_metrics,
    vowel_summary,
    welch_p,
)

__all__ = [
    "DATA_ENV", "DATA_FILE", "ENCODINGS", "ESTIMATORS", "Equilibrium", "INITS", "METHODS", "MODES", "NETWORK_FILE",
    "Network", "STUDIES", "accuracies", "all_to_all", "default_data_path", "digits_network", "ep_batch", "ep_estimate", "ep_gradients",
    "equilibrium", "evaluate", "field_estimate", "finite_difference_gradients", "free_indices", "gradients",
    "grad_fn", "implicit_gradients", "jacobian", "laplacian", "layered", "learnable_mask", "load",
    "load_digits", "load_network", "load_vowels", "local_field_sweeps", "logistic_baseline", "loss",
    "max_eigenvalue", "output_target", "predict", "project_box", "random_graph", "readout", "readout_cos",
    "reduced_jacobian", "relax", "relaxation_gradients", "save_network", "sgd", "signed_layered", "solve",
    "spectral_seed", "vector_field", "vowel_ensemble", "vowel_member", "vowel_metrics", "vowel_summary", "welch_p",
    "wrap",
]
