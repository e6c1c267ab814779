# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""overlay: image layers in overlay/<id>/root, a full root filesystem hard-linked to the parent's."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.base import StorageDriver


class OverlayDriver(StorageDriver):
    name = 'overlay'

    def layer_root(self, layer_id):
        return os.path.join(self.home, layer_id, 'root')

    def has_container_layer(self, container_id):
        # Container layers keep upper/, work/ and lower-id instead of root/.
        return os.path.isdir(os.path.join(self.home, container_id, 'upper'))
