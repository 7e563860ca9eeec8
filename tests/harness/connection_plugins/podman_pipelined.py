# Test harness only (not part of the collection): the Molecule scenarios reach their containers through this.
"""Molecule's podman connection, with pipelining.

containers.podman.podman runs every module as five ``podman`` calls (mount, home lookup, mkdir, chmod, run, rm:
about 1.3 s a task on this 2-core machine) because it never passes standard input to ``podman exec``. This
subclass adds ``--interactive`` when Ansible has input for the command, so Ansible can pipe the module into the
container's Python: one ``podman exec`` a task. Everything else (the container, systemd, the modules, become) is
what the parent plugin does; file transfers are the parent's.
"""

from __future__ import annotations

import shlex

from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.connection import ensure_connect
from ansible_collections.containers.podman.plugins.connection.podman import Connection as PodmanConnection

DOCUMENTATION = """
name: podman_pipelined
short_description: podman exec into a running container, with pipelining
description:
  - Test harness connection for the Molecule scenarios; the containers.podman.podman connection with module
    pipelining (standard input passed to podman exec).
author: hostnative.devpi contributors
options:
  remote_addr:
    description: Name or ID of the container.
    default: inventory_hostname
    vars:
      - name: ansible_host
      - name: inventory_hostname
      - name: ansible_podman_host
  remote_user:
    description: User inside the container that runs the commands.
    vars:
      - name: ansible_user
    env:
      - name: ANSIBLE_REMOTE_USER
  podman_extra_args:
    description: Extra arguments for the podman command line.
    default: ''
    vars:
      - name: ansible_podman_extra_args
  podman_executable:
    description: The podman executable.
    default: podman
    vars:
      - name: ansible_podman_executable
  pipelining:
    description: Pipe modules into the container's Python instead of copying them there first.
    type: boolean
    default: true
    vars:
      - name: ansible_pipelining
"""


class Connection(PodmanConnection):
    """containers.podman.podman with standard input passed through, so pipelining works."""

    transport = "podman_pipelined"
    has_pipelining = True

    @ensure_connect
    def exec_command(self, cmd, in_data=None, sudoable=False):
        if in_data is None:
            return super().exec_command(cmd, in_data=in_data, sudoable=sudoable)
        # The grandparent's bookkeeping (the parent's would run the command without --interactive).
        super(PodmanConnection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        args = ["exec", "--interactive"]
        if self.user:
            args += ["--user", self.user]
        return self._podman(args, shlex.split(to_native(cmd, errors="surrogate_or_strict")), in_data)
