"""tests/harness/role_docs.py in process: Ansible doc markup through antsibull-docs-parser, strictly."""

from __future__ import annotations

import re

import pytest
from role_docs import code, plain


def test_markup_renders_as_markdown():
    text = "O(devpi_seed_users[].login=false), V(on_create), C(op://v/i/f), I(never), a | b"
    assert plain(text, "devpi_seed", "main") == (
        "<code>devpi\\_seed\\_users\\[\\]\\.login\\=false</code>\\, <code>on\\_create</code>\\, "
        "<code>op\\://v/i/f</code>\\, <em>never</em>\\, a \\| b"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("see M(hostnative.devpi.seed_plan#filter)", "is not a FQCN"),
        ("typically C(lookup('x', 'y'))", "ends at its first ')'"),
        ("C(unclosed", 'Cannot find closing ")"'),
    ],
)
def test_markup_the_parser_rejects_fails(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        plain(text, "devpi_seed", "main")


def test_a_default_is_code_escaped_for_a_table_cell():
    assert code("{{ x | default('a') }}") == "<code>\\{\\{ x \\| default\\(\\'a\\'\\) \\}\\}</code>"
