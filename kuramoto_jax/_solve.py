"""`simulate`: solve a `Kuramoto` model with diffrax (or the delay integrator).

Without delays every variant uses diffrax's solvers, terms and Brownian paths:
fixed-step Euler/Heun/midpoint/RK4 (the lean `RK4` is the default) or adaptive
Tsit5/Dopri5/Dopri8 with a PID controller; noise uses diffrax's SDE terms.
A fixed-step solve of known length whose save times lie on the step grid (the
common case) drives the diffrax solver's `step` in a `lax.scan` (`_scan_solve`):
same steps, same saved states, but no while loop and a backward pass that stores
the steps instead of recomputing them (docs/gradients.md). Everything else —
adaptive steps, save times between steps, a user-given adjoint, step-size
controller or solver object, traced times, progress meters — goes through
`diffrax.diffeqsolve`.

diffrax has no delay equations, so models with transmission delays go through a
fixed-step `lax.scan` integrator with a ring buffer of past phases (delays are
whole numbers of steps). With all delays zero it reproduces the undelayed
arithmetic exactly.
"""

from __future__ import annotations

import math
from typing import Callable

import diffrax
import equinox as eqx
import jax
import jax.numpy as jnp
import lineax as lx
import numpy as np

from . import _validate as v
from ._delay import simulate_delayed
from ._model import Kuramoto
from ._protocol import AbstractModel
from ._solution import SaveFn, Solution, package, truncated_run, whole_steps
from ._solvers import ADAPTIVE, DELAY_SOLVERS, SDE_SOLVERS, SOLVERS, GridBrownianPath


def _resolve_solver(solver, model: Kuramoto, has_delays: bool):
    names = sorted(SOLVERS)
    stochastic = model.noise is not None
    if solver is None:
        solver = "heun" if stochastic else "rk4"
    if isinstance(solver, str):
        key = solver.lower()
        if key not in SOLVERS:
            raise ValueError(f"`solver` must be one of {names} or a diffrax solver object, got {solver!r}")
        if stochastic and key not in SDE_SOLVERS:
            raise ValueError(
                f"`solver`={solver!r} cannot integrate noise; with `noise` use one of {list(SDE_SOLVERS)}"
            )
        if has_delays and key not in DELAY_SOLVERS:
            raise ValueError(
                f"`solver`={solver!r} is not available with delays; use one of {list(DELAY_SOLVERS)}"
            )
        return key, SOLVERS[key](), key in ADAPTIVE
    if isinstance(solver, diffrax.AbstractSolver):
        if has_delays:
            raise ValueError(
                f"`solver` must be one of {list(DELAY_SOLVERS)} (a name) for models with delays, "
                f"got {type(solver).__name__}"
            )
        return type(solver).__name__, solver, isinstance(solver, diffrax.AbstractAdaptiveSolver)
    raise TypeError(f"`solver` must be a name in {names} or a diffrax solver, got {v.describe(solver)}")


def _check_times(t0, t1, dt, ts, adaptive: bool):
    t0 = v.scalar("t0", t0)
    t1 = v.scalar("t1", t1)
    if v.is_concrete(t0) and v.is_concrete(t1) and not float(t1) > float(t0):
        raise ValueError(f"`t1` must be > t0 = {float(t0)}, got t1 = {float(t1)}")
    if dt is None:
        if not adaptive:
            raise ValueError("`dt` is required for fixed-step solvers; got dt=None")
    else:
        dt = v.scalar("dt", dt, positive=True)
    if ts is not None:
        ts = v.as_array("ts", ts)
        if ts.ndim != 1 or ts.shape[0] < 1:
            raise ValueError(f"`ts` must be a 1-D array of save times, got {v.describe(ts)}")
        v.check_finite("ts", ts)
        if v.is_concrete(ts) and v.is_concrete(t0) and v.is_concrete(t1):
            a = np.asarray(ts)
            if np.any(np.diff(a) < 0):
                raise ValueError("`ts` must be non-decreasing")
            eps = 1e-9 * max(1.0, abs(float(t1)))
            if a[0] < float(t0) - eps or a[-1] > float(t1) + eps:
                raise ValueError(
                    f"`ts` must lie in [t0, t1] = [{float(t0)}, {float(t1)}], got [{a[0]}, {a[-1]}]"
                )
    return t0, t1, dt, ts


