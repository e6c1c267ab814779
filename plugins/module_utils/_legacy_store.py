# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read a Docker <= 1.9 image store: graph/<v1 id>, repositories-<driver>, containers/<id>.

Only what Docker 1.10's migration reads, and by the same rules, so that our view of the store is the
one the new daemon will have.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import re

_V1_ID = re.compile(r'\A[0-9a-f]{64}\Z')


class StoreError(Exception):
    """The store cannot be read at all (not a single layer's problem)."""


def is_v1_id(name):
    return bool(_V1_ID.match(name))


def graph_dir(docker_root, layer_id):
    return os.path.join(docker_root, 'graph', layer_id)


def list_layer_ids(docker_root):
    """Sorted v1 ids under graph/; _tmp and anything that is not 64 hex is not an image."""
    graph = os.path.join(docker_root, 'graph')
    try:
        names = os.listdir(graph)
    except OSError as exc:
        raise StoreError('cannot list %s: %s' % (graph, exc))
    return sorted(name for name in names if is_v1_id(name) and os.path.isdir(os.path.join(graph, name)))


def _field(config, key):
    """Go's encoding/json matches struct fields case-insensitively; an exact match wins."""
    if key in config:
        return config[key]
    for name, value in config.items():
        if name.lower() == key.lower():
            return value
    return None


def read_json_file(path):
    with open(path, 'rb') as stream:
        return json.loads(stream.read().decode('utf-8'))


def read_layer_config(docker_root, layer_id):
    """The layer's v1 json as a dict; raises OSError or ValueError."""
    config = read_json_file(os.path.join(graph_dir(docker_root, layer_id), 'json'))
    if not isinstance(config, dict):
        raise ValueError('json of %s is not an object' % layer_id)
    return config


def layer_parent(docker_root, layer_id, config=None):
    """Docker 1.10's getParent: json parent, else the hex of json parent_id, and a non-empty
    ``parent`` file overrides both. Returns '' for a base layer."""
    if config is None:
        config = read_layer_config(docker_root, layer_id)
    parent = _field(config, 'parent') or ''
    parent_id = _field(config, 'parent_id') or ''
    if not parent and parent_id:
        parent = parent_id.split(':', 1)[-1]
    try:
        with open(os.path.join(graph_dir(docker_root, layer_id), 'parent'), 'rb') as stream:
            override = stream.read().decode('utf-8', 'replace')
        if override:
            parent = override
    except (IOError, OSError):
        pass
    return parent


def layer_size_hint(docker_root, layer_id, config=None):
    """The size Docker 1.9 recorded (layersize file, else json Size): a basis for estimates only."""
    try:
        with open(os.path.join(graph_dir(docker_root, layer_id), 'layersize'), 'rb') as stream:
            return int(stream.read().strip() or 0)
    except (IOError, OSError, ValueError):
        pass
    size = _field(config or {}, 'Size')
    return size if isinstance(size, int) and size > 0 else 0


def read_tags(docker_root, driver):
    """{"repo:tag": v1 id} from repositories-<driver>; digest references keep their '@' form."""
    path = os.path.join(docker_root, 'repositories-%s' % driver)
    if not os.path.exists(path):
        return {}
    try:
        data = read_json_file(path)
    except (OSError, ValueError) as exc:
        raise StoreError('cannot read %s: %s' % (path, exc))
    tags = {}
    for repo, refs in sorted((_field(data, 'Repositories') or {}).items()):
        for ref, v1_id in sorted((refs or {}).items()):
            separator = '@' if ref.startswith('sha256:') else ':'
            tags['%s%s%s' % (repo, separator, ref)] = v1_id
    return tags


def read_containers(docker_root):
    """[{id, name, image, running}] from containers/<id>/config.json, sorted by id."""
    base = os.path.join(docker_root, 'containers')
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return []
    containers = []
    for name in names:
        path = os.path.join(base, name, 'config.json')
        if not os.path.isfile(path):
            continue
        try:
            config = read_json_file(path)
        except (OSError, ValueError):
            containers.append({'id': name, 'name': None, 'image': None, 'running': False, 'error': 'unreadable config.json'})
            continue
        state = config.get('State') or {}
        containers.append({
            'id': config.get('ID') or name,
            'name': (config.get('Name') or '').lstrip('/') or None,
            'image': config.get('Image'),
            'running': bool(state.get('Running')),
        })
    return containers
