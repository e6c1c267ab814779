# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The argument spec shared by the modules that read a legacy store (doc fragment legacy_store)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.registry import DRIVER_CHOICES

DEFAULT_DOCKER_ROOT = '/var/lib/docker'


def legacy_store_argument_spec(**extra):
    spec = dict(
        docker_root=dict(type='path', default=DEFAULT_DOCKER_ROOT),
        storage_driver=dict(type='str', default='auto', choices=DRIVER_CHOICES),
        storage_opts=dict(type='list', elements='str', default=[]),
    )
    spec.update(extra)
    return spec
