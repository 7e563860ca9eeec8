"""Generate the role reference from each role's meta/argument_specs.yml, in two places:

- the "Role Variables" section of every role README, between two marker comments (the rest is hand-written);
- docs/reference/<role>.md, a whole generated page per role (description, every entry point and variable).

``--check`` exits 1 when any of them is out of date (run by ``make check``), ``--write`` rewrites them. Ansible's doc
markup (C(), O(), V(), M(), P(), ...) is parsed and rendered by antsibull-docs-parser, the library Ansible's own docs
use, in strict mode: markup it rejects fails both.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from antsibull_docs_parser import dom
from antsibull_docs_parser.md import to_md
from antsibull_docs_parser.parser import Context, parse

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- BEGIN generated from meta/argument_specs.yml by `make docs` -->"
END = "<!-- END generated -->"


def plain(text: str, role: str, entry: str) -> str:
    """Ansible doc markup of role `role`, entry point `entry`, as Markdown (strict: bad markup raises ValueError)."""
    plugin = dom.PluginIdentifier(fqcn=f"hostnative.devpi.{role}", type="role")
    context = Context(current_plugin=plugin, role_entrypoint=entry)
    paragraphs = parse(text, context, errors="exception", strict=True)
    for part in (part for paragraph in paragraphs for part in paragraph):
        # C(...) ends at the first ")": code with unbalanced parentheses lost its end to that.
        if isinstance(part, dom.CodePart) and part.text.count("(") != part.text.count(")"):
            raise ValueError(f"C({part.text}) ends at its first ')' - the code is cut short in: {text}")
    return to_md(paragraphs, par_sep=" ")


def code(text: str) -> str:
    """Literal text (a default value) as Markdown code, escaped for a table cell."""
    return to_md([[dom.CodePart(text=text)]])


def _rows(options: dict, markup, prefix: str = "") -> list[str]:
    rows = []
    for name, option in options.items():
        rows.append(_row(prefix + name, option, markup))
        if option.get("options"):
            rows += _rows(
                option["options"],
                markup,
                f"{prefix}{name}[]." if option.get("type") == "list" else f"{prefix}{name}.",
            )
    return rows


def _text(value) -> str:
    return " ".join(value) if isinstance(value, list) else (value or "")


def render(spec_file: Path) -> str:
    specs = yaml.safe_load(spec_file.read_text())["argument_specs"]
    lines = [BEGIN, ""]
    for entry, spec in specs.items():
        markup = _markup(spec_file, entry)
        lines.append(f"Entry point `{entry}`: {markup(spec['short_description'])}.")
        if entry != "main" and spec.get("options") is specs["main"].get("options"):
            lines += ["", "Variables: those of `main` (the same argument spec).", ""]
            continue
        lines += ["", "| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
        lines += _rows(spec.get("options", {}), markup)
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def render_reference(spec_file: Path) -> str:
    """docs/reference/<role>.md: the whole page comes from argument_specs."""
    role = spec_file.parents[1].name
    specs = yaml.safe_load(spec_file.read_text())["argument_specs"]
    lines = [
        f"# Reference: hostnative.devpi.{role}",
        "",
        f"<!-- Generated from roles/{role}/meta/argument_specs.yml by `make docs`; do not edit. -->",
        "",
    ]
    for entry, spec in specs.items():
        markup = _markup(spec_file, entry)
        lines += [f"## Entry point `{entry}`", "", markup(spec["short_description"]) + ".", ""]
        description = spec.get("description", [])
        for paragraph in description if isinstance(description, list) else [description]:
            lines += [markup(paragraph), ""]
        if entry != "main" and spec.get("options") is specs["main"].get("options"):
            lines += ["Variables: those of `main` (the same argument spec).", ""]
            continue
        lines += ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
        lines += _rows(spec.get("options", {}), markup)
        lines.append("")
    return "\n".join(lines)


def _markup(spec_file: Path, entry: str):
    role = spec_file.parents[1].name
    return lambda text: plain(text, role, entry)


def _row(name: str, option: dict, markup) -> str:
    kind = option.get("type", "str")
    if kind == "list" and "elements" in option:
        kind = f"list of {option['elements']}"
    if option.get("choices"):
        kind += " (" + ", ".join(f"`{c}`" for c in option["choices"]) + ")"
    if option.get("required"):
        default = "*required*"
    elif "default" in option:
        dumped = yaml.safe_dump(option["default"], default_flow_style=True)
        default = code(dumped.strip().removesuffix("...").strip())
    else:
        default = "see description"
    return f"| `{name}` | {kind} | {default} | {markup(_text(option.get('description')))} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true")
    mode.add_argument("--write", action="store_true")
    args = parser.parse_args()
    stale = []
    for spec_file in sorted(ROOT.glob("roles/*/meta/argument_specs.yml")):
        readme = spec_file.parents[1] / "README.md"
        text = readme.read_text() if readme.exists() else ""
        if BEGIN not in text or END not in text:
            print(f"{readme.relative_to(ROOT)}: no generated section (markers missing)", file=sys.stderr)
            stale.append(readme)
            continue
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        wanted = head + render(spec_file) + tail
        if wanted != text:
            stale.append(readme)
            if args.write:
                readme.write_text(wanted)
                print(f"wrote {readme.relative_to(ROOT)}")
        page = ROOT / "docs" / "reference" / f"{spec_file.parents[1].name}.md"
        wanted = render_reference(spec_file)
        if not page.exists() or page.read_text() != wanted:
            stale.append(page)
            if args.write:
                page.parent.mkdir(parents=True, exist_ok=True)
                page.write_text(wanted)
                print(f"wrote {page.relative_to(ROOT)}")
    if args.check and stale:
        for path in stale:
            print(f"{path.relative_to(ROOT)} is out of date with argument_specs: run `make docs`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
