r"""Echo-state network baseline (Jaeger 2001), plain numpy.

x_{k+1} = (1 − a) x_k + a tanh(W x_k + W_in u_{k+1} + b),  W random with spectral
radius ρ, W_in, b uniform on [−s, s]; the read-out is the same linear
least-squares/ridge read-out as the Kuramoto reservoir's (`fit_readout`).
"""

from __future__ import annotations

import numpy as np

from .._validate import one_of


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


ESN_BACKENDS = ("numpy", "reservoirpy")
"""Implementations of the echo-state baseline: the in-package numpy ESN or reservoirpy's nodes."""


def reservoirpy_version() -> str | None:
    """reservoirpy's version when it is importable (a benchmark extra), else None."""
    try:
        import reservoirpy
    except ImportError:
        return None
    return str(reservoirpy.__version__)


def esn_states(u, units: int, spectral_radius: float, leak: float, input_scale: float, bias_scale: float,
               seed: int, backend: str = "numpy") -> np.ndarray:
    """(T, units) ESN states after reading u_0..u_k, from x = 0.

    Args:
        u: (T,) input series.
        units: number of neurons.
        spectral_radius: spectral radius of the dense recurrent matrix W.
        leak: leak rate a ∈ (0, 1].
        input_scale: W_in uniform on [−s, s].
        bias_scale: b uniform on [−b, b].
        seed: integer seed of the random matrices (both backends take an int).
        backend: "numpy" (`EchoStateNetwork`) or "reservoirpy" (its `Reservoir` node with dense
            W and W_in and the same update rule).
    """
    one_of("backend", backend, ESN_BACKENDS)
    if backend == "reservoirpy":
        from reservoirpy import mat_gen
        from reservoirpy.nodes import Reservoir

        node = Reservoir(units, sr=spectral_radius, lr=leak, input_scaling=input_scale, input_connectivity=1.0,
                         rc_connectivity=1.0, bias=mat_gen.uniform(low=-bias_scale, high=bias_scale), seed=seed)
        return np.asarray(node.run(np.asarray(u, dtype=np.float64)[:, None]), dtype=np.float64)
    esn = EchoStateNetwork(units, spectral_radius, input_scale, bias_scale=bias_scale, leak=leak, seed=seed)
    return esn.states(u)


def reservoirpy_readout(X, y, ridge: float):
    """reservoirpy's `Ridge` node fitted on features X (S, D) and targets y (S,): returns X ↦ ŷ (S,)."""
    from reservoirpy.nodes import Ridge

    node = Ridge(ridge=ridge)
    node.fit(np.asarray(X, np.float64), np.asarray(y, np.float64).reshape(len(y), -1))
    return lambda Z: np.asarray(node.run(np.asarray(Z, np.float64)))[:, 0]


def tune_esn(grid, u_random, y_narma, u_mg, y_mg, fit_part: slice, validation: slice, *, units: int,
             bias_scale: float, seed: int, backend: str, max_delay: int, ridge: float, fit, progress=iter):
    """Choose the ESN's (spectral radius, leak, input scale) per task on a validation split.

    Args:
        grid: list of (spectral radius, leak, input scale) candidates.
        u_random: (T,) standardised random input (NARMA-10 and memory capacity).
        y_narma: (T,) NARMA-10 target.
        u_mg: (T,) standardised Mackey–Glass input.
        y_mg: (T,) Mackey–Glass target.
        fit_part: samples the read-outs are fitted on during the search.
        validation: samples the candidates are scored on.
        units: ESN size.
        bias_scale: bias uniform on [−b, b].
        seed: integer seed of the ESN matrices.
        backend: "numpy" or "reservoirpy" (see `esn_states`).
        max_delay: largest delay of the memory capacity.
        ridge: ridge penalty of the read-outs.
        fit: `fit(X, y, ridge)` ↦ callable X ↦ ŷ.
        progress: wraps the loop over the grid (e.g. a progress bar).

    Returns:
        (best: {"narma10", "memory_capacity", "mackey_glass"} ↦ grid index, validation scores (G, 3) =
        NARMA-10 NRMSE, MC, Mackey–Glass NRMSE, and the states [(F_random, F_mg)] of every candidate).
    """
    from .metrics import benchmark_scores

    scores, states = np.zeros((len(grid), 3)), []
    for i, (radius, leak, scale) in enumerate(progress(grid)):
        F = esn_states(u_random, units, radius, leak, scale, bias_scale, seed, backend)
        G = esn_states(u_mg, units, radius, leak, scale, bias_scale, seed, backend)
        states.append((F, G))
        s = benchmark_scores(F, u_random, y_narma, G, y_mg, fit_part, validation, max_delay=max_delay, ridge=ridge,
                             fit=fit)
        scores[i] = s[0], s[1], s[3]
    best = {"narma10": int(np.argmin(scores[:, 0])), "memory_capacity": int(np.argmax(scores[:, 1])),
            "mackey_glass": int(np.argmin(scores[:, 2]))}
    return best, scores, states
