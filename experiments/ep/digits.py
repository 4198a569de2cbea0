"""8×8 digits by equilibrium propagation in a layered oscillator network (beyond the paper).

Data: scikit-learn's 8×8 digits (pixels / 16, x ∈ [0, 1]), one stratified split drawn
with `split_seed` (`ep.load_digits`). Network (`ep.signed_layered`): 64 inputs → H hidden →
10 outputs with signed couplings K ~ N(0, k²/fan-in) (a negative K favours anti-phase:
the hidden phases become a non-linear mix of the inputs); inputs as clamped phases
(Wang et al.; learnable ω and fields b on hidden and outputs) or as input frequencies
(the EP paper's; ω and K). Targets `target_on` at the class's output, `target_off` at the
others; the prediction is the nearest target pattern in angular distance (`ep.readout`).
Training: mini-batches through `kuramoto_jax.run.train` with `ep.grad_fn` (EP gradients
averaged over the samples whose equilibria are usable) and an optax optimiser; checkpoints
and exact `--resume`. The reported network is the final one (no selection on the test
set); `ep.load(run folder)` returns it. Baseline: logistic regression on the same split.
Float64 by default (`PRECISION`): the EP differences (θ^β − θ*)/β.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import jax
import numpy as np

from kuramoto_jax import ep
from kuramoto_jax.run import OptimizerConfig, make_optimizer, train

PRECISION = "float64"


def _adam_3e2() -> OptimizerConfig:
    return OptimizerConfig(name="adam", learning_rate=0.03)


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "network initialisation and batch order"})
    split_seed: int = field(default=0, metadata={"help": "train/test split"})
    test_fraction: float = field(default=0.2, metadata={"gt": 0, "lt": 1, "help": "test share of the 1797 images"})
    max_train: int = field(default=0, metadata={"ge": 0, "help": "use only this many training images (0: all)"})
    max_test: int = field(default=0, metadata={"ge": 0, "help": "evaluate on this many test images (0: all)"})
    encoding: str = field(default="phase", metadata={"choices": list(ep.ENCODINGS), "help": "input encoding"})
    input_scale: float = field(default=1.5707963267948966, metadata={
        "gt": 0, "help": "θ_in = scale·x (phase) or ω_in = scale·x (frequency), x ∈ [0, 1]"})
    n_hidden: int = field(default=32, metadata={"ge": 1, "help": "hidden oscillators"})
    k_in: float = field(default=2.0, metadata={"gt": 0, "help": "input–hidden coupling scale (K ~ N(0, k²/64))"})
    k_out: float = field(default=2.0, metadata={"gt": 0, "help": "hidden–output coupling scale (K ~ N(0, k²/H))"})
    learn_field: bool = field(default=True, metadata={"help": "learn the fields b (phase encoding only)"})
    target_on: float = field(default=0.0, metadata={"help": "target phase of the correct class's output"})
    target_off: float = field(default=1.5707963267948966, metadata={"help": "target phase of the other outputs"})
    beta: float = field(default=0.1, metadata={"gt": 0, "help": "nudging strength β"})
    estimator: str = field(default="ep", metadata={"choices": list(ep.ESTIMATORS), "help": "one-sided or centred ±β"})
    sweeps: int = field(default=30, metadata={"ge": 0, "help": "local-field warm-start sweeps before Newton"})
    newton_steps: int = field(default=30, metadata={"ge": 1, "help": "Newton iterations per equilibrium"})
    tol_residual: float = field(default=1e-6, metadata={"gt": 0, "help": "accepted max |F̃| of an equilibrium"})
    batch_size: int = field(default=32, metadata={"ge": 1, "help": "samples per EP step (vmapped)"})
    epochs: int = field(default=10, metadata={"ge": 1, "help": "passes over the training set"})
    optimizer: OptimizerConfig = field(default_factory=_adam_3e2)
    checkpoint_every: int = field(default=50, metadata={"ge": 1, "help": "steps between checkpoints"})
    eval_every_epochs: int = field(default=1, metadata={"ge": 0, "help": "epochs between test-accuracy logs (0: end only)"})

    def __post_init__(self):
        if self.encoding == "frequency" and self.learn_field:
            raise ValueError("`learn_field` needs `encoding: phase` (a field breaks the rotational symmetry "
                             "that the pinned frequency encoding relies on); set learn_field: false")
        if self.target_on == self.target_off:
            raise ValueError(f"`target_on` and `target_off` must differ, got both {self.target_on}")


def run(config: Config, ctx) -> dict[str, float]:
    xtr, ytr, xte, yte = ep.load_digits(config.test_fraction, config.split_seed, config.max_train, config.max_test)
    lr_train, lr_test = ep.logistic_baseline(xtr, ytr, xte, yte)
    net, mask = ep.digits_network(
        ctx.key("network"), n_hidden=config.n_hidden, k_in=config.k_in, k_out=config.k_out, encoding=config.encoding,
        input_scale=config.input_scale, target_on=config.target_on, target_off=config.target_off,
        sweeps=config.sweeps, newton_steps=config.newton_steps, tol_residual=config.tol_residual,
        learn_field=config.learn_field)
    B = min(config.batch_size, len(xtr))
    per_epoch = len(xtr) // B
    num_steps = per_epoch * config.epochs
    ctx.log(f"digits: {len(xtr)} train / {len(xte)} test images, 64+{config.n_hidden}+10 net, "
            f"{config.encoding} encoding, {num_steps} steps of {B} samples ({config.epochs} epochs); "
            f"logistic regression test accuracy {lr_test:.4f}")
    Xtr, Ytr = np.asarray(xtr, ctx.dtype), np.asarray(ytr)

    def batch_fn(step, key):
        # The order of epoch e depends only on (seed, e): a resumed run sees the same batches.
        e, i = divmod(int(step), per_epoch)
        idx = np.asarray(jax.random.permutation(ctx.key("order", e), len(xtr)))[i * B:(i + 1) * B]
        return Xtr[idx], Ytr[idx]

    def score(net, x, y):
        """(accuracy, valid fraction, mean cost, predictions with −1 where the equilibrium failed)."""
        ev = ctx.batch_map(functools.partial(ep.evaluate, net), np.asarray(x, ctx.dtype), np.asarray(y))
        pred = np.where(np.asarray(ev["valid"]), np.asarray(ev["pred"]), -1)
        return float(np.mean(pred == y)), float(np.mean(pred >= 0)), float(np.mean(np.asarray(ev["loss"]))), pred

    def eval_fn(net, key):
        acc, valid, cost, _ = score(net, xte, yte)
        ctx.log(f"test accuracy {acc:.4f} (valid equilibria {valid:.3f})")
        return {"loss": cost, "test_acc": acc}  # logged; the reported network is the final one

    t0 = time.perf_counter()
    result = train(grad_fn=ep.grad_fn(config.beta, config.estimator, mask), params=net,
                   optimizer=make_optimizer(config.optimizer, num_steps), num_steps=num_steps, key=ctx.key("train"),
                   batch_fn=batch_fn, ctx=ctx, checkpoint_every=config.checkpoint_every, eval_fn=eval_fn,
                   eval_every=per_epoch * config.eval_every_epochs or None, has_aux=True, name="digits")
    train_s = time.perf_counter() - t0
    net = result.params  # the final network: no model selection on the test set
    if ctx.is_main:
        ep.save_network(ctx.checkpoint_dir / ep.NETWORK_FILE, net)
    test_acc, test_valid, _, pred = score(net, xte, yte)
    train_acc, train_valid, _, _ = score(net, xtr, ytr)
    hist = result.history
    metrics = dict(
        digits_test_acc=test_acc, digits_train_acc=train_acc, logreg_test_acc=lr_test, logreg_train_acc=lr_train,
        test_valid_fraction=test_valid, train_valid_fraction=train_valid,
        usable_fraction_mean=float(np.mean(hist["usable"])) if len(hist.get("usable", [])) else float("nan"),
        final_loss=float(np.mean(hist["loss"][-per_epoch:])) if len(hist["loss"]) else float("nan"),
        train_seconds=float(train_s),  # wall time including compilation; machine-dependent
    )
    conf = np.zeros((10, 10), int)
    np.add.at(conf, (np.asarray(yte)[pred >= 0], pred[pred >= 0]), 1)
    ctx.save_arrays(loss=hist["loss"], usable=hist.get("usable", np.zeros(0)), step=hist["step"],
                    eval_step=hist.get("eval_step", np.zeros(0)), eval_test_acc=hist.get("eval_test_acc", np.zeros(0)),
                    confusion=conf, omega=np.asarray(net.omega), K=np.asarray(net.K), field=np.asarray(net.field))
    _figure(ctx, hist, conf, per_epoch)
    ctx.summary(f"8x8 digits, 64+{config.n_hidden}+10 oscillators, {config.encoding} encoding, {config.epochs} epochs "
                f"of {per_epoch} EP steps ({config.estimator}, beta {config.beta}): test accuracy {test_acc:.1%} "
                f"(train {train_acc:.1%}; valid equilibria {test_valid:.1%} of test images) vs logistic regression "
                f"{lr_test:.1%} on the same split; {metrics['usable_fraction_mean']:.1%} of training samples usable.")
    return metrics


def _figure(ctx, hist, conf, per_epoch):
    import matplotlib.pyplot as plt

    fig, (ax, ax1) = plt.subplots(1, 2, figsize=(10, 4))
    ax.plot(np.asarray(hist["step"]) / max(per_epoch, 1), hist["loss"], lw=0.8)
    ax.set(xlabel="epoch", ylabel="batch cost ½ Σ wrap(θ_out − y)²", yscale="log")
    if len(hist.get("eval_test_acc", [])):
        ax2 = ax.twinx()
        ax2.plot(np.asarray(hist["eval_step"]) / max(per_epoch, 1), hist["eval_test_acc"], "o-", color="C1")
        ax2.set_ylabel("test accuracy", color="C1")
    ax1.imshow(conf, cmap="Blues")
    ax1.set(xlabel="predicted", ylabel="true", title="test confusion matrix")
    fig.tight_layout()
    ctx.save_figure(fig, "digits")
