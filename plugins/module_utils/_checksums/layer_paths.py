# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open the files that tar-split metadata names, strictly inside one layer's tree.

Docker 1.9 extracted layers in a chroot, so inside a layer an absolute symlink such as
``lib64 -> /usr/lib`` means the layer's own usr/lib. Docker's v1.10-migrator joined names onto the
host path and let the kernel follow links, which reads host files. Here every component is resolved
by hand as if the layer root were ``/``: symlinks are followed only inside it (``..`` in a link
target stops at the root, as in a chroot), a name whose own ``..`` climbs above the root is refused,
and the final open never follows a link and never blocks on a FIFO or device.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import os
import stat

_MAX_SYMLINK_HOPS = 40  # the kernel's own limit (MAXSYMLINKS)
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)


class LayerPathError(Exception):
    """A name from layer metadata that does not lead to a regular file inside the layer."""

    def __init__(self, name, reason, missing=False):
        self.name = name
        self.reason = reason
        self.missing = missing
        super(LayerPathError, self).__init__('%s: %s' % (os.fsdecode(name), reason))


def _components(path):
    return [part for part in path.split(b'/') if part not in (b'', b'.')]


class LayerFileOpener(object):
    """Resolves names inside root (bytes or str) and opens regular files read-only."""

    def __init__(self, root):
        self.root = os.fsencode(root)
        self._resolved_dirs = {}

    def _resolve(self, name, follow_last, start=()):
        """Return the list of real components of name below the root (no symlinks left), name being
        relative to start, a list of real components already resolved."""
        pending = _components(name)
        pending.reverse()  # a stack: the next component is at the end
        resolved = list(start)
        hops = 0
        in_link = 0  # how many pending components came from symlink targets
        while pending:
            part = pending.pop()
            from_link = in_link > 0
            in_link = max(in_link - 1, 0)
            if part == b'..':
                if resolved:
                    resolved.pop()
                elif not from_link:
                    raise LayerPathError(name, 'climbs above the layer root')
                continue
            candidate = resolved + [part]
            try:
                st = os.lstat(b'/'.join([self.root] + candidate))
            except OSError as exc:
                if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                    raise LayerPathError(name, 'no such file in the layer', missing=True)
                raise LayerPathError(name, os.strerror(exc.errno))
            is_last = not pending
            if stat.S_ISLNK(st.st_mode) and (follow_last or not is_last):
                hops += 1
                if hops > _MAX_SYMLINK_HOPS:
                    raise LayerPathError(name, 'too many levels of symbolic links')
                target = os.readlink(b'/'.join([self.root] + candidate))
                if target.startswith(b'/'):
                    resolved = []  # absolute targets restart at the layer root, as in the chroot
                link_parts = _components(target)
                in_link += len(link_parts)
                pending.extend(reversed(link_parts))
                continue
            if not is_last and not stat.S_ISDIR(st.st_mode):
                raise LayerPathError(name, 'a path component is not a directory', missing=True)
            resolved = candidate
        return resolved

    def _real_parent(self, name):
        """(real components of name's directory, last component), directories cached per layer."""
        head, _sep, tail = name.rpartition(b'/')
        parent = self._resolved_dirs.get(head)
        if parent is None:
            parent = self._resolve(head, follow_last=True) if head else []
            self._resolved_dirs[head] = parent
        return parent, tail

    def resolve(self, name):
        """Absolute host path (bytes) of the regular file that name means inside the layer."""
        parent, tail = self._real_parent(os.fsencode(name))
        # The last component is resolved relative to the already-real parent directory.
        rest = self._resolve(tail, follow_last=True, start=parent) if tail else parent
        return b'/'.join([self.root] + rest)

    def open(self, name):
        """Open name for reading; returns a raw file object. Never follows a final link, never blocks."""
        fd, _size = self.open_fd(name)
        return os.fdopen(fd, 'rb', buffering=0)

    def open_fd(self, name):
        """Like open, but returns (file descriptor, size): the caller closes the descriptor."""
        name = os.fsencode(name)
        parent, tail = self._real_parent(name)
        fd = None
        if tail not in (b'', b'.', b'..'):
            # Fast path, one system call for the usual case: O_NOFOLLOW refuses a final symlink
            # (ELOOP), which then takes the slow path below.
            try:
                fd = os.open(b'/'.join([self.root] + parent + [tail]), _OPEN_FLAGS)
            except OSError as exc:
                if exc.errno == errno.ENOENT:
                    raise LayerPathError(name, 'no such file in the layer', missing=True)
                if exc.errno not in (errno.ELOOP, errno.EMLINK):
                    raise LayerPathError(name, os.strerror(exc.errno), missing=exc.errno == errno.ENOTDIR)
        if fd is None:
            try:
                fd = os.open(self.resolve(name), _OPEN_FLAGS)
            except OSError as exc:
                raise LayerPathError(name, os.strerror(exc.errno), missing=exc.errno == errno.ENOENT)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise LayerPathError(name, 'not a regular file')
        return fd, st.st_size
