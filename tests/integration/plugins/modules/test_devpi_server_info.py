"""devpi_server_info: files, users, uv, service state and what a REAL devpi-server says.

devpi-server is started by a fixture on an ephemeral loopback port. The service manager is the only stand-in:
a ``launchctl`` script on PATH that answers ``print`` the way macOS's does (launchd cannot run here).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import socket

import pytest
import strictyaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template
from conftest import REPO, api, free_port, start_devpi, stop_devpi


def render_config(options):
    """roles/devpi_server/templates/devpi-server.yml.j2 rendered by Ansible's own templar."""
    variables = {
        "ansible_managed": "Ansible managed",
        "_devpi_server_secret_file": "/var/lib/devpi/secret",
        "_devpi_server_options": options,
    }
    text = (REPO / "roles/devpi_server/templates/devpi-server.yml.j2").read_text()
    return Templar(loader=DataLoader(), variables=variables).template(trust_as_template(text))


@pytest.fixture(scope="module")
def devpi(tmp_path_factory):
    """A fresh devpi-server initialised WITHOUT a root password and WITHOUT root/pypi (as the role's init does)."""
    url, proc = start_devpi(tmp_path_factory.mktemp("devpi-info") / "server")
    yield url
    stop_devpi(proc)


@pytest.fixture
def launchctl(tmp_path):
    """Directory with a stand-in launchctl: `print <target>` answers like a loaded, running job, rc 113 otherwise."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    script = bindir / "launchctl"
    script.write_text(
        "#!/bin/sh\n"
        '[ "$1" = print ] || exit 64\n'
        'case "$2" in\n'
        "  gui/501/org.example.running) "
        f'printf "%s = {{\\n\\tstate = running\\n\\tpid = {os.getpid()}\\n}}\\n" "$2" ;;\n'
        '  gui/501/org.example.stopped) printf "%s = {\\n\\tstate = not running\\n}\\n" "$2" ;;\n'
        '  *) echo "Could not find service" >&2; exit 113 ;;\n'
        "esac\n"
    )
    script.chmod(0o755)
    return {"PATH": f"{bindir}:{os.environ['PATH']}"}


def test_describes_files_and_directories(run_module, tmp_path):
    config = tmp_path / "devpi-server.yml"
    config.write_text("devpi-server:\n  serverdir: '/srv/devpi'\n")
    config.chmod(0o640)
    result = run_module("devpi_server_info", {"paths": [str(config), str(tmp_path), str(tmp_path / "missing")]})
    owner = pwd.getpwuid(os.getuid()).pw_name
    assert result["changed"] is False
    assert result["paths"][str(config)] == {
        "exists": True,
        "type": "file",
        "mode": "0640",
        "owner": owner,
        "group": result["paths"][str(config)]["group"],
        "checksum": hashlib.sha1(config.read_bytes()).hexdigest(),  # noqa: S324 - the checksum Ansible uses
    }
    assert result["paths"][str(tmp_path)]["type"] == "directory"
    assert result["paths"][str(tmp_path / "missing")] == {"exists": False}


def test_reads_the_config_the_role_writes(run_module, tmp_path):
    """The role's own template, rendered as Ansible renders it, with values that a line parser would get wrong; devpi's
    own parser (strictyaml) reads the same values."""
    options = {
        "serverdir": "/srv/devpi data/server",
        "port": 3141,
        "outside-url": 'https://it\'s.example/a: b "q" \\ x',
        "extra": "x # not a comment",
        "title": "caf\u00e9",
    }
    config = tmp_path / "devpi-server.yml"
    config.write_text(render_config(options))
    expected = {key: str(value) for key, value in options.items()}
    assert strictyaml.load(config.read_text()).data["devpi-server"] == expected  # what devpi reads
    result = run_module("devpi_server_info", {"config_file": str(config)})
    assert result["config"] == expected
    assert run_module("devpi_server_info", {"config_file": str(tmp_path / "none.yml")})["config"] == {}


@pytest.mark.parametrize(
    "text", ["devpi-server:\n  serverdir: /srv\n", "[1, 2]\n", 'other:\n  serverdir: "/x"\n', "devpi-server: {}\n"]
)
def test_a_config_in_another_form_reads_as_empty(run_module, tmp_path, text):
    config = tmp_path / "devpi-server.yml"
    config.write_text(text)
    assert run_module("devpi_server_info", {"config_file": str(config)})["config"] == {}


def test_users_groups_and_uv(run_module, tmp_path):
    fake_uv = tmp_path / "bin" / "uv"
    fake_uv.parent.mkdir()
    fake_uv.write_text("#!/bin/sh\necho 'uv 0.13.8'\n")
    fake_uv.chmod(0o755)
    me = pwd.getpwuid(os.getuid())
    result = run_module(
        "devpi_server_info",
        {"user": me.pw_name, "group": "no-such-group-x", "uv_candidates": [str(tmp_path / "nope"), "uv"]},
        env={"PATH": f"{fake_uv.parent}:/usr/bin:/bin"},
    )
    assert result["user"] == {"exists": True, "uid": me.pw_uid, "gid": me.pw_gid, "home": me.pw_dir}
    assert result["group"] == {"exists": False}
    assert result["uv"] == {"path": str(fake_uv), "version": "0.13.8"}
    none = run_module("devpi_server_info", {"uv_candidates": [str(tmp_path / "nope")], "user": "no-such-user-x"})
    assert none["uv"] == {"path": None, "version": None}
    assert none["user"] == {"exists": False}


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("gui/501/org.example.running", {"active": True, "enabled": True, "restarts": None, "pid": "this test"}),
        ("gui/501/org.example.stopped", {"active": False, "enabled": True, "restarts": None, "pid": None}),
        ("gui/501/org.example.absent", {"active": False, "enabled": False, "restarts": None, "pid": None}),
    ],
)
def test_launchd_service_state(run_module, launchctl, target, expected):
    result = run_module("devpi_server_info", {"service_manager": "launchd", "service": target}, env=launchctl)
    service = result.pop("service")
    rss = service.pop("rss_bytes")
    if expected["pid"] == "this test":  # the stand-in names the test's own process as the job's
        expected = {**expected, "pid": os.getpid()}
        assert rss > 10 * 2**20
    else:
        assert rss is None
    assert service == expected


@pytest.mark.parametrize(("nrestarts", "expected"), [("0", 0), ("3", 3), ("", None)])
def test_systemd_service_state_counts_automatic_restarts(run_module, tmp_path, nrestarts, expected):
    """A stand-in systemctl: active, enabled, and NRestarts as given (empty: systemd says nothing)."""
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    script = bindir / "systemctl"
    script.write_text(
        f'#!/bin/sh\ncase "$1" in\n  is-active|is-enabled) exit 0 ;;\n'
        '  show) [ "$*" = "show --property NRestarts,MainPID devpi.service" ] && '
        f'printf "NRestarts={nrestarts}\\nMainPID=0\\n" ;;\n'
        f"  *) exit 64 ;;\nesac\n"
    )
    script.chmod(0o755)
    env = {"PATH": f"{bindir}:{os.environ['PATH']}"}
    result = run_module("devpi_server_info", {"service_manager": "systemd", "service": "devpi.service"}, env=env)
    assert result["service"] == {"active": True, "enabled": True, "restarts": expected, "pid": None, "rss_bytes": None}


def test_server_is_only_asked_when_the_service_is_active(run_module, devpi, launchctl):
    result = run_module(
        "devpi_server_info",
        {"service_manager": "launchd", "service": "gui/501/org.example.stopped", "server_url": devpi},
        env=launchctl,
    )
    # Not asked, but the port is held: by a program that is not this service, as far as the probe can tell.
    assert result["server"] == {
        "reachable": False,
        "root_pypi": None,
        "root_password_empty": False,
        "root_password_valid": None,
        "listener": "other",
    }


def test_reports_empty_root_password_and_root_pypi_of_a_real_server(run_module, devpi, launchctl):
    probe = {"service_manager": "launchd", "service": "gui/501/org.example.running", "server_url": devpi}
    fresh = run_module("devpi_server_info", probe, env=launchctl)["server"]
    assert fresh == {
        "reachable": True,
        "root_pypi": None,
        "root_password_empty": True,
        "root_password_valid": None,
        "listener": "devpi",
    }

    assert api(devpi + "/root", "PATCH", {"password": "s3cret-root"}, auth=("root", ""))[0] == 200
    body = {"type": "mirror", "mirror_url": "https://pypi.org/simple/", "mirror_no_project_list": True}
    assert api(devpi + "/root/pypi", "PUT", body, auth=("root", "s3cret-root"))[0] in (200, 201)

    after = run_module("devpi_server_info", probe, env=launchctl)["server"]
    assert after["reachable"] is True
    assert after["root_password_empty"] is False
    assert after["root_pypi"]["type"] == "mirror"
    assert after["root_pypi"]["mirror_no_project_list"] is True
    assert after["root_password_valid"] is None

    right = run_module("devpi_server_info", {**probe, "root_password": "s3cret-root"}, env=launchctl)
    wrong = run_module("devpi_server_info", {**probe, "root_password": "not-it"}, env=launchctl)
    assert right["server"]["root_password_valid"] is True
    assert wrong["server"]["root_password_valid"] is False
    assert "s3cret-root" not in str(right)


def test_unreachable_server(run_module, launchctl):
    probe = {
        "service_manager": "launchd",
        "service": "gui/501/org.example.running",
        "server_url": f"http://127.0.0.1:{free_port()}",
        "server_timeout": 2,
    }
    server = run_module("devpi_server_info", probe, env=launchctl)["server"]
    assert (server["reachable"], server["listener"]) == (False, "none")


@pytest.fixture
def other_program():
    """A TCP listener on a loopback port that is not devpi (it accepts and says nothing)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("service", ["gui/501/org.example.running", "gui/501/org.example.stopped"])
