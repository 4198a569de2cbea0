"""The vowel-classification protocol of the equilibrium-propagation paper, as ensemble pieces.

Every member is one (mode, init, seed): a layered 2+H+2 network (`layered`) with the
F1/F2 formants as input frequencies ω_in = 1.5·x, trained by per-sample EP. Modes say
which parameters learn:

  omega_only  ω of hidden and output oscillators;
  k_only      every existing coupling;
  k_matched   `k_matched_edges` randomly chosen couplings (as many as omega_only's ω);
  both        ω and every coupling.

Inits: "random" keeps the builder's ω ~ U(−0.3, 0.3); "spectral" sets ω = α·L̃⁻¹(e_o1 − e_o2)
(`spectral_seed`). `accuracies` reads the final networks with the paper's readout
(argmax cos θ_out) and the angular nearest-target readout, each also with its class
orientation fitted on the training set ("calibrated"), which tells failed seeds that
sit at chance from inverted ones.
"""

from __future__ import annotations

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._validate import one_of
from ._network import Network, layered, spectral_seed
from ._training import learnable_mask

MODES = ("omega_only", "k_only", "k_matched", "both")
"""Which parameters learn in a vowel member: ω only, every K, a matched number of K, or both."""
INITS = ("random", "spectral")
"""ω initialisations of a vowel member: the builder's random ω or spectral seeding."""


def vowel_member(key, mode: str, init: str, *, n_hidden: int = 5, k_scale: float = 2.0, k_matched_edges: int = 7,
                 seed_scale: float = 0.3, input_scale: float = 1.5, margin: float = 0.2) -> tuple[Network, Network]:
    """(network, mask) of one member: a 2+H+2 `layered` net and its learnable entries for `mode`.

    Args:
        key: PRNG key of the member's network (the same key gives the same network in every mode).
        mode: one of `MODES`.
        init: one of `INITS`.
        n_hidden: hidden oscillators H.
        k_scale: coupling scale (K = scale·U(0.5, 1.5)).
        k_matched_edges: learnable edges in "k_matched".
        seed_scale: max |ω| after spectral seeding.
        input_scale: ω_in = input_scale·x.
        margin: targets −margin (correct output) and +margin (the other).
    """
    one_of("mode", mode, MODES)
    one_of("init", init, INITS)
    k_net, k_edges = jax.random.split(key)
    net = dataclasses.replace(layered(k_net, 2, n_hidden, 2, k_scale=k_scale), input_scale=float(input_scale),
                              target_on=-float(margin), target_off=float(margin))
    if init == "spectral":
        net = eqx.tree_at(lambda m: m.omega, net, spectral_seed(net.K, net.inputs, net.outputs, scale=seed_scale))
    mask = learnable_mask(net, omega=mode in ("omega_only", "both"), K=mode != "omega_only")
    if mode == "k_matched":
        edges = np.argwhere(np.triu(np.asarray(net.K) > 0, 1))
        pick = np.asarray(jax.random.choice(k_edges, len(edges), (k_matched_edges,), replace=False))
        m_K = jnp.zeros_like(net.K).at[edges[pick, 0], edges[pick, 1]].set(1.0)
        mask = eqx.tree_at(lambda m: m.K, mask, m_K + m_K.T)
    return net, mask


def vowel_ensemble(members, **kwargs) -> tuple[Network, Network]:
    """(networks, masks) of several members stacked on a leading axis E (an ensemble for `grad_fn`).

    Args:
        members: sequence of (key, mode, init), one per member.
        **kwargs: passed to `vowel_member`.
    """
    built = [vowel_member(key, mode, init, **kwargs) for key, mode, init in members]
    stack = lambda trees: jax.tree.map(lambda *a: jnp.stack(a), *trees)
    return stack([b[0] for b in built]), stack([b[1] for b in built])


def accuracies(ev_train, y_train, ev_test, y_test) -> dict:
    """Accuracies (over valid samples) of the readouts, for any leading (member) axes.

    Args:
        ev_train: `evaluate` output on the training samples, shape (…, S) per entry.
        y_train: (…, S) labels.
        ev_test: `evaluate` output on the test samples.
        y_test: (…, T) labels.

    Returns:
        dict of (…,) arrays: train_/test_ cos (the paper's readout), nearest (`readout`),
        calibrated and cos_calibrated (two classes: the orientation flipped when the training
        accuracy is below ½, for train and test alike), valid_test (share of valid test equilibria).
    """

    def acc(pred, y, valid):
        return jnp.sum((pred == y) & valid, -1) / jnp.maximum(jnp.sum(valid, -1), 1)

    out = {}
    for name, key in (("cos", "pred_cos"), ("nearest", "pred")):
        out[f"train_{name}"] = acc(ev_train[key], y_train, ev_train["valid"])
        out[f"test_{name}"] = acc(ev_test[key], y_test, ev_test["valid"])
    for name, base in (("calibrated", "nearest"), ("cos_calibrated", "cos")):
        flip = out[f"train_{base}"] < 0.5
        out[f"train_{name}"] = jnp.where(flip, 1.0 - out[f"train_{base}"], out[f"train_{base}"])
        out[f"test_{name}"] = jnp.where(flip, 1.0 - out[f"test_{base}"], out[f"test_{base}"])
    out["valid_test"] = jnp.mean(ev_test["valid"], -1)
    return out


