"""`kuramoto-jax report --check`: the committed records, the shipped configs and the generated tables agree.

A tampered copy of the repository (a changed metric, a changed config, a record naming a missing
config) must fail with a message naming the record; one short record is rerun end to end.
"""

import json
import math
import pathlib
import shutil

import pytest
import yaml

from kuramoto_jax.cli import main
from kuramoto_jax.run import execute, resolve
from kuramoto_jax.run._report import format_number, record_dirs, record_key, report

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _copy_repo(tmp_path) -> pathlib.Path:
    dst = tmp_path / "repo"
    ignore = shutil.ignore_patterns(".git", "__pycache__", "*.pyc", "runs", "notebooks", "*.png", "*.npz")
    for name in ("experiments", "configs", "docs", "benchmarks"):
        shutil.copytree(ROOT / name, dst / name, ignore=ignore)
    shutil.copy(ROOT / "README.md", dst / "README.md")
    return dst


@pytest.fixture(scope="module")
def repo_copy(tmp_path_factory):
    return _copy_repo(tmp_path_factory.mktemp("report"))


def test_check_passes_on_the_repository(capsys):
    assert main(["report", "--check", "--root", str(ROOT)]) == 0, capsys.readouterr().err


def test_every_application_has_records():
    keys = {record_key(ROOT, d) for d in record_dirs(ROOT)}
    for app in ("kuranet", "ep", "npe", "reservoir", "proportional"):
        assert any(k.startswith(app + "/") for k in keys), f"no record for {app}"
    assert "quickstart" in keys


def test_a_changed_metric_fails_naming_the_table(tmp_path):
    root = _copy_repo(tmp_path)
    path = root / "experiments" / "records" / "quickstart" / "metrics.json"
    data = json.loads(path.read_text())
    data["metrics"]["kc_estimate_gaussian"] *= 1.01
    path.write_text(json.dumps(data))
    problems = report(root, check=True)
    assert any("quickstart" in p and "differ" in p for p in problems), problems


def test_a_changed_config_fails_naming_the_record(tmp_path):
    root = _copy_repo(tmp_path)
    cfg = root / "configs" / "quickstart.yaml"
    cfg.write_text(cfg.read_text().replace("n: 400", "n: 401"))
    problems = report(root, check=True)
    assert any(p.startswith("record quickstart:") and "n: 400 in the record, 401 in the config" in p
               for p in problems), problems


def test_a_key_added_later_with_its_default_is_no_difference(tmp_path):
    root = _copy_repo(tmp_path)
    path = root / "experiments" / "records" / "quickstart" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    del config["dt"]  # as if the record predated the key: the shipped config holds the default
    path.write_text(yaml.safe_dump(config))
    assert not any(p.startswith("record quickstart:") for p in report(root, check=True))
    # Not so when the shipped config sets the key to something else.
    cfg = root / "configs" / "quickstart.yaml"
    cfg.write_text(cfg.read_text().replace("\ndt: 0.2\n", "\ndt: 0.0123\n"))
    problems = report(root, check=True)
    assert any(p.startswith("record quickstart:") and "dt: missing in the record" in p for p in problems), problems


def test_a_record_naming_a_missing_config_fails(tmp_path):
    root = _copy_repo(tmp_path)
    path = root / "experiments" / "records" / "quickstart" / "metrics.json"
    data = json.loads(path.read_text())
    data["meta"]["config"] = "quickstart_gone"
    path.write_text(json.dumps(data))
    problems = report(root, check=True)
    assert any("record quickstart:" in p and "quickstart_gone" in p and "does not exist" in p
               for p in problems), problems


def test_report_rewrites_a_stale_table(tmp_path):
    root = _copy_repo(tmp_path)
    doc = root / "benchmarks" / "results" / "quickstart_cpu.md"
    fresh = doc.read_text()
    doc.write_text(fresh.replace("| Gaussian |", "| Gaussian (edited) |"))
    assert any("quickstart_cpu.md" in p and "differ" in p for p in report(root, check=True))
    report(root, check=False)
    assert doc.read_text() == fresh


def test_format_number():
    assert format_number(0.96, ".1%") == "96.0 %"
    assert format_number(2.4e-4, ".1e") == "2.4e-4"
    assert format_number(-1e-9, ".4f") == "0.0000"
    assert format_number(None) == "n/a"


def _close(a, b, rtol):
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-12)


def test_quickstart_smoke_record_reruns_to_1e4(tmp_path):
    """Rerun the committed smoke record's config; every non-timing metric matches to 1e-4 relative."""
    rec = ROOT / "experiments" / "records" / "quickstart_smoke"
    recorded = json.loads((rec / "metrics.json").read_text())
    precision = recorded["meta"].get("precision") or ("float64" if recorded["meta"]["x64"] else "float32")
    res = resolve(ROOT / "configs" / f"{recorded['meta']['config']}.yaml", [f"precision={precision}"])
    reserved = ("devices", "precision")
    stored = {k: v for k, v in yaml.safe_load((rec / "config.yaml").read_text()).items() if k not in reserved}
    assert {k: v for k, v in res.to_dict().items() if k not in reserved} == stored
    metrics, _ = execute(res, tmp_path / "run", quiet=True)
    for name, value in recorded["metrics"].items():
        if name.endswith(("_s", "_seconds")) or "time" in name:
            continue
        assert _close(metrics[name], value, 1e-4), (name, metrics[name], value)
