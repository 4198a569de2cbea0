"""Results tables generated from committed run records: `kuramoto-jax report [--check]`.

A *record* is a run folder committed to the repository, `experiments/<app>/records/<name>/`
(`experiments/records/<name>/` for the quick start, `benchmarks/records/<name>/` for speed
figures), holding the run's `config.yaml`, `metrics.json` and `summary.txt`. Its
`metrics.json` names the shipped config it ran (`meta.config`, e.g. `kuranet/cluster_moons`
for `configs/kuranet/cluster_moons.yaml`); that config, resolved today, must equal the
record's `config.yaml` (reserved keys such as `devices` aside).

The tables are declared in `experiments/tables.yaml`; each cell is text with placeholders
filled from the records and from the papers' values in `experiments/papers.yaml` (every value
with the digits the paper prints and its source). A table appears in a Markdown file between

    <!-- report:table NAME -->
    ...
    <!-- /report:table -->

`kuramoto-jax report` rewrites the text between the markers; `--check` changes nothing and
exits 1 when a table differs from what the records give, when a record's config no longer
equals its shipped config, or when a record names a config that does not exist.

Placeholders (fields separated by spaces; RECORD is the record's key, see `record_key`):

    {r RECORD METRIC [FMT]}        a metric (FMT: a format spec such as .4f or .3g; .1% prints 96.0 %,
                                   /100 prints 0.53 as 53/100)
    {div RECORD METRIC METRIC [FMT]}  the ratio of two metrics of a record
    {arr RECORD NAME INDEX [FMT]}  the mean of the record's arrays.npz[NAME][INDEX] (INDEX: integers and
                                   `:` separated by commas, e.g. 0,1,0,:,4 averages over the 4th axis)
    {best RECORD METRIC VAL N [FMT]}  the metric of the seed, among seeds 0..N-1, with the lowest validation
                                   metric VAL (per-seed metrics METRIC_s<i>, VAL_s<i>): a best of N taken
                                   from a run of more seeds, chosen without test data
    {bestseed RECORD VAL N}        that seed's index
    {p KEY}                        a paper's value, as printed
    {vs RECORD METRIC KEY}         **beaten** / not beaten: the metric against the paper's value (lower is better)
    {cfg RECORD}                   the record's config as `configs/<name>.yaml`
    {dev RECORD [PRECISION]}       the record's machine, precision and jax version
    {wall RECORD}                  the record's wall time
    {meta RECORD FIELD}            a field of the record's meta (dotted for nested fields)
"""

from __future__ import annotations

import json
import math
import pathlib
import re
import sys

import yaml

RESERVED_KEYS = ("devices", "out", "precision")
TABLES_FILE = "experiments/tables.yaml"
PAPERS_FILE = "experiments/papers.yaml"
DOC_PATTERNS = ("README.md", "experiments/**/RESULTS.md", "docs/*.md", "benchmarks/README.md",
                "benchmarks/results/*.md")
MAX_RECORD_BYTES = 200_000
REQUIRED_META = ("config", "device", "devices", "wall_seconds", "versions", "seed", "status")

_BEGIN = re.compile(r"<!-- report:table ([A-Za-z0-9_.-]+) -->")
_END = "<!-- /report:table -->"
_PLACEHOLDER = re.compile(r"\{(r|div|arr|best|bestseed|p|vs|cfg|dev|wall|meta) ([^{}]*)\}")


class ReportError(ValueError):
    """A table that cannot be rendered (unknown record, metric or paper value)."""


# ----------------------------------------------------------------------------- records

def record_dirs(root: pathlib.Path) -> list[pathlib.Path]:
    """Every record folder: experiments/**/records/<name>/ and benchmarks/records/<name>/."""
    found = set()
    for pattern in ("experiments/**/records/*/metrics.json", "benchmarks/records/*/metrics.json"):
        found.update(p.parent for p in root.glob(pattern))
    return sorted(found)


