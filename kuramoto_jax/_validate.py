"""Eager input checks that run before any JAX tracing.

Every public entry point validates its arguments here so that a user sees a
`ValueError`/`TypeError` naming the argument, what was received and what was
expected, instead of a JAX shape error deep inside a trace. Value checks
(finiteness, signs) run only on concrete arrays: under `jit`/`vmap` the values
are tracers and only shapes can be checked.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def is_concrete(x: Any) -> bool:
    """True when `x` holds actual values (not a tracer inside jit/vmap/grad)."""
    return not isinstance(x, jax.core.Tracer)


def describe(x: Any) -> str:
    """Short description of a received value for error messages."""
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return f"array of shape {tuple(x.shape)} and dtype {x.dtype}"
    if isinstance(x, (list, tuple)):
        return f"{type(x).__name__} of length {len(x)}"
    return repr(x)


def one_of(name: str, value: Any, choices) -> Any:
    """`value` if it is one of `choices`; otherwise a ValueError naming `name`, the value and the choices."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {choices}, got {value!r}")
    return value


def integer(name: str, value: Any, minimum: int) -> int:
    """`value` as an int if it is an integer (not a bool) >= `minimum`; otherwise a ValueError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"`{name}` must be an int >= {minimum}, got {value!r}")
    return int(value)


def as_array(name: str, x: Any, *, dtype=None) -> jax.Array:
    """Convert to a JAX array (keeping tracers), with a clear error for junk."""
    if x is None:
        raise TypeError(f"`{name}` must be an array, got None")
    if isinstance(x, jax.Array) or isinstance(x, jax.core.Tracer):
        arr = x
    else:
        try:
            arr = jnp.asarray(x)
        except (TypeError, ValueError) as err:
            raise TypeError(f"`{name}` must be array-like, got {describe(x)}") from err
    if not jnp.issubdtype(arr.dtype, jnp.number) and arr.dtype != jnp.bool_:
        raise TypeError(f"`{name}` must be numeric, got dtype {arr.dtype}")
    if dtype is not None:
        arr = arr.astype(dtype)
    elif jnp.issubdtype(arr.dtype, jnp.integer) or arr.dtype == jnp.bool_:
        arr = arr.astype(jnp.result_type(float))
    return arr


def _on_host(x: Any) -> bool:
    """True for values whose memory the host reads without a transfer (numpy, Python, CPU arrays)."""
    if not isinstance(x, jax.Array):
        return True
    return all(d.platform == "cpu" for d in x.devices())


def check_finite(name: str, x: Any) -> None:
    """Raise a ValueError naming `name` when a concrete `x` holds NaN or ±inf (tracers pass).

    Host values are checked in place. An array on an accelerator is reduced where it lives
    and only the verdict (one boolean) comes back: a dense K on a GPU is never copied
    to the host to be validated.
    """
    if not is_concrete(x):
        return
    if _on_host(x):
        finite = np.isfinite(np.asarray(x))
        if not finite.all():
            raise ValueError(f"`{name}` must be finite, got {finite.size - np.count_nonzero(finite)} "
                             f"non-finite value(s) in {describe(x)}")
    elif not bool(jnp.isfinite(x).all()):
        bad = int(jnp.size(x) - jnp.count_nonzero(jnp.isfinite(x)))
        raise ValueError(f"`{name}` must be finite, got {bad} non-finite value(s) in {describe(x)}")


def vector(name: str, x: Any, n: int | None = None, *, allow_scalar: bool = False) -> jax.Array:
    """A finite 1-D array of length `n` (or a scalar when `allow_scalar`)."""
    arr = as_array(name, x)
    if arr.ndim == 0 and allow_scalar:
        check_finite(name, arr)
        return arr
    if arr.ndim != 1:
        want = "a scalar or " if allow_scalar else ""
        length = f"length {n}" if n is not None else "length N"
        raise ValueError(f"`{name}` must be {want}a 1-D array of {length}, got {describe(arr)}")
    if n is not None and arr.shape[0] != n:
        raise ValueError(
            f"`{name}` must have length {n} (the number of oscillators), got {describe(arr)}"
        )
    check_finite(name, arr)
    return arr


def scalar(name: str, x: Any, *, positive: bool = False, nonnegative: bool = False) -> Any:
    arr = as_array(name, x)
    if arr.ndim != 0:
        raise ValueError(f"`{name}` must be a scalar, got {describe(arr)}")
    check_finite(name, arr)
    if is_concrete(arr):
        v = float(arr)
        if positive and not v > 0:
            raise ValueError(f"`{name}` must be > 0, got {v}")
        if nonnegative and not v >= 0:
            raise ValueError(f"`{name}` must be >= 0, got {v}")
    return arr


def prng_key(name: str, key: Any) -> jax.Array:
    """A typed PRNG key from `key`: a typed key (`jax.random.key`) or a legacy uint32 key of
    shape (2,) (`jax.random.PRNGKey`), which is wrapped; a TypeError naming `name` otherwise."""
    if isinstance(key, jax.Array) and jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    dtype = getattr(key, "dtype", None)
    if dtype is not None and np.shape(key) == (2,) and np.dtype(dtype) == np.uint32:
        return jax.random.wrap_key_data(jnp.asarray(key))
    raise TypeError(f"`{name}` must be a PRNG key (jax.random.key(seed) or jax.random.PRNGKey(seed)), "
                    f"got {describe(key)}")
