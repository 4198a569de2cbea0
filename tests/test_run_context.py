"""The run context: named random streams, the run's precision and devices, reading run folders back."""

from __future__ import annotations

import json
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kuramoto_jax as kj
from kuramoto_jax import parallel
from kuramoto_jax.run import RunContext, execute, load_run, resolve


def _data(key):
    return np.asarray(jax.random.key_data(key))


def test_streams_differ_by_purpose_member_and_seed_and_never_shift():
    keys = {
        "init 0/0": kj.stream_key(0, "init", 0),
        "init 0/1": kj.stream_key(0, "init", 1),
        "init 1/0": kj.stream_key(1, "init", 0),
        "data 0/0": kj.stream_key(0, "data", 0),
        "init 0": kj.stream_key(0, "init"),
    }
    datas = {name: tuple(_data(k)) for name, k in keys.items()}
    assert len(set(datas.values())) == len(datas)
    # `seed + member` would make member 1 of seed 0 the stream of member 0 of seed 1.
    a = jax.random.normal(keys["init 0/1"], (64,))
    b = jax.random.normal(keys["init 1/0"], (64,))
    assert not np.allclose(a, b)
    # Deterministic, and the same under a typed or a legacy root key.
    np.testing.assert_array_equal(_data(kj.stream_key(0, "init", 1)), datas["init 0/1"])
    np.testing.assert_array_equal(_data(kj.stream_key(jax.random.PRNGKey(0), "init", 1)),
                                  _data(kj.stream_key(jax.random.key(0), "init", 1)))


@pytest.mark.parametrize("args, err, fragment", [
    ((-1,), ValueError, "`seed` must be a non-negative integer"),
    ((0, 1.5), TypeError, "`path[0]` must be a str name or an int index"),
    ((0, "a", -2), ValueError, "`path[1]` must be a name or an index"),
    (("seed",), TypeError, "`seed` must be a PRNG key"),
])
def test_stream_key_rejects_bad_input(args, err, fragment):
    with pytest.raises(err) as info:
        kj.stream_key(*args)
    assert fragment in str(info.value)


def test_context_key_is_the_named_stream_of_the_config_seed(tmp_path):
    ctx = RunContext(tmp_path, quiet=True, seed=7, devices=jax.devices()[:1])
    np.testing.assert_array_equal(_data(ctx.key("init", 2)), _data(kj.stream_key(7, "init", 2)))
    assert ctx.dtype == np.float32
    with pytest.raises(ValueError, match="`precision` must be one of"):
        RunContext(tmp_path, quiet=True, precision="half")


def test_use_devices_sets_batch_maps_default_and_records_what_ran():
    dev = jax.devices()[:1]
    assert parallel.batch_map(lambda x: 2 * x, np.arange(3.0), gather=True).tolist() == [0.0, 2.0, 4.0]
    with parallel.use_devices(dev) as usage:
        assert usage.calls == 0 and usage.max_devices == 0
        parallel.batch_map(lambda x: x + 1, np.arange(5.0))
        parallel.batch_map(lambda x: x + 1, np.arange(2.0))
    assert usage.calls == 2 and usage.max_devices == 1 and usage.device_ids == {dev[0].id}
    # outside the block nothing is recorded any more
    parallel.batch_map(lambda x: x, np.arange(2.0))
    assert usage.calls == 2


def test_batch_map_cache_does_not_keep_the_function_alive():
    big = jnp.ones(1000)

    def fn(x):
        return x * big.sum()

    ref = weakref.ref(fn)
    out = parallel.batch_map(fn, np.arange(3.0), gather=True)
    np.testing.assert_allclose(out, [0.0, 1000.0, 2000.0])
    # the second call reuses the compiled program (same function object)
    assert len(parallel._COMPILED[fn]) == 1
    parallel.batch_map(fn, np.arange(3.0))
    assert len(parallel._COMPILED[fn]) == 1
    del fn
    import gc

    gc.collect()
    assert ref() is None


def test_run_precision_holds_inside_the_run_only(tmp_path):
    assert not jax.config.jax_enable_x64
    res = resolve("quickstart_smoke", ["precision=float64", "devices=1"])
    execute(res, tmp_path / "r64", quiet=True)
    meta = json.loads((tmp_path / "r64" / "metrics.json").read_text())["meta"]
    assert meta["precision"] == "float64" and meta["x64"] is True
    assert not jax.config.jax_enable_x64  # nothing global left changed
    arrays = np.load(tmp_path / "r64" / "arrays.npz")
    assert any(arrays[k].dtype == np.float64 for k in arrays.files)


def test_load_run_reads_a_finished_run_and_rejects_others(tmp_path):
    res = resolve("quickstart_smoke", ["devices=1"])
    execute(res, tmp_path / "q", quiet=True)
    run = load_run(tmp_path / "q", studies=("quickstart",))
    assert run.study == "quickstart" and run.meta["status"] == "completed" and run.config["n"] == res.config.n
    assert run.metrics
    with pytest.raises(ValueError, match="holds a run of study 'quickstart'; expected a run of 'kuranet.global_sync'"):
        load_run(tmp_path / "q", studies=("kuranet/global_sync",))
    with pytest.raises(ValueError, match="is not a run folder"):
        load_run(tmp_path, studies=("quickstart",))
    record = json.loads((tmp_path / "q" / "metrics.json").read_text())
    record["meta"]["status"] = "interrupted"
    (tmp_path / "q" / "metrics.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="holds an unfinished run \\(status 'interrupted'\\)"):
        load_run(tmp_path / "q")


def test_check_finite_names_the_argument_for_host_and_device_values():
    from kuramoto_jax import _validate as v

    for value in (np.array([1.0, np.nan]), jnp.array([1.0, jnp.inf]), [0.0, float("nan")]):
        with pytest.raises(ValueError, match=r"`K` must be finite, got 1 non-finite value"):
            v.check_finite("K", value)
    v.check_finite("K", jnp.ones(3))
