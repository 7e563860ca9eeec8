"""Generate the role reference from each role's meta/argument_specs.yml, in two places:

- the "Role Variables" section of every role README, between two marker comments (the rest is hand-written);
- docs/reference/<role>.md, a whole generated page per role (description, every entry point and variable).

``--check`` exits 1 when any of them is out of date (run by ``make check``), ``--write`` rewrites them.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BEGIN = "<!-- BEGIN generated from meta/argument_specs.yml by `make docs` -->"
END = "<!-- END generated -->"
_MARKUP = re.compile(r"\b([COVMIE])\(([^)]*)\)")


def plain(text: str) -> str:
    """Ansible doc markup to Markdown: C(x)/V(x)/O(x)/E(x) -> `x`, M(x) -> `x`, I(x) -> *x*."""

    def repl(match: re.Match[str]) -> str:
        kind, value = match.groups()
        return f"*{value}*" if kind == "I" else f"`{value}`"

    return _MARKUP.sub(repl, re.sub(r"\bO\(([^)]*)\)", r"`\1`", text)).replace("|", "\\|")


def _rows(options: dict, prefix: str = "") -> list[str]:
    rows = []
    for name, option in options.items():
        rows.append(_row(prefix + name, option))
        if option.get("options"):
            rows += _rows(
                option["options"], f"{prefix}{name}[]." if option.get("type") == "list" else f"{prefix}{name}."
            )
    return rows


def _text(value) -> str:
    return " ".join(value) if isinstance(value, list) else (value or "")


def render(spec_file: Path) -> str:
    specs = yaml.safe_load(spec_file.read_text())["argument_specs"]
    lines = [BEGIN, ""]
    for entry, spec in specs.items():
        lines.append(f"Entry point `{entry}`: {plain(spec['short_description'])}.")
        if entry != "main" and spec.get("options") is specs["main"].get("options"):
            lines += ["", "Variables: those of `main` (the same argument spec).", ""]
            continue
        lines += ["", "| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
        lines += _rows(spec.get("options", {}))
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
        lines += [f"## Entry point `{entry}`", "", plain(spec["short_description"]) + ".", ""]
        description = spec.get("description", [])
        for paragraph in description if isinstance(description, list) else [description]:
            lines += [plain(paragraph), ""]
        if entry != "main" and spec.get("options") is specs["main"].get("options"):
            lines += ["Variables: those of `main` (the same argument spec).", ""]
            continue
        lines += ["| Variable | Type | Default | Description |", "| --- | --- | --- | --- |"]
        lines += _rows(spec.get("options", {}))
        lines.append("")
    return "\n".join(lines)


def _row(name: str, option: dict) -> str:
    kind = option.get("type", "str")
    if kind == "list" and "elements" in option:
        kind = f"list of {option['elements']}"
    if option.get("choices"):
        kind += " (" + ", ".join(f"`{c}`" for c in option["choices"]) + ")"
    if option.get("required"):
        default = "*required*"
    elif "default" in option:
        dumped = yaml.safe_dump(option["default"], default_flow_style=True)
        default = plain(f"`{dumped.strip().removesuffix('...').strip()}`")
    else:
        default = "see description"
    return f"| `{name}` | {kind} | {default} | {plain(_text(option.get('description')))} |"


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
