# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rebuild a layer's tar stream from its tree, hash it, and record it as new tar-split metadata.

The migrator's fallback when a layer's own tar-split metadata is missing or wrong. The stream is
fed to a sink (a hash) and never stored; the metadata lets Docker 1.10, or ``tar-split asm``,
reassemble exactly the stream that was hashed from the same tree.

The headers are written here rather than by tarfile, whose output changes between Python versions,
so that a rerun on any Python gives the same stream. They follow what Go's archive/tar (which Docker and
tar-split use) writes: ustar blocks, with a PAX extended header before an entry whose name or link
target is longer than 100 bytes or not ASCII, whose numbers do not fit, or that has a
security.capability xattr (``SCHILY.xattr.security.capability``, as Docker 1.9 kept it). Names that
are not UTF-8 go into the PAX record as raw bytes, as Go writes them: Go, GNU tar and Python's
tarfile all read them back unchanged (``hdrcharset=BINARY`` would only make GNU tar warn).

Deterministic by construction: mode (permission, setuid, setgid, sticky bits only, as Go writes it
since 1.10; Docker 1.9's Go 1.5 added the file type bits), uid, gid and mtime in whole seconds come
from lstat; uname and gname stay empty; no atime or ctime. Whiteouts for
deleted paths are empty regular files with mode 0, uid 0, gid 0 and mtime 0, where Docker wrote the
current time. A regular file with more links than one is stored once, later paths as hard links to
the first path seen in this tar. Sockets have no tar form and are left out, as GNU tar does.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re
import stat

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.crc64 import crc64_iso
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.packer import TarSplitPacker
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.tree_changes import DELETE, read_capability

BLOCK_SIZE = 512
END_OF_ARCHIVE = b'\0' * (2 * BLOCK_SIZE)  # what Go's tar writer writes on Close, no more
READ_SIZE = 1024 * 1024
WHITEOUT_PREFIX = b'.wh.'

REGTYPE = b'0'
LNKTYPE = b'1'
SYMTYPE = b'2'
CHRTYPE = b'3'
BLKTYPE = b'4'
DIRTYPE = b'5'
FIFOTYPE = b'6'
XHDTYPE = b'x'

_TYPEFLAGS = {
    stat.S_IFREG: REGTYPE, stat.S_IFDIR: DIRTYPE, stat.S_IFLNK: SYMTYPE,
    stat.S_IFCHR: CHRTYPE, stat.S_IFBLK: BLKTYPE, stat.S_IFIFO: FIFOTYPE,
}

# O_NONBLOCK: opening a FIFO that replaced a file must not wait for a writer; O_NOCTTY: a tty
# that replaced it must not become our controlling terminal.
_OPEN_FLAGS = (os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, 'O_CLOEXEC', 0))

_NON_ASCII = re.compile(b'[\x80-\xff]')
_NOT_IN_PLACEHOLDER = re.compile(b'[\x00\x80-\xff]')
_CAPABILITY_KEY = b'SCHILY.xattr.security.capability'


class LayerReadError(Exception):
    """A layer's tree cannot be read as it was listed: the tar would not be the layer's."""

    def __init__(self, layer_id, path, reason):
        self.layer_id = layer_id
        self.path = path
        self.reason = reason
        super(LayerReadError, self).__init__('layer %s: %s: %s' % (layer_id or '(unnamed)', _display(path), reason))


def _display(path):
    # Lone surrogates would break the module's JSON output; show undecodable bytes escaped.
    return os.fsencode(path).decode('utf-8', 'backslashreplace')


def _join(directory, name):
    return directory + b'/' + name if directory else name


class TarHeader(object):
    """The fields of one tar entry; name and linkname are bytes, name with '/' for directories."""

    __slots__ = ('name', 'typeflag', 'mode', 'uid', 'gid', 'size', 'mtime', 'linkname',
                 'devmajor', 'devminor', 'capability')

    def __init__(self, name, typeflag, mode=0, uid=0, gid=0, mtime=0):
        self.name = name
        self.typeflag = typeflag
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.size = 0
        self.mtime = mtime
        self.linkname = b''
        self.devmajor = 0
        self.devminor = 0
        self.capability = None


# ---- header encoding -------------------------------------------------------------------------

def _octal(value, width):
    # Go's formatOctal: zero-padded digits, then a NUL.
    return b'%0*o\0' % (width - 1, value)


def _number_field(value, width, key, records):
    """The octal field for value, or a PAX record for it (and 0 in the field) when it does not fit."""
    if 0 <= value < 8 ** (width - 1):
        return _octal(value, width)
    records[key] = b'%d' % value
    return _octal(0, width)


