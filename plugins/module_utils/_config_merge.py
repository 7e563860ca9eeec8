# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Merge settings into INI (pip.conf, .pypirc) and TOML (uv.toml) text, line by line.

Only the keys asked for are touched: every other line - comments, other keys, other sections, blank lines - stays
exactly as it was, so a file a person or another tool also edits keeps their settings. Values that are lists become
multi-line INI values (``index-servers``) merged with what is there: existing items are kept, new ones appended.
"""

from __future__ import annotations

import json
import re

_INI_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*(?:[#;].*)?$")
_INI_KEY = re.compile(r"^([^\s=:#;\[][^=:]*?)\s*[=:]")
_TOML_HEADER = re.compile(r"^\s*\[")
_TOML_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_.\"' -]+?)\s*\]\s*(?:#.*)?$")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=\s*(.*)$")


class MergeError(ValueError):
    """The existing text cannot be merged safely; the message says where."""


def _ini_value_lines(key, value, existing_items=()):
    if isinstance(value, (list, tuple)):
        items = list(existing_items)
        items.extend(str(item) for item in value if str(item) not in items)
        return [f"{key} ="] + [f"    {item}" for item in items]
    if isinstance(value, bool):
        value = "true" if value else "false"
    return [f"{key} = {value}"]


def _ini_sections(lines):
    """Map section name -> (header index, end index exclusive); the first of duplicate sections wins."""
    bounds = {}
    current, start = None, 0
    for number, line in enumerate(lines):
        match = _INI_SECTION.match(line)
        if match:
            bounds.setdefault(current, (start, number))
            current, start = match.group(1).strip(), number
    bounds.setdefault(current, (start, len(lines)))
    return bounds


def _ini_key_span(lines, start, end, key):
    """(first, end exclusive, continuation items) of `key` inside lines[start:end], or None."""
    for number in range(start + 1, end):
        match = _INI_KEY.match(lines[number])
        if match and match.group(1).strip().lower() == key.lower():
            last = number + 1
            while last < end and lines[last][:1] in (" ", "\t") and lines[last].strip():
                last += 1
            first_value = lines[number][match.end() :].strip()
            items = ([first_value] if first_value else []) + [line.strip() for line in lines[number + 1 : last]]
            items = [word for item in items for word in item.split()]
            return number, last, items
    return None


def merge_ini(text, settings):
    """Return `text` with settings ({section: {key: value}}) merged in."""
    lines = text.splitlines()
    for section, values in settings.items():
        for key, value in values.items():
            bounds = _ini_sections(lines)
            if section not in bounds:
                if lines and lines[-1].strip():
                    lines.append("")
                lines.append(f"[{section}]")
                bounds = _ini_sections(lines)
            start, end = bounds[section]
            span = _ini_key_span(lines, start, end, key)
            if span:
                first, last, items = span
                keep = items if isinstance(value, (list, tuple)) else ()
                lines[first:last] = _ini_value_lines(key, value, keep)
            else:
                insert = end
                while insert - 1 > start and not lines[insert - 1].strip():
                    insert -= 1
                lines[insert:insert] = _ini_value_lines(key, value)
    return "\n".join(lines) + "\n" if lines else ""


def _toml_value(key, value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(key, item) for item in value) + "]"
    raise MergeError(f"setting {key!r}: cannot write a {type(value).__name__} to TOML")


def _toml_is_single_line(raw):
    """Whether a TOML value written after `key =` ends on its own line (no open array, table or multi-line string)."""
    if raw.startswith(('"""', "'''")):
        return False
    depth, quote = 0, None
    for char in raw:
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "#":
            break
    return depth == 0


def merge_toml(text, settings, path="the file"):
    """Return `text` with settings merged in: {"": {key: value}} are top-level keys, {"table": {...}} go to [table]."""
    lines = text.splitlines()
    for table, values in settings.items():
        for key, value in values.items():
            start, end = _toml_table_bounds(lines, table)
            if start is None:
                if lines and lines[-1].strip():
                    lines.append("")
                lines.append(f"[{table}]")
                start, end = len(lines) - 1, len(lines)
            rendered = f"{key} = {_toml_value(key, value)}"
            for number in range(start, end):
                match = _TOML_KEY.match(lines[number])
                if match and match.group(1) == key:
                    if not _toml_is_single_line(match.group(2)):
                        raise MergeError(
                            f"{path}: line {number + 1} sets {key!r} over several lines; "
                            "write it on one line or remove it, then run again"
                        )
                    lines[number] = rendered
                    break
            else:
                insert = end
                while insert > start and insert > 0 and not lines[insert - 1].strip():
                    insert -= 1
                new = [rendered]
                if insert < len(lines) and _TOML_HEADER.match(lines[insert]):
                    new.append("")
                lines[insert:insert] = new
    return "\n".join(lines) + "\n" if lines else ""


def _toml_table_bounds(lines, table):
    """(first line after the header, end exclusive) of `table` ("" = top level), or (None, None)."""
    if table == "":
        for number, line in enumerate(lines):
            if _TOML_HEADER.match(line):
                return 0, number
        return 0, len(lines)
    for number, line in enumerate(lines):
        match = _TOML_TABLE.match(line)
        if match and match.group(1).strip().strip("\"'") == table:
            for end in range(number + 1, len(lines)):
                if _TOML_HEADER.match(lines[end]):
                    return number + 1, end
            return number + 1, len(lines)
    return None, None
