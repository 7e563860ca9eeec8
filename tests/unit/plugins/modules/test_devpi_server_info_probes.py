"""devpi_server_info's probes in process: files in a temporary directory, the service managers' answers from a
recording stand-in for systemctl/launchctl (the module's _run), devpi from the stand-in for its API
(tests/harness/devpi_api_stub.py). The module against a real devpi-server and systemd is in tests/integration and
the Molecule scenarios."""

from __future__ import annotations

import hashlib
import os

import pytest
from ansible_collections.hostnative.devpi.plugins.modules import devpi_server_info as info
from devpi_api_stub import Server, run_main

ROOT_PASSWORD = "root-Secret-Pass-5"  # a test value


def test_a_file_is_described_with_mode_owner_and_sha1(tmp_path):
    path = tmp_path / "devpi-server.yml"
    path.write_bytes(b"x" * 70000)  # more than one read block
    path.chmod(0o640)
    described = info.describe_path(str(path))
    assert described == {
        "exists": True,
        "type": "file",
        "mode": "0640",
        "owner": info._name_or_id(info.pwd.getpwuid, os.getuid()),
        "group": info._name_or_id(info.grp.getgrgid, os.getgid()),
        "checksum": hashlib.sha1(b"x" * 70000).hexdigest(),  # noqa: S324 - Ansible's checksum is sha1
    }


def test_directories_links_and_missing_paths(tmp_path):
    (tmp_path / "server").mkdir(mode=0o710)
    (tmp_path / "server").chmod(0o710)
    (tmp_path / "link").symlink_to(tmp_path / "server")
    assert info.describe_path(str(tmp_path / "server"))["type"] == "directory"
    assert info.describe_path(str(tmp_path / "server"))["mode"] == "0710"
    assert "checksum" not in info.describe_path(str(tmp_path / "server"))
    assert info.describe_path(str(tmp_path / "link"))["type"] == "link"  # lstat: the link itself
    assert info.describe_path(str(tmp_path / "missing")) == {"exists": False}


def test_an_unknown_id_is_reported_as_the_number():
    def lookup(_number):
        raise KeyError

    assert info._name_or_id(lookup, 4242) == "4242"


def test_users_and_groups():
    assert info.describe_user("root")["uid"] == 0
    assert info.describe_user("no-such-user-here") == {"exists": False}
    assert info.describe_user("") == {"exists": False}
    assert info.describe_group("root") == {"exists": True, "gid": 0}
    assert info.describe_group("no-such-group-here") == {"exists": False}


@pytest.fixture
def service_manager(monkeypatch):
    """Answers per argv prefix; records what was asked."""
    answers, asked = {}, []

    def run(argv):
        asked.append(argv)
        for prefix, answer in answers.items():
            if tuple(argv[: len(prefix)]) == prefix:
                return answer
        return 1, ""

    monkeypatch.setattr(info, "_run", run)
    return answers, asked


def test_systemd_active_enabled_and_restarts(service_manager):
    answers, asked = service_manager
    answers[("systemctl", "is-active")] = (0, "")
    answers[("systemctl", "is-enabled")] = (0, "")
    answers[("systemctl", "show")] = (0, f"NRestarts=2\nMainPID={os.getpid()}")
    described = info.describe_service("systemd", "devpi-server.service")
    assert (described["active"], described["enabled"], described["restarts"]) == (True, True, 2)
    # The main process and its resident memory (this test's own process stands in for devpi).
    assert described["pid"] == os.getpid()
    assert described["rss_bytes"] > 10 * 2**20
    assert asked[2] == ["systemctl", "show", "--property", "NRestarts,MainPID", "devpi-server.service"]


