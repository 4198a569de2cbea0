r"""Dynamics analysis on the simulation engine: locked states and their spectra, the finite-N
locking threshold, continuation and hysteresis, Lyapunov spectra, basin stability.

    import kuramoto_jax as kj
    model = kj.Kuramoto(omega, kj.MeanField(K))
    state = kj.stability.locked_state(model)          # .theta, .frequency, .eigenvalues, .stable
    K_L = kj.stability.locking_threshold(omega)       # mean field; differentiable in ω
    kappa_L = kj.stability.locking_scale(model)       # any coupling shape: the fold in κK

Every function takes a `kuramoto_jax.Kuramoto` model (mean-field, dense or sparse coupling;
fields and Sakaguchi lags where stated), runs under `jit` and `vmap`, and locked states,
thresholds and eigenvalues are differentiable (implicit function theorem through
optimistix's Newton solver). See docs/stability.md.
"""

from ._basins import (
    basin_stability,
    ring_model,
    twisted_state,
    twisted_state_basins,
    winding_number,
)
from ._continuation import Branch, FoldPoint, continuation, refine_fold
from ._frame import jacobian, scaled
from ._hysteresis import (
    Hysteresis,
    adiabatic_sweep,
    averaging_times,
    hysteresis_loop,
    loop_area,
    ramp_stages,
    split_ramp,
)
from ._locked import LockedState, locked_state, solve_locked, spectrum
from ._lyapunov import lyapunov_spectrum
from ._threshold import Fold, locking_scale, locking_threshold, saddle_node, solve_fold

__all__ = [
    "Branch",
    "Fold",
    "FoldPoint",
    "Hysteresis",
    "LockedState",
    "adiabatic_sweep",
    "averaging_times",
    "basin_stability",
    "continuation",
    "hysteresis_loop",
    "jacobian",
    "locked_state",
    "locking_scale",
    "locking_threshold",
    "loop_area",
    "lyapunov_spectrum",
    "ramp_stages",
    "refine_fold",
    "ring_model",
    "saddle_node",
    "scaled",
    "solve_fold",
    "solve_locked",
    "spectrum",
    "split_ramp",
    "twisted_state",
    "twisted_state_basins",
    "winding_number",
]
