"""One backup of a devpi-server into a restic repository (hostnative.devpi, role devpi_backup).

Run by the backup unit (systemd timer / launchd job) and by playbooks/backup.yml through that same unit, as the
devpi account, with the devpi venv's Python: ``python hostnative-devpi-backup.py CONFIG.json``. No secret ever
reaches it on the command line or through the environment Ansible sets: restic reads its password from the 0600
file the config names.

Methods (docs/how-to/backup.md):
- ``snapshot``: devpi keeps serving. sqlite's online backup API copies the database as of one committed serial into
  the staging directory; restic then reads that copy and the content-addressed release files from the server
  directory. devpi writes a file before it commits the serial that names it and never changes a file once written,
  so every file the copy names is on disk when restic reads it (files newer than the copy are extra, harmless).
- ``export``: ``devpi-export`` of a stopped server (the unit stops and starts devpi around this script; a replica
  taken out of the front is the usual place), portable across devpi versions and database formats.

Each run writes its result (JSON) to the state file, also when it fails, and exits non-zero on failure. With
``metrics_textfile`` in the config it also writes the result as Prometheus metrics (prometheus_client, which the
devpi venv has for devpi_server's metrics plugin) to that file, which devpi serves at /+metrics.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

MANIFEST = "hostnative-devpi-backup.json"
DB_FILENAME = ".sqlite"
# Top-level files of a server directory that a snapshot carries besides the database (the database's own
# journal is never copied: the backup API's copy is complete).
SKIP_TOP_LEVEL = {DB_FILENAME, DB_FILENAME + "-journal", DB_FILENAME + "-wal", DB_FILENAME + "-shm"}
FILES_DIR = "+files"


def load_config(path):
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    missing = [key for key in ("serverdir", "method", "restic", "staging_dir", "state_file") if not config.get(key)]
    if missing:
        raise ValueError(f"{path}: missing {', '.join(missing)}")
    if config["method"] not in ("snapshot", "export"):
        raise ValueError(f"{path}: method must be snapshot or export, not {config['method']!r}")
    return config


def restic_env(config):
    """restic's environment: repository, password file and cache, never the password itself."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("RESTIC_")}
    env["RESTIC_REPOSITORY"] = config["repository"]
    env["RESTIC_PASSWORD_FILE"] = config["password_file"]
    if config.get("cache_dir"):
        env["RESTIC_CACHE_DIR"] = config["cache_dir"]
    return env


def fresh_dir(path):
    if os.path.lexists(path):
        shutil.rmtree(path)
    os.makedirs(path, mode=0o700)


def snapshot_database(serverdir, dest_dir):
    """Copy devpi's sqlite database with sqlite's online backup API; return the serial the copy holds."""
    source = sqlite3.connect(f"file:{os.path.join(serverdir, DB_FILENAME)}?mode=ro", uri=True)
    target = sqlite3.connect(os.path.join(dest_dir, DB_FILENAME))
    try:
        with target:
            source.backup(target)
        row = target.execute("SELECT MAX(serial) FROM changelog").fetchone()
    finally:
        target.close()
        source.close()
    return -1 if row is None or row[0] is None else int(row[0])


def copy_top_level_files(serverdir, dest_dir):
    """The server directory's small files (.nodeinfo, .serverversion, markers), not its directories."""
    copied = []
    for name in sorted(os.listdir(serverdir)):
        source = os.path.join(serverdir, name)
        if name in SKIP_TOP_LEVEL or not os.path.isfile(source) or os.path.islink(source):
            continue
        shutil.copy2(source, os.path.join(dest_dir, name))
        copied.append(name)
    return copied


def prepare_snapshot(config, staging):
    server_copy = os.path.join(staging, "server")
    os.makedirs(server_copy, mode=0o700)
    serial = snapshot_database(config["serverdir"], server_copy)
    copied = copy_top_level_files(config["serverdir"], server_copy)
    paths = [staging]
    files_dir = os.path.join(config["serverdir"], FILES_DIR)
    if os.path.isdir(files_dir):
        paths.append(files_dir)
    return {"serial": serial, "server_files": copied}, paths


def prepare_export(config, staging):
    export_dir = os.path.join(staging, "export")
    argv = [os.path.join(config["devpi_bin"], "devpi-export"), "--serverdir", config["serverdir"]]
    if config.get("include_mirrored_files"):
        argv.append("--include-mirrored-files")
    # launchd: this script stops and starts devpi's job itself (systemd does it around the unit).
    if config.get("stop"):
        subprocess.run(config["stop"], check=False, capture_output=True)  # noqa: S603 - argv from the role's config
    try:
        subprocess.run([*argv, export_dir], check=True, capture_output=True, text=True)  # noqa: S603 - fixed argv
    finally:
        if config.get("start"):
            subprocess.run(config["start"], check=False, capture_output=True)  # noqa: S603 - argv from the role's config
    return {}, [staging]