def test_systemd_inactive_disabled_unknown_restarts(service_manager):
    answers, _asked = service_manager
    answers[("systemctl", "show")] = (0, "NRestarts=[not set]\nMainPID=0")
    assert info.describe_service("systemd", "x.service") == {
        "active": False,
        "enabled": False,
        "restarts": None,
        "pid": None,
        "rss_bytes": None,
    }


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((0, f"gui/501/mcquack.eblume.devpi = {{\n\tstate = running\n\tpid = {os.getpid()}\n}}"), (True, True)),
        ((0, "gui/501/mcquack.eblume.devpi = {\n\tstate = waiting\n}"), (False, True)),
        ((113, "Could not find service"), (False, False)),
    ],
    ids=["running", "loaded-not-running", "not-loaded"],
)
def test_launchd_loaded_and_running(service_manager, answer, expected):
    answers, asked = service_manager
    answers[("launchctl", "print")] = answer
    described = info.describe_service("launchd", "gui/501/mcquack.eblume.devpi")
    assert (described["active"], described["enabled"], described["restarts"]) == (*expected, None)
    assert described["pid"] == (os.getpid() if expected[0] else None)
    assert (described["rss_bytes"] or 0) > 0 if expected[0] else described["rss_bytes"] is None
    assert asked == [["launchctl", "print", "gui/501/mcquack.eblume.devpi"]]


def test_no_service_asks_nothing(service_manager):
    _answers, asked = service_manager
    assert info.describe_service(None, "x") == {
        "active": False,
        "enabled": False,
        "restarts": None,
        "pid": None,
        "rss_bytes": None,
    }
    assert asked == []


def test_the_rendered_config_is_read_back_value_for_value(tmp_path):
    path = tmp_path / "devpi-server.yml"
    path.write_text(
        "# Ansible managed\n"
        "devpi-server:\n"
        '  host: "127.0.0.1"\n'
        '  port: "3141"\n'
        '  restrict-modify: "root, ops team"\n'
        '  outside-url: "https://pypi.example.org/\\"quoted\\""\n'
        "  not-a-json-line: unquoted\n"
        "other:\n"
        '  port: "9"\n'
    )
    assert info.read_config(str(path)) == {
        "host": "127.0.0.1",
        "port": "3141",
        "restrict-modify": "root, ops team",
        "outside-url": 'https://pypi.example.org/"quoted"',
    }
    assert info.read_config(str(tmp_path / "missing.yml")) == {}
    assert info.read_config(None) == {}


@pytest.fixture
def devpi(monkeypatch):
    """The stand-in devpi behind DevpiClient, and what port_open answers."""
    server = Server({"/root/pypi": {"type": "mirror"}}, passwords={"root": ROOT_PASSWORD})
    state = {"port_open": False}

    class Client:
        def __init__(self, url, timeout):
            self.url = url

        def request(self, method, path, **_kwargs):
            if state.get("down"):
                raise info.DevpiError("connection refused")
            return 200, {}

        def get(self, path):
            return server.get(path)

        def can_login(self, user, password):
            return server.can_login(user, password)

    monkeypatch.setattr(info, "DevpiClient", Client)
    monkeypatch.setattr(info, "port_open", lambda _url, _timeout: state["port_open"])
    return server, state


def test_a_running_server_is_read_and_roots_password_tried(devpi):
    described = info.describe_server("http://127.0.0.1:3141", 5, True, ROOT_PASSWORD, "3141")
    assert described == {
        "reachable": True,
        "root_pypi": {"type": "mirror"},
        "root_password_empty": False,
        "root_password_valid": True,
        "listener": "devpi",
    }
    assert info.describe_server("http://127.0.0.1:3141", 5, True, "wrong", "3141")["root_password_valid"] is False


def test_an_empty_root_password_is_noticed(devpi):
    server, _state = devpi
    server.passwords["root"] = ""
    assert info.describe_server("http://127.0.0.1:3141", 5, True, ROOT_PASSWORD)["root_password_empty"] is True


