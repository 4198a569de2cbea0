"""Dynamics-analysis studies built on `kuramoto_jax.stability`.

budget: the coupling allocation that minimises the finite-N locking threshold under a
fixed budget, by gradient descent through the saddle-node condition, against the
proportional schemes of `kuramoto_jax.schemes`.
"""
