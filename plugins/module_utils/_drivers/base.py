# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every storage driver tells the migrator: where a layer's tree is, and how to rebuild its tar.

Drivers that keep each image layer as a full root filesystem (overlay, vfs, btrfs, devicemapper, zfs)
rebuild a layer as the changes against its parent's tree, as Docker's naive diff driver does.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import os

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.tree_changes import layer_changes


class DriverUnavailable(Exception):
    """This host cannot read the store with this driver (privileges, tools, pool); the message names
    what is missing and the fix."""


class StorageDriver(object):
    name = None
    # What check_privileges could not clean up of an earlier, killed run (devices, private mounts): strings
    # the caller shows as warnings. Plain-directory drivers leave nothing behind.
    sweep_problems = ()

    def __init__(self, docker_root, storage_opts=None):
        self.docker_root = docker_root
        self.storage_opts = list(storage_opts or [])

    @property
    def home(self):
        return os.path.join(self.docker_root, self.name)

    def check_privileges(self):
        """Called once before any work; raises DriverUnavailable when this host cannot read the trees."""

    @contextlib.contextmanager
    def mounted(self, layer_id):
        """Inside the block, layer_root(layer_id) is readable (layer_id None: nothing to do).

        A no-op for drivers whose trees are plain directories; devicemapper and zfs mount the layer."""
        yield

    def layer_root(self, layer_id):
        """The directory tar-split names are relative to."""
        raise NotImplementedError

    def has_layer(self, layer_id):
        return os.path.isdir(self.layer_root(layer_id))

    def has_container_layer(self, container_id):
        """Whether the container's read-write layer exists (its id is the container id)."""
        return self.has_layer(container_id)

    def regeneration_entries(self, layer_id, parent_id):
        """The entries of the layer's tar when it has to be rebuilt from the tree."""
        parent_root = self.layer_root(parent_id) if parent_id else None
        return layer_changes(self.layer_root(layer_id), parent_root)


def leftover_warnings(driver):
    """The warnings for what the driver's sweep could not clean up (see StorageDriver.sweep_problems)."""
    return ['could not clean up what an earlier run left (%s): %s; remove it by hand' % (driver.name, problem)
            for problem in driver.sweep_problems]