@pytest.mark.parametrize(
    ("case", "listener"),
    [
        ({"active": False, "port_open": True, "config_port": None}, "other"),  # stopped; another program holds it
        ({"active": False, "port_open": False, "config_port": None}, "none"),
        ({"active": True, "port_open": False, "config_port": "3141"}, "devpi"),  # starting up: our service and port
        ({"active": True, "port_open": True, "config_port": "3999"}, "other"),  # our service is on another port
    ],
)
def test_who_holds_the_port_while_devpi_does_not_answer(devpi, case, listener):
    _server, state = devpi
    state.update(down=True, port_open=case["port_open"])
    described = info.describe_server("http://127.0.0.1:3141", 5, case["active"], None, case["config_port"])
    assert (described["reachable"], described["listener"]) == (False, listener)


def test_no_url_probes_nothing(devpi):
    assert info.describe_server("", 5, True)["listener"] == "none"


class Connection:
    def __init__(self, refused):
        self.refused = refused

    def __call__(self, address, timeout):
        self.address, self.timeout = address, timeout
        if self.refused:
            raise ConnectionRefusedError(111, "Connection refused")
        return self

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False


@pytest.mark.parametrize(
    ("url", "refused", "address", "expected"),
    [
        ("http://127.0.0.1:3141/", False, ("127.0.0.1", 3141), True),
        ("http://localhost/+api", False, ("localhost", 80), True),
        ("http://127.0.0.1:3141", True, ("127.0.0.1", 3141), False),
    ],
)
def test_port_open_connects_to_the_urls_host_and_port(monkeypatch, url, refused, address, expected):
    connect = Connection(refused)
    monkeypatch.setattr(info.socket, "create_connection", connect)
    assert info.port_open(url, 2) is expected
    assert (connect.address, connect.timeout) == (address, 2)


def test_a_url_with_a_bad_port_is_not_open(monkeypatch):
    monkeypatch.setattr(info.socket, "create_connection", Connection(False))
    assert info.port_open("http://127.0.0.1:notaport", 2) is False


def test_uv_candidates_first_working_one_wins(tmp_path, monkeypatch):
    broken, good = tmp_path / "broken-uv", tmp_path / "uv"
    for path in (broken, good):
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    (tmp_path / "not-executable").write_text("")
    versions = {str(broken): None, str(good): "0.13.8"}
    monkeypatch.setattr(info, "uv_version", versions.get)
    candidates = [str(tmp_path / "missing"), str(tmp_path / "not-executable"), str(broken), str(good)]
    assert info.find_uv(candidates) == {"path": str(good), "version": "0.13.8"}
    assert info.find_uv(candidates[:3]) == {"path": None, "version": None}
    monkeypatch.setenv("PATH", str(tmp_path))
    assert info.find_uv(["uv"]) == {"path": str(good), "version": "0.13.8"}


def test_main_reports_every_probe_in_one_result(tmp_path, monkeypatch, capsys, service_manager, devpi):
    """main() as Ansible calls it: the options reach each probe, and the result holds all of them."""
    answers, _asked = service_manager
    answers[("systemctl", "is-active")] = (0, "")
    answers[("systemctl", "is-enabled")] = (0, "")
    answers[("systemctl", "show")] = (0, "NRestarts=0\nMainPID=0")
    site = tmp_path / "venv/lib/python3.11/site-packages"
    for dist in ("devpi_server-6.20.3.dist-info", "devpi_web-5.1.1.dist-info"):
        (site / dist).mkdir(parents=True)
    config = tmp_path / "devpi-server.yml"
    config.write_text('devpi-server:\n  port: "3141"\n')
    (tmp_path / ".nodeinfo").write_text('{"role": "primary", "uuid": "4f26"}')
    monkeypatch.setattr(info, "uv_version", lambda _path: "0.13.8")
    uv = tmp_path / "uv"
    uv.write_text("")
    uv.chmod(0o755)
    args = {
        "paths": [str(config)],
        "venv": str(tmp_path / "venv"),
        "pins": ["devpi-server==6.20.3", "devpi-web==5.1.2"],
        "uv_candidates": [str(uv)],
        "user": "root",
        "group": "root",
        "service_manager": "systemd",
        "service": "devpi-server.service",
        "config_file": str(config),
        "server_url": "http://127.0.0.1:3141",
        "root_password": ROOT_PASSWORD,
        "nodeinfo": str(tmp_path / ".nodeinfo"),
        "_ansible_check_mode": True,
    }
    result = run_main(info, capsys, args, secrets=[ROOT_PASSWORD])
    assert result["rc"] == 0
    assert result["changed"] is False
    assert set(result["paths"]) == {str(config)}
    assert result["paths"][str(config)]["type"] == "file"
    assert result["packages"] == {"devpi-server": "6.20.3", "devpi-web": "5.1.1"}
    assert result["pins_missing"] == ["devpi-web==5.1.2"]
    assert result["uv"] == {"path": str(uv), "version": "0.13.8"}
    assert (result["user"]["uid"], result["group"]["gid"]) == (0, 0)
    assert result["service"] == {"active": True, "enabled": True, "restarts": 0, "pid": None, "rss_bytes": None}
    assert result["config"] == {"port": "3141"}
    assert result["nodeinfo"] == {"role": "primary", "uuid": "4f26"}
    assert result["server"] == {
        "reachable": True,
        "root_pypi": {"type": "mirror"},
        "root_password_empty": False,
        "root_password_valid": True,
        "listener": "devpi",
    }


