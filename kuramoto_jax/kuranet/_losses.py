r"""Training losses over the post-burn-in window (paper Eq. 3–6).

The loss of a trajectory θ(t) is the instantaneous loss ℓ averaged over the
saved states after the burn-in, (1/T) Σ_{t > t₀} ℓ(θ(t)):

* global synchrony: ℓ = V = 1 − R (`kj.circular_variance`);
* cluster synchrony: ℓ = ½((1/k) Σ_l V_l + S) scaled to [0, 1] (`cluster_loss`, with
  the splay term S of Eq. 6 normalised to [0, 1], `splay`).

`energy_gap` is an optional training term on K itself (no dynamics), whose gradient
does not vanish at global synchrony.

`splay` and `cluster_loss` are also reachable as `kj.splay` / `kj.cluster_loss`.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax._observables import group_order_parameter


def _splay_max(k: int) -> float:
    """Maximum of the unnormalised Eq. 6 sum (all ψ_l equal): Σ_{g=1}^{⌊k/2⌋} k / (2 g²)."""
    return float(sum(k / (2.0 * g * g) for g in range(1, k // 2 + 1)))


def splay(psi, axis: int = -1):
    r"""KuraNet's splay measure of k group phases ψ_l (paper Eq. 6), normalised to [0, 1].

    S = Σ_{g=1}^{⌊k/2⌋} |Σ_l e^{i g ψ_l}|² / (2 g² k), divided by its maximum
    (all ψ_l equal, S_max = Σ_g k / (2 g²)); S = 0 for evenly splayed groups.
    """
    psi = jnp.asarray(psi)
    k = psi.shape[axis]
    gs = np.arange(1, k // 2 + 1)
    if gs.size == 0:
        return jnp.zeros(psi.sum(axis).shape, psi.dtype)
    total = 0.0
    for g in gs:
        c = jnp.sum(jnp.cos(g * psi), axis)
        s = jnp.sum(jnp.sin(g * psi), axis)
        total = total + (c * c + s * s) / (2 * g * g * k)
    return total / _splay_max(k)


def cluster_loss(theta, labels, num_groups: int):
    r"""KuraNet cluster loss (paper Eq. 5–6), normalised to [0, 1].

    ℓ = ½(V̄ + S) with V̄ = (1/k) Σ_l V_l the mean within-group circular
    variance and S the unnormalised Eq. 6 sum, divided by its maximum
    ½(1 + S_max) ("all losses ... normalized to be between 0 and 1"; the
    reference code divides V̄ + S by 1 + S_max):

        ℓ = (V̄ + S) / (1 + S_max),   S_max = Σ_{g=1}^{⌊k/2⌋} k / (2 g²).

    For k = 2 this is ½(V̄ + S/S_max); for larger k the splay term weighs more
    (k = 5: V̄ / 4.125 + S / 4.125 with S_max = 3.125). Global synchrony
    scores S_max / (1 + S_max): ½ for k = 2, 0.6 for k = 3, 0.76 for k = 5.

    theta: (..., N); labels: (N,) integers in [0, num_groups).
    """
    R, psi = group_order_parameter(theta, labels, num_groups)
    within = jnp.mean(1.0 - R, -1)
    smax = _splay_max(int(num_groups))
    return (within + smax * splay(psi)) / (1.0 + smax)


def sync_loss(theta_window):
    """Mean circular variance over a window: theta_window (T, n) → scalar in [0, 1]."""
    return jnp.mean(kj.circular_variance(theta_window))


def cluster_window_loss(theta_window, labels, num_groups: int):
    """Mean cluster loss over a window: theta_window (T, n), labels (n,) → scalar in [0, 1]."""
    return jnp.mean(cluster_loss(theta_window, labels, num_groups))


def energy_gap(K, labels, num_groups: int, label_order: bool = False):
    r"""Normalised energy of the target cluster state above global synchrony, linear in K.

    With symmetric K the cluster dynamics dθ_i/dt = Σ_j K_ij sin(θ_j − θ_i) is the gradient
    flow of U(θ) = −½ Σ_ij K_ij cos(θ_j − θ_i). A target state puts the k groups at the
    evenly splayed phases 2πl/k in some order (every V_l = 0 and S = 0, so L = 0; the loss does
    not prefer an order). Its energy above global synchrony (θ ≡ const), averaged over the
    orders (E[cos(φ_a − φ_b)] = −1/(k − 1) over distinct a, b), is

        ΔU = Σ_ij K_ij w_ij,   w_ij = ½(1 + 1/(k − 1)) [y_i ≠ y_j],

    negative when the couplings between different groups are repulsive on balance. Returned
    divided by its bound for rows of unit L2 norm (‖nK‖_F ≤ √n, Cauchy–Schwarz):
    E = n ΔU / (√n ‖w‖_F) ∈ [−1, 1], −1 for nK ∝ −w.

    Why: the cluster loss of a trajectory in global synchrony is flat in K (every K leaves
    θ ≡ const at rest), so its gradient vanishes there and is exponentially small near it;
    ∂E/∂K_ij = √n w_ij / ‖w‖_F does not depend on θ and is non-zero for every pair of
    different labels.

    With `label_order` the target puts group l at φ_l = 2πl/k (the labels' numbering is the
    order around the circle): w_ij = ½(1 − cos(φ_{y_j} − φ_{y_i})), which asks for the
    strongest repulsion between groups whose labels are k/2 apart. A prior, not the paper's
    loss: it helps only where the numbering follows the data (the GMM components are numbered
    around their ring).

    K: (n, n) couplings; labels: (n,) ints in [0, num_groups). Returns a scalar.
    """
    K = jnp.asarray(K)
    labels = jnp.asarray(labels)
    n = K.shape[-1]
    if label_order:
        phi = 2 * jnp.pi * labels.astype(K.dtype) / num_groups
        w = 0.5 * (1.0 - jnp.cos(phi[None, :] - phi[:, None]))
    else:  # the constant ½(1 + 1/(k − 1)) cancels in the normalisation
        w = (labels[:, None] != labels[None, :]).astype(K.dtype)
    norm = jnp.sqrt(jnp.sum(w * w))
    # All labels equal (w = 0): no inter-group pairs, no term.
    return jnp.where(norm > 0, n * jnp.sum(K * w) / (jnp.sqrt(n) * jnp.where(norm > 0, norm, 1.0)), 0.0)
