import os

# Numerics are checked in float64; fast paths are exercised in float32 explicitly.
import jax

jax.config.update("jax_enable_x64", True)
os.environ.setdefault("KURAMOTO_JAX_SMOKE", "1")
