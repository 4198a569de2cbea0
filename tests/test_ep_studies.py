"""Tiny runs of the equilibrium-propagation studies through the runner."""

import json
import pathlib

import numpy as np
import pytest

import kuramoto_jax as kj
from kuramoto_jax import ep
from kuramoto_jax._precision import x64
from kuramoto_jax.run import execute, resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]

CONFIGS = ROOT / "configs" / "ep"


def _run(tmp_path, name, *sets):
    resolved = resolve(CONFIGS / f"{name}.yaml", list(sets))  # "key=value" items, as after --set
    metrics, _ = execute(resolved, tmp_path / name, quiet=True)
    saved = json.loads((tmp_path / name / "metrics.json").read_text())
    assert saved["meta"]["status"] == "completed"
    assert list((tmp_path / name / "figures").glob("*.png"))
    return metrics


def test_gradient_study_smoke(tmp_path):
    m = _run(tmp_path, "gradients_smoke")
    assert json.loads((tmp_path / "gradients_smoke" / "metrics.json").read_text())["meta"]["x64"]  # its PRECISION
    assert m["gradient_cosine_min"] > 0.999
    assert 0.9 < m["N6_slope_ep_omega"] < 1.1 and 1.9 < m["N6_slope_centered_omega"] < 2.1
    assert m["implicit_vs_fd_max"] < 1e-6


@pytest.mark.skipif(not (ep.default_data_path() or pathlib.Path("")).is_file(), reason="Hillenbrand vowels CSV not available")
def test_vowel_study_smoke(tmp_path):
    # The paper's comparison on a small seed set: 16 seeds x 100 epochs from random ω. Among the seeds
    # that converge, learning the 7 frequencies beats learning 7 matched couplings (seed 0: 93.9 % vs
    # 81.8 % test accuracy, Welch p = 0.0004; the full study: 96.6 % vs 84.2 % over 100 seeds).
    m = _run(tmp_path, "vowels_smoke", "n_seeds=16", "epochs=100", "inits=[random]")
    assert m["omega_only_acc_converged"] > m["k_matched_acc_converged"] + 0.04
    assert m["omega_only_acc_converged"] > 0.85 and m["welch_p"] < 0.05
    assert m["omega_only_random_skipped_frac"] == 0.0
    arrays = np.load(tmp_path / "vowels_smoke" / "arrays.npz")
    assert arrays["test_cos"].shape == (32,)
    # Member 3 (omega_only, seed 3) reloads and reads its test split (named stream "split", 3) as the study did.
    net = ep.load(tmp_path / "vowels_smoke", member=3)
    _, _, xte, yte = ep.load_vowels(ep.default_data_path(), ("a", "i"), key=kj.stream_key(0, "split", 3))
    with x64(True):
        labels = np.asarray(ep.load(tmp_path / "vowels_smoke", member=3).predict(xte))
    valid = labels >= 0
    assert net.omega.shape == (9,) and valid.all()
    assert np.sum((labels == yte) & valid) / np.sum(valid) == arrays["test_nearest"][3]


def test_digits_study_smoke(tmp_path):
    # 8 EP steps of a 64+4+10 net on 64 images: far too short for accuracy (it stays at chance), but the
    # EP updates must lower the cost they estimate the gradient of (seed 0: 18.6 → 11.8 in the last
    # epoch; seed 1: 18.1 → 9.0). A sign or scale error in the EP gradient would raise it.
    m = _run(tmp_path, "digits_smoke")
    loss = np.load(tmp_path / "digits_smoke" / "arrays.npz")["loss"]
    assert loss.shape == (8,)
    assert m["final_loss"] < 0.7 * loss[0] and loss[-1] < loss[0]
    assert m["usable_fraction_mean"] > 0.5 and m["test_valid_fraction"] > 0.5
    assert (tmp_path / "digits_smoke" / "checkpoints" / "digits.npz").is_file()
    # The trained network reloads and predicts the test digits as the study scored them. The study ran
    # in float64 (its PRECISION); the reloaded network is read in float64 too.
    with x64(True):
        net = ep.load(tmp_path / "digits_smoke")
        xtr, ytr, xte, yte = ep.load_digits(max_train=64, max_test=64)
        labels = np.asarray(net.predict(xte))
    assert net.K.dtype == np.float64 and labels.shape == (64,)
    assert np.mean(labels == yte) == m["digits_test_acc"]
    # Read in float32 (a user's default; the residual tolerance becomes float32's) it predicts the same labels.
    net32 = ep.load(tmp_path / "digits_smoke")
    assert net32.K.dtype == np.float32 and np.mean(np.asarray(net32.predict(xte)) == labels) > 0.95


def test_load_rejects_runs_of_other_studies_and_unfinished_runs(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("study: ep.gradients\nseed: 0\n")
    meta = {"metrics": {}, "meta": {"study": "ep.gradients", "status": "completed"}}
    (run / "metrics.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="study"):
        ep.load(run)
    meta["meta"]["study"], meta["meta"]["status"] = "ep.digits", "interrupted"
    (run / "metrics.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="unfinished"):
        ep.load(run)
    meta["meta"]["status"] = "completed"
    (run / "metrics.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="no trained network"):
        ep.load(run)


@pytest.mark.slow
@pytest.mark.skipif(not (ep.default_data_path() or pathlib.Path("")).is_file(), reason="Hillenbrand vowels CSV not available")
def test_vowel_training_resumes_exactly_from_its_checkpoint(tmp_path, monkeypatch):
    # Two epochs of one member; a run killed during the second epoch resumes from the checkpoint written
    # after the first and ends with the same networks and metrics as an uninterrupted run.
    sets = ["epochs=2", "modes=[omega_only]", "inits=[random]"]
    resolved = resolve(CONFIGS / "vowels_smoke.yaml", sets)
    module = resolved.module
    monkeypatch.setattr(module, "CHECKPOINT_EPOCHS", 1)
    whole, _ = execute(resolved, tmp_path / "whole", quiet=True)
    real = module.train

    def crashing(*args, batch_fn, num_steps, **kwargs):
        def batch(step, key):
            if step == num_steps // 2 + 3:
                raise RuntimeError("simulated crash")
            return batch_fn(step, key)

        return real(*args, batch_fn=batch, num_steps=num_steps, **kwargs)

    monkeypatch.setattr(module, "train", crashing)
    with pytest.raises(RuntimeError, match="simulated crash"):
        execute(resolve(CONFIGS / "vowels_smoke.yaml", sets), tmp_path / "cut", quiet=True)
    monkeypatch.setattr(module, "train", real)
    resumed, _ = execute(resolve(CONFIGS / "vowels_smoke.yaml", sets), tmp_path / "cut", quiet=True, resume=True)
    assert "resumed from" in (tmp_path / "cut" / "run.log").read_text()
    assert {k: v for k, v in resumed.items() if k != "train_seconds"} == \
        {k: v for k, v in whole.items() if k != "train_seconds"}
    a, b = (np.load(tmp_path / d / "arrays.npz") for d in ("whole", "cut"))
    np.testing.assert_array_equal(a["omega"], b["omega"])
