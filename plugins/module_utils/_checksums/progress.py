# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small JSON progress file, rewritten atomically while a checksum run goes on.

Docker's own migration showed nothing for hours and people killed it thinking it hung; this file
lets an operator, or the role polling an async task, see layers done, bytes, rate and ETA.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import time

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._atomic_files import write_atomic

DEFAULT_PROGRESS_FILE = '/var/tmp/fleetops-layer-checksums.progress.json'
_MIN_INTERVAL = 1.0


class ProgressFile(object):
    def __init__(self, path, layers_total, bytes_total):
        self.path = path
        self.layers_total = layers_total
        self.bytes_total = bytes_total
        self.layers_done = 0
        self.bytes_done = 0
        self.started = time.time()
        self._written = 0.0

    def snapshot(self, state='running'):
        elapsed = max(time.time() - self.started, 1e-6)
        rate = self.bytes_done / elapsed
        remaining = max(self.bytes_total - self.bytes_done, 0)
        return {
            'state': state,
            'layers_done': self.layers_done,
            'layers_total': self.layers_total,
            'bytes_done': self.bytes_done,
            'bytes_total': self.bytes_total,
            'rate_mb_s': round(rate / 1e6, 1),
            'elapsed_seconds': round(elapsed, 1),
            'eta_seconds': round(remaining / rate, 1) if rate > 0 else None,
            'pid': os.getpid(),
            'updated': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
        }

    def advance(self, layers=0, nbytes=0):
        self.layers_done += layers
        self.bytes_done += nbytes
        self.write()

    def write(self, state='running', force=False):
        if not self.path:
            return
        now = time.time()
        if not force and now - self._written < _MIN_INTERVAL:
            return
        self._written = now
        try:
            directory = os.path.dirname(self.path)
            if directory and not os.path.isdir(directory):
                os.makedirs(directory, 0o755)
            write_atomic(self.path, json.dumps(self.snapshot(state), sort_keys=True).encode('utf-8'), 0o644)
        except OSError:
            pass  # progress is a courtesy; never fail the run for it