def test_main_without_a_venv_reports_every_pin_missing(capsys, devpi):
    result = run_main(info, capsys, {"pins": ["devpi-server==6.20.3"], "server_timeout": 3})
    assert (result["packages"], result["pins_missing"]) == ({}, ["devpi-server==6.20.3"])
    assert result["service"] == {"active": False, "enabled": False, "restarts": None, "pid": None, "rss_bytes": None}
    assert result["server"]["listener"] == "none"
    assert (result["user"], result["group"], result["config"]) == ({"exists": False}, {"exists": False}, {})
    assert result["nodeinfo"] == {}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"role": "primary", "uuid": "4f26"}', {"role": "primary", "uuid": "4f26"}),
        ('{"role": "master", "uuid": "4f26"}', {"role": "primary", "uuid": "4f26"}),
        ('{"role": "standalone", "uuid": "9a"}', {"role": "standalone", "uuid": "9a"}),
        (  # what devpi-init writes for a replica, and what it adds at the first sync
            '{"role": "replica", "masterurl": "http://p:3141", "uuid": "16"}',
            {"role": "replica", "uuid": "16", "primary_url": "http://p:3141", "primary_uuid": None},
        ),
        (
            '{"role": "replica", "masterurl": "http://p:3141", "uuid": "16", "primary-uuid": "4f26"}',
            {"role": "replica", "uuid": "16", "primary_url": "http://p:3141", "primary_uuid": "4f26"},
        ),
        (
            '{"role": "replica", "primary-url": "http://q", "uuid": "16"}',
            {"role": "replica", "uuid": "16", "primary_url": "http://q", "primary_uuid": None},
        ),
        ("not json", {}),
        ('["role"]', {}),
        ('{"uuid": "16"}', {}),
    ],
)
def test_nodeinfo_is_read_as_role_uuid_and_primary(tmp_path, content, expected):
    path = tmp_path / ".nodeinfo"
    path.write_text(content)
    assert info.read_nodeinfo(str(path)) == expected


def test_no_nodeinfo_reads_empty(tmp_path):
    assert info.read_nodeinfo(str(tmp_path / "missing")) == {}
    assert info.read_nodeinfo(None) == {}


def test_disk_of_a_path_and_of_none(tmp_path):
    disk = info.describe_disk(str(tmp_path))
    assert 0 < disk["free_bytes"] <= disk["size_bytes"]
    assert info.describe_disk(str(tmp_path / "missing")) == {}
    assert info.describe_disk(None) == {}


def test_rss_of_no_process_is_unknown(monkeypatch):
    monkeypatch.setattr(info, "_run", lambda _argv: (1, ""))
    assert info.rss_bytes(None) is None
    assert info.rss_bytes(2**22 + 12345) is None  # no such pid: neither /proc nor ps know it
