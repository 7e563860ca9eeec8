"""The devpi_seed role run for real (ansible-playbook) against REAL devpi-servers.

Bad input: bad seed specifications and secret references fail preflight, naming the item, and the server is
unchanged afterwards. Each case runs the real role (NOT in check mode) against the session devpi-server, the
secrets through the lookup's `file` backend (a YAML map of reference -> value, mode 0600). The failing task must be
a preflight task, no tree task may have started, devpi's listing of every user and index must be the same before
and after, and no secret value may appear in the output (one case also at -vvv).

Absent and prune: a devpi-server of its own, where the tree grows, shrinks and is pruned.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import (
    ROOT_PASSWORD,
    ansible_playbook,
    api,
    assert_failed_in_preflight,
    role_playbook,
    start_devpi_with_mirror,
    stop_devpi,
)

MARKER = "Seed-User-Secret-5830"
EMPTY_MARKER = "op://unit/empty/password"
PREFLIGHT_TASKS = re.compile(
    r"^(Validating arguments against arg spec|Check .*|Resolve .*|Say which secret could not be resolved"
    r"|Read every user and index on the server|Validate the tree and order the indexes bases first"
    r"|Try root's login .*)"
)
ROOT_REF = "op://unit/devpi/root password"
USER_REF = "op://unit/seedbad/password"


def secret(ref):
    return "{{ lookup('hostnative.devpi.secret', '" + ref + "') }}"


TOKEN_FILE = "/nonexistent/ci.token"  # never written: the cases fail in preflight
GOOD_USERS = [{"name": "seedbad", "password": secret(USER_REF), "email": "seedbad@example.org"}]
GOOD_INDEXES = [
    {"name": "seedbad/dev", "bases": ["seedbad/stable"], "volatile": True},
    {"name": "seedbad/stable", "bases": ["root/pypi"], "volatile": False},
]


@pytest.fixture(scope="module")
def run_seed(tmp_path_factory, devpi_url):
    base = tmp_path_factory.mktemp("seed-preflight")
    playbook = role_playbook(base, "devpi_seed", gather_facts=False)
    secrets = base / "secrets.yml"
    secrets.write_text(
        yaml.safe_dump({ROOT_REF: ROOT_PASSWORD, USER_REF: MARKER, EMPTY_MARKER: "", "op://unit/x/y": "z"})
    )
    secrets.chmod(0o600)
    good = {
        "devpi_seed_url": devpi_url,
        "devpi_seed_root_password": secret(ROOT_REF),
        "devpi_seed_users": GOOD_USERS,
        "devpi_seed_indexes": GOOD_INDEXES,
    }

    def run(overrides, verbosity=0, check=False):
        vars_file = base / "vars.yml"
        vars_file.write_text(yaml.safe_dump({**good, **overrides}))
        env = {"DEVPI_SECRET_BACKEND": "file", "DEVPI_SECRET_FILE": str(secrets)}
        return ansible_playbook(playbook, vars_file, check=check, verbosity=verbosity, env=env)

    return run


def listing(url):
    response = api(url + "/")
    assert response[0] == 200
    return json.dumps(response[1], sort_keys=True)


def index(name, **keys):
    return {"name": name, **keys}


CASES = [
    (
        {"devpi_seed_indexes": [index("seedbad/dev", bases=["seedbad/nope"])]},
        "devpi_seed_indexes[0] ('seedbad/dev'): base 'seedbad/nope' is neither in devpi_seed_indexes",
    ),
    (
        {"devpi_seed_indexes": [index("seedbad/a", bases=["seedbad/b"]), index("seedbad/b", bases=["seedbad/a"])]},
        "bases form a cycle: seedbad/a -> seedbad/b -> seedbad/a",
    ),
    (
        {"devpi_seed_indexes": [index("seedbad/dev"), index("seedbad/dev")]},
        "devpi_seed_indexes[1] ('seedbad/dev'): index 'seedbad/dev' is listed twice",
    ),
    ({"devpi_seed_users": GOOD_USERS * 2}, "devpi_seed_users[1] ('seedbad'): user 'seedbad' is listed twice"),
    (
        {"devpi_seed_users": [{**GOOD_USERS[0], "name": "bad user!"}], "devpi_seed_indexes": []},
        "devpi_seed_users[0] ('bad user!'): name must be letters, digits",
    ),
    (
        {"devpi_seed_indexes": [index("seedbad/dev/x")]},
        "devpi_seed_indexes[0] ('seedbad/dev/x'): name must be user/index",
    ),
    ({"devpi_seed_indexes": [index("ghost/dev")]}, "devpi_seed_indexes[0] ('ghost/dev'): owner 'ghost' is not in"),
    (
        {"devpi_seed_indexes": [index("seedbad/mirror", type="mirror")]},
        "devpi_seed_indexes[0] ('seedbad/mirror'): a mirror needs mirror_url",
    ),
    (
        {"devpi_seed_indexes": [index("seedbad/dev", mirror_url="https://pypi.org/simple/")]},
        "devpi_seed_indexes[0] ('seedbad/dev'): mirror_url: only for mirror indexes",
    ),
    (
        {"devpi_seed_indexes": [index("seedbad/mirror", type="mirror", mirror_url="ftp://mirror.example/simple/")]},
        "devpi_seed_indexes[0] ('seedbad/mirror'): mirror_url must be an http(s) URL, got 'ftp://mirror.example/simple/'",
    ),
    (
        {"devpi_seed_indexes": [index("seedbad/dev", bases="root/pypi")]},
        "devpi_seed_indexes[0] ('seedbad/dev'): bases must be a list of strings",
    ),
    ({"devpi_seed_indexes": [index("seedbad/dev", volatile="sometimes")]}, "volatile"),
    ({"devpi_seed_indexes": [index("seedbad/dev", type="proxy")]}, "proxy"),
    ({"devpi_seed_indexes": "seedbad/dev"}, "devpi_seed_indexes"),
    (
        {"devpi_seed_users": [{"name": "seedbad"}]},
        "devpi_seed_users[0] ('seedbad'): password must be a non-empty string",
    ),
    (
        {"devpi_seed_users": [{"name": "root", "password": secret(USER_REF)}], "devpi_seed_indexes": []},
        "devpi_seed_users[0] ('root'): root is not a seed user",
    ),
    ({"devpi_seed_root_password": secret("op://unit-only-vault")}, "op://unit-only-vault"),
    ({"devpi_seed_root_password": secret("op://unit/devpi/no such field")}, "op://unit/devpi/no such field"),
    ({"devpi_seed_users": [{"name": "seedbad", "password": secret(EMPTY_MARKER)}]}, EMPTY_MARKER),
    ({"devpi_seed_root_password": ""}, "devpi_seed_root_password is empty"),
    ({"devpi_seed_url": "ftp://127.0.0.1:3141"}, "devpi_seed_url=ftp://127.0.0.1:3141 must be http(s)"),
    # tokens: a scope naming an index that is not in the tree, a user nobody has, a duration that is none
    (
        {"devpi_seed_tokens": [{"name": "ci", "user": "seedbad", "indexes": ["seedbad/prod"], "dest": TOKEN_FILE}]},
        "devpi_seed_tokens[0] (ci): indexes ['seedbad/prod'] are not in the tree (devpi_seed_indexes)",
    ),
    (
        {"devpi_seed_tokens": [{"name": "ci", "user": "ghost", "dest": TOKEN_FILE}]},
        "devpi_seed_tokens[0] (ci): user 'ghost' is neither in devpi_seed_users nor on the server",
    ),
    (
        {"devpi_seed_tokens": [{"name": "ci", "user": "seedbad", "expires": "forever", "dest": TOKEN_FILE}]},
        "devpi_seed_tokens[0] (ci): expires='forever' is not a duration",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), CASES, ids=[f"bad-{i}" for i in range(len(CASES))])
def test_bad_input_fails_in_preflight_and_changes_nothing(run_seed, devpi_url, overrides, expected):
    before = listing(devpi_url)
    rc, output = run_seed(overrides)
    tasks = assert_failed_in_preflight(rc, output, expected, PREFLIGHT_TASKS)
    assert all(PREFLIGHT_TASKS.match(task) for task in tasks), tasks
    assert MARKER not in output
    assert ROOT_PASSWORD not in output
    assert listing(devpi_url) == before


def test_a_bad_tree_is_reported_first_in_its_own_words(run_seed):
    """The failure's message is the planner's: it starts with the index and what is wrong, no Ansible wrapping."""
    rc, output = run_seed({"devpi_seed_indexes": [index("seedbad/dev", bases=["seedbad/nope"])]})
    assert rc != 0
    fatal = " ".join(output.split("fatal:", 1)[1].split())
    assert "\"msg\": \"devpi_seed_indexes[0] ('seedbad/dev'): base 'seedbad/nope' is neither" in fatal, fatal
    assert "filter plugin" not in fatal


def test_the_good_tree_passes_preflight_in_check_mode(run_seed, devpi_url):
    """Positive control: the same base variables pass and would create the user and both indexes (bases first)."""
    before = listing(devpi_url)
    rc, output = run_seed({}, check=True)
    assert rc == 0, output
    assert "changed: [localhost] => (item=seedbad)" in output
    stable = output.index("(item=seedbad/stable)")
    assert stable < output.index("(item=seedbad/dev)")
    assert MARKER not in output
    assert listing(devpi_url) == before


def test_no_secret_at_vvv_when_a_reference_is_wrong(run_seed):
    rc, output = run_seed({"devpi_seed_indexes": [index("seedbad/dev", bases=["seedbad/nope"])]}, verbosity=3)
    assert rc != 0
    assert "base 'seedbad/nope'" in output
    assert MARKER not in output
    assert ROOT_PASSWORD not in output


@pytest.fixture(scope="module")
def fresh_devpi(tmp_path_factory):
    """A devpi-server of its own: pruning deletes what the tree does not name, so not the shared session server."""
    url, proc = start_devpi_with_mirror(tmp_path_factory.mktemp("seed-prune") / "server")
    yield url
    stop_devpi(proc)


def indexes_of(url, user):
    response = api(f"{url}/{user}")
    return response[1]["result"]["indexes"] if response[0] == 200 else None


def test_absent_and_prune_delete_only_what_may_go(run_seed, fresh_devpi):
    users = [*GOOD_USERS, {"name": "olduser", "password": secret(USER_REF)}]
    tree = [
        *GOOD_INDEXES,
        index("seedbad/archive", volatile=False),
        index("seedbad/tmp", bases=["seedbad/dev"], volatile=True),
        index("seedbad/gone", volatile=True),
        index("olduser/scratch", volatile=True),
    ]
    rc, output = run_seed(
        {"devpi_seed_url": fresh_devpi, "devpi_seed_users": users, "devpi_seed_indexes": tree}, verbosity=3
    )
    assert rc == 0, output
    assert MARKER not in output  # a full run that creates users, at -vvv
    assert ROOT_PASSWORD not in output
    assert sorted(indexes_of(fresh_devpi, "seedbad")) == ["archive", "dev", "gone", "stable", "tmp"]
    assert indexes_of(fresh_devpi, "seedbad")["dev"]["bases"] == ["seedbad/stable"]

    rc, output = run_seed({"devpi_seed_url": fresh_devpi, "devpi_seed_users": users, "devpi_seed_indexes": tree})
    assert rc == 0, output
    assert re.search(r"localhost\s*: ok=\d+\s+changed=0 ", output), output

    # The tree shrinks: gone is marked absent; archive, tmp, olduser are simply no longer named.
    shrunk = [*GOOD_INDEXES, index("seedbad/gone", state="absent")]
    rc, output = run_seed(
        {"devpi_seed_url": fresh_devpi, "devpi_seed_indexes": shrunk, "devpi_seed_prune": True}, verbosity=1
    )
    assert rc == 0, output
    # archive is not volatile: reported, never deleted. tmp (volatile) and olduser (only volatile indexes) go.
    assert sorted(indexes_of(fresh_devpi, "seedbad")) == ["archive", "dev", "stable"]
    assert indexes_of(fresh_devpi, "olduser") is None
    assert "Not in the tree but kept: indexes ['seedbad/archive'], users []" in " ".join(output.split())
    assert MARKER not in output

    # Without prune nothing the tree does not name is touched, and what it no longer names is said.
    rc, output = run_seed({"devpi_seed_url": fresh_devpi, "devpi_seed_indexes": GOOD_INDEXES[1:]})
    assert rc == 0, output
    assert sorted(indexes_of(fresh_devpi, "seedbad")) == ["archive", "dev", "stable"]
    folded = " ".join(output.split())
    assert "kept because devpi_seed_prune is off: indexes ['seedbad/archive', 'seedbad/dev'], users []" in folded


def test_absent_refuses_a_non_volatile_index(run_seed, fresh_devpi):
    """Sets up its own state (the non-volatile index), so it passes alone and in any order."""
    rc, output = run_seed(
        {"devpi_seed_url": fresh_devpi, "devpi_seed_indexes": [*GOOD_INDEXES, index("seedbad/archive", volatile=False)]}
    )
    assert rc == 0, output
    assert "archive" in indexes_of(fresh_devpi, "seedbad")
    rc, output = run_seed(
        {"devpi_seed_url": fresh_devpi, "devpi_seed_indexes": [*GOOD_INDEXES, index("seedbad/archive", state="absent")]}
    )
    assert rc != 0
    assert "seedbad/archive" in output
    assert "volatile" in output
    assert "archive" in indexes_of(fresh_devpi, "seedbad")
