"""The file backend of the secret lookup in process: a value of the wrong type is refused by its type, never shown."""

from __future__ import annotations

import pytest
from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_common import SecretError, parse_reference
from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_static import FileBackend

REF = "op://vault/devpi/root password"


@pytest.mark.parametrize(
    ("value", "shown", "kind"),
    [
        ("271828182845", "271828182845", "int"),
        ("3.14159265", "3.14159265", "float"),
        ("[s3cr3t-a, s3cr3t-b]", "s3cr3t", "list"),
    ],
)
def test_a_value_that_is_not_a_string_is_named_by_its_type_only(tmp_path, value, shown, kind):
    path = tmp_path / "secrets.yml"
    path.write_text(f"'{REF}': {value}\n")
    path.chmod(0o600)
    with pytest.raises(SecretError) as error:
        FileBackend(str(path)).read(parse_reference(REF))
    assert f"the value is a {kind}, not a string" in str(error.value)
    assert shown not in str(error.value)


def test_a_string_value_comes_back_and_a_case_different_reference_finds_it(tmp_path):
    path = tmp_path / "secrets.yml"
    path.write_text(f"'{REF}': 'p4ss: word'\n")
    path.chmod(0o600)
    assert FileBackend(str(path)).read(parse_reference(REF.upper().replace("OP://", "op://"))) == "p4ss: word"
