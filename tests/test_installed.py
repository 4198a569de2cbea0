"""The package as users get it: a wheel built from this checkout, in a fresh environment.

One environment is made for the whole module: the wheel's dependencies are installed
(pinned to the versions of the environment running the tests, so nothing new is
downloaded), the package itself is not. Every notebook then runs there, top to bottom with
tiny settings, in a folder outside the repository: the package arrives only through the
notebook's own install cell, which pip answers from the built wheel (`PIP_FIND_LINKS`,
`PIP_NO_INDEX`). The command-line checks then run from an empty folder.

All tests here share the environment, so they run in one xdist worker (`xdist_group`).
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
import venv
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = int(os.environ.get("KURAMOTO_JAX_NOTEBOOK_TIMEOUT", "300"))

pytestmark = pytest.mark.xdist_group("installed")

RUN_NOTEBOOK = textwrap.dedent("""
    import sys
    import nbclient, nbformat
    nb = nbformat.read(sys.argv[1], as_version=4)
    client = nbclient.NotebookClient(nb, timeout=int(sys.argv[2]), kernel_name="python3",
                                     resources={"metadata": {"path": sys.argv[3]}})
    client.execute()  # raises CellExecutionError naming the failing cell
""")


def _run(cmd, **kwargs):
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    proc = subprocess.run([str(c) for c in cmd], **kwargs)
    return proc


def _requirements(wheel: pathlib.Path) -> list[str]:
    """The wheel's own dependencies (no extras), from its METADATA."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(meta).decode().splitlines()
    return [ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("Requires-Dist:") and "extra ==" not in ln]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a fresh environment without the package, folder holding the built wheel, env vars)."""
    base = tmp_path_factory.mktemp("installed")
    dist = base / "dist"
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT])
    assert proc.returncode == 0, proc.stderr
    (wheel,) = dist.glob("kuramoto_jax-*.whl")

    env_dir = base / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The versions of the environment running the tests: the fresh one downloads nothing new.
    freeze = _run([sys.executable, "-m", "pip", "freeze", "--exclude-editable"]).stdout.splitlines()
    constraints = base / "constraints.txt"
    constraints.write_text("\n".join(ln for ln in freeze if not ln.lower().startswith(("kuramoto", "-e"))) + "\n")
    reqs = _requirements(wheel) + ["nbclient", "nbformat", "ipykernel"]
    proc = _run([python, "-m", "pip", "install", "-q", "--no-compile", "-c", constraints, *reqs], cwd=base)
    assert proc.returncode == 0, proc.stderr[-3000:]
    env = {**os.environ, "PIP_FIND_LINKS": str(dist), "PIP_NO_INDEX": "1", "KURAMOTO_JAX_SMOKE": "1",
           "MPLBACKEND": "Agg", "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    # the package itself is not there (checked from a folder outside the checkout)
    assert _run([python, "-c", "import kuramoto_jax"], env=env, cwd=base).returncode != 0
    return python, wheel, env


def _install_wheel(python, env, where):
    """Install the package as a notebook's install cell does (when no notebook did yet)."""
    if _run([python, "-c", "import kuramoto_jax"], env=env, cwd=where).returncode != 0:
        proc = _run([python, "-m", "pip", "install", "-q", "kuramoto-jax"], env=env, cwd=where)
        assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_a_fresh_environment(path, installed, tmp_path):
    python, _, env = installed
    work = tmp_path / "nb"  # outside the repository: nothing of the checkout is reachable
    work.mkdir()
    copy = work / path.name
    shutil.copy(path, copy)
    proc = _run([python, "-c", RUN_NOTEBOOK, copy, CELL_TIMEOUT, work], env=env, cwd=work)
    assert proc.returncode == 0, f"{path.name} failed:\n{proc.stderr[-4000:]}"
    assert _run([python, "-c", "import kuramoto_jax"], env=env, cwd=work).returncode == 0


def test_wheel_contents(installed):
    _, wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"kuramoto_jax"}  # no top-level `experiments` or `configs` module
    assert "kuramoto_jax/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "configs").rglob("*.yaml")}
    assert {f"kuramoto_jax/{s}" for s in shipped} <= set(names)
    studies = {p.relative_to(ROOT).as_posix() for p in (ROOT / "experiments").rglob("*.py")}
    assert {f"kuramoto_jax/{s}" for s in studies} <= set(names)


