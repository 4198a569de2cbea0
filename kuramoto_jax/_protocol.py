r"""The small protocol through which models other than `Kuramoto` plug into `simulate`.

A model provides three things:

* `initial_state(y0)`: validate the user's initial state (before any tracing) and lay it
  out as the solver's state y (a pytree of real arrays);
* `vector_field(t, y)`: dy/dt as a pytree shaped like y;
* `save(y)`: the state as the user sees it (e.g. the complex amplitudes z of
  Stuart–Landau oscillators from their real layout), which `simulate` stores in
  `ModelSolution.state` and hands to `observe=`.

`simulate` then runs `diffrax.diffeqsolve` with the same solvers, step-size controllers,
save times, step budgets and finiteness checks as for `Kuramoto`, so every such model is
usable under `jit`, `vmap` and `grad`.
"""

from __future__ import annotations

import abc
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp


class AbstractModel(eqx.Module):
    """Base class of the models that `simulate` integrates through the generic protocol."""

    @abc.abstractmethod
    def initial_state(self, y0) -> Any:
        """The solver state from the user's initial state; raises ValueError/TypeError on bad input."""

    @abc.abstractmethod
    def vector_field(self, t, y, args=None) -> Any:
        """dy/dt, a pytree shaped like y."""

    def save(self, y) -> Any:
        """The state as saved in `ModelSolution.state` and passed to `observe` (default: y)."""
        return y

    @property
    def noise(self):
        """These models are deterministic (`simulate` consults this to pick an ODE solver)."""
        return None


class ModelSolution(eqx.Module):
    """Result of `simulate` for an `AbstractModel`.

    ts: (T,) save times. state: `model.save(y)` stacked over ts (leading axis T), None when
    `observe` was given. observables: `observe(state)` stacked over ts, else None.
    stats: solver statistics.
    """

    ts: jax.Array
    state: Any
    observables: Any
    stats: dict

    @property
    def theta(self) -> jax.Array:
        """Phases (T, N) for phase models (the state itself, or its `theta` field)."""
        if self.state is None:
            raise ValueError("the state was not saved (simulate was called with `observe=`)")
        theta = getattr(self.state, "theta", self.state)
        if not isinstance(theta, jax.Array) or jnp.iscomplexobj(theta):
            raise ValueError("this model's state is not phases (e.g. complex amplitudes z): use `.state`")
        return theta
