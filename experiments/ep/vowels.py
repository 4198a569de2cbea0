"""Vowel classification by equilibrium propagation: which parameters to learn, how to initialise.

The paper's protocol (arXiv 2604.10272; experiments/ep/RESULTS.md): every member is one (mode, init,
seed) of `ep.vowel_member`, a 2+H+2 network with the F1/F2 formants as input frequencies, trained by
per-sample EP (`ep.grad_fn`; `ep.sgd`: lr 1e-3, element-wise clip 2, parameter box) on an 80/20 split
drawn per seed. All members train together through `kuramoto_jax.run.train` (stacked networks, one
sample per member a step; checkpoints every ten epochs, exact `--resume`); every equilibrium is solved
from θ = 0, so predictions do not depend on the sample order (`ep.load(run, member=i)`). A seed
"converged" when its final training accuracy (paper readout argmax cos θ_out) exceeds
`converge_threshold`; `ep.accuracies` adds order-independent readouts (failed seeds: chance or
inverted?). Float64 by default (`PRECISION`).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from kuramoto_jax import ep
from kuramoto_jax.run import train

from .common import resolve_data_path

PRECISION = "float64"
CHECKPOINT_EPOCHS = 10
_evaluate = jax.vmap(ep.evaluate, in_axes=(None, 0, 0))  # one member's samples; members via ctx.batch_map


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "root of the random streams (networks, splits, sample order)"})
    data_path: str = field(default="", metadata={"help": "Hillenbrand vowels CSV; empty: $KURAMOTO_JAX_DATA"})
    vowels: list[str] = field(default_factory=lambda: ["a", "i"], metadata={
        "choices": ["a", "e", "i", "o", "u"], "help": "the two vowels to separate"})
    n_seeds: int = field(default=100, metadata={"ge": 1, "help": "independent seeds per (mode, init)"})
    epochs: int = field(default=200, metadata={"ge": 1, "help": "passes over the training set"})
    modes: list[str] = field(default_factory=lambda: ["omega_only", "k_only", "k_matched", "both"],
                             metadata={"choices": list(ep.MODES), "help": "which parameters learn"})
    inits: list[str] = field(default_factory=lambda: ["random"], metadata={"choices": list(ep.INITS), "help": "ω initialisations"})
    n_hidden: int = field(default=5, metadata={"ge": 1, "help": "hidden oscillators (chain-coupled)"})
    k_scale: float = field(default=2.0, metadata={"gt": 0, "help": "coupling scale (K = scale·U(0.5, 1.5))"})
    k_matched_edges: int = field(default=7, metadata={"ge": 1, "help": "learnable edges in k_matched"})
    beta: float = field(default=0.1, metadata={"gt": 0, "help": "nudging strength β"})
    lr_omega: float = field(default=1e-3, metadata={"gt": 0, "help": "learning rate of ω"})
    lr_K: float = field(default=1e-3, metadata={"gt": 0, "help": "learning rate of K"})
    grad_clip: float = field(default=2.0, metadata={"gt": 0, "help": "per-parameter gradient clip"})
    margin: float = field(default=0.2, metadata={"gt": 0, "help": "targets ∓margin (correct / other output)"})
    input_scale: float = field(default=1.5, metadata={"gt": 0, "help": "ω_in = input_scale·x"})
    seed_scale: float = field(default=0.3, metadata={"gt": 0, "help": "max |ω| after spectral seeding"})
    converge_threshold: float = field(default=0.6, metadata={"ge": 0, "le": 1, "help": "train accuracy for 'converged'"})
    eval_every: int = field(default=50, metadata={"ge": 0, "help": "epochs between test evaluations (0: end only)"})

    def __post_init__(self):
        if len(self.vowels) != 2 or self.vowels[0] == self.vowels[1]:
            raise ValueError(f"`vowels` must be two different vowels, got {self.vowels}")
        if not self.modes or not self.inits:
            raise ValueError("`modes` and `inits` must not be empty")


def check_config(config: Config) -> None:
    """The vowel data must be readable before the run starts (exit 2 naming `data_path`)."""
    resolve_data_path(config.data_path)


def run(config: Config, ctx) -> dict[str, float]:
    path = resolve_data_path(config.data_path)
    groups = [(m, i) for m in config.modes for i in config.inits]
    members = [(m, i, s) for m, i in groups for s in range(config.n_seeds)]
    tags = np.array([f"{m}_{i}" for m, i, _ in members])
    nets, masks = ep.vowel_ensemble([(ctx.key("network", s), m, i) for m, i, s in members], n_hidden=config.n_hidden,
                                    k_scale=config.k_scale, k_matched_edges=config.k_matched_edges,
                                    seed_scale=config.seed_scale, input_scale=config.input_scale, margin=config.margin)
    splits = {s: ep.load_vowels(path, config.vowels, key=ctx.key("split", s)) for s in range(config.n_seeds)}
    X, Y, XT, YT = (np.stack([np.asarray(splits[s][k], ctx.dtype if k % 2 == 0 else int) for _, _, s in members])
                    for k in range(4))
    E, S = X.shape[:2]
    ctx.log(f"{E} members = {len(config.modes)} modes x {len(config.inits)} inits x {config.n_seeds} seeds; "
            f"/{config.vowels[0]}/ vs /{config.vowels[1]}/, {S} train / {XT.shape[1]} test samples, "
            f"2+{config.n_hidden}+2 net, {config.epochs} epochs")

    @functools.lru_cache(maxsize=2)
    def order(e):  # each member's sample order in epoch e
        return jax.vmap(lambda k: jax.random.permutation(k, S))(jax.random.split(ctx.key("order", e), E))

    Xd, Yd = jnp.asarray(X), jnp.asarray(Y)  # on the device once, not with every step's batch
    take = jax.jit(lambda idx: (Xd[jnp.arange(E), idx][:, None], Yd[jnp.arange(E), idx][:, None]))

    def grad_fn(params, batch, key):  # adds the usable share per (mode, init), for skipped_frac
        (loss, aux), g = ep.grad_fn(config.beta, mask=masks, ensemble=True)(params, batch, key)
        aux.update({f"usable_{t}": jnp.mean(aux["usable_members"][tags == t]) for t in np.unique(tags)})
        return (loss, aux), g

    def eval_fn(params, key):
        ev = ctx.batch_map(_evaluate, params, XT, YT)
        ok = ev["valid"]
        acc = jnp.sum((ev["pred_cos"] == YT) & ok, -1) / jnp.maximum(jnp.sum(ok, -1), 1)
        return {"loss": float(jnp.sum(jnp.where(ok, ev["loss"], 0)) / jnp.maximum(jnp.sum(ok), 1)),
                "test_cos": float(jnp.mean(acc))}

    optimizer = ep.sgd(masks, lr_omega=config.lr_omega, lr_K=config.lr_K, clip=config.grad_clip,
                       omega_box=(-3.0, 3.0), K_box=(0.01, 8.0))
    t0 = time.perf_counter()
    result = train(grad_fn=grad_fn, params=nets, optimizer=optimizer, num_steps=S * config.epochs,
                   key=ctx.key("train"), batch_fn=lambda step, key: take(order(step // S)[:, step % S]),
                   ctx=ctx, checkpoint_every=S * CHECKPOINT_EPOCHS, eval_fn=eval_fn,
                   eval_every=S * config.eval_every or None, has_aux=True, name="vowels")
    train_s = time.perf_counter() - t0
    nets = result.params  # the final networks
    if ctx.is_main:
        ep.save_network(ctx.checkpoint_dir / ep.NETWORK_FILE, nets)
    ev_tr, ev_te = ctx.batch_map(_evaluate, nets, X, Y), ctx.batch_map(_evaluate, nets, XT, YT)
    acc = {k: np.asarray(v) for k, v in ep.accuracies(ev_tr, Y, ev_te, YT).items()}
    hist = result.history
    skipped = {f"{m}_{i}": 1.0 - float(np.mean(hist[f"usable_{m}_{i}"])) for m, i in groups}
    metrics, table = ep.vowel_metrics(acc, tags, config.modes, config.inits, config.converge_threshold, skipped)
    metrics["train_seconds"], conv = float(train_s), acc["train_cos"] > config.converge_threshold  # wall time
    modes, inits, seeds = (np.array([mem[j] for mem in members]) for j in range(3))
    ctx.save_arrays(**acc, converged=conv, modes=modes, inits=inits, seeds=seeds, omega=np.asarray(nets.omega),
                    K=np.asarray(nets.K), test_theta_out=np.asarray(ev_te["theta_out"]), test_labels=YT,
                    **{k: v for k, v in hist.items() if k.startswith("eval_")})
    _figure(ctx, list(table), tags, acc, conv)
    ctx.summary(f"/{config.vowels[0]}/ vs /{config.vowels[1]}/, 2+{config.n_hidden}+2, {config.n_seeds} seeds x "
                f"{config.epochs} epochs. {ep.vowel_summary(table)}"
                + (f". Welch p = {metrics['welch_p']:.2g}." if "welch_p" in metrics else "."))
    return metrics


def _figure(ctx, tags, member_tags, acc, conv):
    import matplotlib.pyplot as plt

    fig, (ax, ax1) = plt.subplots(1, 2, figsize=(11, 4))
    for i, tag in enumerate(tags):
        d = acc["test_cos"][member_tags == tag]
        ax.scatter(i + np.linspace(-0.15, 0.15, len(d)), d, s=8, alpha=0.6)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(range(len(tags)), tags, rotation=20, fontsize=8)
    ax.set(ylabel="test accuracy (argmax cos θ_out)", title="per-seed test accuracy")
    ax1.scatter(acc["test_cos"], acc["test_cos_calibrated"], s=10, c=conv, cmap="coolwarm", label="cos, orientation fitted")
    ax1.scatter(acc["test_cos"], acc["test_calibrated"], s=6, marker="x", color="grey", label="nearest target, fitted")
    ax1.legend(fontsize=7)
    ax1.plot([0, 1], [0, 1], color="grey", lw=0.8)
    ax1.plot([0, 1], [1, 0], color="grey", lw=0.8, ls=":")
    ax1.set(xlabel="paper readout (argmax cos θ_out)", ylabel="order-independent readouts (test)",
            title="ordering question (red: converged)")
    fig.tight_layout()
    ctx.save_figure(fig, "accuracy")
