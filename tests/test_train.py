"""Training helper: optax steps, checkpoints, exact resume, non-finite stops, best-so-far."""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from kuramoto_jax.run import RunContext, TrainingError, load_checkpoint, train

X = jnp.linspace(-1.0, 1.0, 32)


def batch_fn(step, key):
    # a fresh noisy regression batch per step, deterministic in (step, key)
    noise = 0.1 * jax.random.normal(key, X.shape)
    return X, 2.0 * X - 0.5 + noise


def loss_fn(params, batch, key):
    x, y = batch
    drop = jax.random.bernoulli(key, 0.9, x.shape)  # uses the loss key too
    return jnp.mean(drop * (params["w"] * x + params["b"] - y) ** 2)


def ctx_in(path, resume=False):
    return RunContext(path, quiet=True, resume=resume, devices=jax.devices()[:1], process_index=0, process_count=1)


PARAMS = {"w": jnp.zeros(()), "b": jnp.zeros(())}
ADAM = optax.adam(0.05)  # one object: train() calls with the same functions share a compilation


def run(path, resume=False, **kw):
    args = dict(params=PARAMS, optimizer=ADAM, num_steps=30, key=jax.random.key(3),
                batch_fn=batch_fn, checkpoint_every=7)
    args.update(kw)
    return train(loss_fn, ctx=ctx_in(path, resume), **args)


def same_tree(a, b):
    a, b = (jax.tree.map(lambda x: jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x, t)
            for t in (a, b))
    return all(np.array_equal(np.asarray(x), np.asarray(y)) for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


def test_matches_a_hand_written_optax_loop(tmp_path):
    res = run(tmp_path)
    opt = optax.adam(0.05)
    p, s = PARAMS, opt.init(PARAMS)
    key = jax.random.key(3)
    losses = []

    @jax.jit
    def step_fn(p, s, step):
        kb, kl = jax.random.split(jax.random.fold_in(key, step))
        loss, g = jax.value_and_grad(loss_fn)(p, batch_fn(step, kb), kl)
        u, s = opt.update(g, s, p)
        return optax.apply_updates(p, u), s, loss

    for step in range(30):
        p, s, loss = step_fn(p, s, step)
        losses.append(float(loss))
    # float32: the batch drawn outside the jitted step rounds apart from the fused loop (~1 ulp per step)
    np.testing.assert_allclose(res.history["loss"], losses, rtol=2e-6)
    for k in p:
        np.testing.assert_allclose(res.params[k], p[k], rtol=1e-5)
    assert res.step == 30 and list(res.history["step"]) == list(range(30))
    assert res.history["loss"][-1] < 0.2 * res.history["loss"][0]
    j = int(np.argmin(res.history["loss"]))
    assert res.best_step == j and res.best_loss == res.history["loss"][j]
    assert res.params["w"].dtype == PARAMS["w"].dtype  # parameters keep their dtype


def test_stop_and_resume_is_bit_identical(tmp_path):
    full = run(tmp_path / "full")
    part = run(tmp_path / "part", stop_after=12)
    assert part.stopped and part.step == 12
    # a resumed run starts from the checkpoint written when it stopped (step 12), not from scratch
    _, extra = load_checkpoint(tmp_path / "part" / "checkpoints" / "train.npz", part.state)
    assert int(extra["step"]) == 12
    resumed = run(tmp_path / "part", resume=True)
    assert resumed.step == 30 and not resumed.stopped
    assert same_tree(resumed.params, full.params)
    assert same_tree(resumed.best_params, full.best_params) and resumed.best_step == full.best_step
    for k in full.history:
        assert np.array_equal(resumed.history[k], full.history[k]), k
    # resuming a finished run returns its result without further steps
    again = run(tmp_path / "part", resume=True)
    assert same_tree(again.params, full.params) and again.step == 30


def test_killed_run_resumes_from_last_checkpoint(tmp_path):
    full = run(tmp_path / "full")

    def crashing(step, key):
        if step == 17:
            raise KeyboardInterrupt  # as if the process were killed during step 17
        return batch_fn(step, key)

    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "crash", batch_fn=crashing)
    ckpts = list((tmp_path / "crash" / "checkpoints").iterdir())
    assert [c.name for c in ckpts] == ["train.npz"]  # no temporary files left behind
    resumed = run(tmp_path / "crash", resume=True)
    assert same_tree(resumed.params, full.params)
    assert np.array_equal(resumed.history["loss"], full.history["loss"])


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    def bad_loss(params, batch, key):
        x, y = batch
        loss = loss_fn(params, batch, key)
        return jnp.where(x[0] > 0, jnp.nan, loss)  # the batch of step 9 flags itself

    def flagged(step, key):
        x, y = batch_fn(step, key)
        return (x.at[0].set(1.0) if step == 9 else x), y

    with pytest.raises(TrainingError, match=r"non-finite loss \(nan\) at step 9; the last good checkpoint \(step 7\)"):
        train(bad_loss, params=PARAMS, optimizer=ADAM, num_steps=30, key=jax.random.key(3),
              batch_fn=flagged, ctx=ctx_in(tmp_path), checkpoint_every=7)
    template = train(loss_fn, params=PARAMS, optimizer=ADAM, num_steps=0, key=jax.random.key(3)).state
    state, extra = load_checkpoint(tmp_path / "checkpoints" / "train.npz", template)
    assert int(extra["step"]) == 7 and int(state.step) == 7
    assert all(np.isfinite(np.asarray(v)) for v in state.params.values())


