r"""KuraNet: learned coupling functions K_μ(x_i, x_j) for global and cluster synchrony.

A coupling function (`PairMLP`) maps every pair of oscillator features to a coupling
logit; a normalisation turns the logits into K; the core engine (`kj.simulate`, Euler
dt = 0.1 as the reference) runs

    dθ_i/dt = ω_i + Σ_j K_ij sin(θ_j(t − τ_j) − θ_i) + b_i sin θ_i,

and a loss over the post-burn-in window (circular variance, or the cluster loss) is
minimised through the dynamics. The networks are equinox Modules, the project's choice:
models are pytrees that go straight through vmap (seed ensembles), jit, grad and the
checkpoints (with named leaves), in the same library as the rest of the toolkit.

The protocol is the library's: `fit` trains a seed ensemble through
`kuramoto_jax.run.train(..., ensemble=M)` and keeps each member's best validation check,
`evaluate` scores the Data, Size and Data+Size regimes under the training-window and the
reference protocols, `size_transfer` the Data regime at other network sizes, and `load(run_dir)`
returns the trained model of a run.

    from kuramoto_jax import kuranet as kn
    task = kn.GlobalTask(case="I", n=100)
    pool = kn.sample_disorder(key, "I", 10_000).raw
    fitted = kn.fit(task, pool, key=key, members=4, steps=1500)
    K = fitted.model().couplings(features)          # (n, n)
    ev = kn.evaluate(task, fitted, test_pool, pool, key=eval_key, reference=kn.Reference())
    model = kn.load("runs/k1")                       # the chosen member of a finished run
"""

from ._coupling import (
    NORMALISATIONS,
    CouplingFunction,
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
    dataset_pools,
    gmm_ring,
    image_pools,
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
from ._load import load
from ._losses import cluster_loss, cluster_window_loss, energy_gap, splay, sync_loss
from ._metrics import (
    best_dice,
    binned_mean,
    fan_in,
    feature_correlation,
    phase_kmeans,
    r_squared,
    symmetric_best_dice,
)
from ._protocol import Evaluation, Fitted, Reference, evaluate, fit, member, score, size_transfer
from ._mosaic import TEXTURES, local_texture_features, texture, texture_mosaic
from ._segmentation import kmeans_segments, segment, segment_subsets, subset_phases
from ._tasks import CLUSTER_INITIAL_PHASES, ENERGY_DECAYS, GLOBAL_INITIAL_PHASES, ClusterTask, GlobalTask

__all__ = [
    "CASES", "CLUSTER_INITIAL_PHASES", "DATASETS", "ENERGY_DECAYS", "GLOBAL_INITIAL_PHASES", "MAX_DELAY_STEPS", "NORMALISATIONS", "TEXTURES", "ClusterTask", "CouplingFunction", "Disorder",
    "Evaluation", "Fitted", "GlobalTask", "PairMLP", "Reference", "best_dice", "binned_mean",
    "block_control_matrix", "circles", "dataset_pools", "cluster_loss", "cluster_window_loss", "coupling_matrix", "energy_gap", "evaluate",
    "fan_in", "feature_correlation", "feature_names", "fit", "from_raw", "gmm_ring", "image_pools", "init_coupling", "kmeans_segments", "load", "local_texture_features",
    "make_dataset", "member", "moons", "negative_binomial", "normalise", "normalise_clusters", "normalise_global",
    "pair_logits", "phase_kmeans", "pixel_features", "r_squared", "sample_disorder", "score", "segment", "segment_subsets", "segmentation_image",
    "simulate_window", "size_transfer", "spirals", "splay", "standardise", "subset_phases", "sync_loss", "symmetric_best_dice", "texture", "texture_mosaic",
    "window_times",
]
