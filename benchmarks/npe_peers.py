"""Neural posterior estimation side by side with BayesFlow 2 and sbi on identical data.

The simple-network problem of `configs/npe/simple.yaml` (N = 100 all-to-all, K ~ U(0, 3),
drift least-squares summaries): one training set and one held-out test set are simulated
with this toolkit and written to an .npz; the toolkit's flow (the config's), BayesFlow 2's
CouplingFlow (its defaults, JAX backend) and sbi's NPE (its defaults) are trained on the
same (θ, x) pairs; every method draws the same number of posterior samples for every test
set, and all draws are scored by the same code (`kuramoto_jax.npe` diagnostics).

The stages run in two environments and exchange .npz files in `--data`:

    # in the toolkit's environment
    python benchmarks/npe_peers.py --stage simulate
    python benchmarks/npe_peers.py --stage train-ours
    # in an environment with bayesflow>=2, keras>=3, jax, sbi, torch (KERAS_BACKEND=jax is set here)
    python benchmarks/npe_peers.py --stage train-peers [--peers bayesflow,sbi]
    # back in the toolkit's environment
    python benchmarks/npe_peers.py --stage evaluate --out benchmarks/results/npe_peers_cpu

`--small` shrinks everything for a quick check (1000 training simulations, 30 test sets,
200 steps / few epochs). Module-level imports are the standard library and NumPy only,
so the peer stage does not need this toolkit installed.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import socket
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "npe" / "simple.yaml"
SMALL = ["num_train=1000", "num_test=30", "train.num_steps=200", "train.eval_every=50", "train.checkpoint_every=200"]
STAGES = ("simulate", "train-ours", "train-peers", "evaluate")
PEERS = ("bayesflow", "sbi")
TIME_SETS = 20  # test sets timed one at a time for the ms-per-posterior figure


# ---------------------------------------------------------------- helpers shared by both environments

def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


class Clock:
    """Wall and process CPU time (all threads) and the 1-minute load average at both ends."""

    def __enter__(self):
        self.load_start = _load()
        self._w, self._c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._w
        self.cpu = time.process_time() - self._c
        self.load_end = _load()
        return False

    def record(self, prefix: str) -> dict:
        return {f"{prefix}_seconds": self.wall, f"{prefix}_cpu_seconds": self.cpu,
                f"{prefix}_load_start": self.load_start, f"{prefix}_load_end": self.load_end}


def _machine() -> dict:
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(l.split(":", 1)[1].strip() for l in fh if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"machine": socket.gethostname(), "cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def _save(path: pathlib.Path, **arrays):
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _meta_of(npz) -> dict:
    return json.loads(str(npz["meta"]))


# ---------------------------------------------------------------- the toolkit's side

def _resolved(small: bool, overrides=()):
    from kuramoto_jax.run import resolve

    return resolve(CONFIG, (SMALL if small else []) + list(overrides))


def _streams(cfg):
    """The keys of `npe.train_and_evaluate` in the study (`ctx.key("npe")`, then its documented stream
    names), so that this benchmark trains and tests on the study's own simulations."""
    import kuramoto_jax as kj

    root = kj.stream_key(cfg.seed, "npe")
    return {name: kj.stream_key(root, name) for name in ("training_set", "fit", "test_set", "draws", "timing")}


def _simulator(cfg):
    from kuramoto_jax import npe

    protocol = npe.ObservationProtocol(t1=cfg.t1, dt=cfg.dt, stride=cfg.stride, noise=cfg.noise)
    sim = npe.simple_network(n=cfg.n, sigma=cfg.sigma, k_max=cfg.k_max, protocol=protocol)
    return sim, npe.SummaryConfig(paper_every=cfg.paper_every, drift=cfg.drift)


