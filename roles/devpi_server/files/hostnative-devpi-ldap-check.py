"""Check devpi-ldap's configuration against the directory, the way devpi-ldap binds (hostnative.devpi.devpi_server).

Run by the verify entry point with the devpi venv's Python (ldap3 and PyYAML come with devpi-ldap):
``python hostnative-devpi-ldap-check.py LDAP_CONFIG``. Binds as the configured search DN (or anonymously) and runs
the user search once, each step bounded by a timeout, and prints one JSON line: {"ok": bool, "step": ..., "error":
...}. The bind password is read from the configuration file and never printed.
"""

from __future__ import annotations

import json
import sys

import ldap3
import yaml
from ldap3.utils.conv import escape_filter_chars

TIMEOUT = 5


def check(path):
    with open(path, encoding="utf-8") as handle:
        config = (yaml.safe_load(handle) or {}).get("devpi-ldap", {})
    search = config.get("user_search", {})
    tls = ldap3.Tls(**config["tls"]) if config.get("tls") else None
    server = ldap3.Server(config["url"], tls=tls, connect_timeout=TIMEOUT)
    who = search.get("userdn") or "anonymous"
    connection = ldap3.Connection(
        server, user=search.get("userdn"), password=search.get("password"), receive_timeout=TIMEOUT, read_only=True
    )
    try:
        connection.open()
    except ldap3.core.exceptions.LDAPException as exc:
        return {"ok": False, "step": "connect", "error": f"cannot reach {config['url']}: {exc}"}
    if not connection.bind():
        result = connection.result or {}
        return {
            "ok": False,
            "step": "bind",
            "error": f"bind as {who} refused: {result.get('description')} ({result.get('message') or 'no message'})",
        }
    found = connection.search(search["base"], "(objectClass=*)", search_scope=ldap3.BASE, attributes=[])
    if not found:
        connection.unbind()
        error = f"user base {search['base']} not found or not readable as {who}"
        return {"ok": False, "step": "search", "error": error}
    # The user search as devpi-ldap runs it (for a name nobody has): its filter and attribute must be valid here.
    probe = search["filter"].format(username=escape_filter_chars("hostnative-devpi-verify"))
    try:
        connection.search(search["base"], probe, attributes=[search["attribute_name"]])
    except ldap3.core.exceptions.LDAPException as exc:
        error = f"the user search {probe} for {search['attribute_name']}: {exc}"
        return {"ok": False, "step": "search", "error": error}
    finally:
        connection.unbind()
    return {"ok": True, "step": "search", "error": ""}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        result = check(argv[0])
    except Exception as exc:  # every failure is reported as one line, never a traceback with the configuration
        result = {"ok": False, "step": "config", "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
