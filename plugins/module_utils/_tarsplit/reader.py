# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stream the entries of tar-split metadata (tar-data.json.gz): gzip of one JSON object per line.

Type 2 (segment) carries raw tar stream bytes in base64 ``payload``; type 1 (file) names a file by
``name`` or, for names that are not UTF-8, base64 ``name_raw``, with its ``size`` and the CRC-64 of
its content as 8 big-endian bytes in ``payload`` (null for size 0). ``position`` is a sequence
number that readers ignore, as Docker's does.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import binascii
import gzip
import json
import zlib

SEGMENT = 2
FILE = 1


class TarSplitError(Exception):
    """The metadata is missing, truncated or not what tar-split writes."""


class Entry(object):
    __slots__ = ('type', 'name', 'size', 'payload')

    def __init__(self, entry_type, name, size, payload):
        self.type = entry_type
        self.name = name          # bytes, for file entries
        self.size = size
        self.payload = payload    # bytes or None


def _b64(value, line_number, field):
    if value is None:
        return None
    try:
        return base64.b64decode(value.encode('ascii'), validate=True)
    except (binascii.Error, ValueError, AttributeError, UnicodeEncodeError):
        raise TarSplitError('line %d: %s is not base64' % (line_number, field))


def _parse_line(line, line_number):
    try:
        raw = json.loads(line.decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TarSplitError('line %d: not valid JSON (%s)' % (line_number, exc))
    if not isinstance(raw, dict):
        raise TarSplitError('line %d: not a JSON object' % line_number)
    entry_type = raw.get('type')
    payload = _b64(raw.get('payload'), line_number, 'payload')
    if entry_type == SEGMENT:
        return Entry(SEGMENT, None, 0, payload or b'')
    if entry_type != FILE:
        raise TarSplitError('line %d: unknown entry type %r' % (line_number, entry_type))
    size = raw.get('size', 0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise TarSplitError('line %d: invalid size %r' % (line_number, size))
    name_raw = _b64(raw.get('name_raw'), line_number, 'name_raw')
    if name_raw:
        name = name_raw
    else:
        name = raw.get('name', '')
        if not isinstance(name, str):
            raise TarSplitError('line %d: invalid name' % line_number)
        name = name.encode('utf-8', 'surrogateescape')
    if size and (payload is None or len(payload) != 8):
        raise TarSplitError('line %d: file %s has no CRC-64 payload' % (line_number, name.decode('utf-8', 'replace')))
    return Entry(FILE, name, size, payload)


def read_entries(path):
    """Yield the Entry objects of the metadata at path; raise TarSplitError on any damage."""
    line_number = 0
    try:
        with gzip.open(path, 'rb') as stream:
            for line in stream:
                line_number += 1
                if not line.strip():
                    continue
                yield _parse_line(line, line_number)
    except (EOFError, zlib.error) as exc:
        raise TarSplitError('truncated or damaged gzip after line %d (%s)' % (line_number, exc))
    except OSError as exc:
        # gzip raises OSError (BadGzipFile) for data that is not gzip at all
        raise TarSplitError('cannot read: %s' % exc)
