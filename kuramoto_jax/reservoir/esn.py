r"""Echo-state network baseline (Jaeger 2001), plain numpy.

x_{k+1} = (1 − a) x_k + a tanh(W x_k + W_in u_{k+1} + b),  W random with spectral
radius ρ, W_in, b uniform on [−s, s]; the read-out is the same linear
least-squares/ridge read-out as the Kuramoto reservoir's (`fit_readout`).
"""

from __future__ import annotations

import numpy as np


class EchoStateNetwork:
    """Leaky tanh ESN with `units` neurons (the feature count)."""

    def __init__(self, units: int, spectral_radius: float = 0.9, input_scale: float = 1.0, bias_scale: float = 0.2,
                 leak: float = 1.0, density: float = 1.0, seed: int = 0):
        if not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"`units` must be an integer >= 1, got {units!r}")
        if not spectral_radius > 0:
            raise ValueError(f"`spectral_radius` must be > 0, got {spectral_radius}")
        if not 0 < leak <= 1:
            raise ValueError(f"`leak` must be in (0, 1], got {leak}")
        rng = np.random.default_rng(seed)
        W = rng.standard_normal((units, units))
        if density < 1:
            W *= rng.uniform(size=W.shape) < density
        radius = np.max(np.abs(np.linalg.eigvals(W)))
        self.W = W * (spectral_radius / radius) if radius > 0 else W
        self.W_in = rng.uniform(-input_scale, input_scale, units)
        self.b = rng.uniform(-bias_scale, bias_scale, units)
        self.leak = float(leak)

    def states(self, u) -> np.ndarray:
        """(T, units) states, row k after reading u_0..u_k, from x = 0."""
        u = np.asarray(u, dtype=float)
        if u.ndim != 1:
            raise ValueError(f"`u` must be 1-D, got shape {u.shape}")
        x = np.zeros(self.W.shape[0])
        out = np.empty((len(u), x.size))
        a = self.leak
        for k, uk in enumerate(u):
            x = (1 - a) * x + a * np.tanh(self.W @ x + self.W_in * uk + self.b)
            out[k] = x
        return out
