"""Shared fixtures for the integration tests (real devpi-server, ansible-playbook, Caddy, mise, subprocesses).

The collection is made importable as ``ansible_collections.hostnative.devpi`` through a symlink in a temporary
collections tree, so the tests import and run exactly the files Ansible ships.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from http import HTTPStatus
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
# Test doubles shared with the Molecule scenarios (fake_connect) live in tests/harness.
sys.path.insert(0, str(REPO / "tests" / "harness"))

import collection_finder  # noqa: E402 - from tests/harness, on the path just above

# Importable from the start, so test modules can import the collection's code at their top and plugin loaders
# find it too.
_ROOT = collection_finder.install()


@pytest.fixture(scope="session")
def collections_root():
    return _ROOT


@pytest.fixture
def run_module(collections_root, tmp_path):
    """Run a module of this collection as Ansible does on a host: a Python process reading its args file."""

    def run(name, args, env=None, check_mode=False):
        payload = dict(args)
        if check_mode:
            payload["_ansible_check_mode"] = True
        args_file = tmp_path / f"{name}-args.json"
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": payload}))
        environ = {**os.environ, "PYTHONPATH": str(collections_root), **(env or {})}
        done = subprocess.run(  # noqa: S603 - the interpreter running the tests, a module of this repo
            [sys.executable, "-m", f"ansible_collections.hostnative.devpi.plugins.modules.{name}", str(args_file)],
            capture_output=True,
            text=True,
            env=environ,
            timeout=300,
            check=False,
        )
        try:
            result = json.loads(done.stdout)
        except ValueError as exc:
            raise AssertionError(f"{name} printed no JSON: rc={done.returncode} {done.stdout} {done.stderr}") from exc
        result.setdefault("rc_process", done.returncode)
        return result

    return run


# ---- a real devpi-server ---------------------------------------------------------------------------------------------

BIN = Path(sys.executable).parent
ROOT_PASSWORD = "unit-Root-Pass-3141"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api(url, method="GET", body=None, auth=None):
    """(status, parsed JSON) of one devpi API call."""
    headers = {"Accept": "application/json"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if auth:
        headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 - loopback URL
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback URL built here
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, None


def start_devpi(serverdir, root_password=None, extra_args=()):
    """devpi-init (without root/pypi, like the role) and devpi-server on an ephemeral loopback port.

    Returns (url, process). Cheap argon2 settings keep the start fast; extra_args go to devpi-server.
    """
    env = {**os.environ, "DEVPISERVER_SERVERDIR": str(serverdir)}
    init = [BIN / "devpi-init", "--no-root-pypi"]
    if root_password:
        init += ["--root-passwd", root_password]  # a throwaway test password; the role never does this
    subprocess.run(init, env=env, check=True, capture_output=True)  # noqa: S603 - the venv's own devpi-init
    port = free_port()
    log = open(serverdir.parent / f"{serverdir.name}.log", "wb")  # noqa: SIM115 - the process owns it
    argon = ["--argon2-memory-cost", "8192", "--argon2-time-cost", "1", "--argon2-parallelism", "1"]
    proc = subprocess.Popen(  # noqa: S603 - the venv's own devpi-server
        [BIN / "devpi-server", "--host", "127.0.0.1", "--port", str(port), *argon, *extra_args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if api(url + "/+api")[0] == 200:
                return url, proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("devpi-server did not start: " + (serverdir.parent / f"{serverdir.name}.log").read_text())


def stop_devpi(proc):
    proc.terminate()
    proc.wait(timeout=30)


def start_devpi_with_mirror(serverdir):
    """start_devpi with root's password ROOT_PASSWORD and root/pypi as a mirror that never fetches the project list."""
    url, proc = start_devpi(serverdir, ROOT_PASSWORD)
    body = {"type": "mirror", "mirror_url": "https://pypi.org/simple/", "mirror_no_project_list": True}
    assert api(url + "/root/pypi", "PUT", body, auth=("root", ROOT_PASSWORD))[0] in (200, 201)
    return url, proc


@pytest.fixture(scope="session")
def devpi_url(tmp_path_factory):
    """The devpi-server the module tests share (start_devpi_with_mirror)."""
    url, proc = start_devpi_with_mirror(tmp_path_factory.mktemp("devpi") / "server")
    yield url
    stop_devpi(proc)