def write_json(path, data):
    """Atomically, readable by the account's group (monitoring reads it; it holds no secret)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)


def parse_backup_summary(output):
    """The summary message of `restic backup --json` (the last JSON line with message_type summary)."""
    for raw in reversed(output.splitlines()):
        line = raw.strip()
        if not line.startswith("{"):
            continue
        message = json.loads(line)
        if message.get("message_type") == "summary":
            return message
    raise ValueError("restic backup printed no summary")


def forget_args(keep):
    args = []
    for period in ("last", "daily", "weekly", "monthly"):
        count = int(keep.get(period, 0) or 0)
        if count > 0:
            args += [f"--keep-{period}", str(count)]
    return args


def run_restic(config, args, capture=False):
    result = subprocess.run(  # noqa: S603 - restic from the role's config; the password only as a file name
        [config["restic"], *args],
        env=restic_env(config),
        check=True,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    return result.stdout


def backup(config, now=None):
    started = now or time.time()
    staging = config["staging_dir"]
    fresh_dir(staging)
    prepare = prepare_snapshot if config["method"] == "snapshot" else prepare_export
    facts, paths = prepare(config, staging)
    manifest = {
        "format": 1,
        "method": config["method"],
        "serverdir": config["serverdir"],
        "host": config.get("host", ""),
        "devpi_server_version": config.get("devpi_server_version", ""),
        "started": started,
        "paths": paths,
        **facts,
    }
    write_json(os.path.join(staging, MANIFEST), manifest)
    tags = ["hostnative-devpi", f"method={config['method']}"]
    args = ["backup", "--json", "--host", config.get("host") or os.uname().nodename]
    for tag in tags:
        args += ["--tag", tag]
    summary = parse_backup_summary(run_restic(config, [*args, *paths], capture=True))
    keep = forget_args(config.get("keep", {}))
    if keep:
        run_restic(config, ["forget", "--tag", "hostnative-devpi", "--prune", *keep])
    if config.get("check"):
        run_restic(config, ["check"])
    shutil.rmtree(staging, ignore_errors=True)
    return {
        "snapshot_id": summary.get("snapshot_id", ""),
        "data_added_bytes": int(summary.get("data_added", 0)),
        "total_bytes": int(summary.get("total_bytes_processed", 0)),
        "files_new": int(summary.get("files_new", 0)),
        "files_changed": int(summary.get("files_changed", 0)),
        "files_unmodified": int(summary.get("files_unmodified", 0)),
        "serial": facts.get("serial"),
    }


def error_text(exc):
    if isinstance(exc, subprocess.CalledProcessError):
        command = [os.path.basename(str(exc.cmd[0]))] + [str(a) for a in exc.cmd[1:2] if not str(a).startswith("-")]
        stderr = (exc.stderr or "").strip().splitlines()
        return f"{' '.join(command)} exited {exc.returncode}: {stderr[-1] if stderr else 'no message'}"
    return f"{type(exc).__name__}: {exc}"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: hostnative-devpi-backup.py CONFIG.json", file=sys.stderr)
        return 2
    config = load_config(argv[0])
    started = time.time()
    state = {
        "method": config["method"],
        "started": datetime.datetime.fromtimestamp(started, datetime.UTC).isoformat(),
        "started_timestamp": started,
    }
    try:
        state.update(backup(config, now=started), status="ok", exit_code=0)
    except Exception as exc:  # every failure is recorded, then the run fails
        state.update(status="failed", exit_code=1, error=error_text(exc))
    state["finished_timestamp"] = time.time()
    state["duration_seconds"] = round(state["finished_timestamp"] - started, 3)
    if state["status"] == "ok":
        state["last_success_timestamp"] = state["finished_timestamp"]
    else:
        state["last_success_timestamp"] = previous_success(config["state_file"])
    write_json(config["state_file"], state)
    if config.get("metrics_textfile"):
        write_metrics(config["metrics_textfile"], state)
    line = f"devpi backup {state['status']}: " + (
        f"snapshot {state['snapshot_id']}, {state['data_added_bytes']} bytes added, {state['duration_seconds']} s"
        if state["status"] == "ok"
        else state["error"]
    )
    print(line, file=sys.stdout if state["status"] == "ok" else sys.stderr)
    return state["exit_code"]


def write_metrics(path, state):
    """The run's result as Prometheus metrics in `path` (written to a temporary file, then renamed)."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile  # noqa: PLC0415 - only when asked

    registry = CollectorRegistry()

    def gauge(name, text, value):
        if value is not None:
            Gauge(name, text, registry=registry).set(value)

    gauge(
        "devpi_backup_last_run_timestamp_seconds",
        "When the last backup run ended (Unix time)",
        state["finished_timestamp"],
    )
    gauge(
        "devpi_backup_last_run_success",
        "1 when the last backup run succeeded, 0 when it failed",
        1 if state["status"] == "ok" else 0,
    )
    gauge(
        "devpi_backup_last_success_timestamp_seconds",
        "When the last successful backup ended (Unix time)",
        state.get("last_success_timestamp"),
    )
    gauge("devpi_backup_last_duration_seconds", "How long the last backup run took", state["duration_seconds"])
    gauge(
        "devpi_backup_last_size_bytes",
        "Bytes the last successful backup read (restic total_bytes_processed)",
        state.get("total_bytes"),
    )
    gauge(
        "devpi_backup_last_added_bytes",
        "Bytes the last successful backup added to the repository",
        state.get("data_added_bytes"),
    )
    write_to_textfile(path, registry)


def previous_success(state_file):
    try:
        with open(state_file, encoding="utf-8") as handle:
            return json.load(handle).get("last_success_timestamp")
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main())