def initial_state(model: Kuramoto, theta0, velocity0=None) -> jax.Array:
    """The integrated state y0: θ0 (N,), or [θ0, θ̇0] (2N,) for the second-order model (θ̇0 = 0 unless given).

    `theta0` must already be an (N,) array; `velocity0` is checked here.
    """
    if model.second_order:
        n = model.n
        velocity0 = jnp.zeros_like(theta0) if velocity0 is None else v.vector("velocity0", velocity0, n)
        return jnp.concatenate([theta0, velocity0])
    if velocity0 is not None:
        raise ValueError("`velocity0` is only for the second-order model (pass `mass=` to Kuramoto)")
    return theta0


def simulate(
    model: Kuramoto,
    theta0,
    *,
    t1,
    t0=0.0,
    dt=None,
    ts=None,
    solver=None,
    key=None,
    observe: Callable | None = None,
    velocity0=None,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_steps: int | None = None,
    adjoint=None,
    stepsize_controller=None,
    progress: bool = False,
    max_delay_steps: int | None = None,
    check_finite: bool = True,
    gradient_from=None,
) -> Solution:
    """Integrate dθ/dt = f(t, θ) of `model` from θ(t0) = theta0 to t1.

    Args:
        model: a `Kuramoto` model with N oscillators, or another model of the package
            (`StuartLandau`, `HigherOrderKuramoto`, `AdaptiveKuramoto`), which returns a
            `ModelSolution` (its `state` is the model's saved state).
        theta0: (N,) initial phases (the model's initial state for other models, e.g. z0).
        t1: end time (t1 > t0).
        t0: start time.
        dt: step (fixed-step solvers) or initial step guess (adaptive; may be None).
        ts: (T,) save times in [t0, t1]; None saves only the state at t1 (T = 1).
            For 4th-order values with "rk4", put ts on the step grid.
        solver: "rk4" (default; "heun" with noise), "euler", "heun", "midpoint",
            "tsit5", "dopri5", "dopri8", or any diffrax solver object.
        key: PRNG key for noise (required when the model has `noise`).
        observe: callable θ (N,) ↦ pytree; when given, only these observables are
            saved (sol.theta is None), so long runs never store N×T phases.
        velocity0: (N,) initial θ̇ for the second-order model (default zeros).
        rtol: relative tolerance of the adaptive PID controller.
        atol: absolute tolerance of the adaptive PID controller.
        max_steps: step budget (default: exact count for fixed steps, 100000 adaptive).
        adjoint: a diffrax adjoint (default RecursiveCheckpointAdjoint).
        stepsize_controller: overrides the default controller.
        progress: show diffrax's tqdm progress meter.
        max_delay_steps: static bound on delays (in steps) when delays are traced.
        check_finite: raise if the solution contains NaN/inf (works under jit).
        gradient_from: truncated backpropagation: the state at this time (a step time in
            [t0, first save time]) is a constant for differentiation, so gradients flow only
            through the steps after it (the transient before it is run but not differentiated,
            as a burn-in under `torch.no_grad`; with delays the buffered past is cut too).
            None (default): through the whole solve. Fixed-step solves of known length only.

    Returns:
        `Solution` with ts (T,), theta (T, N) (or observables), velocity for second order.

    Usable under `jax.jit`, `jax.vmap` and `jax.grad` with respect to the model's
    arrays and theta0.
    """
    if isinstance(model, AbstractModel):  # Stuart–Landau, adaptive, higher-order, ...: same solvers
        from ._solve_model import simulate_model

        return simulate_model(model, theta0, **_model_kwargs(locals()))
    if not isinstance(model, Kuramoto):
        raise TypeError(
            f"`model` must be a kuramoto_jax.Kuramoto or another kuramoto_jax model, got {type(model).__name__}"
        )
    n = model.n
    theta0 = v.vector("theta0", theta0, n)
    has_delays = model.delays is not None
    if has_delays and v.is_concrete(model.delays) and not np.any(np.asarray(model.delays) > 0):
        has_delays = False  # all-zero delays: the undelayed problem, exactly
    name, solver_obj, adaptive = _resolve_solver(solver, model, has_delays)
    # Under jit, jnp.asarray(python float) is a tracer: the delay integrator needs the
    # times as concrete numbers, so it gets the values as passed (validated below).
    times_in = (t0, t1, dt, None if ts is None else np.asarray(ts) if v.is_concrete(ts) else ts)
    t0, t1, dt, ts = _check_times(t0, t1, dt, ts, adaptive)
    if model.noise is not None and key is None:
        raise ValueError("the model has `noise` but no `key` was given: pass key=jax.random.key(seed)")
    if model.noise is not None and adaptive:
        raise ValueError(f"`solver`={name!r} is adaptive; noisy models need one of {list(SDE_SOLVERS)}")
    if observe is not None and not callable(observe):
        raise TypeError(f"`observe` must be a callable θ ↦ pytree, got {v.describe(observe)}")
    y0 = initial_state(model, theta0, velocity0)

    detach = _detach_steps(gradient_from, times_in)
    if has_delays:
        return simulate_delayed(model, y0, name, *times_in, key, observe, max_delay_steps, check_finite, detach)

    second = model.second_order
    terms = diffrax.ODETerm(_VectorField(model))
    if model.noise is not None:
        path = GridBrownianPath(y0.shape, key, t0, t1, dt)
        terms = diffrax.MultiTerm(terms, diffrax.ControlTerm(_Diffusion(model.diffusion_scale()), path))
    save_fn = SaveFn(n, second, observe)
    saveat = diffrax.SaveAt(ts=ts, fn=save_fn) if ts is not None else diffrax.SaveAt(t1=True, fn=save_fn)
    plan = None
    named = solver is None or isinstance(solver, str)  # a solver object may carry its own semantics
    if not adaptive and named and stepsize_controller is None and adjoint is None and not progress:
        plan = _scan_plan(*times_in, max_steps)
    if plan is not None:
        ts_out = jnp.asarray(ts) if ts is not None else jnp.reshape(t1, (1,))
        ys, stats = _scan_solve(terms, solver_obj, y0, save_fn, *plan, detach_steps=detach)
        return package(ts_out, ys, observe, second, check_finite, stats)
    if detach:
        raise ValueError(f"{_GRADIENT_FROM_FIXED_STEP}; got solver={name!r}")
    if stepsize_controller is None:
        stepsize_controller = (
            diffrax.PIDController(rtol=rtol, atol=atol, pcoeff=0.3, icoeff=0.3)
            if adaptive
            else diffrax.ConstantStepSize()
        )
    if max_steps is None:
        # One generous budget for every problem: the fixed-step loop stops at t1 whatever the
        # budget and all runs share one compilation. (Tight budgets once gave a wrong
        # reverse-mode gradient with SaveAt(ts): a diffrax/equinox checkpointed-loop bug
        # with fewer checkpoints than steps, see docs/gradients.md; fixed-step solves of
        # known length now take the scan path and never reach this loop.)
        max_steps = 100_000
    kwargs = {}
    if adjoint is not None:
        kwargs["adjoint"] = adjoint
    if progress:
        kwargs["progress_meter"] = diffrax.TqdmProgressMeter()
    sol = diffrax.diffeqsolve(
        terms,
        solver_obj,
        t0,
        t1,
        dt,
        y0,
        saveat=saveat,
        stepsize_controller=stepsize_controller,
        max_steps=max_steps,
        throw=True,
        **kwargs,
    )
    return package(sol.ts, sol.ys, observe, second, check_finite, dict(sol.stats))