def test_a_port_held_by_another_program(run_module, launchctl, tmp_path, other_program, service):
    """Whether or not devpi's service runs (on its configured port 3141), the new port is someone else's."""
    config = tmp_path / "devpi-server.yml"
    config.write_text(render_config({"port": 3141}))
    probe = {
        "service_manager": "launchd",
        "service": service,
        "config_file": str(config),
        "server_url": f"http://127.0.0.1:{other_program}",
        "server_timeout": 2,
    }
    server = run_module("devpi_server_info", probe, env=launchctl)["server"]
    assert (server["reachable"], server["listener"]) == (False, "other")


def test_an_active_service_on_its_configured_port_holds_it_even_when_it_does_not_answer(
    run_module, launchctl, tmp_path, other_program
):
    config = tmp_path / "devpi-server.yml"
    config.write_text(render_config({"port": other_program}))
    probe = {
        "service_manager": "launchd",
        "service": "gui/501/org.example.running",
        "config_file": str(config),
        "server_url": f"http://127.0.0.1:{other_program}",
        "server_timeout": 2,
    }
    server = run_module("devpi_server_info", probe, env=launchctl)["server"]
    assert (server["reachable"], server["listener"]) == (False, "devpi")


def test_pins_the_venv_does_not_satisfy(run_module, tmp_path):
    """Names compared PEP 503-normalized, versions exactly (1.0 is not 1.0.1, nor the other way round)."""
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    for dist in ("Foo_Bar-1.0.dist-info", "devpi_server-6.20.3.dist-info", "baz-2.0.1.dist-info"):
        (site / dist).mkdir(parents=True)
    pins = ["foo.bar==1.0", "Devpi-Server==6.20.3", "baz==2.0", "qux==1.0", "foo-bar==1.0.1"]
    result = run_module("devpi_server_info", {"venv": str(tmp_path / "venv"), "pins": pins})
    assert result["pins_missing"] == ["baz==2.0", "qux==1.0", "foo-bar==1.0.1"]
    nothing = run_module("devpi_server_info", {"venv": str(tmp_path / "none"), "pins": pins})
    assert nothing["pins_missing"] == pins
