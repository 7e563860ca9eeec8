"""roles/devpi_backup/files/hostnative-devpi-backup.py, imported and called in process: the online database copy
(sqlite's backup API on a real sqlite file, with a write in flight), what a snapshot carries, the state file of a
good and of a failed run, and that restic never sees the password on its command line. restic itself is replaced
by a recording function here (subprocess.run patched); the real restic runs in molecule/devpi_backup."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "roles/devpi_backup/files/hostnative-devpi-backup.py"
_spec = importlib.util.spec_from_file_location("hostnative_devpi_backup", SCRIPT)
backup = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(backup)
# The script's own subprocess module: its exception and result types (nothing is run here).
subprocess = backup.subprocess

SUMMARY = {
    "message_type": "summary",
    "files_new": 3,
    "files_changed": 2,
    "files_unmodified": 40,
    "data_added": 2099431,
    "total_bytes_processed": 5242880,
    "snapshot_id": "f" * 64,
}


def make_serverdir(tmp_path, serials=(0, 1, 2)):
    serverdir = tmp_path / "server"
    (serverdir / "+files/alice/dev/+f/abc").mkdir(parents=True)
    (serverdir / "+files/alice/dev/+f/abc/pkg-1.0.whl").write_bytes(b"wheel")
    db = sqlite3.connect(serverdir / ".sqlite")
    db.execute("CREATE TABLE changelog (serial INTEGER PRIMARY KEY, data BLOB NOT NULL)")
    db.executemany("INSERT INTO changelog VALUES (?, ?)", [(s, b"x") for s in serials])
    db.commit()
    db.close()
    (serverdir / ".nodeinfo").write_text('{"uuid": "4f26", "role": "primary"}')
    (serverdir / ".serverversion").write_text("4")
    (serverdir / ".indices").mkdir()
    (serverdir / "link").symlink_to("/etc/passwd")
    return serverdir


def config_for(tmp_path, serverdir, **extra):
    return {
        "serverdir": str(serverdir) if serverdir else "",
        "method": "snapshot",
        "restic": "/usr/bin/restic",
        "repository": str(tmp_path / "repo"),
        "password_file": str(tmp_path / "password"),
        "cache_dir": str(tmp_path / "cache"),
        "staging_dir": str(tmp_path / "staging"),
        "state_file": str(tmp_path / "last-backup.json"),
        "devpi_bin": "/opt/devpi/venv/bin",
        "host": "devpi-1",
        "check": True,
        "keep": {"last": 0, "daily": 7, "weekly": 4, "monthly": 0},
        **extra,
    }


class FakeRestic:
    """Records each call; `backup` answers with restic's JSON lines, a given subcommand can fail."""

    def __init__(self, fail_on=None):
        self.calls = []
        self.fail_on = fail_on
        self.staged = None

    def __call__(self, argv, **kwargs):
        self.calls.append((argv, kwargs.get("env", {})))
        command = argv[1]
        if command == self.fail_on:
            stderr = "Fatal: unable to open repository\nFatal: permission denied\n"
            raise subprocess.CalledProcessError(1, argv, stderr=stderr)
        stdout = ""
        if command == "backup":
            staging = next(a for a in argv if a.endswith("staging"))
            self.staged = json.loads((Path(staging) / backup.MANIFEST).read_text())
            status = {"message_type": "status", "percent_done": 0.5}
            stdout = json.dumps(status) + "\n" + json.dumps(SUMMARY) + "\n"
        return subprocess.CompletedProcess(argv, 0, stdout=stdout, stderr="")


