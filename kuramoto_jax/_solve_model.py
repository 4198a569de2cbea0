"""`simulate` for models that follow the `AbstractModel` protocol (Stuart–Landau, adaptive, higher order).

The same diffrax call as for `Kuramoto`: solver names, controllers, SaveAt, step budget,
adjoints and the finiteness check are shared with `_solve.simulate`.
"""

from __future__ import annotations

from typing import Callable

import diffrax
import equinox as eqx

from . import _validate as v
from ._protocol import AbstractModel, ModelSolution
from ._solution import package as _package
from ._solve import _check_times, _resolve_solver


class _ModelField(eqx.Module):
    model: AbstractModel

    def __call__(self, t, y, args):
        return self.model.vector_field(t, y)


class _ModelSave(eqx.Module):
    model: AbstractModel
    observe: Callable | None = eqx.field(static=True)

    def __call__(self, t, y, args):
        state = self.model.save(y)
        return state if self.observe is None else self.observe(state)


def simulate_model(
    model: AbstractModel,
    y0,
    *,
    t1,
    t0=0.0,
    dt=None,
    ts=None,
    solver=None,
    key=None,
    observe=None,
    velocity0=None,
    rtol=1e-6,
    atol=1e-8,
    max_steps=None,
    adjoint=None,
    stepsize_controller=None,
    progress=False,
    max_delay_steps=None,
    check_finite=True,
    gradient_from=None,
) -> ModelSolution:
    """See `kuramoto_jax.simulate`; `y0` is the model's initial state (θ0, z0, ...)."""
    name = type(model).__name__
    for label, value in (("velocity0", velocity0), ("max_delay_steps", max_delay_steps), ("key", key),
                         ("gradient_from", gradient_from)):
        if value is not None:
            raise ValueError(f"`{label}` is not used by {name} models; got {v.describe(value)}")
    _, solver_obj, adaptive = _resolve_solver(solver, model, False)
    t0, t1, dt, ts = _check_times(t0, t1, dt, ts, adaptive)
    if observe is not None and not callable(observe):
        raise TypeError(f"`observe` must be a callable state ↦ pytree, got {v.describe(observe)}")
    y = model.initial_state(y0)
    saveat = diffrax.SaveAt(ts=ts, fn=_ModelSave(model, observe)) if ts is not None else diffrax.SaveAt(
        t1=True, fn=_ModelSave(model, observe)
    )
    if stepsize_controller is None:
        stepsize_controller = (
            diffrax.PIDController(rtol=rtol, atol=atol, pcoeff=0.3, icoeff=0.3)
            if adaptive
            else diffrax.ConstantStepSize()
        )
    kwargs = {}
    if adjoint is not None:
        kwargs["adjoint"] = adjoint
    if progress:
        kwargs["progress_meter"] = diffrax.TqdmProgressMeter()
    sol = diffrax.diffeqsolve(
        diffrax.ODETerm(_ModelField(model)),
        solver_obj,
        t0,
        t1,
        dt,
        y,
        saveat=saveat,
        stepsize_controller=stepsize_controller,
        max_steps=100_000 if max_steps is None else max_steps,
        throw=True,
        **kwargs,
    )
    out = _package(sol.ts, sol.ys, observe, False, check_finite, dict(sol.stats))
    return ModelSolution(ts=out.ts, state=out.theta, observables=out.observables, stats=out.stats)
