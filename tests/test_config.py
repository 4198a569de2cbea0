"""Typed configs: YAML/--set values checked against dataclass schemas, one-line errors naming the key."""

from __future__ import annotations

import pathlib
from dataclasses import dataclass, field
from typing import Literal, Optional

import pytest
import yaml

from kuramoto_jax.run import ConfigError, OptimizerConfig, from_dict, make_optimizer, resolve, to_dict
from kuramoto_jax.run._config import apply_overrides, describe, parse_overrides, resolve_devices


@dataclass
class Model:
    hidden: int = field(default=16, metadata={"ge": 1})
    activation: Literal["tanh", "relu"] = "tanh"


@dataclass
class Cfg:
    seed: int = 0
    n: int = field(default=100, metadata={"ge": 2, "help": "number of oscillators"})
    K: float = field(default=1.5, metadata={"gt": 0})
    law: str = field(default="gaussian", metadata={"choices": ["gaussian", "lorentzian"]})
    verbose: bool = False
    tag: str = "x"
    sizes: list[int] = field(default_factory=lambda: [1, 2], metadata={"ge": 0})
    span: tuple[float, float] = (0.0, 1.0)
    maybe: Optional[float] = None
    model: Model = field(default_factory=Model)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)


def build(data, sets=()):
    data = apply_overrides(dict(data), Cfg, parse_overrides(sets))
    return from_dict(Cfg, data)


def test_defaults_and_nested():
    cfg = build({"n": 5, "model": {"hidden": 3}})
    assert cfg.n == 5 and cfg.model.hidden == 3 and cfg.model.activation == "tanh"
    assert cfg.optimizer.name == "adam" and cfg.span == (0.0, 1.0)


@dataclass
class Study:
    optimizer: OptimizerConfig = field(default_factory=lambda: OptimizerConfig(
        name="adam", learning_rate=1e-2, schedule="cosine", clip_norm=1.0))
    model: Model = field(default_factory=lambda: Model(hidden=64, activation="relu"))


def test_a_partial_section_keeps_the_studys_own_defaults():
    # A study's section default is its own (cosine schedule, clipping), not the section class's bare defaults
    # (constant, no clipping): setting one key in YAML or with --set changes that key only.
    for cfg in (from_dict(Study, {"optimizer": {"learning_rate": 3e-4}, "model": {"hidden": 8}}),
                from_dict(Study, apply_overrides({}, Study, parse_overrides(["optimizer.learning_rate=3e-4",
                                                                               "model.hidden=8"])))):
        assert cfg.optimizer == OptimizerConfig(name="adam", learning_rate=3e-4, schedule="cosine", clip_norm=1.0)
        assert cfg.model == Model(hidden=8, activation="relu")
    assert from_dict(Study, {"optimizer": {"clip_norm": None}}).optimizer.clip_norm is None
    # Two levels deep: the study's default for the inner section, not the outer section class's.
    nested = from_dict(Nested, {"outer": {"inner": {"hidden": 8}}}).outer
    assert nested == Outer(inner=Model(hidden=8, activation="relu"), tag="study")


@dataclass
class Outer:
    inner: Model = field(default_factory=Model)
    tag: str = "class"


@dataclass
class Nested:
    outer: Outer = field(default_factory=lambda: Outer(inner=Model(hidden=5, activation="relu"), tag="study"))


def test_int_accepted_for_float_and_converted():
    cfg = build({"K": 2, "span": [0, 3]})
    assert isinstance(cfg.K, float) and cfg.K == 2.0
    assert cfg.span == (0.0, 3.0) and all(isinstance(x, float) for x in cfg.span)
    # PyYAML reads 1e-3 (no dot) as a string: float fields still accept it.
    assert build(yaml.safe_load("K: 1e-3")).K == 1e-3


@pytest.mark.parametrize(
    "data, key, fragment",
    [
        ({"nosuchkey": 1}, "nosuchkey", "valid keys at the top level: seed, n, K"),
        ({"model": {"width": 3}}, "model.width", "valid keys at `model`: hidden, activation"),
        ({"n": "ten"}, "n", "expected an integer"),
        ({"n": 2.5}, "n", "expected an integer"),
        ({"n": True}, "n", "expected an integer"),
        ({"n": 1}, "n", ">= 2"),
        ({"K": 0}, "K", "> 0"),
        ({"K": "fast"}, "K", "expected a number"),
        ({"law": "uniform"}, "law", "'gaussian', 'lorentzian'"),
        ({"verbose": "yes please"}, "verbose", "boolean"),
        ({"tag": 3}, "tag", "expected a string"),
        ({"sizes": [1, -2]}, "sizes[1]", ">= 0"),
        ({"sizes": 3}, "sizes", "expected a list of integers"),
        ({"span": [1.0]}, "span", "got 1 items"),
        ({"model": {"activation": "gelu"}}, "model.activation", "one of 'tanh', 'relu'"),
        ({"model": 3}, "model", "a mapping with keys hidden, activation"),
        ({"optimizer": {"learning_rate": -1}}, "optimizer.learning_rate", "> 0"),
        ({"optimizer": {"name": "adagrad"}}, "optimizer.name", "'adam'"),
    ],
)
def test_bad_values_name_the_key_path(data, key, fragment):
    with pytest.raises(ConfigError) as err:
        build(data)
    msg = str(err.value)
    assert f"`{key}`" in msg and fragment in msg
    assert "\n" not in msg