_GRADIENT_FROM_FIXED_STEP = ("`gradient_from` needs a fixed-step solve of known length (a named fixed-step solver, "
                             "t1 - t0 and ts on the dt grid, no adjoint, stepsize_controller or progress)")


def _detach_steps(gradient_from, times) -> int:
    """Steps from t0 to `gradient_from` (0 for None), checked against the times as passed (concrete
    NumPy values even under jit)."""
    if gradient_from is None:
        return 0
    t0, t1, dt, ts = times
    if dt is None:
        raise ValueError(_GRADIENT_FROM_FIXED_STEP + "; got dt=None")
    if not all(v.is_concrete(x) for x in (gradient_from, t0, t1, dt, ts)):
        raise ValueError("`gradient_from` needs concrete (not traced) gradient_from, t0, t1, dt and ts; got "
                         f"gradient_from={v.describe(gradient_from)}, ts={v.describe(ts)}")
    first = float(np.asarray(ts)[0]) if ts is not None else float(t1)
    g = float(gradient_from)
    if not float(t0) <= g <= first + 1e-9 * max(1.0, abs(first)):
        raise ValueError(f"`gradient_from` must lie in [t0, first save time] = [{float(t0)}, {first}], got {g}")
    return whole_steps("gradient_from - t0", g - float(t0), float(dt))


