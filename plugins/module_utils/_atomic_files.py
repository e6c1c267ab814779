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

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.commands import pid_alive

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
    try:
        # opened inside the try: a stop signal raised right after the open still removes the file
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, 'O_CLOEXEC', 0), mode)
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


def remove_stale_temps(directory, keep_live_runs=False):
    """Remove temporary files left by killed runs in directory; returns how many.

    keep_live_runs: leave those named after a pid that still runs (another run may be writing them)."""
    removed = 0
    try:
        names = os.listdir(directory)
    except OSError:
        return 0
    for name in names:
        if TEMP_MARKER not in name:
            continue
        pid = name.rsplit(TEMP_MARKER, 1)[1]
        if keep_live_runs and pid.isdigit() and pid_alive(int(pid)):
            continue
        _remove_quietly(os.path.join(directory, name))
        removed += 1
    return removed


def _remove_quietly(path):
    try:
        os.unlink(path)
    except OSError:
        pass