def test_grad_fn_equals_autodiff_and_module_params(tmp_path, x64):
    class Line(eqx.Module):
        w: jax.Array
        b: jax.Array
        name: str = eqx.field(static=True, default="line")

    def mloss(m, batch, key):
        x, y = batch
        return jnp.mean((m.w * x + m.b - y) ** 2)

    def grads(m, batch, key):
        x, y = batch
        r = m.w * x + m.b - y
        g = Line(w=jnp.mean(2 * r * x), b=jnp.mean(2 * r))
        return jnp.mean(r**2), g

    m0 = Line(jnp.zeros(()), jnp.zeros(()))
    common = dict(params=m0, optimizer=optax.sgd(0.1), num_steps=20, key=jax.random.key(0), batch_fn=batch_fn)
    a = train(mloss, **common)
    b = train(grad_fn=grads, **common)
    assert isinstance(a.params, Line) and a.params.name == "line"
    np.testing.assert_allclose([a.params.w, a.params.b], [b.params.w, b.params.b], rtol=1e-12)
    assert a.history["loss"][-1] < 0.5 * a.history["loss"][0]


def test_eval_fn_tracks_best_and_aux_goes_to_history(tmp_path):
    def aux_loss(params, batch, key):
        loss = loss_fn(params, batch, key)
        return loss, {"w": params["w"]}

    evals = []

    def eval_fn(params, key):
        v = float((params["w"] - 1.0) ** 2)  # best when w passes 1 on its way to 2
        evals.append(v)
        return {"loss": v, "b": float(params["b"])}

    res = train(aux_loss, params=PARAMS, optimizer=ADAM, num_steps=40, key=jax.random.key(3),
                batch_fn=batch_fn, has_aux=True, eval_fn=eval_fn, eval_every=5)
    assert list(res.history["eval_step"]) == list(range(5, 41, 5))
    assert len(res.history["w"]) == 40 and "eval_b" in res.history
    j = int(np.argmin(res.history["eval_loss"]))
    assert res.best_step == res.history["eval_step"][j]
    assert math.isclose(float((res.best_params["w"] - 1.0) ** 2), res.history["eval_loss"][j])


def test_bad_arguments():
    with pytest.raises(TypeError, match="exactly one of `loss_fn` or `grad_fn`"):
        train(params=PARAMS, optimizer=optax.sgd(0.1), num_steps=3, key=jax.random.key(0))
    with pytest.raises(ValueError, match="`num_steps` must be an integer >= 0, got -1"):
        train(loss_fn, params=PARAMS, optimizer=optax.sgd(0.1), num_steps=-1, key=jax.random.key(0))
    with pytest.raises(ValueError, match="`checkpoint_every`"):
        train(loss_fn, params=PARAMS, optimizer=optax.sgd(0.1), num_steps=3, key=jax.random.key(0),
              checkpoint_every=0)
    with pytest.raises(TypeError, match="`key` must be a PRNG key"):
        train(loss_fn, params=PARAMS, optimizer=optax.sgd(0.1), num_steps=3, key=3)


# ---------------------------------------------------------------- ensembles

M = 3
CLIPPED = optax.chain(optax.clip_by_global_norm(0.05), optax.adam(0.05))  # clipping active on every step


def member_params(m):
    return {"w": jnp.asarray(0.5 * m - 0.5), "b": jnp.asarray(0.2 * m)}


def stacked():
    return jax.tree.map(lambda *a: jnp.stack(a), *[member_params(m) for m in range(M)])


def ens_batch(step, keys):  # each member's own batch from its own key
    return jax.vmap(lambda k: batch_fn(step, k))(keys)


def test_ensemble_is_independent_trainings_with_own_clipping():
    key = jax.random.key(5)
    ens = train(loss_fn, params=stacked(), optimizer=CLIPPED, num_steps=25, key=key, batch_fn=ens_batch,
                ensemble=M, log_every=10)
    assert ens.history["loss"].shape == (25, M)
    for m in range(M):
        one = train(loss_fn, params=member_params(m), optimizer=CLIPPED, num_steps=25,
                    key=jax.random.fold_in(key, m), batch_fn=batch_fn)
        for k in ("w", "b"):
            np.testing.assert_allclose(ens.params[k][m], one.params[k], rtol=2e-5, atol=1e-6)
        np.testing.assert_allclose(ens.history["loss"][:, m], one.history["loss"], rtol=2e-5, atol=1e-6)
        assert ens.best_step[m] == one.best_step
    # The members differ (own init and own batches): a shared clipping norm or stream would couple them.
    assert len({float(w) for w in ens.params["w"]}) == M


