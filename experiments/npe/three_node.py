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
    chunk: int = field(default=2000, metadata={"ge": 1, "help": "simulations vmapped at once per device"})
    flow: npe.FlowConfig = field(default_factory=npe.FlowConfig)
    train: npe.TrainConfig = field(default_factory=npe.TrainConfig)

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
    ev = npe.train_and_evaluate(ctx.key("npe"), sim, summary, num_train=config.num_train, num_test=config.num_test,
                                num_draws=config.num_draws, flow=config.flow, train=config.train,
                                batch_size=config.chunk, ctx=ctx, name="npe_three_node")
    npe.save_posterior(ctx.out_dir, ev.posterior, spec, config.flow)
    m, names = ev.metrics, sim.param_names
    ctx.save_arrays(test_theta=ev.test_theta, test_draws=ev.draws.astype(np.float32),
                    train_loss=ev.train_result.history["loss"])
    for name, fig in npe.diagnostic_figures(ev.draws, ev.test_theta, names, *sim.prior_bounds).items():
        ctx.save_figure(fig, name)
    ctx.save_figure(npe.pair_figure(ev.draws[0], ev.test_theta[0], names), "pairplot")
    per = ", ".join(f"{n} {m[f'nrmse_{n}']:.3f}/{m[f'contraction_{n}']:.3f}" for n in names)
    ctx.summary(f"3-node network, NRMSE/contraction per coupling: {per}; worst calibration error "
                f"{m['calibration_error']:.4f}; training {m['train_seconds']:.0f} s, "
                f"{m['inference_ms_per_dataset']:.1f} ms per posterior.")
    return m
