r"""KuraNet's two tasks: what a graph is, how it evolves and how it is scored.

A graph is a dict of arrays (a pytree, so graphs batch under vmap and `batch_map`):

* `GlobalTask` (paper Sec. III A): n oscillators drawn from a pool of disorder samples
  raw (N, d) → {"raw": (n, d), "theta0": (n,)}; scored by the circular variance V
  (`sync_loss`) and the feature correlation C_x (Eq. 7);
* `ClusterTask` (Sec. III B): n labelled points drawn from a pool (x (N, d), y (N,)) →
  {"x": (n, d), "y": (n,), "theta0": (n,)}; identical oscillators (ω = 0), scored by the
  cluster loss L (Eq. 5–6) over the window and on the last state, against the block control.

The training loss of a coupling network is the task's loss over the window of
`window_steps` Euler states after `burn_in_steps` (`window_loss`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import jax
import jax.numpy as jnp

import kuramoto_jax as kj

from .._validate import one_of
from ._coupling import block_control_matrix, coupling_matrix
from ._disorder import CASES, feature_names, from_raw
from ._dynamics import simulate_window
from ._losses import cluster_loss, cluster_window_loss, energy_gap
from ._metrics import fan_in, feature_correlation

GLOBAL_INITIAL_PHASES = ("zero", "uniform")
"""θ(0) of the global task (`GlobalTask.initial_phases`)."""
CLUSTER_INITIAL_PHASES = ("gaussian", "uniform", "splay")
"""θ(0) of the cluster task (`ClusterTask.initial_phases`)."""
ENERGY_DECAYS = ("none", "linear", "cosine")
"""Schedules of the cluster task's energy-gap weight over training (`ClusterTask.energy_decay`)."""


def _choose(key, size, n):
    """n distinct indices of range(size), a uniform random subset in random order: the positions of
    the n largest of `size` uniform draws. (`jax.random.choice(replace=False)` permutes all `size`
    indices: 20x slower for 100 of 10,000, most of a training step's time.)"""
    return jax.lax.top_k(jax.random.uniform(key, (size,)), n)[1]


@dataclass(frozen=True)
class GlobalTask:
    """Global synchrony (Cases I–III): keep or reach synchrony against the disorder.

    Attributes:
        case: "I" (ω), "II" (ω, b) or "III" (ω, τ).
        n: oscillators per training graph.
        dt: Euler step.
        burn_in_steps: Euler steps before the loss window.
        window_steps: Euler steps in the loss window.
        initial_phases: "zero" (all in phase, the reference code) or "uniform" U(0, 2π).
        trace_oscillators: phases kept per graph by `evaluate(..., keep=("trace",))`.
        detach_burn_in: the training loss differentiates only the window's steps (the state after
            the burn-in, with its delayed past, is a constant), as the reference code trained.
    """

    case: str = "I"
    n: int = 100
    dt: float = 0.1
    burn_in_steps: int = 100
    window_steps: int = 50
    initial_phases: str = "zero"
    trace_oscillators: int = 200
    detach_burn_in: bool = False
    normalisation: ClassVar[str] = "global"
    loss_name: ClassVar[str] = "V"

    def __post_init__(self):
        one_of("case", self.case, CASES)
        one_of("initial_phases", self.initial_phases, GLOBAL_INITIAL_PHASES)
        if not isinstance(self.detach_burn_in, bool):
            raise ValueError(f"`detach_burn_in` must be True or False, got {self.detach_burn_in!r}")

    def num_features(self, pool) -> int:
        return len(feature_names(self.case))

    def pool_size(self, pool) -> int:
        return pool.shape[0]

    def theta0(self, key, n):
        """θ(0) (n,): zeros (delayed senders also see θ = 0 before t = 0) or U(0, 2π)."""
        dtype = jnp.result_type(float)
        if self.initial_phases == "zero":
            return jnp.zeros((n,), dtype)
        return jax.random.uniform(key, (n,), dtype, 0.0, 2 * jnp.pi)

    def graph(self, key, pool, idx=None):
        """One graph: n random samples of `pool` (or the rows `idx`) and its θ(0)."""
        k1, k2 = jax.random.split(key)
        idx = _choose(k1, pool.shape[0], self.n) if idx is None else idx
        return {"raw": pool[idx], "theta0": self.theta0(k2, idx.shape[0])}

    def whole(self, key, pool):
        """The whole pool as one network."""
        return {"raw": pool, "theta0": self.theta0(key, pool.shape[0])}

    def features(self, graph):
        return from_raw(self.case, graph["raw"]).features

    def trajectory(self, K, graph, burn_in_steps, window_steps):
        dis = from_raw(self.case, graph["raw"])
        return simulate_window(K, dis.omega, graph["theta0"], field=dis.field, delay_steps=dis.delay_steps,
                               dt=self.dt, burn_in_steps=burn_in_steps, window_steps=window_steps,
                               detach_burn_in=self.detach_burn_in)

    def window_loss(self, theta, graph):
        return jnp.mean(kj.circular_variance(theta))

    def extra_networks(self, K, graph) -> dict:
        return {}

    def score(self, K, graph, theta, keep=()):
        """Metrics of the full run θ (burn-in + window, n): V over the window, C_x, and kept arrays."""
        V_t = kj.circular_variance(theta)
        out = {"V": jnp.mean(V_t[self.burn_in_steps:]), "C_x": feature_correlation(K, graph["raw"])}
        extras = {"V_t": lambda: V_t, "trace": lambda: theta[:, : self.trace_oscillators],
                  "fan_in": lambda: fan_in(K), "final": lambda: theta[-1]}
        return out | {k: extras[k]() for k in keep}

    def loss(self, net, graph):
        """Training loss (V over the window) and aux {"C_x"} of the network `net` on one graph."""
        K = coupling_matrix(net, self.features(graph), self.normalisation)
        V = self.window_loss(self.trajectory(K, graph, self.burn_in_steps, self.window_steps), graph)
        return V, {"C_x": feature_correlation(jax.lax.stop_gradient(K), graph["raw"])}


