r"""The Ott–Antonsen reduction of the Kuramoto model with Lorentzian frequencies.

For N → ∞ oscillators θ̇_i = ω_i + (K/N) Σ_j sin(θ_j − θ_i − α) + b sin θ_i with ω_i drawn
from a Lorentzian of centre ω₀ and half-width Δ, on the Ott–Antonsen manifold the order
parameter z = ⟨e^{iθ}⟩ (the convention of `complex_order_parameter`) obeys exactly
(Ott & Antonsen, Chaos 18, 037113 (2008)):

    ż = (iω₀ − Δ) z + (H − H̄ z²)/2,    H = K e^{−iα} z(t − τ) − b,

i.e. without lag, field and delay ż = (iω₀ − Δ) z + (K/2)(z − z̄ z²). The modulus R = |z| then
relaxes as the logistic law u = R², u̇ = 2(K/2 − Δ) u − K u², with the stationary
R = sqrt(1 − 2Δ/K) above K_c = 2Δ (`ott_antonsen_relaxation`).

The ODE is solved with the package's solvers through `diffrax.diffeqsolve` (differentiable in
K, Δ, ω₀, b, α and z0); with a delay τ > 0 through a fixed-step RK4 with a history buffer
(history z(t ≤ 0) = z0), as the delay integrator of `simulate`.
"""

from __future__ import annotations

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import _validate as v
from ._solvers import ADAPTIVE, SOLVERS, rk4_combine


def _oa_rhs(x, y, xd, yd, K, delta, omega0, field, lag):
    """Real and imaginary parts of (iω₀ − Δ) z + (H − H̄ z²)/2 with H = K e^{−iα} z_d − b."""
    ca, sa = jnp.cos(lag), jnp.sin(lag)
    hr = K * (ca * xd + sa * yd) - field
    hi = K * (ca * yd - sa * xd)
    z2r, z2i = x * x - y * y, 2 * x * y
    # H̄ z² = (hr − i hi)(z2r + i z2i)
    pr, pi = hr * z2r + hi * z2i, hr * z2i - hi * z2r
    dx = -delta * x - omega0 * y + 0.5 * (hr - pr)
    dy = -delta * y + omega0 * x + 0.5 * (hi - pi)
    return dx, dy


class _OAField(eqx.Module):
    params: tuple

    def __call__(self, t, u, args):
        dx, dy = _oa_rhs(u[0], u[1], u[0], u[1], *self.params)
        return jnp.stack([dx, dy])


def ott_antonsen(
    K,
    delta,
    z0,
    ts,
    omega0=0.0,
    *,
    field=0.0,
    lag=0.0,
    delay=None,
    dt=None,
    solver="dopri5",
    rtol: float = 1e-9,
    atol: float = 1e-11,
    max_steps: int = 100_000,
):
    """The Ott–Antonsen order parameter z(t) = ⟨e^{iθ}⟩ at the times `ts` (from z(0) = z0).

    Args:
        K: coupling (mean field K/N), scalar.
        delta: Δ > 0, the Lorentzian half-width.
        z0: z(0), complex scalar with |z0| ≤ 1.
        ts: (T,) non-decreasing save times ≥ 0.
        omega0: ω₀, the Lorentzian centre.
        field: b of the field term b sin θ_i (scalar).
        lag: Sakaguchi phase lag α (scalar).
        delay: τ ≥ 0, a coupling delay (a whole multiple of `dt`, ts on the dt grid); None = none.
        dt: step (required for fixed-step solvers and with a delay; initial guess for adaptive).
        solver: a name of `simulate`'s solvers ("dopri5" default; "rk4" with a delay).
        rtol: relative tolerance of the adaptive controller.
        atol: absolute tolerance of the adaptive controller.

    Returns:
        z at ts, complex array of shape (T,). Differentiable in every numeric argument.
    """
    K, delta, omega0 = v.scalar("K", K), v.scalar("delta", delta, positive=True), v.scalar("omega0", omega0)
    field, lag = v.scalar("field", field), v.scalar("lag", lag)
    z0 = jnp.asarray(z0)
    if z0.ndim != 0:
        raise ValueError(f"`z0` must be a complex scalar, got {v.describe(z0)}")
    if v.is_concrete(z0) and not abs(complex(z0)) <= 1.0 + 1e-12:
        raise ValueError(f"`z0` must satisfy |z0| <= 1 (an order parameter), got |z0| = {abs(complex(z0))}")
    ts = v.as_array("ts", ts)
    if ts.ndim != 1 or ts.shape[0] < 1:
        raise ValueError(f"`ts` must be a 1-D array of save times, got {v.describe(ts)}")
    if v.is_concrete(ts) and (np.any(np.diff(np.asarray(ts)) < 0) or np.asarray(ts)[0] < 0):
        raise ValueError("`ts` must be non-decreasing and >= 0")
    dtype = jnp.result_type(float)
    u0 = jnp.stack([jnp.real(z0), jnp.imag(z0)]).astype(dtype)
    params = (K, delta, omega0, field, lag)
    if delay is not None:
        return _oa_delayed(params, u0, ts, delay, dt)
    if not isinstance(solver, str) or solver.lower() not in SOLVERS:
        raise ValueError(f"`solver` must be one of {sorted(SOLVERS)}, got {solver!r}")
    name = solver.lower()
    adaptive = name in ADAPTIVE
    if not adaptive and dt is None:
        raise ValueError(f"`dt` is required for the fixed-step solver {name!r}; got dt=None")
    controller = diffrax.PIDController(rtol=rtol, atol=atol) if adaptive else diffrax.ConstantStepSize()
    t1 = ts[-1]
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(_OAField(params)),
        SOLVERS[name](),
        0.0,
        jnp.where(t1 > 0, t1, 1e-12),  # diffrax needs t1 > t0; T = 0 saves z0
        dt,
        u0,
        saveat=diffrax.SaveAt(ts=ts),
        stepsize_controller=controller,
        max_steps=max_steps,
    )
    return jax.lax.complex(sol.ys[:, 0], sol.ys[:, 1])


