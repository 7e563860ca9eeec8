"""The seed_plan filter: valid trees come back bases-first; each bad specification fails naming its item."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.filter.seed_plan import (
    seed_plan,
    seed_plan_error,
    seed_prune,
    seed_server_indexes,
)

TREES = yaml.safe_load((Path(__file__).parent / "fixtures" / "seed_trees.yml").read_text())
USERS = [{"name": "packages", "password": "packages-Pass-1"}]
STABLE = {"name": "packages/stable", "bases": ["root/pypi"], "volatile": False}


@pytest.mark.parametrize("tree", sorted(TREES))
def test_reference_trees_plan_bases_first(tree):
    spec = TREES[tree]
    assert [index["name"] for index in seed_plan(spec["indexes"], spec["users"])] == spec["order"]


def test_a_tree_on_an_existing_index_other_than_root_pypi():
    indexes = [{"name": "packages/dev", "bases": ["team/base"]}]
    assert seed_plan(indexes, USERS, ["root/pypi", "team/base"]) == indexes


BAD = [
    (
        [{"name": "packages/dev", "bases": ["packages/nope"]}],
        USERS,
        "devpi_seed_indexes[0] ('packages/dev'): base 'packages/nope' is neither in devpi_seed_indexes nor an existing",
    ),
    (
        [{"name": "packages/a", "bases": ["packages/b"]}, {"name": "packages/b", "bases": ["packages/a"]}],
        USERS,
        "devpi_seed_indexes: bases form a cycle: packages/a -> packages/b -> packages/a",
    ),
    ([{"name": "packages/a", "bases": ["packages/a"]}], USERS, "devpi_seed_indexes[0] ('packages/a'): is its own base"),
    (
        [STABLE, dict(STABLE)],
        USERS,
        "devpi_seed_indexes[1] ('packages/stable'): index 'packages/stable' is listed twice",
    ),
    (
        [],
        [*USERS, {"name": "packages", "password": "x-Pass"}],
        "devpi_seed_users[1] ('packages'): user 'packages' is listed twice",
    ),
    ([{"name": "packages/st able"}], USERS, "devpi_seed_indexes[0] ('packages/st able'): name must be user/index"),
    ([{"name": "stable"}], USERS, "devpi_seed_indexes[0] ('stable'): name must be user/index"),
    ([], [{"name": "-bad", "password": "x-Pass"}], "devpi_seed_users[0] ('-bad'): name must be letters"),
    ([{"name": "ghost/dev"}], USERS, "devpi_seed_indexes[0] ('ghost/dev'): owner 'ghost' is not in devpi_seed_users"),
    (
        [{"name": "packages/dev", "volatile": "yes"}],
        USERS,
        "devpi_seed_indexes[0] ('packages/dev'): volatile must be true or false, got 'yes'",
    ),
    (
        [{"name": "packages/dev", "bases": "root/pypi"}],
        USERS,
        "devpi_seed_indexes[0] ('packages/dev'): bases must be a list of strings",
    ),
    (
        [{"name": "packages/m", "type": "mirror"}],
        USERS,
        "devpi_seed_indexes[0] ('packages/m'): a mirror needs mirror_url",
    ),
    (
        [{"name": "packages/m", "type": "mirror", "mirror_url": "file:///srv/simple"}],
        USERS,
        "devpi_seed_indexes[0] ('packages/m'): mirror_url must be an http(s) URL, got 'file:///srv/simple'",
    ),
    (
        [{"name": "packages/m", "type": "mirror", "mirror_url": "https://"}],
        USERS,
        "devpi_seed_indexes[0] ('packages/m'): mirror_url must be an http(s) URL, got 'https://'",
    ),
    (
        [{"name": "packages/dev", "mirror_url": "https://pypi.org/simple/"}],
        USERS,
        "devpi_seed_indexes[0] ('packages/dev'): mirror_url: only for mirror indexes; this is a stage",
    ),
    (
        [{"name": "packages/dev", "type": "proxy"}],
        USERS,
        "devpi_seed_indexes[0] ('packages/dev'): type must be stage or mirror, got 'proxy'",
    ),
    (
        [{"name": "packages/dev", "volatil": True}],
        USERS,
        "devpi_seed_indexes[0] ('packages/dev'): unknown keys ['volatil']",
    ),
    (
        [],
        [{"name": "packages", "password": ""}],
        "devpi_seed_users[0] ('packages'): password must be a non-empty string",
    ),
    ([], [{"name": "packages"}], "devpi_seed_users[0] ('packages'): password must be a non-empty string"),
    (
        [],
        [{"name": "packages", "password": "x-Pass", "mail": "x"}],
        "devpi_seed_users[0] ('packages'): unknown keys ['mail']",
    ),
    (
        [],
        [{"name": "root", "password": "r-Pass-1"}],
        "devpi_seed_users[0] ('root'): root is not a seed user; its password is devpi_seed_root_password",
    ),
    (
        [],
        [{"name": "shared", "login": False, "password": "x-Pass-1"}],
        "devpi_seed_users[0] ('shared'): a user with login: false takes no password (nobody logs in as it)",
    ),
    ([], [{"name": "shared", "login": "no"}], "devpi_seed_users[0] ('shared'): login must be true or false, got 'no'"),
    ("packages/dev", USERS, "devpi_seed_indexes must be a list, got str"),
    ([], {"packages": {}}, "devpi_seed_users must be a list, got dict"),
    (["packages/dev"], USERS, "devpi_seed_indexes[0] must be a mapping, got str"),
]


@pytest.mark.parametrize(("indexes", "users", "expected"), BAD, ids=[f"bad-{i}" for i in range(len(BAD))])
def test_bad_specifications_name_the_item(indexes, users, expected):
    with pytest.raises(AnsibleFilterError) as info:
        seed_plan(indexes, users)
    message = str(info.value)
    assert message.startswith(expected), message
    for user in users if isinstance(users, list) else []:
        password = user.get("password") if isinstance(user, dict) else None
        if password:
            assert password not in message


SERVER = {
    "root": {"indexes": {"pypi": {"type": "mirror", "volatile": False}}},
    "packages": {
        "indexes": {
            "stable": {"bases": ["root/pypi"], "volatile": False},
            "staging": {"bases": ["packages/stable"], "volatile": True},
            "scratch": {"bases": ["packages/stable"], "volatile": True},
            "archive": {"bases": ["root/pypi"], "volatile": False},
        }
    },
    "olduser": {"indexes": {"tmp": {"bases": ["root/pypi"], "volatile": True}}},
    "nobody": {"indexes": {}},
    "keeper": {"indexes": {"release": {"volatile": False}, "wip": {"bases": ["keeper/release"], "volatile": True}}},
    "shared": {"indexes": {"base": {"volatile": True}}},
}
TREE_USERS = [{"name": "packages", "password": "p-Pass-1"}]
TREE_INDEXES = [
    {"name": "packages/stable", "volatile": False},
    {"name": "packages/staging", "bases": ["packages/stable", "shared/base"]},
]


def test_prune_deletes_only_volatile_leftovers_and_reports_the_rest():
    result = seed_prune(SERVER, TREE_USERS, TREE_INDEXES)
    assert result == {
        # scratch: volatile, not named; keeper/wip: volatile, but its owner stays (keeper/release is not volatile)
        "indexes": ["keeper/wip", "packages/scratch"],
        # olduser's only index is volatile; nobody has none. shared/base is a base of a named index: it stays.
        "users": ["nobody", "olduser"],
        "kept_indexes": ["keeper/release", "packages/archive", "shared/base"],
        "kept_users": ["keeper", "shared"],
    }


def test_prune_keeps_a_chain_of_bases_and_never_root():
    server = {
        "root": {"indexes": {"pypi": {"volatile": True}}},
        "a": {"indexes": {"one": {"volatile": True}, "two": {"bases": ["a/one"], "volatile": True}}},
    }
    kept = seed_prune(server, [], [{"name": "root/x", "bases": ["a/two"]}])
    assert kept == {"indexes": [], "users": [], "kept_indexes": ["a/one", "a/two"], "kept_users": ["a"]}
    assert seed_prune(server, [], [])["users"] == ["a"]


def test_prune_deletes_dependents_before_their_bases():
    server = {
        "t": {
            "indexes": {
                "a": {"volatile": True},
                "b": {"bases": ["t/a"], "volatile": True},
                "c": {"bases": ["t/b"], "volatile": True},
                "d": {"volatile": False},
            }
        }
    }
    assert seed_prune(server, [], [])["indexes"] == ["t/c", "t/b", "t/a"]


def test_seed_plan_error_returns_the_message_or_nothing():
    assert seed_plan_error([{"name": "packages/dev", "bases": ["root/pypi"]}], USERS) == ""
    assert seed_plan_error([{"name": "packages/dev", "bases": ["packages/nope"]}], USERS) == (
        "devpi_seed_indexes[0] ('packages/dev'): base 'packages/nope' is neither in devpi_seed_indexes nor an existing "
        "index"
    )


def test_server_indexes_names_every_index_of_the_listing_sorted():
    listing = {"t": {"indexes": {"b": {}, "a": None}}, "root": {"indexes": {"pypi": {"type": "mirror"}}}, "u": {}}
    assert seed_server_indexes(listing) == ["root/pypi", "t/a", "t/b"]
    assert seed_server_indexes({}) == []


@pytest.mark.parametrize("listing", [[], "root/pypi", {"t": {"indexes": ["a"]}}])
def test_server_indexes_refuses_what_is_not_a_listing(listing):
    with pytest.raises(AnsibleFilterError, match="server_indexes"):
        seed_server_indexes(listing)


def test_a_namespace_user_without_password_may_own_indexes():
    users = [{"name": "shared", "login": False, "title": "Team"}, {"name": "ci", "password": "c-Pass-1"}]
    indexes = [{"name": "shared/stable", "bases": ["root/pypi"], "acl_upload": ["ci"]}]
    assert [index["name"] for index in seed_plan(indexes, users)] == ["shared/stable"]
