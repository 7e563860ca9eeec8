"""Table-driven tests of the venv helpers, on real directories."""

from __future__ import annotations

import pytest
from ansible_collections.hostnative.devpi.plugins.module_utils import _venv as venv_utils


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("devpi-server==6.20.3", ("devpi-server", "6.20.3")),
        ("Devpi_Web==5.1.1", ("devpi-web", "5.1.1")),
        ("devpi.lockdown == 1.0rc1", ("devpi-lockdown", "1.0rc1")),
        ("pkg==1.0+local.1", ("pkg", "1.0+local.1")),
        ("devpi-server>=6.20", None),
        ("devpi-server", None),
        ("devpi-server==", None),
        ("==1.0", None),
        ("devpi-server==6.20.3; python_version>'3'", None),
    ],
)
def test_parse_pin(spec, expected):
    assert venv_utils.parse_pin(spec) == expected


def _dist(venv, python, name, version):
    site = venv / "lib" / python / "site-packages"
    (site / f"{name}-{version}.dist-info").mkdir(parents=True)


def test_installed_distributions_reads_dist_info_names(tmp_path):
    _dist(tmp_path, "python3.11", "devpi_server", "6.20.3")
    _dist(tmp_path, "python3.11", "Devpi_Web", "5.1.1")
    (tmp_path / "lib" / "python3.11" / "site-packages" / "devpi_server").mkdir()  # a package dir, not metadata
    assert venv_utils.installed_distributions(str(tmp_path)) == {"devpi-server": "6.20.3", "devpi-web": "5.1.1"}


def test_installed_distributions_of_missing_venv_is_empty(tmp_path):
    assert venv_utils.installed_distributions(str(tmp_path / "nope")) == {}


def test_pins_missing_compares_normalized_names_and_exact_versions(tmp_path):
    _dist(tmp_path, "python3.13", "devpi_server", "6.20.3")
    _dist(tmp_path, "python3.13", "devpi_web", "5.1.0")
    pins = ["Devpi-Server==6.20.3", "devpi-web==5.1.1", "devpi-lockdown==1.0", "not-a-pin>=1"]
    assert venv_utils.pins_missing(str(tmp_path), pins) == ["devpi-web==5.1.1", "devpi-lockdown==1.0", "not-a-pin>=1"]


def test_uv_version_of_a_real_and_a_broken_executable(tmp_path):
    good = tmp_path / "uv"
    good.write_text("#!/bin/sh\necho 'uv 0.13.8 (x86_64-unknown-linux-gnu)'\n")
    good.chmod(0o755)
    bad = tmp_path / "uv-bad"
    bad.write_text("#!/bin/sh\necho 'not uv'\nexit 3\n")
    bad.chmod(0o755)
    assert venv_utils.uv_version(str(good)) == "0.13.8"
    assert venv_utils.uv_version(str(bad)) is None
    assert venv_utils.uv_version(str(tmp_path / "missing")) is None


@pytest.mark.parametrize("installed", ["1.0.1", "1.0.0.1", "1.00", "11.0", "1.0rc1"])
def test_a_pin_matches_its_exact_version_only(tmp_path, installed):
    """`pkg==1.0` is not satisfied by a version that merely starts with it (or that only compares equal as text)."""
    _dist(tmp_path, "python3.12", "pkg", installed)
    assert venv_utils.pins_missing(str(tmp_path), ["pkg==1.0"]) == ["pkg==1.0"]
    assert venv_utils.pins_missing(str(tmp_path), [f"pkg=={installed}"]) == []
