"""Texture mosaics, the subset segmentation protocol, the k-means baselines and the textures study."""

import json
import pathlib
import sys

import jax
import numpy as np
import pytest

from kuramoto_jax import kuranet as kn
from kuramoto_jax.run import execute, resolve

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def skimage():
    return pytest.importorskip("skimage")


def test_mosaic_segments_have_equal_mean_and_contrast(skimage):
    img, seg = kn.texture_mosaic(48, 64, 4, seed=3, noise=0.0, illumination=0.0)
    assert img.shape == (48, 64, 3) and img.dtype == np.float32
    assert seg.shape == (48, 64) and seg.dtype == np.int32
    assert set(np.unique(seg)) == {0, 1, 2, 3}
    assert np.array_equal(img[..., 0], img[..., 2])  # grey textures: colour says nothing
    for s in range(4):
        v = img[..., 0][seg == s]
        assert v.mean() == pytest.approx(0.5, abs=0.01)  # up to clipping at 0 and 1
        assert v.std() == pytest.approx(0.15, abs=0.01)
    # Different regions hold different textures: their intensity histograms differ.
    hists = [np.histogram(img[..., 0][seg == s], bins=8, range=(0, 1), density=True)[0] for s in range(4)]
    assert min(np.abs(hists[a] - hists[b]).sum() for a in range(4) for b in range(a + 1, 4)) > 0.5


def test_mosaic_is_deterministic_per_seed(skimage):
    a = kn.texture_mosaic(32, 32, 3, seed=5)
    b = kn.texture_mosaic(32, 32, 3, seed=5)
    c = kn.texture_mosaic(32, 32, 3, seed=6)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_illumination_is_a_linear_ramp_of_the_given_amplitude(skimage):
    flat, seg = kn.texture_mosaic(40, 50, 3, seed=2, noise=0.0, illumination=0.0)
    lit, seg2 = kn.texture_mosaic(40, 50, 3, seed=2, noise=0.0, illumination=0.2)
    assert np.array_equal(seg, seg2)
    d = (lit - flat)[..., 0].astype(float)
    ok = (flat[..., 0] > 0.15) & (flat[..., 0] < 0.85)  # pixels that neither image clips
    qq, pp = np.mgrid[0:40, 0:50]
    A = np.stack([pp[ok], qq[ok], np.ones(ok.sum())], 1)
    coef, *_ = np.linalg.lstsq(A, d[ok], rcond=None)
    assert np.abs(A @ coef - d[ok]).max() < 1e-5  # a plane
    corners = np.array([[0, 0, 1], [49, 0, 1], [0, 39, 1], [49, 39, 1]]) @ coef
    assert corners.max() - corners.min() == pytest.approx(0.2, abs=1e-5)  # peak to peak


@pytest.mark.parametrize("kwargs, name", [
    (dict(num_segments=6), "num_segments"), (dict(num_segments=1), "num_segments"), (dict(height=4), "height"),
    (dict(noise=-0.1), "noise"), (dict(illumination=float("nan")), "illumination"), (dict(seed=-1), "seed"),
    (dict(textures=("brick", "marble")), "textures"), (dict(width=2.5), "width")])
def test_mosaic_bad_arguments_name_the_argument(skimage, kwargs, name):
    args = dict(height=32, width=32, num_segments=3, seed=0) | kwargs
    with pytest.raises(ValueError, match=f"`{name}`"):
        kn.texture_mosaic(**args)


def test_missing_scikit_image_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)
    monkeypatch.setitem(sys.modules, "skimage.data", None)
    with pytest.raises(ImportError, match=r"kuramoto-jax\[images\]"):
        kn.texture_mosaic(32, 32, 2)


def test_local_texture_features_match_a_direct_window():
    rng = np.random.default_rng(0)
    img = rng.uniform(0, 1, (12, 10, 3)).astype(np.float32)
    f = kn.local_texture_features(img, 3).reshape(12, 10, 2)
    g = img.astype(float).mean(-1)
    for q, p in [(5, 4), (1, 1), (10, 8)]:  # interior pixels: the full 3 x 3 window
        w = g[q - 1:q + 2, p - 1:p + 2]
        assert f[q, p, 0] == pytest.approx(w.mean(), abs=1e-5)
        assert f[q, p, 1] == pytest.approx(w.std(), abs=1e-4)
    with pytest.raises(ValueError, match="`window`"):
        kn.local_texture_features(img, 0)


