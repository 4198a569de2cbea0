import os
import pathlib

# Numerics are checked in float64; fast paths are exercised in float32 explicitly.
import jax

jax.config.update("jax_enable_x64", True)
os.environ.setdefault("KURAMOTO_JAX_SMOKE", "1")

# The vowel data is never shipped: the EP vowel tests read it from $KURAMOTO_JAX_DATA, which
# defaults here to a data folder beside the checkout when one is there (else they skip).
_VOWELS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "hillenbrand_vowels.csv"
if _VOWELS.is_file():
    os.environ.setdefault("KURAMOTO_JAX_DATA", str(_VOWELS))
