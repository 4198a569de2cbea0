"""Typed study configs: YAML mappings checked against a study's dataclass `Config`.

A study declares its schema as a (possibly nested) dataclass next to its code:

    @dataclass
    class Config:
        seed: int = 0
        n: int = field(default=100, metadata={"ge": 2, "help": "number of oscillators"})
        law: str = field(default="gaussian", metadata={"choices": ["gaussian", "lorentzian"]})

Field types understood: bool, int, float (an int is accepted and converted), str,
pathlib.Path, Literal[...], Optional[X] / X | None, nested dataclasses,
list[X], tuple[X, ...], tuple[X, Y, ...], dict[str, X] and Any. Field metadata
`ge`, `gt`, `le`, `lt` bound numbers (element-wise for sequences), `choices` lists
the accepted values and `help` documents the field.

Every problem raises `ConfigError` whose message is one line naming the full key
path, the value received and what is accepted, before any computation starts.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
import types
import typing
from typing import Any, Iterable, Mapping

import yaml

# Top-level keys of a config file that belong to the runner, not to the study's Config.
RESERVED_KEYS = ("study", "devices", "precision")
PRECISIONS = ("float32", "float64")


class ConfigError(ValueError):
    """A bad config value or a bad command-line argument (the CLI exits with code 2)."""


class _Raw:
    """A `--set` value kept as text until the target field's type is known."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self):
        return repr(self.text)


def _show(value: Any) -> str:
    if isinstance(value, _Raw):
        return repr(value.text)
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _where(path: str) -> str:
    return f"`{path}`" if path else "the top level"


def type_name(tp: Any) -> str:
    """Human-readable name of a field type (for messages and `kuramoto-jax show`)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is type(None):
        return "null"
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in args)
    if origin in (list, typing.List):
        return f"a list of {_plural(args[0])}" if args else "a list"
    if origin in (tuple, typing.Tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_plural(args[0])}"
        if args:
            return f"a list of {len(args)} items ({', '.join(type_name(a) for a in args)})"
        return "a list"
    if origin in (dict, typing.Dict):
        return f"a mapping of {type_name(args[1])}" if args else "a mapping"
    if dataclasses.is_dataclass(tp):
        return f"a mapping with keys {', '.join(f.name for f in dataclasses.fields(tp))}"
    names = {bool: "a boolean (true/false)", int: "an integer", float: "a number", str: "a string",
             pathlib.Path: "a path (string)"}
    if tp is Any:
        return "any value"
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _plural(tp: Any) -> str:
    names = {bool: "booleans", int: "integers", float: "numbers", str: "strings", pathlib.Path: "paths"}
    return names.get(tp, f"items ({type_name(tp)})")


def _hints(cls) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=False)
    except Exception as err:  # unresolvable forward reference in the study's code
        raise TypeError(f"cannot resolve the field types of {cls.__qualname__}: {err}") from err


def _parse_raw(raw: _Raw, path: str) -> Any:
    try:
        return yaml.safe_load(raw.text) if raw.text.strip() else ""
    except yaml.YAMLError as err:
        msg = str(err).splitlines()[0]
        raise ConfigError(f"config key `{path}`: cannot parse {raw.text!r} ({msg})") from None


def _accepts_str(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if tp in (str, pathlib.Path, Any):
        return True
    if origin is typing.Literal:
        return all(isinstance(a, str) for a in typing.get_args(tp))
    return False


def _coerce(value: Any, tp: Any, path: str, meta: Mapping) -> Any:
    """Convert `value` (from YAML or `--set`) to `tp`, or raise ConfigError naming `path`."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    expected = type_name(tp)

    def bad(extra: str = ""):
        raise ConfigError(f"config key `{path}`: got {_show(value)}; expected {expected}{extra}")

    if isinstance(value, _Raw):
        arms = args if origin in (typing.Union, types.UnionType) else (tp,)
        if value.text in ("null", "~", "None") and type(None) in arms:
            value = None
        elif any(_accepts_str(a) for a in arms) and not any(
            a in (int, float, bool) or dataclasses.is_dataclass(a) for a in arms
        ):
            value = value.text  # string fields take the text as written (no YAML guessing)
        else:
            value = _parse_raw(value, path)

    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None:
            if type(None) in args:
                return None
            bad()
        errors = []
        for arm in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arm, path, meta)
            except ConfigError as err:
                errors.append(err)
        if len(errors) == 1:
            raise errors[0]
        bad()
    if origin is typing.Literal:
        if value in args and not (isinstance(value, bool) and not any(isinstance(a, bool) for a in args)):
            return value
        bad()
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, Mapping):
            bad()
        return from_dict(tp, value, path=path)
    if origin in (list, typing.List, tuple, typing.Tuple):
        if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
            bad()
        items = list(value)
        if origin in (tuple, typing.Tuple) and args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(items) != len(args):
                bad(f", got {len(items)} items")
            out = [_coerce(x, a, f"{path}[{i}]", meta) for i, (x, a) in enumerate(zip(items, args))]
        else:
            elem = args[0] if args else Any
            out = [_coerce(x, elem, f"{path}[{i}]", meta) for i, x in enumerate(items)]
        return tuple(out) if origin in (tuple, typing.Tuple) else out
    if origin in (dict, typing.Dict):
        if not isinstance(value, Mapping):
            bad()
        kt, vt = args if args else (Any, Any)
        return {_coerce(k, kt, _join(path, k), {}): _coerce(v, vt, _join(path, k), meta) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            bad()
        return _check_meta(value, path, meta)
    if tp is int:
        if isinstance(value, str):
            # `steps=1e3`: PyYAML reads it as text; accept any number that is exactly an integer.
            try:
                value = float(value)
            except ValueError:
                bad()
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            bad(" (a whole number)" if isinstance(value, float) else "")
        return _check_meta(int(value), path, meta)
    if tp is float:
        if isinstance(value, bool):
            bad()
        if isinstance(value, str):
            # PyYAML reads "1e-3" (no dot) as a string; accept any text Python reads as a float.
            try:
                value = float(value)
            except ValueError:
                bad()
        if not isinstance(value, (int, float)):
            bad()
        return _check_meta(float(value), path, meta)
    if tp is str:
        if not isinstance(value, str):
            bad(" (quote it in YAML)" if isinstance(value, (bool, int, float)) else "")
        return _check_meta(value, path, meta)
    if tp is pathlib.Path:
        if not isinstance(value, (str, pathlib.PurePath)):
            bad()
        return pathlib.Path(value)
    if isinstance(tp, type):
        if isinstance(value, tp):
            return value
        bad()
    return value


def _check_meta(value: Any, path: str, meta: Mapping) -> Any:
    """Apply the field's `choices` and `ge`/`gt`/`le`/`lt` bounds to a scalar."""
    choices = meta.get("choices")
    if choices is not None and value not in list(choices):
        raise ConfigError(
            f"config key `{path}`: got {_show(value)}; expected one of {', '.join(repr(c) for c in choices)}"
        )
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and math.isnan(value) and any(k in meta for k in ("ge", "gt", "le", "lt")):
            raise ConfigError(f"config key `{path}`: got nan; expected a number")
        checks = (("ge", lambda a, b: a >= b, ">="), ("gt", lambda a, b: a > b, ">"),
                  ("le", lambda a, b: a <= b, "<="), ("lt", lambda a, b: a < b, "<"))
        for key, ok, sym in checks:
            if key in meta and not ok(value, meta[key]):
                raise ConfigError(f"config key `{path}`: got {_show(value)}; expected a number {sym} {meta[key]}")
    return value


def fields_of(cls) -> dict[str, dataclasses.Field]:
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"a study's Config must be a dataclass, got {cls!r}")
    return {f.name: f for f in dataclasses.fields(cls) if f.init}


