"""Two real client machines configured by playbooks/client.yml against a real devpi behind Caddy (internal CA):
pip, uv, twine and devpi-client work as the user "dev" in a plain login shell - no index URL, no certificate
option, no credentials on the command line - and the settings the files held before survive.

devpi-client-user: per-user files in /home/dev (the CA through the user's bundle and ~/.profile);
devpi-client-system: /etc/pip.conf, /etc/uv/uv.toml, /etc/profile.d and the system trust store.
"""

from __future__ import annotations

import configparser
import os
import shlex
import tomllib
import uuid

import yaml

testinfra_hosts = ["podman://devpi-client-user", "podman://devpi-client-system"]
SITE = "https://devpi.client.test"
SIMPLE = f"{SITE}/root/pypi/+simple/"


def secrets():
    path = os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "secrets.yml")
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def as_dev(host, command):
    """Run `command` as dev in a login shell (what a person or a CI job gets); returns the result."""
    return host.run(f"runuser -l dev -c {shlex.quote(command)}")


def system(host):
    return host.backend.name == "devpi-client-system"


def read_ini(host, path):
    parser = configparser.RawConfigParser()
    parser.read_string(host.file(path).content_string)
    return parser


def test_pip_conf_has_the_index_and_keeps_its_own_settings(host):
    if system(host):
        parsed = read_ini(host, "/etc/pip.conf")
        assert parsed["global"]["disable-pip-version-check"] == "true"
        assert host.file("/etc/pip.conf").content_string.startswith("# the image's own\n")
        assert host.file("/etc/pip.conf").mode == 0o644
    else:
        parsed = read_ini(host, "/home/dev/.config/pip/pip.conf")
        assert parsed["global"]["timeout"] == "42"
        assert parsed["install"]["no-compile"] == "yes"
        assert host.file("/home/dev/.config/pip/pip.conf").user == "dev"
    assert parsed["global"]["index-url"] == SIMPLE
    assert parsed["global"]["cert"].endswith("ca-bundle.pem")
    assert "trusted-host" not in parsed["global"]  # HTTPS: nothing to trust blindly


def test_uv_toml_has_the_index_and_keeps_its_own_settings(host):
    path = "/etc/uv/uv.toml" if system(host) else "/home/dev/.config/uv/uv.toml"
    parsed = tomllib.loads(host.file(path).content_string)
    assert parsed["index-url"] == SIMPLE
    if system(host):
        assert parsed["system-certs"] is True
    else:
        assert parsed["concurrent-downloads"] == 3
        assert parsed["pip"] == {"compile-bytecode": False}


def test_pypirc_is_private_merged_and_holds_the_secret(host):
    pypirc = host.file("/home/dev/.pypirc")
    assert (pypirc.user, pypirc.mode) == ("dev", 0o600)
    parsed = read_ini(host, "/home/dev/.pypirc")
    assert parsed["distutils"]["index-servers"].split() == ["pypi", "devpi-dev"]
    assert parsed["pypi"]["username"] == "__token__"
    assert parsed["devpi-dev"]["repository"] == f"{SITE}/dev/dev/"
    assert parsed["devpi-dev"]["username"] == "dev"
    assert parsed["devpi-dev"]["password"] == secrets()["op://molecule/devpi-dev/password"]


def test_no_secret_outside_the_pypirc(host):
    password = secrets()["op://molecule/devpi-dev/password"]
    places = "/etc /home/dev /usr/local /opt /tmp"
    found = host.run(f"grep -rlF {shlex.quote(password)} {places} 2>/dev/null | grep -v '^/home/dev/.pypirc$'")
    assert found.stdout.strip() == ""


def test_pip_installs_through_devpi_with_no_flags(host):
    venv = f"/tmp/pip-{uuid.uuid4().hex[:6]}"
    done = as_dev(host, f"uv venv -q --seed {venv} && {venv}/bin/pip install -v --no-cache-dir six")
    assert done.rc == 0, done.stdout + done.stderr
    assert f"Looking in indexes: {SIMPLE}" in done.stdout
    assert as_dev(host, f"{venv}/bin/python -c 'import six'").rc == 0


