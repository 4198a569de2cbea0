r"""Scale-out over devices and hosts with JAX's own sharding and multi-process runtime.

Batched work (ensembles, parameter sweeps, simulated training sets, evaluation
batches) is laid out along its batch axis over a one-dimensional device mesh:

    mesh = make_mesh(devices)                       # Mesh(devices, ("batch",))
    out  = batch_map(f, xs, ys, devices=devices)    # == jax.vmap(f)(xs, ys), spread over devices

`batch_map` pads the batch B to a multiple of the device count D (repeating the
last example, so padded lanes hold valid inputs), places shard d of size B_pad/D
on device d, runs `shard_map(vmap(f))` (every device integrates its own slice with
its own while loops: no cross-device traffic per solver step), and drops the
padding. One device, eight or sixty-four devices on several hosts run the same
call; results equal the single-device ones up to floating-point reassociation.

Why the batch and not the oscillators of one system: diffrax's step loop is a
`while_loop` whose state would be sharded, so every step of one sharded system
needs collectives (all-gathers of θ for the coupling), which is slow at the sizes
one device holds anyway (see benchmarks/scaling.py and docs/scaling.md).

Several hosts: call `initialize()` (coordinator address, process count and id from
arguments or the environment variables KURAMOTO_JAX_COORDINATOR,
KURAMOTO_JAX_NUM_PROCESSES, KURAMOTO_JAX_PROCESS_ID) before any other JAX call;
then `jax.devices()` lists the devices of every process, `batch_map` shards over
all of them, and `gather` returns the full result on every process.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import os
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

__all__ = [
    "BATCH",
    "DeviceUsage",
    "batch_map",
    "batch_sharding",
    "gather",
    "initialize",
    "is_main_process",
    "make_mesh",
    "pad_batch",
    "process_slice",
    "replicate",
    "replicated_sharding",
    "resolve_devices",
    "shard_batch",
    "use_devices",
]

BATCH = "batch"
"""Name of the mesh axis that carries the batch."""

ENV_COORDINATOR = "KURAMOTO_JAX_COORDINATOR"
ENV_NUM_PROCESSES = "KURAMOTO_JAX_NUM_PROCESSES"
ENV_PROCESS_ID = "KURAMOTO_JAX_PROCESS_ID"


# --------------------------------------------------------------------------- devices

# The devices `batch_map` uses when called without `devices` (set for a run by `use_devices`),
# and the record of what batched work ran on inside that block.
_DEFAULT_DEVICES: contextvars.ContextVar = contextvars.ContextVar("kuramoto_jax_devices", default=None)
_USAGE: contextvars.ContextVar = contextvars.ContextVar("kuramoto_jax_device_usage", default=None)


@dataclasses.dataclass
class DeviceUsage:
    """What the batched work inside a `use_devices` block ran on.

    Attributes:
        calls: number of `batch_map` calls.
        max_devices: the most devices one call spread its batch over (0 when no call ran).
        device_ids: ids of every device that received a slice of some batch.
    """

    calls: int = 0
    max_devices: int = 0
    device_ids: set = dataclasses.field(default_factory=set)

    def record(self, mesh: Mesh) -> None:
        self.calls += 1
        self.max_devices = max(self.max_devices, int(mesh.size))
        self.device_ids.update(int(d.id) for d in mesh.devices.flat)


@contextlib.contextmanager
def use_devices(devices: Any = None):
    """Run a block with `devices` as the default of every `batch_map` call in it.

    A run sets this once (the config's `devices`), so library functions that batch
    their work call `batch_map` without a `devices` argument and still split it over
    exactly the devices the run was given. Yields a `DeviceUsage` filled in as the
    block runs.

    Args:
        devices: anything `resolve_devices` accepts.
    """
    usage = DeviceUsage()
    tokens = (_DEFAULT_DEVICES.set(resolve_devices(devices)), _USAGE.set(usage))
    try:
        yield usage
    finally:
        _USAGE.reset(tokens[1])
        _DEFAULT_DEVICES.reset(tokens[0])


def resolve_devices(devices: Any = None) -> list:
    """The devices a `devices` setting names.

    Args:
        devices: None or "all" (every device of every process, `jax.devices()`);
            an int N ≥ 1 or a digit string (the first N of `jax.devices()`); or a
            sequence of `jax.Device` (used as given, e.g. `ctx.devices`).

    Returns:
        A non-empty list of distinct devices.
    """
    if isinstance(devices, Mesh):
        return list(devices.devices.flat)
    if devices is None or (isinstance(devices, str) and devices.strip().lower() == "all"):
        return list(jax.devices())
    if isinstance(devices, str) and devices.strip().isdigit():
        devices = int(devices.strip())
    if isinstance(devices, (bool, np.bool_)):
        raise TypeError(f"`devices` must be 'all', a positive int or a list of jax devices, got {devices!r}")
    if isinstance(devices, (int, np.integer)):
        available = jax.devices()
        if not 1 <= int(devices) <= len(available):
            raise ValueError(
                f"`devices` must be between 1 and the {len(available)} available device(s), got {int(devices)}"
            )
        return list(available[: int(devices)])
    if isinstance(devices, str):
        raise ValueError(f"`devices` must be 'all', a positive int or a list of jax devices, got {devices!r}")
    if isinstance(devices, jax.Device):
        return [devices]
    if isinstance(devices, Sequence) or isinstance(devices, np.ndarray):
        devs = list(np.asarray(devices, dtype=object).flat)
        if not devs:
            raise ValueError("`devices` must name at least one device, got an empty sequence")
        bad = [d for d in devs if not isinstance(d, jax.Device)]
        if bad:
            raise TypeError(f"`devices` must contain jax devices, got {type(bad[0]).__name__} {bad[0]!r}")
        if len({(d.platform, d.id) for d in devs}) != len(devs):
            raise ValueError(f"`devices` must be distinct, got {devs}")
        return devs
    raise TypeError(f"`devices` must be 'all', a positive int or a list of jax devices, got {devices!r}")


def make_mesh(devices: Any = None, axis_name: str = BATCH) -> Mesh:
    """A one-dimensional `Mesh` named `axis_name` over `resolve_devices(devices)`."""
    if isinstance(devices, Mesh):
        if devices.axis_names != (axis_name,):
            raise ValueError(
                f"`devices` mesh must have the single axis {axis_name!r}, got axes {devices.axis_names}"
            )
        return devices
    return Mesh(np.asarray(resolve_devices(devices), dtype=object), (axis_name,))


def batch_sharding(mesh: Mesh, batch_axis: int = 0, axis_name: str = BATCH) -> NamedSharding:
    """Sharding that splits array axis `batch_axis` over the mesh and replicates the rest."""
    return NamedSharding(mesh, P(*([None] * batch_axis), axis_name))


def replicated_sharding(mesh: Mesh) -> NamedSharding:
    """Sharding that keeps a full copy on every device of the mesh (e.g. parameters)."""
    return NamedSharding(mesh, P())


# --------------------------------------------------------------------------- placement


def _batch_size(leaves, batch_axis: int) -> int:
    sizes = set()
    for x in leaves:
        shape = np.shape(x)
        if len(shape) <= batch_axis:
            raise ValueError(
                f"every batched argument needs an axis {batch_axis} (`batch_axis`), got an array of shape {shape}"
            )
        sizes.add(shape[batch_axis])
    if len(sizes) != 1:
        raise ValueError(f"batched arguments must share the batch size along axis {batch_axis}, got sizes {sorted(sizes)}")
    (b,) = sizes
    if b == 0:
        raise ValueError("the batch is empty (size 0 along `batch_axis`)")
    return b


def pad_batch(tree: Any, multiple: int, batch_axis: int = 0) -> tuple[Any, int]:
    """Pad every leaf along `batch_axis` to a multiple of `multiple` by repeating the last example.

    Repeating a real example (rather than zeros) keeps padded lanes numerically
    benign: a zero coupling matrix or zero step would be a valid but different
    problem, a zero scale could make a solver fail.

    Returns:
        (padded tree, original batch size B).
    """
    leaves = jax.tree.leaves(tree)
    if not leaves:
        raise ValueError("nothing to pad: the batched arguments contain no arrays")
    b = _batch_size(leaves, batch_axis)
    extra = (-b) % int(multiple)
    if extra == 0:
        return tree, b

    def pad(x):
        xp = jnp if isinstance(x, jax.Array) else np
        last = xp.take(x, xp.asarray([b - 1]), axis=batch_axis)
        reps = [1] * np.ndim(x)
        reps[batch_axis] = extra
        return xp.concatenate([x, xp.tile(last, reps)], axis=batch_axis)

    return jax.tree.map(pad, tree), b


def _put(x, sharding: NamedSharding):
    """Place a host or device array with `sharding`; works with several processes.

    With several processes every process must pass the same global value; each
    materialises only the shards its own devices hold.
    """
    if isinstance(x, jax.Array) and x.sharding == sharding:
        return x
    if jax.process_count() == 1:
        return jax.device_put(x, sharding)
    if isinstance(x, jax.Array) and not x.is_fully_addressable:
        return jax.device_put(x, sharding)  # already global: let JAX reshard
    if jax.dtypes.issubdtype(getattr(x, "dtype", None), jax.dtypes.prng_key):
        # Typed PRNG keys have no host representation: place their raw data
        # (one trailing axis, replicated by the same spec) and re-wrap.
        data = _put(jax.random.key_data(x), sharding)
        return jax.random.wrap_key_data(data, impl=jax.random.key_impl(x))
    host = np.asarray(x)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])


def shard_batch(tree: Any, devices: Any = None, batch_axis: int = 0) -> Any:
    """Place every leaf split along `batch_axis` over the devices (sizes must divide evenly).

    Use it for data-parallel training: a jitted step on a batch placed this way and
    parameters placed with `replicate` computes per-device gradients and averages
    them with the collectives the compiler inserts.
    """
    mesh = make_mesh(devices)
    leaves = jax.tree.leaves(tree)
    b = _batch_size(leaves, batch_axis)
    if b % mesh.size:
        raise ValueError(
            f"the batch size {b} must be a multiple of the {mesh.size} device(s); use `pad_batch` first"
        )
    sharding = batch_sharding(mesh, batch_axis)
    return jax.tree.map(lambda x: _put(x, sharding), tree)


def replicate(tree: Any, devices: Any = None) -> Any:
    """Place a full copy of every leaf on every device (parameters, shared couplings)."""
    sharding = replicated_sharding(make_mesh(devices))
    return jax.tree.map(lambda x: _put(x, sharding), tree)


# --------------------------------------------------------------------------- batch_map


# Compiled programs per function, held weakly: an entry (and the arrays its closure
# holds) goes when the caller drops the function; the program itself reaches the
# function through a weak reference so that the cache never keeps it alive.
_COMPILED: weakref.WeakKeyDictionary[Callable, dict] = weakref.WeakKeyDictionary()


def _compiled(fn: Callable, mesh: Mesh, batch_axis: int, batch_size: int | None, jit_only: bool):
    """shard_map(vmap(fn)) over the mesh, jitted once per (fn, mesh, options)."""
    options = (mesh, batch_axis, batch_size, jit_only)
    try:
        per_fn = _COMPILED.setdefault(fn, {})
    except TypeError:  # not weakly referenceable (a builtin): compiled for this call only
        return _build(lambda: fn, *options)
    if options not in per_fn:
        per_fn[options] = _build(weakref.ref(fn), *options)
    return per_fn[options]


def _build(get_fn: Callable[[], Callable], mesh: Mesh, batch_axis: int, batch_size: int | None, jit_only: bool):
    spec = P(*([None] * batch_axis), BATCH)

    def local(*args):
        # One device's slice (B_pad / D examples).
        fn = get_fn()
        if batch_axis != 0:
            args = jax.tree.map(lambda x: jnp.moveaxis(x, batch_axis, 0), args)
        if batch_size is None:
            out = jax.vmap(fn)(*args)
        else:
            # Sequential chunks of `batch_size` vmapped examples bound peak memory.
            out = jax.lax.map(lambda a: fn(*a), args, batch_size=batch_size)
        if batch_axis != 0:
            out = jax.tree.map(lambda x: jnp.moveaxis(x, 0, batch_axis), out)
        return out

    if jit_only:
        # Plain jit + sharded inputs: the compiler propagates the batch sharding.
        # Kept for comparison (benchmarks): vmapped while loops then all-reduce
        # their stopping condition across devices at every step.
        sharding = NamedSharding(mesh, spec)
        return jax.jit(local, out_shardings=sharding)
    return jax.jit(jax.shard_map(local, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False))


def batch_map(
    fn: Callable,
    *batched_args: Any,
    devices: Any = None,
    batch_axis: int = 0,
    batch_size: int | None = None,
    gather: bool = False,
    mode: str = "shard_map",
) -> Any:
    """`jax.vmap(fn)(*batched_args)`, with the batch spread over devices.

    Args:
        fn: maps one example (the leaves of `batched_args` without their batch
            axis) to a pytree of arrays. Shared values (a coupling matrix, a time
            grid) go in through a closure. Keep the same `fn` object across calls:
            the compiled program is cached per function.
        *batched_args: pytrees whose leaves all have the batch size B along
            `batch_axis` (host numpy or JAX arrays). With several processes, every
            process passes the same values.
        devices: None (the devices of the enclosing `use_devices` block, e.g. the
            run's, else every device), "all", an int N (first N devices), a list of
            devices (e.g. `ctx.devices`) or a one-axis `Mesh` named "batch".
        batch_axis: the batched axis of every input leaf and every output leaf.
        batch_size: if given, each device runs its slice in sequential chunks of
            this many vmapped examples (`lax.map`), bounding peak memory.
        gather: return host numpy arrays holding the full batch on every process
            (otherwise JAX arrays sharded along the batch axis).
        mode: "shard_map" (default: each device runs its slice independently) or
            "jit" (sharding propagation by the compiler; for comparison).

    Returns:
        The outputs of `vmap(fn)` with batch size B (padding removed), sharded over
        the devices along `batch_axis` (or gathered to numpy with `gather=True`).
    """
    if not callable(fn):
        raise TypeError(f"`fn` must be callable, got {type(fn).__name__}")
    if not batched_args:
        raise ValueError("`batch_map` needs at least one batched argument")
    if not isinstance(batch_axis, (int, np.integer)) or isinstance(batch_axis, bool) or batch_axis < 0:
        raise ValueError(f"`batch_axis` must be a non-negative int, got {batch_axis!r}")
    if batch_size is not None and (
        not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1
    ):
        raise ValueError(f"`batch_size` must be None or a positive int, got {batch_size!r}")
    if mode not in ("shard_map", "jit"):
        raise ValueError(f"`mode` must be 'shard_map' or 'jit', got {mode!r}")
    if devices is None:
        devices = _DEFAULT_DEVICES.get()
    mesh = make_mesh(devices)
    usage = _USAGE.get()
    if usage is not None:
        usage.record(mesh)
    args, b = pad_batch(tuple(batched_args), mesh.size, int(batch_axis))
    sharding = batch_sharding(mesh, int(batch_axis))
    args = jax.tree.map(lambda x: _put(x, sharding), args)
    out = _compiled(fn, mesh, int(batch_axis), None if batch_size is None else int(batch_size), mode == "jit")(*args)
    b_pad = jax.tree.leaves(args)[0].shape[batch_axis]
    if gather:
        out = _to_host(out)
        if b_pad != b:
            out = jax.tree.map(lambda x: np.take(x, np.arange(b), axis=batch_axis), out)
        return out
    if b_pad != b:
        out = jax.tree.map(lambda x: jax.lax.slice_in_dim(x, 0, b, axis=batch_axis), out)
    return out


# --------------------------------------------------------------------------- processes


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {raw!r}") from None


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    **kwargs: Any,
) -> bool:
    """Join a multi-process JAX run (`jax.distributed.initialize`), if one is configured.

    Arguments left as None are read from KURAMOTO_JAX_COORDINATOR ("host:port" of
    process 0), KURAMOTO_JAX_NUM_PROCESSES and KURAMOTO_JAX_PROCESS_ID. With
    neither arguments nor environment (or a single process), nothing happens.
    Must run before any computation touches a device. Extra keywords (e.g.
    `local_device_ids`) go to `jax.distributed.initialize`.

    Returns:
        True if this process is now part of a multi-process run.
    """
    if coordinator_address is None:
        coordinator_address = os.environ.get(ENV_COORDINATOR) or None
    if num_processes is None:
        num_processes = _env_int(ENV_NUM_PROCESSES)
    if process_id is None:
        process_id = _env_int(ENV_PROCESS_ID)
    if coordinator_address is None and num_processes is None and process_id is None:
        return False
    if num_processes is not None and (isinstance(num_processes, bool) or int(num_processes) < 1):
        raise ValueError(f"`num_processes` must be a positive int, got {num_processes!r}")
    if num_processes is not None and int(num_processes) == 1 and not coordinator_address:
        return False
    missing = [
        name
        for name, val in (
            ("coordinator_address", coordinator_address),
            ("num_processes", num_processes),
            ("process_id", process_id),
        )
        if val is None
    ]
    if missing:
        raise ValueError(
            f"a multi-process run needs coordinator_address, num_processes and process_id; missing {missing} "
            f"(pass them or set {ENV_COORDINATOR}, {ENV_NUM_PROCESSES}, {ENV_PROCESS_ID})"
        )
    if not isinstance(coordinator_address, str) or ":" not in coordinator_address:
        raise ValueError(f"`coordinator_address` must be 'host:port', got {coordinator_address!r}")
    num_processes, process_id = int(num_processes), int(process_id)
    if not 0 <= process_id < num_processes:
        raise ValueError(f"`process_id` must lie in [0, {num_processes}), got {process_id}")
    if jax.distributed.is_initialized():
        return jax.process_count() > 1
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        **kwargs,
    )
    return num_processes > 1


def is_main_process() -> bool:
    """True on process 0 (the one that writes run folders and figures)."""
    return jax.process_index() == 0


def process_slice(batch: int, process_id: int | None = None, num_processes: int | None = None) -> slice:
    """The contiguous part of a batch of `batch` items that process `process_id` owns.

    For work split by hand (each process simulates its part and writes it out):
    parts differ in size by at most one and cover [0, batch) exactly once.
    """
    p = jax.process_index() if process_id is None else int(process_id)
    n = jax.process_count() if num_processes is None else int(num_processes)
    if n < 1 or not 0 <= p < n:
        raise ValueError(f"`process_id` must lie in [0, {n}), got {p}")
    if batch < 0:
        raise ValueError(f"`batch` must be >= 0, got {batch}")
    q, r = divmod(int(batch), n)
    start = p * q + min(p, r)
    return slice(start, start + q + (1 if p < r else 0))


def gather(tree: Any) -> Any:
    """Every leaf as a host numpy array holding the full (global) value, on every process.

    A single process just copies to the host; several processes all-gather the
    shards over JAX's collectives (every process must call this).
    """
    if jax.process_count() == 1:
        return jax.tree.map(np.asarray, tree)
    from jax.experimental import multihost_utils

    def one(x):
        if isinstance(x, jax.Array) and not x.is_fully_addressable:
            return np.asarray(multihost_utils.process_allgather(x, tiled=True))
        return np.asarray(x)

    return jax.tree.map(one, tree)


_to_host = gather  # `batch_map`'s `gather` flag shadows the name inside it