@dataclass(frozen=True)
class ClusterTask:
    """Cluster synchrony: oscillators of one label synchronise, the k group phases splay.

    Attributes:
        num_groups: k, the number of labels.
        n: oscillators per training graph.
        dt: Euler step.
        burn_in_steps: Euler steps before the loss window.
        window_steps: Euler steps in the loss window.
        normalisation: "clusters" (the paper), "clusters_centred" or "clusters_graph_centred".
        initial_phases: θ(0) of every graph: "gaussian" N(π, 1) (the paper), "uniform" U(0, 2π) or
            "splay" (the n phases π + 2πm/n, m = 0 … n − 1, in random order: order parameter R = 0 exactly).
        energy_weight: λ, weight of the energy-gap term added to the training loss (`energy_gap`; 0: the paper's loss).
        energy_label_order: order the energy gap's target phases by label number (`energy_gap(label_order=True)`).
        energy_decay: how λ falls over training (progress p = step / steps): "none" (constant),
            "linear" λ(1 − p) or "cosine" λ·½(1 + cos πp); `fit` passes p in the graphs (`progress`).
        noise: σ of white noise in the training dynamics (dθ_i = … dt + σ(p) dW_i, Euler–Maruyama),
            annealed linearly to zero, σ(p) = σ(1 − p); 0: none (the paper). Each training graph
            carries its own noise stream ("noise_key").
        energy_members: train only the ensemble members m < energy_members with the term (0: all);
            the others keep the paper's loss and validation chooses among both kinds (`fit` passes m
            in the graphs, `member`).

    Why the symmetry-breaking options: from N(π, 1) all k groups start at one mean phase,
    where the cluster loss is stationary in θ (the splay term is at its maximum), and global
    synchrony attracts training (experiments/kuranet/RESULTS.md). Starting spread over the circle
    ("uniform", "splay") puts the groups at different mean phases, so attractive inter-group
    couplings visibly raise the loss along the trajectory; noise kicks an in-phase network apart;
    the energy gap adds a gradient on K itself, which does not vanish where every trajectory is
    in global synchrony. All change training only: a study scores the trained network from the
    paper's θ(0), without noise and with λ = 0 (`fit(..., val_task=)`).
    """

    num_groups: int = 2
    n: int = 100
    dt: float = 15.0
    burn_in_steps: int = 0
    window_steps: int = 100
    normalisation: str = "clusters"
    initial_phases: str = "gaussian"
    energy_weight: float = 0.0
    energy_decay: str = "none"
    energy_label_order: bool = False
    energy_members: int = 0
    noise: float = 0.0
    loss_name: ClassVar[str] = "L"

    def __post_init__(self):
        if not self.normalisation.startswith("clusters"):
            raise ValueError(f"`normalisation` must be a cluster normalisation, got {self.normalisation!r}")
        one_of("initial_phases", self.initial_phases, CLUSTER_INITIAL_PHASES)
        if isinstance(self.energy_weight, bool) or not isinstance(self.energy_weight, (int, float)) \
                or not self.energy_weight >= 0:
            raise ValueError(f"`energy_weight` must be a float >= 0, got {self.energy_weight!r}")
        one_of("energy_decay", self.energy_decay, ENERGY_DECAYS)
        if isinstance(self.noise, bool) or not isinstance(self.noise, (int, float)) or not self.noise >= 0:
            raise ValueError(f"`noise` must be a float >= 0, got {self.noise!r}")
        if isinstance(self.energy_members, bool) or not isinstance(self.energy_members, int) \
                or self.energy_members < 0:
            raise ValueError(f"`energy_members` must be an int >= 0, got {self.energy_members!r}")

    @property
    def scheduled(self) -> bool:
        """Whether the training loss depends on the progress p = step / steps or on the member
        (`fit` then adds "progress" and "member" to the training graphs)."""
        annealed = self.energy_decay != "none" or self.energy_members > 0
        return bool(self.noise) or (bool(self.energy_weight) and annealed)

    def energy_scale(self, progress):
        """λ(p) / λ at progress p ∈ [0, 1] (`energy_decay`)."""
        if self.energy_decay == "linear":
            return 1.0 - progress
        if self.energy_decay == "cosine":
            return 0.5 * (1.0 + jnp.cos(jnp.pi * progress))
        return 1.0

    def num_features(self, pool) -> int:
        return pool[0].shape[1]

    def pool_size(self, pool) -> int:
        return pool[0].shape[0]

    def theta0(self, key, n):
        """θ(0) (n,): N(π, 1), U(0, 2π) or the splay π + 2πm/n in random order (`initial_phases`)."""
        dtype = jnp.result_type(float)
        if self.initial_phases == "uniform":
            return jax.random.uniform(key, (n,), dtype, 0.0, 2 * jnp.pi)
        if self.initial_phases == "splay":
            return jnp.pi + 2 * jnp.pi * jax.random.permutation(key, n).astype(dtype) / n
        return jnp.pi + jax.random.normal(key, (n,), dtype)

    def graph(self, key, pool, idx=None):
        x, y = pool
        k1, k2 = jax.random.split(key)
        idx = _choose(k1, x.shape[0], self.n) if idx is None else idx
        g = {"x": x[idx], "y": y[idx], "theta0": self.theta0(k2, idx.shape[0])}
        if self.noise:  # the training noise's own stream (raw key data: graphs are plain arrays)
            g["noise_key"] = jax.random.key_data(kj.stream_key(key, "noise"))
        return g

    def whole(self, key, pool):
        x, y = pool
        return {"x": x, "y": y, "theta0": self.theta0(key, x.shape[0])}

    def features(self, graph):
        return graph["x"]

    def trajectory(self, K, graph, burn_in_steps, window_steps):
        th0 = graph["theta0"]
        return simulate_window(K, jnp.zeros_like(th0), th0, dt=self.dt, burn_in_steps=burn_in_steps,
                               window_steps=window_steps)

    def window_loss(self, theta, graph):
        return cluster_window_loss(theta, graph["y"], self.num_groups)

    def extra_networks(self, K, graph) -> dict:
        """The block control: intra-group +, inter-group −, scaled to the trained matrix's max |K_ij|."""
        Kb = block_control_matrix(graph["y"], self.num_groups, jnp.max(jnp.abs(K)))
        return {"block_": Kb.astype(K.dtype)}

    def score(self, K, graph, theta, keep=()):
        """L over the window, L_last on the last state (a slow transient vs a wrong end state)."""
        out = {"L": self.window_loss(theta[self.burn_in_steps:], graph),
               "L_last": cluster_loss(theta[-1], graph["y"], self.num_groups)}
        return out | ({"final": theta[-1]} if "final" in keep else {})

    def loss(self, net, graph):
        """Training loss: L over the window, plus λ(p) · `energy_gap` when `energy_weight` λ > 0.

        p is the graph's "progress" (added by `fit` when `scheduled`; 0 without it), which also
        anneals the training noise; with `energy_members` the term applies to the graph's
        "member" m < energy_members only.
        """
        K = coupling_matrix(net, self.features(graph), self.normalisation)
        if self.noise:
            th0 = graph["theta0"]
            sigma = self.noise * (1.0 - graph.get("progress", 0.0))
            theta = simulate_window(K, jnp.zeros_like(th0), th0, dt=self.dt, burn_in_steps=self.burn_in_steps,
                                    window_steps=self.window_steps, noise=sigma,
                                    key=jax.random.wrap_key_data(graph["noise_key"]))
        else:
            theta = self.trajectory(K, graph, self.burn_in_steps, self.window_steps)
        loss = self.window_loss(theta, graph)
        if self.energy_weight:
            scale = self.energy_scale(graph.get("progress", 0.0))
            if self.energy_members:
                scale = scale * (graph.get("member", 0) < self.energy_members)
            gap = energy_gap(K, graph["y"], self.num_groups, self.energy_label_order)
            loss = loss + self.energy_weight * scale * gap
        return loss, {}
