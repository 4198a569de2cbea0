r"""Kuramoto reservoir (held input, per-oscillator read-out) against reservoirpy's ESN at D ∈ `dims`.

Protocol: `kuramoto_jax.reservoir._versus` (identical data, same ridge read-out with λ chosen on
validation, equal grid budget; gradient tuning at that budget; the held-out Lorenz task only here, once).
Metrics `<task>_<D>_<model>` (test NRMSE, or MC) and `<task>_<D>_val_<model>` (validation loss),
models kuramoto_grid, kuramoto_gradient, esn_grid. `reservoir_kwargs.json` rebuilds each chosen
Kuramoto reservoir (grid-tuned and gradient-tuned) with `KuramotoReservoir(**kwargs)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import numpy as np

from kuramoto_jax.reservoir import (
    COUPLINGS,
    INPUT_MECHANISMS,
    KuramotoReservoir,
    k_over_kc_figure,
    reservoirpy_version,
)
from kuramoto_jax.reservoir import _versus as vs
from kuramoto_jax.theory import LAWS

SWEPT = ("frequency", "phase_response")  # the mechanisms of the K/K_c figure


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "base seed (data series and reservoir draws)"})
    dims: list[int] = field(default_factory=lambda: [10, 50, 100], metadata={"help": "feature counts D (even)"})
    tasks: list[str] = field(default_factory=lambda: list(vs.DESIGN_TASKS), metadata={
        "choices": list(vs.VERSUS_TASKS), "help": "tasks scored (the held-out 'lorenz' only in the final comparison)"})
    mechanism: list[str] = field(default_factory=lambda: ["phase_response"],
                                 metadata={"choices": list(INPUT_MECHANISMS), "help": "input mechanisms of the grid"})
    hold: float = field(default=1.0, metadata={"gt": 0, "help": "seconds each input sample is held"})
    dt: float = field(default=0.1, metadata={"gt": 0})
    washout_samples: int = 200
    train_samples: int = 1000
    validation_samples: int = 200
    test_samples: int = 500
    ridges: list[float] = field(default_factory=lambda: [1e-6, 1e-4, 1e-2])
    k_over_kc: list[float] = field(default_factory=lambda: [0.5, 1.5, 3.0])
    eps: list[float] = field(default_factory=lambda: [0.3, 1.0])
    omega_mean: list[float] = field(default_factory=lambda: [0.5, 2.0])
    omega_spread: list[float] = field(default_factory=lambda: [0.2, 0.8])
    law: list[str] = field(default_factory=lambda: ["gaussian"],
                           metadata={"choices": list(LAWS), "help": "frequency laws of the grid"})
    coupling: list[str] = field(default_factory=lambda: ["mean_field"],
                                metadata={"choices": list(COUPLINGS), "help": "couplings of the grid"})
    readout: list[str] = field(default_factory=lambda: ["oscillators"],
                               metadata={"choices": list(vs.READOUTS), "help": "read-outs of the grid (D each)"})
    mean_degree: float = field(default=3.0, metadata={"gt": 0, "help": "mean degree of the sparse coupling"})
    esn_spectral_radius: list[float] = field(default_factory=lambda: [0.5, 0.9, 1.2])
    esn_leak: list[float] = field(default_factory=lambda: [0.3, 1.0])
    esn_input_scale: list[float] = field(default_factory=lambda: [0.2, 1.0])
    esn_bias: list[float] = field(default_factory=lambda: [0.0, 0.5])
    learning_rate: float = field(default=0.05, metadata={"gt": 0})
    gradient_hold: bool = field(default=False, metadata={"help": "tune the hold time h by gradient too (s = t/h)"})
    gradient_dims: list[int] = field(default_factory=lambda: [10, 50, 100], metadata={"help": "D tuned by gradient"})
    sweep_k_over_kc: list[float] = field(default_factory=lambda: [0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0])
    note: str = field(default="", metadata={"help": "first sentence of the summary (what the run is for)"})
    mg_horizon: int = 10
    mc_max_delay: int = 40

    def __post_init__(self):
        if "narma10" not in self.tasks:  # the K/K_c figure is drawn on NARMA-10
            raise ValueError(f"`tasks` must include 'narma10', got {self.tasks}")


def run(config: Config, ctx) -> dict[str, float]:
    W, Tr, Va, Te = config.washout_samples, config.train_samples, config.validation_samples, config.test_samples
    fit, val, train, test = slice(W, W + Tr - Va), slice(W + Tr - Va, W + Tr), slice(W, W + Tr), slice(W + Tr, None)
    data = vs.versus_data(W + Tr + Te, config.seed, config.mg_horizon)
    tasks = [t for t in vs.VERSUS_TASKS if t in config.tasks]
    series = list(dict.fromkeys(vs.SERIES[t] for t in tasks))  # one input series per family, in task order
    U = np.stack([data[next(t for t in tasks if vs.SERIES[t] == f)][0] for f in series])
    kgrid = vs.kuramoto_grid(config.k_over_kc, config.eps, config.omega_mean, config.omega_spread, config.law,
                             config.coupling, config.readout, config.mechanism)
    egrid = vs.esn_grid(config.esn_spectral_radius, config.esn_leak, config.esn_input_scale, config.esn_bias)
    budget = len(kgrid)
    half, steps = kgrid[::2], (budget - len(kgrid[::2]) - 1) // 2
    common = {"hold": config.hold, "dt": config.dt}
    loss = lambda task, X: vs.choose_ridge(task, X, data[task][0], data[task][1], fit, val, config.ridges,
                                           config.mc_max_delay)
    backend = "numpy" if reservoirpy_version() is None else "reservoirpy"  # numpy ESN only without the extra
    metrics, kwargs_out, sims = {"esn_grid_size": len(egrid), "kuramoto_grid_size": budget,
                                 "esn_is_reservoirpy": float(backend == "reservoirpy")}, {}, {}
    grid_val = np.zeros((len(tasks), len(config.dims), budget))
    for d, D in enumerate(config.dims):
        tag = str(D)
        draws = {n: vs.base_draw(ctx.key("reservoir", D) if n == D // 2 else ctx.key("reservoir", D, n), n,
                                 config.mean_degree) for n in {vs.readout_layout(r, D)[0] for r in config.readout}}
        Xk = vs.grid_features(draws, kgrid, U, D, **common)  # P × (S, T, D)

        def point(i, draws=draws, D=D):
            return vs.grid_params(draws[vs.readout_layout(kgrid[i].readout, D)[0]], kgrid[i])

        seed = int(jax.random.randint(ctx.key("esn", D), (), 0, 2**31 - 1))
        Xe = [[vs.esn_features(U[s], D, p, seed, backend) for s in range(len(series))]
              for p in ctx.progress(egrid, desc=f"ESN D={D}")]
        for task in tasks:
            s, (u, y) = series.index(vs.SERIES[task]), data[task]
            kl = [loss(task, Xk[i][s]) for i in range(budget)]
            grid_val[tasks.index(task), d] = [v for v, _ in kl]
            el = [loss(task, Xe[i][s]) for i in range(len(egrid))]
            ib, ie = int(np.argmin([v for v, _ in kl])), int(np.argmin([v for v, _ in el]))
            chosen = {"grid": (kgrid[ib], point(ib), kl[ib], config.hold)}
            if D in config.gradient_dims:
                ih = 2 * int(np.argmin([kl[2 * j][0] for j in range(len(half))]))
                p, losses, h = vs.gradient_tune(point(ih), task, u, y, fit, val, ridge=kl[ih][1], steps=steps,
                                                learning_rate=config.learning_rate, max_delay=config.mc_max_delay,
                                                mechanism=kgrid[ih].mechanism, tune_hold=config.gradient_hold,
                                                features=vs.readout_features(kgrid[ih].readout, D), **common)
                chosen["gradient"] = (kgrid[ih], p, (float(losses.min()), kl[ih][1]), h)
                metrics[f"{task}_{tag}_kuramoto_gradient_hold"] = h
                sims[f"{task}_{tag}"] = len(half) + 2 * steps + 1
            kwargs_out.setdefault(task, {})[tag] = {}
            for name, (gp, p, (v, ridge), h) in chosen.items():
                kw = vs.reservoir_kwargs(p, ridge=ridge, washout_samples=W, mechanism=gp.mechanism, readout=gp.readout,
                                         D=D, coupling=gp.coupling, hold=h, dt=config.dt * h / config.hold)
                kwargs_out[task][tag][name] = kw
                if name == "gradient":  # validation loss by the grid's (numpy) scorer, at the same ridge
                    v = vs.task_loss(task, KuramotoReservoir(**kw).features(u), u, y, fit, val, ridge,
                                     config.mc_max_delay)
                metrics[f"{task}_{tag}_kuramoto_{name}"] = vs.rebuilt_score(kw, task, u, y, train, test,
                                                                           config.mc_max_delay)
                metrics[f"{task}_{tag}_val_kuramoto_{name}"] = v if task != "memory_capacity" else -v
            metrics[f"{task}_{tag}_esn_grid"] = vs.test_score(task, Xe[ie][s], u, y, train, test, el[ie][1],
                                                              config.mc_max_delay)
            metrics[f"{task}_{tag}_val_esn_grid"] = el[ie][0] if task != "memory_capacity" else -el[ie][0]
            metrics[f"{task}_{tag}_kuramoto_grid_k_over_kc"] = float(kgrid[ib].k_over_kc)
            metrics[f"{task}_{tag}_kuramoto_grid_point"] = float(ib)
            pre = f"{task}_{tag}_"
            ctx.log(f"D={D} {task}: " + ", ".join(f"{k[len(pre):]} {v:.3f}" for k, v in metrics.items()
                                                  if k.startswith(pre)))
        if D == config.dims[len(config.dims) // 2]:  # NARMA-10 validation NRMSE against K/K_c, both mechanisms
            base = kgrid[int(np.argmin([loss("narma10", Xk[i][0])[0] for i in range(budget)]))]
            n = vs.readout_layout(base.readout, D)[0]
            theta_b = vs.base_draw(ctx.key("second_start", D), n).theta0  # same reservoir, another θ(0)
            sweep, dist = (np.zeros((len(SWEPT), len(config.sweep_k_over_kc))) for _ in range(2))
            for m, mech in enumerate(SWEPT):
                ps = [vs.grid_params(draws[n], base._replace(k_over_kc=k, mechanism=mech)) for k in config.sweep_k_over_kc]
                Xs = vs.kuramoto_features(ps + [p._replace(theta0=theta_b) for p in ps], U[:1], hold=config.hold,
                                          dt=config.dt, mechanism=mech, features=vs.readout_features(base.readout, D))
                Xs = Xs[:, 0]
                sweep[m] = [loss("narma10", Xs[i])[0] for i in range(len(ps))]
                dist[m] = [vs.phase_distance(Xs[i, :, :2 * n], Xs[len(ps) + i, :, :2 * n])[max(W - 50, 0):W].mean()
                           for i in range(len(ps))]
            fig = k_over_kc_figure(config.sweep_k_over_kc, sweep, dist, SWEPT, metrics[f"narma10_{D}_val_esn_grid"], D)
            ctx.save_figure(fig, "nrmse_vs_k")
            ctx.save_arrays(sweep_k_over_kc=np.asarray(config.sweep_k_over_kc), sweep_nrmse=sweep,
                            sweep_distance=dist, sweep_mechanisms=np.array(SWEPT),
                            sweep_base=np.asarray([str(v) for v in base]))
    metrics.update({f"simulations_gradient_{k}": float(v) for k, v in sims.items()})
    levels, level_best = vs.option_best(grid_val, kgrid)  # which options matter (validation, −MC for MC)
    ctx.save_arrays(grid_validation=grid_val, grid_points=np.asarray([[str(v) for v in p] for p in kgrid]),
                    option_levels=np.asarray(levels), option_best_validation=level_best)
    ctx.save_json("reservoir_kwargs", kwargs_out)
    ctx.summary(f"{config.note} Kuramoto reservoir (inputs held {config.hold} s; grid over K/K_c {config.k_over_kc}, "
                f"ε {config.eps}, ω̄ {config.omega_mean}, σ {config.omega_spread}, law {config.law}, coupling "
                f"{config.coupling}, read-out {config.readout}, input {config.mechanism}) against reservoirpy's ESN "
                f"at D = {config.dims}, {budget} grid points each, same ridge read-out; gradient tuning at D = "
                f"{config.gradient_dims}: {len(half)} grid points + {steps} Adam steps"
                f"{' (hold time tuned too)' if config.gradient_hold else ''}. "
                + "; ".join(f"{k} {v:.3g}" for k, v in metrics.items() if "_val_" not in k and k[-1].isalpha()))
    return metrics
