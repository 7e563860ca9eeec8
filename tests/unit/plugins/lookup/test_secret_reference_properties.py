"""Properties of the secret reference parser over generated references (hypothesis): every well-formed
op://vault/item/[section/]field[?query] comes back part for part; a blank part anywhere, a wrong number of parts or
any other text is refused with the one error that names the reference and the expected form, and nothing else
escapes."""

from __future__ import annotations

import pytest
from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_common import (
    REFERENCE_FORM,
    SecretError,
    SecretRef,
    parse_reference,
)
from hypothesis import given, settings
from hypothesis import strategies as st

# 1Password names: anything but '/', with something visible in them (spaces inside are fine).
NAMES = st.text(st.characters(blacklist_characters="/?", blacklist_categories=("Cs",)), min_size=1, max_size=12).filter(
    lambda name: name.strip()
)
BLANKS = st.sampled_from(["", " ", "  ", "\t"])


@settings(max_examples=300, deadline=None)
@given(st.lists(NAMES, min_size=3, max_size=4))
def test_well_formed_references_come_back_part_for_part(parts):
    text = "op://" + "/".join(parts)
    ref = parse_reference(text)
    assert isinstance(ref, SecretRef)
    assert ref.text == text
    assert (ref.vault, ref.item, ref.field) == (parts[0], parts[1], parts[-1])
    assert ref.section == (parts[2] if len(parts) == 4 else None)
    assert ref.query is None


QUERY_NAMES = st.from_regex(r"[a-z][a-z-]{0,8}", fullmatch=True)
QUERY_VALUES = st.from_regex(r"[A-Za-z0-9._-]{1,8}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.lists(NAMES, min_size=3, max_size=4), st.lists(st.tuples(QUERY_NAMES, QUERY_VALUES), min_size=1, max_size=3))
def test_a_query_suffix_is_kept_whole_and_apart_from_the_field(parts, pairs):
    query = "&".join(f"{name}={value}" for name, value in pairs)
    text = "op://" + "/".join(parts) + "?" + query
    ref = parse_reference(text)
    assert (ref.text, ref.field, ref.query) == (text, parts[-1], query)


@settings(max_examples=300, deadline=None)
@given(st.lists(NAMES, min_size=3, max_size=4), st.data())
def test_a_blank_part_anywhere_is_refused(parts, data):
    position = data.draw(st.integers(min_value=0, max_value=len(parts) - 1))
    parts[position] = data.draw(BLANKS)
    text = "op://" + "/".join(parts)
    with pytest.raises(SecretError) as error:
        parse_reference(text)
    assert str(error.value) == f"secret reference {text!r} is malformed: expected {REFERENCE_FORM}"


@settings(max_examples=200, deadline=None)
@given(st.lists(NAMES, min_size=0, max_size=7).filter(lambda parts: len(parts) not in (3, 4)))
def test_a_wrong_number_of_parts_is_refused(parts):
    with pytest.raises(SecretError, match="is malformed: expected op://"):
        parse_reference("op://" + "/".join(parts))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2)))
def test_any_input_parses_to_its_own_parts_or_raises_secret_error(value):
    try:
        ref = parse_reference(value)
    except SecretError as error:
        assert repr(value) in str(error)
        return
    parts = [ref.vault, ref.item, *([ref.section] if ref.section is not None else []), ref.field]
    assert value == "op://" + "/".join(parts)
