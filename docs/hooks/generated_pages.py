"""MkDocs hook: pages generated from the code and the repository at build time, so they cannot drift.

- `configs.md`: every registered study's config keys (type, default, allowed values, help), read from the
  studies' `Config` dataclasses, and every shipped config by name.
- `results/<application>.md`: the results files `experiments/<application>/RESULTS.md`, their figures
  copied beside them and links to other repository files pointed at the repository.
- `changelog.md`: CHANGELOG.md.
"""

from __future__ import annotations

import pathlib
import re

from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).resolve().parents[2]
APPLICATIONS = ("proportional", "kuranet", "ep", "npe", "reservoir")
_LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)\)")


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def config_reference() -> str:
    from kuramoto_jax.run import configs, import_study, studies
    from kuramoto_jax.run._config import field_rows

    shipped: dict[str, list[str]] = {}
    for c in configs():
        shipped.setdefault(c.study, []).append(c.name)
    out = [
        "# Config reference",
        "",
        "Generated from the studies' `Config` dataclasses when this site is built. Every config also takes the",
        "reserved keys `study` (the study to run) and `devices` (`all` or a number of devices). Run a shipped config",
        "by name (`kuramoto-jax run quickstart`), change any key with `--set key.path=value`, and print a resolved",
        "config with `kuramoto-jax show NAME --fields`.",
        "",
    ]
    for info in studies():
        module = import_study(info.name)
        out += [f"## `{info.name}`", "", info.doc, ""]
        names = shipped.get(info.name, [])
        if names:
            out += ["Shipped configs: " + ", ".join(f"`{n}`" for n in names) + ".", ""]
        out += ["| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
        for row in field_rows(module.Config):
            out.append(f"| `{row.path}` | {_cell(row.type)} | {_cell(row.default)} | {_cell(row.allowed)} | "
                       f"{_cell(row.help)} |")
        out.append("")
    return "\n".join(out) + "\n"


def _results_page(app: str, repo_url: str, config, files) -> str:
    source = ROOT / "experiments" / app / "RESULTS.md"
    text = source.read_text(encoding="utf-8")

    def relink(match):
        label, target = match.group(1), match.group(2)
        if re.match(r"^[a-z]+://|^#|^mailto:", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = (source.parent / path).resolve()
        if label.startswith("!") and resolved.is_file():  # a figure: served beside the page
            uri = f"results/{app}/{resolved.name}"
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, content=resolved.read_bytes()))
            return f"{label}({app}/{resolved.name})"
        try:
            rel = resolved.relative_to(ROOT).as_posix()
        except ValueError:
            return match.group(0)
        kind = "tree" if resolved.is_dir() else "blob"
        return f"{label}({repo_url}/{kind}/main/{rel}{'#' + anchor if anchor else ''})"

    return _LINK.sub(relink, text)


def on_files(files, config):
    repo_url = config["repo_url"].rstrip("/")
    files.append(File.generated(config, "configs.md", content=config_reference()))
    for app in APPLICATIONS:
        files.append(File.generated(config, f"results/{app}.md", content=_results_page(app, repo_url, config, files)))
    files.append(File.generated(config, "changelog.md", content=(ROOT / "CHANGELOG.md").read_text(encoding="utf-8")))
    return files
