"""The EP network: one equinox module holding the trainable parameters and the static layout.

A `Network` holds the natural frequencies ω (N,), the symmetric couplings K (N, N)
(K_ij = 0: no edge) and the fields b (N,) of the terms b_i sin θ_i, plus static index
tuples for the input, hidden and output oscillators and how a sample x (D,) enters:

  "frequency"  (the equilibrium-propagation paper) ω_in = s·x, ω centred, the first
               input pinned at θ = 0; no field.
  "phase"      (Wang et al.) the inputs are clamped at θ_in = s·x and leave the
               unknowns; ω is used as is (the clamped phases fix the frame) and the
               field b acts as a bias.

Classes are read from the outputs: class c has target y_c = `target_on` at output c
and `target_off` at the others; the prediction is the nearest target pattern in
angular distance (`readout`). Being an equinox module, a `Network` goes straight
through `jax.vmap` (a stack of networks with a leading axis is an ensemble), `jit`,
the optax updates of `kuramoto_jax.run.train` and the checkpoint serialiser.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import one_of
from ._equilibrium import Equilibrium, local_field_sweeps, solve
from ._readout import readout

ENCODINGS = ("phase", "frequency")
"""Input encodings of a `Network`: clamped input phases, or input frequencies ω_in."""


class Network(eqx.Module):
    """A Kuramoto network classifier: ω (N,), symmetric K (N, N), fields b (N,) and its static layout.

    Attributes:
        omega: (N,) natural frequencies ω (the inputs' entries are overwritten per sample
            with the frequency encoding).
        K: (N, N) symmetric couplings, zero off the edges.
        field: (N,) b_i of b_i sin θ_i (phase encoding; zeros otherwise).
        inputs: static input indices (the first is pinned with the frequency encoding).
        hidden: static hidden indices.
        outputs: static output indices, one per class.
        encoding: "frequency" or "phase".
        input_scale: s in ω_in = s·x or θ_in = s·x.
        target_on: target phase of the correct class's output.
        target_off: target phase of the other outputs.
        sweeps: local-field warm-start sweeps before Newton (0: Newton from θ = 0).
        newton_steps: Newton iterations at most per equilibrium.
        tol_residual: accepted max |F̃| (None: 1e-8 in float64, 1e-4 in float32).
    """

    omega: jax.Array
    K: jax.Array
    field: jax.Array
    inputs: tuple = eqx.field(static=True)
    hidden: tuple = eqx.field(static=True)
    outputs: tuple = eqx.field(static=True)
    encoding: str = eqx.field(static=True, default="frequency")
    input_scale: float = eqx.field(static=True, default=1.0)
    target_on: float = eqx.field(static=True, default=-0.2)
    target_off: float = eqx.field(static=True, default=0.2)
    sweeps: int = eqx.field(static=True, default=0)
    newton_steps: int = eqx.field(static=True, default=30)
    tol_residual: float | None = eqx.field(static=True, default=None)

    def __check_init__(self):
        one_of("encoding", self.encoding, ENCODINGS)
        if self.encoding == "frequency" and not self.inputs and self.sweeps:
            raise ValueError("`sweeps` needs inputs with the frequency encoding")

    @property
    def n(self) -> int:
        """Number of oscillators N."""
        return self.omega.shape[-1]

    @property
    def learnable(self) -> tuple:
        """Indices whose ω is a parameter (everything but the inputs)."""
        return tuple(i for i in range(self.n) if i not in self.inputs)

    @property
    def pinned(self) -> int:
        """The oscillator held at θ = 0 with the frequency encoding (the first input, else 0)."""
        return int(self.inputs[0]) if self.inputs else 0

    @property
    def groups(self) -> tuple:
        """Oscillator groups updated together by the local-field warm start (the layers)."""
        if self.encoding == "phase":
            return (self.hidden, self.outputs)
        return (self.inputs[1:], self.hidden, self.outputs)

    @property
    def targets(self) -> jax.Array:
        """(C, C) target phases: row c has `target_on` at output c and `target_off` elsewhere."""
        c = len(self.outputs)
        return jnp.where(jnp.eye(c, dtype=bool), self.target_on, self.target_off).astype(self.omega.dtype)

    def system(self, x):
        """(ω, θ0, field, pinned, clamped) of the equilibrium problem of one sample x (D,)."""
        n, dtype = self.n, self.omega.dtype
        inp = np.asarray(self.inputs, dtype=int)
        x = jnp.asarray(x, dtype)
        if self.encoding == "phase":
            theta0 = jnp.zeros((n,), dtype).at[inp].set(self.input_scale * x)
            om, field, clamped = self.omega, self.field, tuple(self.inputs)
        else:
            om = self.omega.at[inp].set(self.input_scale * x) if inp.size else self.omega
            om = om - jnp.mean(om)
            theta0, field, clamped = jnp.zeros((n,), dtype), None, None
        if self.sweeps:
            theta0 = local_field_sweeps(self.K, om, theta0, self.groups, field=field, sweeps=self.sweeps)
        return om, theta0, field, self.pinned, clamped

    def solve(self, x, theta0=None, *, beta=0.0, target=None, output_mask=None) -> Equilibrium:
        """Free (β = 0) or nudged equilibrium of one sample x (D,), from `theta0` or the network's start."""
        om, start, field, pinned, clamped = self.system(x)
        if theta0 is None:
            theta0 = start
        return solve(self.K, om, theta0, pinned=pinned, beta=beta, target=target, output_mask=output_mask,
                     field=field, clamped=clamped, max_steps=self.newton_steps, tol_residual=self.tol_residual)

    def classify(self, theta) -> jax.Array:
        """Class of the phases θ (…, N): the nearest target pattern of the outputs (`readout`)."""
        return readout(theta[..., np.asarray(self.outputs, dtype=int)], self.targets)

    def predict(self, x) -> jax.Array:
        """Class labels (B,) of inputs x (B, D); −1 where the free equilibrium failed (see `ep.predict`)."""
        from ._training import predict

        return predict(self, x)


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
    The paper's net is 2+5+2 with k_scale = 2; the returned `Network` carries the paper's
    vowel protocol: frequency encoding ω_in = 1.5·x, targets ∓0.2, at most 20 Newton steps,
    residual tolerance 0.01 (change them with `dataclasses.replace`).
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
    return Network(omega, K, jnp.zeros_like(omega), tuple(inp.tolist()), tuple(hid.tolist()), tuple(out.tolist()),
                   "frequency", 1.5, -0.2, 0.2, newton_steps=20, tol_residual=0.01)


def signed_layered(
    key, n_in: int, n_hidden: int, n_out: int, *, k_in: float = 1.0, k_out: float = 1.0
) -> Network:
    """Layered net with signed couplings: inputs → hidden and hidden → outputs, both all-to-all.

    K_ih ~ N(0, k_in²/n_in), K_ho ~ N(0, k_out²/n_hidden) (a fan-in scaling: every
    hidden oscillator feels a net coupling of order k_in whatever the number of
    inputs); no hidden chain, no input–input or output–output edges, ω = 0. A
    negative K_ij favours anti-phase, so a hidden oscillator locked to clamped
    inputs sits near arg Σ_j K_ij e^{iθ_j}: a phase readout of a signed linear
    mix, the network's non-linearity. The returned `Network` uses the clamped-phase
    encoding θ_in = x and targets 0 (correct output) and π/2 (the others).
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
    return Network(jnp.zeros((n,)), _sym(K), jnp.zeros((n,)), tuple(inp.tolist()), tuple(hid.tolist()),
                   tuple(out.tolist()), "phase", 1.0, 0.0, float(np.pi / 2))


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
    return Network(omega, K, jnp.zeros_like(omega), inp, hid, out)


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
