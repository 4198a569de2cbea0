import os
import pathlib

import jax
import pytest

# The suite runs in float32, as users run the toolkit. A test that needs float64 (finite
# differences, tight agreement with scipy) asks for it: the `x64` fixture for one test, or
# the `x64` mark (`pytestmark = pytest.mark.x64` for a module), which also covers the
# module's shared fixtures, set up while the mark holds.
os.environ.setdefault("KURAMOTO_JAX_SMOKE", "1")


def pytest_configure(config):
    config.addinivalue_line("markers", "x64: run the test (and the fixtures it sets up) in float64")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    jax.config.update("jax_enable_x64", item.get_closest_marker("x64") is not None)
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    try:
        return (yield)
    finally:
        jax.config.update("jax_enable_x64", False)


@pytest.fixture
def x64():
    """Run the test with float64 enabled, restored afterwards."""
    from kuramoto_jax._precision import x64 as float64

    with float64(True):
        yield

# The vowel data is never shipped: the EP vowel tests read it from $KURAMOTO_JAX_DATA, which
# defaults here to a data folder beside the checkout when one is there (else they skip).
_VOWELS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "hillenbrand_vowels.csv"
if _VOWELS.is_file():
    os.environ.setdefault("KURAMOTO_JAX_DATA", str(_VOWELS))
