"""`train`: optax training of one model or of an ensemble of M members, resumable exactly.

The loop carries an explicit `TrainState` (trainable leaves, optimiser state, best-so-far
parameters and metric, skipped-step counts, base key). Randomness depends only on the step:

* one model: step s uses k_s = fold_in(key, s), split into a batch key and a loss key,
  `batch = batch_fn(s, k_batch)`, `loss = loss_fn(params, batch, k_loss)`;
* an ensemble (`ensemble=M`): member m has its own stream fold_in(key, m) and step s of
  member m uses fold_in(fold_in(key, m), s) the same way; `batch_fn(s, keys)` gets the
  members' batch keys (M,) and returns batches with a leading member axis.

So a run resumed from the checkpoint after step c replays steps c, c+1, ... exactly as an
uninterrupted run would. The members are trained in one batched computation
(`kuramoto_jax.parallel.batch_map` of one member's step: vmapped, spread over the devices),
each with its own optimiser state (a global-norm clipping clips each member by its own norm),
its own non-finite-step skipping and its own best parameters.

Losses stay on the device and are pulled to the host every `log_every` steps (and before
a checkpoint or an evaluation), not at every step.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import pathlib
from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from .. import _validate
from ._checkpoint import load_checkpoint, save_checkpoint
from ._study import RunError

EVAL_STREAM = 2**31 - 1
"""fold_in index of the evaluation stream, apart from every training step's."""


class TrainingError(RunError):
    """Training stopped (non-finite loss): the message names the step and the checkpoint kept."""


class TrainState(eqx.Module):
    """Everything `train` carries from step to step (a pytree; checkpointed with named leaves).

    Shapes: scalars are () for one model and (M,) for an ensemble of M members, whose
    parameter leaves have a leading member axis.

    Attributes:
        params: the trainable (inexact-array) leaves of the parameters.
        opt_state: the optax state (per member for an ensemble).
        best_params: the trainable leaves with the best metric so far (per member).
        best_metric: that metric (lower is better; +inf before the first candidate).
        best_step: the step of `best_params` (-1 before the first candidate).
        skipped: steps skipped for a non-finite loss or gradient (`skip_nonfinite`).
        step: the number of steps done.
        key: the base PRNG key.
    """

    params: Any
    opt_state: Any
    best_params: Any
    best_metric: jax.Array
    best_step: jax.Array
    skipped: jax.Array
    step: jax.Array
    key: jax.Array


@dataclasses.dataclass
class TrainResult:
    """Outcome of `train`.

    Attributes:
        params: final parameters (with the member axis for an ensemble).
        best_params: the parameters with the best selection metric (per member): the evaluation
            metric named by `select` when `eval_fn` is given, else the training loss; the final
            parameters when `select` is None.
        history: dict of NumPy arrays: "step", "loss" ((T,) or (T, M)), scalar aux entries,
            "eval_step" and "eval_<name>" ((E,) or (E, M)).
        step: number of steps done.
        best_step: step of best_params (int, or (M,) for an ensemble; -1: never selected).
        best_loss: the best selection metric (float, or (M,)).
        opt_state: final optimiser state.
        stopped: True when `stop_after` ended the run early.
        steps_run: steps taken by this call (fewer than `step` after a resume).
        skipped: steps skipped for non-finite values (int, or (M,)).
        state: the final `TrainState`.
    """

    params: Any
    best_params: Any
    history: dict
    step: int
    best_step: Any
    best_loss: Any
    opt_state: Any
    stopped: bool = False
    steps_run: int = 0
    skipped: Any = 0
    state: Any = None

    @property
    def best_member(self) -> int:
        """Index of the ensemble member with the best selection metric (0 for one model)."""
        return int(np.argmin(np.asarray(self.best_loss))) if np.ndim(self.best_loss) else 0


def _where(mask, new, old):
    """Select leaf-wise between two pytrees; `mask` () or (M,) broadcast over trailing axes."""
    def one(a, b):
        m = jnp.reshape(mask, jnp.shape(mask) + (1,) * (jnp.ndim(a) - jnp.ndim(mask)))
        return jnp.where(m, a, b)
    return jax.tree.map(one, new, old)


def _all_finite(tree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(x)) for x in jax.tree.leaves(tree) if eqx.is_inexact_array(x)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.asarray(True)


