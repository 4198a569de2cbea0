"""`train`: one optax training loop with checkpoints, best-so-far tracking and exact resume.

Step s draws its randomness from k_s = fold_in(key, s), split into a batch key
and a loss key: `batch = batch_fn(s, k_batch)`, `loss = loss_fn(params, batch, k_loss)`.
Nothing random depends on how many steps ran in this process, so a run resumed
from the checkpoint after step c replays steps c, c+1, ... exactly as an
uninterrupted run would, and reaches bit-identical parameters and metrics.

Checkpoints (`<run folder>/checkpoints/<name>.msgpack`) hold parameters, optimiser
state, the next step, the PRNG key, the best-so-far parameters and the loss
history, serialised with flax's msgpack (never pickle) and written atomically.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import pathlib
from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization

from . import _files
from ._study import RunError

_FORMAT = 1


class TrainingError(RunError):
    """Training stopped (non-finite loss): the message names the step and the checkpoint kept."""


@dataclasses.dataclass
class TrainResult:
    """Outcome of `train`.

    params: final parameters. best_params: parameters with the lowest tracked loss
    (eval loss when `eval_fn` is given, else training loss). history: dict of 1-D
    numpy arrays ("step", "loss", aux scalars, "eval_step", "eval_<name>").
    step: number of steps done. stopped: True when `stop_after` ended the run early.
    steps_run: steps taken by this call (fewer than `step` after a resume): divide the time
    this call took by it for a time per step.
    """

    params: Any
    best_params: Any
    history: dict
    step: int
    best_step: int
    best_loss: float
    opt_state: Any
    stopped: bool = False
    steps_run: int = 0


def _is_key(x) -> bool:
    return hasattr(x, "dtype") and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _to_host(x) -> np.ndarray:
    return np.asarray(jax.random.key_data(x)) if _is_key(x) else np.asarray(x)


def _from_host(data: np.ndarray, template, where: str):
    if _is_key(template):
        want = jax.random.key_data(template)
        if data.shape != want.shape:
            raise RunError(f"checkpoint {where}: PRNG key data of shape {data.shape}, expected {want.shape}")
        return jax.random.wrap_key_data(jnp.asarray(data, want.dtype), impl=jax.random.key_impl(template))
    tmpl = np.asarray(template) if not hasattr(template, "dtype") else template
    if tuple(data.shape) != tuple(np.shape(tmpl)):
        raise RunError(f"checkpoint {where}: array of shape {data.shape}, expected {np.shape(tmpl)} "
                       "(the model or optimiser changed since the checkpoint was written)")
    return jnp.asarray(data, dtype=tmpl.dtype)


def save_checkpoint(path, tree, extra: dict) -> pathlib.Path:
    """Write the pytree `tree` (leaves only) plus plain `extra` values to `path` (msgpack, atomic)."""
    leaves = jax.tree.leaves(tree)
    payload = {"format": _FORMAT, "num_leaves": len(leaves),
               "leaves": {str(i): _to_host(x) for i, x in enumerate(leaves)}, **extra}
    return _files.write_bytes(path, serialization.msgpack_serialize(payload))


def load_checkpoint(path, template) -> tuple[Any, dict]:
    """Read a checkpoint written by `save_checkpoint` into the structure of `template`."""
    payload = serialization.msgpack_restore(pathlib.Path(path).read_bytes())
    if payload.get("format") != _FORMAT:
        raise RunError(f"checkpoint {path}: unknown format {payload.get('format')!r}")
    leaves_t, treedef = jax.tree.flatten(template)
    if payload["num_leaves"] != len(leaves_t):
        raise RunError(f"checkpoint {path}: {payload['num_leaves']} arrays, expected {len(leaves_t)} "
                       "(the model or optimiser changed since the checkpoint was written)")
    leaves = [_from_host(np.asarray(payload["leaves"][str(i)]), t, str(path)) for i, t in enumerate(leaves_t)]
    extra = {k: v for k, v in payload.items() if k not in ("format", "num_leaves", "leaves")}
    return jax.tree.unflatten(treedef, leaves), extra


def _scalar_items(tree) -> dict[str, Any]:
    """Scalar entries of a dict-like aux/eval output (names → 0-d arrays)."""
    if isinstance(tree, dict):
        return {str(k): v for k, v in tree.items() if np.ndim(v) == 0}
    return {}


def _call_eval(eval_fn, params, key):
    try:
        n = len([p for p in inspect.signature(eval_fn).parameters.values()
                 if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty])
    except (TypeError, ValueError):
        n = 2
    out = eval_fn(params, key) if n >= 2 else eval_fn(params)
    if isinstance(out, dict):
        vals = {str(k): float(v) for k, v in out.items()}
        main = vals.get("loss", next(iter(vals.values())) if vals else math.nan)
        return main, vals
    v = float(out)
    return v, {"loss": v}


@eqx.filter_jit
def _train_step(t, o, batch, k, *, static, loss_fn, grad_fn, optimizer, has_aux):
    """One optimiser step on the trainable leaves `t`. Module-level so that repeated `train`
    calls with the same functions and optimiser reuse one compilation (all non-array
    arguments are static)."""
    if grad_fn is None:
        f = lambda tt: loss_fn(eqx.combine(tt, static), batch, k)
        out, grads = jax.value_and_grad(f, has_aux=has_aux)(t)
    else:
        out, grads = grad_fn(eqx.combine(t, static), batch, k)
        grads = eqx.filter(grads, eqx.is_inexact_array)
    loss, aux = out if has_aux else (out, None)
    updates, o = optimizer.update(grads, o, t)
    return eqx.apply_updates(t, updates), o, loss, aux


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
    checkpoint_every: int | None = 100,
    eval_fn: Callable | None = None,
    eval_every: int | None = None,
    has_aux: bool = False,
    name: str = "train",
    stop_after: int | None = None,
    checkpoint_dir=None,
    resume: bool | None = None,
    desc: str | None = None,
) -> TrainResult:
    """Minimise `loss_fn(params, batch, key)` with `optimizer` for `num_steps` steps.

    Args:
        loss_fn: (params, batch, key) → scalar loss (or (loss, aux) with has_aux); differentiated
            with `jax.value_and_grad` over the inexact-array leaves of params.
        grad_fn: alternative to loss_fn for gradients that are not autodiff (equilibrium
            propagation): (params, batch, key) → (loss, grads) (or ((loss, aux), grads)).
        params: any pytree (dicts, equinox modules); its floating-point arrays are trained.
        optimizer: an optax transformation (see `make_optimizer`).
        num_steps: total number of steps (a resumed run continues up to it).
        key: base PRNG key; step s uses fold_in(key, s).
        batch_fn: (step, key) → batch, deterministic in its arguments (None: batch is None).
        ctx: the study's RunContext: checkpoints go to ctx.checkpoint_dir, ctx.resume restores
            them, progress and log go through ctx.
        checkpoint_every: steps between checkpoints (the last step is always saved; None: only the last).
        eval_fn: (params, key) or (params) → scalar or dict of scalars ("loss" entry tracked for
            best-so-far), run every `eval_every` steps and at the end.
        has_aux: loss_fn returns (loss, aux); scalar entries of a dict aux go into the history.
        name: checkpoint file name (several trainings in one run need different names).
        stop_after: stop (after checkpointing) once this many steps are done, as an interrupted run.
        checkpoint_dir: overrides ctx's checkpoint folder.
        resume: overrides ctx's resume flag.

    Returns:
        TrainResult(params, best_params, history, step, best_step, best_loss, opt_state, stopped,
        steps_run).

    Raises:
        TrainingError: if the loss is not finite; the message names the step, and the last good
            checkpoint is kept.
    """
    if (loss_fn is None) == (grad_fn is None):
        raise TypeError("train: pass exactly one of `loss_fn` or `grad_fn`")
    if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)) or num_steps < 0:
        raise ValueError(f"train: `num_steps` must be an integer >= 0, got {num_steps!r}")
    for arg, val in (("checkpoint_every", checkpoint_every), ("eval_every", eval_every), ("stop_after", stop_after)):
        if val is not None and (isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1):
            raise ValueError(f"train: `{arg}` must be a positive integer or None, got {val!r}")
    if not (hasattr(optimizer, "init") and hasattr(optimizer, "update")):
        raise TypeError(f"train: `optimizer` must be an optax GradientTransformation, got {type(optimizer).__name__}")
    if not _is_key(key):
        if hasattr(key, "dtype") and np.shape(key) == (2,) and np.asarray(key).dtype == np.uint32:
            key = jax.random.wrap_key_data(jnp.asarray(key))  # legacy uint32 key
        else:
            raise TypeError(f"train: `key` must be a PRNG key (jax.random.key(seed)), got {key!r}")
    num_steps = int(num_steps)

    trainable, static = eqx.partition(params, eqx.is_inexact_array)
    opt_state = optimizer.init(trainable)

    step_fn = functools.partial(_train_step, static=static, loss_fn=loss_fn, grad_fn=grad_fn,
                                optimizer=optimizer, has_aux=has_aux)

    if checkpoint_dir is None and ctx is not None:
        checkpoint_dir = ctx.checkpoint_dir
    if resume is None:
        resume = bool(ctx is not None and ctx.resume)
    writes = ctx is None or ctx.is_main
    ckpt = pathlib.Path(checkpoint_dir) / f"{name}.msgpack" if checkpoint_dir is not None else None
    log = ctx.log if ctx is not None else (lambda msg: None)

    best_t = trainable
    best_loss, best_step, start = math.inf, -1, 0
    history: dict[str, list] = {"step": [], "loss": []}
    if resume and ckpt is not None and ckpt.is_file():
        (trainable, opt_state, best_t), extra = load_checkpoint(ckpt, (trainable, opt_state, trainable))
        start = int(extra["step"])
        best_loss = float(extra["best_loss"]) if extra["best_loss"] is not None else math.inf
        best_step = int(extra["best_step"])
        key = jax.random.wrap_key_data(jnp.asarray(extra["key"]), impl=jax.random.key_impl(key))
        history = {k: list(np.asarray(v).tolist()) for k, v in extra["history"].items()}
        log(f"{name}: resumed from {ckpt} at step {start}/{num_steps}")
        if start > num_steps:
            raise RunError(f"checkpoint {ckpt} is at step {start}, beyond num_steps = {num_steps}")
    elif resume and ckpt is not None:
        log(f"{name}: no checkpoint at {ckpt}; starting from step 0")

    last_saved = start if (ckpt is not None and ckpt.is_file() and resume) else None

    def save(done: int):
        nonlocal last_saved
        if ckpt is None or not writes:
            return
        extra = {"step": done, "best_loss": best_loss if math.isfinite(best_loss) else None,
                 "best_step": best_step, "key": np.asarray(jax.random.key_data(key)),
                 "history": {k: np.asarray(v) for k, v in history.items()}}
        save_checkpoint(ckpt, (trainable, opt_state, best_t), extra)
        last_saved = done

    def record(name_, value):
        history.setdefault(name_, []).append(value)

    stopped = False
    eval_key = jax.random.fold_in(key, 2**31 - 1)  # a stream apart from the training steps
    steps = range(start, num_steps)
    bar = ctx.progress(steps, total=num_steps - start, desc=desc or name) if ctx is not None else steps
    for step in bar:
        k_batch, k_loss = jax.random.split(jax.random.fold_in(key, step))
        batch = batch_fn(step, k_batch) if batch_fn is not None else None
        new_t, new_o, loss, aux = step_fn(trainable, opt_state, batch, k_loss)
        loss = float(loss)
        if not math.isfinite(loss):
            kept = f"the last good checkpoint (step {last_saved}) is kept in {ckpt}" if last_saved is not None \
                else "no checkpoint was written yet"
            raise TrainingError(f"{name}: non-finite loss ({loss}) at step {step}; {kept}")
        record("step", step)
        record("loss", loss)
        for k, v in _scalar_items(aux).items():
            record(k, float(v))
        if eval_fn is None and loss < best_loss:
            best_loss, best_step, best_t = loss, step, trainable
        trainable, opt_state = new_t, new_o
        done = step + 1
        if eval_fn is not None and ((eval_every and done % eval_every == 0) or done == num_steps):
            main, vals = _call_eval(eval_fn, eqx.combine(trainable, static), jax.random.fold_in(eval_key, done))
            record("eval_step", done)
            for k, v in vals.items():
                record(f"eval_{k}", v)
            if math.isfinite(main) and main < best_loss:
                best_loss, best_step, best_t = main, done, trainable
        if hasattr(bar, "set_postfix") and (done % 10 == 0 or done == num_steps):
            bar.set_postfix(loss=f"{loss:.4g}", refresh=False)
        stop_now = stop_after is not None and done >= stop_after and done < num_steps
        if done == num_steps or stop_now or (checkpoint_every and done % checkpoint_every == 0):
            save(done)
            if ckpt is not None:
                log(f"{name}: step {done}/{num_steps} loss {loss:.6g} (checkpoint)")
        if stop_now:
            stopped = True
            break
    if hasattr(bar, "close"):
        bar.close()

    step_count = history["step"][-1] + 1 if history["step"] else start
    if best_step < 0:
        best_t = trainable
    return TrainResult(
        params=eqx.combine(trainable, static),
        best_params=eqx.combine(best_t, static),
        history={k: np.asarray(v) for k, v in history.items()},
        step=int(step_count),
        best_step=int(best_step),
        best_loss=float(best_loss),
        opt_state=opt_state,
        stopped=stopped,
        steps_run=int(step_count) - start,
    )
