r"""Kuramoto reservoir (held input, per-oscillator read-out) against reservoirpy's ESN at D ∈ `dims`.

Protocol: `kuramoto_jax.reservoir._versus` (identical data, same ridge read-out with λ chosen on
validation, equal grid budget; gradient tuning at that budget; the held-out Hénon task run once).
Metrics `<task>_<D>_<model>` (test NRMSE, or MC) and `<task>_<D>_val_<model>` (validation loss),
models kuramoto_grid, kuramoto_gradient, esn_grid. `reservoir_kwargs.json` rebuilds each chosen
Kuramoto reservoir (grid-tuned and gradient-tuned) with `KuramotoReservoir(**kwargs)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import numpy as np

from kuramoto_jax.reservoir import (
    INPUT_MECHANISMS,
    KuramotoReservoir,
    nrmse_std,
    reservoirpy_version,
)
from kuramoto_jax.reservoir import _versus as vs

SWEPT = ("frequency", "phase_response")  # the mechanisms of the K/K_c figure


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "base seed (data series and reservoir draws)"})
    dims: list[int] = field(default_factory=lambda: [10, 50, 100], metadata={"help": "feature counts D (even)"})
    mechanism: str = field(default="phase_response", metadata={"choices": list(INPUT_MECHANISMS)})
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
    esn_spectral_radius: list[float] = field(default_factory=lambda: [0.5, 0.9, 1.2])
    esn_leak: list[float] = field(default_factory=lambda: [0.3, 1.0])
    esn_input_scale: list[float] = field(default_factory=lambda: [0.2, 1.0])
    esn_bias: list[float] = field(default_factory=lambda: [0.0, 0.5])
    learning_rate: float = field(default=0.05, metadata={"gt": 0})
    gradient_dims: list[int] = field(default_factory=lambda: [10, 50, 100], metadata={"help": "D tuned by gradient"})
    sweep_k_over_kc: list[float] = field(default_factory=lambda: [0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0])
    mg_horizon: int = 10
    mc_max_delay: int = 40


def run(config: Config, ctx) -> dict[str, float]:
    import matplotlib.pyplot as plt

    W, Tr, Va, Te = config.washout_samples, config.train_samples, config.validation_samples, config.test_samples
    fit, val, train, test = slice(W, W + Tr - Va), slice(W + Tr - Va, W + Tr), slice(W, W + Tr), slice(W + Tr, None)
    data = vs.versus_data(W + Tr + Te, config.seed, config.mg_horizon)
    series = ["random", "mackey_glass", "henon"]
    U = np.stack([data[t][0] for t in ("narma10", "mackey_glass", "henon")])
    kgrid = vs.kuramoto_grid(config.k_over_kc, config.eps, config.omega_mean, config.omega_spread)
    egrid = vs.esn_grid(config.esn_spectral_radius, config.esn_leak, config.esn_input_scale, config.esn_bias)
    budget = len(kgrid)
    half, steps = kgrid[::2], (budget - len(kgrid[::2]) - 1) // 2
    common = {"hold": config.hold, "dt": config.dt, "mechanism": config.mechanism}
    loss = lambda task, X: vs.choose_ridge(task, X, data[task][0], data[task][1], fit, val, config.ridges,
                                           config.mc_max_delay)
    backend = "numpy" if reservoirpy_version() is None else "reservoirpy"  # numpy ESN only without the extra
    metrics, kwargs_out, sims = {"esn_grid_size": len(egrid), "kuramoto_grid_size": budget,
                                 "esn_is_reservoirpy": float(backend == "reservoirpy")}, {}, {}
    for D in config.dims:
        n, tag = D // 2, str(D)
        draw = vs.base_draw(ctx.key("reservoir", D), n)
        Xk = vs.kuramoto_features([vs.grid_params(draw, p) for p in kgrid], U, **common)  # (P, 3, T, D)
        seed = int(jax.random.randint(ctx.key("esn", D), (), 0, 2**31 - 1))
        Xe = [[vs.esn_features(U[s], D, p, seed, backend) for s in range(3)] for p in ctx.progress(egrid, desc=f"ESN D={D}")]
        for task in vs.VERSUS_TASKS:
            s, (u, y) = series.index(vs.SERIES[task]), data[task]
            kl = [loss(task, Xk[i, s]) for i in range(budget)]
            el = [loss(task, Xe[i][s]) for i in range(len(egrid))]
            ib, ie = int(np.argmin([v for v, _ in kl])), int(np.argmin([v for v, _ in el]))
            chosen = {"grid": (vs.grid_params(draw, kgrid[ib]), kl[ib])}
            if D in config.gradient_dims:
                ih = 2 * int(np.argmin([kl[2 * j][0] for j in range(len(half))]))
                p, losses = vs.gradient_tune(vs.grid_params(draw, kgrid[ih]), task, u, y, fit, val, ridge=kl[ih][1],
                                             steps=steps, learning_rate=config.learning_rate,
                                             max_delay=config.mc_max_delay, **common)
                chosen["gradient"] = (p, (float(losses.min()), kl[ih][1]))
                sims[f"{task}_{tag}"] = len(half) + 2 * steps + 1
            kwargs_out.setdefault(task, {})[tag] = {}
            for name, (p, (v, ridge)) in chosen.items():
                kw = vs.reservoir_kwargs(p, ridge=ridge, washout_samples=W, **common)
                kwargs_out[task][tag][name] = kw
                if name == "gradient":  # validation loss by the grid's (numpy) scorer, at the same ridge
                    v = vs.task_loss(task, KuramotoReservoir(**kw).features(u), u, y, fit, val, ridge,
                                     config.mc_max_delay)
                res = KuramotoReservoir(**kw)
                if task == "memory_capacity":
                    score = vs.test_score(task, res.features(u), u, y, train, test, ridge, config.mc_max_delay)
                else:
                    score = nrmse_std(res.fit(u[: W + Tr], y[: W + Tr]).predict(u[W + Tr:]), y[test])
                metrics[f"{task}_{tag}_kuramoto_{name}"] = float(score)
                metrics[f"{task}_{tag}_val_kuramoto_{name}"] = v if task != "memory_capacity" else -v
            metrics[f"{task}_{tag}_esn_grid"] = vs.test_score(task, Xe[ie][s], u, y, train, test, el[ie][1],
                                                              config.mc_max_delay)
            metrics[f"{task}_{tag}_val_esn_grid"] = el[ie][0] if task != "memory_capacity" else -el[ie][0]
            metrics[f"{task}_{tag}_kuramoto_grid_k_over_kc"] = float(kgrid[ib][0])
            pre = f"{task}_{tag}_"
            ctx.log(f"D={D} {task}: " + ", ".join(f"{k[len(pre):]} {v:.3f}" for k, v in metrics.items()
                                                  if k.startswith(pre)))
        if D == config.dims[len(config.dims) // 2]:  # NARMA-10 validation NRMSE against K/K_c, both mechanisms
            base = kgrid[int(np.argmin([loss("narma10", Xk[i, 0])[0] for i in range(budget)]))]
            theta_b = vs.base_draw(ctx.key("second_start", D), n)[1]  # same reservoir, another θ(0)
            sweep, dist = (np.zeros((len(SWEPT), len(config.sweep_k_over_kc))) for _ in range(2))
            for m, mech in enumerate(SWEPT):
                ps = [vs.grid_params(draw, (k, *base[1:])) for k in config.sweep_k_over_kc]
                Xs = vs.kuramoto_features(ps + [p._replace(theta0=theta_b) for p in ps], U[:1], hold=config.hold,
                                          dt=config.dt, mechanism=mech)[:, 0]
                sweep[m] = [loss("narma10", Xs[i])[0] for i in range(len(ps))]
                dist[m] = [vs.phase_distance(Xs[i], Xs[len(ps) + i])[max(W - 50, 0):W].mean() for i in range(len(ps))]
            fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
            for m, mech in enumerate(SWEPT):
                axes[0].plot(config.sweep_k_over_kc, sweep[m], "-o", label=mech)
                axes[1].plot(config.sweep_k_over_kc, dist[m], "-o", label=mech)
            axes[0].axhline(metrics[f"narma10_{D}_val_esn_grid"], color="k", ls="--", label="ESN (grid)")
            axes[0].set(ylabel="NARMA-10 validation NRMSE", title=f"D = {D}")
            axes[1].set(yscale="log", ylabel="distance of two starts after the washout", title="echo-state property")
            for ax in axes:
                ax.set(xscale="log", xlabel="K / K_c", xticks=config.sweep_k_over_kc,
                       xticklabels=[f"{k:g}" for k in config.sweep_k_over_kc])
                ax.minorticks_off()
                ax.legend(fontsize=8)
            fig.tight_layout()
            ctx.save_figure(fig, "nrmse_vs_k")
            ctx.save_arrays(sweep_k_over_kc=np.asarray(config.sweep_k_over_kc), sweep_nrmse=sweep,
                            sweep_distance=dist, sweep_mechanisms=np.array(SWEPT),
                            sweep_base=np.asarray(base))
    metrics.update({f"simulations_gradient_{k}": float(v) for k, v in sims.items()})
    ctx.save_json("reservoir_kwargs", kwargs_out)
    ctx.summary(f"Kuramoto reservoir ({config.mechanism} input held {config.hold} s, cos/sin of D/2 oscillators) "
                f"against reservoirpy's ESN at D = {config.dims}, {budget} grid points each, same ridge read-out; "
                f"gradient tuning: {len(half)} grid points + {steps} Adam steps. "
                + "; ".join(f"{k} {v:.3g}" for k, v in metrics.items() if "_val_" not in k and k[-1].isalpha()))
    return metrics
