# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class ModuleDocFragment(object):
    """Options every module that reads a legacy store takes (storage_driver differs per module)."""

    DOCUMENTATION = r'''
options:
  docker_root:
    description: The Docker root directory of the legacy daemon.
    type: path
    default: /var/lib/docker
  storage_opts:
    description:
      - The daemon's C(--storage-opt) values, as given to Docker 1.9 (unknown keys are refused, as the daemon did).
      - "devicemapper reads C(dm.thinpooldev) (the pool; else the name Docker 1.9 derives from
        O(docker_root)C(/devicemapper), C(docker-<major>:<minor>-<inode>-pool)), C(dm.datadev) and C(dm.metadatadev) (checked against the pool),
        C(dm.fs) (when C(blkid) cannot tell the filesystem), C(dm.mountopt) (added to the read-only options),
        C(dm.use_deferred_removal) (removes its devices with deferred removal) and C(dm.basesize) (the size of a
        device whose metadata records none)."
      - zfs reads C(zfs.fsname) (the parent dataset; else the zfs dataset O(docker_root) is on, as Docker 1.9 finds it).
    type: list
    elements: str
    default: []
'''
