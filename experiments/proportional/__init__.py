"""Coupling schemes under a fixed budget: the proportional-coupling studies.

One module per analysis, each driven by configs/proportional/<name>.yaml:
transition (R̄ vs K/K_c for p = 0, 1 and the histogram at the transition),
hysteresis (adiabatic ramps, loop area vs p), size (transition point vs N),
pmap (the (p, K) map, best p, p*), sparse (pruned proportional coupling) and
correlation (partially correlated couplings). The protocol is the library's
(`kuramoto_jax.proportional`); this package only formats numbers for metric names.
"""

import math


def fmt(x: float) -> str:
    """Two decimals, or 'none' for NaN (a K/K_c that was never reached)."""
    return "none" if not math.isfinite(x) else f"{x:.2f}"


def tag(x: float) -> str:
    """Metric-name friendly number: 1.5 -> '1p5', 2.0 -> '2'."""
    return f"{x:g}".replace(".", "p").replace("-", "m")