def test_ensemble_skips_non_finite_steps_per_member():
    def poisoned(step, keys):
        x, y = ens_batch(step, keys)
        return x, y.at[1].set(jnp.nan) if step == 5 else y  # member 1, step 5 only

    common = dict(params=stacked(), optimizer=CLIPPED, num_steps=12, key=jax.random.key(1), ensemble=M)
    with pytest.raises(TrainingError, match=r"at step 5 \(members \[1\]\)"):
        train(loss_fn, batch_fn=poisoned, **common)
    res = train(loss_fn, batch_fn=poisoned, skip_nonfinite=True, **common)
    clean = train(loss_fn, batch_fn=ens_batch, skip_nonfinite=True, **common)
    assert list(res.skipped) == [0, 1, 0] and list(clean.skipped) == [0, 0, 0]
    assert np.isnan(res.history["loss"][5, 1]) and np.all(np.isfinite(np.asarray(res.params["w"])))
    for m in (0, 2):  # the other members never see member 1's step
        assert float(res.params["w"][m]) == float(clean.params["w"][m])
    assert float(res.params["w"][1]) != float(clean.params["w"][1])


def eval_dist(params, key):
    return {"loss": (params["w"] - 1.0) ** 2, "b": params["b"] + 0.0 * jax.random.normal(key)}


def test_ensemble_selects_each_members_best_by_its_own_eval(tmp_path):
    res = train(loss_fn, params=stacked(), optimizer=ADAM, num_steps=40, key=jax.random.key(3), batch_fn=ens_batch,
                ensemble=M, eval_fn=eval_dist, eval_every=5)
    ev = res.history["eval_loss"]
    assert ev.shape == (8, M) and list(res.history["eval_step"]) == list(range(5, 41, 5))
    for m in range(M):
        j = int(np.argmin(ev[:, m]))
        assert res.best_step[m] == res.history["eval_step"][j]
        assert float((res.best_params["w"][m] - 1.0) ** 2) == pytest.approx(float(ev[j, m]), rel=1e-6)
    assert res.best_member == int(np.argmin(res.best_loss))
    with pytest.raises(ValueError, match="`select`='acc' is not an output of `eval_fn`"):
        train(loss_fn, params=stacked(), optimizer=ADAM, num_steps=5, key=jax.random.key(3), batch_fn=ens_batch,
              ensemble=M, eval_fn=eval_dist, select="acc")


def test_ensemble_stop_and_resume_is_bit_identical(tmp_path):
    kw = dict(params=stacked(), optimizer=CLIPPED, num_steps=20, key=jax.random.key(4), batch_fn=ens_batch,
              ensemble=M, eval_fn=eval_dist, eval_every=4, checkpoint_every=6, skip_nonfinite=True)
    full = train(loss_fn, ctx=ctx_in(tmp_path / "full"), **kw)
    part = train(loss_fn, ctx=ctx_in(tmp_path / "part"), stop_after=10, **kw)
    assert part.stopped and part.step == 10
    resumed = train(loss_fn, ctx=ctx_in(tmp_path / "part", resume=True), **kw)
    assert same_tree(eqx.filter(resumed.state, eqx.is_array), eqx.filter(full.state, eqx.is_array))
    for k in full.history:
        assert np.array_equal(resumed.history[k], full.history[k]), k


def test_checkpoint_leaves_are_named(tmp_path):
    res = run(tmp_path)
    with np.load(tmp_path / "checkpoints" / "train.npz", allow_pickle=False) as z:
        names = set(z.files)
    assert {"tree.params['w']", "tree.best_params['b']", "tree.opt_state[0].mu['w']", "tree.key"} <= names
    # A changed model is refused with the names that differ.
    from kuramoto_jax.run import RunError

    other = eqx.tree_at(lambda s: s.params, res.state, {"w": jnp.zeros(()), "c": jnp.zeros(())})
    with pytest.raises(RunError, match=r"missing \[\"tree.params\['c'\]\"\]"):
        load_checkpoint(tmp_path / "checkpoints" / "train.npz", other)


def test_tensorboard_event_files(tmp_path):
    pytest.importorskip("tensorboardX")
    import struct

    from tensorboardX.proto import event_pb2

    res = run(tmp_path, num_steps=12, log_every=5, tensorboard=True)
    files = list((tmp_path / "tensorboard" / "train").glob("events.out.tfevents.*"))
    assert len(files) == 1
    data, pos, values = files[0].read_bytes(), 0, {}
    while pos < len(data):  # TFRecord framing: length, crc, event, crc
        (n,) = struct.unpack("<Q", data[pos:pos + 8])
        ev = event_pb2.Event.FromString(data[pos + 12:pos + 12 + n])
        pos += n + 16
        for v in ev.summary.value:
            values[(v.tag, ev.step)] = v.simple_value
    assert sorted(s for t, s in values if t == "loss") == list(range(12))
    assert values[("loss", 7)] == pytest.approx(res.history["loss"][7], rel=1e-6)
