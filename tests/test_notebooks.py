"""Every notebook is stored clean and opens with the same install cell.

The notebooks are executed in tests/test_installed.py, in a fresh environment where the
package arrives only through that install cell.
"""

from __future__ import annotations

import json
import pathlib
import re

import pytest

import kuramoto_jax

nbformat = pytest.importorskip("nbformat")

NB_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_stored_clean_and_installs_itself(path):
    raw = json.loads(path.read_text())
    missing = [i for i, c in enumerate(raw["cells"]) if "id" not in c]
    assert not missing, f"{path.name}: cells {missing} have no id (nbformat 4.5 notebooks need one per cell)"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    dirty = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count") is not None]
    assert not dirty, f"{path.name}: code cells {dirty} are stored with outputs; clear them before committing"
    first = code[0].source
    # installs only when missing, this version, from the package index; never clones the repository
    assert 'if importlib.util.find_spec("kuramoto_jax") is None:' in first, path.name
    pins = re.findall(r'%pip install -q "kuramoto-jax==([^"]+)"', first)
    assert pins == [kuramoto_jax.__version__], f"{path.name}: install cell pins {pins}"
    text = "".join(c.source for c in code)
    assert "git clone" not in text and "%cd" not in text, path.name
    assert "KURAMOTO_JAX_SMOKE" in text, f"{path.name} never reads KURAMOTO_JAX_SMOKE"