def stage_simulate(args):
    from kuramoto_jax import npe

    run = _resolved(args.small)
    cfg = run.config
    sim, summary = _simulator(cfg)
    keys = _streams(cfg)
    with Clock() as c:
        theta, x = npe.simulate_dataset(sim, keys["training_set"], cfg.num_train,
                                        fn=lambda y: npe.summarize(y, sim, summary), batch_size=cfg.chunk)
    t_theta, t_x = npe.simulate_dataset(sim, keys["test_set"], cfg.num_test, batch_size=cfg.chunk,
                                        fn=lambda y: npe.summarize(y, sim, summary))
    low, high = (np.asarray(b, np.float64) for b in sim.prior_bounds)
    val_index = _validation_index(cfg, theta.shape[0])
    meta = {"config": str(CONFIG.relative_to(ROOT)), "small": args.small, "seed": cfg.seed,
            "num_train": cfg.num_train, "num_test": cfg.num_test, "num_draws": cfg.num_draws,
            "param_names": list(sim.param_names), "summary_dim": int(x.shape[1]), **c.record("simulate")}
    _save(args.data / "data.npz", train_theta=theta, train_x=x, test_theta=t_theta, test_x=t_x,
          low=low, high=high, val_index=val_index, meta=json.dumps(meta))
    print(f"simulated {cfg.num_train} training + {cfg.num_test} test data sets ({x.shape[1]} summaries) "
          f"in {c.wall:.1f} s -> {args.data / 'data.npz'}")


def _validation_index(cfg, m: int) -> np.ndarray:
    """The validation rows that `npe.fit_estimator` holds out (its "split" stream)."""
    import kuramoto_jax as kj
    from kuramoto_jax import npe

    val, _ = npe.validation_split(kj.stream_key(_streams(cfg)["fit"], "split"), m, cfg.train.validation_fraction)
    return np.asarray(val)


def stage_train_ours(args):
    import equinox as eqx
    import jax
    import jax.numpy as jnp

    from kuramoto_jax import npe

    run = _resolved(args.small, args.set)
    cfg = run.config
    d = np.load(args.data / "data.npz")
    keys = _streams(cfg)
    with Clock() as c:
        est, result = npe.fit_estimator(keys["fit"], d["train_theta"], d["train_x"], d["low"], d["high"],
                                        cfg.flow, cfg.train)
    draws = npe.sample_posteriors(est, keys["draws"], d["test_x"], cfg.num_draws)
    ms = _time_ours(est, keys["timing"], d["test_x"][:TIME_SETS], cfg.num_draws, eqx, jax, jnp)
    hist = result.history
    meta = {"method": "ours", "library": "kuramoto_jax (flowjax)", **c.record("train"),
            "train_steps": int(result.step), "best_step": int(result.best_step), "best_val_loss": float(result.best_loss),
            "ms_per_posterior": ms,
            "settings": f"flowjax RQ-spline coupling flow, {cfg.flow.flow_layers} layers, MLP {cfg.flow.nn_width}x"
                        f"{cfg.flow.nn_depth}; {cfg.train.optimizer} {cfg.train.learning_rate} {cfg.train.schedule}, "
                        f"batch {cfg.train.batch_size}, {cfg.train.num_steps} steps, best-validation weights"}
    _save(args.data / "draws_ours.npz", draws=draws.astype(np.float32),
          eval_step=np.asarray(hist.get("eval_step", [])), eval_loss=np.asarray(hist.get("eval_loss", [])),
          meta=json.dumps(meta))
    print(f"ours: trained in {c.wall:.1f} s (process CPU {c.cpu:.1f} s), {ms:.2f} ms per posterior")


def _time_ours(est, key, xs, num_draws, eqx, jax, jnp):
    """ms per posterior of num_draws draws from precomputed summaries (one data set per call)."""
    f = eqx.filter_jit(lambda e, k, x: e.sample(k, x, num_draws))
    f(est, key, jnp.asarray(xs[0])).block_until_ready()  # compile
    t = time.perf_counter()
    for i, x in enumerate(xs):
        f(est, jax.random.fold_in(key, i), jnp.asarray(x)).block_until_ready()
    return 1e3 * (time.perf_counter() - t) / len(xs)


