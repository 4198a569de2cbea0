"""MkDocs hook: pages generated from the code and the repository at build time, so they cannot drift.

- `configs.md`: every registered study's config keys (type, default, allowed values, help), read from the
  studies' `Config` dataclasses, and every shipped config by name.
- `results/<application>.md`: the results files `experiments/<application>/RESULTS.md`, their figures
  copied beside them.
- `changelog.md`: CHANGELOG.md.

Links in any page to repository files outside `docs/` (written so that they also work when the Markdown is
read on the code host) are pointed at the site's own page for that file where there is one (results files,
notebooks), else at the file in the repository.
"""

from __future__ import annotations

import os
import pathlib
import posixpath
import re

from mkdocs.structure.files import File

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
APPLICATIONS = ("proportional", "kuranet", "ep", "npe", "reservoir", "stability")
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


def _site_page(path: pathlib.Path) -> str | None:
    """The docs-relative page serving a repository file, if the site has one."""
    rel = path.relative_to(ROOT).as_posix()
    if rel.startswith("notebooks/") and rel.endswith(".ipynb"):
        return rel
    match = re.fullmatch(r"experiments/(\w+)/RESULTS\.md", rel)
    if match and match.group(1) in APPLICATIONS:
        return f"results/{match.group(1)}.md"
    if rel == "CHANGELOG.md":
        return "changelog.md"
    return None


def _relink(text: str, source: pathlib.Path, page_uri: str, repo_url: str, config, files) -> str:
    """Rewrite the links of `text` (the Markdown of repository file `source`, served at `page_uri`)."""
    page_dir = posixpath.dirname(page_uri)

    def relink(match):
        label, target = match.group(1), match.group(2)
        if re.match(r"^[a-z]+:|^#|^/", target):
            return match.group(0)
        path, _, anchor = target.partition("#")
        anchor = f"#{anchor}" if anchor else ""
        resolved = pathlib.Path(os.path.normpath(source.parent / path))
        try:
            resolved.relative_to(DOCS)
            if source.is_relative_to(DOCS):
                return match.group(0)  # a page of the site linking to another: mkdocs checks it
        except ValueError:
            pass
        try:
            rel = resolved.relative_to(ROOT).as_posix()
        except ValueError:
            return match.group(0)
        if label.startswith("!") and resolved.is_file():  # a figure: served beside the page
            uri = posixpath.join(page_dir, posixpath.splitext(posixpath.basename(page_uri))[0], resolved.name)
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, content=resolved.read_bytes()))
            return f"{label}({posixpath.relpath(uri, page_dir)})"
        site = _site_page(resolved) if resolved.exists() else None
        if site is not None:
            return f"{label}({posixpath.relpath(site, page_dir or '.')}{anchor})"
        kind = "tree" if resolved.is_dir() else "blob"
        return f"{label}({repo_url}/{kind}/main/{rel}{anchor})"

    return _LINK.sub(relink, text)


def on_files(files, config):
    repo_url = config["repo_url"].rstrip("/")
    files.append(File.generated(config, "configs.md", content=config_reference()))
    for app in APPLICATIONS:
        source = ROOT / "experiments" / app / "RESULTS.md"
        if source.is_file():
            text = _relink(source.read_text(encoding="utf-8"), source, f"results/{app}.md", repo_url, config, files)
            files.append(File.generated(config, f"results/{app}.md", content=text))
    changelog = ROOT / "CHANGELOG.md"
    files.append(File.generated(config, "changelog.md",
                                content=_relink(changelog.read_text(encoding="utf-8"), changelog, "changelog.md",
                                                repo_url, config, files)))
    return files


def on_page_markdown(markdown, page, config, files):
    """Links from the hand-written pages in docs/ to files elsewhere in the repository."""
    source = page.file.abs_src_path
    if source is None or page.file.generated_by:
        return markdown
    return _relink(markdown, pathlib.Path(source), page.file.src_uri, config["repo_url"].rstrip("/"), config, files)
