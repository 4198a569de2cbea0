"""Image segmentation by a trained cluster-synchrony network (paper Table II, last row)."""

from __future__ import annotations

import jax
import numpy as np

from ._metrics import phase_kmeans, symmetric_best_dice
from ._protocol import Fitted, score


def segment(task, fitted: Fitted, pool, key, block_rows: int | None = None, seed: int = 0) -> dict:
    """Run the whole image as one network per member, segment by k-means on (cos θ, sin θ), score by SBD.

    Args:
        task: the `ClusterTask` the networks were trained on.
        fitted: the trained ensemble.
        pool: every pixel (features (N, 5), true segment labels (N,)).
        key: key of the initial phases.
        block_rows: rows of K built at once.
        seed: k-means seed.

    Returns:
        Per-member lists "sbd", "control_sbd", "sbd_kmeans_pixels" (k-means on the raw features, the same for
        every member), "L_full_image"; and "phases" (M, N) and "segments" (M, N) of the trained networks.
    """
    from sklearn.cluster import KMeans

    x, y = (np.asarray(a) for a in pool)
    k = task.num_groups
    whole = jax.tree.map(lambda a: a[None], task.whole(key, pool))
    out = score(task, fitted, whole, block_rows=block_rows, keep=("final",))
    seg = lambda th: phase_kmeans(np.asarray(th), k, seed=seed)
    segments = np.stack([seg(th) for th in out["final"][:, 0]])
    pixels = KMeans(k, n_init=10, random_state=seed).fit_predict(x)
    return {"sbd": [symmetric_best_dice(s, y) for s in segments],
            "control_sbd": [symmetric_best_dice(seg(th), y) for th in out["control_final"][:, 0]],
            "sbd_kmeans_pixels": [symmetric_best_dice(pixels, y)] * fitted.members,
            "L_full_image": list(out["L"][:, 0]), "phases": out["final"][:, 0], "segments": segments,
            "kmeans_pixels": pixels}
