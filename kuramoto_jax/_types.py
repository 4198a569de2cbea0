"""jaxtyping aliases shared across the package (shapes in the papers' notation)."""

from jaxtyping import Array, Float, Int, PRNGKeyArray

Phases = Float[Array, "n"]
"""θ: phases of n oscillators (rad, unwrapped)."""
PhaseTrajectory = Float[Array, "t n"]
"""θ(t): phases saved at T times."""
Frequencies = Float[Array, "n"]
"""ω: natural frequencies (rad per unit time)."""
CouplingMatrix = Float[Array, "n n"]
"""K_ij: weight of sender j on receiver i (no implicit 1/N)."""
Scalar = Float[Array, ""]
EdgeIndex = Int[Array, "e"]
Key = PRNGKeyArray

__all__ = ["Phases", "PhaseTrajectory", "Frequencies", "CouplingMatrix", "Scalar", "EdgeIndex", "Key"]
