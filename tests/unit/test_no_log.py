"""Static check: every task that hands a secret (a password, a token) to anything is no_log, unless the secret
goes only into module options the module itself declares no_log (Ansible then masks the value everywhere).

A task leaking a secret shows it in the run's output (-v shows module arguments, -vvv everything); the Molecule
security suite catches what reaches a real run, this catches a task before it runs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TASK_FILES = sorted(
    [*ROOT.glob("roles/*/tasks/*.yml"), *ROOT.glob("roles/*/handlers/*.yml"), *ROOT.glob("playbooks/*.yml")]
)
# A reference to a secret: the last part of a variable name is a password or token (not update_password, a policy).
SECRET_NAME = re.compile(r"(\w+_)?(passwords?|tokens?)")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# Names that match the pattern but hold no secret: devpi-tokens' on/off switch, and the
# token specifications of devpi_seed (names, users, scopes, the file a new token goes to - never a token).
NOT_SECRETS = {"devpi_server_tokens", "devpi_seed_tokens"}
NOT_ARGUMENTS = {"name", "when", "tags", "register", "loop_control", "changed_when", "failed_when", "until", "notify"}
INCLUDES = {"include_role", "import_role", "include_tasks", "import_tasks"}
BLOCK_KEYS = ("block", "rescue", "always")


def module_no_log_options():
    """{module: {option}} of this collection's modules declaring no_log (module source and shared specs)."""
    shared = (ROOT / "plugins/module_utils/_devpi_client.py").read_text()
    options = {}
    for path in (ROOT / "plugins/modules").glob("*.py"):
        text = path.read_text()
        if "CONNECTION_ARGS" in text:
            text += shared
        options[path.stem] = set(re.findall(r'"(\w+)": \{[^}]*"no_log": True', text))
    return options


NO_LOG = module_no_log_options()


def tasks(items, where):
    for item in items or []:
        if not isinstance(item, dict):
            continue
        if "tasks" in item or "pre_tasks" in item or "post_tasks" in item or "handlers" in item:  # a play
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield from tasks(item.get(key), where)
            continue
        if any(key in item for key in BLOCK_KEYS):
            for key in BLOCK_KEYS:
                yield from tasks(item.get(key), where)
            continue
        yield where, item


def mentions_secret(value, expression=False):
    """Whether a Jinja expression in the value (or the whole value, for a condition) names a secret variable."""
    text = yaml.safe_dump(value)
    for part in [text] if expression else JINJA.findall(text):
        for name in re.findall(r"[A-Za-z_][\w.]*", part):
            last = name.rsplit(".", 1)[-1]
            if SECRET_NAME.fullmatch(last) and "update_password" not in last and last not in NOT_SECRETS:
                return True
    return False


def secret_uses(task):
    """(module, option or None, text) for each argument of the task that mentions a secret."""
    module = next((key for key in task if key not in NOT_ARGUMENTS and "." in key), None)
    if module is None or module.rsplit(".", 1)[-1] in INCLUDES:
        return []
    uses = []
    args = task[module] if isinstance(task[module], dict) else {"_raw": task[module]}
    for option, value in args.items():
        if mentions_secret(value, expression=option == "that"):
            uses.append((module, option))
    for key in ("vars", "loop", "with_items", "environment"):
        if key in task and mentions_secret(task[key]):
            uses.append((module, None))
    return uses


def all_tasks():
    for path in TASK_FILES:
        yield from tasks(yaml.safe_load(path.read_text()), path.relative_to(ROOT).as_posix())


def test_the_check_sees_tasks_that_pass_secrets():
    passing = [task for _where, task in all_tasks() if secret_uses(task)]
    assert len(passing) >= 8, "the pattern no longer finds the tasks that pass root's and the users' passwords"


@pytest.mark.parametrize("text", ["devpi_server_root_password", "_devpi_seed_user.password", "x.tokens", "password"])
def test_the_pattern_matches_secrets(text):
    assert mentions_secret("{{ " + text + " }}")
    assert mentions_secret([text], expression=True)


@pytest.mark.parametrize(
    "text", ["devpi_seed_update_passwords", "_devpi_seed_user.update_password", "passwd_file", "devpi_server_tokens"]
)
def test_the_pattern_leaves_policies_alone(text):
    assert not mentions_secret("{{ " + text + " }}")
    assert not mentions_secret("devpi_server_root_password, outside an expression")


def test_every_task_passing_a_secret_is_no_log():
    leaking = []
    for where, task in all_tasks():
        if task.get("no_log") is True:
            continue
        for module, option in secret_uses(task):
            short = module.rsplit(".", 1)[-1]
            if module.startswith("hostnative.devpi.") and option in NO_LOG.get(short, set()):
                continue
            leaking.append(f"{where}: {task.get('name')!r} passes a secret in {option or 'vars/loop'} of {module}")
    assert leaking == []
