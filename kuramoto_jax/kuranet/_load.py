"""`load(run_dir)`: the trained coupling function of a KuraNet run, ready to use."""

from __future__ import annotations

import pathlib

import jax

from ._coupling import CouplingFunction, init_coupling

STUDIES = ("kuranet.global_sync", "kuranet.cluster_sync")


def load(run_dir, name: str | None = None) -> CouplingFunction:
    """The trained coupling function of a KuraNet run: the member chosen by validation.

    Args:
        run_dir: a completed run folder of `kuranet/global_sync` or `kuranet/cluster_sync`.
        name: which model when the run trained several (e.g. "clusters_gmm3" of a run over ks);
            None for the only one.

    Returns:
        A `CouplingFunction`: `model.couplings(features)` maps oscillator features (n, d) to the
        coupling matrix K (n, n) the study evaluated (same network, same normalisation).

    Raises:
        ValueError: for a folder that is not a completed KuraNet run, or one without a saved model.
    """
    from kuramoto_jax.run import load_checkpoint, load_run

    run_dir = pathlib.Path(run_dir)
    load_run(run_dir, studies=STUDIES)
    found = sorted((run_dir / "checkpoints").glob("*_model.npz"))
    names = [p.name[: -len("_model.npz")] for p in found]
    if name is None and len(found) != 1:
        raise ValueError(f"`run_dir` {str(run_dir)!r} holds {len(found)} trained models {names}: pass `name`"
                         if found else f"`run_dir` {str(run_dir)!r} holds no trained model (checkpoints/*_model.npz)")
    if name is not None and name not in names:
        raise ValueError(f"`name` {name!r} is not a model of {str(run_dir)!r}; it holds {names}")
    path = found[0] if name is None else found[names.index(name)]
    _, extra = load_checkpoint(path, None)
    net = init_coupling(jax.random.key(0), int(extra["num_features"]), extra["hidden"], extra["negative_slope"],
                        None, int(extra.get("fourier_features", 0)), float(extra.get("fourier_scale", 1.0)))
    model, _ = load_checkpoint(path, CouplingFunction(net, extra["normalisation"]))
    return model
