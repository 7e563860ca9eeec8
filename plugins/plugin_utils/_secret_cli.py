# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `cli` backend: 1Password's own `op read`, for service-account tokens or a signed-in desktop app.

The reference goes on op's command line whole, query included (?attribute=otp: op read understands it; it is not a
secret), and so does the account (--account, not a secret either); credentials stay in op's environment
(OP_SERVICE_ACCOUNT_TOKEN, or the desktop app integration with its Touch ID prompt) and are never arguments.
"""

from __future__ import annotations

import shutil
import subprocess

from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_common import SecretError, fail

NAME = "cli"


class CliBackend:
    def __init__(self, op_path="op", timeout=60.0, account=None):
        self.op = shutil.which(op_path)
        if self.op is None:
            raise SecretError(f"the cli backend needs 1Password's op CLI; {op_path!r} was not found on PATH")
        self.timeout = timeout
        self.account = ["--account", account] if account else []
        self.values = {}

    def read(self, ref):
        if ref.text not in self.values:
            try:
                done = subprocess.run(  # noqa: S603 - op from PATH, fixed arguments, the reference is not secret
                    [self.op, *self.account, "read", "--no-newline", ref.text],
                    capture_output=True,
                    text=True,
                    timeout=self.timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise fail(
                    ref, NAME, f"op read gave no answer within {self.timeout:g} s (devpi_secret_op_timeout)"
                ) from exc
            if done.returncode != 0:
                message = " ".join(done.stderr.split()) or f"exit status {done.returncode}"
                raise fail(ref, NAME, f"op read failed: {message}")
            self.values[ref.text] = done.stdout
        return self.values[ref.text]