def from_dict(cls, data: Mapping | None, *, path: str = ""):
    """Build the dataclass `cls` from a mapping, checking keys, types and ranges.

    Missing keys take the field defaults; unknown keys raise a ConfigError that
    lists the valid keys at that level.
    """
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ConfigError(f"config {_where(path)}: got {_show(data)}; expected {type_name(cls)}")
    fields = fields_of(cls)
    hints = _hints(cls)
    for key in data:
        if key not in fields:
            raise ConfigError(
                f"unknown config key `{_join(path, key)}`; valid keys at {_where(path)}: {', '.join(fields)}"
            )
    kwargs = {}
    for name, f in fields.items():
        sub = _join(path, name)
        if name in data:
            kwargs[name] = _coerce(_over_default(f, data[name]), hints[name], sub, f.metadata)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"config key `{sub}` is required ({type_name(hints[name])}); it has no default")
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:  # a __post_init__ check of the study
        raise ConfigError(f"config {_where(path)}: {err}") from None


def _over_default(f: dataclasses.Field, value: Any) -> Any:
    """A partial section over the field's own default: `optimizer: {learning_rate: 3e-4}` keeps the
    schedule and clipping the study set in its default, not the section class's bare defaults."""
    if not isinstance(value, Mapping):
        return value
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    if not (dataclasses.is_dataclass(default) and not isinstance(default, type)):
        return value
    return _merged(to_dict(default), value)


def _merged(base: Mapping, value: Mapping) -> dict:
    """`value` over `base`, sub-mapping by sub-mapping (a nested section keeps the default's own values too)."""
    out = dict(base)
    for key, sub in value.items():
        out[key] = _merged(out[key], sub) if isinstance(sub, Mapping) and isinstance(out.get(key), Mapping) else sub
    return out


def to_dict(config) -> dict:
    """Plain YAML-ready dict of a config dataclass (tuples become lists, paths strings)."""

    def plain(x):
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            return {f.name: plain(getattr(x, f.name)) for f in dataclasses.fields(x)}
        if isinstance(x, (list, tuple)):
            return [plain(v) for v in x]
        if isinstance(x, Mapping):
            return {k: plain(v) for k, v in x.items()}
        if isinstance(x, pathlib.PurePath):
            return str(x)
        return x

    return plain(config)


