# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pick the storage driver of a docker root: the one named, the one a running daemon reports, or the
only driver directory present."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._docker_api import daemon_info
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.aufs import AufsDriver
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.btrfs import BtrfsDriver
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.devicemapper import DevicemapperDriver
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.overlay import OverlayDriver
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.vfs import VfsDriver
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.zfs import ZfsDriver
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.base import DriverUnavailable

DRIVERS = dict((cls.name, cls) for cls in (AufsDriver, OverlayDriver, VfsDriver, BtrfsDriver, DevicemapperDriver,
                                           ZfsDriver))
# Known to Docker 1.9 but not readable by this migrator (none left: devicemapper and zfs mount their layers).
UNSUPPORTED = ()
DRIVER_CHOICES = ['auto'] + sorted(DRIVERS) + list(UNSUPPORTED)


class DriverError(Exception):
    pass


def detect_driver_name(docker_root, socket_path=None):
    """The driver a running daemon reports for this root, else the single driver directory present."""
    info = daemon_info(socket_path) if socket_path else daemon_info()
    if isinstance(info, dict) and info.get('Driver'):
        root = info.get('DockerRootDir')
        if not root or os.path.realpath(root) == os.path.realpath(docker_root):
            return info['Driver']
    present = [name for name in sorted(DRIVERS) + list(UNSUPPORTED) if os.path.isdir(os.path.join(docker_root, name))]
    if len(present) == 1:
        return present[0]
    if not present:
        raise DriverError('no storage driver directory under %s (looked for %s); set storage_driver'
                          % (docker_root, ', '.join(sorted(DRIVERS) + list(UNSUPPORTED))))
    raise DriverError('several storage driver directories under %s: %s; the daemon did not answer, '
                      'so set storage_driver to the one it uses' % (docker_root, ', '.join(present)))


def open_driver(docker_root, name='auto', storage_opts=None, socket_path=None):
    if name == 'auto':
        name = detect_driver_name(docker_root, socket_path)
    if name in UNSUPPORTED:
        raise DriverError('storage driver %s needs privileged device access that this version does not '
                          'implement yet' % name)
    if name not in DRIVERS:
        raise DriverError('unknown storage driver %r (known: %s)' % (name, ', '.join(sorted(DRIVERS))))
    try:
        driver = DRIVERS[name](docker_root, storage_opts)
        driver.check_privileges()  # before any work: root, tools, the pool; sweeps what a killed run left
    except DriverUnavailable as exc:
        raise DriverError(str(exc))
    return driver