def ansible_playbook(playbook, vars_file, *, check=False, verbosity=0, env=None):
    """Run ansible-playbook on localhost (local connection, this interpreter) with the collection; (rc, output).
    An inventory of its own goes in `env` as ANSIBLE_INVENTORY (still with the local connection)."""
    argv = [
        BIN / "ansible-playbook",
        "-i",
        (env or {}).get("ANSIBLE_INVENTORY", "localhost,"),
        "-c",
        "local",
        "-e",
        f"ansible_python_interpreter={sys.executable}",
        "-e",
        f"@{vars_file}",
        str(playbook),
    ]
    argv += ["--check"] if check else []
    argv += ["-" + "v" * verbosity] if verbosity else []
    environ = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(_ROOT),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        **(env or {}),
    }
    done = subprocess.run(argv, capture_output=True, text=True, env=environ, check=False)  # noqa: S603 - the venv's ansible-playbook
    return done.returncode, done.stdout + done.stderr


def server_in(base, root_password, service_name):
    """devpi_server variables that keep a run on localhost inside the directory `base`."""
    return {
        "devpi_server_root_password": root_password,
        "devpi_server_base_dir": str(base / "state"),
        "devpi_server_venv_dir": str(base / "venv"),
        "devpi_server_config_dir": str(base / "etc"),
        "devpi_server_service_name": service_name,
    }


def playbook_on_localhost(tmp_path, playbook, host_vars, extra):
    """Run a collection playbook with localhost (local connection) as the only host of devpi_servers, its host
    variables `host_vars` and the extra variables `extra`; (rc, output)."""
    inventory = tmp_path / "inventory.yml"
    host = {"ansible_connection": "local", **host_vars}
    inventory.write_text(yaml.safe_dump({"devpi_servers": {"hosts": {"localhost": host}}}))
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text(yaml.safe_dump(extra))
    return ansible_playbook(playbook, vars_file, env={"ANSIBLE_INVENTORY": str(inventory)})


# ---- role runs and Caddy ---------------------------------------------------------------------------------------------

_TASK_RE = re.compile(r"^TASK \[(?:hostnative\.devpi\.\w+ : )?(.+?)\] \*+$", re.MULTILINE)
# Debian's caddy, unpacked by `make unit` (CADDY), or one on PATH.
CADDY = os.environ.get("CADDY") or shutil.which("caddy") or "caddy (not found: run `make unit` or set CADDY)"


def tasks_until_failure(output):
    """The names of the tasks a playbook run started before its first failure, in order (the last one failed)."""
    return _TASK_RE.findall(output.split("fatal:", 1)[0])


def role_playbook(directory, role, *, gather_facts=True):
    """A playbook in `directory` that applies one role of this collection to every host; returns its path."""
    facts = "gather_facts: true\n  gather_subset: [min]" if gather_facts else "gather_facts: false"
    playbook = directory / "play.yml"
    playbook.write_text(f"- hosts: all\n  {facts}\n  roles:\n    - hostnative.devpi.{role}\n")
    return playbook


def role_runner(base, role, good):
    """A function that runs one role of this collection on localhost in check mode with the variables `good`
    updated by its `overrides` (each combination in a vars file of its own under `base`); (rc, output)."""
    playbook = role_playbook(base, role)

    def run(overrides, verbosity=0):
        variables = {**good, **overrides}
        vars_file = base / f"vars-{abs(hash(repr(sorted(variables.items(), key=str))))}.yml"
        vars_file.write_text(yaml.safe_dump(variables))
        return ansible_playbook(playbook, vars_file, check=True, verbosity=verbosity)

    return run


def batched(tmp_path_factory, role, good_vars, cases, *, secret=None):
    """role_batch over a test module's (overrides, expected) `cases`, in a directory of their own; `good_vars(base)`
    gives the variables every case starts from."""
    base = tmp_path_factory.mktemp(f"{role}-bad")
    return role_batch(base, role, good_vars(base), [case[0] for case in cases], secret=secret)


_HOST_LINE = re.compile(r"^(ok|changed|skipping|fatal|failed|included): \[case-\d+\]")


