r"""KuraNet cluster synchrony: moons, circles, spirals, Gaussian mixtures, images (Table II, Figs. 3–4).

Identical XY spins (ω = 0) whose features x are points of a labelled dataset (or pixels
[RGB, p/w, q/h] of an image with known segments); the coupling is trained so that oscillators
of one label synchronise and the k group phases splay, minimising over the window
L = ½((1/k) Σ_l V_l + S) (Eq. 5–6, `kn.cluster_loss`, L ∈ [0, 1]) with
dθ_i/dt = Σ_j K_ij sin(θ_j − θ_i), K = ½(K̂ + K̂ᵀ)/n, K̂ rows of unit L2 norm, Euler steps of `dt`
from θ_i(0) ~ N(π, 1) (`kn.ClusterTask`). `num_seeds` members are trained at once, each keeps
its best validation check and the member with the lowest validation L is reported (`kn.fit`).
`kn.evaluate` scores the Data, Size and Data+Size regimes for the trained network, the
untrained control and the block control (intra-group +, inter-group −, scaled to the trained
max |K_ij|), over the training window (L_*) and the reference code's protocol (L_*_ref).
Images: half the pixels train, the other half test; the whole image is then run as one network
and segmented by k-means on (cos θ, sin θ), scored by the symmetric best Dice (`sbd`) against
the true segments, next to k-means on the raw pixel features (`sbd_kmeans_pixels`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from kuramoto_jax import kuranet as kn
from kuramoto_jax.run import OptimizerConfig

from .common import ModelConfig, ReferenceProtocol, cluster_summary, fit_options, pop_large_regimes, select
from .figures import cluster_figures, segment_outputs

DATASETS = list(kn.DATASETS) + ["image"]


@dataclass
class ImageConfig:
    height: int = field(default=40, metadata={"ge": 4, "help": "image height (pixels)"})
    width: int = field(default=40, metadata={"ge": 4, "help": "image width (pixels)"})
    segments: int = field(default=4, metadata={"ge": 2, "help": "segments drawn (background + shapes)"})
    noise: float = field(default=0.08, metadata={"ge": 0, "help": "colour noise std"})


@dataclass
class Config(ReferenceProtocol):
    seed: int = field(default=0, metadata={"help": "PRNG seed: every random stream is derived from it by name"})
    num_seeds: int = field(default=1, metadata={
        "ge": 1, "help": "independent initialisations trained together in one batched computation"})
    dataset: str = field(default="moons", metadata={"choices": DATASETS, "help": "feature dataset"})
    k: int = field(default=5, metadata={"ge": 2, "help": "mixture components (gmm only)"})
    ks: list[int] = field(default_factory=list, metadata={
        "ge": 2, "help": "gmm only: run these k in turn (metrics k<k>_…, plus gmm_avg_… over k); empty: just `k`"})
    n: int = field(default=100, metadata={"ge": 2, "help": "oscillators per training graph"})
    train_size: int = field(default=10_000, metadata={"ge": 2, "help": "training points (mixtures)"})
    test_size: int = field(default=10_000, metadata={"ge": 2, "help": "test points (mixtures)"})
    image: ImageConfig = field(default_factory=ImageConfig)
    steps: int = field(default=1000, metadata={"ge": 0, "help": "training steps (one graph per seed each)"})
    graphs_per_step: int = field(default=1, metadata={
        "ge": 1, "help": "graphs per member and training step, the loss their mean (1: the paper)"})
    # lr 1e-3 barely moved moons in 500 steps (L 0.67 → 0.56); 1e-2 reached L < 0.1 in 200 (RESULTS.md).
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(
        name="adam", learning_rate=1e-2, schedule="cosine", clip_norm=1.0))
    model: ModelConfig = field(default_factory=ModelConfig)
    dt: float = field(default=15.0, metadata={"gt": 0, "help": "Euler step"})
    # The loss covers all 100 states: with a late window, networks that synchronise globally
    # (L = ½) give no gradient (S and V_l are stationary at full synchrony).
    burn_in_steps: int = field(default=0, metadata={"ge": 0, "help": "Euler steps before the loss window"})
    window_steps: int = field(default=100, metadata={"ge": 1, "help": "Euler steps in the loss window"})
    eval_graphs: int = field(default=50, metadata={"ge": 1, "help": "n-sized test graphs of the Data regime"})
    large: bool = field(default=True, metadata={"help": "evaluate the Size and Data+Size regimes"})
    large_best_only: bool = field(default=False, metadata={
        "help": "evaluate the Size regimes for the best seed only (no spread there; saves time on a CPU)"})
    landscape_grid: int = field(default=20, metadata={"ge": 2, "help": "grid points per axis of the phase landscape"})
    checkpoint_every: int = field(default=500, metadata={"ge": 1, "help": "steps between checkpoints"})
    centring: str = field(default="none", metadata={
        "choices": ["none", "row", "graph"], "help": "logit mean removed before the row L2 norm: none (the paper), "
        "row, or graph (the mean over all pairs; experiments/kuranet/RESULTS.md)"})
    # Symmetry breaking in training only (kn.ClusterTask); validation and evaluation keep θ(0) ~ N(π, 1), λ = 0.
    train_initial_phases: str = field(default="gaussian", metadata={
        "choices": list(kn.CLUSTER_INITIAL_PHASES), "help": "θ(0) of the training graphs: gaussian N(π, 1) "
        "(the paper), uniform U(0, 2π) or splay (π + 2πm/n in random order, R = 0)"})
    energy_weight: float = field(default=0.0, metadata={"ge": 0, "help": "λ of the energy-gap term (kn.energy_gap)"})
    energy_decay: str = field(default="none", metadata={
        "choices": list(kn.ENERGY_DECAYS), "help": "schedule of λ over training: none, linear or cosine (to 0)"})
    energy_label_order: bool = field(default=False, metadata={"help": "energy-gap targets ordered by label (a prior)"})
    energy_members: int = field(default=0, metadata={"ge": 0, "help": "only members m < this use the term (0: all)"})
    train_noise: float = field(default=0.0, metadata={"ge": 0, "help": "σ of training noise, annealed linearly to 0"})
    val_graphs: int = field(default=16, metadata={"ge": 1, "help": "validation graphs (training set) for best-step selection"})
    val_every: int = field(default=100, metadata={"ge": 1, "help": "steps between validations"})
    figures: bool = field(default=True, metadata={"help": "draw the figures (phase landscape, couplings, phases)"})


def run(config: Config, ctx) -> dict[str, float]:
    c = config
    if c.ks and c.dataset != "gmm":
        raise ValueError(f"`ks` is for dataset 'gmm' only, got ks = {c.ks} with dataset {c.dataset!r}")
    ks = list(c.ks) or [c.k]
    metrics: dict[str, float] = {}
    for k in ks:
        metrics |= _run_one(c, ctx, k, f"k{k}_" if len(ks) > 1 else "")
    if len(ks) > 1:  # GMM average over k (paper Table II): the mean of every per-k metric
        for name in [m[len(f"k{ks[0]}_"):] for m in metrics if m.startswith(f"k{ks[0]}_")]:
            metrics[f"gmm_avg_{name}"] = float(np.mean([metrics[f"k{k}_{name}"] for k in ks]))
        ctx.summary(f"KuraNet cluster synchrony, GMM average over k = {ks}, {c.num_seeds} member(s): " + ", ".join(
            f"{r} L {metrics['gmm_avg_L_' + r]:.4f} (untrained {metrics['gmm_avg_control_L_' + r]:.4f} / block "
            f"{metrics['gmm_avg_block_L_' + r]:.4f})" for r in ["data"] + (["size", "data_size"] if c.large else [])) + ".")
    return metrics


def _data(c, ctx, k):
    """(training pool, test pool, k, image or None); pools are (x (N, d), labels (N,))."""
    if c.dataset != "image":
        return (*kn.dataset_pools(c.dataset, ctx.key("data"), c.train_size, c.test_size, k), None)
    img, seg = kn.segmentation_image(c.image.height, c.image.width, c.image.segments, c.seed, c.image.noise)
    train, test, k, whole = kn.image_pools(img, seg, ctx.key("pixel_split"))
    return train, test, k, (img, seg, whole)


def _run_one(c, ctx, k, prefix):
    train_pool, test_pool, k, image = _data(c, ctx, k)
    norm = {"none": "clusters", "row": "clusters_centred", "graph": "clusters_graph_centred"}[c.centring]
    task = kn.ClusterTask(k, c.n, c.dt, c.burn_in_steps, c.window_steps, norm)
    train_task = dataclasses.replace(task, initial_phases=c.train_initial_phases, noise=c.train_noise, **{
        f: getattr(c, f) for f in ("energy_weight", "energy_decay", "energy_label_order", "energy_members")})
    ctx.log(f"{c.dataset} (k = {k}): training {c.steps} steps on n = {c.n} graphs, {c.num_seeds} member(s) at once")
    name = f"clusters_{c.dataset}" + (str(k) if c.dataset == "gmm" else "")
    fitted = kn.fit(train_task, train_pool, key=ctx.key("fit", k), ctx=ctx, name=name, val_task=c.validation_task(task),
                    **fit_options(c))
    b = fitted.best
    ctx.log(f"kept steps {fitted.best_steps.tolist()}; chosen member {b} (validation L {fitted.val[b]:.4f})")
    ev = kn.evaluate(task, fitted, test_pool, train_pool if c.large else None, key=ctx.key("eval", k),
                     eval_graphs=c.eval_graphs, reference=c.reference(), block_rows=c.model.block_rows,
                     large_members=[b] if c.large_best_only else None)
    per_member = dict(ev.per_member, val_L=fitted.val)
    metrics = pop_large_regimes(per_member, prefix) if c.large_best_only else {}
    hist = np.asarray(fitted.history.get("loss", []), float).reshape(-1, fitted.members)
    metrics |= {prefix + "train_time_s": fitted.train_time_s, prefix + "best_seed": float(b),
                prefix + "time_per_step_s": fitted.train_time_s / max(fitted.steps_run, 1),
                prefix + "best_step": float(fitted.best_steps[b]), prefix + "skipped_steps_total": float(fitted.skipped.sum()),
                prefix + "final_train_loss": float(np.mean(hist[-50:, b])) if c.steps else float("nan")}
    metrics |= {f"{prefix}eval_{r}_s": t for r, t in ev.times.items()}
    if image is not None:
        per_member |= segment_outputs(c, ctx, task, fitted, image)
    select(metrics, per_member, b, prefix)
    graphs = ev.arrays["data_graphs"]
    ctx.save_arrays(**{prefix + "train_loss": hist.T, prefix + "val_L_seeds": fitted.val,
                       prefix + "data_labels": np.asarray(graphs["y"][0]), prefix + "data_x0": np.asarray(graphs["x"][0]),
                       prefix + "data_K0": fitted.model().couplings(graphs["x"][0]),
                       **{prefix + f"data_{w}final": ev.arrays[f"data_{w}final"][b, 0] for w in ("", "control_", "block_")},
                       **{f"{prefix}seeds_{n_}": np.asarray(v, float) for n_, v in per_member.items()}})
    if c.figures:
        cluster_figures(c, ctx, task, fitted.model(), train_pool, ctx.key("landscape", k), metrics, prefix)
    ctx.summary(cluster_summary(metrics, prefix, f"{c.dataset} (k = {k})", fitted, c.large, c.ref_eval))
    return metrics