def test_the_database_copy_holds_the_committed_serials_only(tmp_path):
    serverdir = make_serverdir(tmp_path)
    writer = sqlite3.connect(serverdir / ".sqlite", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO changelog VALUES (3, x'00')")  # in flight, not committed
    dest = tmp_path / "copy"
    dest.mkdir()
    try:
        serial = backup.snapshot_database(str(serverdir), str(dest))
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert serial == 2
    copy = sqlite3.connect(dest / ".sqlite")
    assert [row[0] for row in copy.execute("SELECT serial FROM changelog ORDER BY serial")] == [0, 1, 2]
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_an_empty_changelog_is_serial_minus_one(tmp_path):
    serverdir = make_serverdir(tmp_path, serials=())
    dest = tmp_path / "copy"
    dest.mkdir()
    assert backup.snapshot_database(str(serverdir), str(dest)) == -1


def test_a_snapshot_carries_the_small_files_but_no_journal_directory_or_link(tmp_path):
    serverdir = make_serverdir(tmp_path)
    (serverdir / ".sqlite-journal").write_text("a journal of a write in flight, never copied")
    dest = tmp_path / "copy"
    dest.mkdir()
    assert backup.copy_top_level_files(str(serverdir), str(dest)) == [".nodeinfo", ".serverversion"]
    assert (dest / ".nodeinfo").read_text() == '{"uuid": "4f26", "role": "primary"}'


def test_a_good_run_backs_up_the_copy_and_the_files_then_prunes_and_checks(tmp_path, monkeypatch):
    serverdir = make_serverdir(tmp_path)
    restic = FakeRestic()
    monkeypatch.setattr(backup.subprocess, "run", restic)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config_for(tmp_path, serverdir)))
    assert backup.main([str(path)]) == 0
    commands = [call[0][1] for call in restic.calls]
    assert commands == ["backup", "forget", "check"]
    backup_argv, env = restic.calls[0]
    assert backup_argv[-2:] == [str(tmp_path / "staging"), str(serverdir / "+files")]
    assert backup_argv[backup_argv.index("--tag") + 1] == "hostnative-devpi"
    assert backup_argv[backup_argv.index("--host") + 1] == "devpi-1"
    assert restic.calls[1][0][2:] == ["--tag", "hostnative-devpi", "--prune", "--keep-daily", "7", "--keep-weekly", "4"]
    # The password reaches restic only as a file name in its environment.
    assert env["RESTIC_PASSWORD_FILE"] == str(tmp_path / "password")
    assert env["RESTIC_REPOSITORY"] == str(tmp_path / "repo")
    assert "RESTIC_PASSWORD" not in env
    assert restic.staged["serial"] == 2
    assert restic.staged["server_files"] == [".nodeinfo", ".serverversion"]
    state = json.loads((tmp_path / "last-backup.json").read_text())
    assert state["status"] == "ok"
    assert state["snapshot_id"] == "f" * 64
    assert state["data_added_bytes"] == 2099431
    assert state["total_bytes"] == 5242880
    assert (state["files_new"], state["files_changed"], state["files_unmodified"]) == (3, 2, 40)
    assert state["last_success_timestamp"] == state["finished_timestamp"]
    assert (tmp_path / "last-backup.json").stat().st_mode & 0o777 == 0o640
    assert not (tmp_path / "staging").exists()  # the copy is gone once restic has it


def test_restic_in_the_environment_is_not_inherited(tmp_path, monkeypatch):
    monkeypatch.setenv("RESTIC_PASSWORD", "leaked")
    monkeypatch.setenv("RESTIC_REPOSITORY", "/elsewhere")
    env = backup.restic_env(config_for(tmp_path, tmp_path))
    assert "RESTIC_PASSWORD" not in env
    assert env["RESTIC_REPOSITORY"] == str(tmp_path / "repo")


def test_a_failed_run_is_recorded_keeps_the_last_success_and_exits_non_zero(tmp_path, monkeypatch, capsys):
    serverdir = make_serverdir(tmp_path)
    (tmp_path / "last-backup.json").write_text(json.dumps({"last_success_timestamp": 1764731825.5}))
    monkeypatch.setattr(backup.subprocess, "run", FakeRestic(fail_on="backup"))
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config_for(tmp_path, serverdir)))
    assert backup.main([str(path)]) == 1
    state = json.loads((tmp_path / "last-backup.json").read_text())
    assert state["status"] == "failed"
    assert state["exit_code"] == 1
    assert state["error"] == "restic backup exited 1: Fatal: permission denied"
    assert state["last_success_timestamp"] == 1764731825.5
    assert "devpi backup failed: restic backup exited 1" in capsys.readouterr().err


