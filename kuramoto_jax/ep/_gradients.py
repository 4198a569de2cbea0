"""Loss gradients at an equilibrium: equilibrium propagation and exact references.

Loss on the output oscillators O with targets y:  L(θ) = ½ Σ_{i∈O} (θ_i − y_i)².

Energy view (symmetric K): F = −∂E/∂θ with
    E(θ) = −Σ_i ω^c_i θ_i − Σ_{i<j} K_ij cos(θ_j − θ_i),
so the equilibrium-propagation identity dL/dp = lim_{β→0} [∂E/∂p(θ^β) − ∂E/∂p(θ*)]/β gives

    ∂L/∂ω^c_k = −lim (θ^β_k − θ*_k)/β,
    ∂L/∂K_ij  =  lim [cos Δθ*_ij − cos Δθ^β_ij]/β        (symmetric edge weight),

where θ^β solves the nudged system F_i − β 1[i∈O](θ_i − y_i) = 0.

With a field b_i sin θ_i (energy term +Σ_i b_i cos θ_i; clamped mode only) the same
identity gives ∂L/∂b_i = lim [cos θ^β_i − cos θ*_i]/β (`field_estimate`;
`gradients(..., return_field=True)`). With clamped input phases (Wang et al.) the
clamped oscillators are not unknowns: their g_ω and g_b are zero, ω is not centred
and g_ω is ∂L/∂ω.

Estimators (all return (g_ω (N,), g_K (N, N)) in the reduced system, g_ω[p] = 0):
  "ep"        one-sided, θ^β vs θ*: bias O(β).
  "centered"  θ^{+β} vs θ^{−β} divided by 2β: bias O(β²).
  "implicit"  exact: ∂L/∂ω^c = −J̃^{−T} e (autodiff through the root solve with the
              implicit function theorem).
  "autodiff"  backpropagation through a relaxation trajectory (`kj.simulate`).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._coupling import Dense
from .._model import Kuramoto
from .._solve import simulate
from .._validate import one_of
from . import _checks as c
from ._equilibrium import solve

METHODS = ("ep", "centered", "implicit", "autodiff")
"""Gradient methods of `gradients`: one-sided EP, centred EP (±β), implicit differentiation, autodiff through relaxation."""


def output_target(n: int, outputs, target, dtype=None):
    """Scatter the outputs' targets into full vectors: (y (N,), m (N,)).

    Args:
        n: number of oscillators N.
        outputs: (M,) static output indices.
        target: (M,) target phases y_out.
        dtype: dtype of the vectors (default: the target's floating dtype).

    Returns:
        y (N,) with y[outputs] = target and 0 elsewhere; the mask m (N,), 1 at the outputs.
    """
    target = jnp.asarray(target)
    dtype = jnp.result_type(target.dtype, float) if dtype is None else dtype
    idx = np.asarray(outputs, dtype=int)
    return jnp.zeros((n,), dtype).at[idx].set(target.astype(dtype)), jnp.zeros((n,), dtype).at[idx].set(1.0)


def loss(theta, y, mask):
    """L = ½ Σ_i m_i (θ_i − y_i)², shape ()."""
    return 0.5 * jnp.sum(mask * (theta - y) ** 2)


def ep_estimate(theta_a, theta_b, beta_a, beta_b, K):
    """Contrast of two nudged equilibria θ^{β_a}, θ^{β_b} (β_b > β_a), shape ((N,), (N, N)).

    g_ω = −(θ^{β_b} − θ^{β_a}) / (β_b − β_a);
    g_K_ij = [cos Δθ^{β_a}_ij − cos Δθ^{β_b}_ij] / (β_b − β_a) on existing edges (K_ij ≠ 0).
    """
    db = beta_b - beta_a
    g_omega = -(theta_b - theta_a) / db
    ca = jnp.cos(theta_a[None, :] - theta_a[:, None])
    cb = jnp.cos(theta_b[None, :] - theta_b[:, None])
    g_K = jnp.where(K != 0, (ca - cb) / db, 0.0)
    return g_omega, g_K


def field_estimate(theta_a, theta_b, beta_a, beta_b):
    """g_b_i = [cos θ^{β_b}_i − cos θ^{β_a}_i] / (β_b − β_a), shape (N,): EP for the field b_i sin θ_i."""
    return (jnp.cos(theta_b) - jnp.cos(theta_a)) / (beta_b - beta_a)


def _sym_grad(G, K):
    """Gradient w.r.t. independent entries K_ij → w.r.t. the symmetric weight K_ij = K_ji."""
    return jnp.where(K != 0, G + G.T, 0.0)


def implicit_gradients(K, omega_c, y, mask, theta0=None, *, pinned=0, field=None, clamped=None):
    """Exact (g_ω^c, g_K) — and g_b when a field is given — by the implicit function theorem."""

    def L(om, KK, b):
        eq = solve(KK, om, theta0, pinned=pinned, field=b, clamped=clamped)
        return loss(eq.theta, y, mask)

    if field is None:
        g_om, G = jax.grad(lambda om, KK: L(om, KK, None), argnums=(0, 1))(omega_c, K)
        return g_om, _sym_grad(G, K)
    g_om, G, g_b = jax.grad(L, argnums=(0, 1, 2))(omega_c, K, jnp.broadcast_to(field, omega_c.shape))
    return g_om, _sym_grad(G, K), g_b


def relaxation_gradients(K, omega_c, y, mask, theta0=None, *, pinned=0, t1=200.0, dt=0.05, solver="rk4"):
    """(g_ω^c, g_K) by backpropagation through `kj.simulate` relaxed for time t1.

    The free dynamics rotate when Σ ω ≠ 0, so ω is centred inside; the gradient
    with respect to raw ω is then g − mean(g), and shifting it so that entry p is
    0 recovers the reduced-system gradient (the two differ by a multiple of 1).
    """
    n = omega_c.shape[0]
    if theta0 is None:
        theta0 = jnp.zeros((n,), omega_c.dtype)

    def L(om, KK):
        model = Kuramoto(om - jnp.mean(om), Dense(KK))
        th = simulate(model, theta0, t1=t1, dt=dt, solver=solver).theta[-1]
        return loss(th - th[pinned], y, mask)

    g_om, G = jax.grad(L, argnums=(0, 1))(omega_c, K)
    return g_om - g_om[pinned], _sym_grad(G, K)


def gradients(
    K,
    omega,
    target,
    outputs,
    beta: float = 0.1,
    method: str = "ep",
    *,
    pinned: int = 0,
    theta0=None,
    center: bool | None = None,
    field=None,
    clamped=None,
    clamped_phases=None,
    return_field: bool = False,
    t1: float = 200.0,
    dt: float = 0.05,
):
    """Gradients of L = ½ Σ_{i∈outputs} (θ*_i − target_i)² at the free equilibrium θ*.

    Args:
        K: (N, N) symmetric couplings.
        omega: (N,) natural frequencies (centred internally in pinned mode unless center=False).
        target: (M,) target phases of the outputs.
        outputs: (M,) integer indices of the output oscillators.
        beta: nudging strength β > 0 ("ep", "centered").
        method: "ep" | "centered" | "implicit" | "autodiff" (through relaxation; pinned mode only).
        pinned: oscillator held at θ = 0.
        theta0: (N,) warm start for the free equilibrium.
        field: b, scalar or (N,), of the term b_i sin θ_i (needs `clamped`).
        clamped: clamped-phase input encoding: the oscillators held fixed (see `equilibrium`).
        clamped_phases: their phases (see `equilibrium`).
        return_field: also return g_b (N,) = ∂L/∂b_i (needs `field`).

    Returns:
        g_omega (N,): ∂L/∂ω^c_k in the reduced system (g_omega[pinned] = 0); with
        `clamped`, ∂L/∂ω_k (zero at the clamped oscillators).
        g_K (N, N): ∂L/∂K_ij for the symmetric weight K_ij = K_ji, at [i, j] and
        [j, i]; zero where K is zero.
        g_b (N,), only with return_field=True.

    Raises:
        ValueError: on bad input (TypeError for a wrong type).
        RuntimeError: if an equilibrium (free or nudged) does not converge or is unstable.
    """
    one_of("method", method, METHODS)
    K, omega, theta0 = c.check_system(K, omega, pinned, theta0)
    theta0, field, clamped, center = c.check_clamping(omega, theta0, field, clamped, clamped_phases, center)
    n = omega.shape[0]
    outputs, target = c.check_outputs(outputs, target, n, pinned if clamped is None else None, clamped)
    if method in ("ep", "centered"):
        if not isinstance(beta, (int, float, np.floating)) or not np.isfinite(beta) or beta <= 0:
            raise ValueError(f"`beta` must be a finite number > 0, got {beta!r}")
    if return_field and field is None:
        raise ValueError("`return_field=True` needs a `field` (and `clamped`), got field=None")
    if method == "autodiff" and clamped is not None:
        raise ValueError("`method='autodiff'` (relaxation) supports pinned mode only, got `clamped`")
    omega_c = omega - jnp.mean(omega) if center else omega
    y, mask = output_target(n, outputs, target, omega.dtype)
    g = _gradients_jit(K, omega_c, y, mask, theta0, field, float(beta), method, pinned, clamped, t1, dt)
    return g if return_field else g[:2]


def _require(eq, what):
    if not bool(eq.converged):
        raise RuntimeError(f"{what} equilibrium did not converge (residual {float(eq.residual):.3g})")
    if not bool(eq.stable):
        raise RuntimeError(f"{what} equilibrium is unstable (the reduced Jacobian is not negative definite)")


@eqx.filter_jit
def _free(K, omega_c, theta0, field, pinned, clamped):
    return solve(K, omega_c, theta0, pinned=pinned, field=field, clamped=clamped)


@eqx.filter_jit
def _nudged(K, omega_c, theta0, field, beta, y, mask, pinned, clamped):
    return solve(K, omega_c, theta0, pinned=pinned, beta=beta, target=y, output_mask=mask, field=field, clamped=clamped)


_implicit = eqx.filter_jit(implicit_gradients)


@eqx.filter_jit
def _estimate(theta_a, theta_b, beta_a, beta_b, K):
    return (*ep_estimate(theta_a, theta_b, beta_a, beta_b, K), field_estimate(theta_a, theta_b, beta_a, beta_b))


@eqx.filter_jit
def _relaxation(K, omega_c, y, mask, theta0, pinned, t1, dt):
    return relaxation_gradients(K, omega_c, y, mask, theta0, pinned=pinned, t1=t1, dt=dt)


def _gradients_jit(K, omega_c, y, mask, theta0, field, beta, method, pinned, clamped, t1, dt):
    free = _free(K, omega_c, theta0, field, pinned, clamped)
    _require(free, "free")
    if method == "implicit":
        g = _implicit(K, omega_c, y, mask, free.theta, pinned=pinned, field=field, clamped=clamped)
        return g if field is not None else (*g, None)
    if method == "autodiff":
        return (*_relaxation(K, omega_c, y, mask, theta0, pinned, float(t1), float(dt)), None)
    beta = jnp.asarray(beta, omega_c.dtype)
    plus = _nudged(K, omega_c, free.theta, field, beta, y, mask, pinned, clamped)
    _require(plus, "nudged (+β)")
    if method == "ep":
        return _estimate(free.theta, plus.theta, 0.0, beta, K)
    minus = _nudged(K, omega_c, free.theta, field, -beta, y, mask, pinned, clamped)
    _require(minus, "nudged (−β)")
    return _estimate(minus.theta, plus.theta, -beta, beta, K)


def finite_difference_gradients(K, omega_c, y, mask, theta0=None, *, h: float = 1e-5, pinned: int = 0):
    """Central differences of L(θ*(ω^c, K)) for every ω^c_k (k ≠ pinned) and every edge (i < j).

    A reference for the other methods (use float64): 2(N − 1) + 2·edges equilibrium solves,
    each warm-started from theta0.

    Returns:
        (g_ω (N,), g_K (N, N)) as numpy arrays; g_K symmetric, zero off the edges.
    """
    L = jax.jit(lambda KK, om: loss(solve(KK, om, theta0, pinned=pinned).theta, y, mask))
    n = omega_c.shape[0]
    g_om = np.zeros(n)
    for k in range(n):
        if k != pinned:
            e = jnp.zeros(n, omega_c.dtype).at[k].set(h)
            g_om[k] = (float(L(K, omega_c + e)) - float(L(K, omega_c - e))) / (2 * h)
    g_K = np.zeros((n, n))
    for i, j in zip(*np.nonzero(np.triu(np.asarray(K), 1))):
        E = jnp.zeros((n, n), K.dtype).at[i, j].set(h).at[j, i].set(h)
        g_K[i, j] = g_K[j, i] = (float(L(K + E, omega_c)) - float(L(K - E, omega_c))) / (2 * h)
    return g_om, g_K
