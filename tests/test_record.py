"""`kuramoto-jax record RUN_DIR`: a record only from a finished run of a shipped config as shipped.

The record it writes must pass the same check as the committed ones (`report --check`'s
`check_record`); a run with an override, an unfinished run or an existing record is refused
with exit code 2 and nothing written.
"""

import json
import pathlib

import pytest

from kuramoto_jax.cli import main
from kuramoto_jax.run import ConfigError, execute, resolve
from kuramoto_jax.run._record import make_record
from kuramoto_jax.run._report import check_record, load_records

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("record") / "run"
    execute(resolve("quickstart_smoke"), out, quiet=True, argv=["kuramoto-jax", "run", "quickstart_smoke"])
    return out


@pytest.fixture
def checkout(tmp_path):
    """A repository root holding the shipped configs and an empty experiments/ tree."""
    root = tmp_path / "repo"
    (root / "experiments").mkdir(parents=True)
    (root / "configs").symlink_to(ROOT / "configs", target_is_directory=True)
    return root


def test_record_of_a_shipped_run_passes_the_report_check(smoke_run, checkout, capsys):
    assert main(["record", str(smoke_run), "--root", str(checkout), "--name", "smoke_copy", "--note", "a test"]) == 0
    assert "record smoke_copy" in capsys.readouterr().out
    folder = checkout / "experiments" / "records" / "smoke_copy"
    assert sorted(p.name for p in folder.iterdir()) == ["config.yaml", "metrics.json", "summary.txt"]
    records = load_records(checkout)
    assert check_record(checkout, "smoke_copy", records["smoke_copy"]) == []
    ran = json.loads((smoke_run / "metrics.json").read_text())
    assert records["smoke_copy"]["metrics"] == ran["metrics"]
    summary = (folder / "summary.txt").read_text()
    assert summary.startswith("Record `smoke_copy`: `kuramoto-jax run configs/quickstart_smoke.yaml` (a test).")
    assert (smoke_run / "summary.txt").read_text().strip() in summary
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_an_existing_record_is_kept_unless_overwrite(smoke_run, checkout):
    key, folder = make_record(smoke_run, root=checkout)
    assert key == "quickstart_smoke" and folder.name == "quickstart_smoke"
    (folder / "metrics.json").write_text("{}")
    with pytest.raises(ConfigError, match="exists"):
        make_record(smoke_run, root=checkout)
    assert (folder / "metrics.json").read_text() == "{}"
    make_record(smoke_run, root=checkout, overwrite=True)
    assert json.loads((folder / "metrics.json").read_text())["metrics"]


def test_a_run_with_an_override_is_refused_naming_the_key(tmp_path, checkout, capsys):
    out = tmp_path / "overridden"
    execute(resolve("quickstart_smoke", ["num_k=5"]), out, quiet=True)
    assert main(["record", str(out), "--root", str(checkout)]) == 2
    err = capsys.readouterr().err
    assert "num_k: 5 in the run, 6 in the config" in err and "as shipped" in err
    assert not (checkout / "experiments" / "records").exists()


def test_a_precision_override_is_refused(tmp_path, checkout):
    out = tmp_path / "x64"
    execute(resolve("quickstart_smoke", ["precision=float64"]), out, quiet=True)
    with pytest.raises(ConfigError, match="precision: 'float64' in the run, 'float32' in the config"):
        make_record(out, root=checkout)


def test_an_unfinished_run_and_a_wrong_root_are_refused(smoke_run, tmp_path, checkout):
    run = tmp_path / "unfinished"
    run.mkdir()
    for part in ("config.yaml", "metrics.json"):
        (run / part).write_bytes((smoke_run / part).read_bytes())
    data = json.loads((run / "metrics.json").read_text())
    data["meta"]["status"] = "running"
    (run / "metrics.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="RUN_DIR"):
        make_record(run, root=checkout)
    with pytest.raises(ConfigError, match="--root"):
        make_record(smoke_run, root=tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="--name"):
        make_record(smoke_run, root=checkout, name="a/b")
