"""url_join: devpi's relative file links resolved against the simple page, in process."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.filter.url_join import url_join

PAGE = "https://pypi.example.org/root/pypi/+simple/idna/"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        (
            "../../+f/0a1/b2c/idna-3.10.whl#sha256=ab",
            "https://pypi.example.org/root/pypi/+f/0a1/b2c/idna-3.10.whl#sha256=ab",
        ),
        ("/root/pypi/+f/0a1/b2c/idna.whl", "https://pypi.example.org/root/pypi/+f/0a1/b2c/idna.whl"),
        ("idna-3.10.whl", "https://pypi.example.org/root/pypi/+simple/idna/idna-3.10.whl"),
        ("https://files.example.org/idna.whl", "https://files.example.org/idna.whl"),
    ],
)
def test_links_resolve_like_pip_does(reference, expected):
    assert url_join(PAGE, reference) == expected


def test_a_base_with_a_path_prefix_keeps_it():
    assert url_join("http://127.0.0.1:3141/devpi/root/pypi/+simple/x/", "../../+f/a/x.whl") == (
        "http://127.0.0.1:3141/devpi/root/pypi/+f/a/x.whl"
    )


@pytest.mark.parametrize(("base", "reference"), [(None, "x"), (PAGE, 3)])
def test_non_strings_are_an_error_naming_the_filter(base, reference):
    with pytest.raises(AnsibleFilterError, match="url_join"):
        url_join(base, reference)
