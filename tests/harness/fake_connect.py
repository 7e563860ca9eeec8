"""A fake 1Password Connect server speaking the REST API as onepasswordconnectsdk uses it: bearer-token auth,
/v1/vaults[?filter=name eq "..."], /v1/vaults/{id}, /v1/vaults/{id}/items[?filter=title eq "..."],
/v1/vaults/{id}/items/{id}, /heartbeat, JSON error bodies.

It exists because Connect is a hosted service that cannot run here. Two failure modes are switchable: `html502`
(a proxy's HTML error page) and `slow` (answers after `delay` seconds). Every request path is recorded.

The lookup tests (tests/integration) use the built-in vaults and items below. Run as a program (the Molecule seed
scenario does), it serves a store file instead, re-read whenever it changes so a test can rotate a secret while it
runs:

    python fake_connect.py --port 18555 --store store.json

with store.json `{"token": "...", "vaults": {"<vault>": {"<item title>": {"<field label>": "<value>"}}}}`.
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import re
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

TOKEN = "fake-connect-token-5b1d"
ROOT_PASSWORD = "r00t-Pa55-from-connect"
API_KEY = "admin-api-key-7781"
UPLOAD_PASSWORD = "upl0ad-secret-R&D"
VAULT = {
    "id": "ytrfte14kw1uex5txaore1emkz",
    "name": "devpi",
    "attributeVersion": 1,
    "contentVersion": 3,
    "items": 5,
    "type": "USER_CREATED",
}
OTHER_VAULT = {
    "id": "b2vmp5rmaxgxtnsutafdbhqdwu",
    "name": "Shared",
    "attributeVersion": 1,
    "contentVersion": 1,
    "items": 0,
    "type": "EVERYONE",
}


def _item(item_id, title, fields, sections=(), vault_id=VAULT["id"]):
    return {
        "id": item_id,
        "title": title,
        "version": 2,
        "vault": {"id": vault_id},
        "category": "LOGIN",
        "sections": list(sections),
        "fields": fields,
    }


ITEMS = [
    _item(
        "2fcbqwe9ndg175zg2dzwftvkpa",
        "devpi",
        [
            {"id": "username", "type": "STRING", "purpose": "USERNAME", "label": "username", "value": "root"},
            {
                "id": "password",
                "type": "CONCEALED",
                "purpose": "PASSWORD",
                "label": "root password",
                "value": ROOT_PASSWORD,
            },
            {
                "id": "k3y",
                "type": "CONCEALED",
                "label": "api key",
                "value": API_KEY,
                "section": {"id": "adminsection0000000000000a"},
            },
            {"id": "notes", "type": "STRING", "purpose": "NOTES", "label": "notesPlain", "value": ""},
        ],
        [{"id": "adminsection0000000000000a", "label": "admin"}],
    ),
    _item(
        "dupaaaaaaaaaaaaaaaaaaaaaa1",
        "dup",
        [{"id": "password", "type": "CONCEALED", "label": "password", "value": "dup-one"}],
    ),
    _item(
        "dupaaaaaaaaaaaaaaaaaaaaaa2",
        "dup",
        [{"id": "password", "type": "CONCEALED", "label": "password", "value": "dup-two"}],
    ),
    _item(
        "rndaaaaaaaaaaaaaaaaaaaaaa1",
        "R&D + Ops",
        [{"id": "password", "type": "CONCEALED", "label": "password", "value": UPLOAD_PASSWORD}],
    ),
]


def _id(*parts):
    """A stable 26-character Connect-style ID."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:26]


def load_store(path):
    """(token, vaults, items) from a store file (see the module docstring)."""
    store = json.loads(Path(path).read_text())
    vaults, items = [], []
    for vault_name, vault_items in store["vaults"].items():
        vault_id = _id(vault_name)
        vaults.append({**VAULT, "id": vault_id, "name": vault_name, "items": len(vault_items)})
        for title, fields in vault_items.items():
            items.append(
                _item(
                    _id(vault_name, title),
                    title,
                    [
                        {"id": _id(vault_name, title, label), "type": "CONCEALED", "label": label, "value": value}
                        for label, value in fields.items()
                    ],
                    vault_id=vault_id,
                )
            )
    return store["token"], vaults, items


