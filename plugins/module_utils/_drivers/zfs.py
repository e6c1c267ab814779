# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""zfs: every layer is a dataset <fs>/<id> (mountpoint=legacy), a clone of its parent's: a full root
filesystem at the dataset's root.

<fs> is storage option zfs.fsname, else the zfs dataset mounted where the docker root is (Docker 1.9
compares the docker root's st_dev with the zfs mounts). To read a layer this driver mounts its dataset
read-only in a private directory (``mount -t zfs -o ro <fs>/<id> <dir>``) and unmounts it on every exit
path. Datasets are never created, cloned, snapshotted or changed. Docker's v1.10-migrator had no zfs
support.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import os

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.commands import (
    CommandError, PrivateMount, StoreLock, missing_binaries, missing_binaries_message, privilege_problem,
    read_mounts, run_command, stop_signals_blocked, sweep_private_mounts)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.base import DriverUnavailable, StorageDriver


class LayerDatasetError(OSError):
    """This layer's dataset cannot be read; the layer fails alone."""


def parse_zfs_options(storage_opts):
    fsname = None
    for option in storage_opts:
        key, sep, value = option.partition('=')
        key = key.strip().lower()
        if not sep:
            raise DriverUnavailable('storage option %r is not key=value' % option)
        if key != 'zfs.fsname':
            raise DriverUnavailable('unknown storage option %s for zfs (Docker 1.9 knows zfs.fsname)' % key)
        fsname = value.strip()
    return fsname


class ZfsDriver(StorageDriver):
    name = 'zfs'
    ZFS_DEVICE = '/dev/zfs'
    MOUNTINFO = '/proc/self/mountinfo'   # where the dataset behind the docker root is looked up

    def __init__(self, docker_root, storage_opts=None):
        super(ZfsDriver, self).__init__(docker_root, storage_opts)
        self.option_fsname = parse_zfs_options(self.storage_opts)
        self._fsname = None
        self._datasets = None
        self._roots = {}
        self._lock = StoreLock()
        self.sweep_problems = []

    def fsname(self):
        """zfs.fsname, else the zfs dataset mounted at the filesystem of the docker root."""
        if self._fsname is None:
            self._fsname = self.option_fsname or self._dataset_of_docker_root()
        return self._fsname

    def _dataset_of_docker_root(self):
        try:
            dev = os.stat(self.docker_root).st_dev
        except OSError as exc:
            raise DriverUnavailable('zfs: %s: %s' % (self.docker_root, exc.strerror or exc))
        for major, minor, _mountpoint, fstype, source in read_mounts(self.MOUNTINFO):
            if fstype == 'zfs' and (major, minor) == (os.major(dev), os.minor(dev)):
                return source
        raise DriverUnavailable('zfs: %s is not on a mounted zfs dataset; give the dataset with storage option '
                                'zfs.fsname=<pool/dataset> (`docker info` shows it as Parent Dataset)' % self.docker_root)

    def dataset(self, layer_id):
        return '%s/%s' % (self.fsname(), layer_id)

    def layer_root(self, layer_id):
        # While mounted: our private mount. Otherwise the daemon's mount point (messages only).
        return self._roots.get(layer_id) or os.path.join(self.home, 'graph', layer_id)

    def has_layer(self, layer_id):
        if self._datasets is None:
            self._datasets = self._list_datasets()
        if self.dataset(layer_id) in self._datasets:
            return True
        # A layer made after the listing: ask for it alone.
        try:
            proc = run_command(['zfs', 'list', '-H', '-o', 'name', '-t', 'filesystem', self.dataset(layer_id)],
                               check=False)
        except CommandError:
            return False
        return proc.returncode == 0 and proc.stdout.strip() == self.dataset(layer_id)

    def _list_datasets(self):
        try:
            proc = run_command(['zfs', 'list', '-H', '-o', 'name', '-t', 'filesystem', '-r', self.fsname()])
        except CommandError:
            return set()
        return set(line.strip() for line in proc.stdout.splitlines() if line.strip())

    def check_privileges(self):
        problem = privilege_problem()
        if problem:
            raise DriverUnavailable('zfs: %s' % problem)
        missing = missing_binaries(['zfs', 'mount', 'umount'])
        if missing:
            raise DriverUnavailable(missing_binaries_message('zfs', missing))
        if not os.path.exists(self.ZFS_DEVICE):
            raise DriverUnavailable('zfs: %s is missing: in a container, run it with --privileged -v /dev:/dev; on the '
                                    'host, the zfs kernel module is not loaded' % self.ZFS_DEVICE)
        fsname = self.fsname()
        try:
            proc = run_command(['zfs', 'list', '-H', '-o', 'name', '-t', 'filesystem', fsname], check=False)
        except CommandError as exc:
            raise DriverUnavailable('zfs: %s' % exc)
        if proc.returncode != 0 or proc.stdout.strip() != fsname:
            raise DriverUnavailable('zfs: dataset %s is not available (%s): import its pool, or give the one '
                                    '`docker info` shows as Parent Dataset with storage option zfs.fsname'
                                    % (fsname, ' '.join(proc.stderr.split()) or 'not listed'))
        try:
            alone = self._lock.acquire(self.docker_root)
        except OSError:
            alone = False
        self.sweep_problems = sweep_private_mounts(alone)
        self._datasets = self._list_datasets()

    @contextlib.contextmanager
    def mounted(self, layer_id):
        if not layer_id or layer_id in self._roots:
            yield
            return
        mount = PrivateMount(layer_id)
        try:
            mount.mount(['mount', '-t', 'zfs', '-o', 'ro', self.dataset(layer_id)])
            self._roots[layer_id] = mount.tree()
            yield
        except BaseException:
            self._roots.pop(layer_id, None)
            self._release(mount, quiet=True)
            raise
        self._roots.pop(layer_id, None)
        self._release(mount, quiet=False)

    @staticmethod
    def _release(mount, quiet):
        with stop_signals_blocked():
            try:
                mount.release()
            except OSError as exc:
                if not quiet:
                    raise LayerDatasetError('cleanup: %s' % exc)
