r"""KuraNet cluster synchrony: moons, circles, spirals, Gaussian mixtures, images (Table II, Figs. 3–4).

Oscillators are identical XY spins (ω = 0) whose features x are points of a
labelled dataset (or pixels [RGB, p/w, q/h] of an image with known segments).
The coupling function is trained so that oscillators of one label synchronise
and the k group phases splay, minimising over the post-burn-in window

    L = ½((1/k) Σ_l V_l + S)      (Eq. 5–6, `kj.cluster_loss`, L ∈ [0, 1]),
    dθ_i/dt = Σ_j K_ij sin(θ_j − θ_i),   K = ½(K̂ + K̂ᵀ)/n,  K̂ rows of unit L2 norm,

with Euler steps of `dt` from θ_i(0) ~ N(π, 1). Regimes as in the global
study: Data (test graphs of n = 100), Size (all training points as one
network), Data+Size (all test points as one network), each for the trained
network, the untrained control (same normalisation) and the block control
(intra-group +, inter-group −, normalised alike and scaled to the trained
matrix's max |K_ij|). Size regimes run on the full network, not on
500-oscillator subsets as the reference code did.

Two evaluation protocols: the training window (L_data, L_size, L_data_size: the
loss that is trained, from θ(0)) and the reference code's evaluation script, which
scored the paper's table after long runs (`ref_eval`, metrics L_*_ref: the Data
regime over the window after 1000 Euler steps, the Size regimes on the single
state after 5000 steps; still the full network).

Images: half the pixels train, the other half test; the full image is then
run as one network and segmented by k-means on (cos θ, sin θ), scored by the
symmetric best Dice (`sbd`) against the true segments, next to k-means on
the raw pixel features (`sbd_kmeans_pixels`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax import kuranet as kn
from kuramoto_jax.run import OptimizerConfig, make_optimizer, train

from .common import ModelConfig, ReferenceProtocol, per_seed_optimizer, timed

F32 = jnp.float32
DATASETS = list(kn.DATASETS) + ["image"]


@dataclass
class ImageConfig:
    height: int = field(default=40, metadata={"ge": 4, "help": "image height (pixels)"})
    width: int = field(default=40, metadata={"ge": 4, "help": "image width (pixels)"})
    segments: int = field(default=4, metadata={"ge": 2, "help": "segments drawn (background + shapes)"})
    noise: float = field(default=0.08, metadata={"ge": 0, "help": "colour noise std"})


@dataclass
class Config(ReferenceProtocol):
    seed: int = field(default=0, metadata={"help": "PRNG seed (data, batches); seed j of `num_seeds` initialises from seed + j"})
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
        "choices": ["none", "row", "graph"],
        "help": "logit mean removed before the row L2 norm: none (the paper), row, or graph (the mean over all "
                "pairs: removes a common attractive offset; freed the moons and most GMM seeds from global "
                "synchrony, not circles or spirals: experiments/kuranet/RESULTS.md)"})
    val_graphs: int = field(default=16, metadata={"ge": 1, "help": "validation graphs (training set) for best-step selection"})
    val_every: int = field(default=100, metadata={"ge": 1, "help": "steps between validations"})
    figures: bool = field(default=True, metadata={"help": "draw the figures (phase landscape, couplings, phases)"})


def _theta0(key, n):
    return jnp.pi + jax.random.normal(key, (n,), F32)


def _data(c, k):
    if c.dataset == "image":
        img, seg = kn.segmentation_image(c.image.height, c.image.width, c.image.segments, c.seed, c.image.noise)
        x = kn.pixel_features(img)
        y = seg.reshape(-1)
        k = int(y.max()) + 1
        perm = np.random.default_rng(c.seed).permutation(x.shape[0])
        half = x.shape[0] // 2
        tr, te = perm[:half], perm[half:]
        return x[tr], y[tr], x[te], y[te], k, (img, seg, x, y)
    xtr, ytr, k = kn.make_dataset(c.dataset, c.train_size, seed=2 * c.seed, k=k)
    xte, yte, _ = kn.make_dataset(c.dataset, c.test_size, seed=2 * c.seed + 1, k=k)
    return xtr, ytr, xte, yte, k, None


def _select(metrics, per_seed, best, prefix=""):
    """Per-seed values (S,) → the best seed's value (chosen on validation), mean/std over seeds, and _s<j> per seed."""
    for name, v in per_seed.items():
        v = np.asarray(v, float)
        metrics[prefix + name] = float(v[best])
        if v.size > 1:
            metrics[f"{prefix}{name}_mean"] = float(v.mean())
            metrics[f"{prefix}{name}_std"] = float(v.std())
            metrics.update({f"{prefix}{name}_s{j}": float(x) for j, x in enumerate(v)})