def record_key(root: pathlib.Path, folder: pathlib.Path) -> str:
    """`kuranet/cluster_moons_graph_centred` for experiments/kuranet/records/cluster_moons_graph_centred,
    `quickstart` for experiments/records/quickstart, `benchmarks/<name>` for benchmarks/records/<name>."""
    rel = folder.relative_to(root).parts
    top, rest = rel[0], [p for p in rel[1:] if p != "records"]
    return "/".join(rest) if top == "experiments" else "/".join([top, *rest])


def load_records(root: pathlib.Path) -> dict[str, dict]:
    """{key: {"dir", "metrics", "meta", "config"}} for every record (unreadable files raise ReportError)."""
    out = {}
    for folder in record_dirs(root):
        key = record_key(root, folder)
        try:
            data = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise ReportError(f"record {key}: metrics.json cannot be read ({err})") from None
        cfg_path = folder / "config.yaml"
        config = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) if cfg_path.is_file() else None
        out[key] = {"dir": folder, "metrics": data.get("metrics", {}), "meta": data.get("meta", {}),
                    "config": config}
    return out


def _strip(config: dict) -> dict:
    return json.loads(json.dumps({k: v for k, v in config.items() if k not in RESERVED_KEYS}))


def _diff(a, b, prefix="", defaults=None, first="the record") -> list[str]:
    """Differences between a record's config `a` (`first` names it) and the shipped config `b` resolved today.

    A key the record lacks is no difference when the shipped config holds the study's default
    for it (`defaults`, the config dataclass's defaults): the key was added to the study after
    the record was made, with a default that keeps what the run did.
    """
    if isinstance(a, dict) and isinstance(b, dict):
        defaults = defaults if isinstance(defaults, dict) else {}
        out = []
        for k in sorted(set(a) | set(b), key=str):
            path = f"{prefix}{k}"
            if k not in a:
                if not (k in defaults and defaults[k] == b[k]):
                    out.append(f"{path}: missing in {first}, {b[k]!r} in the config")
            elif k not in b:
                out.append(f"{path}: {a[k]!r} in {first}, missing in the config")
            else:
                out.extend(_diff(a[k], b[k], path + ".", defaults.get(k), first))
        return out
    return [] if a == b else [f"{prefix.rstrip('.')}: {a!r} in {first}, {b!r} in the config"]


def _defaults(config) -> dict:
    """The study config dataclass's default values as a plain dict ({} when a field has no default)."""
    from . import _config

    try:
        return json.loads(json.dumps(_config.to_dict(type(config)())))
    except TypeError:
        return {}


def config_differences(config: dict, resolved, first: str = "the record") -> list[str]:
    """Differences between a run's config (`first` names it) and a shipped config resolved today
    (`resolved`, a ResolvedRun), reserved keys aside; keys the run lacks count only where the
    shipped config does not hold the study's default."""
    return _diff(_strip(config), _strip(resolved.to_dict()), defaults=_defaults(resolved.config), first=first)


