# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""devicemapper: every layer is a thin device in one thin pool, a full root filesystem under rootfs/.

Docker 1.9 (daemon/graphdriver/devmapper) keeps, in <docker root>/devicemapper:
``metadata/<id>`` (JSON: device_id, size in bytes, transaction_id, initialized, deleted) per layer,
and, for a loopback pool, ``devicemapper/data`` and ``devicemapper/metadata``. The pool is
``dm.thinpooldev`` when given, else ``docker-<major>:<minor>-<inode>-pool`` from the stat of that
devicemapper directory.

To read a layer, this driver activates the layer's thin device under a name of its own,
``fleetops-mig-<pid>-<layer id>`` (never one the daemon uses: the daemon's are docker-...-<id>), read-only,
with the table Docker uses (``0 <size/512> thin /dev/mapper/<pool> <device_id>``), mounts it read-only
in a private directory (ext4 ``ro,noload``, xfs ``ro,nouuid,norecovery``, plus dm.mountopt), reads
``rootfs/``, then unmounts and removes the device, on every exit path. The daemon's own activations and
mounts are never touched; the pool must be active (the daemon runs), it is never created or changed.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import json
import os
import re
import time

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.commands import (
    NAME_PREFIX, CommandError, PrivateMount, StoreLock, leftover_pid, missing_binaries, missing_binaries_message,
    pid_alive, privilege_problem, read_mounts, run_cleanup_command, run_command, stop_signals_blocked,
    sweep_private_mounts, unmount)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.base import DriverUnavailable, StorageDriver

# Every option Docker 1.9's devmapper accepted; the daemon refused anything else, so do we.
KNOWN_OPTIONS = ('dm.basesize', 'dm.loopdatasize', 'dm.loopmetadatasize', 'dm.fs', 'dm.mkfsarg', 'dm.mountopt',
                 'dm.metadatadev', 'dm.datadev', 'dm.thinpooldev', 'dm.blkdiscard', 'dm.blocksize',
                 'dm.override_udev_sync_check', 'dm.use_deferred_removal', 'dm.use_deferred_deletion')
DEFAULT_BASE_SIZE = 100 * 1024 * 1024 * 1024   # Docker 1.9.1's defaultBaseFsSize
MOUNT_OPTIONS = {'ext4': ['ro', 'noload'], 'xfs': ['ro', 'nouuid', 'norecovery']}
_SIZE = re.compile(r'^(\d+)([kKmMgGtTpP])?[bB]?$')   # Docker 1.9's units.RAMInBytes
_GO_TRUE = ('1', 't', 'T', 'TRUE', 'true', 'True')
_GO_FALSE = ('0', 'f', 'F', 'FALSE', 'false', 'False')
_LISTED_DEVICE = re.compile(r'^(\S+)\s+\((\d+)(?::|,\s*)(\d+)\)\s*$')


class LayerDeviceError(OSError):
    """This layer's device cannot be read (its metadata, its filesystem); the layer fails alone."""


def parse_size(value):
    match = _SIZE.match(value.strip())
    if not match:
        raise ValueError('invalid size %r' % value)
    return int(match.group(1)) * 1024 ** ' kmgtp'.index((match.group(2) or ' ').lower())


def parse_go_bool(value):
    if value in _GO_TRUE:
        return True
    if value in _GO_FALSE:
        return False
    raise ValueError('invalid boolean %r' % value)


class DevicemapperOptions(object):
    """The dm.* storage options that matter when reading: the pool, its backing devices, the
    filesystem, mount options, how to remove a device, the size of a device without one recorded."""

    def __init__(self, storage_opts):
        self.thinpooldev = None
        self.datadev = None
        self.metadatadev = None
        self.fs = None
        self.mountopt = []
        self.deferred_removal = False
        self.basesize = DEFAULT_BASE_SIZE
        for option in storage_opts:
            key, sep, value = option.partition('=')
            key, value = key.strip().lower(), value.strip()
            if not sep:
                raise DriverUnavailable('storage option %r is not key=value' % option)
            if key not in KNOWN_OPTIONS:
                raise DriverUnavailable('unknown storage option %s for devicemapper (Docker 1.9 knows %s)'
                                        % (key, ', '.join(KNOWN_OPTIONS)))
            try:
                self._set(key, value)
            except ValueError as exc:
                raise DriverUnavailable('storage option %s: %s' % (key, exc))

    def _set(self, key, value):
        if key == 'dm.thinpooldev':
            self.thinpooldev = value[len('/dev/mapper/'):] if value.startswith('/dev/mapper/') else value
        elif key == 'dm.datadev':
            self.datadev = value
        elif key == 'dm.metadatadev':
            self.metadatadev = value
        elif key == 'dm.fs':
            if value not in MOUNT_OPTIONS:
                raise ValueError('unsupported filesystem %r (ext4 or xfs)' % value)
            self.fs = value
        elif key == 'dm.mountopt':
            self.mountopt.extend(part for part in value.split(',') if part)
        elif key == 'dm.use_deferred_removal':
            self.deferred_removal = parse_go_bool(value)
        elif key == 'dm.basesize':
            self.basesize = parse_size(value)
        elif key in ('dm.loopdatasize', 'dm.loopmetadatasize', 'dm.blocksize'):
            parse_size(value)       # only used to create pools and devices: checked, not used
        elif key in ('dm.blkdiscard', 'dm.override_udev_sync_check', 'dm.use_deferred_deletion'):
            parse_go_bool(value)


def docker_pool_name(home):
    """docker-<major>:<minor>-<inode>-pool, as deviceset.go (v1.9.1) derives it from the devicemapper home."""
    st = os.stat(home)
    major = (st.st_dev >> 8) & 0xfff
    minor = (st.st_dev & 0xff) | ((st.st_dev >> 12) & 0xfff00)
    return 'docker-%d:%d-%d-pool' % (major, minor, st.st_ino)


def device_name(layer_id, pid=None):
    return '%s%d-%s' % (NAME_PREFIX, os.getpid() if pid is None else pid, layer_id)


class DevicemapperDriver(StorageDriver):
    name = 'devicemapper'
    DEV_MAPPER = '/dev/mapper'
    CONTROL = '/dev/mapper/control'
    REMOVE_ATTEMPTS = 10
    REMOVE_DELAY = 0.2

    def __init__(self, docker_root, storage_opts=None):
        super(DevicemapperDriver, self).__init__(docker_root, storage_opts)
        self.options = DevicemapperOptions(self.storage_opts)
        self._roots = {}
        self._lock = StoreLock()
        self.sweep_problems = []

    # Where things are ---------------------------------------------------------------------------

    def pool_name(self):
        return self.options.thinpooldev or docker_pool_name(self.home)

    def metadata_path(self, layer_id):
        return os.path.join(self.home, 'metadata', layer_id)

    def device_info(self, layer_id):
        """The layer's metadata/<id> JSON, checked; raises LayerDeviceError."""
        path = self.metadata_path(layer_id)
        try:
            with open(path) as stream:
                info = json.load(stream)
        except (OSError, ValueError) as exc:
            raise LayerDeviceError('cannot read device metadata %s: %s' % (path, exc))
        if not isinstance(info, dict) or not isinstance(info.get('device_id'), int) or isinstance(info['device_id'], bool):
            raise LayerDeviceError('device metadata %s has no device_id' % path)
        if info.get('deleted'):
            raise LayerDeviceError('device %s is marked deleted in %s' % (info['device_id'], path))
        size = info.get('size')
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            info['size'] = self.options.basesize
        return info

    def layer_root(self, layer_id):
        # While mounted: the layer's rootfs/ in our private mount. Otherwise where the daemon mounts it
        # (only shown in messages; this driver never reads there).
        return self._roots.get(layer_id) or os.path.join(self.home, 'mnt', layer_id, 'rootfs')

    def has_layer(self, layer_id):
        try:
            self.device_info(layer_id)
        except OSError:
            return False
        return True

    def thin_table(self, info):
        return '0 %d thin %s %d' % (info['size'] // 512, os.path.join(self.DEV_MAPPER, self.pool_name()),
                                    info['device_id'])

    # Before any work ----------------------------------------------------------------------------

    def check_privileges(self):
        problem = privilege_problem()
        if problem:
            raise DriverUnavailable('devicemapper: %s' % problem)
        needed = ['dmsetup', 'mount', 'umount'] + ([] if self.options.fs else ['blkid'])
        missing = missing_binaries(needed)
        if missing:
            raise DriverUnavailable(missing_binaries_message('devicemapper', missing))
        if not os.path.exists(self.CONTROL):
            raise DriverUnavailable(
                'devicemapper: %s is missing, so no device can be activated: in a container, run it with '
                '--privileged -v /dev:/dev; on the host, the dm_thin_pool kernel module is not loaded '
                '(the daemon loads it when it starts)' % self.CONTROL)
        if not os.path.isdir(self.home):
            raise DriverUnavailable('devicemapper: no %s directory' % self.home)
        pool = self.pool_name()
        self._check_pool(pool)
        self._check_backing(pool)
        self.sweep_problems = self._sweep(pool)

    def _pool_origin(self):
        if self.options.thinpooldev:
            return 'storage option dm.thinpooldev'
        data = self.options.datadev or os.path.join(self.home, 'devicemapper', 'data')
        metadata = self.options.metadatadev or os.path.join(self.home, 'devicemapper', 'metadata')
        return ('derived from %s as Docker 1.9 does; backed by %s and %s'
                % (self.home, data, metadata))

    def _check_pool(self, pool):
        try:
            proc = run_command(['dmsetup', 'status', pool], check=False)
        except CommandError as exc:
            raise DriverUnavailable('devicemapper: %s' % exc)
        fields = proc.stdout.split()
        if proc.returncode != 0 or len(fields) < 3 or fields[2] != 'thin-pool':
            raise DriverUnavailable(
                'devicemapper: thin pool %s (%s) is not active: %s. Run this while the Docker 1.9 daemon '
                'is up (it activates the pool), or give the pool that `docker info` shows as Pool Name '
                'with storage option dm.thinpooldev=<name>'
                % (pool, self._pool_origin(), ' '.join((proc.stderr or proc.stdout).split()) or 'not a thin pool'))
        if 'Fail' in fields[3:]:
            raise DriverUnavailable('devicemapper: thin pool %s has failed (dmsetup status: %s); repair it first'
                                    % (pool, ' '.join(fields)))

    def _check_backing(self, pool):
        """With dm.datadev/dm.metadatadev given, the pool must be built on them (else these options
        describe another host)."""
        wanted = [(label, path) for label, path in (('metadata', self.options.metadatadev), ('data', self.options.datadev))
                  if path]
        if not wanted or self.options.thinpooldev:
            return
        try:
            fields = run_command(['dmsetup', 'table', pool]).stdout.split()
        except CommandError as exc:
            raise DriverUnavailable('devicemapper: %s' % exc)
        # 0 <length> thin-pool <metadata dev> <data dev> <block size> <low water mark> ...
        actual = {'metadata': fields[3] if len(fields) > 4 else None, 'data': fields[4] if len(fields) > 4 else None}
        for label, path in wanted:
            try:
                rdev = os.stat(path).st_rdev
                expected = '%d:%d' % (os.major(rdev), os.minor(rdev))
            except OSError as exc:
                raise DriverUnavailable('devicemapper: dm.%sdev %s: %s' % (label, path, exc.strerror or exc))
            if actual[label] != expected:
                raise DriverUnavailable(
                    'devicemapper: thin pool %s uses %s device %s, but dm.%sdev %s is %s: these storage options '
                    'are not the ones of this daemon' % (pool, label, actual[label], label, path, expected))

    # Leftovers of killed runs -------------------------------------------------------------------

    def _sweep(self, pool):
        """Unmount and remove what dead runs of ours left: private mounts, and devices named
        fleetops-mig-<pid>-... on this pool whose pid is dead (any pid when no other run of ours holds
        the store). Returns what could not be cleaned, as strings."""
        try:
            alone = self._lock.acquire(self.docker_root)
        except OSError:
            alone = False
        problems = sweep_private_mounts(alone)
        try:
            listing = run_cleanup_command(['dmsetup', 'ls']).stdout
        except CommandError as exc:
            return problems + [str(exc)]
        devices = {}
        for line in listing.splitlines():
            match = _LISTED_DEVICE.match(line.strip())
            if match:
                devices[match.group(1)] = (int(match.group(2)), int(match.group(3)))
        if pool not in devices:
            return problems
        pool_dev = '%d:%d' % devices[pool]
        for name, (major, minor) in sorted(devices.items()):
            pid = leftover_pid(name)
            if pid is None or (not alone and pid_alive(pid)):
                continue
            try:
                table = run_cleanup_command(['dmsetup', 'table', name]).stdout.split()
                if len(table) < 5 or table[2] != 'thin' or table[3] != pool_dev:
                    continue    # ours by name, but not on this store's pool
                for dev_major, dev_minor, mountpoint, _fstype, _source in read_mounts():
                    if (dev_major, dev_minor) == (major, minor):
                        unmount(mountpoint)
                self.remove_device(name)
            except OSError as exc:
                problems.append('%s: %s' % (name, exc))
        return problems

    # One layer ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def mounted(self, layer_id):
        if not layer_id or layer_id in self._roots:
            yield
            return
        info = self.device_info(layer_id)
        name = device_name(layer_id)
        node = os.path.join(self.DEV_MAPPER, name)
        mount = PrivateMount(layer_id)
        activated = False
        try:
            activated = True    # from here a kill may leave the device: release() removes it if it is there
            run_command(['dmsetup', 'create', '--readonly', name, '--table', self.thin_table(info)])
            if not os.path.exists(node):    # no udev (a container): let libdevmapper make the node
                run_command(['dmsetup', 'mknodes', name])
            fstype = self.filesystem(node)
            mount.mount(['mount', '-t', fstype, '-o', self.mount_options(fstype), node])
            self._roots[layer_id] = mount.tree('rootfs')   # no rootfs/: an empty tree, as Docker's tool did
            yield
        except BaseException:
            self._roots.pop(layer_id, None)
            self._release(mount, name if activated else None, quiet=True)
            raise
        self._roots.pop(layer_id, None)
        self._release(mount, name if activated else None, quiet=False)

    def filesystem(self, node):
        """What the device holds: blkid's low-level probe, as Docker 1.9 mounts by what it finds (a dm.fs
        changed after the base device was made does not apply to it); dm.fs when blkid cannot tell."""
        if self.options.fs and missing_binaries(['blkid']):
            return self.options.fs
        proc = run_command(['blkid', '-p', '-s', 'TYPE', '-o', 'value', node], check=False)
        found = proc.stdout.strip()
        if proc.returncode == 0 and found in MOUNT_OPTIONS:
            return found
        if self.options.fs:
            return self.options.fs
        if proc.returncode == 0 and found:
            raise LayerDeviceError('%s holds a %s filesystem, not one Docker 1.9 makes (ext4, xfs)' % (node, found))
        raise LayerDeviceError('cannot tell the filesystem of %s (blkid: %s); set storage option dm.fs=ext4 or xfs'
                               % (node, ' '.join(proc.stderr.split()) or 'exit %d' % proc.returncode))

    def mount_options(self, fstype):
        options = list(MOUNT_OPTIONS[fstype])
        for option in self.options.mountopt:
            if option not in ('rw', 'ro') and option not in options:
                options.append(option)
        return ','.join(options)

    def _release(self, mount, name, quiet):
        """Unmount, remove the private directory and the device; never leaves them for a problem of
        one step. Stop signals wait meanwhile. Raises the first problem unless quiet (an exception is
        already on its way)."""
        problems = []
        with stop_signals_blocked():
            try:
                mount.release()
            except OSError as exc:
                problems.append(exc)
            if name:
                try:
                    self.remove_device(name)
                except OSError as exc:
                    problems.append(exc)
        if problems and not quiet:
            raise LayerDeviceError('cleanup: %s' % '; '.join(str(exc) for exc in problems))

    def remove_device(self, name):
        """dmsetup remove, retried while the device is busy (as Docker does); with
        dm.use_deferred_removal, or when it stays busy, a deferred removal (the kernel removes it when
        it is closed). A device that is not there is fine."""
        if self.options.deferred_removal:
            proc = run_cleanup_command(['dmsetup', 'remove', '--deferred', name], check=False)
            if proc.returncode != 0 and not _not_found(proc):
                raise CommandError(proc.args, 'failed (exit %d): %s' % (proc.returncode, ' '.join(proc.stderr.split())))
            return
        for attempt in range(self.REMOVE_ATTEMPTS):
            proc = run_cleanup_command(['dmsetup', 'remove', name], check=False)
            if proc.returncode == 0 or _not_found(proc):
                return
            if 'busy' not in proc.stderr.lower():
                raise CommandError(proc.args, 'failed (exit %d): %s' % (proc.returncode, ' '.join(proc.stderr.split())))
            if attempt + 1 < self.REMOVE_ATTEMPTS:
                time.sleep(self.REMOVE_DELAY)
        run_cleanup_command(['dmsetup', 'remove', '--deferred', name])


def _not_found(proc):
    text = (proc.stderr + proc.stdout).lower()
    return 'not found' in text or 'no such device' in text