def run(config: Config, ctx) -> dict[str, float]:
    c = config
    if c.ks and c.dataset != "gmm":
        raise ValueError(f"`ks` is for dataset 'gmm' only, got ks = {c.ks} with dataset {c.dataset!r}")
    ks = list(c.ks) or [c.k]
    metrics: dict[str, float] = {}
    for k in ks:
        prefix = f"k{k}_" if len(ks) > 1 else ""
        metrics.update(_run_one(c, ctx, k, prefix))
    if len(ks) > 1:
        # GMM average over k (paper Table II): the mean of every per-k metric.
        for name in [m[len(f"k{ks[0]}_"):] for m in metrics if m.startswith(f"k{ks[0]}_")]:
            metrics[f"gmm_avg_{name}"] = float(np.mean([metrics[f"k{k}_{name}"] for k in ks]))
        regimes = ["data"] + (["size", "data_size"] if c.large else [])
        ctx.summary(f"KuraNet cluster synchrony, GMM average over k = {ks}, seeds {c.seed}..{c.seed + c.num_seeds - 1}: "
                    + ", ".join(f"{r} L {metrics['gmm_avg_L_' + r]:.4f} (untrained {metrics['gmm_avg_control_L_' + r]:.4f}"
                                f" / block {metrics['gmm_avg_block_L_' + r]:.4f})" for r in regimes) + ".")
    return metrics