def test_command_line_from_outside_the_repository(installed, tmp_path):
    python, _, env = installed
    where = tmp_path / "elsewhere"
    where.mkdir()
    _install_wheel(python, env, where)
    cli = [python, "-m", "kuramoto_jax"]

    proc = _run([*cli, "--version"], env=env, cwd=where)
    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "kuramoto_jax" / "__init__.py").read_text()).group(1)
    assert proc.returncode == 0 and proc.stdout.strip() == f"kuramoto-jax {version}"

    proc = _run([*cli, "list"], env=env, cwd=where)
    assert proc.returncode == 0, proc.stderr
    listed = set(proc.stdout.split())
    shipped = {p.relative_to(ROOT / "configs").with_suffix("").as_posix() for p in (ROOT / "configs").rglob("*.yaml")}
    assert shipped <= listed

    out = where / "X"
    proc = _run([*cli, "run", "quickstart_smoke", "--out", out, "--quiet"], env=env, cwd=where)
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((out / "metrics.json").read_text())["meta"]
    assert meta["status"] == "completed" and meta["config"] == "quickstart_smoke" and meta["device"] == "cpu"
    for name in ("metrics.json", "config.yaml"):
        assert (out / name).stat().st_mode & 0o004, f"{name} is not readable by others"

    # a config copied anywhere keeps working: its `study:` names a registered study
    copied = where / "mine.yaml"
    shutil.copy(ROOT / "configs" / "quickstart_smoke.yaml", copied)
    proc = _run([*cli, "show", copied, "--set", "n=30"], env=env, cwd=where)
    assert proc.returncode == 0 and "n: 30" in proc.stdout, proc.stderr

    proc = _run([*cli, "run", "ep/vowels_smoke", "--set", "data_path=/missing.csv", "--out", where / "v"],
                env=env, cwd=where)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "config key `data_path`" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (where / "v").exists()

    proc = _run(["bash", "-c", f"'{python}' -m kuramoto_jax list | head -1"], env=env, cwd=where)
    assert proc.stdout == "studies:\n" and proc.stderr == ""


def test_a_study_package_registered_through_entry_points(installed, tmp_path):
    python, _, env = installed
    _install_wheel(python, env, tmp_path)
    src = tmp_path / "toylab-src"
    (src / "toylab" / "studies").mkdir(parents=True)
    (src / "toylab" / "__init__.py").write_text("")
    (src / "toylab" / "studies" / "__init__.py").write_text("")
    (src / "toylab" / "studies" / "hello.py").write_text(textwrap.dedent('''
        """A study of another package."""
        from dataclasses import dataclass

        @dataclass
        class Config:
            seed: int = 0
            x: float = 2.0

        def run(config, ctx):
            return {"x_squared": config.x ** 2}
    '''))
    (src / "pyproject.toml").write_text(textwrap.dedent('''
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "toylab"
        version = "0.1"

        [project.entry-points."kuramoto_jax.studies"]
        toylab = "toylab.studies"
    '''))
    built = tmp_path / "toylab-dist"
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", built, src], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    (toylab_wheel,) = built.glob("toylab-*.whl")
    proc = _run([python, "-m", "pip", "install", "-q", "--no-deps", toylab_wheel], env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    try:
        where = tmp_path / "elsewhere"
        where.mkdir()
        listed = _run([python, "-m", "kuramoto_jax", "list"], env=env, cwd=where).stdout
        assert any(ln.split()[:1] == ["toylab.hello"] for ln in listed.splitlines())
        (where / "hello.yaml").write_text("study: toylab.hello\nx: 3.0\n")
        proc = _run([python, "-m", "kuramoto_jax", "run", "hello.yaml", "--out", where / "r", "--quiet"],
                    env=env, cwd=where)
        assert proc.returncode == 0, proc.stderr
        assert json.loads((where / "r" / "metrics.json").read_text())["metrics"] == {"x_squared": 9.0}
    finally:
        _run([python, "-m", "pip", "uninstall", "-q", "-y", "toylab"], env=env, cwd=tmp_path)