def _model_kwargs(local_vars: dict) -> dict:
    """simulate's keyword arguments, forwarded to the generic path for `AbstractModel`s."""
    return {k: local_vars[k] for k in _MODEL_KWARGS}


_MODEL_KWARGS = (
    "t1", "t0", "dt", "ts", "solver", "key", "observe", "velocity0", "rtol", "atol", "max_steps",
    "adjoint", "stepsize_controller", "progress", "max_delay_steps", "check_finite", "gradient_from",
)


# Memory policy of the scan path's reverse pass, by steps × state size (elements):
# up to _STORE_RESIDUALS every step's residuals are kept, as a hand-written scan does
# (measured fastest on the CPU up to N = 10^4 × 500 steps: recomputing each step from
# its stored state instead was slower for mean field and sparse couplings, docs/gradients.md);
# beyond, the steps run in checkpointed chunks of ~√steps, each step recomputed from
# its state (memory O(√steps · N), one more forward pass). _STORE_STATES, when set
# above _STORE_RESIDUALS, adds the middle policy: states kept, steps recomputed.
_STORE_RESIDUALS = 1 << 24
_STORE_STATES = 1 << 24


def _scan_plan(t0, t1, dt, ts, max_steps):
    """(t0, dt, n_steps, save steps) for the scan path, or None when diffeqsolve must run.

    The scan path needs concrete times, a whole number of steps and save times on the
    step grid t0 + k·dt; otherwise (or when `max_steps` is below the step count, which
    diffeqsolve reports as an error) the solve goes through `diffrax.diffeqsolve`.
    """
    if not all(v.is_concrete(x) for x in (t0, t1, dt)) or (ts is not None and not v.is_concrete(ts)):
        return None
    try:
        t0f, t1f, dtf = float(t0), float(t1), float(dt)
    except TypeError:
        return None
    if not (dtf > 0 and t1f > t0f):
        return None

    def whole(span):
        k = span / dtf
        kr = round(k)
        return kr if abs(k - kr) <= 1e-6 * max(1.0, abs(k)) else None

    n_steps = whole(t1f - t0f)
    if n_steps is None or (max_steps is not None and max_steps < n_steps):
        return None
    if ts is None:
        save = np.array([n_steps])
    else:
        save = np.array([whole(float(x) - t0f) for x in np.asarray(ts, dtype=float)], dtype=object)
        if any(k is None for k in save):
            return None
        save = save.astype(int)
        gaps = np.diff(np.unique(save))
        if gaps.size and not np.all(gaps == gaps[0]):
            return None  # uneven saves: diffeqsolve's buffer handles them without extra memory
    return t0f, dtf, int(n_steps), save