def _member_step(t, o, batch, k, *, static, loss_fn, grad_fn, optimizer, has_aux, skip):
    """One optimiser step of one member on its trainable leaves `t`.

    Returns (t', o', loss, aux, ok); with `skip`, a step whose loss or gradient is not
    finite leaves t and o unchanged (ok False)."""
    if grad_fn is None:
        out, grads = jax.value_and_grad(lambda tt: loss_fn(eqx.combine(tt, static), batch, k), has_aux=has_aux)(t)
    else:
        out, grads = grad_fn(eqx.combine(t, static), batch, k)
        grads = eqx.filter(grads, eqx.is_inexact_array)
    loss, aux = out if has_aux else (out, None)
    updates, o_new = optimizer.update(grads, o, t)
    t_new = optax.apply_updates(t, updates)  # keeps each leaf's dtype (eqx.apply_updates would promote)
    ok = jnp.isfinite(loss)
    if skip:
        ok = ok & _all_finite(grads)
        t_new, o_new = _where(ok, t_new, t), _where(ok, o_new, o)
    aux = {str(a): v for a, v in aux.items() if jnp.ndim(v) == 0} if isinstance(aux, dict) else {}
    return t_new, o_new, loss, aux, ok


# Module-level: repeated `train` calls with the same functions and optimiser share one compilation.
_jit_member_step = eqx.filter_jit(_member_step)


@functools.partial(jax.jit, static_argnums=2)
def _step_keys(key, step, members):
    """(batch keys, loss keys) of `step`: () each for one model, (M,) for M members."""
    if members is None:
        return tuple(jax.random.split(jax.random.fold_in(key, step)))
    ks = jax.vmap(lambda m: jax.random.split(jax.random.fold_in(jax.random.fold_in(key, m), step)))(
        jnp.arange(members))
    return ks[:, 0], ks[:, 1]


@functools.partial(jax.jit, static_argnums=2)
def _eval_keys(key, step, members):
    if members is None:
        return jax.random.fold_in(jax.random.fold_in(key, EVAL_STREAM), step)
    return jax.vmap(lambda m: jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, m), EVAL_STREAM),
                                                 step))(jnp.arange(members))


@eqx.filter_jit
def _advance(state: TrainState, t, o, loss, ok, track_loss: bool, skip: bool):
    """The state after one step: new leaves, best-so-far by training loss, skip counts."""
    if track_loss:
        better = ok & (loss < state.best_metric)
        state = eqx.tree_at(lambda s: (s.best_params, s.best_metric, s.best_step), state,
                            (_where(better, state.params, state.best_params),
                             jnp.where(better, loss.astype(state.best_metric.dtype), state.best_metric),
                             jnp.where(better, state.step, state.best_step)))
    skipped = state.skipped + (~ok).astype(state.skipped.dtype) if skip else state.skipped
    return eqx.tree_at(lambda s: (s.params, s.opt_state, s.skipped, s.step), state,
                       (t, o, skipped, state.step + 1))


@eqx.filter_jit
def _select(state: TrainState, better, metric):
    return eqx.tree_at(lambda s: (s.best_params, s.best_metric, s.best_step), state,
                       (_where(better, state.params, state.best_params),
                        jnp.where(better, jnp.asarray(metric, state.best_metric.dtype), state.best_metric),
                        jnp.where(better, state.step, state.best_step)))


def _check_int(name, val, low, allow_none=True):
    if val is None and allow_none:
        return
    if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < low:
        what = "an integer >= 0" if low == 0 else "a positive integer" + (" or None" if allow_none else "")
        raise ValueError(f"train: `{name}` must be {what}, got {val!r}")


def _tensorboard_writer(tensorboard, ctx, name):
    if not tensorboard:
        return None
    try:
        from tensorboardX import SummaryWriter
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("train(tensorboard=...): needs tensorboardX; install the extra: "
                          "pip install 'kuramoto-jax[tensorboard]'") from None
    if tensorboard is True:
        if ctx is None:
            raise ValueError("train: `tensorboard=True` needs `ctx` (the event files go to <run folder>/tensorboard); "
                             "pass a folder instead")
        folder = ctx.out_dir / "tensorboard" / name
    else:
        folder = pathlib.Path(tensorboard)
    return SummaryWriter(str(folder))


