"""The `kuramoto-jax` command: exit codes, one-line errors, run folders, determinism, resume."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

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


def make_study_package(base: pathlib.Path) -> pathlib.Path:
    """Lay out, under `base`, a package `toylab` as pip installs it: the study module, a config, and a
    dist-info whose entry points register them (groups kuramoto_jax.studies and kuramoto_jax.configs).
    Returns the config file."""
    pkg = base / "toylab"
    (pkg / "studies").mkdir(parents=True)
    (pkg / "configs").mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "studies" / "__init__.py").write_text("")
    (pkg / "configs" / "__init__.py").write_text("")
    (pkg / "studies" / "toy.py").write_text(TOY)
    (pkg / "configs" / "toy.yaml").write_text("study: toylab.toy\nseed: 1\nsteps: 24\n")
    info = base / "toylab-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toylab\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[kuramoto_jax.studies]\ntoylab = toylab.studies\n\n[kuramoto_jax.configs]\ntoylab = toylab.configs\n")
    return pkg / "configs" / "toy.yaml"


@pytest.fixture
def toy_config(tmp_path, monkeypatch):
    """A study package of another distribution, registered through entry points (on sys.path)."""
    site = tmp_path / "site"
    cfg = make_study_package(site)
    monkeypatch.syspath_prepend(str(site))
    yield cfg
    for name in [n for n in sys.modules if n == "toylab" or n.startswith("toylab.")]:
        del sys.modules[name]


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
        (["run", "no/such/file.yaml"], "config: got 'no/such/file.yaml'; no such file"),
        (["run", "quickstart_smok"], "not the name of a shipped config; did you mean quickstart_smoke"),
        (["run", QUICK, "--set", "n=abc"], "config key `n`: got 'abc'; expected an integer"),
        (["run", QUICK, "--set", "n=2.5"], "config key `n`: got 2.5; expected an integer"),
        (["run", QUICK, "--set", "n=1"], "config key `n`: got 1; expected a number >= 10"),
        (["run", QUICK, "--set", "laws=[gaussian, cauchy]"], "config key `laws[1]`: got 'cauchy'"),
        (["run", QUICK, "--set", "devices=0"], "config key `devices`: got 0"),
        (["run", QUICK, "--set", "devices=64"], "config key `devices`: got 64; this machine has"),
        (["run", QUICK, "--set", "study=nosuch"], "config key `study`: got 'nosuch'; no registered study has that name"),
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


def test_show_and_list(capsys, toy_config):
    code, out, _ = cli(["show", QUICK, "--set", "n=77", "--set", "laws=[lorentzian]", "--fields"], capsys)
    assert code == 0
    shown = yaml.safe_load(out)
    assert shown["study"] == "quickstart" and shown["n"] == 77 and shown["laws"] == ["lorentzian"]
    assert shown["devices"] == "all" and shown["dt"] == 0.2
    assert "#   n: an integer = 400 [>= 10]  # number of oscillators N" in out
    by_name = cli(["show", "quickstart", "--set", "n=77", "--set", "laws=[lorentzian]"], capsys)[1]
    assert yaml.safe_load(by_name) == shown  # a shipped config by name = the same file by path
    code, out, _ = cli(["list"], capsys)
    lines = out.splitlines()
    assert code == 0
    shipped = sorted(p.relative_to(ROOT / "configs").with_suffix("").as_posix()
                     for p in (ROOT / "configs").rglob("*.yaml"))
    listed = [ln.split()[0] for ln in lines[lines.index("configs (kuramoto-jax run NAME):") + 1:]]
    assert sorted(c for c in listed if not c.startswith("toylab/")) == shipped
    # the registered package's study and config are listed beside the toolkit's own
    assert any(ln.split()[0] == "toylab.toy" and ln.endswith("[toylab]") for ln in lines)
    assert "toylab/toy" in listed


def test_list_survives_a_closed_pipe():
    # `kuramoto-jax list | head -1`: the first line, then a quiet exit (no BrokenPipeError traceback)
    proc = subprocess.run(f"{sys.executable} -m kuramoto_jax list | head -1", shell=True, capture_output=True,
                          text=True, timeout=120)
    assert proc.stdout == "studies:\n" and proc.stderr == ""


def test_version(capsys):
    import kuramoto_jax
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"kuramoto-jax {kuramoto_jax.__version__}"
    assert version("kuramoto-jax") == kuramoto_jax.__version__


def test_toy_run_folder_determinism_and_resume(toy_config, tmp_path, capsys, monkeypatch):
    cfg = "toylab/toy"  # a registered package's config, by name
    monkeypatch.chdir(tmp_path)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert cli(["run", cfg, "--out", a, "--quiet"], capsys)[0] == 0
    code, out, _ = cli(["run", cfg, "--out", b], capsys)
    assert code == 0 and "w = " in out and f"run folder: {b}" in out
    ma, mb = metrics_of(a), metrics_of(b)
    assert ma["metrics"] == mb["metrics"] and ma["metrics"]["steps"] == 24
    assert abs(ma["metrics"]["w"] - 3.0) < 1.0
    meta = ma["meta"]
    assert meta["status"] == "completed" and meta["seed"] == 1 and meta["study"] == "toylab.toy"
    assert meta["versions"]["jax"] and meta["versions"]["diffrax"] and meta["device"] == "cpu" and meta["devices"] >= 1
    assert meta["command"][:2] == ["kuramoto-jax", "run"] and meta["wall_seconds"] >= 0
    files = sorted(p.name for p in a.iterdir())
    assert files == ["arrays.npz", "checkpoints", "config.yaml", "metrics.json", "run.log", "summary.txt"]
    assert yaml.safe_load((a / "config.yaml").read_text()) == {
        "study": "toylab.toy", "devices": "all", "precision": "float32", "seed": 1, "steps": 24, "fail": False, "bad_metric": False,
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

    # --resume on a finished run does nothing; raising only `steps` extends it from its last checkpoint
    before = (a / "metrics.json").read_text()
    code, out, _ = cli(["run", cfg, "--out", a, "--resume", "--set", "seed=2"], capsys)
    assert code == 0 and "already complete" in out and (a / "metrics.json").read_text() == before
    code, _, err = cli(["run", cfg, "--out", a, "--quiet", "--resume", "--set", "seed=2", "--set", "steps=3e1"],
                       capsys)
    assert code == 0, err
    extended = metrics_of(a)
    assert extended["metrics"]["steps"] == 30 and yaml.safe_load((a / "config.yaml").read_text())["steps"] == 30
    assert "at step 24/30" in (a / "run.log").read_text()
    code, _, err = cli(["run", cfg, "--out", a, "--quiet", "--resume", "--set", "seed=2", "--set", "steps=10"],
                       capsys)
    assert code == 2 and "`steps`" in err  # fewer steps than done is not an extension

    # run-folder files are readable by group and others, as files written normally
    for name in ("config.yaml", "metrics.json", "arrays.npz", "summary.txt", "run.log"):
        assert (a / name).stat().st_mode & 0o044 == 0o044, name


def test_failures_during_the_run_exit_1(toy_config, tmp_path, capsys):
    cfg = toy_config  # a registered package's config, by path
    code, _, err = cli(["run", cfg, "--out", tmp_path / "f", "--set", "fail=true"], capsys)
    assert code == 1 and "RuntimeError: the toy study failed on purpose" in err
    meta = metrics_of(tmp_path / "f")["meta"]
    assert meta["status"] == "failed" and "failed on purpose" in meta["error"]
    code, _, err = cli(["run", cfg, "--out", tmp_path / "g", "--set", "bad_metric=true", "--quiet"], capsys)
    assert code == 1 and "metric 'w'" in err and "Traceback" not in err


def test_an_interrupted_run_is_recorded_as_interrupted(toy_config, tmp_path, capsys, monkeypatch):
    import kuramoto_jax.run._train as train_module

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "_advance", interrupt)
    code, _, err = cli(["run", toy_config, "--out", tmp_path / "i", "--quiet"], capsys)
    meta = metrics_of(tmp_path / "i")["meta"]
    assert code == 130 and "interrupted" in err
    assert meta["status"] == "interrupted" and "error" not in meta


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