def _scan_solve(terms, solver, y0, save_fn, t0, dt, n_steps, save_steps, detach_steps: int = 0):
    """Fixed steps of a diffrax solver in `lax.scan`; `save_fn` of the states after `save_steps`.

    save_steps: (T,) step indices, evenly spaced once sorted and deduplicated (as
    `_scan_plan` ensures). The steps run as a scan to the first save, then an outer scan
    over the saves of inner scans of `stride` steps; the carry after `detach_steps` steps
    is a constant for differentiation (`simulate(gradient_from=...)`). Returns (saved
    pytree with leading axis T, stats as diffeqsolve's).
    """
    dtype = jnp.result_type(float)
    t0a, dta = jnp.asarray(t0, dtype), jnp.asarray(dt, dtype)
    state0 = solver.init(terms, t0a, t0a + dta, y0, None)

    def step(carry, _):
        y, state, k = carry
        tprev = t0a + k.astype(dtype) * dta
        tnext = t0a + (k + 1).astype(dtype) * dta
        y1, _, _, state1, _ = solver.step(terms, tprev, tnext, y, None, state, made_jump=False)
        # Keep the carry's dtypes (float32 states with float64 times under x64), as diffeqsolve does.
        same = lambda old, new: jax.tree.map(lambda a, b: jnp.asarray(b, a.dtype), old, new)
        return (same(y, y1), same(state, state1), k + 1), None

    size = sum(x.size for x in jax.tree.leaves(y0))
    total = max(int(np.max(save_steps)), 1) * size
    body = step if total <= _STORE_RESIDUALS else jax.checkpoint(step, prevent_cse=False)

    def run(carry, length):
        """`length` steps; in checkpointed chunks of ~√length above the state budget."""
        if length == 0:
            return carry
        if total <= _STORE_STATES or length < 4:
            return jax.lax.scan(body, carry, None, length=length)[0]
        chunk = max(1, math.isqrt(length))
        q, r = divmod(length, chunk)
        inner = jax.checkpoint(lambda c, _: (run(c, chunk), None), prevent_cse=False)
        carry = jax.lax.scan(inner, carry, None, length=q)[0]
        return jax.checkpoint(lambda c: run(c, r))(carry) if r else carry

    def out(carry):
        y, _, k = carry
        return save_fn(t0a + k.astype(dtype) * dta, y, None)

    unique, inverse = np.unique(save_steps, return_inverse=True)
    stride = int(unique[1] - unique[0]) if unique.size > 1 else 1
    carry = (y0, state0, jnp.asarray(0, jnp.int32))
    carry = truncated_run(run, carry, int(unique[0]), detach_steps)
    first = out(carry)
    if unique.size > 1:
        count = int((unique[-1] - unique[0]) // stride)

        def outer(c, _):
            c = run(c, stride)
            return c, out(c)

        if total > _STORE_STATES and stride > 1:
            outer = jax.checkpoint(outer, prevent_cse=False)
        carry, rest = jax.lax.scan(outer, carry, None, length=count)
        ys = jax.tree.map(lambda a, b: jnp.concatenate([a[None], b]), first, rest)
        index = (unique - unique[0]) // stride
        ys = jax.tree.map(lambda a: a[index[inverse]], ys)
    else:
        ys = jax.tree.map(lambda a: jnp.broadcast_to(a[None], (len(save_steps),) + a.shape), first)
    n = int(n_steps)
    stats = dict(num_steps=n, num_accepted_steps=n, num_rejected_steps=0, max_steps=n)
    return ys, stats


class _VectorField(eqx.Module):
    """The model's vector field as a pytree, so repeated calls hit diffrax's compilation cache."""

    model: Kuramoto

    def __call__(self, t, y, args):
        return self.model.vector_field(t, y)


class _Diffusion(eqx.Module):
    sigma: jax.Array

    def __call__(self, t, y, args):
        return lx.DiagonalLinearOperator(self.sigma)
