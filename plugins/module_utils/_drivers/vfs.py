# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vfs: a full copy of the root filesystem per layer in vfs/dir/<id>."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.base import StorageDriver


class VfsDriver(StorageDriver):
    name = 'vfs'

    def layer_root(self, layer_id):
        return os.path.join(self.home, 'dir', layer_id)
