# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The per-layer cache files Docker 1.10 reads at its first start, in graph/<id>/.

``.migration-diffid`` (``sha256:<hex>``, no newline) marks a layer as done, so it is written last;
``.migration-size`` holds the decimal layer size and ``.migration-tardata`` the tar-split metadata
of the stream that was hashed. Docker skips any layer whose diffid file exists, even an empty one
left by a killed run (moby#20267), so such files are found here and repaired.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._atomic_files import (
    link_atomic, write_atomic)

DIFFID_FILE = '.migration-diffid'
SIZE_FILE = '.migration-size'
TARDATA_FILE = '.migration-tardata'
TARSPLIT_FILE = 'tar-data.json.gz'

_DIGEST = re.compile(r'\Asha256:[0-9a-f]{64}\Z')
_SIZE = re.compile(r'\A[0-9]+\Z')

ABSENT = 'absent'
VALID = 'valid'
INVALID = 'invalid'


class CacheState(object):
    __slots__ = ('state', 'diff_id', 'size', 'detail')

    def __init__(self, state, diff_id=None, size=None, detail=None):
        self.state = state
        self.diff_id = diff_id
        self.size = size
        self.detail = detail


def _read_text(path):
    with open(path, 'rb') as stream:
        return stream.read(4096).decode('ascii', 'replace')


def read_cache(graph_dir):
    """State of graph_dir's cache files: ABSENT, VALID (with diff_id and size) or INVALID (with detail)."""
    diffid_path = os.path.join(graph_dir, DIFFID_FILE)
    if not os.path.lexists(diffid_path):
        return CacheState(ABSENT)
    try:
        diff_id = _read_text(diffid_path)
    except OSError as exc:
        return CacheState(INVALID, detail='%s unreadable: %s' % (DIFFID_FILE, exc))
    if not _DIGEST.match(diff_id):
        return CacheState(INVALID, detail='%s holds %r, not sha256:<64 hex>' % (DIFFID_FILE, diff_id[:80]))
    try:
        size_text = _read_text(os.path.join(graph_dir, SIZE_FILE))
    except OSError as exc:
        return CacheState(INVALID, detail='%s missing or unreadable: %s' % (SIZE_FILE, exc))
    if not _SIZE.match(size_text):
        return CacheState(INVALID, detail='%s holds %r, not a decimal size' % (SIZE_FILE, size_text[:80]))
    if not os.path.isfile(os.path.join(graph_dir, TARDATA_FILE)):
        return CacheState(INVALID, detail='%s is missing' % TARDATA_FILE)
    return CacheState(VALID, diff_id=diff_id, size=int(size_text))


def write_cache(graph_dir, diff_id, size, reused_tarsplit):
    """Record a computed layer. The tar-split data first, the size next, the diffid last.

    reused_tarsplit: True when the stream was rebuilt from the layer's own tar-data.json.gz (it is
    hard-linked), False when the caller already wrote a regenerated TARDATA_FILE.
    """
    if reused_tarsplit:
        link_atomic(os.path.join(graph_dir, TARSPLIT_FILE), os.path.join(graph_dir, TARDATA_FILE))
    write_atomic(os.path.join(graph_dir, SIZE_FILE), str(size).encode('ascii'))
    write_atomic(os.path.join(graph_dir, DIFFID_FILE), diff_id.encode('ascii'))


def invalidate_diffid(graph_dir):
    """Remove a broken diffid so a run killed before it is rewritten leaves the layer pending, not skipped."""
    try:
        os.unlink(os.path.join(graph_dir, DIFFID_FILE))
    except OSError:
        pass
