"""Where studies and configs come from: the package's own, and those other packages register.

A *study* is a module defining a dataclass `Config` and `run(config, ctx) -> dict`.
The toolkit's studies are the modules of `kuramoto_jax.experiments` (the repository's
`experiments/` folder); their names are dotted paths below it (`quickstart`,
`kuranet.global_sync`). Other packages add studies without touching this one by
declaring an entry point in the group ``kuramoto_jax.studies``:

```toml
# pyproject.toml of the package `mylab`
[project.entry-points."kuramoto_jax.studies"]
mylab = "mylab.studies"          # a package: every study module below it, as mylab.<module>
```

An entry point that names a single study module registers that module under the entry
point's name. Such a package may also ship configs, by naming a folder-package of YAML
files in the group ``kuramoto_jax.configs`` (`mylab = "mylab.configs"` makes
`mylab/<file>` a config name).

A *config name* is the path of a shipped YAML file under its configs package without
`.yaml`: `quickstart`, `kuranet/global_case1`, `ep/vowels_ai`.

Listing reads study sources without importing them (importing a study pulls in JAX and
its application's dependencies).
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.resources
import importlib.util
import pathlib
from importlib import metadata
from typing import Iterator

from ._config import ConfigError

STUDY_GROUP = "kuramoto_jax.studies"
CONFIG_GROUP = "kuramoto_jax.configs"
BUILTIN_STUDIES = "kuramoto_jax.experiments"
BUILTIN_CONFIGS = "kuramoto_jax.configs"
CONFIG_SUFFIXES = (".yaml", ".yml")


@dataclasses.dataclass(frozen=True)
class StudyInfo:
    """A registered study: its name, the module that defines it and its first docstring line."""

    name: str
    module: str
    doc: str
    provider: str  # "kuramoto_jax" or the entry point's distribution


@dataclasses.dataclass(frozen=True)
class ConfigInfo:
    """A shipped config: its name, its file and the study its `study:` key names."""

    name: str
    path: pathlib.Path
    study: str


def _entry_points(group: str):
    return sorted(metadata.entry_points(group=group), key=lambda ep: ep.name)


def _provider(ep) -> str:
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else ep.value


def _source_info(path: pathlib.Path) -> tuple[bool, str]:
    """(defines Config and run at top level, first docstring line), read without importing."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, OSError):
        return False, ""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.ImportFrom):
            names.update(a.asname or a.name for a in node.names)
    doc = (ast.get_docstring(tree) or "").strip().splitlines()
    return {"Config", "run"} <= names, (doc[0] if doc else "")


def _walk_package(package: str) -> Iterator[tuple[str, pathlib.Path]]:
    """(dotted name relative to `package`, source file) for every module below it."""
    spec = importlib.util.find_spec(package)
    if spec is None:
        return
    if spec.submodule_search_locations is None:  # a single module
        if spec.origin and spec.origin.endswith(".py"):
            yield "", pathlib.Path(spec.origin)
        return
    for base in map(pathlib.Path, spec.submodule_search_locations):
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(base).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if not parts or any(p.startswith((".", "_")) or not p.isidentifier() for p in parts):
                continue
            yield ".".join(parts), path


def studies() -> list[StudyInfo]:
    """Every registered study, the toolkit's first, then those of entry points by name."""
    out = []
    for rel, path in _walk_package(BUILTIN_STUDIES):
        ok, doc = _source_info(path)
        if ok:
            out.append(StudyInfo(rel, f"{BUILTIN_STUDIES}.{rel}", doc, "kuramoto_jax"))
    for ep in _entry_points(STUDY_GROUP):
        try:
            found = list(_walk_package(ep.value))
        except (ImportError, ValueError):
            continue
        for rel, path in found:
            ok, doc = _source_info(path)
            if ok:
                name = f"{ep.name}.{rel}" if rel else ep.name
                module = f"{ep.value}.{rel}" if rel else ep.value
                out.append(StudyInfo(name, module, doc, _provider(ep)))
    return out


