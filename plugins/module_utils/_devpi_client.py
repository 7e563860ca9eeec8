# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one client the devpi modules use to talk to devpi-server's JSON API (HTTP Basic auth, JSON in and out)."""

from __future__ import annotations

import json

from ansible.module_utils.urls import open_url

HTTP_OK = 200
HTTP_CREATED = 201
HTTP_NOT_FOUND = 404
# devpi answers writes with 200 or 201 (DELETE of an index says 201).
WRITE_OK = (HTTP_OK, HTTP_CREATED)

CONNECTION_ARGS = {
    "url": {"type": "str", "required": True},
    "login_user": {"type": "str", "default": "root"},
    "login_password": {"type": "str", "required": True, "no_log": True},
    "timeout": {"type": "int", "default": 30},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
}


class DevpiError(Exception):
    pass


def json_call(method, url, body=None, headers=None, **open_url_kwargs):
    """One JSON request: (HTTP status, decoded body or None) for any answer, error statuses included; OSError when
    nothing answered. Shared by the devpi modules (DevpiClient) and onepassword_item (1Password Connect)."""
    headers = {"Accept": "application/json", **(headers or {})}
    data = None
    if body is not None:
        headers["Content-Type"] = "application/json"
        data = json.dumps(body)
    try:
        response = open_url(url, method=method, data=data, headers=headers, follow_redirects="none", **open_url_kwargs)
        status, raw = response.getcode(), response.read()
    except Exception as exc:  # HTTPError carries a status; anything else means the server did not answer
        status = getattr(exc, "code", None)
        if status is None:
            raise OSError(str(exc)) from exc
        raw = exc.read() if hasattr(exc, "read") else b""
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, None


class DevpiClient:
    """Without a user, every request is anonymous."""

    def __init__(self, url, auth=None, timeout=30, validate_certs=True, ca_path=None):
        """auth: (user, password) for HTTP Basic, or None."""
        self.base = url.rstrip("/")
        self.user, self.password = auth or (None, None)
        self.timeout = timeout
        self.validate_certs = validate_certs
        self.ca_path = ca_path

    @classmethod
    def from_module(cls, module):
        """The client for a module taking CONNECTION_ARGS."""
        params = module.params
        return cls(
            params["url"],
            (params["login_user"], params["login_password"]),
            params["timeout"],
            params["validate_certs"],
            params["ca_path"],
        )

    def request(self, method, path, body=None, auth=True, expect=(HTTP_OK,)):
        """(status, result) for a call; raises DevpiError for statuses outside `expect` with devpi's message."""
        credentials = auth and self.user is not None
        kwargs = (
            {"url_username": self.user, "url_password": self.password, "force_basic_auth": True} if credentials else {}
        )
        try:
            status, payload = json_call(
                method,
                self.base + path,
                body,
                timeout=self.timeout,
                validate_certs=self.validate_certs,
                ca_path=self.ca_path,
                **kwargs,
            )
        except OSError as exc:
            raise DevpiError(f"{method} {self.base}{path}: devpi did not answer: {exc}") from exc
        if status not in expect:
            message = payload.get("message") if isinstance(payload, dict) else None
            raise DevpiError(f"{method} {path} answered HTTP {status}: {message or 'no message'}")
        return status, payload.get("result") if isinstance(payload, dict) else payload

    def get(self, path):
        """The resource's `result`, or None when it does not exist."""
        status, result = self.request("GET", path, expect=(HTTP_OK, HTTP_NOT_FOUND))
        return result if status == HTTP_OK else None

    def can_login(self, user, password):
        status, _result = self.request(
            "POST", "/+login", {"user": user, "password": password}, auth=False, expect=(HTTP_OK, 401)
        )
        return status == HTTP_OK

    def all_indexes(self):
        """{'user/index': config} for every index on the server."""
        users = self.get("/") or {}
        return {
            f"{user}/{name}": config
            for user, info in users.items()
            for name, config in (info.get("indexes") or {}).items()
        }
