"""Every notebook in notebooks/ runs top to bottom with tiny settings (KURAMOTO_JAX_SMOKE=1).

Notebooks are collected by file name, so a new notebook is tested without editing this file.
Each runs in a fresh python3 kernel with notebooks/ as its working directory; the per-cell
timeout (seconds) is KURAMOTO_JAX_NOTEBOOK_TIMEOUT (default 300) and the whole notebook must
finish within KURAMOTO_JAX_NOTEBOOK_BUDGET seconds (default 600).
"""

from __future__ import annotations

import os
import pathlib
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NB_DIR = pathlib.Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NB_DIR.glob("*.ipynb"))
CELL_TIMEOUT = int(os.environ.get("KURAMOTO_JAX_NOTEBOOK_TIMEOUT", "300"))
BUDGET = float(os.environ.get("KURAMOTO_JAX_NOTEBOOK_BUDGET", "600"))


def _ids(paths):
    return [p.name for p in paths]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_stored_clean_with_a_colab_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{path.name} has no code cells"
    dirty = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count") is not None]
    assert not dirty, f"{path.name}: code cells {dirty} are stored with outputs; clear them before committing"
    assert "google.colab" in code[0].source, f"{path.name}: the first code cell must be the Colab setup cell"
    assert "KURAMOTO_JAX_SMOKE" in "".join(c.source for c in code), f"{path.name} never reads KURAMOTO_JAX_SMOKE"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_executes(path, monkeypatch):
    monkeypatch.setenv("KURAMOTO_JAX_SMOKE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(NB_DIR)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError naming the failing cell
    elapsed = time.perf_counter() - start
    assert elapsed < BUDGET, f"{path.name} took {elapsed:.0f} s (budget {BUDGET:.0f} s)"
