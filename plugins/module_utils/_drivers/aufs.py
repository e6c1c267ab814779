# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""aufs: a layer's own files in aufs/diff/<id>, deletions as .wh.<name> whiteout files."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.base import StorageDriver
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.tree_changes import diff_dir_entries


class AufsDriver(StorageDriver):
    name = 'aufs'

    def layer_root(self, layer_id):
        return os.path.join(self.home, 'diff', layer_id)

    def regeneration_entries(self, layer_id, parent_id):
        # The diff dir is the layer already; only aufs's own .wh..wh.* meta files are left out.
        return diff_dir_entries(self.layer_root(layer_id))
