r"""Texture mosaics: images with known segments that colour alone cannot separate.

A mosaic of `num_segments` Voronoi cells (of random sites at least a minimum distance apart),
each filled with a different natural texture from scikit-image's bundled images (brick,
grass, gravel, and crops of moon and hubble_deep_field), converted to grey intensity and
standardised over the cell to one mean μ = 0.5 and one std σ = 0.15, so every region has the
same mean colour and contrast and k-means on raw RGB pixels cannot tell them apart by mean
colour. On top: white pixel noise per channel and a smooth illumination gradient (a linear
ramp across the image in a random direction, peak to peak `illumination`), then clipping to
[0, 1]. The regions differ only in texture (spatial statistics), which a pixel's own
[R, G, B, p/w, q/h] features see only through position.

`local_texture_features` adds what a single pixel lacks: the local mean and std of intensity
over a square window (box filters), a labelled variant of the paper's pixel features.

scikit-image is optional (`pip install "kuramoto-jax[images]"`).
"""

from __future__ import annotations

import numpy as np

from .._validate import integer

TEXTURES = ("brick", "grass", "gravel", "moon", "hubble_deep_field")
"""Textures of `texture_mosaic`: names of scikit-image's bundled images (`skimage.data`)."""

# Crops (row slice, column slice) of photos that are texture-like only in part.
_CROPS = {"moon": (slice(60, 460), slice(60, 460)), "hubble_deep_field": (slice(0, 600), slice(0, 800))}
_MEAN, _STD = 0.5, 0.15


def _skimage_data():
    try:
        import skimage.data
    except ImportError as e:  # an optional dependency
        raise ImportError('texture mosaics need scikit-image: pip install "kuramoto-jax[images]"') from e
    return skimage.data


def texture(name: str) -> np.ndarray:
    """Grey intensity (H, W) float64 in [0, 1] of a bundled scikit-image texture (see `TEXTURES`)."""
    if name not in TEXTURES:
        raise ValueError(f"`textures` entries must be among {TEXTURES}, got {name!r}")
    img = np.asarray(getattr(_skimage_data(), name)(), np.float64) / 255.0
    if img.ndim == 3:  # luminance (ITU-R BT.709 weights, as skimage.color.rgb2gray)
        img = img[..., :3] @ np.array([0.2125, 0.7154, 0.0721])
    rows, cols = _CROPS.get(name, (slice(None), slice(None)))
    return img[rows, cols]


def _check_float(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not value >= 0:
        raise ValueError(f"`{name}` must be a float >= 0, got {value!r}")


def _standardise(v, bound: float = (1 - _MEAN) / _STD):
    """Zero mean, unit std, and (nearly) inside ±bound, so that μ + σ·z is not clipped at 0 or 1: heavy tails
    (the bright stars of hubble_deep_field) are winsorised at ±bound and the values standardised again
    until that holds."""
    z = (v - v.mean()) / max(v.std(), 1e-6)
    for _ in range(50):
        if np.abs(z).max() <= bound:
            break
        z = np.clip(z, -bound, bound)
        z = (z - z.mean()) / max(z.std(), 1e-6)
    return z


def _voronoi(rng, h, w, k):
    """Segment labels (h, w) of the Voronoi cells of k random sites (in relative coordinates), the sites
    at least 0.5/√k apart so that no cell is a sliver."""
    sites = []
    min_dist = 0.5 / np.sqrt(k)
    while len(sites) < k:
        s = rng.uniform(0.05, 0.95, 2)
        if all(np.hypot(*(s - t)) >= min_dist for t in sites):
            sites.append(s)
    sites = np.array(sites)
    qq, pp = np.mgrid[0:h, 0:w]
    pts = np.stack([(qq + 0.5) / h, (pp + 0.5) / w], -1)
    return np.argmin(((pts[:, :, None, :] - sites) ** 2).sum(-1), -1).astype(np.int32)


def texture_mosaic(height: int = 384, width: int = 384, num_segments: int = 4, seed: int = 0, noise: float = 0.05,
                   illumination: float = 0.3, textures=TEXTURES):
    """A texture mosaic with known segments (see the module docstring).

    Args:
        height: h, image rows.
        width: w, image columns.
        num_segments: k, Voronoi cells, each with its own texture (k <= len(textures)).
        seed: NumPy seed of the sites, the texture choice and offsets, the noise and the gradient.
        noise: σ of the white pixel noise per channel.
        illumination: peak-to-peak amplitude of the linear illumination ramp (0: none).
        textures: names of the textures to draw from (`TEXTURES`).

    Returns:
        (image (h, w, 3) float32 in [0, 1], segments (h, w) int32 in [0, k)); every segment is present.
        Before noise and illumination every segment's intensity has mean 0.5 and std 0.15 (up to clipping).
    """
    integer("height", height, 8)
    integer("width", width, 8)
    integer("num_segments", num_segments, 2)
    integer("seed", seed, 0)
    _check_float("noise", noise)
    _check_float("illumination", illumination)
    textures = tuple(textures)
    bad = [t for t in textures if t not in TEXTURES]
    if bad or len(set(textures)) != len(textures):
        raise ValueError(f"`textures` must be distinct names among {TEXTURES}, got {textures!r}")
    if num_segments > len(textures):
        raise ValueError(f"`num_segments` must be at most the number of textures ({len(textures)}), got {num_segments}")
    if num_segments * 16 > height * width:
        raise ValueError(f"`num_segments` = {num_segments} is too many for a {height} x {width} image")
    srcs = [texture(t) for t in textures]
    rng = np.random.default_rng(seed)
    seg = _voronoi(rng, height, width, num_segments)
    grey = np.zeros((height, width))
    qq, pp = np.mgrid[0:height, 0:width]
    for s, t in enumerate(rng.permutation(len(textures))[:num_segments]):
        src = srcs[t]
        # A random offset into the texture, whole inside it where it is larger than the image (no seam);
        # it tiles periodically where the image is larger.
        oy, ox = (rng.integers(0, max(n_src - n_img, 0) + 1) for n_src, n_img in zip(src.shape, (height, width)))
        m = seg == s
        v = src[(qq[m] + oy) % src.shape[0], (pp[m] + ox) % src.shape[1]]
        grey[m] = _MEAN + _STD * _standardise(v)
    angle = rng.uniform(0, 2 * np.pi)
    ramp = np.cos(angle) * (pp / max(width - 1, 1) - 0.5) + np.sin(angle) * (qq / max(height - 1, 1) - 0.5)
    ramp = ramp / max(np.abs(ramp).max(), 1e-12) * 0.5  # in [-½, ½]
    img = (grey + illumination * ramp)[..., None] + noise * rng.normal(size=(height, width, 3))
    return np.clip(img, 0, 1).astype(np.float32), seg


def local_texture_features(image, window: int = 9):
    """Local mean and std of intensity over a `window` x `window` box around every pixel.

    Args:
        image: (h, w, 3) in [0, 1]; intensity is the mean over channels.
        window: box side in pixels (odd or even; borders reflect).

    Returns:
        (h·w, 2) float32: [local mean, local std], in the pixel order of `pixel_features`.
    """
    from scipy.ndimage import uniform_filter

    image = np.asarray(image, np.float64)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"`image` must have shape (h, w, 3), got {image.shape}")
    integer("window", window, 1)
    g = image.mean(-1)
    mean = uniform_filter(g, window, mode="reflect")
    var = np.maximum(uniform_filter(g * g, window, mode="reflect") - mean**2, 0.0)
    return np.stack([mean.ravel(), np.sqrt(var).ravel()], -1).astype(np.float32)
