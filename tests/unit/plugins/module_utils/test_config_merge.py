"""module_utils/_config_merge.py in process: merged text keeps every other line, and reads back (configparser,
tomllib) with the settings asked for."""

from __future__ import annotations

import configparser
import tomllib

import pytest
from ansible_collections.hostnative.devpi.plugins.module_utils._config_merge import MergeError, merge_ini, merge_toml

PIP_CONF = """\
# mine: keep me
[global]
timeout = 60
index-url = https://old.example/simple/

[install]
; a comment in a section
no-compile = true
"""


def ini(text):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    return parser


def test_ini_replaces_one_key_and_keeps_everything_else():
    merged = merge_ini(PIP_CONF, {"global": {"index-url": "https://devpi.example/root/pypi/+simple/"}})
    assert ini(merged)["global"]["index-url"] == "https://devpi.example/root/pypi/+simple/"
    assert merged.replace("https://devpi.example/root/pypi/+simple/", "https://old.example/simple/") == PIP_CONF


def test_ini_adds_keys_to_their_section_and_new_sections_at_the_end():
    merged = merge_ini(PIP_CONF, {"install": {"trusted-host": "devpi.example"}, "search": {"index": "x"}})
    parsed = ini(merged)
    assert parsed["install"]["trusted-host"] == "devpi.example"
    assert parsed["install"]["no-compile"] == "true"
    assert parsed["search"]["index"] == "x"
    assert merged.index("trusted-host") < merged.index("[search]")
    assert merged.startswith("# mine: keep me\n")


def test_ini_list_values_merge_with_the_items_already_there():
    pypirc = "[distutils]\nindex-servers =\n    pypi\n    other\n\n[pypi]\nusername = __token__\n"
    merged = merge_ini(pypirc, {"distutils": {"index-servers": ["other", "devpi-dev"]}})
    assert ini(merged)["distutils"]["index-servers"].split() == ["pypi", "other", "devpi-dev"]
    assert ini(merged)["pypi"]["username"] == "__token__"


def test_ini_booleans_and_a_key_written_differently_in_case():
    merged = merge_ini("[global]\nNo-Cache-Dir = false\n", {"global": {"no-cache-dir": True}})
    assert merged == "[global]\nno-cache-dir = true\n"


def test_ini_into_an_empty_file_and_idempotence():
    settings = {"global": {"index-url": "https://devpi.example/simple/", "trusted-host": ["a", "b"]}}
    once = merge_ini("", settings)
    assert merge_ini(once, settings) == once
    assert ini(once)["global"]["trusted-host"].split() == ["a", "b"]


UV_TOML = """\
# uv settings of mine
native-tls = false

[pip]
index-url = "https://old.example/simple/"

[[index]]
name = "mine"
url = "https://mine.example/simple/"
"""


def test_toml_top_level_key_goes_before_the_first_table():
    merged = merge_toml(UV_TOML, {"": {"index-url": "https://devpi.example/simple/", "system-certs": True}})
    parsed = tomllib.loads(merged)
    assert parsed["index-url"] == "https://devpi.example/simple/"
    assert parsed["system-certs"] is True
    assert parsed["pip"]["index-url"] == "https://old.example/simple/"
    assert parsed["index"] == [{"name": "mine", "url": "https://mine.example/simple/"}]
    assert merged.index("system-certs") < merged.index("[pip]")


def test_toml_replaces_in_a_table_and_adds_a_new_table():
    merged = merge_toml(UV_TOML, {"pip": {"index-url": "https://devpi.example/s/"}, "cache": {"dir": "/x", "n": 3}})
    parsed = tomllib.loads(merged)
    assert parsed["pip"]["index-url"] == "https://devpi.example/s/"
    assert parsed["cache"] == {"dir": "/x", "n": 3}
    assert merge_toml(merged, {"pip": {"index-url": "https://devpi.example/s/"}}) == merged


def test_toml_strings_are_escaped_and_lists_written():
    merged = merge_toml("", {"": {"note": 'a "quoted" \\ value', "hosts": ["a", "b"]}})
    assert tomllib.loads(merged) == {"note": 'a "quoted" \\ value', "hosts": ["a", "b"]}


def test_toml_refuses_to_rewrite_a_value_spread_over_lines():
    text = 'extra = [\n  "a",\n]\n'
    with pytest.raises(MergeError, match=r"uv\.toml: line 1 sets 'extra' over several lines"):
        merge_toml(text, {"": {"extra": ["b"]}}, path="uv.toml")


def test_toml_refuses_values_it_cannot_write():
    with pytest.raises(MergeError, match="cannot write a dict"):
        merge_toml("", {"": {"table": {"a": 1}}})