def check_record(root: pathlib.Path, key: str, rec: dict) -> list[str]:
    """Problems of one record: metadata, size, and its config against the shipped config resolved today."""
    from ._config import ConfigError
    from ._study import resolve

    problems = []
    meta = rec["meta"]
    missing = [f for f in REQUIRED_META if f not in meta]
    if missing:
        problems.append(f"record {key}: metrics.json meta lacks {', '.join(missing)}")
    versions = meta.get("versions") or {}
    if not versions.get("jax") or "diffrax" not in versions:
        problems.append(f"record {key}: meta.versions must give the jax and diffrax versions")
    if meta.get("status", "completed") != "completed":
        problems.append(f"record {key}: meta.status is {meta.get('status')!r}, not 'completed'")
    if not isinstance(meta.get("device", ""), str):
        problems.append(f"record {key}: meta.device must be the hardware's name (cpu or the accelerator's)")
    if not (rec["dir"] / "summary.txt").is_file():
        problems.append(f"record {key}: no summary.txt")
    if (rec["dir"] / "checkpoints").exists():
        problems.append(f"record {key}: holds checkpoints/ (records keep no checkpoints)")
    size = sum(p.stat().st_size for p in rec["dir"].rglob("*") if p.is_file())
    if size > MAX_RECORD_BYTES:
        problems.append(f"record {key}: {size} bytes, more than {MAX_RECORD_BYTES}")
    name = meta.get("config")
    if rec["config"] is None:
        problems.append(f"record {key}: no config.yaml")
        return problems
    if not isinstance(name, str) or not name:
        return problems
    path = root / "configs" / f"{name}.yaml"
    if not path.is_file():
        problems.append(f"record {key}: names config {name!r}, but configs/{name}.yaml does not exist")
        return problems
    try:
        resolved = resolve(path, check=False)  # no data files needed to compare configs
    except ConfigError as err:
        problems.append(f"record {key}: its config configs/{name}.yaml no longer resolves: {err}")
        return problems
    diffs = config_differences(rec["config"], resolved)
    if diffs:
        problems.append(f"record {key}: config.yaml differs from configs/{name}.yaml resolved today: "
                        + "; ".join(diffs[:5]) + (f" (and {len(diffs) - 5} more)" if len(diffs) > 5 else ""))
    return problems


# ----------------------------------------------------------------------------- tables

def load_papers(root: pathlib.Path) -> dict[str, dict]:
    """{key: {"value": str, "source": str}} from experiments/papers.yaml."""
    data = yaml.safe_load((root / PAPERS_FILE).read_text(encoding="utf-8")) or {}
    out = {}
    for key, entry in data.items():
        if not isinstance(entry, dict) or "value" not in entry or "source" not in entry:
            raise ReportError(f"{PAPERS_FILE}: {key!r} needs `value` (as the paper prints it) and `source`")
        out[key] = {"value": str(entry["value"]), "source": str(entry["source"])}
    return out


def load_tables(root: pathlib.Path) -> dict[str, dict]:
    data = yaml.safe_load((root / TABLES_FILE).read_text(encoding="utf-8")) or {}
    for name, spec in data.items():
        if not isinstance(spec, dict) or "columns" not in spec or "rows" not in spec:
            raise ReportError(f"{TABLES_FILE}: table {name!r} needs `columns` and `rows`")
        for i, row in enumerate(spec["rows"]):
            if len(row) != len(spec["columns"]):
                raise ReportError(f"{TABLES_FILE}: table {name!r} row {i + 1} has {len(row)} cells, "
                                  f"expected {len(spec['columns'])}")
    return data


def format_number(value, fmt: str = ".4g") -> str:
    """`value` printed with the format spec `fmt` (`.1%` gives "96.0 %", `.1e` gives "2.4e-4")."""
    if value is None:
        return "n/a"
    text = _format(value, fmt)
    return text[1:] if text.startswith("-") and not any(c in "123456789" for c in text.split("e")[0]) else text


def _format(value, fmt):
    if fmt.startswith("/"):  # a fraction of N printed as a count: 0.53 with /100 gives 53/100
        return f"{round(float(value) * int(fmt[1:]))}/{fmt[1:]}"
    if fmt.endswith("%"):
        return f"{float(value) * 100:{fmt[:-1]}f} %"
    if fmt in ("d", "int"):
        return f"{round(float(value))}"
    if fmt.endswith("e"):
        mantissa, exp = f"{float(value):{fmt}}".split("e")
        return f"{mantissa}e{int(exp)}"
    return f"{float(value):{fmt}}"


