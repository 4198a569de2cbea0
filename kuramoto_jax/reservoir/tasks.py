r"""Input/target series for reservoir tasks (numpy, float64).

- Sine prediction: u(t) = sin(Ω t), target y(t) = u(t + dt) (one step ahead).
- Sine → triangle: target the triangle wave of the same period and phase,
  y(t) = (2/π) arcsin(sin(Ω t)).
- NARMA-10 (Atiya & Parlos 2000): y_{k+1} = 0.3 y_k + 0.05 y_k Σ_{i=0}^{9} y_{k−i}
  + 1.5 u_{k−9} u_k + 0.1, with u_k iid uniform on [0, 0.5].
- Mackey–Glass: dx/dt = β x(t−τ)/(1 + x(t−τ)^n) − γ x, (β, γ, n, τ) = (0.2, 0.1, 10, 17).
"""

from __future__ import annotations

import numpy as np


def _check_len(name, T):
    if not isinstance(T, (int, np.integer)) or T < 2:
        raise ValueError(f"`{name}` must be an integer >= 2, got {T!r}")


def sine_prediction(T: int, dt: float, freq: float = 0.5):
    """(u, y) of length T: u_k = sin(Ω k dt), y_k = sin(Ω (k+1) dt)."""
    _check_len("T", T)
    t = np.arange(T) * dt
    return np.sin(freq * t), np.sin(freq * (t + dt))


def triangle_wave(t, freq: float = 0.5):
    """Triangle wave of period 2π/Ω in phase with sin(Ω t), amplitude 1."""
    return (2.0 / np.pi) * np.arcsin(np.sin(freq * np.asarray(t, dtype=float)))


def sine_to_triangle(T: int, dt: float, freq: float = 0.5):
    """(u, y) of length T: u = sin(Ω t), y = triangle wave of the same period."""
    _check_len("T", T)
    t = np.arange(T) * dt
    return np.sin(freq * t), triangle_wave(t, freq)


def narma10(T: int, seed: int = 0, u=None):
    """(u, y) of length T for NARMA-10; u iid uniform on [0, 0.5] unless given.

    y_k depends on u_{k−9}..u_k and is predicted from the reservoir state at k.
    """
    rng = np.random.default_rng(seed)
    if u is None:
        _check_len("T", T)
        u = rng.uniform(0.0, 0.5, T)
    u = np.asarray(u, dtype=float)
    T = len(u)
    y = np.zeros(T)
    for k in range(9, T - 1):
        y[k + 1] = 0.3 * y[k] + 0.05 * y[k] * np.sum(y[k - 9 : k + 1]) + 1.5 * u[k - 9] * u[k] + 0.1
    # (u_k, y_{k+1}) pairs: the target at row k is the NARMA output driven by u_0..u_k
    return u[:-1], y[1:]


def mackey_glass(T: int, sample_every: float = 1.0, tau: float = 17.0, beta: float = 0.2, gamma: float = 0.1,
                 n: float = 10.0, h: float = 0.1, x0: float = 1.2, discard: int = 500, seed: int = 0):
    """Mackey–Glass series of T samples taken every `sample_every` time units.

    Integrated with RK4 at step h (history linearly interpolated at half steps),
    after `discard` samples of transient; a small seeded perturbation of the
    constant initial history selects the trajectory.
    """
    _check_len("T", T)
    rng = np.random.default_rng(seed)
    lag = int(round(tau / h))
    every = int(round(sample_every / h))
    total = (T + discard) * every + 1
    x = np.empty(total + lag)
    x[: lag + 1] = x0 + 0.01 * rng.standard_normal(lag + 1)

    def f(xt, xd):
        return beta * xd / (1.0 + xd**n) - gamma * xt

    for i in range(lag, total + lag - 1):
        xd0, xd1 = x[i - lag], x[i - lag + 1]
        xdm = 0.5 * (xd0 + xd1)
        k1 = f(x[i], xd0)
        k2 = f(x[i] + 0.5 * h * k1, xdm)
        k3 = f(x[i] + 0.5 * h * k2, xdm)
        k4 = f(x[i] + h * k3, xd1)
        x[i + 1] = x[i] + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x[lag::every][discard : discard + T]
