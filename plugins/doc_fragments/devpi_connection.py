# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options every module that talks to devpi-server's HTTP API takes (see module_utils/_devpi_client.py)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  url:
    description: Base URL of devpi-server, for example V(http://127.0.0.1:3141).
    type: str
    required: true
  login_user:
    description: User to authenticate as.
    type: str
    default: root
  login_password:
    description: Password of O(login_user).
    type: str
    required: true
  timeout:
    description: Seconds to wait for each request.
    type: int
    default: 30
  validate_certs:
    description: Verify the server's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: PEM bundle to verify the server's certificate with.
    type: path
"""
