# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An inventory of a legacy store, and everything Docker 1.10 would drop or choke on when migrating it.

Docker 1.10 migrates a layer only with its whole parent chain, drops containers whose image or
read-write layer did not migrate, and migrates tags once: what is lost then is lost for good. This
reports all of it before any downtime.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.worker_pool import estimate_seconds, plan_layers
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._docker_api import daemon_version
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._legacy_store import graph_dir, read_containers, read_tags
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.cache_files import INVALID, TARSPLIT_FILE, VALID
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.plan import predict_image_ids
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._reference_names import tag_problem

# Docker 1.10 keeps a copy of each layer's tar-split data in its layerdb; allow per-layer metadata too.
_PER_LAYER_OVERHEAD = 64 * 1024
# A regenerated layer's tar-split data is small next to its content.
_REGENERATED_METADATA_RATIO = 0.01


def _problem(kind, item_id, detail):
    return {'kind': kind, 'id': item_id, 'detail': detail}


def _chains(plans):
    """For each layer: (chain of ids from base to itself, broken ancestor or None)."""
    parents = dict((plan.id, plan.parent) for plan in plans)
    chains = {}
    for layer_id in parents:
        chain = [layer_id]
        broken = None
        seen = set(chain)
        current = parents[layer_id]
        while current:
            if current not in parents or current in seen:
                broken = chain[-1]
                break
            chain.append(current)
            seen.add(current)
            current = parents[current]
        chain.reverse()
        chains[layer_id] = (chain, broken)
    return chains


def _layer_problems(driver, plans, chains):
    problems = []
    for plan in plans:
        if plan.error:
            problems.append(_problem('unreadable_layer', plan.id, plan.error))
        if plan.state == INVALID and not plan.error:
            problems.append(_problem('invalid_cache', plan.id, plan.detail))
        if not driver.has_layer(plan.id):
            problems.append(_problem('missing_layer_tree', plan.id, 'graph id has no tree at %s' % driver.layer_root(plan.id)))
        chain, broken = chains[plan.id]
        if broken == plan.id:
            problems.append(_problem('broken_parent', plan.id, 'parent %s is not in graph/ (or the chain loops)' % plan.parent))
        elif broken:
            problems.append(_problem('lost_with_parent', plan.id, 'ancestor %s has a broken parent chain' % broken))
    return problems


def inventory(driver, socket_path=None):
    """Everything graph_info returns."""
    plans = plan_layers(driver)
    chains = _chains(plans)
    state = dict((plan.id, plan.state) for plan in plans)
    tags = read_tags(driver.docker_root, driver.name)
    containers = read_containers(driver.docker_root)
    problems = _layer_problems(driver, plans, chains)

    tags_by_image = {}
    for reference, v1_id in sorted(tags.items()):
        tags_by_image.setdefault(v1_id, []).append(reference)
        if v1_id not in state:
            problems.append(_problem('tag_without_image', reference, 'points at %s, not in graph/' % v1_id))
        why = tag_problem(reference)
        if why:
            problems.append(_problem('rejected_tag', reference, why))
    for container in containers:
        if container.get('error'):
            problems.append(_problem('unreadable_container', container['id'], container['error']))
            continue
        if container['image'] not in state:
            problems.append(_problem('container_image_missing', container['id'], 'image %s is not in graph/' % container['image']))
        elif chains[container['image']][1]:
            problems.append(_problem('container_image_missing', container['id'], 'image %s has a broken parent chain' % container['image']))
        if not driver.has_container_layer(container['id']):
            problems.append(_problem('container_layer_missing', container['id'], 'no read-write layer in %s' % driver.name))

    images = []
    predicted = predict_image_ids(driver.docker_root)
    for plan in plans:
        chain, broken = chains[plan.id]
        checksummed = not broken and all(state.get(layer) == VALID for layer in chain)
        image_id, chain_id = predicted.get(plan.id, (None, None)) if checksummed else (None, None)
        images.append({
            'v1_id': plan.id,
            'parent': plan.parent or None,
            'tags': tags_by_image.get(plan.id, []),
            'layer_count': len(chain),
            'checksummed': checksummed,
            'image_id': image_id,
            'chain_id': chain_id,
        })
    pending = [plan for plan in plans if plan.pending]
    bytes_pending = sum(plan.bytes_hint for plan in pending)
    return {
        'storage_driver': driver.name,
        'docker_version': daemon_version(socket_path) if socket_path else daemon_version(),
        'layers_total': len(plans),
        'layers_pending': len(pending),
        'bytes_pending': bytes_pending,
        'estimated_seconds': estimate_seconds(bytes_pending, os.cpu_count() or 1),
        'tags': tags,
        'images': images,
        'containers': [dict((k, v) for k, v in c.items() if k != 'error') for c in containers],
        'disk_free_bytes': _disk_free(driver.docker_root),
        'disk_needed_bytes': _disk_needed(driver, plans),
        'problems': problems,
    }


def _disk_free(path):
    stats = os.statvfs(path)
    return stats.f_bavail * stats.f_frsize


def _disk_needed(driver, plans):
    """Bytes the migration adds: regenerated tar-split data now, Docker 1.10's layerdb copies at start."""
    needed = 0
    for plan in plans:
        tarsplit = os.path.join(graph_dir(driver.docker_root, plan.id), TARSPLIT_FILE)
        try:
            needed += os.path.getsize(tarsplit)
        except OSError:
            needed += int(plan.bytes_hint * _REGENERATED_METADATA_RATIO) * 2
        needed += _PER_LAYER_OVERHEAD
    return needed