def _module_for(name: str) -> str | None:
    """The module of study `name`, or None when nothing registers it."""
    builtin = f"{BUILTIN_STUDIES}.{name}"
    if _spec_exists(builtin):
        return builtin
    for ep in _entry_points(STUDY_GROUP):
        if name == ep.name:
            return ep.value
        if name.startswith(ep.name + "."):
            candidate = f"{ep.value}.{name[len(ep.name) + 1:]}"
            if _spec_exists(candidate):
                return candidate
    return None


def _spec_exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def import_study(name: str):
    """Import the module of study `name` and check it defines a dataclass `Config` and `run`.

    Raises ConfigError (naming the `study` key) when no registered study has that name.
    """
    module_name = _module_for(name)
    if module_name is None:
        known = ", ".join(s.name for s in studies()) or "(none)"
        raise ConfigError(f"config key `study`: got {name!r}; no registered study has that name; "
                          f"available studies: {known}")
    module = importlib.import_module(module_name)
    cfg = getattr(module, "Config", None)
    if cfg is None or not dataclasses.is_dataclass(cfg) or not callable(getattr(module, "run", None)):
        raise ConfigError(f"config key `study`: got {name!r}; {module_name} must define a dataclass "
                          "`Config` and a function `run(config, ctx)`")
    return module


def _config_roots() -> list[tuple[str, pathlib.Path]]:
    """(name prefix, folder) of every configs package: the toolkit's, then entry points'."""
    roots = []
    for prefix, package in [("", BUILTIN_CONFIGS), *((ep.name, ep.value) for ep in _entry_points(CONFIG_GROUP))]:
        try:
            folder = pathlib.Path(str(importlib.resources.files(package)))
        except (ImportError, TypeError, ValueError):
            continue
        if folder.is_dir():
            roots.append((prefix, folder))
    return roots


def _name_of(prefix: str, rel: pathlib.Path) -> str:
    name = rel.with_suffix("").as_posix()
    return f"{prefix}/{name}" if prefix else name


def configs() -> list[ConfigInfo]:
    """Every shipped config, sorted by name within each configs package."""
    import yaml

    out = []
    for prefix, folder in _config_roots():
        files = sorted(p for s in CONFIG_SUFFIXES for p in folder.rglob(f"*{s}"))
        for path in files:
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
                study = str(data.get("study", "?")) if isinstance(data, dict) else "?"
            except yaml.YAMLError:
                study = "(invalid YAML)"
            out.append(ConfigInfo(_name_of(prefix, path.relative_to(folder)), path, study))
    return out


def config_path(name: str) -> pathlib.Path | None:
    """The file of the shipped config `name` (e.g. `kuranet/global_case1`), or None."""
    name = name.strip().strip("/")
    for prefix, folder in _config_roots():
        rel = name
        if prefix:
            if not name.startswith(prefix + "/"):
                continue
            rel = name[len(prefix) + 1:]
        for suffix in CONFIG_SUFFIXES:
            path = folder / f"{rel}{suffix}"
            if path.is_file():
                return path
    return None


def config_name(path) -> str | None:
    """The name of a config file if it is a shipped config, else None."""
    if path is None:
        return None
    path = pathlib.Path(path).resolve()
    for prefix, folder in _config_roots():
        try:
            rel = path.relative_to(folder.resolve())
        except ValueError:
            continue
        if path.suffix in CONFIG_SUFFIXES:
            return _name_of(prefix, rel)
    return None


def find_config(arg: str) -> pathlib.Path:
    """A config argument (a YAML file anywhere, or a shipped config's name) → its file.

    Raises ConfigError naming the argument, with close names, when it is neither.
    """
    text = str(arg)
    path = pathlib.Path(text).expanduser()
    if path.suffix in CONFIG_SUFFIXES or path.is_file():
        if path.is_file():
            return path
        shipped = config_path(text.removesuffix(path.suffix)) if not path.is_absolute() else None
        if shipped is not None and not path.exists():
            return shipped
        raise ConfigError(f"config: got {text!r}; no such file (expected a YAML file or a shipped config "
                          "name such as `quickstart`; see `kuramoto-jax list`)")
    shipped = config_path(text)
    if shipped is not None:
        return shipped
    import difflib

    names = [c.name for c in configs()]
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see `kuramoto-jax list`"
    raise ConfigError(f"config: got {text!r}; not a YAML file and not the name of a shipped config{hint}")
