"""Gradient verification: EP (one-sided, centred) against exact implicit gradients and finite differences.

For random connected graphs of N oscillators (K_ij = k_mean·U(0.5, 1.5) on G(N, p)
edges, ω ~ spread·N(0, 1)), two outputs with targets (−margin, +margin), the study
computes at the free equilibrium:

  * the exact gradient (implicit function theorem through the Newton solve),
  * central finite differences of L(θ*(ω^c, K)) for every ω^c_k and edge (N ≤ fd_max_n),
  * one-sided EP and centred ±β EP for β on a log grid,

and reports cosines and relative errors, with log–log slopes of error against β
(theory: 1 for one-sided, 2 for centred) fitted on β ∈ [slope_fit_min_beta, slope_fit_max_beta].
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax
import numpy as np

from kuramoto_jax import ep

PRECISION = "float64"  # differences (θ^β − θ*)/β at β down to 1e-4 and finite differences need it


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "PRNG seed of the random networks"})
    sizes: list[int] = field(default_factory=lambda: [6, 20, 50, 200], metadata={"help": "network sizes N"})
    betas: list[float] = field(default_factory=lambda: [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3],
                               metadata={"help": "nudging strengths β"})
    p: float = field(default=0.6, metadata={"ge": 0, "le": 1, "help": "edge probability"})
    k_mean: float = field(default=5.0, metadata={"gt": 0, "help": "coupling scale"})
    omega_spread: float = field(default=0.3, metadata={"ge": 0, "help": "std of ω"})
    margin: float = field(default=0.2, metadata={"gt": 0, "help": "targets ∓margin"})
    fd_max_n: int = field(default=20, metadata={"ge": 2, "help": "finite differences only up to this N"})
    fd_step: float = field(default=1e-5, metadata={"gt": 0, "help": "central difference step"})
    slope_fit_min_beta: float = field(default=0.01, metadata={"gt": 0, "help": "fit slopes on β ≥ this (below, the\
 float64 round-off floor ~eps/β of the centred estimator shows up at large N)"})
    slope_fit_max_beta: float = field(default=0.1, metadata={"gt": 0, "help": "fit slopes on β ≤ this"})

    def __post_init__(self):
        if any(n < 3 for n in self.sizes):
            raise ValueError(f"`sizes` must all be >= 3, got {self.sizes}")
        if any(b <= 0 for b in self.betas):
            raise ValueError(f"`betas` must all be > 0, got {self.betas}")


def cosine(a, b):
    a, b = np.ravel(a), np.ravel(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def relerr(a, b):
    return float(np.linalg.norm(np.ravel(a) - np.ravel(b)) / np.linalg.norm(np.ravel(b)))


def slope(betas, errs, bmin, bmax):
    b, e = np.asarray(betas), np.asarray(errs)
    sel = (b >= bmin) & (b <= bmax) & (e > 0)
    return float(np.polyfit(np.log(b[sel]), np.log(e[sel]), 1)[0])


def run(config: Config, ctx) -> dict[str, float]:
    betas = np.asarray(config.betas)
    out = {}
    metrics: dict[str, float] = {}
    cos_at_01 = []
    for n in ctx.progress(config.sizes, total=len(config.sizes), desc="sizes"):
        net = ep.random_graph(ctx.key("network", n), n, config.p, 0, 2, k_mean=config.k_mean,
                              omega_spread=config.omega_spread)
        K, omc = net.K, net.omega  # random_graph centres ω
        y, mask = ep.output_target(n, net.outputs, np.array([-config.margin, config.margin]), K.dtype)
        free = jax.jit(ep.solve)(K, omc)
        if not bool(free.converged & free.stable):
            raise RuntimeError(f"N={n}: free equilibrium not converged/stable; raise k_mean")
        g_om, g_K = jax.jit(ep.implicit_gradients)(K, omc, y, mask, free.theta)
        # The nudged equilibria at ±β for every β of the grid: one batch over the devices.
        nudged = ctx.batch_map(lambda b: ep.solve(K, omc, free.theta, beta=b, target=y, output_mask=mask),
                               np.concatenate([betas, -betas]).astype(ctx.dtype))
        if not bool(np.all(np.asarray(nudged.converged))):
            raise RuntimeError(f"N={n}: a nudged equilibrium did not converge")
        errs = {k: [] for k in ("ep_omega", "ep_K", "centered_omega", "centered_K")}
        coss = {k: [] for k in ("ep_omega", "ep_K", "centered_omega", "centered_K")}
        for i, b in enumerate(betas):
            plus, minus = nudged.theta[i], nudged.theta[len(betas) + i]
            for name, (ta, tb, ba) in dict(ep=(free.theta, plus, 0.0), centered=(minus, plus, -b)).items():
                e_om, e_K = ep.ep_estimate(ta, tb, ba, b, K)
                errs[f"{name}_omega"].append(relerr(e_om, g_om)); coss[f"{name}_omega"].append(cosine(e_om, g_om))
                errs[f"{name}_K"].append(relerr(e_K, g_K)); coss[f"{name}_K"].append(cosine(e_K, g_K))
        for k in errs:
            out[f"N{n}_err_{k}"] = np.asarray(errs[k]); out[f"N{n}_cos_{k}"] = np.asarray(coss[k])
            metrics[f"N{n}_slope_{k}"] = slope(betas, errs[k], config.slope_fit_min_beta, config.slope_fit_max_beta)
        i01 = int(np.argmin(np.abs(betas - 0.1)))
        metrics[f"N{n}_ep_cos_omega_beta0.1"] = coss["ep_omega"][i01]
        metrics[f"N{n}_ep_scale_err_omega_beta0.1"] = errs["ep_omega"][i01]
        cos_at_01.append(coss["ep_omega"][i01])
        if n <= config.fd_max_n:
            fd_om, fd_K = ep.finite_difference_gradients(K, omc, y, mask, free.theta, h=config.fd_step)
            metrics[f"N{n}_implicit_vs_fd_omega"] = relerr(g_om, fd_om)
            metrics[f"N{n}_implicit_vs_fd_K"] = relerr(g_K, fd_K)
        ctx.log(f"N={n}: EP cos(ω) at β=0.1 {coss['ep_omega'][i01]:.6f}, rel. err {errs['ep_omega'][i01]:.2e}; "
                f"slopes one-sided {metrics[f'N{n}_slope_ep_omega']:.2f}, centred {metrics[f'N{n}_slope_centered_omega']:.2f}")
    metrics["gradient_cosine_min"] = float(min(cos_at_01))
    metrics["slope_ep_min"] = float(min(v for k, v in metrics.items() if "slope_ep_" in k))
    metrics["slope_centered_min"] = float(min(v for k, v in metrics.items() if "slope_centered_" in k))
    fd = [v for k, v in metrics.items() if "implicit_vs_fd" in k]
    if fd:
        metrics["implicit_vs_fd_max"] = float(max(fd))
    ctx.save_arrays(betas=betas, sizes=np.asarray(config.sizes), **out)
    _figure(ctx, config, betas, out)
    ctx.summary(
        f"EP gradient check on random graphs N = {config.sizes}: min cosine(EP, exact) for ω at β = 0.1 is "
        f"{metrics['gradient_cosine_min']:.6f}; error slopes vs β: one-sided ≥ {metrics['slope_ep_min']:.2f}, "
        f"centred ≥ {metrics['slope_centered_min']:.2f}"
        + (f"; implicit vs finite differences max rel. error {metrics['implicit_vs_fd_max']:.1e}." if fd else ".")
    )
    return metrics


def _figure(ctx, config, betas, out):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for ax, what in zip(axes, ("omega", "K")):
        for n in config.sizes:
            l, = ax.loglog(betas, out[f"N{n}_err_ep_{what}"], "o-", label=f"one-sided, N={n}")
            ax.loglog(betas, out[f"N{n}_err_centered_{what}"], "s--", color=l.get_color(), label=f"centred, N={n}")
        ref = out[f"N{config.sizes[0]}_err_ep_{what}"][-2]
        ax.loglog(betas, ref * (betas / betas[-2]), ":", color="k", lw=1, label="slope 1")
        ref2 = out[f"N{config.sizes[0]}_err_centered_{what}"][-2]
        ax.loglog(betas, ref2 * (betas / betas[-2]) ** 2, "-.", color="k", lw=1, label="slope 2")
        ax.set_xlabel("β")
        ax.set_title(f"relative error of the {'ω' if what == 'omega' else 'K'} gradient vs implicit")
    axes[0].set_ylabel("‖g_EP − g_exact‖ / ‖g_exact‖")
    axes[1].legend(fontsize=6, ncol=2)
    fig.tight_layout()
    ctx.save_figure(fig, "error_vs_beta")
