"""The `kuramoto-jax` command: exit codes, one-line errors, run folders, determinism, resume."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import yaml

from kuramoto_jax.cli import main
from kuramoto_jax.run._files import atomic_write, write_text

ROOT = pathlib.Path(__file__).resolve().parents[1]
QUICK = ROOT / "configs" / "quickstart.yaml"
TINY = ["n=24", "realisations=2", "num_k=4", "t1=4.0", "burn_in=2.0", "dt=0.25", "save_every=0.5"]

TOY = '''
"""Toy regression trained with the runner's training helper (test fixture)."""
import os
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from kuramoto_jax.run import OptimizerConfig, make_optimizer, train


@dataclass
class Config:
    seed: int = 0
    steps: int = field(default=24, metadata={"ge": 1})
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(learning_rate=0.3))
    fail: bool = False
    bad_metric: bool = False


def run(config, ctx):
    if config.fail:
        raise RuntimeError("the toy study failed on purpose")
    x = jnp.linspace(-1, 1, 16)
    crash_at = int(os.environ.get("TOY_CRASH_AT", "-1"))

    def batch_fn(step, key):
        if step == crash_at:
            raise RuntimeError(f"simulated crash at step {step}")
        return x, 3.0 * x + 0.2 * jax.random.normal(key, x.shape)

    def loss_fn(p, batch, key):
        xb, yb = batch
        return jnp.mean((p["w"] * xb - yb) ** 2)

    res = train(loss_fn, params={"w": jnp.zeros(())}, optimizer=make_optimizer(config.optimizer, config.steps),
                num_steps=config.steps, key=jax.random.key(config.seed), batch_fn=batch_fn, ctx=ctx,
                checkpoint_every=5)
    ctx.save_arrays(loss=res.history["loss"])
    ctx.summary(f"w = {float(res.params['w']):.4f}")
    if config.bad_metric:
        return {"w": "three"}
    return {"w": float(res.params["w"]), "final_loss": float(res.history["loss"][-1]), "steps": res.step}