def train(
    loss_fn: Callable | None = None,
    *,
    params,
    optimizer: optax.GradientTransformation,
    num_steps: int,
    key,
    batch_fn: Callable[[int, Any], Any] | None = None,
    grad_fn: Callable | None = None,
    ctx=None,
    ensemble: int | None = None,
    checkpoint_every: int | None = 100,
    eval_fn: Callable | None = None,
    eval_every: int | None = None,
    select: str | None = "loss",
    has_aux: bool = False,
    skip_nonfinite: bool = False,
    log_every: int = 50,
    name: str = "train",
    stop_after: int | None = None,
    checkpoint_dir=None,
    resume: bool | None = None,
    desc: str | None = None,
    tensorboard=None,
) -> TrainResult:
    """Minimise `loss_fn(params, batch, key)` with `optimizer` for `num_steps` steps.

    Args:
        loss_fn: (params, batch, key) → scalar loss (or (loss, aux) with has_aux) of ONE model;
            differentiated with `jax.value_and_grad` over the inexact-array leaves of params.
        params: any pytree (dicts, equinox modules); its floating-point arrays are trained. With
            `ensemble=M`, every floating-point leaf has a leading member axis of size M (other
            leaves are shared by the members).
        optimizer: an optax transformation (see `make_optimizer`), applied to each member alone.
        num_steps: total number of steps (a resumed run continues up to it).
        key: base PRNG key (typed or legacy uint32); see the module docstring for the streams.
        batch_fn: (step, key) → batch, deterministic in its arguments; called on the host with a
            Python int step. With an ensemble, key is the members' keys (M,) and every batch leaf
            has a leading member axis. None: the batch is None.
        grad_fn: alternative to loss_fn for gradients that are not autodiff (equilibrium
            propagation): (params, batch, key) → (loss, grads) (or ((loss, aux), grads)).
        ctx: the study's RunContext: checkpoints go to ctx.checkpoint_dir, ctx.resume restores
            them, progress and log go through ctx.
        ensemble: M members trained at once in one batched computation (None: one model).
        checkpoint_every: steps between checkpoints (the last step is always saved; None: only the last).
        eval_fn: (params, key) → scalar or dict of scalars for ONE model, run after every
            `eval_every` steps and at the end (vmapped over the members of an ensemble, so then
            traceable). A scalar is named "loss".
        eval_every: steps between evaluations (None: only at the end).
        select: the evaluation metric whose lowest value picks each member's best parameters
            (None: no selection, best_params are the final ones). Without `eval_fn`, the training
            loss selects.
        has_aux: loss_fn returns (loss, aux); scalar entries of a dict aux go into the history.
        skip_nonfinite: a step whose loss or gradient is not finite leaves that member's
            parameters and optimiser state unchanged and is counted (`TrainResult.skipped`)
            instead of stopping the run.
        log_every: steps between pulls of the losses to the host (history, progress, finiteness
            check, TensorBoard); checkpoints and evaluations pull too.
        name: checkpoint file name (several trainings in one run need different names).
        stop_after: stop (after checkpointing) once this many steps are done, as an interrupted run.
        checkpoint_dir: overrides ctx's checkpoint folder.
        resume: overrides ctx's resume flag.
        desc: progress-bar label (default `name`).
        tensorboard: write TensorBoard event files of the training curves (needs the
            `tensorboard` extra): True for <run folder>/tensorboard/<name>, or a folder.

    Returns:
        TrainResult(params, best_params, history, step, best_step, best_loss, opt_state, stopped,
        steps_run, skipped, state).

    Raises:
        TrainingError: if a loss is not finite (without `skip_nonfinite`); the message names the
            step, and the last good checkpoint is kept.
    """
    if (loss_fn is None) == (grad_fn is None):
        raise TypeError("train: pass exactly one of `loss_fn` or `grad_fn`")
    _check_int("num_steps", num_steps, 0, allow_none=False)
    for arg, val in (("checkpoint_every", checkpoint_every), ("eval_every", eval_every),
                     ("stop_after", stop_after), ("ensemble", ensemble)):
        _check_int(arg, val, 1)
    _check_int("log_every", log_every, 1, allow_none=False)
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(f"train: `optimizer` must be an optax GradientTransformation, got {type(optimizer).__name__}")
    if eval_fn is not None and not callable(eval_fn):
        raise TypeError(f"train: `eval_fn` must be callable (params, key) -> scalar or dict, got {eval_fn!r}")
    if select is not None and not isinstance(select, str):
        raise TypeError(f"train: `select` must be a metric name or None, got {select!r}")
    key = _validate.prng_key("key", key)
    num_steps, M = int(num_steps), (None if ensemble is None else int(ensemble))

    trainable, static = eqx.partition(params, eqx.is_inexact_array)
    if M is not None:
        bad = [jax.tree_util.keystr(p) for p, x in jax.tree_util.tree_flatten_with_path(trainable)[0]
               if x.ndim == 0 or x.shape[0] != M]
        if bad:
            raise ValueError(f"train: with `ensemble`={M} every floating-point leaf of `params` needs a leading "
                             f"member axis of size {M}; not so for {bad[:3]}")
    step_kw = dict(static=static, loss_fn=loss_fn, grad_fn=grad_fn, optimizer=optimizer, has_aux=has_aux,
                   skip=bool(skip_nonfinite))
    if M is None:
        opt_state = optimizer.init(trainable)
        step_fn = functools.partial(_jit_member_step, **step_kw)
        scalar = lambda v, dt: jnp.asarray(v, dt)
    else:
        from ..parallel import batch_map

        opt_state = jax.vmap(optimizer.init)(trainable)
        member = functools.partial(_member_step, **step_kw)  # one object: batch_map compiles it once
        step_fn = lambda t, o, b, k: batch_map(member, t, o, b, k)
        scalar = lambda v, dt: jnp.full((M,), v, dt)
    fdtype = jnp.result_type(float)
    state = TrainState(params=trainable, opt_state=opt_state, best_params=trainable,
                       best_metric=scalar(jnp.inf, fdtype), best_step=scalar(-1, jnp.int32),
                       skipped=scalar(0, jnp.int32), step=jnp.asarray(0, jnp.int32), key=key)

    if checkpoint_dir is None and ctx is not None:
        checkpoint_dir = ctx.checkpoint_dir
    if resume is None:
        resume = bool(ctx is not None and ctx.resume)
    writes = ctx is None or ctx.is_main
    ckpt = pathlib.Path(checkpoint_dir) / f"{name}.npz" if checkpoint_dir is not None else None
    log = ctx.log if ctx is not None else (lambda msg: None)

    start = 0
    history: dict[str, list] = {"step": [], "loss": []}
    if resume and ckpt is not None and ckpt.is_file():
        state, extra = load_checkpoint(ckpt, state)
        start = int(extra["step"])
        history = {k: list(np.asarray(v)) for k, v in extra["history"].items()}
        log(f"{name}: resumed from {ckpt} at step {start}/{num_steps}")
        if start > num_steps:
            raise RunError(f"checkpoint {ckpt} is at step {start}, beyond num_steps = {num_steps}")
    elif resume and ckpt is not None:
        log(f"{name}: no checkpoint at {ckpt}; starting from step 0")
    last_saved = start if (ckpt is not None and ckpt.is_file() and resume) else None

    writer = _tensorboard_writer(tensorboard, ctx, name) if writes else None
    pending: list = []  # (step, loss, aux, ok) on the device, not yet pulled
    last_loss = [math.nan]

    def scalars(tag, value, step):
        if writer is None:
            return
        v = np.asarray(value, float)
        if v.ndim == 0:
            writer.add_scalar(tag, float(v), step)
        else:
            for j, x in enumerate(v):
                writer.add_scalar(f"{tag}/member{j}", float(x), step)

    def flush():
        if not pending:
            return
        got = jax.device_get([p[1:] for p in pending])
        for (step, _, _, _), (loss, aux, ok) in zip(pending, got):
            if not skip_nonfinite and not np.all(ok):
                kept = (f"the last good checkpoint (step {last_saved}) is kept in {ckpt}" if last_saved is not None
                        else "no checkpoint was written yet")
                bad = loss if M is None else np.asarray(loss)[~np.asarray(ok)]
                raise TrainingError(f"{name}: non-finite loss ({np.ravel(bad)[0]}) at step {step}"
                                    + ("" if M is None else f" (members {np.flatnonzero(~np.asarray(ok)).tolist()})")
                                    + f"; {kept}")
            history["step"].append(step)
            history["loss"].append(np.asarray(loss) if M is not None else float(loss))
            scalars("loss", loss, step)
            for a, v in aux.items():
                history.setdefault(a, []).append(np.asarray(v) if M is not None else float(v))
                scalars(a, v, step)
            last_loss[0] = float(np.nanmean(loss))
        pending.clear()

    def evaluate(done):
        nonlocal state
        p = eqx.combine(state.params, static)
        k = _eval_keys(base_key, done, M)
        if M is None:
            out = eval_fn(p, k)
        else:
            from ..parallel import batch_map

            out = batch_map(eval_member, state.params, k)
        out = out if isinstance(out, dict) else {"loss": out}
        vals = {str(a): np.asarray(jax.device_get(v), float) for a, v in out.items()}
        history.setdefault("eval_step", []).append(done)
        for a, v in vals.items():
            history.setdefault(f"eval_{a}", []).append(v if M is not None else float(v))
            scalars(f"eval/{a}", v, done)
        if select is None:
            return
        if select not in vals:
            raise ValueError(f"train: `select`={select!r} is not an output of `eval_fn` (it returned {sorted(vals)})")
        metric = vals[select]
        better = np.isfinite(metric) & (metric < np.asarray(jax.device_get(state.best_metric)))
        if np.any(better):
            state = _select(state, jnp.asarray(better), metric)

    if eval_fn is not None and M is not None:
        eval_member = lambda t, k: eval_fn(eqx.combine(t, static), k)  # one object per call: compiled once

    def save(done: int):
        nonlocal last_saved
        if ckpt is None or not writes:
            return
        extra = {"step": done, "name": name, "ensemble": M,
                 "history": {k: np.asarray(v) for k, v in history.items()}}
        save_checkpoint(ckpt, state, extra)
        last_saved = done

    stopped = False
    track_loss = eval_fn is None and select is not None
    steps = range(start, num_steps)
    bar = ctx.progress(steps, total=num_steps - start, desc=desc or name) if ctx is not None else steps
    base_key = jax.device_put(state.key)  # one placement for every step (a committed key would recompile)
    try:
        for step in bar:
            k_batch, k_loss = _step_keys(base_key, step, M)
            batch = batch_fn(step, k_batch) if batch_fn is not None else None
            t, o, loss, aux, ok = step_fn(state.params, state.opt_state, batch, k_loss)
            state = _advance(state, t, o, loss, ok, track_loss, bool(skip_nonfinite))
            pending.append((step, loss, aux, ok))
            done = step + 1
            eval_now = eval_fn is not None and ((eval_every and done % eval_every == 0) or done == num_steps)
            stop_now = stop_after is not None and done >= stop_after and done < num_steps
            save_now = done == num_steps or stop_now or bool(checkpoint_every and done % checkpoint_every == 0)
            if done % log_every == 0 or eval_now or save_now:
                flush()
                if hasattr(bar, "set_postfix"):
                    bar.set_postfix(loss=f"{last_loss[0]:.4g}", refresh=False)
            if eval_now:
                evaluate(done)
            if save_now:
                save(done)
                if ckpt is not None:
                    log(f"{name}: step {done}/{num_steps} loss {last_loss[0]:.6g} (checkpoint)")
            if stop_now:
                stopped = True
                break
        flush()
    finally:
        if hasattr(bar, "close"):
            bar.close()
        if writer is not None:
            writer.close()

    step_count = int(history["step"][-1]) + 1 if history["step"] else start
    if select is None:
        state = _select(state, jnp.ones_like(state.best_step, bool), jnp.full_like(state.best_metric, jnp.nan))
    best_t = _where(state.best_step >= 0, state.best_params, state.params)
    host = lambda x: int(x) if M is None else np.asarray(x)
    return TrainResult(
        params=eqx.combine(state.params, static),
        best_params=eqx.combine(best_t, static),
        history={k: np.asarray(v) for k, v in history.items()},
        step=step_count,
        best_step=host(state.best_step),
        best_loss=float(state.best_metric) if M is None else np.asarray(state.best_metric),
        opt_state=state.opt_state,
        stopped=stopped,
        steps_run=step_count - start,
        skipped=host(state.skipped),
        state=state,
    )
