r"""The KuraNet protocol: `fit` trains a seed ensemble selected by validation, `evaluate` scores it.

`fit(task, pool, key=..., members=M, ...)` trains M coupling networks at once through
`kuramoto_jax.run.train(..., ensemble=M)`. Member m initialises from
stream_key(key, "init", m), its untrained control (same architecture and normalisation)
from stream_key(key, "control", m), and draws its own training graphs (one per step) from
its own stream. Every `val_every` steps each member is scored on `val_graphs` graphs of the
training pool (the same for all members); each keeps the parameters of its best check, and
the member with the lowest validation loss is the chosen one, never by test data. Steps
with a non-finite loss or gradient (rare: exploding gradients through long delayed runs)
are skipped for that member only.

`evaluate(task, fitted, test_pool, ...)` scores every member's kept network, its control
and, for clusters, the block control, in three regimes:

* Data: `eval_graphs` disjoint n-graphs of the test pool;
* Size: the whole training pool as ONE network (n = 10,000 in the paper's setting);
* Data+Size: the whole test pool as one network;

under two protocols: the training window (burn-in + window from θ(0), the trained loss),
and the reference code's evaluation script (`Reference`): the Data regime over the window
after `burn_in_steps` = 1000 Euler steps, the Size regimes on the single state after 5000.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any, Sequence

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

import kuramoto_jax as kj
from kuramoto_jax._validate import prng_key
from kuramoto_jax.parallel import batch_map

from ._coupling import CouplingFunction, PairMLP, coupling_matrix, init_coupling


def member(tree, j: int):
    """Member j of a pytree stacked over members (leading axis of every array leaf)."""
    return jax.tree.map(lambda x: x[j] if eqx.is_array(x) else x, tree)


@dataclasses.dataclass
class Fitted:
    """Outcome of `fit`.

    Attributes:
        task: the task trained.
        nets: every member's kept `PairMLP` (its best validation check), stacked (M, ...).
        controls: the untrained controls, stacked (M, ...).
        val: (M,) validation loss of the kept networks.
        best: index of the member chosen by validation.
        best_steps: (M,) the step of each kept network.
        skipped: (M,) steps skipped for a non-finite loss or gradient.
        history: `run.train`'s history ("loss" (T, M), aux such as "C_x" (T, M), "eval_loss" (E, M)).
        train_time_s: wall time of the training call.
        steps_run: steps taken by this call (fewer after a resume).
    """

    task: Any
    nets: PairMLP
    controls: PairMLP
    val: np.ndarray
    best: int
    best_steps: np.ndarray
    skipped: np.ndarray
    history: dict
    train_time_s: float
    steps_run: int

    @property
    def members(self) -> int:
        return int(self.val.shape[0])

    def model(self, j: int | None = None) -> CouplingFunction:
        """The coupling function of member j (default: the one chosen by validation)."""
        return CouplingFunction(member(self.nets, self.best if j is None else j), self.task.normalisation)


def _stack_init(keys, d, hidden, negative_slope, fourier_features=0, fourier_scale=1.0):
    return eqx.filter_vmap(lambda k: init_coupling(k, d, hidden, negative_slope, None, fourier_features,
                                                   fourier_scale))(keys)


# Entries `fit` adds to a scheduled task's training graphs: one value per member, not per graph.
_PER_MEMBER = ("progress", "member")


def fit(task, pool, *, key, members: int = 1, steps: int = 1000, optimizer=None, hidden: Sequence[int] = (32, 32),
        negative_slope: float = 0.2, val_graphs: int = 16, val_every: int = 100, checkpoint_every: int = 500,
        ctx=None, name: str = "kuranet", log_every: int = 50, val_task=None, fourier_features: int = 0,
        fourier_scale: float = 1.0, graphs_per_step: int = 1) -> Fitted:
    """Train a seed ensemble of coupling networks on `task` (see the module docstring).

    Args:
        task: a `GlobalTask` or `ClusterTask`.
        pool: the training pool: raw disorder (N, d) (global) or (x (N, d), labels (N,)) (clusters).
        key: the fit's base key (typed or legacy); members, controls, batches and validation
            graphs draw from named streams of it.
        members: M, the ensemble size (seeds trained at once).
        steps: training steps (`graphs_per_step` graphs per member each).
        optimizer: an optax transformation for one member (default Adam 1e-3, clipped at norm 1).
        hidden: hidden widths of the pair MLP.
        negative_slope: LeakyReLU slope.
        val_graphs: validation graphs (from the training pool).
        val_every: steps between validations (and one at the end).
        checkpoint_every: steps between checkpoints (with `ctx`).
        ctx: the study's RunContext (checkpoints, resume, log), or None.
        name: checkpoint name; the chosen model is also saved as `<name>_model.npz` for `load`.
        log_every: steps between pulls of the losses to the host.
        val_task: the task whose graphs and loss score validation (default `task`): the evaluated
            task when `task` trains with options that change training only (e.g. a cluster task's
            `initial_phases` or `energy_weight`), so members are kept and chosen on what is scored.
        fourier_features: m, the Fourier features of each oscillator's features (`PairMLP`; 0: the
            paper's MLP on the raw features).
        fourier_scale: std of the Fourier frequencies.
        graphs_per_step: B, graphs drawn per member and step; the loss (and its aux) is their mean
            (1: the paper's one graph per step, drawn exactly as before).

    Returns:
        A `Fitted`.
    """
    import optax

    from kuramoto_jax.run import save_checkpoint, train

    key = prng_key("key", key)
    if isinstance(members, bool) or not isinstance(members, (int, np.integer)) or members < 1:
        raise ValueError(f"`members` must be a positive int, got {members!r}")
    if isinstance(graphs_per_step, bool) or not isinstance(graphs_per_step, (int, np.integer)) or graphs_per_step < 1:
        raise ValueError(f"`graphs_per_step` must be a positive int, got {graphs_per_step!r}")
    if task.n > task.pool_size(pool):
        raise ValueError(f"the task's n = {task.n} exceeds the training pool ({task.pool_size(pool)} samples)")
    M, d = int(members), task.num_features(pool)
    keys = lambda purpose: jnp.stack([kj.stream_key(key, purpose, m) for m in range(M)])
    arch = (d, hidden, negative_slope, fourier_features, fourier_scale)
    nets0 = _stack_init(keys("init"), *arch)
    controls = _stack_init(keys("control"), *arch)
    optimizer = optimizer or optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3))

    val_task = task if val_task is None else val_task
    val_set = jax.vmap(val_task.graph, (0, None))(jax.random.split(kj.stream_key(key, "validation"), val_graphs), pool)

    def eval_fn(net, _key):
        return {"loss": jnp.mean(jax.vmap(lambda g: val_task.loss(net, g)[0])(val_set))}

    B = int(graphs_per_step)
    one_graph = lambda k: task.graph(k, pool)
    draw = jax.jit(jax.vmap(one_graph if B == 1 else lambda k: jax.vmap(one_graph)(jax.random.split(k, B))))
    if getattr(task, "scheduled", False):  # the loss follows the progress p = step / steps and the member
        dtype = jnp.result_type(float)
        batch_fn = lambda step, ks: draw(ks) | {"progress": jnp.full((M,), step / max(int(steps), 1), dtype),
                                                "member": jnp.arange(M)}
    else:
        batch_fn = lambda step, ks: draw(ks)

    def loss_fn(net, graph, _key):
        if B == 1:
            return task.loss(net, graph)
        # The B graphs of this member share its progress and member index (scalars per member).
        axes = {k: None if k in _PER_MEMBER else 0 for k in graph}
        losses, aux = jax.vmap(task.loss, (None, axes))(net, graph)
        return jnp.mean(losses), jax.tree.map(lambda a: jnp.mean(a, axis=0), aux)

    t0 = time.perf_counter()
    res = train(loss_fn, params=nets0, optimizer=optimizer, num_steps=int(steps), key=kj.stream_key(key, "train"),
                batch_fn=batch_fn, ctx=ctx, ensemble=M, checkpoint_every=checkpoint_every,
                eval_fn=eval_fn, eval_every=val_every, has_aux=True, skip_nonfinite=True, name=name,
                log_every=log_every)
    train_time = time.perf_counter() - t0
    nets = res.best_params
    val = np.asarray(res.best_loss, float)
    if not np.all(np.isfinite(val)):  # no validation ran (steps = 0): score the initial networks
        val = np.asarray(batch_map(lambda n: eval_fn(n, None)["loss"], nets, gather=True), float)
    best = int(np.argmin(val))
    fitted = Fitted(task, nets, controls, val, best, np.maximum(np.asarray(res.best_step), 0),
                    np.asarray(res.skipped), res.history, train_time, res.steps_run)
    if ctx is not None and ctx.is_main:
        save_checkpoint(ctx.checkpoint_dir / f"{name}_model.npz", fitted.model(),
                        {"member": best, "val": val, "num_features": d, "hidden": [int(h) for h in hidden],
                         "negative_slope": float(negative_slope), "normalisation": task.normalisation,
                         "fourier_features": int(fourier_features), "fourier_scale": float(fourier_scale)})
    return fitted


@dataclasses.dataclass(frozen=True)
class Reference:
    """The reference code's evaluation protocol (its evaluate.py), scored beside the training window.

    Attributes:
        burn_in_steps: Data regime: Euler steps before the `window_steps` loss window.
        size_burn_in_steps: Size regimes: Euler steps before the single scored state.
    """

    burn_in_steps: int = 1000
    size_burn_in_steps: int = 5000


def score(task, fitted: Fitted, graphs, *, reference: tuple[int, int] | None = None, block_rows: int | None = None,
          keep: Sequence[str] = (), members: Sequence[int] | None = None,
          graphs_at_once: int | None = None) -> dict[str, np.ndarray]:
    """Every member's kept network and its controls on a batch of graphs.

    Args:
        task: the task.
        fitted: the `Fitted` ensemble.
        graphs: graphs with a leading axis G (e.g. `task.graph` vmapped).
        reference: (burn-in steps, window steps) of the reference protocol's window, or None.
        block_rows: build K in row blocks (large networks).
        keep: per-graph arrays to return beside the scalars (global: "V_t", "trace", "fan_in", "final";
            clusters: "final").
        members: the members to score (default all).
        graphs_at_once: graphs scored together (default all G); fewer bound the memory of large graphs, in one
            compiled program.

    Returns:
        name → array (m, G, ...): "<who><metric>" for who in "", "control_" (and "block_" for
        clusters) and the task's metrics, plus "<who><loss>_ref" with `reference`.
    """
    idx = np.arange(fitted.members) if members is None else np.asarray(members)
    nets, controls = (jax.tree.map(lambda x: x[idx] if eqx.is_array(x) else x, t)
                      for t in (fitted.nets, fitted.controls))
    total = task.burn_in_steps + task.window_steps

    def one(net, cnet, graph):
        x = task.features(graph)
        Ks = {"": coupling_matrix(net, x, task.normalisation, block_rows),
              "control_": coupling_matrix(cnet, x, task.normalisation, block_rows)}
        Ks |= task.extra_networks(Ks[""], graph)
        out = {}
        for who, K in Ks.items():
            out |= {who + k: v for k, v in task.score(K, graph, task.trajectory(K, graph, 0, total), keep).items()}
            if reference is not None:
                out[f"{who}{task.loss_name}_ref"] = task.window_loss(task.trajectory(K, graph, *reference), graph)
        return out

    G = jax.tree.leaves(graphs)[0].shape[0]
    if G == 1:  # one large network: the members go over the devices, one at a time on each
        g0 = jax.tree.map(lambda a: a[0], graphs)
        out = batch_map(lambda n, c: one(n, c, g0), nets, controls, batch_size=1, gather=True)
        return {k: np.asarray(v)[:, None] for k, v in out.items()}
    out = batch_map(lambda g: jax.vmap(one, (0, 0, None))(nets, controls, g), graphs, batch_size=graphs_at_once,
                    gather=True)
    return {k: np.swapaxes(np.asarray(v), 0, 1) for k, v in out.items()}


@dataclasses.dataclass
class Evaluation:
    """Outcome of `evaluate`.

    Attributes:
        per_member: "<who><metric>_<regime>" and "<who><loss>_<regime>_ref" → (M,) values averaged
            over the regime's graphs (who: "", "control_", "block_"; regime: data, size, data_size;
            the large regimes hold the members of `large_members` in that order).
        arrays: "data_graphs" (the Data graphs), "data_<who><metric>" (M, G) per graph,
            "data_<who>final" (M, G, n), and "<regime>_<name>" (m, ...) for the names of `keep_large`.
        times: seconds per regime (first calls include compilation).
    """

    per_member: dict
    arrays: dict
    times: dict


def evaluate(task, fitted: Fitted, test_pool, train_pool=None, *, key, eval_graphs: int = 50,
             reference: Reference | None = None, block_rows: int | None = None, keep_large: Sequence[str] = (),
             large_members: Sequence[int] | None = None) -> "Evaluation":
    """The three regimes under both protocols.

    Args:
        task: the task.
        fitted: the `Fitted` ensemble.
        test_pool: the test pool (Data regime graphs, and the Data+Size network).
        train_pool: the training pool (the Size network); None: Data regime only.
        key: evaluation key (graphs and initial phases come from its named streams).
        eval_graphs: disjoint n-graphs of the Data regime (at most |test pool| / n).
        reference: also score the reference protocol (metrics `*_ref`), or None.
        block_rows: rows of K built at once for the large networks.
        keep_large: per-network arrays kept from the large regimes (see `score`).
        large_members: members scored in the large regimes (default all).

    Returns:
        An `Evaluation`.
    """
    n = task.n
    g = min(int(eval_graphs), task.pool_size(test_pool) // n)
    perm = jax.random.permutation(kj.stream_key(key, "data"), task.pool_size(test_pool))[: g * n].reshape(g, n)
    graphs = jax.vmap(lambda k, i: task.graph(k, test_pool, i), (0, 0))(jax.random.split(kj.stream_key(key, "data", 1), g),
                                                                       perm)
    ref = None if reference is None else (reference.burn_in_steps, task.window_steps)
    ev = Evaluation({}, {"data_graphs": graphs}, {})
    t0 = time.perf_counter()
    out = score(task, fitted, graphs, reference=ref, keep=("final",))
    for k in [k for k in out if k.endswith("final")]:
        ev.arrays[f"data_{k}"] = out.pop(k)
    ev.arrays |= {f"data_{k}": v for k, v in out.items()}
    ev.per_member |= {_name(k, "data"): v.mean(1) for k, v in out.items()}
    ev.times["data"] = time.perf_counter() - t0
    if train_pool is not None:
        ref = None if reference is None else (reference.size_burn_in_steps - 1, 1)
        for regime, pool in (("size", train_pool), ("data_size", test_pool)):
            t0 = time.perf_counter()
            whole = jax.tree.map(lambda a: a[None], task.whole(kj.stream_key(key, regime), pool))
            out = score(task, fitted, whole, reference=ref, block_rows=block_rows, keep=keep_large,
                        members=large_members)
            for k in [k for k in out if any(k.endswith(s) for s in keep_large)]:
                ev.arrays[f"{regime}_{k}"] = out.pop(k)[:, 0]
            ev.per_member |= {_name(k, regime): v[:, 0] for k, v in out.items()}
            ev.times[regime] = time.perf_counter() - t0
    return ev


def size_transfer(task, fitted: Fitted, test_pool, sizes: Sequence[int], *, key, graphs: int = 4,
                  reference: Reference | None = None, block_rows: int | None = None,
                  members: Sequence[int] | None = None) -> dict[int, dict[str, np.ndarray]]:
    """The Data regime at other network sizes m: how a coupling trained on n-graphs carries over.

    The Data regime scores graphs of the training size n and Data+Size the whole test pool; between the
    two, a learned coupling may hold synchrony on some networks and lose it on others (a coupling that
    admits both a synchronised and an incoherent state: which one θ(0) leads to depends on the draw).
    For each m, `graphs` random m-subsets of the test pool, each with its own θ(0), are scored as
    `score` does, over the task's window and, with `reference`, over the reference protocol's Data window.

    Args:
        task: the task (its n is replaced by each m).
        fitted: the `Fitted` ensemble.
        test_pool: the test pool the subsets are drawn from.
        sizes: network sizes m, each at least 2 and at most the pool's size.
        key: key of the subsets and their θ(0) (a stream per m).
        graphs: networks per size.
        reference: also score the reference protocol's Data window (`*_ref`), or None.
        block_rows: rows of K built at once.
        members: the members to score (default all).

    Returns:
        {m: name → array (members, graphs)}, the names of `score`.
    """
    pool_size = task.pool_size(test_pool)
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise ValueError(f"`sizes` must be a list of network sizes, got {sizes!r}")
    sizes = list(sizes)
    for m in sizes:
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or not 2 <= m <= pool_size:
            raise ValueError(f"`sizes` must hold ints in [2, {pool_size}] (the test pool's size), got {m!r}")
    if isinstance(graphs, bool) or not isinstance(graphs, (int, np.integer)) or graphs < 1:
        raise ValueError(f"`graphs` must be a positive int, got {graphs!r}")
    ref = None if reference is None else (reference.burn_in_steps, task.window_steps)
    out = {}
    for m in sizes:
        task_m = dataclasses.replace(task, n=int(m))
        keys = jax.random.split(kj.stream_key(key, "size", int(m)), int(graphs))
        nets = jax.vmap(lambda k: task_m.graph(k, test_pool))(keys)
        # One network at a time within one program: all G networks of m ~ 10³ at once would hold G pair-MLP
        # activations (m², width) together.
        out[int(m)] = score(task_m, fitted, nets, reference=ref, block_rows=block_rows, members=members,
                            graphs_at_once=1)
    return out


def _name(key: str, regime: str) -> str:
    """"V" → "V_data", "control_L_ref" → "control_L_data_ref"."""
    return f"{key[:-4]}_{regime}_ref" if key.endswith("_ref") else f"{key}_{regime}"
