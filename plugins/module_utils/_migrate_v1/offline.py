# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker 1.10.3's whole first-start migration, done offline while the daemon is stopped.

The plan (_migration_plan) says which files the daemon would write; this writes them so that the
daemon's first start finds everything done. Safety rules:

- Refused while a daemon answers on the socket or the pid file names a live process (check mode, which
  only reads, runs anyway), and while another run holds the lock (flock on the docker root).
- Refused while a legacy layer that is not migrated yet lacks valid checksum files: the daemon would
  hash it at start, which is what this is meant to avoid (run layer_checksums first).
- Staged, then renamed into place: every file is first written and fsynced under
  ``<docker root>/.fleetops-offline-migration.staging``; the commit then renames whole new directories
  (``image/<driver>`` on a store never migrated: a single rename) and single files into place, in an
  order where every intermediate state is one the daemon itself accepts and completes (layers, images,
  v2 metadata, mounts, repositories.json, container configs, the mappings, the tags marker).
- Any error or a stop signal before the commit leaves the store as it was; an error during the commit
  undoes what the commit did (new paths are moved back, replaced files restored from hard-linked
  copies); a stop signal during the commit is held until the commit is complete. After a SIGKILL or a
  power loss in the middle of the commit, the store is one the daemon completes by itself, and a new
  run completes it too (leftover staging is removed first).
- Files that already hold the right bytes and mode are left alone, so a second run changes nothing.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import fcntl
import os
import shutil
import signal
import socket

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.image_store import (
    DIR_PRIVATE, dir_mode, skeleton_dirs)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.plan import plan_migration

STAGING_DIR = '.fleetops-offline-migration.staging'
_BACKUP_DIR = '.replaced'
_COPY_CHUNK = 1024 * 1024


class OfflineMigrationError(Exception):
    """The offline migration cannot run, or failed and left the store as it was."""


class Interrupted(OfflineMigrationError):
    pass


# --------------------------------------------------------------------------------------------------
# Preconditions

def daemon_running(socket_path, pid_file):
    """A reason why a Docker daemon seems to run, or None."""
    if socket_path and os.path.exists(socket_path):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(2.0)
        try:
            conn.connect(socket_path)
            return 'a daemon answers on %s' % socket_path
        except (OSError, socket.timeout):
            pass
        finally:
            conn.close()
    if pid_file:
        try:
            with open(pid_file, 'rb') as stream:
                pid = int(stream.read().strip() or 0)
        except (IOError, OSError, ValueError):
            pid = 0
        if pid > 0:
            try:
                os.kill(pid, 0)
                alive = True
            except OSError as exc:
                alive = exc.errno == errno.EPERM
            if alive:
                return 'process %d of %s is alive' % (pid, pid_file)
    return None


class _Lock(object):
    """flock on the docker root directory: one offline migration at a time."""

    def __init__(self, docker_root):
        self.docker_root = docker_root
        self.fd = None

    def __enter__(self):
        self.fd = os.open(self.docker_root, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError):
            os.close(self.fd)
            raise OfflineMigrationError('another offline migration holds the lock on %s' % self.docker_root)
        return self

    def __exit__(self, *exc_info):
        os.close(self.fd)
        return False


