# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reassemble a layer's tar stream from tar-split metadata and the layer's files, into a hash.

This is Docker 1.10's asm.WriteOutputTarStream without the output: segments go to the sink as they
are, each file's content is read from the layer tree, checked against its recorded size and CRC-64,
and fed to the sink. The stream itself is never stored.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.crc64 import crc64_iso
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.layer_paths import LayerPathError
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.reader import (
    FILE, TarSplitError, read_entries)

_READ_SIZE = 1024 * 1024
# Files up to this size are read with a single call.
_SMALL_FILE = 256 * 1024


class ReassemblyError(Exception):
    """Why the tar-split path cannot give the layer's stream; reason is what the result reports."""

    def __init__(self, reason, detail):
        self.reason = reason
        super(ReassemblyError, self).__init__('%s: %s' % (reason, detail))


def _display(name):
    return name.decode('utf-8', 'backslashreplace')


def _read_whole(fd, size):
    """Read a small file in one go; returns at most size + 1 bytes, so growth is still seen."""
    data = os.read(fd, size + 1)
    if len(data) <= size:
        more = os.read(fd, size + 1 - len(data))  # a short read is allowed; EOF gives b''
        while more:
            data += more
            if len(data) > size:
                break
            more = os.read(fd, size + 1 - len(data))
    return data


def _stream_file(fd, sink, buffer, verify_integrity):
    """Feed a large file to sink in buffer-sized reads; returns (bytes read, CRC-64)."""
    view = memoryview(buffer)
    crc = 0
    read_total = 0
    while True:
        count = os.readv(fd, [buffer])
        if not count:
            break
        chunk = view[:count]
        sink.update(chunk)
        if verify_integrity:
            crc = crc64_iso(chunk, crc)
        read_total += count
    return read_total, crc


def _hash_file(opener, entry, sink, buffer, verify_integrity):
    """Feed one file's content to sink; raise ReassemblyError if it is not what was recorded."""
    try:
        fd, disk_size = opener.open_fd(entry.name)
    except LayerPathError as exc:
        reason = 'missing %s' if exc.missing else 'integrity %s'
        raise ReassemblyError(reason % _display(entry.name), exc.reason)
    try:
        if disk_size != entry.size:
            raise ReassemblyError('integrity %s' % _display(entry.name),
                                  'size %d on disk, %d recorded' % (disk_size, entry.size))
        if entry.size <= _SMALL_FILE:
            # Most files in an image are small: one read, one update, one CRC, no buffer juggling.
            data = _read_whole(fd, entry.size)
            sink.update(data)
            read_total = len(data)
            crc = crc64_iso(data) if verify_integrity else 0
        else:
            read_total, crc = _stream_file(fd, sink, buffer, verify_integrity)
    finally:
        os.close(fd)
    if read_total != entry.size:
        raise ReassemblyError('integrity %s' % _display(entry.name),
                              'size changed while reading: %d read, %d recorded' % (read_total, entry.size))
    if verify_integrity and crc.to_bytes(8, 'big') != entry.payload:
        raise ReassemblyError('integrity %s' % _display(entry.name), 'CRC-64 differs from the tar-split record')
    return read_total


def hash_layer_from_tarsplit(tardata_path, opener, sink, verify_integrity=True):
    """Stream the layer into sink. Returns (size, tar_bytes): the sum of entry sizes Docker records,
    and the length of the whole tar stream."""
    buffer = bytearray(_READ_SIZE)
    size = 0
    tar_bytes = 0
    try:
        for entry in read_entries(tardata_path):
            if entry.type != FILE:
                sink.update(entry.payload)
                tar_bytes += len(entry.payload)
                continue
            size += entry.size
            if entry.size:
                tar_bytes += _hash_file(opener, entry, sink, buffer, verify_integrity)
    except TarSplitError as exc:
        raise ReassemblyError('corrupt_tarsplit', str(exc))
    if tar_bytes == 0:
        raise ReassemblyError('corrupt_tarsplit', 'no tar stream recorded')
    return size, tar_bytes
