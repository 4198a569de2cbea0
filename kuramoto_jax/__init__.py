"""kuramoto_jax: differentiable physics of coupled oscillators in JAX.

    import kuramoto_jax as kj
    model = kj.Kuramoto(omega, kj.MeanField(K))
    sol = kj.simulate(model, theta0, t1=50.0, dt=0.01, ts=save_times)
    R, psi = kj.order_parameter(sol.theta)

Applications live in subpackages imported on demand (they pull in flowjax,
numpyro): `kuramoto_jax.kuranet`, `kuramoto_jax.ep`, `kuramoto_jax.npe`,
`kuramoto_jax.reservoir`; the experiment runner is `kuramoto_jax.run`.
"""

from . import parallel, schemes, theory
from . import stability
from ._adaptive import AdaptiveKuramoto, AdaptiveState
from ._coupling import AbstractCoupling, Dense, MeanField, Scaled, Sparse
from ._diagnostics import (
    chimera_index,
    coherence_matrix,
    local_order_parameters,
    metastability_index,
    phase_clusters,
)
from ._drive import Drive, SampledSignal
from ._higher_order import AbstractTriadic, HigherOrderKuramoto, Triangles, TriadicMeanField
from ._model import Kuramoto
from ._multiplex import Multiplex
from ._observables import (
    circular_variance,
    complex_order_parameter,
    effective_frequencies,
    group_order_parameter,
    locked_fraction,
    order_parameter,
    order_parameters,
    time_average,
)
from ._protocol import AbstractModel, ModelSolution
from ._solve import Solution, simulate
from ._solvers import RK4, GridBrownianPath
from ._streams import stream_key
from ._stuart_landau import StuartLandau, amplitudes, mean_amplitude, mean_field_amplitude

__version__ = "0.2.0"

__all__ = [
    "AbstractCoupling",
    "AbstractModel",
    "AbstractTriadic",
    "AdaptiveKuramoto",
    "AdaptiveState",
    "HigherOrderKuramoto",
    "ModelSolution",
    "Multiplex",
    "StuartLandau",
    "Triangles",
    "TriadicMeanField",
    "amplitudes",
    "mean_amplitude",
    "mean_field_amplitude",
    "Dense",
    "Drive",
    "GridBrownianPath",
    "Kuramoto",
    "MeanField",
    "RK4",
    "SampledSignal",
    "Scaled",
    "Solution",
    "Sparse",
    "chimera_index",
    "circular_variance",
    "coherence_matrix",
    "complex_order_parameter",
    "effective_frequencies",
    "group_order_parameter",
    "local_order_parameters",
    "locked_fraction",
    "metastability_index",
    "order_parameter",
    "order_parameters",
    "parallel",
    "phase_clusters",
    "schemes",
    "simulate",
    "stream_key",
    "stability",
    "theory",
    "time_average",
]


def __getattr__(name):
    # KuraNet's losses live with KuraNet; `kj.splay` / `kj.cluster_loss` keep working (imported on first use).
    if name in ("splay", "cluster_loss"):
        from .kuranet import _losses

        return getattr(_losses, name)
    raise AttributeError(f"module 'kuramoto_jax' has no attribute {name!r}")