def _fitted_on_small_image(members=2):
    img, seg = kn.segmentation_image(8, 8, 3, seed=1)
    train, _, k, whole = kn.image_pools(img, seg, jax.random.key(0))
    task = kn.ClusterTask(k, n=12, burn_in_steps=2, window_steps=6)
    fitted = kn.fit(task, train, key=jax.random.key(1), members=members, steps=2, hidden=(8,), val_graphs=2,
                    val_every=1)
    return task, fitted, whole


def test_subset_protocol_with_one_whole_image_subset_is_the_whole_network():
    task, fitted, whole = _fitted_on_small_image()
    key = jax.random.PRNGKey(4)  # a legacy key as well
    dense = kn.segment(task, fitted, whole, key)
    sub = kn.segment_subsets(task, fitted, whole, key, subset=64, rounds=1)
    np.testing.assert_allclose(sub["phases"], dense["phases"], atol=1e-5)
    assert sub["sbd"] == pytest.approx(dense["sbd"])


def test_a_subset_round_moves_only_its_pixels():
    task, fitted, whole = _fitted_on_small_image(members=1)
    key = jax.random.key(7)
    theta0 = np.asarray(task.whole(key, whole)["theta0"])
    after = kn.subset_phases(task, fitted.nets, whole, key, subset=20, rounds=1)[0]
    assert int(np.sum(after != theta0)) == 20
    # A second round on other pixels moves more of them; the first round's pixels keep their phases
    # unless drawn again.
    two = kn.subset_phases(task, fitted.nets, whole, key, subset=20, rounds=2)[0]
    assert int(np.sum(two != theta0)) > 20
    with pytest.raises(ValueError, match="`subset`"):
        kn.subset_phases(task, fitted.nets, whole, key, subset=65, rounds=1)


def test_kmeans_baselines_score_one_on_a_separable_image():
    seg = np.zeros((20, 30), np.int32)
    seg[:, 10:] = 1
    seg[12:, 20:] = 2
    colours = np.array([[0.1, 0.2, 0.9], [0.8, 0.1, 0.1], [0.2, 0.9, 0.3]])
    img = colours[seg] + 0.01 * np.random.default_rng(0).normal(size=(20, 30, 3))
    pixels = kn.kmeans_segments(img.reshape(-1, 3), 3)
    feats = kn.kmeans_segments(kn.pixel_features(img), 3)
    assert kn.symmetric_best_dice(pixels, seg) == 1.0
    assert kn.symmetric_best_dice(feats, seg) == 1.0
    with pytest.raises(ValueError, match="`k`"):
        kn.kmeans_segments(img.reshape(-1, 3), 1)


def test_texture_study_smoke_run(skimage, tmp_path):
    resolved = resolve(ROOT / "configs" / "kuranet" / "texture_mosaic_smoke.yaml", [])
    execute(resolved, tmp_path / "run", quiet=True)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    m = saved["metrics"]
    assert saved["meta"]["status"] == "completed"
    for name in ("sbd", "sbd_kmeans_pixels", "sbd_kmeans_features"):
        assert m[name] == pytest.approx(np.mean([m[f"img{i}_{name}"] for i in range(2)]))
        assert 0 < m[name] <= 1
    assert (tmp_path / "run" / "figures" / "segmentation.png").exists()
    arrays = np.load(tmp_path / "run" / "arrays.npz")
    assert arrays["img1_segments"].shape == (24, 24)


def test_config_errors_name_the_key():
    from kuramoto_jax.run import ConfigError

    with pytest.raises(ConfigError, match="mosaic.segments"):
        resolve(ROOT / "configs" / "kuranet" / "texture_mosaic_smoke.yaml", ["mosaic.segments=9"])
    with pytest.raises(ConfigError, match="images"):
        resolve(ROOT / "configs" / "kuranet" / "texture_mosaic_smoke.yaml", ["images=[-1]"])


def test_image_pools_take_extra_features_and_split_all_pixels_in_halves():
    img, seg = kn.segmentation_image(6, 8, 2, seed=0)
    extra = np.concatenate([kn.pixel_features(img), kn.local_texture_features(img, 3)], 1)
    train, test, k, (x, y) = kn.image_pools(img, seg, jax.random.key(0), extra)
    assert x.shape == (48, 7) and train[0].shape == (24, 7) and test[0].shape == (24, 7) and k == 2
    both = np.concatenate([np.asarray(train[0]), np.asarray(test[0])])
    assert sorted(map(tuple, both.tolist())) == sorted(map(tuple, np.asarray(x).tolist()))
    with pytest.raises(ValueError, match="`features`"):
        kn.image_pools(img, seg, jax.random.key(0), extra[:10])
