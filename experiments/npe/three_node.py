"""Neural posterior estimation of the six couplings of a closed 3-node network.

θ̇_i = ω_i + Σ_{j≠i} K_ij sin(θ_j − θ_i), i = 1..3, with ω fixed for all simulations,
θ_i(0) ~ U(0, 2π), K_ij ~ U(0, k_max) independently; RK4, phases observed every `stride`
steps with N(0, noise²) errors, wrapped. Summaries: the paper's six statistics per
observation time (every `paper_every`-th) and, with `drift`, the per-edge drift
least-squares estimates K̂_ij (see `kuramoto_jax.npe.summarize`). With `drift: false`
and `paper_every: 1` the summaries are the paper's alone. `sequence` adds a per-time
sequence for a learned summary network (`flow.embedding: conv`), trained jointly with the
flow; `repeats` > 1 makes each data set that many trajectories of length t1 from fresh
initial phases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kuramoto_jax import npe

from .common import FlowSection, TrainSection, figures, train_and_evaluate


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "PRNG seed"})
    omega: list[float] = field(default_factory=lambda: [0.3, -0.5, 0.8], metadata={"help": "fixed ω (3 values)"})
    k_max: float = field(default=2.0, metadata={"gt": 0, "help": "prior K_ij ~ U(0, k_max)"})
    t1: float = field(default=20.0, metadata={"gt": 0, "help": "horizon"})
    dt: float = field(default=0.05, metadata={"gt": 0, "help": "RK4 step"})
    stride: int = field(default=2, metadata={"ge": 1, "help": "observe every stride-th step"})
    noise: float = field(default=0.05, metadata={"ge": 0, "help": "observation noise std (rad)"})
    paper_every: int = field(default=5, metadata={"ge": 0, "help": "six statistics every k-th observation (0: none)"})
    drift: bool = field(default=True, metadata={"help": "add the per-edge drift least-squares summaries"})
    sequence: str = field(default="none", metadata={"choices": ["none", "paper", "pairs"],
                                                    "help": "per-time sequence for a learned summary network"})
    sequence_every: int = field(default=1, metadata={"ge": 1, "help": "keep every k-th row of the sequence"})
    repeats: int = field(default=1, metadata={"ge": 1, "help": "trajectories per data set (fresh initial phases)"})
    num_train: int = field(default=20000, metadata={"ge": 10})
    num_test: int = field(default=300, metadata={"ge": 2})
    num_draws: int = field(default=1000, metadata={"ge": 2})
    chunk: int = field(default=2000, metadata={"ge": 1})
    flow: FlowSection = field(default_factory=lambda: FlowSection(flow_layers=6, nn_width=128))
    train: TrainSection = field(default_factory=TrainSection)

    def __post_init__(self):
        if len(self.omega) != 3:
            raise ValueError(f"`omega` must have 3 values, got {self.omega!r}")
        if (self.flow.embedding != "none") != (self.sequence != "none"):
            raise ValueError(f"`flow.embedding` ({self.flow.embedding!r}) and `sequence` ({self.sequence!r}) go together: "
                             "set both or neither")


def make_simulator(config: Config):
    protocol = npe.ObservationProtocol(t1=config.t1, dt=config.dt, stride=config.stride, noise=config.noise,
                                       repeats=config.repeats)
    sim = npe.three_node_network(omega=tuple(config.omega), k_max=config.k_max, protocol=protocol)
    spec = npe.simulator_spec(sim, "three_node", omega=list(config.omega), k_max=config.k_max)
    return sim, spec


def run(config: Config, ctx) -> dict:
    sim, spec = make_simulator(config)
    summary = npe.SummaryConfig(paper_every=config.paper_every, drift=config.drift, sequence=config.sequence,
                                sequence_every=config.sequence_every)
    out = train_and_evaluate(config, ctx, sim, spec, summary, "npe_three_node",
                             sequence_shape=npe.sequence_shape(sim, summary))
    result, t_theta, draws, metrics = out["result"], out["t_theta"], out["draws"], out["metrics"]
    train_s, ms = metrics["train_seconds"], metrics["inference_ms_per_dataset"]
    ctx.save_arrays(test_theta=t_theta, test_draws=draws.astype(np.float32), train_loss=result.history["loss"])
    figures(ctx, draws, t_theta, sim.param_names, *sim.prior_bounds)
    _pairplot(ctx, draws[0], t_theta[0], sim.param_names)
    per = ", ".join(f"{n} {metrics[f'nrmse_{n}']:.3f}/{metrics[f'contraction_{n}']:.3f}" for n in sim.param_names)
    ctx.summary(f"3-node network, NRMSE/contraction per coupling: {per}; worst calibration error "
                f"{metrics['calibration_error']:.4f}; training {train_s:.0f} s, {ms:.1f} ms per posterior.")
    return metrics


def _pairplot(ctx, draws, truth, names):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    P = len(names)
    fig, axes = plt.subplots(P, P, figsize=(1.7 * P, 1.7 * P))
    for i in range(P):
        for j in range(P):
            ax = axes[i, j]
            if i == j:
                ax.hist(draws[:, i], bins=30, color="C0", alpha=0.7)
                ax.axvline(truth[i], color="C3")
            elif i > j:
                ax.plot(draws[:, j], draws[:, i], ".", ms=1, alpha=0.3)
                ax.plot(truth[j], truth[i], "r*", ms=6)
            else:
                ax.axis("off")
            ax.tick_params(labelsize=5)
            if i == P - 1:
                ax.set_xlabel(names[j], fontsize=7)
            if j == 0:
                ax.set_ylabel(names[i], fontsize=7)
    fig.tight_layout()
    ctx.save_figure(fig, "pairplot")
