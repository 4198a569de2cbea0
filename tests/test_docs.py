"""The documentation site: it builds with `mkdocs build --strict`, and every public name is documented."""

from __future__ import annotations

import importlib
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
griffe = pytest.importorskip("griffe")
pytest.importorskip("mkdocs")

PUBLIC_MODULES = ["kuramoto_jax", "kuramoto_jax.theory", "kuramoto_jax.stability", "kuramoto_jax.schemes",
                  "kuramoto_jax.proportional",
                  "kuramoto_jax.parallel",
                  "kuramoto_jax.run", "kuramoto_jax.kuranet", "kuramoto_jax.ep", "kuramoto_jax.npe",
                  "kuramoto_jax.reservoir"]


def _public_names(module_name):
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_") and callable(v)
                 and getattr(v, "__module__", None) == module_name]
    return [n for n in names if not isinstance(getattr(module, n), type(sys))]  # submodules have own pages


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_every_public_name_has_a_docstring(module_name):
    package = griffe.load("kuramoto_jax", search_paths=[str(ROOT)], resolve_aliases=True,
                          docstring_parser="google")
    module = package if module_name == "kuramoto_jax" else package[module_name.removeprefix("kuramoto_jax.")]
    missing = []
    for name in _public_names(module_name):
        obj = module[name]
        if obj.docstring is None or not obj.docstring.value.strip():
            missing.append(name)
    assert not missing, f"{module_name}: public names without a docstring: {missing}"


def test_every_public_module_has_an_api_page():
    pages = "\n".join(p.read_text() for p in (ROOT / "docs" / "api").glob("*.md"))
    for module_name in PUBLIC_MODULES[1:]:
        assert f"::: {module_name}" in pages, module_name
    for name in _public_names("kuramoto_jax"):
        assert f"::: kuramoto_jax.{name}\n" in pages, f"kuramoto_jax.{name} has no entry in docs/api/core.md"


def test_site_builds_strict(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert 'id="kuramoto_jax.simulate"' in (site / "api" / "core" / "index.html").read_text()
    configs = (site / "configs" / "index.html").read_text()
    assert "kuranet.global_sync" in configs and "ref_burn_in_steps" in configs  # generated from the code
    assert (site / "notebooks" / "tour" / "index.html").is_file()
    assert (site / "results" / "kuranet" / "index.html").is_file()
    assert not (site / "hooks").exists()