def _placeholder(value, width):
    # Go's toASCII for readers without PAX support: non-ASCII bytes (and NULs) dropped, truncated.
    return _NOT_IN_PLACEHOLDER.sub(b'', value)[:width]


def _text_field(value, width, key, records):
    """value when ustar can hold it (ASCII, fits), else a PAX record and a placeholder."""
    if len(value) <= width and not _NON_ASCII.search(value):
        return value
    records[key] = value
    return _placeholder(value, width)


def _ustar_block(name, mode, uid, gid, size, mtime, typeflag, linkname, devmajor, devminor):
    block = b''.join((
        name.ljust(100, b'\0'), mode, uid, gid, size, mtime,
        b' ' * 8,                    # checksum, counted as spaces
        typeflag, linkname.ljust(100, b'\0'),
        b'ustar\x0000',              # POSIX magic and version
        b'\0' * 64,                  # uname, gname: left empty for determinism
        devmajor, devminor,
        b'\0' * 167,                 # prefix (unused) and the block's tail
    ))
    checksum = b'%06o\0 ' % sum(bytearray(block))
    return block[:148] + checksum + block[156:]


def _pax_record(key, value):
    # "<length> <key>=<value>\n", where length counts its own digits too.
    body = b' ' + key + b'=' + value + b'\n'
    digits = len(b'%d' % len(body))
    while len(b'%d' % (len(body) + digits)) != digits:
        digits += 1
    return b'%d' % (len(body) + digits) + body


def _pax_data(records):
    # Sorted keys, as Go writes them.
    return b''.join(_pax_record(key, records[key]) for key in sorted(records))


def _pax_header_name(name):
    # Go's path.Join(dir, "PaxHeaders.0", file), made ASCII and cut to the field as Go does.
    directory, _sep, base = name.rpartition(b'/')
    joined = b'/'.join(part for part in (directory, b'PaxHeaders.0', base) if part)
    return _placeholder(joined, 100).rstrip(b'/')


def _pax_extended_header(name, records):
    data = _pax_data(records)
    zero = _octal(0, 8)
    block = _ustar_block(_pax_header_name(name), zero, zero, zero, _octal(len(data), 12), _octal(0, 12),
                         XHDTYPE, b'', zero, zero)
    return block + data + b'\0' * (-len(data) % BLOCK_SIZE)


def encode_header(header):
    """The raw bytes of header: a PAX extended header when needed, then the ustar block."""
    records = {}
    block = _ustar_block(
        _text_field(header.name, 100, b'path', records),
        _octal(header.mode, 8),
        _number_field(header.uid, 8, b'uid', records),
        _number_field(header.gid, 8, b'gid', records),
        _number_field(header.size, 12, b'size', records),
        _number_field(header.mtime, 12, b'mtime', records),
        header.typeflag,
        _text_field(header.linkname, 100, b'linkpath', records),
        _octal(header.devmajor, 8),
        _octal(header.devminor, 8),
    )
    if header.capability is not None:
        records[_CAPABILITY_KEY] = header.capability
    if not records:
        return block
    return _pax_extended_header(header.name, records) + block


def whiteout_header(relpath):
    """The whiteout Docker writes for a deleted path: an empty file <dir>/.wh.<name>."""
    directory, _sep, name = relpath.rpartition(b'/')
    return TarHeader(_join(directory, WHITEOUT_PREFIX + name), REGTYPE)


# ---- reading the tree ------------------------------------------------------------------------

