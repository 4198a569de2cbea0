"""Neural posterior estimation of the coupling K of a 100-oscillator all-to-all network.

Protocol (documented in RESULTS.md): θ̇_i = ω_i + (K/N) Σ_j sin(θ_j − θ_i), N = 100,
ω_i ~ N(0, σ²) redrawn per simulation, θ_i(0) ~ U(0, 2π), K ~ U(0, k_max); RK4 with step
dt on [0, t1]; phases observed every `stride` steps (t = 0 included), wrapped to [0, 2π)
after additive N(0, noise²) errors. Summaries: the paper's six statistics at every
`paper_every`-th observation time plus the drift least-squares estimate K̂ (see
`kuramoto_jax.npe.summarize`). A conditional flow q(K | summaries) is trained on
`num_train` simulations and evaluated on `num_test` fresh ones with `num_draws` draws each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kuramoto_jax import npe


@dataclass
class Config:
    seed: int = field(default=0, metadata={"help": "PRNG seed"})
    n: int = field(default=100, metadata={"ge": 2, "help": "oscillators N"})
    sigma: float = field(default=1.0, metadata={"gt": 0, "help": "std of the natural frequencies"})
    k_max: float = field(default=3.0, metadata={"gt": 0, "help": "prior K ~ U(0, k_max)"})
    t1: float = field(default=10.0, metadata={"gt": 0, "help": "horizon"})
    dt: float = field(default=0.1, metadata={"gt": 0, "help": "RK4 step"})
    stride: int = field(default=1, metadata={"ge": 1, "help": "observe every stride-th step"})
    noise: float = field(default=0.05, metadata={"ge": 0, "help": "observation noise std (rad)"})
    paper_every: int = field(default=5, metadata={"ge": 0, "help": "six statistics every k-th observation (0: none)"})
    drift: bool = field(default=True, metadata={"help": "add the drift least-squares summary"})
    num_train: int = field(default=20000, metadata={"ge": 10, "help": "training simulations"})
    num_test: int = field(default=300, metadata={"ge": 2, "help": "held-out simulations"})
    num_draws: int = field(default=1000, metadata={"ge": 2, "help": "posterior draws per test set"})
    chunk: int = field(default=1000, metadata={"ge": 1, "help": "simulations vmapped at once per device"})
    flow: npe.FlowConfig = field(default_factory=npe.FlowConfig)
    train: npe.TrainConfig = field(default_factory=npe.TrainConfig)


def make_simulator(config: Config):
    protocol = npe.ObservationProtocol(t1=config.t1, dt=config.dt, stride=config.stride, noise=config.noise)
    sim = npe.simple_network(n=config.n, sigma=config.sigma, k_max=config.k_max, protocol=protocol)
    spec = npe.simulator_spec(sim, "simple", n=config.n, sigma=config.sigma, k_max=config.k_max)
    return sim, spec


def run(config: Config, ctx) -> dict:
    sim, spec = make_simulator(config)
    summary = npe.SummaryConfig(paper_every=config.paper_every, drift=config.drift)
    ctx.log(f"simple network: N={config.n}, K~U(0,{config.k_max}), σ={config.sigma}, "
            f"{len(sim.observation_times)} observation times on [0, {config.t1}], noise {config.noise}")
    ev = npe.train_and_evaluate(ctx.key("npe"), sim, summary, num_train=config.num_train, num_test=config.num_test,
                                num_draws=config.num_draws, flow=config.flow, train=config.train,
                                batch_size=config.chunk, ctx=ctx, name="npe_simple")
    npe.save_posterior(ctx.out_dir, ev.posterior, spec, config.flow)
    m, history = ev.metrics, ev.train_result.history
    ctx.save_arrays(test_theta=ev.test_theta, test_draws=ev.draws.astype(np.float32), test_summaries=ev.test_x,
                    train_loss=history["loss"], eval_loss=history.get("eval_loss", np.zeros(0)))
    for name, fig in npe.diagnostic_figures(ev.draws, ev.test_theta, sim.param_names, *sim.prior_bounds).items():
        ctx.save_figure(fig, name)
    ctx.summary(
        f"K ~ U(0, {config.k_max}), N = {config.n}, {len(sim.observation_times)} observations on [0, {config.t1}]: "
        f"NRMSE {m['nrmse']:.4f}, contraction {m['contraction']:.4f}, calibration error "
        f"{m['calibration_error']:.4f} on {config.num_test} test sets × {config.num_draws} draws; "
        f"simulation {m['simulate_seconds']:.0f} s ({m['simulations_per_second']:.0f}/s), training "
        f"{m['train_seconds']:.0f} s, {m['inference_ms_per_dataset']:.1f} ms per posterior of {config.num_draws} draws."
    )
    return m