def test_the_export_method_runs_devpi_export_and_the_launchd_stop_and_start(tmp_path, monkeypatch):
    serverdir = make_serverdir(tmp_path)
    restic = FakeRestic()
    calls = []

    def run(argv, **kwargs):
        calls.append(argv)
        if argv[0] == "/usr/bin/restic":
            return restic(argv, **kwargs)
        if argv[0].endswith("devpi-export"):
            raise subprocess.CalledProcessError(1, argv, stderr="Fatal: server is running\n")
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(backup.subprocess, "run", run)
    config = config_for(
        tmp_path,
        serverdir,
        method="export",
        include_mirrored_files=True,
        stop=["launchctl", "bootout", "gui/501/org.devpi.server"],
        start=["launchctl", "bootstrap", "gui/501", "/Users/x/Library/LaunchAgents/org.devpi.server.plist"],
    )
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    assert backup.main([str(path)]) == 1
    assert calls[0][:2] == ["launchctl", "bootout"]
    assert calls[1] == [
        "/opt/devpi/venv/bin/devpi-export",
        "--serverdir",
        str(serverdir),
        "--include-mirrored-files",
        str(tmp_path / "staging/export"),
    ]
    assert calls[2][:2] == ["launchctl", "bootstrap"]  # started again although the export failed
    assert restic.calls == []
    assert json.loads((tmp_path / "last-backup.json").read_text())["error"] == (
        "devpi-export exited 1: Fatal: server is running"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [({"method": "copy"}, "method must be snapshot or export"), ({"state_file": ""}, "missing state_file")],
)
def test_a_bad_configuration_is_refused(tmp_path, change, message):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config_for(tmp_path, tmp_path, **change)))
    with pytest.raises(ValueError, match=message):
        backup.load_config(str(path))


def test_restic_output_without_a_summary_is_an_error():
    with pytest.raises(ValueError, match="no summary"):
        backup.parse_backup_summary('{"message_type": "status"}\nnot json\n')


def test_retention_arguments_leave_out_unused_periods():
    assert backup.forget_args({"last": 2, "daily": 0, "weekly": "0", "monthly": None}) == ["--keep-last", "2"]
    assert backup.forget_args({}) == []


def metrics_in(path):
    from prometheus_client.parser import text_string_to_metric_families  # noqa: PLC0415 - only these tests

    return {s.name: s.value for family in text_string_to_metric_families(path.read_text()) for s in family.samples}


def test_a_run_writes_its_result_as_metrics_for_devpi_to_serve(tmp_path, monkeypatch):
    serverdir = make_serverdir(tmp_path)
    monkeypatch.setattr(backup.subprocess, "run", FakeRestic())
    path = tmp_path / "config.json"
    textfile = tmp_path / "metrics" / "devpi_backup.prom"
    textfile.parent.mkdir()
    path.write_text(json.dumps(config_for(tmp_path, serverdir, metrics_textfile=str(textfile))))
    assert backup.main([str(path)]) == 0
    state = json.loads((tmp_path / "last-backup.json").read_text())
    assert metrics_in(textfile) == {
        "devpi_backup_last_run_timestamp_seconds": state["finished_timestamp"],
        "devpi_backup_last_run_success": 1,
        "devpi_backup_last_success_timestamp_seconds": state["finished_timestamp"],
        "devpi_backup_last_duration_seconds": state["duration_seconds"],
        "devpi_backup_last_size_bytes": 5242880,
        "devpi_backup_last_added_bytes": 2099431,
    }
    assert [p.name for p in textfile.parent.iterdir()] == ["devpi_backup.prom"]  # no temporary file left


def test_a_failed_run_says_so_in_the_metrics_and_keeps_the_last_success(tmp_path, monkeypatch):
    serverdir = make_serverdir(tmp_path)
    (tmp_path / "last-backup.json").write_text(json.dumps({"last_success_timestamp": 1764731825.5}))
    monkeypatch.setattr(backup.subprocess, "run", FakeRestic(fail_on="backup"))
    path = tmp_path / "config.json"
    textfile = tmp_path / "devpi_backup.prom"
    path.write_text(json.dumps(config_for(tmp_path, serverdir, metrics_textfile=str(textfile))))
    assert backup.main([str(path)]) == 1
    found = metrics_in(textfile)
    assert found["devpi_backup_last_run_success"] == 0
    assert found["devpi_backup_last_success_timestamp_seconds"] == 1764731825.5
    assert "devpi_backup_last_size_bytes" not in found
