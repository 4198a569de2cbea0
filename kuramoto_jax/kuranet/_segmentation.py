r"""Image segmentation by a trained cluster-synchrony network (paper Table II, last row).

Two protocols on the N pixels of an image (features x (N, d), true segments y (N,)):

* `segment`: the whole image as one dense network (K is N × N: small images only);
* `segment_subsets`: the reference code's protocol for large images. The phases θ (N,) of all
  pixels start from the task's θ(0); each of `rounds` rounds draws a random subset S of m pixels,
  runs the m-oscillator network K = K_μ(x_S) (normalised as a training graph of size m) for
  `steps` Euler steps from θ_S and writes the end phases back. Phase information spreads through
  the pixels that subsets share over rounds.

Both segment by k-means with k clusters on (cos θ, sin θ) and score by the symmetric best Dice
(SBD) against y. `kmeans_segments` is the baseline: k-means on any pixel features.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax._validate import prng_key
from kuramoto_jax.parallel import batch_map

from ._coupling import coupling_matrix
from ._metrics import phase_kmeans, symmetric_best_dice
from ._protocol import Fitted, score
from ._tasks import _choose


def kmeans_segments(features, k: int, seed: int = 0) -> np.ndarray:
    """k-means (10 restarts) with k clusters on pixel features (N, d) → labels (N,) int32."""
    from sklearn.cluster import KMeans

    x = np.asarray(features)
    if x.ndim != 2:
        raise ValueError(f"`features` must be (N, d), got shape {x.shape}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 2 <= k <= x.shape[0]:
        raise ValueError(f"`k` must be an int in [2, N = {x.shape[0]}], got {k!r}")
    return KMeans(int(k), n_init=10, random_state=seed).fit_predict(x).astype(np.int32)


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
    x, y = (np.asarray(a) for a in pool)
    k = task.num_groups
    whole = jax.tree.map(lambda a: a[None], task.whole(key, pool))
    out = score(task, fitted, whole, block_rows=block_rows, keep=("final",))
    seg = lambda th: phase_kmeans(np.asarray(th), k, seed=seed)
    segments = np.stack([seg(th) for th in out["final"][:, 0]])
    pixels = kmeans_segments(x, k, seed)
    return {"sbd": [symmetric_best_dice(s, y) for s in segments],
            "control_sbd": [symmetric_best_dice(seg(th), y) for th in out["control_final"][:, 0]],
            "sbd_kmeans_pixels": [symmetric_best_dice(pixels, y)] * fitted.members,
            "L_full_image": list(out["L"][:, 0]), "phases": out["final"][:, 0], "segments": segments,
            "kmeans_pixels": pixels}


def subset_phases(task, nets, pool, key, *, subset: int, rounds: int, steps: int | None = None,
                  block_rows: int | None = None):
    """End phases θ (M, N) of the subset protocol (module docstring) for M networks stacked in `nets`.

    Args:
        task: the `ClusterTask` (θ(0), normalisation, dt).
        nets: `PairMLP`s stacked over members (M, ...), e.g. `fitted.nets`.
        pool: (features (N, d), labels (N,)); the labels are not used by the dynamics.
        key: PRNG key (typed or legacy): θ(0) as `task.whole(key, pool)` (as `segment`), the subsets
            from its stream "subsets".
        subset: m, pixels per round (m = N: every round runs the whole image in pixel order).
        rounds: R, subset rounds.
        steps: Euler steps per round (default the task's burn-in + window).
        block_rows: rows of K built at once.
    """
    key = prng_key("key", key)
    x = jnp.asarray(pool[0])
    N = x.shape[0]
    for name, v, lo, hi in (("subset", subset, 2, N), ("rounds", rounds, 1, None)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo or (hi is not None and v > hi):
            raise ValueError(f"`{name}` must be an int in [{lo}, {hi or '∞'}], got {v!r}")
    steps = task.burn_in_steps + task.window_steps if steps is None else steps
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"`steps` must be an int >= 1, got {steps!r}")
    theta0 = task.whole(key, pool)["theta0"]
    keys = jax.random.split(kj.stream_key(key, "subsets"), int(rounds))
    m = int(subset)

    def one(net):
        def round_(theta, k):
            idx = jnp.arange(N) if m == N else _choose(k, N, m)
            K = coupling_matrix(net, x[idx], task.normalisation, block_rows)
            end = task.trajectory(K, {"theta0": theta[idx]}, 0, int(steps))[-1]
            return theta.at[idx].set(end), None

        return jax.lax.scan(round_, theta0, keys)[0]

    # One member at a time on each device: a round's pair activations (m² × width) dominate memory.
    return np.asarray(batch_map(one, nets, batch_size=1, gather=True))


def segment_subsets(task, fitted: Fitted, pool, key, *, subset: int, rounds: int, steps: int | None = None,
                    block_rows: int | None = None, seed: int = 0, members=None) -> dict:
    """Segment a large image by the subset protocol (`subset_phases`) and score by SBD.

    Args:
        task: the `ClusterTask` the networks were trained on.
        fitted: the trained ensemble.
        pool: every pixel (features (N, d), true segment labels (N,)).
        key: PRNG key of θ(0) and the subsets.
        subset: m, pixels per round.
        rounds: R, subset rounds.
        steps: Euler steps per round (default the task's burn-in + window).
        block_rows: rows of K built at once.
        seed: k-means seed.
        members: members to run (default all).

    Returns:
        Lists over the members run: "sbd"; and "phases" (m, N), "segments" (m, N).
    """
    idx = np.arange(fitted.members) if members is None else np.asarray(members)
    nets = jax.tree.map(lambda a: a[idx] if eqx.is_array(a) else a, fitted.nets)
    theta = subset_phases(task, nets, pool, key, subset=subset, rounds=rounds, steps=steps, block_rows=block_rows)
    y = np.asarray(pool[1])
    segments = np.stack([phase_kmeans(th, task.num_groups, seed=seed) for th in theta])
    return {"sbd": [symmetric_best_dice(s, y) for s in segments], "phases": theta, "segments": segments}