def welch_p(a, b) -> float:
    """Welch's t-test p-value of two samples (NaN with fewer than two values in either)."""
    from scipy.stats import ttest_ind

    if len(a) < 2 or len(b) < 2:
        return float("nan")
    return float(ttest_ind(a, b, equal_var=False).pvalue)


def vowel_metrics(acc: dict, member_tags, modes, inits, threshold: float, skipped: dict) -> tuple[dict, dict]:
    """Summary metrics of a vowel ensemble: per (mode, init) group, headline names and Welch's test.

    Args:
        acc: `accuracies` output, (E,) arrays.
        member_tags: (E,) group name "<mode>_<init>" of every member.
        modes: the modes in order.
        inits: the inits in order.
        threshold: a member "converged" when its training accuracy (paper readout) exceeds it.
        skipped: group name → share of training samples skipped (unusable equilibria).

    Returns:
        (metrics, table): flat metrics ("<mode>_<init>_<name>"; "<mode>_acc_converged",
        "<mode>_converged" and "converged_<init>" for the first init and mode; "welch_p" comparing
        omega_only with k_matched, else random with spectral, among converged seeds) and
        {group: {name: value}}.
    """
    acc = {k: np.asarray(v) for k, v in acc.items()}
    conv = acc["train_cos"] > threshold
    member_tags = np.asarray(member_tags)
    nan = float("nan")
    table = {}
    for tag in [f"{m}_{i}" for m in modes for i in inits]:
        sel = member_tags == tag
        c, t = conv[sel], acc["test_cos"][sel]
        f = ~c
        table[tag] = dict(
            converged=float(np.mean(c)),
            acc_converged=float(np.mean(t[c])) if c.any() else nan,
            acc_all=float(np.mean(t)),
            failed_test_cos=float(np.mean(t[f])) if f.any() else nan,
            failed_inverted=float(np.mean(t[f] < 0.4)) if f.any() else nan,
            test_nearest=float(np.mean(acc["test_nearest"][sel])),
            test_calibrated=float(np.mean(acc["test_calibrated"][sel])),
            test_cos_calibrated=float(np.mean(acc["test_cos_calibrated"][sel])),
            failed_test_cos_calibrated=float(np.mean(acc["test_cos_calibrated"][sel][f])) if f.any() else nan,
            calibrated_above_60=float(np.mean(acc["train_calibrated"][sel] > threshold)),
            skipped_frac=float(skipped[tag]),
        )
    metrics = {f"{tag}_{k}": v for tag, row in table.items() for k, v in row.items()}
    i0, m0 = inits[0], modes[0]
    for mode in modes:
        metrics[f"{mode}_acc_converged"] = metrics[f"{mode}_{i0}_acc_converged"]
        metrics[f"{mode}_converged"] = metrics[f"{mode}_{i0}_converged"]
    for init in inits:
        metrics[f"converged_{init}"] = metrics[f"{m0}_{init}_converged"]
    conv_test = lambda tag: acc["test_cos"][(member_tags == tag) & conv]
    if "omega_only" in modes and "k_matched" in modes:
        metrics["welch_p"] = welch_p(conv_test(f"omega_only_{i0}"), conv_test(f"k_matched_{i0}"))
    elif "random" in inits and "spectral" in inits:
        metrics["welch_p"] = welch_p(conv_test(f"{m0}_random"), conv_test(f"{m0}_spectral"))
    return metrics, table


def vowel_summary(table: dict) -> str:
    """One sentence per group of `vowel_metrics`' table: convergence, accuracies, failed seeds, readouts."""
    return "; ".join(
        f"{tag}: converged {r['converged']:.0%}, test acc (converged) {r['acc_converged']:.1%}, "
        f"failed seeds' test acc {r['failed_test_cos']:.1%} ({r['failed_inverted']:.0%} of them < 40 %), "
        f"order-calibrated readouts: cos {r['test_cos_calibrated']:.1%} (failed seeds "
        f"{r['failed_test_cos_calibrated']:.1%}), nearest-target {r['test_calibrated']:.1%}" for tag, r in table.items())
