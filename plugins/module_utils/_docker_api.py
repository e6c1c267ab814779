# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask a running Docker daemon a question over its unix socket, without the docker CLI.

The standard library has no HTTP-over-unix-socket client, so this sends one HTTP/1.0 GET and reads
to the end. A daemon that does not answer within the timeout counts as not running.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import socket

DEFAULT_SOCKET = '/var/run/docker.sock'


def docker_get(path, socket_path=DEFAULT_SOCKET, timeout=5.0):
    """GET path from the Engine API; the decoded JSON body, or None when no daemon answers well."""
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(timeout)
        try:
            conn.connect(socket_path)
            conn.sendall(('GET %s HTTP/1.0\r\nHost: docker\r\n\r\n' % path).encode('ascii'))
            chunks = []
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            conn.close()
    except (OSError, socket.timeout):
        return None
    head, _sep, body = b''.join(chunks).partition(b'\r\n\r\n')
    status = head.split(b'\r\n', 1)[0].split()
    if len(status) < 2 or status[1] != b'200':
        return None
    try:
        return json.loads(body.decode('utf-8'))
    except ValueError:
        return None


def daemon_info(socket_path=DEFAULT_SOCKET):
    return docker_get('/info', socket_path)


def daemon_version(socket_path=DEFAULT_SOCKET):
    version = docker_get('/version', socket_path)
    return version.get('Version') if isinstance(version, dict) else None