# ---------------------------------------------------------------- the peers' side (their own environment)

def stage_train_peers(args):
    d = np.load(args.data / "data.npz")
    meta = _meta_of(d)
    os.chdir(args.data)  # the peers write logs (sbi-logs/) into the working directory
    for peer in args.peers:
        {"bayesflow": _train_bayesflow, "sbi": _train_sbi}[peer](args, d, meta)


def _peer_split(d, meta):
    """The toolkit's training/validation split (same pairs for every method that takes one)."""
    val = d["val_index"]
    tr = np.setdiff1d(np.arange(d["train_theta"].shape[0]), val)
    return tr, val


def _train_bayesflow(args, d, meta):
    """BayesFlow 2's BasicWorkflow with its CouplingFlow at its defaults (6 affine coupling
    blocks with ActNorm and random permutations, MLP 128-128, dropout 0.05) and its offline
    training defaults (AdamW 5e-4, 5 % warm-up + cosine decay, batch 32, 100 epochs, final
    weights). The bounded prior goes through the adapter's `constrain` (BayesFlow's way) and
    conditions are standardised as well as parameters (`standardize="all"`), as the toolkit
    and sbi do."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    os.environ.setdefault("TQDM_DISABLE", "1")  # one progress bar per sampling call otherwise
    import logging

    import keras

    import bayesflow as bf

    logging.getLogger("bayesflow").setLevel(logging.WARNING)

    keras.utils.set_random_seed(meta["seed"])
    epochs = 3 if meta["small"] else 100
    low, high = float(d["low"][0]), float(d["high"][0])
    if d["low"].size != 1:
        raise ValueError("this benchmark's BayesFlow adapter handles one parameter (the simple network's K)")
    adapter = (bf.Adapter()
               .convert_dtype(from_dtype="float64", to_dtype="float32")
               .constrain("theta", lower=low, upper=high)
               .concatenate(["theta"], into="inference_variables")
               .concatenate(["x"], into="inference_conditions"))
    workflow = bf.BasicWorkflow(adapter=adapter, inference_network=bf.networks.CouplingFlow(), standardize="all")
    tr, val = _peer_split(d, meta)
    f32 = lambda a: np.asarray(a, np.float32)
    train = {"theta": f32(d["train_theta"][tr]), "x": f32(d["train_x"][tr])}
    valid = {"theta": f32(d["train_theta"][val]), "x": f32(d["train_x"][val])}
    class EpochClock(keras.callbacks.Callback):
        """Wall and CPU seconds since the start of training at the end of every epoch."""

        def on_train_begin(self, logs=None):
            self.t0, self.c0, self.wall, self.cpu = time.perf_counter(), time.process_time(), [], []

        def on_epoch_end(self, epoch, logs=None):
            self.wall.append(time.perf_counter() - self.t0)
            self.cpu.append(time.process_time() - self.c0)

    clock = EpochClock()
    with Clock() as c:
        history = workflow.fit_offline(train, epochs=epochs, batch_size=32, validation_data=valid, verbose=0,
                                       callbacks=[clock])
    n = meta["num_draws"]
    draws = workflow.sample(num_samples=n, conditions={"x": f32(d["test_x"])})["theta"]  # (S, L, 1)

    def one(x):
        return workflow.sample(num_samples=n, conditions={"x": f32(x)[None]})["theta"]

    ms = _time_peer(one, d["test_x"][:TIME_SETS])
    hist = history.history
    info = {"method": "bayesflow", "library": f"bayesflow {bf.__version__}, keras {keras.__version__} "
                                              f"({keras.backend.backend()} backend)",
            **c.record("train"), "epochs": epochs, "ms_per_posterior": ms,
            "final_val_loss": float(hist["val_loss"][-1]) if "val_loss" in hist else None,
            "settings": f"CouplingFlow() defaults; fit_offline(epochs={epochs}, batch_size=32) (100 and 32 are its "
                        "defaults), validation on the toolkit's validation rows, final weights; K constrained to the "
                        "prior box by the adapter; standardize='all'"}
    _save(args.data / "draws_bayesflow.npz", draws=np.asarray(draws, np.float32).reshape(len(d["test_x"]), n, -1),
          loss=np.asarray(hist.get("loss", [])), val_loss=np.asarray(hist.get("val_loss", [])),
          epoch_wall=np.asarray(clock.wall), epoch_cpu=np.asarray(clock.cpu), meta=json.dumps(info))
    print(f"bayesflow: trained {epochs} epochs in {c.wall:.1f} s (process CPU {c.cpu:.1f} s), {ms:.2f} ms per posterior")


def _train_sbi(args, d, meta):
    """sbi's NPE at its defaults: MAF (5 transforms, 50 hidden units), z-scored θ and x, Adam
    5e-4, batch 200, its own 10 % validation split, stop after 20 epochs without improvement;
    the uniform prior as a BoxUniform (draws outside it are rejected, sbi's default)."""
    import torch

    import sbi
    from sbi.inference import NPE
    from sbi.utils import BoxUniform

    torch.manual_seed(meta["seed"])
    prior = BoxUniform(low=torch.as_tensor(d["low"], dtype=torch.float32),
                       high=torch.as_tensor(d["high"], dtype=torch.float32))
    inference = NPE(prior=prior, show_progress_bars=False)
    theta = torch.as_tensor(d["train_theta"], dtype=torch.float32)
    x = torch.as_tensor(d["train_x"], dtype=torch.float32)
    cap = 3 if meta["small"] else args.sbi_max_epochs
    kwargs = {"max_num_epochs": cap} if cap else {}
    with Clock() as c:
        inference.append_simulations(theta, x)
        estimator = inference.train(**kwargs)
    posterior = inference.build_posterior(estimator)
    n = meta["num_draws"]
    xt = torch.as_tensor(d["test_x"], dtype=torch.float32)
    draws = posterior.sample_batched((n,), x=xt, show_progress_bars=False)  # (L, S, P)
    draws = draws.permute(1, 0, 2).numpy()

    def one(xo):
        return posterior.sample((n,), x=torch.as_tensor(xo, dtype=torch.float32), show_progress_bars=False)

    ms = _time_peer(one, d["test_x"][:TIME_SETS])
    summ = inference.summary
    info = {"method": "sbi", "library": f"sbi {sbi.__version__}, torch {torch.__version__} "
                                        f"({torch.get_num_threads()} threads)",
            **c.record("train"), "epochs": int(summ["epochs_trained"][-1]), "ms_per_posterior": ms,
            "best_val_loss": float(summ["best_validation_loss"][-1]),
            "settings": "NPE(prior=BoxUniform) defaults (MAF); train() defaults"
                        + (f" except max_num_epochs={cap} (best validation weights)" if cap else "")}
    _save(args.data / "draws_sbi.npz", draws=draws.astype(np.float32),
          val_loss=np.asarray(summ.get("validation_loss", []), float), meta=json.dumps(info))
    print(f"sbi: trained {info['epochs']} epochs in {c.wall:.1f} s (process CPU {c.cpu:.1f} s), {ms:.2f} ms per posterior")


def _time_peer(one, xs):
    """ms per posterior: one data set per call, the first call (tracing, warm-up) not counted."""
    one(xs[0])
    t = time.perf_counter()
    for x in xs:
        np.asarray(one(x))
    return 1e3 * (time.perf_counter() - t) / len(xs)


# ---------------------------------------------------------------- evaluation with the toolkit's metric code

METHODS = ("ours", "bayesflow", "sbi")
LABELS = {"ours": "kuramoto_jax (flowjax spline coupling flow)", "bayesflow": "BayesFlow 2 CouplingFlow",
          "sbi": "sbi NPE (MAF)"}


def stage_evaluate(args):
    import jax

    from kuramoto_jax import npe

    d = np.load(args.data / "data.npz")
    data_meta = _meta_of(d)
    truths = d["test_theta"]
    runs = {}
    for m in METHODS:
        f = args.data / f"draws_{m}.npz"
        if f.exists():
            z = np.load(f)
            runs[m] = {"draws": np.asarray(z["draws"], np.float64), "meta": _meta_of(z)}
    if not runs:
        raise SystemExit(f"no draws_*.npz in {args.data}: run the train stages first")

    rows = {}
    for m, r in runs.items():
        draws = r["draws"]
        if draws.shape[:2] != (truths.shape[0], data_meta["num_draws"]):
            raise SystemExit(f"{m}: draws of shape {draws.shape}, expected ({truths.shape[0]}, {data_meta['num_draws']}, P)")
        cov = npe.coverage(draws, truths, [0.5, 0.9])[:, 0]
        pit = npe.pit(draws, truths)[:, 0]
        rows[m] = {
            "nrmse": float(npe.range_normalised_rmse(draws, truths)[0]),
            "contraction": float(npe.contraction(draws, truths)[0]),
            "calibration_error": float(npe.calibration_error(draws, truths)[0]),
            "coverage_50": float(cov[0]), "coverage_90": float(cov[1]),
            "ecdf_in_95_band": bool(npe.ecdf_in_bands(pit)),
            "median_posterior_sd": float(np.median(draws[..., 0].std(1, ddof=1))),
            **{k: v for k, v in r["meta"].items() if k != "method"},
        }

    # C2ST between the methods' posteriors for the same data sets, spread over the prior range of K.
    order = np.argsort(truths[:, 0])
    pick = order[np.linspace(0, len(order) - 1, min(args.c2st_sets, len(order))).astype(int)]
    pairs = [(a, b) for i, a in enumerate(METHODS) for b in METHODS[i + 1:] if a in runs and b in runs]
    c2st = {}
    for a, b in pairs:
        acc = [npe.c2st(runs[a]["draws"][s], runs[b]["draws"][s], seed=int(s)) for s in pick]
        c2st[f"{a}_vs_{b}"] = {"per_set": [float(v) for v in acc], "mean": float(np.mean(acc))}

    result = {
        **_machine(), "jax": jax.__version__, "device": jax.devices()[0].device_kind, "backend": jax.default_backend(),
        "load_average_at_evaluation": _load(), "data": data_meta, "c2st_sets": [int(s) for s in pick],
        "c2st_true_K": [float(truths[s, 0]) for s in pick], "methods": rows, "c2st": c2st,
    }
    if "ours" in rows and "bayesflow" in rows:
        result["bayesflow_over_ours_train_wall"] = rows["bayesflow"]["train_seconds"] / rows["ours"]["train_seconds"]
        result["bayesflow_over_ours_train_cpu"] = rows["bayesflow"]["train_cpu_seconds"] / rows["ours"]["train_cpu_seconds"]
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        out = pathlib.Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.with_suffix(".json").write_text(text + "\n")
        out.with_suffix(".md").write_text(_markdown(result))
        print(f"wrote {out.with_suffix('.json')} and {out.with_suffix('.md')}")


def _markdown(res) -> str:
    data, rows = res["data"], res["methods"]
    lines = [
        "# Neural posterior estimation side by side with BayesFlow 2 and sbi (simple network)",
        "",
        f"Machine: {res['machine']} ({res['cpu']}, {res['cores']} cores, shared with other jobs), "
        f"jax {res['jax']} ({res['device']}). Produced by `benchmarks/npe_peers.py`"
        f"{' --small' if data['small'] else ''}.",
        "",
        f"Identical data for every method: `{data['config']}` protocol, seed {data['seed']}, "
        f"{data['num_train']} training simulations ({data['summary_dim']} summaries each; the toolkit's "
        f"validation rows are also BayesFlow's; sbi makes its own 10 % split), {data['num_test']} held-out test "
        f"sets × {data['num_draws']} posterior draws; every metric computed by `kuramoto_jax.npe`.",
        "",
        "| method | NRMSE | contraction | calibration error | 50 % / 90 % coverage | rank ECDF in 95 % band "
        "| train wall (s) | train CPU (s) | load at start/end | ms / posterior (1000 draws) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m, r in rows.items():
        lines.append(
            f"| {LABELS[m]} | {r['nrmse']:.4f} | {r['contraction']:.4f} | {r['calibration_error']:.4f} | "
            f"{r['coverage_50']:.2f} / {r['coverage_90']:.2f} | {'yes' if r['ecdf_in_95_band'] else 'no'} | "
            f"{r['train_seconds']:.0f} | {r['train_cpu_seconds']:.0f} | {r['train_load_start']:.1f} / "
            f"{r['train_load_end']:.1f} | {r['ms_per_posterior']:.1f} |")
    lines += ["", "Settings and versions:", ""]
    for m, r in rows.items():
        lines.append(f"- {LABELS[m]} ({r['library']}): {r['settings']}.")
    if res["c2st"]:
        ks = ", ".join(f"{k:.2f}" for k in res["c2st_true_K"])
        lines += ["", f"C2ST accuracy between the methods' posteriors (0.5: indistinguishable) on "
                      f"{len(res['c2st_sets'])} test sets with true K = {ks}:", "",
                  "| pair | mean | per set |", "|---|---|---|"]
        for pair, v in res["c2st"].items():
            lines.append(f"| {pair.replace('_vs_', ' vs ')} | {v['mean']:.3f} | "
                         f"{', '.join(f'{a:.3f}' for a in v['per_set'])} |")
    if "bayesflow_over_ours_train_wall" in res:
        lines += ["", f"BayesFlow's training time over ours: {res['bayesflow_over_ours_train_wall']:.2f}× by wall "
                      f"time, {res['bayesflow_over_ours_train_cpu']:.2f}× by process CPU time (all threads)."]
    lines += ["", "Wall times on this machine depend on the other jobs sharing its cores (load averages above); "
                  "process CPU times are the steadier comparison. Times per posterior are measured from "
                  "precomputed summaries, one data set per call, after a warm-up call.", ""]
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stage", choices=STAGES, required=True)
    ap.add_argument("--small", action="store_true", help="quick check: 1000 training simulations, 30 test sets")
    ap.add_argument("--data", default="/work/npe_peers_data", help="folder for the exchanged .npz files (not committed)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="train-ours: override a field of configs/npe/simple.yaml (repeatable), e.g. train.num_steps=8000")
    ap.add_argument("--peers", default="bayesflow,sbi", help="comma-separated subset of bayesflow,sbi")
    ap.add_argument("--sbi-max-epochs", type=int, default=None,
                    help="train-peers: cap sbi's epochs (default: none, sbi stops after 20 epochs without improvement)")
    ap.add_argument("--out", default=None, help="evaluate: write OUT.json and OUT.md")
    ap.add_argument("--c2st-sets", type=int, default=5, help="evaluate: test sets for the C2ST between methods")
    args = ap.parse_args(argv)
    args.data = pathlib.Path(args.data) / ("small" if args.small else "full")
    args.data.mkdir(parents=True, exist_ok=True)
    args.peers = [p for p in args.peers.split(",") if p]
    bad = [p for p in args.peers if p not in PEERS]
    if bad:
        ap.error(f"--peers: unknown {bad}; expected a subset of {list(PEERS)}")
    {"simulate": stage_simulate, "train-ours": stage_train_ours, "train-peers": stage_train_peers,
     "evaluate": stage_evaluate}[args.stage](args)


if __name__ == "__main__":
    main()