class _Renderer:
    def __init__(self, root, records, papers):
        self.root, self.records, self.papers = root, records, papers
        self.used_records: set[str] = set()
        self.used_sources: list[str] = []

    def _rec(self, key):
        if key not in self.records:
            raise ReportError(f"unknown record {key!r}")
        self.used_records.add(key)
        return self.records[key]

    def _metric(self, key, name):
        rec = self._rec(key)
        if name not in rec["metrics"]:
            raise ReportError(f"record {key} has no metric {name!r}")
        return rec["metrics"][name]

    def _array_mean(self, key, name, index):
        import numpy as np

        path = self._rec(key)["dir"] / "arrays.npz"
        if not path.is_file():
            raise ReportError(f"record {key} has no arrays.npz")
        with np.load(path) as data:
            if name not in data:
                raise ReportError(f"record {key}: arrays.npz has no array {name!r}")
            idx = tuple(slice(None) if t == ":" else int(t) for t in index.split(","))
            try:
                return float(np.mean(data[name][idx]))
            except IndexError as err:
                raise ReportError(f"record {key}: {name}[{index}]: {err}") from None

    def _best_seed(self, key, val, n):
        vals = [self._metric(key, f"{val}_s{i}") for i in range(n)]
        return min(range(n), key=lambda i: math.inf if vals[i] is None else vals[i])

    def _seed_metric(self, key, name, seed):
        metrics = self._rec(key)["metrics"]
        if f"{name}_s{seed}" in metrics:
            return metrics[f"{name}_s{seed}"]
        if int(metrics.get("best_seed", -1)) == seed:  # regimes evaluated for the best seed only
            return self._metric(key, name)
        raise ReportError(f"record {key} has no {name!r} for seed {seed}")

    def _paper(self, key):
        if key not in self.papers:
            raise ReportError(f"{PAPERS_FILE} has no value {key!r}")
        src = self.papers[key]["source"]
        if src not in self.used_sources:
            self.used_sources.append(src)
        return self.papers[key]["value"]

    def placeholder(self, kind, args):
        a = args.split()
        if kind == "r":
            return format_number(self._metric(a[0], a[1]), *(a[2:3]))
        if kind == "div":
            num, den = self._metric(a[0], a[1]), self._metric(a[0], a[2])
            return format_number(None if num is None or not den else num / den, *(a[3:4]))
        if kind == "arr":
            return format_number(self._array_mean(a[0], a[1], a[2]), *(a[3:4]))
        if kind in ("best", "bestseed"):
            seed = self._best_seed(a[0], a[2 if kind == "best" else 1], int(a[3 if kind == "best" else 2]))
            if kind == "bestseed":
                return str(seed)
            return format_number(self._seed_metric(a[0], a[1], seed), *(a[4:5]))
        if kind == "p":
            return self._paper(a[0])
        if kind == "vs":
            ours, paper = self._metric(a[0], a[1]), float(self._paper(a[2]))
            return "**beaten**" if ours is not None and ours < paper else "not beaten"
        if kind == "cfg":
            return f"`configs/{self._rec(a[0])['meta'].get('config')}.yaml`"
        if kind == "dev":
            meta = self._rec(a[0])["meta"]
            dev = meta.get("device")
            where = f"{meta.get('cpu_count')}-core CPU" if dev == "cpu" else str(dev)
            # a study may switch float64 on itself (meta.x64 is read before it starts): then the table says so
            prec = a[1] if len(a) > 1 else ("float64" if meta.get("x64") else "float32")
            return f"{where}, {prec}, jax {(meta.get('versions') or {}).get('jax')}"
        if kind == "wall":
            return f"{float(self._rec(a[0])['meta'].get('wall_seconds')):.0f} s"
        if kind == "meta":
            value = self._rec(a[0])["meta"]
            for part in a[1].split("."):
                value = value.get(part) if isinstance(value, dict) else None
            return str(value)
        raise ReportError(f"unknown placeholder {kind!r}")

    def cell(self, text) -> str:
        if not isinstance(text, str):
            return str(text)
        return _PLACEHOLDER.sub(lambda m: self.placeholder(m.group(1), m.group(2)), text)


