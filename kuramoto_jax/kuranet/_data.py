r"""Feature datasets with labels for cluster synchrony (paper Sec. III B).

Points in the plane x = (p, q) with labels Y(x) ∈ {0, …, k−1}:
moons and circles (scikit-learn's generators; circles with noise 0.05 and
factor 0.5), two interlaced spirals (noise 0.5), Gaussian mixtures with k
centres evenly spaced on a ring of radius 10, and generated images whose
segments are known (pixels → [R, G, B]/255, p/w, q/h).

All generators are NumPy with an explicit seed (data are not differentiated).
Features are standardised with the dataset's own constants (not per graph).
"""

from __future__ import annotations

import numpy as np

DATASETS = ("moons", "circles", "spirals", "gmm")
"""The cluster-synchrony datasets of the paper's Table II (point clouds in 2-D with labels)."""


def _rng(seed):
    return np.random.default_rng(seed)


def moons(n: int, seed: int = 0, noise: float = 0.05):
    """Two interleaved half circles (scikit-learn's make_moons): x (n, 2) float32, y (n,) int32 labels."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n, noise=noise, random_state=int(seed) % 2**31)
    return x.astype(np.float32), y.astype(np.int32)


def circles(n: int, seed: int = 0, noise: float = 0.05, factor: float = 0.5):
    """Two concentric circles of radii 2 and 2·factor (make_circles scaled by 2): x (n, 2), y (n,)."""
    from sklearn.datasets import make_circles

    x, y = make_circles(n, noise=noise, factor=factor, random_state=int(seed) % 2**31)
    return (x * 2.0).astype(np.float32), y.astype(np.int32)


def spirals(n: int, seed: int = 0, noise: float = 0.5, turns: float = 1.5):
    """Two interlaced Archimedean spirals, r ∝ angle, plus Gaussian noise of std `noise`."""
    rng = _rng(seed)
    y = rng.integers(0, 2, n)
    t = np.sqrt(rng.uniform(0, 1, n)) * turns * 2 * np.pi
    r = 2 * t + 0.5
    a = t + np.pi * y
    x = np.stack([r * np.cos(a), r * np.sin(a)], -1) + noise * rng.normal(size=(n, 2))
    return (x / 8.0).astype(np.float32), y.astype(np.int32)


def gmm_ring(n: int, k: int, seed: int = 0, radius: float = 10.0, std: float = 1.0):
    """k Gaussian components (std `std`) with means evenly spaced on a ring of radius `radius`."""
    if not (isinstance(k, (int, np.integer)) and k >= 2):
        raise ValueError(f"`k` must be an int >= 2, got {k!r}")
    rng = _rng(seed)
    y = rng.integers(0, k, n)
    ang = 2 * np.pi * y / k
    x = radius * np.stack([np.cos(ang), np.sin(ang)], -1) + std * rng.normal(size=(n, 2))
    return (x / radius).astype(np.float32), y.astype(np.int32)


def make_dataset(name: str, n: int, seed: int = 0, k: int = 5):
    """(x (n, 2) float32, labels (n,) int32, num_groups) for a named dataset."""
    if name not in DATASETS:
        raise ValueError(f"`dataset` must be one of {DATASETS}, got {name!r}")
    if not (isinstance(n, (int, np.integer)) and n >= 2):
        raise ValueError(f"`n` must be an int >= 2, got {n!r}")
    if name == "moons":
        return (*moons(n, seed), 2)
    if name == "circles":
        return (*circles(n, seed), 2)
    if name == "spirals":
        return (*spirals(n, seed), 2)
    return (*gmm_ring(n, k, seed), k)


def segmentation_image(height: int = 48, width: int = 48, num_segments: int = 4, seed: int = 0,
                       noise: float = 0.08):
    """A generated RGB image with known segments: background plus random ellipses and rectangles.

    Each segment has its own colour (with pixel noise of std `noise`) so a
    segmentation must combine colour and position. Returns
    (image (h, w, 3) float32 in [0, 1], segments (h, w) int32 in [0, num_segments)).
    """
    if num_segments < 2:
        raise ValueError(f"`num_segments` must be >= 2, got {num_segments}")
    rng = _rng(seed)
    seg = np.zeros((height, width), np.int32)
    qq, pp = np.mgrid[0:height, 0:width]
    for s in range(1, num_segments):
        cy, cx = rng.uniform(0.2, 0.8) * height, rng.uniform(0.2, 0.8) * width
        ry, rx = rng.uniform(0.15, 0.3) * height, rng.uniform(0.15, 0.3) * width
        if s % 2:
            mask = ((qq - cy) / ry) ** 2 + ((pp - cx) / rx) ** 2 <= 1
        else:
            mask = (np.abs(qq - cy) <= ry) & (np.abs(pp - cx) <= rx)
        seg[mask] = s
    # Segments that vanished under later shapes are relabelled to stay contiguous.
    _, seg = np.unique(seg, return_inverse=True)
    seg = seg.reshape(height, width).astype(np.int32)
    colours = rng.uniform(0.1, 0.9, (seg.max() + 1, 3))
    img = colours[seg] + noise * rng.normal(size=(height, width, 3))
    return np.clip(img, 0, 1).astype(np.float32), seg


def pixel_features(image):
    """Features of every pixel: [R, G, B, p / w, q / h] (paper: RGB/255 and coordinates). (h·w, 5)."""
    image = np.asarray(image, np.float32)
    h, w, _ = image.shape
    qq, pp = np.mgrid[0:h, 0:w]
    return np.concatenate([image.reshape(-1, 3), (pp / w).reshape(-1, 1), (qq / h).reshape(-1, 1)], 1).astype(np.float32)


def dataset_pools(name: str, key, train_size: int, test_size: int, k: int = 5):
    """Training and test pools of a labelled dataset, drawn from two named streams of `key`.

    Returns:
        (train pool, test pool, number of groups), each pool (x (N, 2), labels (N,)) as JAX arrays
        (features in the default float dtype).
    """
    import jax
    import jax.numpy as jnp

    from kuramoto_jax import stream_key

    pools = []
    for part, size in (("train", train_size), ("test", test_size)):
        seed = int(jax.random.randint(stream_key(key, part), (), 0, 2**31 - 1))
        x, y, k = make_dataset(name, size, seed=seed, k=k)
        pools.append((jnp.asarray(x, jnp.result_type(float)), jnp.asarray(y)))
    return pools[0], pools[1], k


def image_pools(image, segments, key, features=None):
    """Pixels of an image as labelled points, split in two random halves (training, test).

    Args:
        image: (h, w, 3) in [0, 1].
        segments: (h, w) integer labels.
        key: PRNG key of the split.
        features: (h·w, d) features of the pixels (default `pixel_features(image)`, d = 5).

    Returns:
        (train pool, test pool, number of segments, whole pool): pools (features (N, d), labels (N,)).
    """
    import jax
    import jax.numpy as jnp

    features = pixel_features(image) if features is None else np.asarray(features)
    if features.ndim != 2 or features.shape[0] != np.asarray(segments).size:
        raise ValueError(f"`features` must be (h·w = {np.asarray(segments).size}, d), got shape {features.shape}")
    x = jnp.asarray(features, jnp.result_type(float))
    y = jnp.asarray(np.asarray(segments).reshape(-1))
    perm = jax.random.permutation(key, x.shape[0])
    tr, te = perm[: x.shape[0] // 2], perm[x.shape[0] // 2:]
    return (x[tr], y[tr]), (x[te], y[te]), int(y.max()) + 1, (x, y)
