"""Scale-out: batch sharding over 4 virtual CPU devices, and a 2-process jax.distributed run.

The virtual devices need XLA_FLAGS before JAX is imported, so those checks run in
fresh Python processes; the parent only reads their JSON/npz reports.
"""

import functools
import json
import os
import socket
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from kuramoto_jax import parallel as kp

# A sweep over coupling strength K of a small heterogeneous mean-field network,
# saved as the time-averaged R and the final phases (float64).
SWEEP = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    jax.config.update("jax_enable_x64", True)
    import kuramoto_jax as kj

    N = 12
    omega = jnp.asarray(np.random.default_rng(0).normal(size=N))
    theta0 = jnp.asarray(np.random.default_rng(1).uniform(0, 2 * np.pi, size=N))

    def sweep_point(K):
        model = kj.Kuramoto(omega, kj.MeanField(K))
        sol = kj.simulate(model, theta0, t1=4.0, dt=0.1, ts=jnp.linspace(2.0, 4.0, 5))
        R, _ = kj.order_parameter(sol.theta)
        return {"R": R.mean(), "theta": sol.theta[-1]}
    """
)

FOUR_DEVICES = SWEEP + textwrap.dedent(
    """
    import json, sys
    from jax.sharding import NamedSharding
    from kuramoto_jax import parallel as kp

    rep = {"devices": len(jax.devices())}
    Ks = np.linspace(0.0, 4.0, 12)          # 12 = 3 per device
    ref = jax.jit(jax.vmap(sweep_point))(jnp.asarray(Ks))
    out = kp.batch_map(sweep_point, Ks)
    rep["out_devices"] = sorted(s.device.id for s in out["R"].addressable_shards)
    rep["shard_rows"] = sorted([s.index[0].start, s.index[0].stop] for s in out["theta"].addressable_shards)
    rep["sharded_spec"] = str(out["theta"].sharding.spec)
    rep["err_R"] = float(np.max(np.abs(np.asarray(out["R"]) - np.asarray(ref["R"]))))
    rep["err_theta"] = float(np.max(np.abs(np.asarray(out["theta"]) - np.asarray(ref["theta"]))))
    # B = 10 is not a multiple of 4: padded, then trimmed.
    pad = kp.batch_map(sweep_point, Ks[:10], gather=True)
    rep["pad_shape"] = list(pad["theta"].shape)
    rep["err_pad"] = float(np.max(np.abs(pad["theta"] - np.asarray(ref["theta"][:10]))))
    # Cheap function for the variants (each diffrax compile costs seconds):
    # per-device chunks of 2 (lax.map), the compiler-propagated variant, 2 devices.
    f1 = lambda x: {"y": jnp.sin(x) ** 2 + x, "s": jnp.sum(x)}
    x = np.arange(24.0).reshape(12, 2)
    y_ref = {"y": np.sin(x) ** 2 + x, "s": x.sum(1)}
    err = lambda a: max(float(np.max(np.abs(np.asarray(a[k]) - y_ref[k]))) for k in y_ref)
    rep["err_chunk"] = err(kp.batch_map(f1, x, batch_size=2, gather=True))
    rep["err_jit"] = err(kp.batch_map(f1, x, mode="jit", gather=True))
    two = kp.batch_map(f1, x, devices=2)
    rep["two_devices"] = sorted(s.device.id for s in two["y"].addressable_shards)
    rep["err_two"] = err(two)
    # Batch along axis 1 of the inputs and the outputs.
    f2 = lambda x: x ** 2 + 1.0
    y = kp.batch_map(f2, x.T, batch_axis=1)
    rep["axis1_spec"] = str(y.sharding.spec)
    rep["err_axis1"] = float(np.max(np.abs(np.asarray(y) - (x.T ** 2 + 1.0))))

    # Data-parallel gradient: batch sharded, parameters replicated; equals one device.
    def loss(params, batch):
        # phases of uncoupled rotators at t = 1.5 plus a mean-field pull (no solver: cheap to compile)
        th = batch + 1.5 * params["omega"]
        R, psi = kj.order_parameter(th)
        th = th + params["K"] * R[:, None] * jnp.sin(psi[:, None] - th)
        return jnp.mean(kj.circular_variance(th))
    params = {"omega": omega, "K": jnp.asarray(1.5)}
    batch = jnp.asarray(np.random.default_rng(2).uniform(0, 2 * np.pi, size=(8, N)))
    g_ref = jax.jit(jax.grad(loss))(params, batch)
    g_dp = jax.jit(jax.grad(loss))(kp.replicate(params), kp.shard_batch(batch))
    rep["grad_batch_spec"] = str(kp.shard_batch(batch).sharding.spec)
    rep["err_grad"] = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                          for a, b in zip(jax.tree.leaves(g_ref), jax.tree.leaves(g_dp)))
    rep["grad_scale"] = float(np.max(np.abs(np.asarray(g_ref["omega"]))))
    print("REPORT" + json.dumps(rep))
    """
)

WORKER = textwrap.dedent(
    """
    import sys
    from kuramoto_jax import parallel as kp

    # Before any JAX computation: coordinator, count and id from KURAMOTO_JAX_* variables.
    assert kp.initialize()
    """
) + SWEEP + textwrap.dedent(
    """
    Ks = np.linspace(0.0, 4.0, 8)
    out = kp.batch_map(sweep_point, Ks, devices="all")
    rows = np.array([[s.index[0].start, s.index[0].stop] for s in out["theta"].addressable_shards])
    local = np.concatenate([np.asarray(s.data) for s in out["theta"].addressable_shards])
    full = kp.gather(out)
    # Typed PRNG keys as the batched input (one per sweep point).
    keys = jax.random.split(jax.random.key(7), 8)
    draw = lambda k: jax.random.normal(k, (3,))
    draws = kp.batch_map(draw, keys, gather=True)
    draws_err = float(np.max(np.abs(draws - np.asarray(jax.vmap(draw)(keys)))))
    np.savez(sys.argv[1], rows=rows, local=local, full_theta=full["theta"], full_R=full["R"], draws_err=draws_err,
             process=jax.process_index(), count=jax.process_count(), ndev=len(jax.devices()))
    jax.distributed.shutdown()
    """
)


def _env(devices):
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["JAX_PLATFORMS"] = "cpu"
    for name in (kp.ENV_COORDINATOR, kp.ENV_NUM_PROCESSES, kp.ENV_PROCESS_ID):
        env.pop(name, None)
    return env


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.cache
def _reference_sweep_points(points):
    return _reference_sweep(np.linspace(0.0, 4.0, points))


def _reference_sweep(Ks):
    scope = {}
    exec(SWEEP, scope)
    import jax.numpy as jnp

    return jax.vmap(scope["sweep_point"])(jnp.asarray(Ks))


def test_sweep_sharded_over_four_devices_equals_unsharded(tmp_path):
    script = tmp_path / "four.py"
    script.write_text(FOUR_DEVICES)
    res = subprocess.run(
        [sys.executable, str(script)], env=_env(4), capture_output=True, text=True, timeout=240
    )
    assert res.returncode == 0, res.stderr[-3000:]
    rep = json.loads(res.stdout.split("REPORT", 1)[1])
    assert rep["devices"] == 4
    assert rep["out_devices"] == [0, 1, 2, 3]
    assert rep["shard_rows"] == [[0, 3], [3, 6], [6, 9], [9, 12]]
    assert rep["sharded_spec"] in ("PartitionSpec('batch',)", "P('batch',)")
    for name in ("err_R", "err_theta", "err_pad", "err_chunk", "err_jit", "err_two", "err_axis1"):
        assert rep[name] < 1e-12, (name, rep[name])
    assert rep["pad_shape"] == [10, 12]
    assert rep["two_devices"] == [0, 1]
    assert rep["axis1_spec"] in ("PartitionSpec(None, 'batch')", "P(None, 'batch')")
    assert rep["grad_batch_spec"] in ("PartitionSpec('batch',)", "P('batch',)")
    assert rep["grad_scale"] > 1e-3  # a real gradient, not zeros
    assert rep["err_grad"] < 1e-12


def test_two_processes_compute_the_full_sweep_together(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    port = _free_port()
    procs = []
    for pid in range(2):
        env = _env(2)
        env.update(
            {kp.ENV_COORDINATOR: f"127.0.0.1:{port}", kp.ENV_NUM_PROCESSES: "2", kp.ENV_PROCESS_ID: str(pid)}
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, str(script), str(tmp_path / f"out{pid}.npz")],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=240)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log[-3000:]
    parts = [np.load(tmp_path / f"out{pid}.npz") for pid in range(2)]
    ref = _reference_sweep_points(8)
    rows = []
    for pid, part in enumerate(parts):
        assert int(part["process"]) == pid and int(part["count"]) == 2 and int(part["ndev"]) == 4
        # Each process computed a different half of the sweep on its own two devices...
        r = part["rows"]
        rows += [tuple(x) for x in r]
        want = np.concatenate([np.asarray(ref["theta"])[a:b] for a, b in r])
        np.testing.assert_allclose(part["local"], want, rtol=0, atol=1e-12)
        # ...and gather gives every process the whole sweep.
        np.testing.assert_allclose(part["full_theta"], ref["theta"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(part["full_R"], ref["R"], rtol=0, atol=1e-12)
        assert float(part["draws_err"]) == 0.0
    assert sorted(rows) == [(0, 2), (2, 4), (4, 6), (6, 8)]
    halves = [{a for a, _ in part["rows"]} for part in parts]
    assert not (halves[0] & halves[1])


# ---------------------------------------------------------------- in-process, one device


def test_batch_map_one_device_matches_vmap():
    f = lambda a, b: {"s": a.sum() * b, "p": a * b}
    a = np.arange(15.0).reshape(5, 3)
    b = np.linspace(1.0, 2.0, 5)
    out = kp.batch_map(f, a, b, devices=1)
    ref = jax.vmap(f)(a, b)
    np.testing.assert_allclose(np.asarray(out["p"]), np.asarray(ref["p"]))
    np.testing.assert_allclose(kp.batch_map(f, a, b, batch_size=2, gather=True)["s"], np.asarray(ref["s"]))


def test_pad_batch_repeats_last_example():
    x = np.arange(10.0).reshape(5, 2)
    padded, b = kp.pad_batch({"x": x}, 4)
    assert b == 5 and padded["x"].shape == (8, 2)
    np.testing.assert_array_equal(padded["x"][5:], np.tile(x[-1], (3, 1)))
    same, b = kp.pad_batch(x, 5)
    assert same is x and b == 5


def test_process_slice_covers_batch_once():
    for batch in (0, 1, 7, 10, 101):
        for n in (1, 2, 3, 8):
            seen = np.concatenate([np.arange(batch)[kp.process_slice(batch, p, n)] for p in range(n)])
            np.testing.assert_array_equal(seen, np.arange(batch))
    assert kp.process_slice(10) == slice(0, 10)


def test_resolve_devices():
    assert kp.resolve_devices() == jax.devices()
    assert kp.resolve_devices("all") == jax.devices()
    assert kp.resolve_devices(1) == jax.devices()[:1]
    assert kp.resolve_devices("1") == jax.devices()[:1]
    assert kp.resolve_devices(jax.devices()) == jax.devices()
    mesh = kp.make_mesh(1)
    assert mesh.axis_names == ("batch",) and kp.make_mesh(mesh) is mesh


@pytest.mark.parametrize(
    "bad, exc, words",
    [
        (0, ValueError, "between 1 and"),
        (10**6, ValueError, "between 1 and"),
        ("many", ValueError, "'many'"),
        ([], ValueError, "at least one"),
        (["cpu:0"], TypeError, "jax devices"),
        (True, TypeError, "True"),
        (2.5, TypeError, "2.5"),
    ],
)
def test_bad_devices(bad, exc, words):
    with pytest.raises(exc, match="`devices`") as err:
        kp.resolve_devices(bad)
    assert words in str(err.value)


def test_batch_map_bad_input():
    f = lambda x, y: x + y
    with pytest.raises(ValueError, match=r"batch size .* sizes \[3, 4\]"):
        kp.batch_map(f, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="`batch_axis`"):
        kp.batch_map(f, np.zeros(3), np.zeros(3), batch_axis=-1)
    with pytest.raises(ValueError, match="axis 1"):
        kp.batch_map(f, np.zeros(3), np.zeros(3), batch_axis=1)
    with pytest.raises(ValueError, match="`batch_size`"):
        kp.batch_map(f, np.zeros(3), np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="`mode`"):
        kp.batch_map(f, np.zeros(3), np.zeros(3), mode="pmap")
    with pytest.raises(TypeError, match="`fn`"):
        kp.batch_map(3, np.zeros(3))
    with pytest.raises(ValueError, match="empty"):
        kp.batch_map(lambda x: x, np.zeros(0))


def test_initialize_without_configuration_is_a_no_op(monkeypatch):
    for name in (kp.ENV_COORDINATOR, kp.ENV_NUM_PROCESSES, kp.ENV_PROCESS_ID):
        monkeypatch.delenv(name, raising=False)
    assert kp.initialize() is False
    monkeypatch.setenv(kp.ENV_NUM_PROCESSES, "1")
    assert kp.initialize() is False


def test_initialize_bad_configuration(monkeypatch):
    for name in (kp.ENV_COORDINATOR, kp.ENV_NUM_PROCESSES, kp.ENV_PROCESS_ID):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="missing \\['process_id'\\]"):
        kp.initialize("127.0.0.1:1234", 2)
    with pytest.raises(ValueError, match="`process_id` must lie in \\[0, 2\\), got 2"):
        kp.initialize("127.0.0.1:1234", 2, 2)
    with pytest.raises(ValueError, match="host:port"):
        kp.initialize("localhost", 2, 0)
    monkeypatch.setenv(kp.ENV_NUM_PROCESSES, "two")
    with pytest.raises(ValueError, match="KURAMOTO_JAX_NUM_PROCESSES must be an integer, got 'two'"):
        kp.initialize()


# ---------------------------------------------------------------- through the study runner

STUDY = textwrap.dedent(
    '''
    """Tiny sweep study spread over ctx.devices."""
    from dataclasses import dataclass

    import jax
    import numpy as np

    from kuramoto_jax import parallel as kp


    @dataclass
    class Config:
        seed: int = 0
        points: int = 8


    def run(config, ctx):
        # Imported here: _point builds JAX arrays, and the runner imports the study
        # before it calls jax.distributed.initialize (multi-process runs).
        from ._point import sweep_point

        Ks = np.linspace(0.0, 4.0, config.points)
        out = kp.batch_map(sweep_point, Ks, devices=ctx.devices)
        used = sorted({s.device.id for s in out["theta"].addressable_shards})
        full = kp.gather(out)
        ctx.save_arrays(R=full["R"], theta=full["theta"])
        return {"devices": len(ctx.devices), "shard_devices": len(used), "processes": jax.process_count()}
    '''
)


def _study_tree(root):
    """A package `scaleout_lab` registering its study `scaleout.sweep` through an entry point, laid out as
    pip installs it under root/site (put on PYTHONPATH), and a config root/configs/sweep.yaml."""
    site = root / "site"
    pkg = site / "scaleout_lab"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "_point.py").write_text(SWEEP)
    (pkg / "sweep.py").write_text(STUDY)
    info = site / "scaleout_lab-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: scaleout_lab\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[kuramoto_jax.studies]\nscaleout = scaleout_lab\n")
    (root / "configs").mkdir()
    (root / "configs" / "sweep.yaml").write_text("study: scaleout.sweep\ndevices: all\nprecision: float64\npoints: 8\n")
    return site


def test_study_runner_on_two_processes(tmp_path):
    """`kuramoto-jax run --coordinator ... --num-processes 2 --process-id i` on localhost:
    ctx.devices holds all 4 devices of both processes, batch_map spreads the sweep
    over them, process 0 writes the gathered sweep."""
    pytest.importorskip("kuramoto_jax.run")
    env = {**_env(2), "PYTHONPATH": str(_study_tree(tmp_path))}
    out = tmp_path / "out"
    port = _free_port()
    procs = []
    for pid in range(2):
        cmd = [sys.executable, "-m", "kuramoto_jax", "run", "configs/sweep.yaml", "--out", str(out), "--quiet",
               "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2", "--process-id", str(pid)]
        procs.append(subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True))
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=240)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log[-3000:]
    run = json.loads((out / "metrics.json").read_text())
    assert run["meta"]["status"] == "completed" and run["meta"]["devices"] == 4
    # 4 devices in all, each process's shards on its own 2.
    assert run["metrics"] == {"devices": 4, "shard_devices": 2, "processes": 2}
    arrays = np.load(out / "arrays.npz")
    ref = _reference_sweep_points(8)
    np.testing.assert_allclose(arrays["theta"], ref["theta"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(arrays["R"], ref["R"], rtol=0, atol=1e-12)