'''


@pytest.fixture
def toy_repo(tmp_path):
    """A second project root (experiments/ + configs/) to check that studies are found from the config's path."""
    saved = {n: m for n, m in sys.modules.items() if n == "experiments" or n.startswith("experiments.")}
    root = tmp_path / "proj"
    (root / "experiments").mkdir(parents=True)
    (root / "configs").mkdir()
    (root / "experiments" / "__init__.py").write_text("")
    (root / "experiments" / "toy.py").write_text(TOY)
    (root / "configs" / "toy.yaml").write_text("study: toy\nseed: 1\nsteps: 24\n")
    yield root
    while str(root) in sys.path:
        sys.path.remove(str(root))
    # put this repository's experiments package back for the tests that run after this one
    for name in [n for n in sys.modules if n == "experiments" or n.startswith("experiments.")]:
        del sys.modules[name]
    sys.modules.update(saved)


def cli(args, capsys):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def metrics_of(path):
    return json.loads((pathlib.Path(path) / "metrics.json").read_text())


def test_bad_set_exits_2_with_one_line_and_no_traceback(tmp_path):
    # a real process (python -m kuramoto_jax): exit status and stderr as a shell sees them
    fragment = "unknown config key `nosuchkey`; valid keys at the top level: seed, n,"
    cmd = [sys.executable, "-m", "kuramoto_jax", "run", str(QUICK), "--out", str(tmp_path / "r"),
           "--set", "nosuchkey=1"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()  # nothing is written before the config is valid


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["run", "no/such/file.yaml"], "does not exist"),
        (["run", QUICK, "--set", "n=abc"], "config key `n`: got 'abc'; expected an integer"),
        (["run", QUICK, "--set", "n=2.5"], "config key `n`: got 2.5; expected an integer"),
        (["run", QUICK, "--set", "n=1"], "config key `n`: got 1; expected a number >= 10"),
        (["run", QUICK, "--set", "laws=[gaussian, cauchy]"], "config key `laws[1]`: got 'cauchy'"),
        (["run", QUICK, "--set", "devices=0"], "config key `devices`: got 0"),
        (["run", QUICK, "--set", "devices=64"], "config key `devices`: got 64; this machine has"),
        (["run", QUICK, "--set", "study=nosuch"], "config key `study`: got 'nosuch'; no module experiments/nosuch.py"),
        (["run", QUICK, "--set", "k_max=-1"], "`k_max`"),
        (["run", QUICK, "--set", "burn_in=100"], "`burn_in` must be < t1"),
        (["run", QUICK, "--resume"], "--resume needs --out"),
        (["run", QUICK, "--num-processes", "x"], "--num-processes: got 'x'"),
        (["run", QUICK, "--process-id", "0"], "need --coordinator"),
        (["run", QUICK, "--coordinator", "nohostport"], "--coordinator: got 'nohostport'; expected HOST:PORT"),
        (["run", QUICK, "--coordinator", "h:1", "--num-processes", "2", "--process-id", "2"], "--process-id: got 2"),
        (["show", QUICK, "--set", "model.x=1"], "unknown config key `model`"),
    ],
)
def test_config_errors_exit_2(args, fragment, capsys, tmp_path):
    extra = ["--out", tmp_path / "r"] if args[0] == "run" and "--resume" not in args else []
    code, out, err = cli(args + extra, capsys)
    assert code == 2, err
    assert fragment in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", str(QUICK), "--bogus"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "unrecognized arguments: --bogus" in err and len(err.strip().splitlines()) == 1


def test_show_and_list(capsys, toy_repo, monkeypatch):
    code, out, _ = cli(["show", QUICK, "--set", "n=77", "--set", "laws=[lorentzian]", "--fields"], capsys)
    assert code == 0
    shown = yaml.safe_load(out)
    assert shown["study"] == "quickstart" and shown["n"] == 77 and shown["laws"] == ["lorentzian"]
    assert shown["devices"] == "all" and shown["dt"] == 0.2
    assert "#   n: an integer = 400 [>= 10]  # number of oscillators N" in out
    code, out, _ = cli(["list"], capsys)
    assert code == 0 and "quickstart" in out and "configs/quickstart.yaml" in out
    monkeypatch.chdir(toy_repo)
    code, out, _ = cli(["list"], capsys)
    assert "toy" in out and "configs/toy.yaml" in out and "study: toy" in out


def test_toy_run_folder_determinism_and_resume(toy_repo, tmp_path, capsys, monkeypatch):
    cfg = toy_repo / "configs" / "toy.yaml"
    monkeypatch.chdir(tmp_path)  # studies are found from the config's path, not the cwd
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert cli(["run", cfg, "--out", a, "--quiet"], capsys)[0] == 0
    code, out, _ = cli(["run", cfg, "--out", b], capsys)
    assert code == 0 and "w = " in out and f"run folder: {b}" in out
    ma, mb = metrics_of(a), metrics_of(b)
    assert ma["metrics"] == mb["metrics"] and ma["metrics"]["steps"] == 24
    assert abs(ma["metrics"]["w"] - 3.0) < 1.0
    meta = ma["meta"]
    assert meta["status"] == "completed" and meta["seed"] == 1 and meta["study"] == "toy"
    assert meta["versions"]["jax"] and meta["versions"]["diffrax"] and meta["device"] == "cpu" and meta["devices"] >= 1
    assert meta["command"][:2] == ["kuramoto-jax", "run"] and meta["wall_seconds"] >= 0
    files = sorted(p.name for p in a.iterdir())
    assert files == ["arrays.npz", "checkpoints", "config.yaml", "metrics.json", "run.log", "summary.txt"]
    assert yaml.safe_load((a / "config.yaml").read_text()) == {
        "study": "toy", "devices": "all", "seed": 1, "steps": 24, "fail": False, "bad_metric": False,
        "optimizer": yaml.safe_load((a / "config.yaml").read_text())["optimizer"]}
    assert len(np.load(a / "arrays.npz")["loss"]) == 24

    # a run killed at step 13 resumes from its step-10 checkpoint to the same metrics
    monkeypatch.setenv("TOY_CRASH_AT", "13")
    code, _, err = cli(["run", cfg, "--out", c, "--quiet"], capsys)
    assert code == 1 and "simulated crash at step 13" in err
    assert metrics_of(c)["meta"]["status"] == "failed"
    monkeypatch.delenv("TOY_CRASH_AT")
    code, _, err = cli(["run", cfg, "--out", c, "--quiet", "--resume"], capsys)
    assert code == 0, err
    mc = metrics_of(c)
    assert mc["metrics"] == ma["metrics"] and mc["meta"]["resumed"] is True
    assert "resumed from" in (c / "run.log").read_text()

    # the run folder is protected: a second run needs --resume or --overwrite, and --resume the same config
    code, _, err = cli(["run", cfg, "--out", a, "--quiet"], capsys)
    assert code == 2 and "already holds a run" in err
    code, _, err = cli(["run", cfg, "--out", a, "--quiet", "--resume", "--set", "seed=2"], capsys)
    assert code == 2 and "differs" in err
    assert cli(["run", cfg, "--out", a, "--quiet", "--overwrite", "--set", "seed=2"], capsys)[0] == 0
    assert metrics_of(a)["meta"]["seed"] == 2


def test_failures_during_the_run_exit_1(toy_repo, tmp_path, capsys):
    cfg = toy_repo / "configs" / "toy.yaml"
    code, _, err = cli(["run", cfg, "--out", tmp_path / "f", "--set", "fail=true"], capsys)
    assert code == 1 and "RuntimeError: the toy study failed on purpose" in err
    meta = metrics_of(tmp_path / "f")["meta"]
    assert meta["status"] == "failed" and "failed on purpose" in meta["error"]
    code, _, err = cli(["run", cfg, "--out", tmp_path / "g", "--set", "bad_metric=true", "--quiet"], capsys)
    assert code == 1 and "metric 'w'" in err and "Traceback" not in err


def test_quickstart_tiny_run(tmp_path, capsys):
    out = tmp_path / "qs"
    args = ["run", QUICK, "--out", out, "--quiet"]
    for s in TINY:
        args += ["--set", s]
    code, _, err = cli(args, capsys)
    assert code == 0, err
    m = metrics_of(out)["metrics"]
    for law in ("gaussian", "lorentzian"):
        assert m[f"kc_theory_{law}"] == pytest.approx({"gaussian": 2 * np.sqrt(2 * np.pi) / np.pi,
                                                        "lorentzian": 2.0}[law], rel=1e-12)
        assert 0 < m[f"kc_estimate_{law}"] < 2 * m[f"kc_theory_{law}"]
    assert (out / "figures" / "transition.png").stat().st_size > 1000
    arrays = np.load(out / "arrays.npz")
    assert arrays["R_gaussian"].shape == (8, 2)  # two stages of 4 K values, 2 realisations
    assert np.all((arrays["R_gaussian"] >= 0) & (arrays["R_gaussian"] <= 1))
    assert "Synchronisation transition" in (out / "summary.txt").read_text()


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "metrics.json"
    write_text(path, "old")

    def boom(f):
        f.write(b"partial")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(path, boom)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["metrics.json"]  # the temporary file was removed


def test_console_script_is_declared():
    from importlib.metadata import entry_points

    eps = {ep.name: ep.value for ep in entry_points(group="console_scripts")}
    assert eps.get("kuramoto-jax") == "kuramoto_jax.cli:main"


def test_run_context_files(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from kuramoto_jax.run import RunContext

    ctx = RunContext(tmp_path / "run", quiet=True, devices=["cpu0"], process_index=0, process_count=1)
    ctx.save_arrays(a=np.arange(3), b=np.ones((2, 2)))
    ctx.save_arrays(a=np.arange(5.0), c=np.float64(2.5))  # merges: a replaced, b kept, c added
    arrays = np.load(tmp_path / "run" / "arrays.npz")
    assert sorted(arrays.files) == ["a", "b", "c"] and arrays["a"].shape == (5,) and float(arrays["c"]) == 2.5
    with pytest.raises(TypeError, match="`bad` is not numeric"):
        ctx.save_arrays(bad={"x": 1})
    fig = plt.figure()
    plt.plot([0, 1], [1, 0])
    path = ctx.save_figure(fig, "line")
    assert path == tmp_path / "run" / "figures" / "line.png" and path.read_bytes()[:4] == b"\x89PNG"
    assert not plt.fignum_exists(fig.number)  # closed
    ctx.log("hello\nworld")
    ctx.summary("  the result  ")
    assert (tmp_path / "run" / "summary.txt").read_text() == "the result\n"
    assert [line.split(" ", 1)[1] for line in (tmp_path / "run" / "run.log").read_text().splitlines()] == [
        "hello", "world"]
    assert list(ctx.progress(range(3))) == [0, 1, 2]
    # a second process of a multi-process run writes nothing
    other = RunContext(tmp_path / "other", quiet=True, devices=["cpu0"], process_index=1, process_count=2)
    other.save_arrays(a=np.zeros(2))
    other.summary("x")
    other.log("x")
    assert not (tmp_path / "other").exists()