def parse_overrides(items: Iterable[str]) -> list[tuple[list[str], _Raw]]:
    """`["a.b=1", ...]` → `[(["a", "b"], raw "1"), ...]` (values typed later by the field)."""
    out = []
    for item in items or ():
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected KEY.PATH=VALUE (for example --set n=200)")
        key, text = item.split("=", 1)
        key = key.strip()
        parts = key.split(".")
        if not key or any(not p for p in parts):
            raise ConfigError(f"--set {item!r}: the key path {key!r} is empty or malformed")
        out.append((parts, _Raw(text.strip())))
    return out


def apply_overrides(data: dict, cls, overrides: Iterable[tuple[list[str], _Raw]], reserved=RESERVED_KEYS) -> dict:
    """Set each override into the raw mapping `data`, checking the key path against `cls`."""
    for parts, raw in overrides:
        if len(parts) == 1 and parts[0] in reserved:
            data[parts[0]] = raw
            continue
        node, level = data, cls
        for i, part in enumerate(parts):
            path = ".".join(parts[: i + 1])
            valid = fields_of(level)
            if part not in valid:
                at = ".".join(parts[:i])
                raise ConfigError(
                    f"unknown config key `{path}`; valid keys at {_where(at)}: {', '.join(valid)}"
                )
            if i == len(parts) - 1:
                node[part] = raw
                break
            tp = _strip_optional(_hints(level)[part])
            if not dataclasses.is_dataclass(tp):
                raise ConfigError(
                    f"config key `{path}` is {type_name(_hints(level)[part])}, it has no sub-key `{parts[i + 1]}`"
                )
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node, level = child, tp
    return data


def _strip_optional(tp):
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(arms) == 1:
            return arms[0]
    return tp


def read_yaml(path) -> dict:
    """Read a config file with the safe loader; the top level must be a mapping."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as err:
        msg = " ".join(str(err).split())
        raise ConfigError(f"config file {str(path)!r} is not valid YAML: {msg}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {str(path)!r}: the top level must be a mapping, got {_show(data)}")
    return data


def resolve_devices(value: Any) -> str | int:
    """The reserved `devices` key: "all" or a positive integer."""
    if isinstance(value, _Raw):
        value = value.text if value.text == "all" else _parse_raw(value, "devices")
    if value is None or value == "all":
        return "all"
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ConfigError(f"config key `devices`: got {_show(value)}; expected \"all\" or a positive integer")


def resolve_precision(value: Any) -> str:
    """The reserved `precision` key: "float32" or "float64" (the floating-point precision of the run)."""
    if isinstance(value, _Raw):
        value = value.text
    if value in PRECISIONS:
        return value
    raise ConfigError(f"config key `precision`: got {_show(value)}; expected one of: {', '.join(PRECISIONS)}")


def resolve_study_name(value: Any) -> str:
    if isinstance(value, _Raw):
        value = value.text
    if not isinstance(value, str) or not value or any(not p.isidentifier() for p in value.split(".")):
        raise ConfigError(
            f"config key `study`: got {_show(value)}; expected a dotted module name under experiments/ "
            "(for example quickstart or kuranet.clusters)"
        )
    return value


@dataclasses.dataclass(frozen=True)
class FieldRow:
    """One config key, documented: dotted path, type, default, allowed values and help."""

    path: str
    type: str
    default: str
    allowed: str
    help: str
    section: bool


def field_rows(cls, prefix: str = "") -> list[FieldRow]:
    """Every key of a config dataclass, nested sections expanded (for `show --fields` and the docs)."""
    rows = []
    hints = _hints(cls)
    for name, f in fields_of(cls).items():
        tp = hints[name]
        sub = _strip_optional(tp)
        section = dataclasses.is_dataclass(sub)
        if f.default is not dataclasses.MISSING:
            default = repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = "" if section else repr(f.default_factory())
        else:
            default = "(required)"
        bounds = [f"{sym} {f.metadata[k]}" for k, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
                  if k in f.metadata]
        if "choices" in f.metadata:
            bounds.append("in " + "/".join(map(str, f.metadata["choices"])))
        path = f"{prefix}{name}"
        rows.append(FieldRow(path, "section" if section else type_name(tp), default, ", ".join(bounds),
                             str(f.metadata.get("help", "")), section))
        if section:
            rows.extend(field_rows(sub, path + "."))
    return rows


def describe(cls, indent: str = "") -> list[str]:
    """Lines documenting the fields of a config dataclass (type, default, bounds, help)."""
    lines = []
    for row in field_rows(cls):
        depth = row.path.count(".")
        text = f"{indent}{'  ' * depth}{row.path.rsplit('.', 1)[-1]}: {row.type}"
        if row.default:
            text += f" = {row.default}"
        if row.allowed:
            text += f" [{row.allowed}]"
        if row.help:
            text += f"  # {row.help}"
        lines.append(text)
    return lines
