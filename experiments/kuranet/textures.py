r"""KuraNet segmentation of texture mosaics: segments that colour alone cannot separate (Table II, images).

Each image is a `kn.texture_mosaic` (Voronoi cells of natural textures with equal mean and std,
plus pixel noise and an illumination gradient; about 150,000 pixels at 384 × 384). Pixel
features are the paper's [R, G, B, p/w, q/h], with `texture_window` > 0 the labelled variant
that appends the local mean and std of intensity (`kn.local_texture_features`). For each image
`num_seeds` coupling networks train on n-pixel graphs of half its pixels (`kn.ClusterTask`,
`kn.fit`, the member chosen by validation L); the whole image is then segmented by the subset
protocol (`kn.segment_subsets`: rounds of m random pixels, K of each subset normalised as a
training graph of size m, phases written back) and k-means on (cos θ, sin θ). Scores: symmetric
best Dice (SBD) of KuraNet (`img<i>_sbd`), of k-means on the raw RGB pixels
(`img<i>_sbd_kmeans_pixels`) and of k-means on the features KuraNet sees
(`img<i>_sbd_kmeans_features`); `sbd`, `sbd_kmeans_pixels`, `sbd_kmeans_features` average them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from kuramoto_jax import kuranet as kn
from kuramoto_jax.run import OptimizerConfig

from .common import ModelConfig, fit_options


@dataclass
class MosaicConfig:
    height: int = field(default=384, metadata={"ge": 8, "help": "image height (pixels)"})
    width: int = field(default=384, metadata={"ge": 8, "help": "image width (pixels)"})
    segments: int = field(default=4, metadata={"ge": 2, "le": len(kn.TEXTURES), "help": "texture cells per image"})
    noise: float = field(default=0.05, metadata={"ge": 0, "help": "pixel noise std per channel"})
    illumination: float = field(default=0.3, metadata={"ge": 0, "help": "peak-to-peak illumination gradient"})


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "PRNG seed: every random stream is derived from it by name"})
    images: list[int] = field(default_factory=lambda: [0, 1, 2], metadata={
        "ge": 0, "help": "mosaic seeds, one image each (kn.texture_mosaic)"})
    mosaic: MosaicConfig = field(default_factory=MosaicConfig)
    texture_window: int = field(default=0, metadata={
        "ge": 0, "help": "window of the local mean/std intensity features appended to [RGB, p/w, q/h] (0: none)"})
    num_seeds: int = field(default=2, metadata={"ge": 1, "help": "members trained at once per image"})
    n: int = field(default=100, metadata={"ge": 2, "help": "oscillators per training graph"})
    steps: int = field(default=400, metadata={"ge": 0, "help": "training steps per image"})
    graphs_per_step: int = field(default=1, metadata={
        "ge": 1, "help": "graphs per member and training step, the loss their mean (1: the paper)"})
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(
        name="adam", learning_rate=1e-2, schedule="cosine", clip_norm=1.0))
    model: ModelConfig = field(default_factory=ModelConfig)
    dt: float = field(default=15.0, metadata={"gt": 0, "help": "Euler step"})
    burn_in_steps: int = field(default=0, metadata={"ge": 0, "help": "Euler steps before the loss window"})
    window_steps: int = field(default=100, metadata={"ge": 1, "help": "Euler steps in the loss window"})
    energy_weight: float = field(default=1.0, metadata={"ge": 0, "help": "λ of the energy-gap term (kn.energy_gap)"})
    val_graphs: int = field(default=16, metadata={"ge": 1, "help": "validation graphs for best-step selection"})
    val_every: int = field(default=50, metadata={"ge": 1, "help": "steps between validations"})
    checkpoint_every: int = field(default=500, metadata={"ge": 1, "help": "steps between checkpoints"})
    subset: int = field(default=0, metadata={"ge": 0, "help": "m, pixels per segmentation round (0: n)"})
    rounds: int = field(default=3000, metadata={"ge": 1, "help": "segmentation rounds per image"})
    subset_steps: int = field(default=0, metadata={"ge": 0, "help": "Euler steps per round (0: burn-in + window)"})
    figures: bool = field(default=True, metadata={"help": "image / truth / KuraNet / k-means panels per image"})


def _features(c, img):
    x = kn.pixel_features(img)
    return np.concatenate([x, kn.local_texture_features(img, c.texture_window)], 1) if c.texture_window else x


def run(config: Config, ctx) -> dict[str, float]:
    c, mc = config, config.mosaic
    task = kn.ClusterTask(mc.segments, c.n, c.dt, c.burn_in_steps, c.window_steps)
    train_task = dataclasses.replace(task, energy_weight=c.energy_weight)
    metrics, panels = {}, []
    for i, image_seed in enumerate(c.images):
        img, seg = kn.texture_mosaic(mc.height, mc.width, mc.segments, image_seed, mc.noise, mc.illumination)
        train, _, _, (x, y) = kn.image_pools(img, seg, ctx.key("pixel_split", i), _features(c, img))
        ctx.log(f"image {i} (mosaic seed {image_seed}, {x.shape[0]} pixels, {x.shape[1]} features): "
                f"training {c.steps} steps, {c.num_seeds} member(s)")
        fitted = kn.fit(train_task, train, key=ctx.key("fit", i), ctx=ctx, name=f"textures_img{i}", val_task=task,
                        **fit_options(c))
        b = fitted.best
        seg_out = kn.segment_subsets(task, fitted, (x, y), ctx.key("segment", i), subset=c.subset or c.n,
                                     rounds=c.rounds, steps=c.subset_steps or None, block_rows=c.model.block_rows,
                                     seed=c.seed, members=[b])
        pixels = kn.kmeans_segments(np.asarray(img).reshape(-1, 3), mc.segments, c.seed)
        feats = kn.kmeans_segments(np.asarray(x), mc.segments, c.seed)
        p = f"img{i}_"
        metrics |= {p + "sbd": float(seg_out["sbd"][0]),
                    p + "sbd_kmeans_pixels": kn.symmetric_best_dice(pixels, seg),
                    p + "sbd_kmeans_features": kn.symmetric_best_dice(feats, seg),
                    p + "val_L": float(fitted.val[b]), p + "best_seed": float(b),
                    p + "train_time_s": fitted.train_time_s}
        ctx.log(f"image {i}: SBD KuraNet {metrics[p + 'sbd']:.3f}, k-means pixels {metrics[p + 'sbd_kmeans_pixels']:.3f}"
                f", k-means features {metrics[p + 'sbd_kmeans_features']:.3f} (validation L {fitted.val[b]:.4f})")
        shape = seg.shape
        panels.append((img, seg, seg_out["segments"][0].reshape(shape), pixels.reshape(shape), feats.reshape(shape)))
        ctx.save_arrays(**{p + "segments": seg_out["segments"][0].reshape(shape),
                           p + "phases": seg_out["phases"][0].reshape(shape), p + "val_L_seeds": fitted.val})
    for name in ("sbd", "sbd_kmeans_pixels", "sbd_kmeans_features"):
        metrics[name] = float(np.mean([metrics[f"img{i}_{name}"] for i in range(len(c.images))]))
    if c.figures:
        _figure(ctx, panels, metrics)
    variant = f"[RGB, p/w, q/h] + local mean/std over {c.texture_window}²" if c.texture_window else "[RGB, p/w, q/h]"
    ctx.summary(f"KuraNet on {len(c.images)} texture mosaic(s) of {mc.height} × {mc.width} pixels, {mc.segments} "
                f"segments, features {variant}, {c.num_seeds} member(s) per image chosen by validation, segmented by "
                f"{c.rounds} rounds of m = {c.subset or c.n} pixels: mean SBD {metrics['sbd']:.3f} vs k-means on raw "
                f"pixels {metrics['sbd_kmeans_pixels']:.3f} and on KuraNet's features {metrics['sbd_kmeans_features']:.3f}"
                " (per image: " + ", ".join(f"{metrics[f'img{i}_sbd']:.3f}/{metrics[f'img{i}_sbd_kmeans_pixels']:.3f}/"
                                            f"{metrics[f'img{i}_sbd_kmeans_features']:.3f}" for i in range(len(c.images)))
                + ").")
    return metrics


def _figure(ctx, panels, metrics):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(len(panels), 5, figsize=(15, 3 * len(panels)), squeeze=False)
    for i, row in enumerate(panels):
        titles = ("image", "truth", f"KuraNet, SBD {metrics[f'img{i}_sbd']:.2f}",
                  f"k-means RGB, SBD {metrics[f'img{i}_sbd_kmeans_pixels']:.2f}",
                  f"k-means features, SBD {metrics[f'img{i}_sbd_kmeans_features']:.2f}")
        for a, im, t in zip(ax[i], row, titles):
            a.imshow(im, cmap=None if im.ndim == 3 else "tab10", interpolation="nearest")
            a.set_title(t)
            a.axis("off")
    ctx.save_figure(fig, "segmentation")