class ConnectAPI:
    """Connect's REST answers, without a server: answer(path, Authorization header) -> (status, body, content type).
    The in-process tests put it behind an httpx transport; FakeConnect serves it over HTTP."""

    def __init__(self, store=None):
        self.mode = "ok"
        self.delay = 0.0
        self.requests = []
        self.token, self.vaults, self.items = TOKEN, [VAULT, OTHER_VAULT], ITEMS
        self.store, self._store_mtime = store, None

    def _reload(self):
        if self.store is None:
            return
        mtime = os.stat(self.store).st_mtime_ns
        if mtime != self._store_mtime:
            self.token, self.vaults, self.items = load_store(self.store)
            self._store_mtime = mtime

    def answer(self, raw_path, authorization):  # noqa: PLR0911 - one return per REST answer
        self._reload()
        if self.mode == "html502":
            return 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
        split = urlsplit(raw_path)
        path = split.path
        if path == "/heartbeat":
            return 200, b".", "text/plain"
        if authorization != f"Bearer {self.token}":
            return 401, {"status": 401, "message": "Invalid token signature"}, "application/json"
        query = parse_qs(split.query)
        if path == "/v1/vaults":
            name = _filter(query, "name")
            return 200, [v for v in self.vaults if name is None or v["name"] == name], "application/json"
        match = re.fullmatch(r"/v1/vaults/([^/]+)(/items(?:/([^/]+))?)?", path)
        if not match:
            return 404, {"status": 404, "message": "Invalid request"}, "application/json"
        vault_id, items_part, item_id = match.groups()
        vault = next((v for v in self.vaults if v["id"] == vault_id), None)
        if vault is None:
            return 404, {"status": 404, "message": "vault not found"}, "application/json"
        items = [i for i in self.items if i["vault"]["id"] == vault_id]
        if not items_part:
            return 200, vault, "application/json"
        if item_id is None:
            title = _filter(query, "title")
            summaries = [
                {k: i[k] for k in ("id", "title", "version", "vault", "category")}
                for i in items
                if title is None or i["title"] == title
            ]
            return 200, summaries, "application/json"
        for item in items:
            if item["id"] == item_id:
                return 200, item, "application/json"
        return 404, {"status": 404, "message": "item not found"}, "application/json"


def _new_id(seed):
    return hashlib.sha256(seed.encode()).hexdigest()[:26]


class WritableConnectAPI(ConnectAPI):
    """ConnectAPI that also takes the writes onepasswordconnectsdk's create_item/update_item send:
    POST /v1/vaults/{id}/items (a new item: id and version 1 assigned) and PUT /v1/vaults/{id}/items/{id} (the item
    replaced, its version raised). Bodies are checked as Connect checks them: a title, a category and fields with a
    label each; field purposes and types from Connect's enums."""

    PURPOSES = frozenset({"", "USERNAME", "PASSWORD", "NOTES"})
    TYPES = frozenset({"STRING", "CONCEALED", "EMAIL", "URL", "OTP", "TOTP", "DATE", "MONTH_YEAR", "MENU"})

    def write(self, method, raw_path, authorization, body):  # noqa: PLR0911 - one return per REST answer
        self.requests.append(f"{method} {raw_path}")
        if authorization != f"Bearer {self.token}":
            return 401, {"status": 401, "message": "Invalid token signature"}, "application/json"
        match = re.fullmatch(r"/v1/vaults/([^/]+)/items(?:/([^/]+))?", urlsplit(raw_path).path)
        if not match or (method == "POST") == (match.group(2) is not None):
            return 404, {"status": 404, "message": "Invalid request"}, "application/json"
        vault_id, item_id = match.groups()
        if not any(v["id"] == vault_id for v in self.vaults):
            return 404, {"status": 404, "message": "vault not found"}, "application/json"
        fields = body.get("fields") if isinstance(body, dict) else None
        if not body or not body.get("title") or not body.get("category") or not isinstance(fields, list):
            return (
                400,
                {"status": 400, "message": "Validation: title, category and fields are required"},
                "application/json",
            )
        for field in fields:
            if (
                not field.get("label")
                or field.get("purpose", "") not in self.PURPOSES
                or field.get("type", "STRING") not in self.TYPES
            ):
                return (
                    400,
                    {"status": 400, "message": f"Validation: invalid field {field.get('label')!r}"},
                    "application/json",
                )
        items = self.items = list(self.items)
        if method == "POST":
            item = {
                **body,
                "id": _new_id(f"{vault_id}/{body['title']}/{len(items)}"),
                "version": 1,
                "vault": {"id": vault_id},
            }
            items.append(item)
            return 200, item, "application/json"
        for position, old in enumerate(items):
            if old["id"] == item_id and old["vault"]["id"] == vault_id:
                items[position] = {
                    **body,
                    "id": item_id,
                    "version": old.get("version", 1) + 1,
                    "vault": {"id": vault_id},
                }
                return 200, items[position], "application/json"
        return 404, {"status": 404, "message": "item not found"}, "application/json"


class FakeConnect(WritableConnectAPI):
    """ConnectAPI served over HTTP on a loopback port (url)."""

    def __init__(self, port=0, store=None):
        super().__init__(store)
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _write(self, method):
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"null")
                except ValueError:
                    body = None
                status, answer, ctype = fake.write(method, self.path, self.headers.get("Authorization", ""), body)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self):
                self._write("POST")

            def do_PUT(self):
                self._write("PUT")

            def do_GET(self):
                fake.requests.append(self.path)
                status, body, ctype = fake.answer(self.path, self.headers.get("Authorization", ""))
                if fake.mode == "slow":
                    time.sleep(fake.delay)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout tests)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _filter(query, key):
    """`filter=<key> eq "<value>"`, as Connect takes it; None without a filter."""
    if "filter" not in query:
        return None
    match = re.fullmatch(rf'{key} eq "(.*)"', query["filter"][0])
    return match.group(1) if match else "\0no match"


def main():
    parser = argparse.ArgumentParser(description="Serve a fake 1Password Connect API from a store file.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--store", required=True)
    args = parser.parse_args()
    fake = FakeConnect(port=args.port, store=args.store)
    print(f"fake Connect on {fake.url}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
