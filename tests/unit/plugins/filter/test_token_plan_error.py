"""token_plan_error: every wrong devpi_seed_tokens entry is named with what is wrong; a good list passes."""

from __future__ import annotations

import pytest
from ansible_collections.hostnative.devpi.plugins.filter.token_plan_error import token_plan_error

USERS = ["alice", "root"]
INDEXES = ["alice/dev", "root/pypi"]
GOOD = {"name": "ci", "user": "alice", "indexes": ["alice/dev"], "dest": "/secure/ci.token"}


def test_good_tokens_pass():
    assert token_plan_error([GOOD, {"name": "old", "user": "alice", "state": "absent"}], USERS, INDEXES) == ""
    in_1password = {"name": "op", "user": "alice", "store": "onepassword", "vault": "CI", "item": "devpi token"}
    assert token_plan_error([in_1password], USERS, INDEXES) == ""
    assert token_plan_error([], USERS, INDEXES) == ""


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ({**GOOD, "name": "a b"}, "devpi_seed_tokens[0]: each token is a mapping with a name"),
        ({**GOOD, "user": "bob"}, "(ci): user 'bob' is neither in devpi_seed_users nor on the server"),
        ({**GOOD, "indexes": ["alice/prod"]}, "(ci): indexes ['alice/prod'] are not in the tree"),
        ({**GOOD, "indexes": "alice/dev"}, "(ci): indexes must be a list of names"),
        ({**GOOD, "allowed": [""]}, "(ci): allowed must be a list of names"),
        ({**GOOD, "expires": "90"}, "(ci): expires='90' is not a duration"),
        ({**GOOD, "expires": "1d", "renew_before": "2d"}, "(ci): renew_before must be shorter than expires"),
        ({**GOOD, "state": "gone"}, "(ci): state='gone' must be present or absent"),
        ({**GOOD, "store": "print"}, "(ci): store='print' must be file (dest on the controller) or onepassword"),
        ({**GOOD, "store": "onepassword", "vault": "CI"}, "(ci): store=onepassword needs vault"),
        ({**GOOD, "dest": "ci.token"}, "(ci): dest must be the absolute path"),
        ({**GOOD, "scope": ["x"]}, "(ci): unknown keys ['scope']"),
    ],
)
def test_each_mistake_is_named(token, expected):
    assert expected in token_plan_error([token], USERS, INDEXES)


def test_a_name_used_twice_is_refused():
    assert "devpi_seed_tokens[1] (ci): the name is used by an earlier token" in token_plan_error(
        [GOOD, GOOD], USERS, INDEXES
    )


def test_not_a_list_is_refused():
    assert token_plan_error({"name": "ci"}, USERS, INDEXES) == "devpi_seed_tokens must be a list of mappings, got dict"