def _run_one(c, ctx, k, prefix):
    xtr, ytr, xte, yte, k, image = _data(c, k)
    if c.n > min(len(xtr), len(xte)):
        raise ValueError(f"`n` = {c.n} must not exceed the training and test set sizes ({len(xtr)}, {len(xte)})")
    xtr, xte = jnp.asarray(xtr, F32), jnp.asarray(xte, F32)
    ytr, yte = jnp.asarray(ytr), jnp.asarray(yte)
    S = c.num_seeds
    key = jax.random.key(c.seed)
    _, _, k_fit, k_eval = jax.random.split(key, 4)
    # Seed j initialises exactly as a single run with seed + j (trained and control networks).
    inits = [jax.random.split(jax.random.key(c.seed + j), 4) for j in range(S)]
    module, _ = kn.init_coupling(inits[0][0], xtr.shape[1], c.model.hidden, c.model.negative_slope, F32)

    def init(kk):
        return kn.init_coupling(kk, xtr.shape[1], c.model.hidden, c.model.negative_slope, F32)[1]

    params0 = jax.tree.map(lambda *a: jnp.stack(a), *[init(ki[0]) for ki in inits])  # leading seed axis (S, …)
    control_params = jax.tree.map(lambda *a: jnp.stack(a), *[init(ki[1]) for ki in inits])
    sim = dict(dt=c.dt, burn_in_steps=c.burn_in_steps, window_steps=c.window_steps)
    norm = {"none": "clusters", "row": "clusters_centred", "graph": "clusters_graph_centred"}[c.centring]

    def phases(K, theta0):
        return kn.simulate_window(K, jnp.zeros(K.shape[0], F32), theta0, **sim)

    def graph_loss(params, x, y, theta0):
        return kn.cluster_window_loss(phases(kn.coupling_matrix(module, params, x, norm), theta0), y, k)

    def one_graph(kj):
        k1, k2 = jax.random.split(kj)
        idx = jax.random.choice(k1, xtr.shape[0], (c.n,), replace=False)
        return xtr[idx], ytr[idx], _theta0(k2, c.n)

    sample = jax.jit(lambda kk: jax.vmap(one_graph)(jax.random.split(kk, S)))  # one graph per seed

    def batch_fn(step, kk):
        return sample(kk)

    def loss_fn(params, batch, kk):
        losses = jax.vmap(graph_loss)(params, *batch)
        # The sum: each seed's gradient is its own loss's (the seeds share no parameters).
        return jnp.sum(losses), {f"loss_seed{j}": losses[j] for j in range(S)} if S > 1 else {}

    # Validation graphs from the training set select the step kept (noisy single-graph losses) and the best seed.
    kv1, kv2 = jax.random.split(jax.random.fold_in(k_fit, 10**6))
    # Distinct points within a graph; graphs may share points (an image's half has only h·w/2 pixels).
    vidx = jax.vmap(lambda kk: jax.random.choice(kk, xtr.shape[0], (c.n,), replace=False))(
        jax.random.split(kv1, c.val_graphs))
    vth0 = jax.vmap(lambda kk: _theta0(kk, c.n))(jax.random.split(kv2, c.val_graphs))
    val_one = lambda p: jnp.mean(jax.vmap(lambda i, t0: graph_loss(p, xtr[i], ytr[i], t0))(vidx, vth0))
    val_seeds = jax.jit(jax.vmap(val_one))

    def eval_fn(p):
        v = val_seeds(p)
        ctx.log("validation L per seed: " + " ".join(f"{float(x):.4f}" for x in v))  # progress in run.log
        return {"loss": jnp.mean(v), **({f"seed{j}": v[j] for j in range(S)} if S > 1 else {})}

    ctx.log(f"{c.dataset} (k = {k}): training {c.steps} steps on n = {c.n} graphs, {S} seed(s) at once")
    t = time.perf_counter()
    name = f"clusters_{c.dataset}" + (str(k) if c.dataset == "gmm" else "")
    result = train(loss_fn, params=params0, optimizer=per_seed_optimizer(make_optimizer(c.optimizer, c.steps)),
                   num_steps=c.steps, key=k_fit, batch_fn=batch_fn, ctx=ctx, checkpoint_every=c.checkpoint_every,
                   name=name, eval_fn=eval_fn, eval_every=c.val_every, has_aux=True)
    train_time = time.perf_counter() - t
    params = result.best_params
    val = np.asarray(val_seeds(params))
    best = int(np.argmin(val))
    get = lambda tree, j: jax.tree.map(lambda a: a[j], tree)
    ctx.log(f"kept the parameters of step {result.best_step} (mean validation L {result.best_loss:.4f}); "
            f"best seed {c.seed + best} (validation L {val[best]:.4f})")
    hist = np.asarray(result.history["loss"]) / S
    ctx.save_arrays(**{f"{prefix}train_loss": hist, f"{prefix}val_L_seeds": val})

    # Data regime, with the untrained and the block controls, every seed on the same test graphs.
    g = min(c.eval_graphs, xte.shape[0] // c.n)
    perm = jax.random.permutation(jax.random.fold_in(k_eval, 0), xte.shape[0])[: g * c.n].reshape(g, c.n)
    th0s = jax.vmap(lambda kk: _theta0(kk, c.n))(jax.random.split(jax.random.fold_in(k_eval, 1), g))

    def three(p, cp, x, y, theta0, block_rows=None, ref=None):
        """Trained, untrained and block networks on one graph; ref = (burn-in, window) of the reference protocol."""
        K = kn.coupling_matrix(module, p, x, norm, block_rows=block_rows)
        Kc = kn.coupling_matrix(module, cp, x, norm, block_rows=block_rows)
        Kb = kn.block_control_matrix(y, k, jnp.max(jnp.abs(K))).astype(F32)
        out = {}
        for who, M in (("", K), ("control_", Kc), ("block_", Kb)):
            th = phases(M, theta0)
            out[who + "L"] = kn.cluster_window_loss(th, y, k)
            # The last state's loss separates a slow transient from a wrong end state.
            out[who + "L_last"] = kj.cluster_loss(th[-1], y, k)
            out[who + "final"] = th[-1]
            if ref is not None:
                th_ref = kn.simulate_window(M, jnp.zeros(M.shape[0], F32), theta0, dt=c.dt,
                                            burn_in_steps=ref[0], window_steps=ref[1])
                out[who + "L_ref"] = kn.cluster_window_loss(th_ref, y, k)
        return out

    data_ref = (c.ref_burn_in_steps, c.window_steps) if c.ref_eval else None
    data_eval = jax.jit(jax.vmap(jax.vmap(lambda *a: three(*a, ref=data_ref), (None, None, 0, 0, 0)),
                                 (0, 0, None, None, None)))
    res, t_data = timed(data_eval, params, control_params, xte[perm], yte[perm], th0s)
    # Outputs of `three` (per network: trained, untrained, block) → metric name templates per regime.
    whos = ("", "control_", "block_")
    kinds = {"L": "L_{}", "L_last": "L_last_{}"} | ({"L_ref": "L_{}_ref"} if c.ref_eval else {})
    per_seed = {who + name.format("data"): np.asarray(jnp.mean(res[who + key], 1))
                for who in whos for key, name in kinds.items()}
    per_seed["val_L"] = val
    metrics = {prefix + "train_time_s": train_time, prefix + "time_per_step_s": train_time / max(result.steps_run, 1),
               prefix + "best_step": float(result.best_step), prefix + "best_seed": float(c.seed + best),
               prefix + "final_train_loss": float(np.mean(hist[-50:])) if c.steps else float("nan")}
    ctx.save_arrays(**{prefix + "data_final": np.asarray(res["final"][best, 0]),
                       prefix + "data_control_final": np.asarray(res["control_final"][best, 0]),
                       prefix + "data_block_final": np.asarray(res["block_final"][best, 0]),
                       prefix + "data_labels": np.asarray(yte[perm[0]])})

    size_ref = (c.ref_size_burn_in_steps - 1, 1) if c.ref_eval else None
    big = jax.jit(lambda p, cp, x, y, th0: three(p, cp, x, y, th0, c.model.block_rows, size_ref))
    if c.large:
        for regime, x, y, salt in (("size", xtr, ytr, 2), ("data_size", xte, yte, 3)):
            th0 = _theta0(jax.random.fold_in(k_eval, salt), x.shape[0])
            vals = {who + name.format(regime): [] for who in whos for name in kinds.values()}
            secs = 0.0
            which = [best] if c.large_best_only else range(S)
            for j in which:
                out, s_j = timed(big, get(params, j), get(control_params, j), x, y, th0)
                secs += s_j
                for who in whos:
                    for key, name in kinds.items():
                        vals[who + name.format(regime)].append(float(out[who + key]))
            ib = 0 if c.large_best_only else best
            for name, v in vals.items():
                if c.large_best_only:
                    metrics[prefix + name] = v[0]
                else:
                    per_seed[name] = np.asarray(v)
            metrics[f"{prefix}eval_{regime}_s"] = secs / len(which)
            ctx.log(f"{regime}: n = {x.shape[0]}, best seed L = {vals[f'L_{regime}'][ib]:.4f} (control "
                    f"{vals[f'control_L_{regime}'][ib]:.4f}, block {vals[f'block_L_{regime}'][ib]:.4f}); "
                    f"{secs / len(which):.1f} s per seed")
    if image is not None:
        per_seed.update(_segment(c, ctx, big, params, control_params, image, k, k_eval, best, S))
    _select(metrics, per_seed, best, prefix)
    ctx.save_arrays(**{f"{prefix}seeds_{n_}": np.asarray(v, float) for n_, v in per_seed.items()})
    if c.figures:
        _figures(c, ctx, module, get(params, best), xtr, ytr, k, phases, k_eval, metrics, norm, prefix)
    regimes = ["data"] + (["size", "data_size"] if c.large else [])
    spread = (lambda r: f" [mean {metrics[prefix + 'L_' + r + '_mean']:.4f} ± {metrics[prefix + 'L_' + r + '_std']:.4f}]"
              if prefix + 'L_' + r + '_mean' in metrics else "")
    ctx.summary(f"KuraNet cluster synchrony on {c.dataset} (k = {k}), seeds {c.seed}..{c.seed + S - 1}, best seed "
                f"{c.seed + best} (validation): cluster loss L (untrained / block control) "
                + ", ".join(f"{r} {metrics[prefix + 'L_' + r]:.4f}{spread(r)} ({metrics[prefix + 'control_L_' + r]:.4f} / "
                            f"{metrics[prefix + 'block_L_' + r]:.4f})" for r in regimes)
                + ("; reference evaluation protocol (long burn-in): " + ", ".join(
                    f"{r} {metrics[prefix + 'L_' + r + '_ref']:.4f} ({metrics[prefix + 'control_L_' + r + '_ref']:.4f} / "
                    f"{metrics[prefix + 'block_L_' + r + '_ref']:.4f})" for r in regimes) if c.ref_eval else "")
                + (f"; segmentation SBD {metrics['sbd']:.3f} vs k-means on pixels {metrics['sbd_kmeans_pixels']:.3f}"
                   if "sbd" in metrics else "") + ".")
    return metrics


def _segment(c, ctx, big, params, control_params, image, k, k_eval, best, S):
    """Whole image as one network per seed → k-means on (cos θ, sin θ) → SBD against the true segments."""
    from sklearn.cluster import KMeans

    img, seg, x, y = image
    th0 = _theta0(jax.random.fold_in(k_eval, 4), x.shape[0])
    raw = KMeans(k, n_init=10, random_state=c.seed).fit_predict(x)
    sbd_raw = kn.symmetric_best_dice(raw, y)
    out_seeds = [big(jax.tree.map(lambda a: a[j], params), jax.tree.map(lambda a: a[j], control_params),
                     jnp.asarray(x, F32), jnp.asarray(y), th0) for j in range(S)]
    preds = [kn.phase_kmeans(np.asarray(o["final"]), k, seed=c.seed) for o in out_seeds]
    per_seed = {"sbd": [kn.symmetric_best_dice(p, y) for p in preds],
                "control_sbd": [kn.symmetric_best_dice(kn.phase_kmeans(np.asarray(o["control_final"]), k, seed=c.seed), y)
                                for o in out_seeds],
                "sbd_kmeans_pixels": [sbd_raw] * S,
                "L_full_image": [float(o["L"]) for o in out_seeds]}
    out, pred = out_seeds[best], preds[best]
    h, w = seg.shape
    ctx.save_arrays(image=img, segments=seg, pred_segments=pred.reshape(h, w), kmeans_pixels=raw.reshape(h, w),
                    image_phase=np.asarray(out["final"]).reshape(h, w))
    if not c.figures:
        return per_seed
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 5, figsize=(15, 3))
    ax[0].imshow(img); ax[0].set_title("image")
    ax[1].imshow(np.mod(np.asarray(out["final"]).reshape(h, w), 2 * np.pi), cmap="hsv"); ax[1].set_title("phase")
    ax[2].imshow(pred.reshape(h, w), cmap="tab10"); ax[2].set_title(f"KuraNet + k-means, SBD {per_seed['sbd'][best]:.2f}")
    ax[3].imshow(raw.reshape(h, w), cmap="tab10"); ax[3].set_title(f"k-means pixels, SBD {sbd_raw:.2f}")
    ax[4].imshow(seg, cmap="tab10"); ax[4].set_title("ground truth")
    for a in ax:
        a.axis("off")
    ctx.save_figure(fig, "segmentation")
    return per_seed


