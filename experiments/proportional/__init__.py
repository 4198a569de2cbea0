"""Coupling schemes under a fixed budget: the proportional-coupling studies.

One module per analysis, each driven by configs/proportional/<name>.yaml:
transition (R̄ vs K/K_c for p = 0, 1 and the histogram at the transition),
hysteresis (adiabatic ramps, loop area vs p), size (transition point vs N),
pmap (the (p, K) map, best p, p*), sparse (pruned proportional coupling) and
correlation (partially correlated couplings). The shared protocol is in `common`.
"""
