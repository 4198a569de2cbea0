r"""KuraNet: learned coupling functions K_μ(x_i, x_j) for global and cluster synchrony.

A coupling function (`PairMLP`, flax.linen) maps every pair of oscillator
features to a coupling logit; a normalisation turns the logits into K; the
core engine (`kj.simulate`, Euler dt = 0.1 as the reference) runs

    dθ_i/dt = ω_i + Σ_j K_ij sin(θ_j(t − τ_j) − θ_i) + b_i sin θ_i,

and a loss over the post-burn-in window (circular variance, or the cluster
loss) is minimised through the dynamics with `kuramoto_jax.run.train`.

    from kuramoto_jax import kuranet as kn
    module, params = kn.init_coupling(key, num_features=1)
    dis = kn.sample_disorder(key, "I", 100)
    K = kn.coupling_matrix(module, params, dis.features, "global")
    theta = kn.simulate_window(K, dis.omega, theta0)
    loss = kn.sync_loss(theta)
"""

from ._coupling import (
    NORMALISATIONS,
    PairMLP,
    block_control_matrix,
    coupling_matrix,
    init_coupling,
    normalise,
    normalise_clusters,
    normalise_global,
    pair_logits,
)
from ._data import (
    DATASETS,
    circles,
    gmm_ring,
    make_dataset,
    moons,
    pixel_features,
    segmentation_image,
    spirals,
)
from ._disorder import (
    CASES,
    MAX_DELAY_STEPS,
    Disorder,
    feature_names,
    from_raw,
    negative_binomial,
    sample_disorder,
    standardise,
)
from ._dynamics import simulate_window, window_times
from ._losses import cluster_window_loss, sync_loss
from ._metrics import (
    best_dice,
    binned_mean,
    fan_in,
    feature_correlation,
    phase_kmeans,
    symmetric_best_dice,
)

__all__ = [
    "CASES", "DATASETS", "MAX_DELAY_STEPS", "NORMALISATIONS", "Disorder", "PairMLP", "best_dice", "binned_mean",
    "block_control_matrix", "circles", "cluster_window_loss", "coupling_matrix", "fan_in", "feature_correlation",
    "feature_names", "from_raw", "gmm_ring", "init_coupling", "make_dataset", "moons", "negative_binomial",
    "normalise", "normalise_clusters", "normalise_global", "pair_logits", "phase_kmeans", "pixel_features",
    "sample_disorder", "segmentation_image", "simulate_window", "spirals", "standardise", "sync_loss",
    "symmetric_best_dice", "window_times",
]
