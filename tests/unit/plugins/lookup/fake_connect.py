"""A fake 1Password Connect server speaking the REST API as onepasswordconnectsdk uses it (see the notes in
shared/notes/onepassword-connect.md): bearer-token auth, /v1/vaults[?filter=name eq "..."], /v1/vaults/{id},
/v1/vaults/{id}/items[?filter=title eq "..."], /v1/vaults/{id}/items/{id}, /heartbeat, JSON error bodies.

It exists because Connect is a hosted service that cannot run here. Two failure modes are switchable: `html502`
(a proxy's HTML error page) and `slow` (answers after `delay` seconds). Every request path is recorded.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import time
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


def _item(item_id, title, fields, sections=()):
    return {
        "id": item_id,
        "title": title,
        "version": 2,
        "vault": {"id": VAULT["id"]},
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


class FakeConnect:
    def __init__(self):
        self.mode = "ok"
        self.delay = 0.0
        self.requests = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

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

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def answer(self, raw_path, authorization):  # noqa: PLR0911 - one return per REST answer
        if self.mode == "html502":
            return 502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"
        split = urlsplit(raw_path)
        path = split.path
        if path == "/heartbeat":
            return 200, b".", "text/plain"
        if authorization != f"Bearer {TOKEN}":
            return 401, {"status": 401, "message": "Invalid token signature"}, "application/json"
        query = parse_qs(split.query)
        if path == "/v1/vaults":
            vaults = [VAULT, OTHER_VAULT]
            name = _filter(query, "name")
            return 200, [v for v in vaults if name is None or v["name"] == name], "application/json"
        match = re.fullmatch(r"/v1/vaults/([^/]+)(/items(?:/([^/]+))?)?", path)
        if not match:
            return 404, {"status": 404, "message": "Invalid request"}, "application/json"
        vault_id, items_part, item_id = match.groups()
        if vault_id not in (VAULT["id"], OTHER_VAULT["id"]):
            return 404, {"status": 404, "message": "vault not found"}, "application/json"
        items = [i for i in ITEMS if i["vault"]["id"] == vault_id]
        if not items_part:
            return 200, VAULT if vault_id == VAULT["id"] else OTHER_VAULT, "application/json"
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


def _filter(query, key):
    """`filter=<key> eq "<value>"`, as Connect takes it; None without a filter."""
    if "filter" not in query:
        return None
    match = re.fullmatch(rf'{key} eq "(.*)"', query["filter"][0])
    return match.group(1) if match else "\0no match"