class _StopSignals(object):
    """SIGTERM and SIGINT raise Interrupted while staging; during the commit they are only noted."""

    def __init__(self):
        self.raise_now = True
        self.received = None
        self._saved = {}

    def _handle(self, signum, _frame):
        self.received = signum
        if self.raise_now:
            raise Interrupted('stopped by signal %d before the commit; the store is unchanged' % signum)

    def __enter__(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._saved[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc_info):
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
        return False


# --------------------------------------------------------------------------------------------------
# Comparing the plan with the disk

def _same_file(path, write, mode):
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not os.path.isfile(path) or os.path.islink(path) or (st.st_mode & 0o7777) != mode:
        return False
    if write.data is not None:
        if st.st_size != len(write.data):
            return False
        with open(path, 'rb') as stream:
            return stream.read() == write.data
    try:
        if os.path.getsize(write.source) != st.st_size:
            return False
    except OSError:
        return False
    with open(path, 'rb') as mine, open(write.source, 'rb') as theirs:
        while True:
            left = mine.read(_COPY_CHUNK)
            if left != theirs.read(_COPY_CHUNK):
                return False
            if not left:
                return True


def _dir_mode(driver_name, relative):
    parts = relative.split(os.sep)
    if parts[0] == 'image' and len(parts) <= 2:
        return DIR_PRIVATE
    if parts[0] == 'image':
        return dir_mode(os.sep.join(parts[2:]))
    return DIR_PRIVATE


class Action(object):
    __slots__ = ('kind', 'path', 'mode', 'write')

    def __init__(self, kind, path, mode, write=None):
        self.kind = kind      # 'dir', 'create' or 'replace'
        self.path = path
        self.mode = mode
        self.write = write


def plan_actions(docker_root, plan):
    """The writes of plan that the disk does not hold yet, as Actions, plus missing skeleton dirs."""
    actions = []
    if plan.no_graph:
        return actions
    for directory, mode in skeleton_dirs(plan.driver_name):
        if not os.path.isdir(os.path.join(docker_root, directory)):
            actions.append(Action('dir', directory, mode))
    for write in plan.writes():
        target = os.path.join(docker_root, write.path)
        if _same_file(target, write, write.mode):
            continue
        if os.path.isdir(target) and not os.path.islink(target):
            raise OfflineMigrationError('%s is a directory where Docker writes a file' % target)
        actions.append(Action('replace' if os.path.lexists(target) else 'create', write.path, write.mode, write))
    return actions


# --------------------------------------------------------------------------------------------------
# Staging and commit

def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class _Transaction(object):
    def __init__(self, docker_root, driver_name):
        self.root = docker_root
        self.driver_name = driver_name
        self.staging = os.path.join(docker_root, STAGING_DIR)
        self.done = []
        self.bytes_written = 0

    # staging --------------------------------------------------------------------------------------
    def clear_staging(self):
        if os.path.lexists(self.staging):
            shutil.rmtree(self.staging)

    def _staged_dir(self, relative):
        """Create relative (and its parents) under the staging dir with the target's modes."""
        path = self.staging
        parts = relative.split(os.sep) if relative else []
        for index in range(len(parts)):
            path = os.path.join(path, parts[index])
            if not os.path.isdir(path):
                mode = _dir_mode(self.driver_name, os.sep.join(parts[:index + 1]))
                os.mkdir(path, mode)
                os.chmod(path, mode)
        return path

    def stage(self, action):
        if action.kind == 'dir':
            self._staged_dir(action.path)
            return
        directory = self._staged_dir(os.path.dirname(action.path))
        path = os.path.join(directory, os.path.basename(action.path))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, 'O_CLOEXEC', 0), action.mode)
        with os.fdopen(fd, 'wb') as out:
            if action.write.data is not None:
                out.write(action.write.data)
                self.bytes_written += len(action.write.data)
            else:
                with open(action.write.source, 'rb') as source:
                    while True:
                        chunk = source.read(_COPY_CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        self.bytes_written += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(path, action.mode)

    def sync_staging(self):
        for directory, _dirs, _files in os.walk(self.staging):
            _fsync_dir(directory)

    # commit ---------------------------------------------------------------------------------------
    def units(self, actions):
        """What the commit renames: the topmost missing ancestor of each new path (once), or the
        file itself when it replaces one."""
        units = []
        seen = set()
        for action in actions:
            if action.kind == 'replace':
                unit = ('replace', action.path)
            else:
                parts = action.path.split(os.sep)
                unit = None
                for index in range(1, len(parts) + 1):
                    prefix = os.sep.join(parts[:index])
                    if not os.path.lexists(os.path.join(self.root, prefix)):
                        unit = ('create', prefix)
                        break
                if unit is None:
                    continue
            if unit[1] in seen:
                continue
            seen.add(unit[1])
            units.append(unit)
        return units

    def commit(self, units):
        for kind, relative in units:
            target = os.path.join(self.root, relative)
            staged = os.path.join(self.staging, relative)
            if kind == 'replace':
                backup = os.path.join(self.staging, _BACKUP_DIR, relative)
                backup_dir = os.path.dirname(backup)
                if not os.path.isdir(backup_dir):
                    os.makedirs(backup_dir)
                os.link(target, backup, follow_symlinks=False)
                _rename(staged, target)
                self.done.append(('replaced', target, backup))
            else:
                _rename(staged, target)
                self.done.append(('created', target, staged))
            _fsync_dir(os.path.dirname(target))

    def rollback(self):
        errors = []
        for kind, target, other in reversed(self.done):
            try:
                if kind == 'replaced':
                    os.rename(other, target)
                else:
                    os.rename(target, other)
                _fsync_dir(os.path.dirname(target))
            except OSError as exc:
                errors.append('%s: %s' % (target, exc))
        self.done = []
        return errors


def _rename(source, target):
    """os.rename, a seam for tests that simulate a failure in the middle of the commit."""
    os.rename(source, target)


def _disk_needed(actions):
    needed = 0
    for action in actions:
        if action.write is None:
            needed += 4096
        elif action.write.data is not None:
            needed += len(action.write.data) + 4096
        else:
            try:
                needed += os.path.getsize(action.write.source) + 4096
            except OSError:
                needed += 4096
    return needed


def _check_disk(docker_root, needed):
    stats = os.statvfs(docker_root)
    free = stats.f_bavail * stats.f_frsize
    if needed > free:
        raise OfflineMigrationError('%d bytes needed under %s, %d free' % (needed, docker_root, free))


# --------------------------------------------------------------------------------------------------
# The run

def _result(plan, actions, changed):
    summary = plan.summary()
    summary.update(
        changed=changed,
        storage_driver=plan.driver_name,
        images=[image.as_dict() for image in plan.images],
        containers=[container.as_dict() for container in plan.containers],
        tags=dict((tag.reference, tag.image_id) for tag in plan.tags if tag.added),
        tags_already_migrated=plan.tags_already,
        mappings=dict(sorted(plan.mappings.items())),
        problems=list(plan.problems),
        layers_left_to_daemon=list(plan.pending_layers),
        files_planned=sum(1 for action in actions if action.kind != 'dir'),
        bytes_written=0,
    )
    return summary


def offline_migrate(docker_root, driver_name, check_mode=False, socket_path='/var/run/docker.sock',
                    pid_file='/var/run/docker.pid', allow_pending_layers=False):
    """Do (or, in check mode, plan) Docker 1.10.3's migration of docker_root. Returns the result
    dict; raises OfflineMigrationError (Interrupted for a stop signal) with the store unchanged.
    Check mode only reads, so it runs while the daemon runs too (a plan of the store as it is then).

    allow_pending_layers: migrate what can be migrated although some layers lack checksum files; the
    daemon then hashes those at its first start and migrates their images and all the tags itself."""
    docker_root = os.path.abspath(docker_root)
    running = None if check_mode else daemon_running(socket_path, pid_file)
    if running:
        raise OfflineMigrationError('refusing to migrate while the Docker daemon runs (%s); stop it first' % running)
    with _Lock(docker_root):
        transaction = _Transaction(docker_root, driver_name)
        if not check_mode:
            transaction.clear_staging()  # left by a killed run: its commit, if any, is on disk already
        plan = plan_migration(docker_root, driver_name, leave_pending=allow_pending_layers)
        if plan.pending_layers and not allow_pending_layers:
            raise OfflineMigrationError(
                '%d layer(s) have no valid checksum files, which the daemon would compute at its first start '
                '(run layer_checksums first): %s' % (len(plan.pending_layers), ', '.join(plan.pending_layers[:10])))
        actions = plan_actions(docker_root, plan)
        result = _result(plan, actions, bool(actions))
        if check_mode or not actions:
            return result
        _check_disk(docker_root, _disk_needed(actions))
        with _StopSignals() as signals:
            try:
                os.mkdir(transaction.staging, 0o700)
                for action in actions:
                    transaction.stage(action)
                transaction.sync_staging()
                units = transaction.units(actions)
                signals.raise_now = False
                if signals.received:
                    raise Interrupted('stopped by signal %d before the commit; the store is unchanged'
                                      % signals.received)
                try:
                    transaction.commit(units)
                except BaseException as exc:
                    errors = transaction.rollback()
                    if errors:
                        raise OfflineMigrationError('commit failed (%s) and could not be undone fully: %s'
                                                    % (exc, '; '.join(errors)))
                    raise OfflineMigrationError('commit failed, the store is unchanged: %s' % exc)
            except (OSError, IOError) as exc:
                raise OfflineMigrationError('staging failed, the store is unchanged: %s' % exc)
            finally:
                signals.raise_now = False
                try:
                    transaction.clear_staging()
                except OSError:
                    pass
                _fsync_dir(docker_root)
        result['bytes_written'] = transaction.bytes_written
        if signals.received:
            result['warnings'] = ['stop signal %d arrived during the commit, which was completed first' % signals.received]
        return result
