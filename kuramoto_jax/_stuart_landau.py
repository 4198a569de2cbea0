r"""Stuart–Landau oscillators: complex amplitudes with diffusive coupling.

    ż_i = (λ_i + i ω_i − |z_i|²) z_i + Σ_j K_ij (z_j − z_i)

(the normal form of a supercritical Hopf bifurcation; Aronson, Ermentrout & Kopell,
Physica D 41, 403 (1990)). The coupling uses the same `aggregate` as the Kuramoto model:
Σ_j K_ij z_j = C_i + i S_i with (C, S) = aggregate(Re z, Im z) — the aggregate is linear in
its two inputs — and Σ_j K_ij z_i = d_i z_i with the in-strength d_i = aggregate(1, 0)_i. So
`MeanField`, `Dense`, `Sparse` and `Multiplex` keep their O(N), one-read and O(E) costs.

A single oscillator relaxes onto the limit cycle |z| = sqrt(λ); for λ ≫ K the phases θ_i =
arg z_i follow the Kuramoto model θ̇_i = ω_i + Σ_j K_ij sin(θ_j − θ_i) (phase reduction).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import _validate as v
from ._coupling import AbstractCoupling
from ._protocol import AbstractModel


class StuartLandau(AbstractModel):
    """N Stuart–Landau oscillators with diffusive coupling; `simulate` takes z0 (N,) complex.

    Args:
        omega: ω_i, frequencies, shape (N,).
        coupling: `MeanField`, `Dense`, `Sparse` or `Multiplex` (K_ij in Σ_j K_ij (z_j − z_i)).
        lam: λ_i, the growth rate (squared limit-cycle radius), scalar or (N,); default 1.

    The solver state is the real (2, N) array [Re z, Im z]; `ModelSolution.state` holds the
    complex amplitudes z, shape (T, N), and `observe` receives z (N,).
    """

    omega: jax.Array
    coupling: AbstractCoupling
    lam: jax.Array

    def __init__(self, omega, coupling: AbstractCoupling, *, lam=1.0):
        omega = v.vector("omega", omega)
        n = omega.shape[0]
        if not isinstance(coupling, AbstractCoupling):
            raise TypeError(
                f"`coupling` must be kuramoto_jax.MeanField, Dense, Sparse or Multiplex, got {type(coupling).__name__}"
            )
        if coupling.size is not None and coupling.size != n:
            raise ValueError(f"`coupling` is for {coupling.size} oscillators but `omega` has length {n}")
        self.omega, self.coupling = omega, coupling
        self.lam = v.vector("lam", lam, n, allow_scalar=True)

    @property
    def n(self) -> int:
        """Number of oscillators N."""
        return self.omega.shape[0]

    def initial_state(self, z0):
        z0 = jnp.asarray(z0) if not isinstance(z0, (jax.Array, jax.core.Tracer)) else z0
        if not jnp.issubdtype(z0.dtype, jnp.number):
            raise TypeError(f"`z0` must be a numeric (complex or real) array, got dtype {z0.dtype}")
        if z0.shape != (self.n,):
            raise ValueError(f"`z0` must have shape ({self.n},) (one amplitude per oscillator), got {v.describe(z0)}")
        x = v.vector("z0 (real part)", jnp.real(z0), self.n)
        y = v.vector("z0 (imaginary part)", jnp.imag(z0), self.n)
        dtype = jnp.result_type(x.dtype, self.omega.dtype)
        return jnp.stack([x, y]).astype(dtype)

    def vector_field(self, t, y, args=None):
        x, yy = y[0], y[1]
        C, S = self.coupling.aggregate(x, yy)
        d = self.coupling.aggregate(jnp.ones_like(x), jnp.zeros_like(x))[0]
        g = self.lam - (x * x + yy * yy) - d
        dx = g * x - self.omega * yy + C
        dy = g * yy + self.omega * x + S
        return jnp.stack([dx, dy])

    def save(self, y):
        return jax.lax.complex(y[0], y[1])


def amplitudes(z):
    """|z_i|, the oscillators' amplitudes; z (..., N) complex, returns (..., N)."""
    return jnp.abs(z)


def mean_amplitude(z, axis: int = -1):
    """⟨|z_j|⟩ over `axis` (zero at amplitude death); z (..., N) returns (...)."""
    return jnp.mean(jnp.abs(z), axis)


def mean_field_amplitude(z, axis: int = -1):
    """|Z| with Z = (1/N) Σ_j z_j, the amplitude of the macroscopic mean field; (..., N) → (...)."""
    return jnp.abs(jnp.mean(z, axis))