def test_uv_pip_installs_through_devpi_with_no_flags(host):
    venv = f"/tmp/uv-{uuid.uuid4().hex[:6]}"
    done = as_dev(host, f"uv venv -q {venv} && VIRTUAL_ENV={venv} uv pip install -v --no-cache idna")
    assert done.rc == 0, done.stdout + done.stderr
    assert "devpi.client.test" in done.stderr
    assert as_dev(host, f"{venv}/bin/python -c 'import idna'").rc == 0


def test_twine_uploads_with_no_flags_and_pip_installs_it(host):
    name = f"clientpkg{uuid.uuid4().hex[:8]}"
    project = f"/tmp/{name}"
    build = as_dev(
        host,
        f"mkdir -p {project}/src/{name} && touch {project}/src/{name}/__init__.py && "
        f'printf \'[project]\\nname = "{name}"\\nversion = "1.0"\\n'
        f'[build-system]\\nrequires = ["hatchling"]\\nbuild-backend = "hatchling.build"\\n\' > {project}/pyproject.toml'
        f" && cd {project} && uv build -q && uv tool install -q twine",
    )
    assert build.rc == 0, build.stdout + build.stderr
    upload = as_dev(host, f"cd {project} && twine upload --non-interactive dist/*")
    assert upload.rc == 0, upload.stdout + upload.stderr
    assert f"{SITE}/dev/dev/" in upload.stdout + upload.stderr
    venv = f"/tmp/inst-{uuid.uuid4().hex[:6]}"
    install = as_dev(
        host,
        # --default-index: the environment's UV_DEFAULT_INDEX wins over the legacy --index-url
        f"uv venv -q {venv} && VIRTUAL_ENV={venv} uv pip install --no-cache --default-index {SITE}/dev/dev/+simple/"
        f" {name}",
    )
    assert install.rc == 0, install.stdout + install.stderr


def test_devpi_client_is_a_uv_tool_using_the_index(host):
    bin_dir = "/usr/local/bin" if system(host) else "/home/dev/.local/bin"
    assert host.file(f"{bin_dir}/devpi").exists
    assert host.file(f"{bin_dir}/uv").exists
    version = as_dev(host, "devpi --version")
    assert "devpi-client 7.3.0" in version.stdout + version.stderr
    use = as_dev(host, "devpi use")
    assert use.rc == 0, use.stdout + use.stderr
    assert f"current devpi index: {SITE}/root/pypi" in use.stdout


def test_environment_file_exports_the_index_and_twine_default(host):
    env = as_dev(host, "env")
    assert env.rc == 0
    exported = dict(line.split("=", 1) for line in env.stdout.splitlines() if "=" in line)
    assert exported["PIP_INDEX_URL"] == SIMPLE
    assert exported["UV_DEFAULT_INDEX"] == SIMPLE
    assert exported["TWINE_REPOSITORY"] == "devpi-dev"
    assert exported["SSL_CERT_FILE"].endswith("ca-bundle.pem")


def test_private_ca_trust(host):
    bundle = "/etc/devpi-client/ca-bundle.pem" if system(host) else "/home/dev/.config/devpi-client/ca-bundle.pem"
    assert host.file(bundle).exists
    # The bundle verifies the site; curl with it works.
    assert host.run(f"curl -fsS --cacert {bundle} -o /dev/null {SITE}/+api").rc == 0
    store = host.run(f"curl -fsS -o /dev/null {SITE}/+api")  # the system store only
    if system(host):
        assert store.rc == 0, store.stderr
    else:
        assert store.rc != 0  # per-user setup leaves the system store alone


def test_environment_file_is_hooked_where_login_shells_read_it(host):
    profile = host.file("/home/dev/.profile")
    hook = "# BEGIN hostnative.devpi.devpi_client"
    if system(host):
        env_file = host.file("/etc/profile.d/devpi-client.sh")
        assert (env_file.user, env_file.mode) == ("root", 0o644)
        assert hook not in profile.content_string
    else:
        env_file = host.file("/home/dev/.config/devpi-client/env.sh")
        assert (env_file.user, env_file.mode) == ("dev", 0o644)
        assert hook in profile.content_string
        assert profile.user == "dev"
