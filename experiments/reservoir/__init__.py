"""Reservoir-computing studies: prediction/transformation across K_c, read-out choices, standard benchmarks."""