def render_table(name: str, spec: dict, root, records, papers) -> str:
    """The Markdown of one table (header, rows, and a line naming its records and sources)."""
    r = _Renderer(root, records, papers)
    try:
        lines = ["| " + " | ".join(r.cell(c) for c in spec["columns"]) + " |",
                 "|" + "---|" * len(spec["columns"])]
        lines += ["| " + " | ".join(r.cell(c) for c in row) + " |" for row in spec["rows"]]
        note = r.cell(str(spec["note"]).strip()) if spec.get("note") else None
    except ReportError as err:
        raise ReportError(f"table {name}: {err}") from None
    foot = "Generated by `kuramoto-jax report` from the records " + ", ".join(
        f"`{k}`" for k in sorted(r.used_records))
    if r.used_sources:
        foot += "; the papers' values from " + "; ".join(r.used_sources)
    lines += ["", f"<sub>{foot}.</sub>"]
    if note:
        lines += ["", note]
    return "\n".join(lines)


def doc_files(root: pathlib.Path) -> list[pathlib.Path]:
    files = set()
    for pattern in DOC_PATTERNS:
        files.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(files)


def _fill(text: str, rendered: dict[str, str], where: str, placed: set, problems: list) -> str:
    out, pos = [], 0
    for m in _BEGIN.finditer(text):
        if m.start() < pos:
            continue
        end = text.find(_END, m.end())
        if end < 0:
            problems.append(f"{where}: table {m.group(1)} has no closing `{_END}`")
            break
        name = m.group(1)
        placed.add(name)
        out.append(text[pos:m.end()])
        if name not in rendered:
            problems.append(f"{where}: table {name} is not declared in {TABLES_FILE}")
            out.append(text[m.end():end])
        else:
            out.append("\n" + rendered[name] + "\n")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def report(root, *, check: bool) -> list[str]:
    """Render every table into its file (or, with check, compare); return the problems found."""
    root = pathlib.Path(root).resolve()
    problems: list[str] = []
    try:
        records = load_records(root)
        papers = load_papers(root)
        tables = load_tables(root)
    except (ReportError, OSError, yaml.YAMLError) as err:
        return [str(err)]
    for key, rec in records.items():
        problems.extend(check_record(root, key, rec))
    rendered = {}
    for name, spec in tables.items():
        try:
            rendered[name] = render_table(name, spec, root, records, papers)
        except ReportError as err:
            problems.append(str(err))
    placed: set[str] = set()
    for path in doc_files(root):
        text = path.read_text(encoding="utf-8")
        where = str(path.relative_to(root))
        new = _fill(text, rendered, where, placed, problems)
        if new != text:
            if check:
                names = [m.group(1) for m in _BEGIN.finditer(text)]
                stale = [n for n in names if n in rendered and ("\n" + rendered[n] + "\n") not in text]
                problems.append(f"{where}: table(s) {', '.join(stale) or '?'} differ from what the records give "
                                "(run `kuramoto-jax report`)")
            else:
                path.write_text(new, encoding="utf-8")
    for name in tables:
        if name not in placed:
            problems.append(f"{TABLES_FILE}: table {name} is not placed in any file (no `<!-- report:table {name} -->`)")
    return problems


def main(args) -> int:
    """`kuramoto-jax report [--check] [--root DIR]`: 0 when everything agrees, 1 otherwise."""
    root = pathlib.Path(getattr(args, "root", None) or ".")
    check = bool(getattr(args, "check", False))
    if not (root / TABLES_FILE).is_file():
        print(f"kuramoto-jax report: no {TABLES_FILE} under {root.resolve()} (pass --root)", file=sys.stderr)
        return 2
    problems = report(root, check=check)
    for p in problems:
        print(f"kuramoto-jax report: {p}", file=sys.stderr)
    if not problems:
        n = len(record_dirs(root.resolve()))
        print(f"kuramoto-jax report: {n} records and every table {'agree' if check else 'written'}")
    return 1 if problems else 0
