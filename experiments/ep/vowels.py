"""Vowel classification by equilibrium propagation: which parameters to learn, how to initialise.

Every run is one (mode, init, seed): a layered 2+H+2 Kuramoto network (paper's
protocol, arXiv 2604.10272; see experiments/ep/RESULTS.md) whose inputs are the F1/F2 formants as natural
frequencies ω_in = 1.5·x, trained by per-sample EP (β = 0.1, lr 1e-3, clip 2)
for `epochs` epochs on an 80/20 split drawn per seed. Modes:

  omega_only  learn ω of hidden and output oscillators (7 parameters for 2+5+2);
  k_only      learn every existing coupling;
  k_matched   learn `k_matched_edges` randomly chosen couplings (7: matched count);
  both        learn ω and every coupling.

Inits: "random" ω ~ U(−0.3, 0.3); "spectral" ω = α·L̃⁻¹(e_o1 − e_o2), max |ω| = 0.3.
All runs of one config are trained together: the per-sample update is vmapped over
(mode × init × seed) and an epoch is one `lax.scan` over samples.

A seed "converged" when its final training accuracy (paper readout, argmax cos θ_out)
exceeds `converge_threshold` (the reference protocol's 0.6). Test accuracy is also
reported with the two order-independent readouts (see `kuramoto_jax.ep._readout`),
which answers whether failed seeds sit at chance or are inverted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from kuramoto_jax import ep

from .common import resolve_data_path, use_float64

MODES = ["omega_only", "k_only", "k_matched", "both"]
INITS = ["random", "spectral"]


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "base seed; run s uses fold_in(seed, s) and split seed s"})
    data_path: str = field(default="", metadata={"help": "Hillenbrand vowels CSV; empty: $KURAMOTO_JAX_DATA"})
    vowels: list[str] = field(default_factory=lambda: ["a", "i"], metadata={
        "choices": ["a", "e", "i", "o", "u"], "help": "the two vowels to separate"})
    n_seeds: int = field(default=100, metadata={"ge": 1, "help": "independent seeds per (mode, init)"})
    epochs: int = field(default=200, metadata={"ge": 1, "help": "passes over the training set"})
    modes: list[str] = field(default_factory=lambda: ["omega_only", "k_only", "k_matched", "both"],
                             metadata={"choices": MODES, "help": "which parameters learn"})
    inits: list[str] = field(default_factory=lambda: ["random"], metadata={"choices": INITS, "help": "ω initialisations"})
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


def build_runs(config: Config, data_path):
    """Stacked initial parameters, masks and data for every (mode, init, seed)."""
    base = jax.random.key(config.seed)
    P_om, P_K, M_om, M_K, X, Y, XT, YT, labels = [], [], [], [], [], [], [], [], []
    layout = None
    for mode in config.modes:
        for init in config.inits:
            for s in range(config.n_seeds):
                k_net, k_edges = jax.random.split(jax.random.fold_in(base, s))
                net = ep.layered(k_net, 2, config.n_hidden, 2, k_scale=config.k_scale)
                layout = ep.Layout(net.inputs, net.outputs, 0)
                omega = net.omega
                if init == "spectral":
                    omega = ep.spectral_seed(net.K, net.inputs, net.outputs, scale=config.seed_scale)
                n = net.n
                m_om = jnp.zeros(n).at[jnp.asarray(net.learnable)].set(1.0)
                edges = jnp.triu(net.K > 0, 1)
                if mode == "omega_only":
                    m_K = jnp.zeros((n, n))
                else:
                    m_K = edges.astype(float)
                    if mode == "k_matched":
                        iu = np.argwhere(np.asarray(edges))
                        pick = np.asarray(jax.random.choice(k_edges, len(iu), (config.k_matched_edges,), replace=False))
                        m_K = jnp.zeros((n, n)).at[iu[pick, 0], iu[pick, 1]].set(1.0)
                    m_K = m_K + m_K.T
                if mode in ("k_only", "k_matched"):
                    m_om = jnp.zeros(n)
                xtr, ytr, xte, yte = ep.load_vowels(data_path, config.vowels, seed=s)
                P_om.append(omega); P_K.append(net.K); M_om.append(m_om); M_K.append(m_K)
                X.append(xtr); Y.append(ytr); XT.append(xte); YT.append(yte); labels.append((mode, init, s))
    st = lambda a: jnp.asarray(np.stack([np.asarray(v) for v in a]))
    return (ep.Params(st(P_om), st(P_K)), ep.Masks(st(M_om), st(M_K)), st(X), st(Y), st(XT), st(YT), labels, layout)


def make_fns(layout, hyper):
    epoch = jax.jit(jax.vmap(lambda p, m, x, y, k: ep.train_epoch(p, m, x, y, k, layout, hyper)))
    evaluate = jax.jit(jax.vmap(lambda p, x, y: ep.evaluate(p, x, y, layout, hyper)))
    return epoch, evaluate


def welch(a, b):
    from scipy.stats import ttest_ind

    if len(a) < 2 or len(b) < 2:
        return float("nan")
    return float(ttest_ind(a, b, equal_var=False).pvalue)


def check_config(config: Config) -> None:
    """The vowel data must be readable before the run starts (exit 2 naming `data_path`)."""
    resolve_data_path(config.data_path)


def run(config: Config, ctx) -> dict[str, float]:
    use_float64()
    data_path = resolve_data_path(config.data_path)
    params, masks, X, Y, XT, YT, labels, layout = build_runs(config, data_path)
    B = len(labels)
    hyper = ep.EPHyper(beta=config.beta, lr_omega=config.lr_omega, lr_K=config.lr_K, grad_clip=config.grad_clip,
                       input_scale=config.input_scale, margin=config.margin)
    epoch_fn, eval_fn = make_fns(layout, hyper)
    ctx.log(f"{B} runs = {len(config.modes)} modes x {len(config.inits)} inits x {config.n_seeds} seeds; "
            f"/{config.vowels[0]}/ vs /{config.vowels[1]}/, {X.shape[1]} train / {XT.shape[1]} test samples, "
            f"2+{config.n_hidden}+2 net, {config.epochs} epochs")
    keys = jax.vmap(lambda i: jax.random.fold_in(jax.random.key(config.seed + 7919), i))(jnp.arange(B))
    hist_epochs, hist_test, hist_train_run, skipped = [], [], [], []
    t0 = time.perf_counter()
    compile_s = None
    for e in ctx.progress(range(config.epochs), total=config.epochs, desc="epochs"):
        ks = jax.vmap(lambda k: jax.random.fold_in(k, e))(keys)
        params, st = epoch_fn(params, masks, X, Y, ks)
        if compile_s is None:
            jax.block_until_ready(params)
            compile_s = time.perf_counter() - t0
            t0 = time.perf_counter()
        skipped.append(np.asarray(st["skipped"]))
        hist_train_run.append(np.asarray(st["correct"]) / np.maximum(np.asarray(st["used"]), 1))
        if config.eval_every and ((e + 1) % config.eval_every == 0) and e + 1 < config.epochs:
            ev_te = eval_fn(params, XT, YT)
            hist_epochs.append(e + 1)
            hist_test.append(np.asarray(jnp.sum((ev_te["pred_cos"] == YT) & ev_te["valid"], -1) / jnp.maximum(jnp.sum(ev_te["valid"], -1), 1)))
    jax.block_until_ready(params)
    train_s = time.perf_counter() - t0
    ev_tr, ev_te = eval_fn(params, X, Y), eval_fn(params, XT, YT)
    acc = {k: np.asarray(v) for k, v in ep.accuracies(ev_tr, Y, ev_te, YT).items()}
    hist_epochs.append(config.epochs)
    hist_test.append(acc["test_cos"])
    ctx.log(f"first epoch (with compilation) {compile_s:.1f} s; remaining {config.epochs - 1} epochs {train_s:.1f} s "
            f"({train_s / max(config.epochs - 1, 1) * 1e3:.0f} ms/epoch for {B} runs)")

    modes = np.array([l[0] for l in labels]); inits = np.array([l[1] for l in labels])
    conv = acc["train_cos"] > config.converge_threshold
    metrics: dict[str, float] = {}
    table = []
    conv_test = {}
    for mode in config.modes:
        for init in config.inits:
            sel = (modes == mode) & (inits == init)
            c, t = conv[sel], acc["test_cos"][sel]
            failed = ~c
            tag = f"{mode}_{init}"
            conv_test[tag] = t[c]
            row = dict(
                converged=float(np.mean(c)),
                acc_converged=float(np.mean(t[c])) if c.any() else float("nan"),
                acc_all=float(np.mean(t)),
                failed_test_cos=float(np.mean(t[failed])) if failed.any() else float("nan"),
                failed_inverted=float(np.mean(t[failed] < 0.4)) if failed.any() else float("nan"),
                test_nearest=float(np.mean(acc["test_nearest"][sel])),
                test_calibrated=float(np.mean(acc["test_calibrated"][sel])),
                test_cos_calibrated=float(np.mean(acc["test_cos_calibrated"][sel])),
                failed_test_cos_calibrated=float(np.mean(acc["test_cos_calibrated"][sel][failed])) if failed.any() else float("nan"),
                calibrated_above_60=float(np.mean(acc["train_calibrated"][sel] > config.converge_threshold)),
                skipped_frac=float(np.mean(np.stack(skipped)[:, sel]) / X.shape[1]),
            )
            for k, v in row.items():
                metrics[f"{tag}_{k}"] = v
            table.append((tag, row))
    # Headline names (first init listed, usually "random").
    i0 = config.inits[0]
    for mode in config.modes:
        metrics[f"{mode}_acc_converged"] = metrics[f"{mode}_{i0}_acc_converged"]
        metrics[f"{mode}_converged"] = metrics[f"{mode}_{i0}_converged"]
    for init in config.inits:
        metrics[f"converged_{init}"] = metrics[f"{config.modes[0]}_{init}_converged"]
    if "omega_only" in config.modes and "k_matched" in config.modes:
        metrics["welch_p"] = welch(conv_test[f"omega_only_{i0}"], conv_test[f"k_matched_{i0}"])
    elif "random" in config.inits and "spectral" in config.inits:
        m0 = config.modes[0]
        metrics["welch_p"] = welch(conv_test[f"{m0}_random"], conv_test[f"{m0}_spectral"])
    metrics["train_seconds"] = float(train_s)  # wall time; machine-dependent

    ctx.save_arrays(
        train_cos=acc["train_cos"], test_cos=acc["test_cos"], test_nearest=acc["test_nearest"],
        test_calibrated=acc["test_calibrated"], test_cos_calibrated=acc["test_cos_calibrated"], train_nearest=acc["train_nearest"], converged=conv,
        modes=modes, inits=inits, seeds=np.array([l[2] for l in labels]), hist_epochs=np.array(hist_epochs),
        hist_test_cos=np.stack(hist_test), hist_train_running=np.stack(hist_train_run), skipped=np.stack(skipped),
        omega=np.asarray(params.omega), K=np.asarray(params.K),
        test_diff=np.asarray(ev_te["diff"]), test_labels=np.asarray(YT),
    )
    _figure(ctx, table, modes, inits, acc, conv, config)
    lines = [f"{tag}: converged {r['converged']:.0%}, test acc (converged) {r['acc_converged']:.1%}, "
             f"failed seeds' test acc {r['failed_test_cos']:.1%} ({r['failed_inverted']:.0%} of them < 40 %), "
             f"order-calibrated readouts: cos {r['test_cos_calibrated']:.1%} (failed seeds {r['failed_test_cos_calibrated']:.1%}), "
             f"phase-difference {r['test_calibrated']:.1%}" for tag, r in table]
    ctx.summary(f"/{config.vowels[0]}/ vs /{config.vowels[1]}/, 2+{config.n_hidden}+2, {config.n_seeds} seeds x "
                f"{config.epochs} epochs. " + "; ".join(lines) +
                (f". Welch p = {metrics['welch_p']:.2g}." if "welch_p" in metrics else "."))
    return metrics


def _figure(ctx, table, modes, inits, acc, conv, config):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    tags = [t for t, _ in table]
    data = [acc["test_cos"][(modes == t.rsplit("_", 1)[0]) & (inits == t.rsplit("_", 1)[1])] for t in tags]
    ax = axes[0]
    for i, d in enumerate(data):
        jitter = np.random.default_rng(i).uniform(-0.15, 0.15, len(d))
        ax.scatter(np.full(len(d), i) + jitter, d, s=8, alpha=0.6)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(range(len(tags)), tags, rotation=20, fontsize=8)
    ax.set_ylabel("test accuracy (argmax cos θ_out)")
    ax.set_title("per-seed test accuracy")
    ax = axes[1]
    ax.scatter(acc["test_cos"], acc["test_cos_calibrated"], s=10, c=conv, cmap="coolwarm", label="cos, orientation fitted")
    ax.scatter(acc["test_cos"], acc["test_calibrated"], s=6, marker="x", color="grey", label="phase difference, fitted")
    ax.legend(fontsize=7)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8)
    ax.plot([0, 1], [1, 0], color="grey", lw=0.8, ls=":")
    ax.set_xlabel("paper readout (argmax cos θ_out)")
    ax.set_ylabel("order-independent readouts (test)")
    ax.set_title("ordering question (red: converged)")
    fig.tight_layout()
    ctx.save_figure(fig, "accuracy")