def _figures(c, ctx, module, params, xtr, ytr, k, phases, k_eval, metrics, norm, prefix=""):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arrays = dict(np.load(ctx.out_dir / "arrays.npz"))
    labels = arrays[prefix + "data_labels"]
    cols = plt.get_cmap("tab10")(labels % 10)
    fig, ax = plt.subplots(1, 3, figsize=(12, 4), subplot_kw={"projection": "polar"})
    for a, who, title in zip(ax, ("", "control_", "block_"), ("trained", "untrained control", "block control")):
        th = arrays[f"{prefix}data_{who}final"]
        a.scatter(th, np.ones_like(th), c=cols, s=12)
        for l in range(k):
            z = np.mean(np.exp(1j * th[labels == l])) if np.any(labels == l) else 0
            a.annotate("", xy=(np.angle(z), abs(z)), xytext=(0, 0),
                       arrowprops=dict(color=plt.get_cmap("tab10")(l % 10), width=2))
        a.set_title(f"{title}: L = {metrics[f'{prefix}{who}L_data']:.3f}")
        a.set_yticks([])
    ctx.save_figure(fig, prefix + "terminal_phases")
    # Learned couplings of training points sorted by label (paper Fig. 3B).
    m = min(500, xtr.shape[0])
    order = np.argsort(np.asarray(ytr[:m]), kind="stable")
    K = np.asarray(kn.coupling_matrix(module, params, xtr[:m][order], norm))
    fig, a = plt.subplots(figsize=(5, 4.5))
    v = np.abs(K).max()
    im = a.imshow(K, cmap="RdBu_r", vmin=-v, vmax=v)
    fig.colorbar(im)
    a.set_title("learned K, sorted by label")
    ctx.save_figure(fig, prefix + "coupling_matrix")
    if xtr.shape[1] == 2:
        # Phase landscape (paper Fig. 3A): one oscillator's final phase as its feature moves over a grid.
        gpts = c.landscape_grid
        x0 = xtr[: c.n]
        th0 = _theta0(jax.random.fold_in(k_eval, 5), c.n)
        lo, hi = np.asarray(xtr.min(0)), np.asarray(xtr.max(0))
        gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], gpts), np.linspace(lo[1], hi[1], gpts))
        grid = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], -1), F32)

        def final_phase(p):
            x = x0.at[0].set(p)
            th = phases(kn.coupling_matrix(module, params, x, norm), th0)
            return th[-1, 0] - jnp.angle(jnp.mean(jnp.exp(1j * th[-1, 1:])))  # relative to the batch's mean field

        land = np.asarray(jax.lax.map(jax.jit(final_phase), grid, batch_size=64))
        ctx.save_arrays(**{prefix + "phase_landscape": land.reshape(gpts, gpts)})
        fig, a = plt.subplots(figsize=(5, 4.5))
        a.imshow(np.mod(land.reshape(gpts, gpts), 2 * np.pi), origin="lower", cmap="hsv",
                 extent=[lo[0], hi[0], lo[1], hi[1]], aspect="auto")
        a.scatter(np.asarray(x0[:, 0]), np.asarray(x0[:, 1]), c=plt.get_cmap("tab10")(np.asarray(ytr[: c.n]) % 10),
                  s=10, edgecolors="k", linewidths=0.3)
        a.set_title("phase landscape over feature space")
        ctx.save_figure(fig, prefix + "phase_landscape")