def _oa_delayed(params, u0, ts, delay, dt):
    """RK4 with a ring buffer of past z; the half-step value by cubic Hermite interpolation."""
    if dt is None or not v.is_concrete(dt) or not v.is_concrete(delay):
        raise ValueError("a delayed Ott–Antonsen solve needs concrete `delay` and `dt` (numbers)")
    if not v.is_concrete(ts):
        raise ValueError("`ts` must be concrete (not traced) with a delay")
    dtf, tau = float(dt), float(delay)
    if not dtf > 0 or not tau >= 0:
        raise ValueError(f"`dt` must be > 0 and `delay` >= 0, got dt={dtf}, delay={tau}")
    d = round(tau / dtf)
    if abs(tau / dtf - d) > 1e-6 * max(1.0, tau / dtf):
        raise ValueError(f"`delay` = {tau} must be a whole number of steps dt = {dtf}")
    idx = np.asarray(ts, float) / dtf
    save_idx = np.round(idx).astype(int)
    if np.any(np.abs(idx - save_idx) > 1e-6 * np.maximum(1.0, idx)):
        raise ValueError(f"`ts` must lie on the dt = {dtf} grid with a delay")
    H = d + 1

    def rhs(u, ud):
        return jnp.stack(_oa_rhs(u[0], u[1], ud[0], ud[1], *params))

    def step(carry, _):
        u, hist, dhist, k = carry
        hist = hist.at[k % H].set(u)
        a = hist[(k - d) % H]
        k1 = rhs(u, a if d > 0 else u)
        dhist = dhist.at[k % H].set(k1)
        if d == 0:
            k2 = rhs(u + 0.5 * dtf * k1, u + 0.5 * dtf * k1)
            k3 = rhs(u + 0.5 * dtf * k2, u + 0.5 * dtf * k2)
            k4 = rhs(u + dtf * k3, u + dtf * k3)
        else:
            ia, ib = k - d, k - d + 1
            b = hist[ib % H]
            fa = jnp.where(ia < 0, 0.0, dhist[ia % H])
            fb = jnp.where(ib <= 0, 0.0, dhist[ib % H])
            mid = 0.5 * (a + b) + (dtf / 8) * (fa - fb)
            k2 = rhs(u + 0.5 * dtf * k1, mid)
            k3 = rhs(u + 0.5 * dtf * k2, mid)
            k4 = rhs(u + dtf * k3, b)
        return (rk4_combine(u, k1, k2, k3, k4, dtf), hist, dhist, k + 1), u

    n_steps = int(save_idx.max())
    carry = (u0, jnp.broadcast_to(u0, (H, 2)), jnp.zeros((H, 2), u0.dtype), jnp.asarray(0, jnp.int32))
    last, traj = jax.lax.scan(step, carry, None, length=n_steps)
    traj = jnp.concatenate([traj, last[0][None]])  # z at steps 0..n_steps
    out = traj[jnp.asarray(save_idx)]
    return jax.lax.complex(out[:, 0], out[:, 1])


def ott_antonsen_relaxation(K, delta, r0, ts):
    """Closed-form R(t) = |z(t)| for ω₀ = 0, no field, lag or delay, from R(0) = r0 > 0.

    u = R² obeys u̇ = 2a u − K u² with a = K/2 − Δ:  u(t) = a u0 e^{2at} / (a + (K/2) u0 (e^{2at} − 1)).
    ts (T,) → (T,). At a = 0: u = u0 / (1 + K u0 t).
    """
    ts = jnp.asarray(ts)
    a = K / 2 - delta
    u0 = r0 * r0
    e = jnp.expm1(2 * a * ts)
    safe_a = jnp.where(a == 0, 1.0, a)
    u = jnp.where(a == 0, u0 / (1 + K * u0 * ts), safe_a * u0 * (e + 1) / (safe_a + 0.5 * K * u0 * e))
    return jnp.sqrt(u)
