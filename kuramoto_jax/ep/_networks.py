"""Network architectures, input encodings and spectral seeding for oscillator classifiers.

A `Network` holds a symmetric coupling matrix K (N, N) (K_ij = 0: no edge), the
natural frequencies ω (N,), and static index tuples for the input, hidden and
output oscillators. Inputs are encoded as natural frequencies ω_in = s·x (the
frequency encoding of the equilibrium-propagation paper; the first input is the
pinned reference oscillator, θ = 0) or as clamped phases θ_in = s·x (Wang et al.;
see `kuramoto_jax.ep.ep_batch`).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Network(NamedTuple):
    """A small EP network: couplings K (N, N), frequencies ω (N,), and the input, hidden and output indices."""

    K: jax.Array  # (N, N) symmetric couplings
    omega: jax.Array  # (N,) natural frequencies (inputs overwritten per sample)
    inputs: tuple  # input oscillator indices (the first one is pinned)
    hidden: tuple
    outputs: tuple

    @property
    def n(self) -> int:
        return self.omega.shape[-1]

    @property
    def learnable(self) -> tuple:
        """Indices whose ω is a parameter (everything but the inputs)."""
        return tuple(i for i in range(self.n) if i not in self.inputs)


def _sym(K):
    K = jnp.triu(K, 1)
    return K + K.T


def _check_sizes(**sizes):
    for name, val in sizes.items():
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < 1:
            raise ValueError(f"`{name}` must be a positive int, got {val!r}")


def layered(
    key,
    n_in: int = 2,
    n_hidden: int = 5,
    n_out: int = 2,
    *,
    k_scale: float = 2.0,
    k_range=(0.5, 1.5),
    chain_range=(0.5, 1.0),
    omega_spread: float = 0.3,
) -> Network:
    """Layered net: inputs → hidden (all-to-all), hidden → outputs (all-to-all), hidden chain.

    Weights: input–hidden and hidden–output K = k_scale·U(k_range); hidden chain
    h_k–h_{k+1}: K = k_scale·U(chain_range); ω of hidden and outputs ~ U(−spread, spread).
    The paper's net is 2+5+2 with k_scale = 2.
    """
    _check_sizes(n_in=n_in, n_hidden=n_hidden, n_out=n_out)
    n = n_in + n_hidden + n_out
    inp = np.arange(n_in)
    hid = np.arange(n_in, n_in + n_hidden)
    out = np.arange(n_in + n_hidden, n)
    k1, k2, k3 = jax.random.split(key, 3)
    A = np.zeros((n, n))
    A[np.ix_(inp, hid)] = 1.0
    A[np.ix_(hid, out)] = 1.0
    C = np.zeros((n, n))
    C[hid[:-1], hid[1:]] = 1.0
    U = jax.random.uniform(k1, (n, n), minval=k_range[0], maxval=k_range[1])
    V = jax.random.uniform(k2, (n, n), minval=chain_range[0], maxval=chain_range[1])
    K = _sym(k_scale * (A * U + C * V))
    omega = jax.random.uniform(k3, (n,), minval=-omega_spread, maxval=omega_spread)
    omega = omega.at[inp].set(0.0)
    return Network(K, omega, tuple(inp.tolist()), tuple(hid.tolist()), tuple(out.tolist()))


def signed_layered(
    key, n_in: int, n_hidden: int, n_out: int, *, k_in: float = 1.0, k_out: float = 1.0
) -> Network:
    """Layered net with signed couplings: inputs → hidden and hidden → outputs, both all-to-all.

    K_ih ~ N(0, k_in²/n_in), K_ho ~ N(0, k_out²/n_hidden) (a fan-in scaling: every
    hidden oscillator feels a net coupling of order k_in whatever the number of
    inputs); no hidden chain, no input–input or output–output edges, ω = 0. A
    negative K_ij favours anti-phase, so a hidden oscillator locked to clamped
    inputs sits near arg Σ_j K_ij e^{iθ_j}: a phase readout of a signed linear
    mix, the network's non-linearity.
    """
    _check_sizes(n_in=n_in, n_hidden=n_hidden, n_out=n_out)
    n = n_in + n_hidden + n_out
    inp = np.arange(n_in)
    hid = np.arange(n_in, n_in + n_hidden)
    out = np.arange(n_in + n_hidden, n)
    k1, k2 = jax.random.split(key)
    K = jnp.zeros((n, n))
    K = K.at[np.ix_(inp, hid)].set(k_in / np.sqrt(n_in) * jax.random.normal(k1, (n_in, n_hidden)))
    K = K.at[np.ix_(hid, out)].set(k_out / np.sqrt(n_hidden) * jax.random.normal(k2, (n_hidden, n_out)))
    return Network(_sym(K), jnp.zeros((n,)), tuple(inp.tolist()), tuple(hid.tolist()), tuple(out.tolist()))


def encode_phases(x, scale: float = 1.0):
    """Clamped-phase encoding (Wang et al.): θ_in = scale·x, shape of x."""
    return scale * jnp.asarray(x)


def all_to_all(key, n: int, n_in: int = 2, n_out: int = 2, *, k_mean: float = 2.0, omega_spread: float = 0.3) -> Network:
    """All-to-all net: K_ij = k_mean·U(0.5, 1.5) for every pair; inputs first, outputs last."""
    _check_sizes(n=n, n_in=n_in, n_out=n_out)
    return random_graph(key, n, 1.0, n_in, n_out, k_mean=k_mean, omega_spread=omega_spread)


def random_graph(
    key, n: int, p: float, n_in: int = 0, n_out: int = 2, *, k_mean: float = 5.0, omega_spread: float = 0.3
) -> Network:
    """Erdős–Rényi graph G(n, p) with K_ij = k_mean·U(0.5, 1.5) on edges; ω ~ spread·N(0, 1), centred.

    A ring i–(i+1) is always added so the graph is connected (needed for phase locking).
    """
    _check_sizes(n=n, n_out=n_out)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"`p` must be in [0, 1], got {p!r}")
    k1, k2, k3 = jax.random.split(key, 3)
    A = (jax.random.uniform(k1, (n, n)) < p).astype(float)
    ring = np.zeros((n, n))
    ring[np.arange(n - 1), np.arange(1, n)] = 1.0
    A = jnp.maximum(A, ring)
    K = _sym(k_mean * A * jax.random.uniform(k2, (n, n), minval=0.5, maxval=1.5))
    omega = omega_spread * jax.random.normal(k3, (n,))
    omega = omega - jnp.mean(omega)
    inp = tuple(range(n_in))
    out = tuple(range(n - n_out, n))
    hid = tuple(i for i in range(n) if i not in inp and i not in out)
    return Network(K, omega, inp, hid, out)


def encode_frequencies(omega, x, inputs, scale: float = 1.5):
    """Frequency encoding: ω_in = scale·x at the input oscillators, shape (N,)."""
    return omega.at[jnp.asarray(inputs)].set(scale * x)


def laplacian(K):
    """Graph Laplacian L = diag(K 1) − K, shape (N, N)."""
    return jnp.diag(jnp.sum(K, axis=-1)) - K


def spectral_seed(K, inputs, outputs, *, pinned: int = 0, scale: float = 0.3):
    """Spectral seeding of ω: α·L̃⁻¹(e_out1 − e_out2), inputs zeroed, max |ω| = scale.

    L̃ is the graph Laplacian of K with the pinned row/column removed. Expanding
    L̃⁻¹ in eigenmodes, each mode v_i is weighted by its output separation
    [v_i]_{o1} − [v_i]_{o2} over its eigenvalue λ_i. At θ = 0 the Jacobian is −L,
    so this ω pushes the two outputs apart along the direction the network
    amplifies most. Returns (N,) ω.
    """
    outputs = tuple(int(o) for o in outputs)
    if len(outputs) != 2:
        raise ValueError(f"spectral seeding needs exactly 2 outputs, got {len(outputs)}")
    if pinned in outputs:
        raise ValueError(f"the pinned oscillator {pinned} cannot be an output for spectral seeding")
    n = K.shape[-1]
    L = laplacian(K)
    keep = np.array([i for i in range(n) if i != pinned])
    Lr = L[np.ix_(keep, keep)]
    e = jnp.zeros((n,)).at[outputs[0]].set(1.0).at[outputs[1]].set(-1.0)
    w = jnp.zeros((n,)).at[keep].set(jnp.linalg.solve(Lr, e[keep]))
    w = w.at[jnp.asarray(inputs, dtype=int)].set(0.0) if len(inputs) else w
    return scale * w / jnp.max(jnp.abs(w))
