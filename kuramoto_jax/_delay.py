"""Models with transmission delays: a fixed-step integrator with a ring buffer of past phases.

diffrax has no delay equations, so a model with per-sender delays τ_j (whole numbers
of steps d_j = τ_j / dt) is integrated by a `lax.scan` over Euler, Heun or RK4 steps
whose coupling reads θ_j(t − τ_j) from a ring buffer of the last max_j d_j + 1
phases. With all delays zero it reproduces the undelayed arithmetic exactly. It
shares with the diffrax path the model's right-hand side (`Kuramoto.drift`,
`Kuramoto.state_derivative`), the save function and the packaging of the solution.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from . import _validate as v
from ._solution import SaveFn, package, truncated_run, whole_steps
from ._solvers import rk4_combine

# as `_solve._STORE_RESIDUALS`: keep every step's residuals while they are this small
_STORE_RESIDUALS = 1 << 24


def simulate_delayed(model, y0, name, t0, t1, dt, ts, key, observe, max_delay_steps, check_finite,
                     detach_steps: int = 0):
    """Fixed-step integrator with a ring buffer of past phases (per-sender delays τ_j = d_j dt).

    The state and the buffered past after `detach_steps` steps are constants for differentiation
    (`simulate(gradient_from=...)`)."""
    n = model.n
    second = model.second_order
    for label, x in (("t0", t0), ("t1", t1), ("dt", dt)):
        if not v.is_concrete(x):
            raise ValueError(f"`{label}` must be a concrete number (not traced) for models with delays")
    t0f, t1f, dtf = float(t0), float(t1), float(dt)
    n_steps = whole_steps("t1 - t0", t1f - t0f, dtf)
    if v.is_concrete(model.delays):
        d_float = np.asarray(model.delays) / dtf
        d_round = np.round(d_float)
        if np.any(np.abs(d_float - d_round) > 1e-6 * np.maximum(1.0, d_float)):
            j = int(np.argmax(np.abs(d_float - d_round)))
            raise ValueError(
                f"`delays` must be whole numbers of steps dt = {dtf}; delays[{j}] = "
                f"{float(np.asarray(model.delays)[j])} is {d_float[j]:.6g} steps"
            )
        dmax = int(d_round.max())
        if max_delay_steps is not None:
            dmax = max(dmax, int(max_delay_steps))
        d = jnp.asarray(d_round, jnp.int32)
    else:
        if max_delay_steps is None:
            raise ValueError("traced `delays` need a static `max_delay_steps` (int) in simulate")
        dmax = int(max_delay_steps)
        d = jnp.clip(jnp.round(model.delays / dtf).astype(jnp.int32), 0, dmax)
    H = dmax + 1
    cols = jnp.arange(n)
    zero_delay = d == 0

    # Save schedule: evenly spaced step indices (outer scan over inner chunks).
    if ts is None:
        save_idx = np.array([n_steps])
        ts_out = jnp.asarray([t1f], dtype=jnp.result_type(float))
    else:
        if not v.is_concrete(ts):
            raise ValueError("`ts` must be concrete (not traced) for models with delays")
        a = np.asarray(ts, dtype=float)
        save_idx = np.array([whole_steps("ts - t0", x - t0f, dtf) for x in a])
        ts_out = jnp.asarray(ts)
    strides = np.diff(save_idx)
    if strides.size and not np.all(strides == strides[0]):
        raise ValueError("`ts` must be evenly spaced on the dt grid for models with delays")
    stride = int(strides[0]) if strides.size else 0
    if strides.size and stride == 0:
        raise ValueError("`ts` must not repeat times for models with delays")

    stochastic = model.noise is not None
    if stochastic:
        sigma = model.diffusion_scale()

    # RK4's half-step sources interpolate with the slopes θ̇ (Hermite); Euler and Heun read
    # whole steps only, so they carry no slope history (a smaller carry and reverse pass).
    hermite = name == "rk4"

    def rhs(t, y, src_theta, current=False):
        """f(t, y) with the delayed sources; current=True: the sources were read at this y's step
        (θ_j itself where d_j = 0, since the buffer already holds θ(t_k))."""
        th = y[:n] if second else y
        src = src_theta if current else jnp.where(zero_delay, th, src_theta)
        return model.state_derivative(y, model.drift(t, th, jnp.cos(src), jnp.sin(src)))

    def delayed(hist, k, c):
        """θ_j(t_k + c·dt − d_j·dt) for c in {0, 1/2, 1} from the ring buffers (used where d_j ≥ 1).

        hist = (θ history, θ̇ history). The half-step value uses cubic Hermite interpolation
        (4th-order accurate), so RK4 keeps a high order with delays; before t0 the history is
        the constant θ0 (zero slope).
        """
        th_hist, dth_hist = hist
        ia, ib = k - d, k - d + 1
        a = th_hist[ia % H, cols]
        if c == 0:
            return a
        b = th_hist[ib % H, cols]
        if c == 1:
            return b
        fa = jnp.where(ia < 0, 0.0, dth_hist[ia % H, cols])
        fb = jnp.where(ib <= 0, 0.0, dth_hist[ib % H, cols])
        return 0.5 * (a + b) + (dtf / 8) * (fa - fb)

    def step(carry, _):
        y, (th_hist, dth_hist), k = carry
        th = y[:n] if second else y
        th_hist = th_hist.at[k % H].set(th)
        t = t0f + k * dtf
        h = dtf
        k1 = rhs(t, y, delayed((th_hist, dth_hist), k, 0), current=True)
        if hermite:
            dth_hist = dth_hist.at[k % H].set(k1[:n] if second else k1)
        hist = (th_hist, dth_hist)
        if name == "euler":
            y1 = y + h * k1
        elif name == "heun":
            if stochastic:
                dW = sigma * jnp.sqrt(h) * jr.normal(jr.fold_in(key, k), y.shape, y.dtype)
                pred = y + h * k1 + dW
                k2 = rhs(t + h, pred, delayed(hist, k, 1))
                y1 = y + 0.5 * h * (k1 + k2) + dW
            else:
                k2 = rhs(t + h, y + h * k1, delayed(hist, k, 1))
                y1 = y + 0.5 * h * (k1 + k2)
        else:  # rk4
            mid = delayed(hist, k, 0.5)
            k2 = rhs(t + 0.5 * h, y + 0.5 * h * k1, mid)
            k3 = rhs(t + 0.5 * h, y + 0.5 * h * k2, mid)
            k4 = rhs(t + h, y + h * k3, delayed(hist, k, 1))
            y1 = rk4_combine(y, k1, k2, k3, k4, h)
        if stochastic and name == "euler":
            y1 = y1 + sigma * jnp.sqrt(h) * jr.normal(jr.fold_in(key, k), y.shape, y.dtype)
        return (y1, hist, k + 1), None

    def run(carry, length):
        if length == 0:
            return carry
        return jax.lax.scan(step, carry, None, length=length)[0]

    chunk = lambda c: run(c, stride)
    if n_steps * y0.size > _STORE_RESIDUALS:  # as the scan path: keep residuals while they are small
        chunk = jax.checkpoint(chunk)

    save_fn = SaveFn(n, second, observe)
    out = lambda y: save_fn(None, y, None)

    th0 = y0[:n] if second else y0
    hist0 = (jnp.broadcast_to(th0, (H, n)), jnp.zeros((H, n) if hermite else (0,), th0.dtype))
    carry = (y0, hist0, jnp.asarray(0, jnp.int32))
    carry = truncated_run(run, carry, int(save_idx[0]), detach_steps)
    first = out(carry[0])
    if len(save_idx) > 1:
        def outer(c, _):
            c = chunk(c)
            return c, out(c[0])

        carry, rest = jax.lax.scan(outer, carry, None, length=len(save_idx) - 1)
        ys = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), first, rest)
    else:
        ys = jax.tree.map(lambda a: a[None], first)
    # Stepping stops at the last save time: later steps would change no saved value.
    return package(ts_out, ys, observe, second, check_finite, {"num_steps": int(save_idx[-1])})
