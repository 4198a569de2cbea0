"""Figures and image outputs of the KuraNet cluster study (paper Figs. 3–4): terminal phases, learned K, phase
landscape, segmentation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def cluster_figures(c, ctx, task, model, train_pool, key, metrics, prefix=""):
    """Terminal phases of a test graph, the learned couplings sorted by label and the phase landscape."""
    import matplotlib.pyplot as plt

    arrays = dict(np.load(ctx.out_dir / "arrays.npz"))
    labels = arrays[prefix + "data_labels"]
    cols = plt.get_cmap("tab10")(labels % 10)
    fig, ax = plt.subplots(1, 3, figsize=(12, 4), subplot_kw={"projection": "polar"})
    for a, who, title in zip(ax, ("", "control_", "block_"), ("trained", "untrained control", "block control")):
        th = arrays[f"{prefix}data_{who}final"]
        a.scatter(th, np.ones_like(th), c=cols, s=12)
        for l in range(task.num_groups):
            z = np.mean(np.exp(1j * th[labels == l])) if np.any(labels == l) else 0
            a.annotate("", xy=(np.angle(z), abs(z)), xytext=(0, 0),
                       arrowprops=dict(color=plt.get_cmap("tab10")(l % 10), width=2))
        a.set_title(f"{title}: L = {metrics[f'{prefix}{who}L_data']:.3f}")
        a.set_yticks([])
    ctx.save_figure(fig, prefix + "terminal_phases")
    xtr, ytr = train_pool
    m = min(500, xtr.shape[0])  # learned couplings of training points sorted by label (paper Fig. 3B)
    order = np.argsort(np.asarray(ytr[:m]), kind="stable")
    K = np.asarray(model.couplings(xtr[:m][order]))
    fig, a = plt.subplots(figsize=(5, 4.5))
    v = np.abs(K).max()
    fig.colorbar(a.imshow(K, cmap="RdBu_r", vmin=-v, vmax=v))
    a.set_title("learned K, sorted by label")
    ctx.save_figure(fig, prefix + "coupling_matrix")
    if xtr.shape[1] != 2:
        return
    # Phase landscape (paper Fig. 3A): one oscillator's final phase as its feature moves over a grid.
    g = c.landscape_grid
    graph = task.graph(key, train_pool, jnp.arange(min(c.n, xtr.shape[0])))
    lo, hi = np.asarray(xtr.min(0)), np.asarray(xtr.max(0))
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], g), np.linspace(lo[1], hi[1], g))
    grid = jnp.asarray(np.stack([gx.ravel(), gy.ravel()], -1), xtr.dtype)

    def final_phase(p):
        gr = dict(graph, x=graph["x"].at[0].set(p))
        th = task.trajectory(model.couplings(gr["x"]), gr, task.burn_in_steps, task.window_steps)
        return th[-1, 0] - jnp.angle(jnp.mean(jnp.exp(1j * th[-1, 1:])))  # relative to the batch's mean field

    land = np.asarray(jax.lax.map(jax.jit(final_phase), grid, batch_size=64)).reshape(g, g)
    ctx.save_arrays(**{prefix + "phase_landscape": land})
    fig, a = plt.subplots(figsize=(5, 4.5))
    a.imshow(np.mod(land, 2 * np.pi), origin="lower", cmap="hsv", extent=[lo[0], hi[0], lo[1], hi[1]], aspect="auto")
    a.scatter(np.asarray(graph["x"][:, 0]), np.asarray(graph["x"][:, 1]), s=10, edgecolors="k", linewidths=0.3,
              c=plt.get_cmap("tab10")(np.asarray(graph["y"]) % 10))
    a.set_title("phase landscape over feature space")
    ctx.save_figure(fig, prefix + "phase_landscape")


def segmentation_figure(ctx, img, seg, phase, pred, kmeans, sbd, sbd_pixels):
    """Image, terminal phases, KuraNet + k-means segments, k-means on pixels, ground truth."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 5, figsize=(15, 3))
    panels = [(img, None, "image"), (np.mod(phase, 2 * np.pi), "hsv", "phase"),
              (pred, "tab10", f"KuraNet + k-means, SBD {sbd:.2f}"), (kmeans, "tab10", f"k-means pixels, SBD {sbd_pixels:.2f}"),
              (seg, "tab10", "ground truth")]
    for a, (im, cmap, title) in zip(ax, panels):
        a.imshow(im, cmap=cmap)
        a.set_title(title)
        a.axis("off")
    ctx.save_figure(fig, "segmentation")


def segment_outputs(c, ctx, task, fitted, image):
    """Whole image as one network per member → k-means on (cos θ, sin θ) → SBD against the true segments;
    the chosen member's phases and segments as arrays and a figure. Returns the per-member scores."""
    from kuramoto_jax import kuranet as kn

    img, seg, whole = image
    per = kn.segment(task, fitted, whole, ctx.key("image"), c.model.block_rows, seed=c.seed)
    b, (h, w) = fitted.best, seg.shape
    arrays = dict(image_phase=per.pop("phases")[b].reshape(h, w), pred_segments=per.pop("segments")[b].reshape(h, w),
                  kmeans_pixels=per.pop("kmeans_pixels").reshape(h, w))
    ctx.save_arrays(image=img, segments=seg, **arrays)
    if c.figures:
        segmentation_figure(ctx, img, seg, arrays["image_phase"], arrays["pred_segments"], arrays["kmeans_pixels"],
                            per["sbd"][b], per["sbd_kmeans_pixels"][0])
    return per
