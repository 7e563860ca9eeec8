"""Recording stand-in for macOS launchctl, for running the role's launchd path in a Linux container.

launchd cannot run on Linux. This keeps the contract the role relies on: `bootstrap DOMAIN PLIST` loads a job
(parsing the plist with plistlib and, when it has RunAtLoad, starting ProgramArguments with its
EnvironmentVariables, WorkingDirectory, Umask, UserName/GroupName and StandardOut/ErrorPath, like launchd; a job
without RunAtLoad, such as a StartCalendarInterval job, is only loaded), KeepAlive restarts the program
when it exits (after ThrottleInterval), `bootout TARGET` unloads it, `kickstart -k TARGET` kills and restarts it,
`print TARGET` describes it (rc 113 when not loaded). Every call is appended to /var/log/launchctl-calls.log as
JSON so tests can assert which calls were made.
"""

import grp
import json
import os
import plistlib
import pwd
import signal
import subprocess
import sys
import time

STATE = "/run/fake-launchd"
LOG = "/var/log/launchctl-calls.log"


def record(argv):
    with open(LOG, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(argv) + "\n")


def state_file(target):
    return os.path.join(STATE, target.replace("/", "_") + ".json")


def load_state(target):
    try:
        with open(state_file(target), encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, TypeError):
        return False
    return True


def supervise(job):
    """Run in a detached child: start the program, restart it while KeepAlive, until bootout kills us."""
    os.setsid()
    child_file = job["child_file"]

    def start():
        def drop():
            os.umask(job.get("Umask", 0o022))
            if job.get("GroupName"):
                os.setgid(grp.getgrnam(job["GroupName"]).gr_gid)
            if job.get("UserName"):
                user = pwd.getpwnam(job["UserName"])
                os.initgroups(user.pw_name, user.pw_gid)
                os.setuid(user.pw_uid)

        env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", **job.get("EnvironmentVariables", {})}
        out = open(job["StandardOutPath"], "ab") if job.get("StandardOutPath") else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
        err = open(job["StandardErrorPath"], "ab") if job.get("StandardErrorPath") else subprocess.DEVNULL  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(  # noqa: S603 - runs the job's own ProgramArguments, as launchd does
            job["ProgramArguments"],
            env=env,
            cwd=job.get("WorkingDirectory") or "/",
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            preexec_fn=drop,  # noqa: PLW1509 - launchd drops privileges the same way
        )
        with open(child_file, "w", encoding="utf-8") as handle:
            handle.write(str(proc.pid))
        return proc

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    proc = start()
    while True:
        proc.wait()
        if not job.get("KeepAlive"):
            return
        time.sleep(job.get("ThrottleInterval", 10) if proc.returncode == 0 else 1)
        proc = start()


def bootstrap(domain, plist_path):
    with open(plist_path, "rb") as handle:
        job = plistlib.load(handle)
    label = job["Label"]
    target = f"{domain}/{label}"
    if domain == "system" and "UserName" not in job:
        print("stand-in: a system job here must name its UserName", file=sys.stderr)
    if load_state(target):
        print(f"Bootstrap failed: 5: Input/output error ({target} is already loaded)", file=sys.stderr)
        return 5
    os.makedirs(STATE, exist_ok=True)
    job["child_file"] = state_file(target) + ".child"
    if not job.get("RunAtLoad"):  # loaded, started later by its schedule (never, here)
        with open(state_file(target), "w", encoding="utf-8") as handle:
            json.dump({"plist": plist_path, "supervisor": None, "child_file": job["child_file"]}, handle)
        return 0
    pid = os.fork()
    if pid == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        try:
            supervise(job)
        finally:
            os._exit(0)
    with open(state_file(target), "w", encoding="utf-8") as handle:
        json.dump({"plist": plist_path, "supervisor": pid, "child_file": job["child_file"]}, handle)
    return 0


def child_pid(state):
    try:
        with open(state["child_file"], encoding="utf-8") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def bootout(target):
    state = load_state(target)
    if not state:
        print(f"Boot-out failed: 113: Could not find specified service ({target})", file=sys.stderr)
        return 113
    for pid in (state["supervisor"], child_pid(state)):
        if pid and alive(pid):
            os.kill(pid, signal.SIGTERM)
    os.remove(state_file(target))
    return 0


def kickstart(args):
    target = args[-1]
    state = load_state(target)
    if not state:
        print(f'Could not find service "{target}" in domain', file=sys.stderr)
        return 113
    pid = child_pid(state)
    if "-k" in args and pid and alive(pid):
        os.kill(pid, signal.SIGKILL)  # the supervisor starts it again (KeepAlive)
    return 0


def show(target):
    state = load_state(target)
    if not state or (state["supervisor"] is not None and not alive(state["supervisor"])):
        print(f'Could not find service "{target}" in domain for port', file=sys.stderr)
        return 113
    pid = child_pid(state)
    running = pid is not None and alive(pid)
    print(f"{target} = {{\n\tpath = {state['plist']}\n\tstate = {'running' if running else 'not running'}")
    if running:
        print(f"\tpid = {pid}")
    print("}")
    return 0


# command -> (number of arguments, or None for "one or more", handler taking those arguments)
COMMANDS = {
    "bootstrap": (2, bootstrap),
    "bootout": (1, bootout),
    "kickstart": (None, lambda *args: kickstart(list(args))),
    "print": (1, show),
}
EX_USAGE = 64


def main(argv):
    record(argv)
    command, args = (argv[0], argv[1:]) if argv else ("", [])
    arity, handler = COMMANDS.get(command, (0, None))
    if handler is None or (arity is None and not args) or (arity is not None and len(args) != arity):
        print(f"stand-in launchctl: unsupported call {argv}", file=sys.stderr)
        return EX_USAGE
    return handler(*args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
