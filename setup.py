"""Package layout (the rest of the metadata is in pyproject.toml).

The studies (`experiments/`) and their configs (`configs/`) stay at the top of the
repository, and install inside the package's own namespace: `kuramoto_jax.experiments`
and `kuramoto_jax.configs`. No top-level module but `kuramoto_jax` is installed; an
editable install maps the same names onto the repository's folders.
"""

from setuptools import find_packages, setup

LIBRARY = find_packages(include=["kuramoto_jax", "kuramoto_jax.*"])
STUDIES = ["kuramoto_jax.experiments"] + [
    f"kuramoto_jax.experiments.{name}" for name in find_packages("experiments")
]

setup(
    packages=[*LIBRARY, *STUDIES, "kuramoto_jax.configs"],
    package_dir={
        "kuramoto_jax": "kuramoto_jax",
        "kuramoto_jax.experiments": "experiments",
        "kuramoto_jax.configs": "configs",
    },
    package_data={
        "kuramoto_jax": ["py.typed"],
        "kuramoto_jax.configs": ["*.yaml", "**/*.yaml"],
    },
)
