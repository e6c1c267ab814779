# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write files so that a reader, or a run killed at any instant, sees the old file or the new one.

Every file goes to a temporary name in the same directory, is fsynced, renamed over the target and
the directory is fsynced. Temporary names share one marker so an interrupted run's leftovers can be
found and removed by the next run.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import os

TEMP_MARKER = '.fleetops-tmp-'


def temp_path_for(path):
    directory, name = os.path.split(path)
    return os.path.join(directory, '%s%s%d' % (name, TEMP_MARKER, os.getpid()))


def _fsync_directory(directory):
    fd = os.open(directory or '.', os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path, mode=0o600):
    """Yield a binary file object; on a clean exit it replaces path, on any exception nothing changes."""
    temp = temp_path_for(path)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, 'O_CLOEXEC', 0), mode)
    try:
        with os.fdopen(fd, 'wb') as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)  # the umask may have narrowed it
        os.rename(temp, path)
    except BaseException:
        _remove_quietly(temp)
        raise
    _fsync_directory(os.path.dirname(path))


def write_atomic(path, data, mode=0o600):
    with atomic_writer(path, mode) as stream:
        stream.write(data)


def link_atomic(source, path):
    """Make path a hard link to source, replacing whatever path was."""
    if _same_file(source, path):
        return  # a resumed run: rename(2) between two links of one inode would do nothing
    temp = temp_path_for(path)
    _remove_quietly(temp)
    try:
        os.link(source, temp)
        os.rename(temp, path)
    finally:
        # rename leaves temp in place when path became a link to the same inode meanwhile
        _remove_quietly(temp)
    _fsync_directory(os.path.dirname(path))


def _same_file(source, path):
    try:
        return os.path.samestat(os.stat(source), os.lstat(path))
    except OSError:
        return False


def remove_stale_temps(directory):
    """Remove temporary files left by a killed run in directory; returns how many."""
    removed = 0
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    for name in names:
        if TEMP_MARKER in name:
            _remove_quietly(os.path.join(directory, name))
            removed += 1
    return removed


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass
