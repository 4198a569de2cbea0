"""Finite-difference gradient check shared by the test modules."""

import jax
import jax.numpy as jnp
import numpy as np


def fd_check(f, x, eps=1e-6, rtol=1e-6, atol=1e-9):
    """jax.grad(f) against central finite differences; f is jitted once for all perturbations."""
    f = jax.jit(f)
    g = np.asarray(jax.grad(f)(x))
    x = np.asarray(x, dtype=float)
    fd = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = eps
        fd[idx] = (f(jnp.asarray(x + e)) - f(jnp.asarray(x - e))) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=rtol, atol=atol)
