# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Compute one legacy layer's diffID and size, and leave the cache files Docker 1.10 reads.

First the layer's own tar-split metadata is replayed against its tree (the stream Docker 1.9 stored
is reproduced byte for byte). When that metadata is missing or does not match the files, the tar is
regenerated from the tree with new metadata, which is what Docker 1.10 itself falls back to.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import os
import time

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._atomic_files import atomic_writer
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.layer_paths import LayerFileOpener
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._legacy_store import graph_dir
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.cache_files import (
    INVALID, TARDATA_FILE, TARSPLIT_FILE, VALID, invalidate_diffid, read_cache, write_cache)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.regenerate import LayerReadError, regenerate_layer_tar
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.reassembly import ReassemblyError, hash_layer_from_tarsplit

SOURCE_TARSPLIT = 'tarsplit'
SOURCE_REGENERATED = 'regenerated'
SOURCE_CACHED = 'cached'


def layer_result(layer_id, parent_id, **fields):
    result = dict(id=layer_id, parent=parent_id or None, diff_id=None, size=None, tar_bytes=None,
                  source=None, reason=None, seconds=0.0, error=None, repaired=False)
    result.update(fields)
    return result


def _hash_with_tarsplit(driver, layer_id, tarsplit_path, verify_integrity):
    sink = hashlib.sha256()
    opener = LayerFileOpener(driver.layer_root(layer_id))
    size, tar_bytes = hash_layer_from_tarsplit(tarsplit_path, opener, sink, verify_integrity)
    return 'sha256:' + sink.hexdigest(), size, tar_bytes


def _hash_regenerated(driver, layer_id, parent_id, tardata_path):
    if parent_id and not driver.has_layer(parent_id):
        raise LayerReadError(layer_id, driver.layer_root(parent_id),
                             'the parent layer %s has no tree in %s' % (parent_id, driver.name))
    with driver.mounted(parent_id):  # the layer's own tree is mounted by the caller: both at once
        entries = driver.regeneration_entries(layer_id, parent_id)
        sink = hashlib.sha256()
        with atomic_writer(tardata_path) as tardata:
            size, tar_bytes = regenerate_layer_tar(driver.layer_root(layer_id), entries, tardata, sink, layer_id)
    return 'sha256:' + sink.hexdigest(), size, tar_bytes


def migrate_layer(driver, layer_id, parent_id, verify_integrity=True, force=False):
    """Return the layer's result dict; never raises for a problem of this layer alone."""
    started = time.time()
    directory = graph_dir(driver.docker_root, layer_id)
    cache = read_cache(directory)
    if cache.state == VALID and not force:
        return layer_result(layer_id, parent_id, diff_id=cache.diff_id, size=cache.size, source=SOURCE_CACHED)
    repaired = cache.state == INVALID
    if cache.state != VALID or force:
        # Until the new files are complete, Docker must see this layer as not done.
        invalidate_diffid(directory)
    if not driver.has_layer(layer_id):
        return layer_result(layer_id, parent_id, repaired=repaired, seconds=time.time() - started,
                            error='layer %s has no tree at %s' % (layer_id, driver.layer_root(layer_id)))
    tarsplit_path = os.path.join(directory, TARSPLIT_FILE)
    reason = None
    try:
        with driver.mounted(layer_id):  # devicemapper, zfs: mounted read-only, released on every exit
            if os.path.isfile(tarsplit_path):
                try:
                    diff_id, size, tar_bytes = _hash_with_tarsplit(driver, layer_id, tarsplit_path, verify_integrity)
                    write_cache(directory, diff_id, size, reused_tarsplit=True)
                    return layer_result(layer_id, parent_id, diff_id=diff_id, size=size, tar_bytes=tar_bytes,
                                        source=SOURCE_TARSPLIT, repaired=repaired, seconds=time.time() - started)
                except ReassemblyError as exc:
                    reason = exc.reason
            else:
                reason = 'no_tarsplit'
            diff_id, size, tar_bytes = _hash_regenerated(driver, layer_id, parent_id,
                                                         os.path.join(directory, TARDATA_FILE))
            write_cache(directory, diff_id, size, reused_tarsplit=False)
            return layer_result(layer_id, parent_id, diff_id=diff_id, size=size, tar_bytes=tar_bytes,
                                source=SOURCE_REGENERATED, reason=reason, repaired=repaired,
                                seconds=time.time() - started)
    except LayerReadError as exc:  # its message names the layer and the file already
        return layer_result(layer_id, parent_id, reason=reason, repaired=repaired, seconds=time.time() - started,
                            error=str(exc))
    except OSError as exc:
        return layer_result(layer_id, parent_id, reason=reason, repaired=repaired, seconds=time.time() - started,
                            error='layer %s: %s' % (layer_id, exc))
