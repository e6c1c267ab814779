# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write tar-split metadata (tar-data.json.gz) byte for byte as tar-split's JSON packer does.

Each entry is Go's encoding/json of tar-split's storage.Entry, one per line, keys in struct order:
``type`` (1 file, 2 segment), ``name`` or, for names that are not UTF-8, base64 ``name_raw``
(both omitted when empty), ``size`` (omitted when 0), base64 ``payload`` (null when absent) and
``position``. Strings are escaped as Go escapes them: ``<``, ``>``, ``&``, U+2028, U+2029 and control
characters as ``\\u00XX`` except ``\\n``, ``\\r`` and ``\\t`` (Go before 1.22 also writes ``\\b`` and ``\\f``
as ``\\u0008``/``\\u000c``; Docker 1.10 and Debian's tar-split were built with such a Go).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import base64
import gzip
import posixpath
import re
import struct

FILE_TYPE = 1
SEGMENT_TYPE = 2

# Go's encoding/json with HTML escaping on (json.Encoder's default) escapes exactly these.
_GO_ESCAPED = re.compile(u'[\x00-\x1f"\\\\<>&\u2028\u2029]')
_SHORT_ESCAPES = {u'"': u'\\"', u'\\': u'\\\\', u'\n': u'\\n', u'\r': u'\\r', u'\t': u'\\t'}


def _escape_char(match):
    char = match.group(0)
    return _SHORT_ESCAPES.get(char) or u'\\u%04x' % ord(char)


def go_json_string(text):
    """The JSON string literal (bytes) Go's encoding/json writes for the str text."""
    return (u'"' + _GO_ESCAPED.sub(_escape_char, text) + u'"').encode('utf-8')


def _b64(data):
    return b'"' + base64.b64encode(bytes(data)) + b'"'


def _name_field(name_bytes):
    # tar-split's SetName: valid UTF-8 goes to "name", anything else to base64 "name_raw".
    # Python's strict UTF-8 decoder rejects what Go's utf8.Valid rejects (surrogates, overlongs).
    try:
        text = name_bytes.decode('utf-8')
    except UnicodeDecodeError:
        return b',"name_raw":' + _b64(name_bytes)
    return b',"name":' + go_json_string(text)


def encode_entry(entry_type, name_bytes, size, payload_bytes, position):
    """One tar-split JSON line (with its newline) as Go's json.Encoder writes a storage.Entry."""
    parts = [b'{"type":%d' % entry_type]
    if name_bytes:
        parts.append(_name_field(name_bytes))
    if size:
        parts.append(b',"size":%d' % size)
    parts.append(b',"payload":' + (b'null' if payload_bytes is None else _b64(payload_bytes)))
    parts.append(b',"position":%d}\n' % position)
    return b''.join(parts)


class TarSplitPacker(object):
    """Writes entries to a gzip stream on fileobj (which stays open), numbering their positions."""

    def __init__(self, fileobj, compresslevel=6):
        # filename='' keeps the temporary file's name out of the gzip header, mtime=0 the clock.
        self._gzip = gzip.GzipFile(filename='', mode='wb', compresslevel=compresslevel,
                                   fileobj=fileobj, mtime=0)
        self._position = 0
        self._seen_names = set()

    def _add(self, entry_type, name_bytes, size, payload_bytes):
        self._gzip.write(encode_entry(entry_type, name_bytes, size, payload_bytes, self._position))
        self._position += 1

    def add_segment(self, data):
        """Raw tar stream bytes, written even when empty (payload ``""``)."""
        self._add(SEGMENT_TYPE, None, 0, data)

    def add_file(self, name_bytes, size, crc):
        """A tar entry whose content (size bytes, CRC-64 crc) is read from the tree at reassembly.

        The payload is null when size is 0, whatever crc is, as tar-split writes it."""
        if size and crc is None:
            raise ValueError('file entry %r of size %d needs its CRC-64' % (name_bytes, size))
        # tar-split refuses to read metadata naming one path twice (ErrDuplicatePath); fail here
        # rather than leave metadata Docker cannot use.
        clean = posixpath.normpath(name_bytes)
        if clean in self._seen_names:
            raise ValueError('duplicate path in tar-split metadata: %r' % (name_bytes,))
        self._seen_names.add(clean)
        self._add(FILE_TYPE, name_bytes, size, struct.pack('>Q', crc) if size else None)

    def close(self):
        """Finish the gzip stream (Docker <= 1.10.1 forgot to, moby#20104); fileobj stays open."""
        self._gzip.close()
