"""Scale-out reaches every study: with `devices: 4` each study's batched work is split over
four devices (meta.devices = 4), and the split changes no result.

The runs happen in one subprocess with four virtual CPU devices
(`--xla_force_host_platform_device_count=4` must be set before JAX starts), each at its
smoke size; the tests below read what it wrote.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import subprocess
import sys

import pytest

from kuramoto_jax.run import _registry, resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.xdist_group("scaleout")  # one subprocess serves the module

# Small proportional runs (as tests/test_proportional_study.py runs them).
_PROPORTIONAL = ["n=24", "realisations=3", "k_grid.start=0.5", "k_grid.stop=2.5", "k_grid.num=5",
                 "integration.t1=20", "integration.dt=0.2", "integration.save_every=1"]

# study → (shipped config, --set overrides) at a size that runs in seconds.
CASES = {
    "quickstart": ("quickstart_smoke", []),
    "ep.digits": ("ep/digits_smoke", []),
    "ep.gradients": ("ep/gradients_smoke", []),
    "ep.vowels": ("ep/vowels_smoke", []),
    "kuranet.global_sync": ("kuranet/global_smoke", ["ref_burn_in_steps=10", "ref_size_burn_in_steps=40"]),
    "kuranet.cluster_sync": ("kuranet/cluster_smoke", []),
    "kuranet.textures": ("kuranet/texture_mosaic_smoke", []),
    "npe.simple": ("npe/simple_smoke", []),
    "npe.three_node": ("npe/three_node_smoke", []),
    "npe.mcmc_compare": ("npe/mcmc_compare_smoke", []),
    "proportional.transition": ("proportional/transition", _PROPORTIONAL + ["histogram_realisations=0"]),
    "proportional.correlation": ("proportional/correlation_cpu", _PROPORTIONAL),
    "proportional.hysteresis": ("proportional/hysteresis_cpu", _PROPORTIONAL),
    "proportional.pmap": ("proportional/pmap_cpu", _PROPORTIONAL + ["num_p=2", "p_stop=1.0"]),
    "proportional.size": ("proportional/size_cpu", _PROPORTIONAL[1:] + ["sizes=[10, 20]"]),
    "proportional.sparse": ("proportional/sparse_cpu", _PROPORTIONAL),
    "reservoir.benchmarks": ("reservoir/benchmarks_smoke", []),
    "reservoir.prediction": ("reservoir/prediction_smoke", []),
    "reservoir.readout": ("reservoir/readout_smoke", []),
    "reservoir.versus_esn": ("reservoir/versus_esn_smoke", []),
    "stability.budget": ("stability/budget_smoke", []),
}
# Studies whose metrics must not depend on the device count (timings aside).
SAME_ON_1_AND_4 = ("quickstart", "npe.simple", "proportional.transition", "kuranet.textures")

_SCRIPT = r"""
import json, sys, pathlib
import jax
from kuramoto_jax.run import resolve, execute

cases, out = json.loads(sys.argv[1]), pathlib.Path(sys.argv[2])
assert len(jax.devices()) == 4, jax.devices()
results = {}
for study, (config, sets, counts) in cases.items():
    results[study] = {}
    for n in counts:
        try:
            metrics, _ = execute(resolve(config, [*sets, f"devices={n}"]), out / study / str(n), quiet=True)
            meta = json.loads((out / study / str(n) / "metrics.json").read_text())["meta"]
            results[study][str(n)] = {"metrics": metrics, "devices": meta["devices"]}
        except Exception as err:
            results[study][str(n)] = {"error": f"{type(err).__name__}: {err}"}
print(json.dumps(results))
"""


def _data_available(config: str) -> bool:
    try:
        resolve(config)
    except Exception:
        return False
    return True


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    cases = {study: (config, sets, [4, 1] if study in SAME_ON_1_AND_4 else [4])
             for study, (config, sets) in CASES.items() if _data_available(config)}
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    res = subprocess.run([sys.executable, "-c", _SCRIPT, json.dumps(cases), str(tmp_path_factory.mktemp("scale"))],
                         env=env, capture_output=True, text=True, timeout=1500, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-4000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_every_registered_study_has_a_scaleout_case():
    ours = {s.name for s in _registry.studies() if s.provider == "kuramoto_jax"}
    assert ours == set(CASES), sorted(ours ^ set(CASES))


@pytest.mark.parametrize("study", sorted(CASES))
def test_study_splits_its_batched_work_over_all_devices(runs, study):
    if study not in runs:
        pytest.skip(f"{CASES[study][0]} needs data that is not on this machine")
    result = runs[study]["4"]
    assert "error" not in result, result.get("error")
    assert result["devices"] == 4


@pytest.mark.parametrize("study", SAME_ON_1_AND_4)
def test_device_count_changes_no_metric(runs, study):
    four, one = runs[study]["4"], runs[study]["1"]
    assert "error" not in four and "error" not in one, (four.get("error"), one.get("error"))
    assert one["devices"] == 1
    for name, value in one["metrics"].items():
        if name.endswith(("_s", "_seconds")) or any(t in name for t in ("time", "per_second", "_ms_")) \
                or value is None:
            continue
        other = four["metrics"][name]
        assert math.isclose(value, other, rel_tol=1e-5, abs_tol=1e-6), (name, value, other)