def role_batch(base, role, good, cases, *, secret=None):
    """Run one role of this collection in check mode ONCE for many cases: one inventory host per case (all on
    localhost, local connection), each with the variables `good` updated by its overrides as host variables.

    Returns, per case, what a run of its own would have given the assertions below: (rc, output), the output being
    the case's own lines of each task it started, in order, up to its failure, and the failure's message. Cases
    whose variables must override the role's own set_fact, or that depend on the host's name, need role_runner
    (extra variables, localhost) instead. `secret`: a value that must not show anywhere in the whole run's output.
    """
    playbook = role_playbook(base, role)
    hosts = {f"case-{index}": {**good, **overrides} for index, overrides in enumerate(cases)}
    inventory = base / "batch-inventory.yml"
    local = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {h: {**local, **v} for h, v in hosts.items()}}}))
    empty = base / "batch-vars.yml"
    empty.write_text("{}\n")
    _rc, output = ansible_playbook(
        playbook, empty, check=True, env={"ANSIBLE_INVENTORY": str(inventory), "ANSIBLE_FORKS": "6"}
    )
    assert secret is None or secret not in output, "the secret shows in the output of the run"
    blocks = [block for block in re.split(r"(?m)^(?=TASK \[|PLAY RECAP)", output) if block.startswith("TASK [")]
    results = []
    for host in hosts:
        tag, lines, failed = f"[{host}]", [], None
        for block in blocks:
            header, *body = block.splitlines()
            mine = []
            for index, line in enumerate(body):
                if tag not in line:
                    continue
                if line.startswith(("fatal: ", "failed: ")):
                    # Ansible's own report of this failure ([ERROR]: ... Origin ...) comes right before it: the lines
                    # since the last line about any host (it holds the message when the result is censored).
                    start = index
                    while start > 0 and not _HOST_LINE.match(body[start - 1]):
                        start -= 1
                    mine += body[start:index]
                mine.append(line)
            if not mine:
                continue
            lines += [header, *mine]
            # A failed task ("fatal: [h]: FAILED! => {...}"), or failed loop items ("failed: [h] (item=...) => {...}").
            failures = [line for line in mine if line.startswith((f"fatal: {tag}", f"failed: {tag}"))]
            if failures:
                failed = " ".join(str(json.loads(line.split(" => ", 1)[1]).get("msg", "")) for line in failures)
                break
        results.append((0, "\n".join(lines)) if failed is None else (2, "\n".join([*lines, f"fatal: {tag}: {failed}"])))
    return results


def assert_failed_in_preflight(rc, output, expected, preflight):
    """The run failed in a task whose name matches the regex `preflight` and said `expected` (whitespace folded).

    Returns the names of the tasks that ran, for further checks."""
    assert rc != 0, output
    tasks = tasks_until_failure(output)
    assert tasks and preflight.match(tasks[-1]), f"failed in {tasks[-1:]!r}, not in preflight\n{output}"
    assert expected in " ".join(output.split()), output
    return tasks


def case_ids(cases):
    """pytest ids for (overrides, expected) cases: the first variable's name and the case's index."""
    return [next(iter(case[0])) + "-" + str(index) for index, case in enumerate(cases)]


def assert_only_preflight_ran(rc, output, expected, preflight, secret):
    """The run failed in preflight saying `expected`, no task but preflight ones (and fact gathering) ran, and the
    `secret` never showed."""
    tasks = assert_failed_in_preflight(rc, output, expected, preflight)
    assert all(preflight.match(t) or t == "Gathering Facts" for t in tasks), tasks
    assert secret not in output


def caddy_adapt(tmp_path, text, *, validate=True):
    """The real Caddy on a Caddyfile text: `caddy validate` (unless told not to), then `caddy adapt` -> JSON config."""
    path = tmp_path / "devpi.caddy"
    path.write_text(text)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    for command in ("validate", "adapt") if validate else ("adapt",):
        done = subprocess.run(  # noqa: S603 - the pinned caddy
            [CADDY, command, "--adapter", "caddyfile", "--config", str(path)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# ---- devpi-tokens ----------------------------------------------------------------------------------------------------


def upload_allowed(url, user, secret, index):
    """devpi's own answer to an upload with the token (a distutils file upload of a small sdist, as twine sends it):
    True when devpi stores it, False when it refuses it (403)."""
    version = f"1.{uuid.uuid4().int % 10**9}"
    boundary = uuid.uuid4().hex
    fields = {":action": "file_upload", "name": "tokened", "version": version, "protocol_version": "1"}
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    )
    body += (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="tokened-{version}.tar.gz"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"not really a tarball\r\n"
        + f"--{boundary}--\r\n".encode()
    )
    credentials = base64.b64encode(f"{user}:{secret}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - the test's own loopback devpi
        f"{url}/{index}/",
        data=body,
        method="POST",
        headers={"Authorization": f"Basic {credentials}", "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30):  # noqa: S310 - the test's own loopback devpi
            return True
    except urllib.error.HTTPError as exc:
        if exc.code == HTTPStatus.FORBIDDEN:
            return False
        raise AssertionError(f"upload answered {exc.code}: {exc.read()[:300]!r}") from exc