class _Regenerator(object):
    """Writes the tar stream of one layer to sink and its tar-split metadata to packer."""

    def __init__(self, root, layer_id, packer, sink):
        self.root = root
        self.layer_id = layer_id
        self.packer = packer
        self.sink = sink
        self.size = 0
        self.tar_bytes = 0
        self._padding = b''      # the previous file's padding opens the next segment
        self._first_paths = {}   # (st_dev, st_ino) -> tar name of a multiply linked file's first path
        self._buffer = bytearray(READ_SIZE)

    def _error(self, relpath, reason):
        if isinstance(reason, OSError):
            reason = reason.strerror or str(reason)
        return LayerReadError(self.layer_id, os.fsdecode(_join(self.root, relpath)), reason)

    def _emit(self, data):
        self.sink.update(data)
        self.tar_bytes += len(data)

    def add(self, relpath, kind):
        relpath = os.fsencode(relpath)
        if kind == DELETE:
            header, st = whiteout_header(relpath), None
        else:
            header, st = self._header_from_disk(relpath)
            if header is None:
                return
        segment = self._padding + encode_header(header)
        self._emit(segment)
        self.packer.add_segment(segment)
        crc = self._copy_content(relpath, st) if header.size else None
        self.packer.add_file(header.name, header.size, crc)
        self.size += header.size
        self._padding = b'\0' * (-header.size % BLOCK_SIZE)

    def finish(self):
        tail = self._padding + END_OF_ARCHIVE
        self._emit(tail)
        self.packer.add_segment(tail)
        # tar-split's disassembler always ends with whatever followed the end-of-archive blocks,
        # nothing here; recording it too makes the metadata identical to what it would write.
        self.packer.add_segment(b'')

    def _header_from_disk(self, relpath):
        path = _join(self.root, relpath)
        try:
            st = os.lstat(path)
            typeflag = _TYPEFLAGS.get(stat.S_IFMT(st.st_mode))
            if typeflag is None:
                return None, st  # a socket
            header = TarHeader(relpath, typeflag, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
                               st.st_mtime_ns // 10 ** 9)
            if typeflag == REGTYPE:
                self._set_regular(header, st)
            elif typeflag == DIRTYPE:
                header.name += b'/'
            elif typeflag == SYMTYPE:
                header.linkname = os.readlink(path)
            elif typeflag in (CHRTYPE, BLKTYPE):
                header.devmajor = os.major(st.st_rdev)
                header.devminor = os.minor(st.st_rdev)
            header.capability = read_capability(path)
        except OSError as exc:
            raise self._error(relpath, exc)
        return header, st

    def _set_regular(self, header, st):
        if st.st_nlink > 1:
            first = self._first_paths.setdefault((st.st_dev, st.st_ino), header.name)
            if first != header.name:
                header.typeflag = LNKTYPE
                header.linkname = first
                return
        header.size = st.st_size

    def _open_regular(self, relpath, st):
        """The file listed with lstat result st, opened without following links or blocking."""
        try:
            fd = os.open(_join(self.root, relpath), _OPEN_FLAGS)
        except OSError as exc:
            raise self._error(relpath, exc)
        try:
            now = os.fstat(fd)
            if not stat.S_ISREG(now.st_mode):
                raise self._error(relpath, 'no longer a regular file')
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                raise self._error(relpath, 'replaced by another file while being read')
            if now.st_size != st.st_size:
                raise self._error(relpath, 'size changed from %d to %d bytes while being read'
                                  % (st.st_size, now.st_size))
        except BaseException:
            os.close(fd)
            raise
        return os.fdopen(fd, 'rb', buffering=0)

    def _copy_content(self, relpath, st):
        """Stream the file's st.st_size bytes to the sink in chunks; return their CRC-64."""
        view = memoryview(self._buffer)
        crc = 0
        remaining = st.st_size
        with self._open_regular(relpath, st) as stream:
            try:
                while remaining:
                    count = stream.readinto(view[:min(remaining, READ_SIZE)])
                    if not count:
                        raise self._error(relpath, 'file shrank while being read: %d of %d bytes'
                                          % (st.st_size - remaining, st.st_size))
                    chunk = view[:count]
                    self._emit(chunk)
                    crc = crc64_iso(chunk, crc)
                    remaining -= count
                grew = stream.read(1)
            except OSError as exc:
                raise self._error(relpath, exc)
        if grew:
            raise self._error(relpath, 'file grew while being read: more than %d bytes' % st.st_size)
        return crc


def regenerate_layer_tar(tree_root, entries, tardata_fileobj, sink, layer_id=''):
    """Write the tar of entries (sorted (relpath, kind) pairs from _tree_changes) to sink.

    tree_root is the directory the relpaths are relative to (the aufs diff dir, or the layer's full
    tree); 'delete' entries become whiteouts, the others are read from the tree. The new tar-split
    metadata goes, gzip-compressed, to the binary file object tardata_fileobj (left open; on an
    exception it is incomplete and must be discarded). Returns (size, tar_bytes): the sum of the
    file sizes, which Docker records as the layer's size, and the length of the stream.
    Raises LayerReadError when the tree cannot be read as listed."""
    packer = TarSplitPacker(tardata_fileobj)
    regenerator = _Regenerator(os.fsencode(tree_root), layer_id, packer, sink)
    for relpath, kind in entries:
        regenerator.add(relpath, kind)
    regenerator.finish()
    packer.close()
    return regenerator.size, regenerator.tar_bytes