def test_set_overrides_parse_with_the_field_type():
    cfg = build({}, ["n=7", "K=0.5", "model.hidden=4", "verbose=true", "tag=123", "sizes=[3, 4]",
                     "maybe=null", "optimizer.clip_norm=1.5", "law=lorentzian", "span=[1, 2]"])
    assert cfg.n == 7 and cfg.K == 0.5 and cfg.model.hidden == 4 and cfg.verbose is True
    assert cfg.tag == "123"  # a string field keeps the text as written
    assert cfg.sizes == [3, 4] and cfg.maybe is None and cfg.optimizer.clip_norm == 1.5
    assert cfg.law == "lorentzian" and cfg.span == (1.0, 2.0)
    assert build({"maybe": 1.0}, ["maybe=2"]).maybe == 2.0


@pytest.mark.parametrize(
    "item, key, fragment",
    [
        ("nosuchkey=1", "nosuchkey", "valid keys"),
        ("model.depth=2", "model.depth", "valid keys at `model`"),
        ("n=abc", "n", "got 'abc'; expected an integer"),
        ("n.x=1", "n", "no sub-key"),
        ("K=[1", "K", "cannot parse"),
    ],
)
def test_bad_set_overrides(item, key, fragment):
    with pytest.raises(ConfigError) as err:
        build({}, [item])
    assert f"`{key}`" in str(err.value) and fragment in str(err.value)


def test_set_without_equals_is_an_error():
    with pytest.raises(ConfigError, match="KEY.PATH=VALUE"):
        parse_overrides(["n"])


def test_round_trip_through_yaml():
    cfg = build({"n": 9, "span": [0.5, 2], "model": {"activation": "relu"}})
    again = from_dict(Cfg, yaml.safe_load(yaml.safe_dump(to_dict(cfg))))
    assert again == cfg


def test_post_init_errors_become_config_errors():
    @dataclass
    class Checked:
        a: float = 0.0
        b: float = 1.0

        def __post_init__(self):
            if self.b <= self.a:
                raise ValueError(f"`b` must be > a = {self.a}, got {self.b}")

    with pytest.raises(ConfigError, match="`b` must be > a"):
        from_dict(Checked, {"a": 2.0})


def test_required_field_and_devices():
    @dataclass
    class Req:
        x: int

    with pytest.raises(ConfigError, match="`x` is required"):
        from_dict(Req, {})
    assert resolve_devices("all") == "all" and resolve_devices(2) == 2
    for bad in (0, -1, "some", 1.5, True):
        with pytest.raises(ConfigError, match="`devices`"):
            resolve_devices(bad)


def test_describe_lists_fields_with_bounds_and_help():
    text = "\n".join(describe(Cfg))
    assert "n: an integer = 100 [>= 2]  # number of oscillators" in text
    assert "  hidden: an integer = 16" in text


def test_make_optimizer_from_config():
    import jax
    import jax.numpy as jnp
    import optax

    names = ("adam", "adamw", "sgd", "rmsprop", "lion", "adabelief")
    schedules = ("constant", "cosine", "warmup_cosine", "linear", "exponential", "cosine")
    for name, schedule in zip(names, schedules):
        cfg = OptimizerConfig(name=name, schedule=schedule, warmup_steps=2, clip_norm=1.0, momentum=0.5,
                              end_value_fraction=0.1)
        opt = make_optimizer(cfg, num_steps=10)
        p = {"w": jnp.ones(3)}
        upd, _ = jax.jit(opt.update)({"w": jnp.ones(3)}, opt.init(p), p)
        assert jnp.all(jnp.isfinite(upd["w"]))
    # A run of 0 steps (e.g. evaluating untrained members) builds every schedule; the first step's rate is the peak.
    from kuramoto_jax.run._optim import make_schedule

    for schedule in ("cosine", "linear", "exponential"):
        assert float(make_schedule(OptimizerConfig(schedule=schedule, learning_rate=0.3), num_steps=0)(0)) == \
            pytest.approx(0.3), schedule
    # plain SGD with lr 0.1 is exactly -0.1 * grad
    opt = make_optimizer(OptimizerConfig(name="sgd", learning_rate=0.1))
    upd, _ = opt.update({"w": jnp.arange(3.0)}, opt.init({"w": jnp.zeros(3)}))
    assert jnp.allclose(upd["w"], -0.1 * jnp.arange(3.0))
    assert isinstance(opt, optax.GradientTransformation)


ROOT = pathlib.Path(__file__).resolve().parents[1]
SHIPPED = sorted((ROOT / "configs").rglob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(ROOT / "configs")) for p in SHIPPED])
def test_shipped_configs_resolve(path, tmp_path, monkeypatch):
    """Every config in configs/ names an existing study and passes its schema (no computation)."""
    from kuramoto_jax.run import resolve

    # the vowel studies check that their data file is readable; any readable file will do here
    stand_in = tmp_path / "vowels.csv"
    stand_in.write_text("vowel,F1,F2\n")
    monkeypatch.setenv("KURAMOTO_JAX_DATA", str(stand_in))

    res = resolve(path)
    assert from_dict(res.module.Config, yaml.safe_load(yaml.safe_dump(to_dict(res.config)))) == res.config


def test_every_shipped_config_takes_the_reserved_precision_and_devices_keys():
    """`--set precision=float64 --set devices=N` is accepted by every shipped config; a bad value names the key."""
    from kuramoto_jax.run import _registry

    for info in _registry.configs():
        res = resolve(info.name, ["precision=float64", "devices=1"], check=False)
        assert res.precision == "float64" and res.devices == 1 and res.to_dict()["precision"] == "float64"
    with pytest.raises(ConfigError, match="config key `precision`: got 'float16'"):
        resolve("quickstart_smoke", ["precision=float16"])
