r"""Phase-locked states as roots: the unknowns, the residual and the coupling scale.

A phase-locked state of the first-order model is θ_i(t) = φ_i + Ω t, a fixed
point φ of the dynamics in the frame rotating with the common frequency Ω:

    G(φ, Ω) = f(φ) − Ω 1 = 0,      f(φ)_i = ω_i + Σ_j K_ij sin(φ_j − φ_i − α) + b_i sin φ_i.

Without a field the equations are invariant under φ ↦ φ + c, so oscillator 0 is
pinned at φ_0 = 0 and the unknowns are x = (φ_1, …, φ_{N−1}, Ω) (N of them, N
equations). A field b_i sin φ_i breaks that symmetry: then Ω = 0 and x = φ.

Every analysis in `kuramoto_jax.stability` scales the coupling by a factor κ,

    f_κ(φ) = f(φ) + (κ − 1) Σ_j K_ij sin(φ_j − φ_i − α),

which is the model's own drift with K → κK (all three coupling representations:
the coupling term is linear in K).
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import optimistix as optx

from .._coupling import Scaled
from .._model import Kuramoto


def scaled(model: Kuramoto, kappa) -> Kuramoto:
    """The same model with coupling κK (a `Scaled` coupling; no validation, traceable)."""
    return eqx.tree_at(lambda m: m.coupling, model, Scaled(jnp.asarray(kappa), model.coupling))


def check_model(name: str, model) -> Kuramoto:
    """A first-order, deterministic, undelayed, undriven `Kuramoto` model, or a clear error."""
    if not isinstance(model, Kuramoto):
        raise TypeError(f"`{name}` must be a kuramoto_jax.Kuramoto, got {type(model).__name__}")
    for attr, what in (("mass", "second-order (mass=)"), ("noise", "noisy (noise=)"),
                       ("drive", "driven (drive=)"), ("delays", "delayed (delays=)")):
        if getattr(model, attr) is not None:
            raise ValueError(
                f"`{name}` is {what}: locked states here are defined for the deterministic first-order "
                f"model without delays or drive; expected {attr}=None"
            )
    return model


def rotating(model: Kuramoto) -> bool:
    """True when the model is invariant under a common phase shift (no field): Ω is an unknown."""
    return model.field is None


def drift(model: Kuramoto, theta, kappa=1.0):
    """f_κ(θ), shape (N,): the model's drift with the coupling scaled by κ."""
    # Through a Scaled coupling: one coupling evaluation (K read once), not the drift plus a
    # second (κ − 1) coupling term.
    return scaled(model, kappa).drift(0.0, theta)


def unpack(model: Kuramoto, x):
    """x ↦ (θ (N,), Ω): insert the pinned θ_0 = 0 (rotating case) or Ω = 0 (with a field)."""
    if rotating(model):
        return jnp.concatenate([jnp.zeros((1,), x.dtype), x[:-1]]), x[-1]
    return x, jnp.zeros((), x.dtype)


def pack(model: Kuramoto, theta, frequency):
    """(θ (N,), Ω) ↦ x, the unknowns (shifting θ so that θ_0 = 0 in the rotating case)."""
    if rotating(model):
        return jnp.concatenate([theta[1:] - theta[0], jnp.reshape(frequency, (1,))])
    return theta


def residual(model: Kuramoto, x, kappa=1.0):
    """G(x) = f_κ(θ) − Ω 1, shape (N,)."""
    theta, frequency = unpack(model, x)
    return drift(model, theta, kappa) - frequency


def jacobian(model: Kuramoto, theta, kappa=1.0):
    """∂f_κ/∂θ at θ, shape (N, N), in closed form:

        J = κ (C − diag(Σ_k C_ik)) + diag(b cos θ),      C_ik = K_ik cos(θ_k − θ_i − α),

    with K the coupling as a dense matrix (mean field, dense or sparse). For symmetric K
    without lag this is minus a weighted graph Laplacian plus the field's diagonal;
    without a field its rows sum to zero (the zero mode 1). O(N²) work, where forward-mode
    differentiation of the drift costs N coupling evaluations (an N × N × N product for
    dense K); the test suite checks the two agree.
    """
    K = model.coupling.to_dense(model.n)
    delta = theta[None, :] - theta[:, None]
    if model.lag is not None:
        delta = delta - jnp.reshape(model.lag, (-1, 1))
    C = K * jnp.cos(delta)
    J = kappa * (C - jnp.diag(jnp.sum(C, axis=1)))
    if model.field is not None:
        J = J + jnp.diag(model.field * jnp.cos(theta))
    return J


def residual_jacobian(model: Kuramoto, x, kappa=1.0):
    """D_x G, shape (N, N), in closed form: the columns of `jacobian` for the free phases and −1 for
    Ω (rotating case; θ_0 is pinned), or `jacobian` itself with a field."""
    theta, _ = unpack(model, x)
    J = jacobian(model, theta, kappa)
    if rotating(model):
        return jnp.concatenate([J[:, 1:], -jnp.ones((model.n, 1), J.dtype)], axis=1)
    return J


def branch_slope(model: Kuramoto, x, kappa):
    """dx/dκ along a branch of locked states: −(D_x G)⁻¹ ∂_κ G, shape (N,) (∂_κ G is the coupling term)."""
    theta, _ = unpack(model, x)
    return -jnp.linalg.solve(residual_jacobian(model, x, kappa), model.coupling_term(theta))


def tolerances(dtype):
    eps = float(jnp.finfo(dtype).eps)
    # Newton converges quadratically: a tolerance near eps^0.75 leaves the root accurate to ~eps.
    return eps**0.75, eps**0.75


def default_tol_residual(dtype) -> float:
    return 1e-9 if dtype == jnp.float64 else 1e-4


def newton(fn, x0, args, *, max_steps: int = 50, chord: bool = False):
    """optimistix Newton on fn(x, args) = 0 from x0 with the implicit adjoint; never throws.

    chord=True uses Newton–chord instead (the Jacobian at x0 factorised once and reused: the
    classical continuation corrector, cheap from a close predictor, linear convergence).
    Returns (x, converged-by-optimistix). Derivatives of x with respect to `args`
    come from the implicit function theorem.
    """
    rtol, atol = tolerances(x0.dtype)
    solver = optx.Chord(rtol=rtol, atol=atol) if chord else optx.Newton(rtol=rtol, atol=atol)
    sol = optx.root_find(fn, solver, x0, args, max_steps=max_steps, throw=False, adjoint=optx.ImplicitAdjoint())
    return sol.value, sol.result == optx.RESULTS.successful


def dtype_of(model: Kuramoto):
    return jnp.result_type(model.omega.dtype, float)
