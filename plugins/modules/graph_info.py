#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: graph_info
short_description: Inventory a Docker 1.9 image store and report what Docker 1.10 would lose
version_added: 0.1.0
description:
  - Reads a legacy (Docker 1.9 and earlier) image store under O(docker_root) and returns its layers,
    tags, images and containers, how much checksum work is pending, and every problem that Docker 1.10's
    migration would drop or choke on, before any downtime.
  - Read-only. Runs the same way in check mode.
author:
  - fleetops contributors (@fleetops)
attributes:
  check_mode:
    support: full
    description: The module only reads; check mode runs it in full.
  diff_mode:
    support: none
    description: The module changes nothing, so there is no diff.
  idempotent:
    support: full
    description: The module never changes anything.
extends_documentation_fragment:
  - fleetops.docker_upgrade.legacy_store
options:
  storage_driver:
    description:
      - The storage driver of the store. V(auto) asks a running daemon, else uses the only driver
        directory present under O(docker_root).
      - For V(devicemapper) a layer exists when C(devicemapper/metadata/<id>) describes a device not marked
        deleted; for V(zfs) when its dataset exists. Nothing is activated or mounted, but the same checks as
        for layer_checksums run first (root with CAP_SYS_ADMIN, the tools, an active thin pool or an available
        dataset), so a host that could not be migrated is reported before any downtime.
    type: str
    default: auto
    choices: [auto, aufs, overlay, vfs, btrfs, devicemapper, zfs]
seealso:
  - module: fleetops.docker_upgrade.layer_checksums
'''

EXAMPLES = r'''
---
- name: Inventory the legacy store
  fleetops.docker_upgrade.graph_info:
  become: true
  register: graph

- name: Stop here when Docker 1.10 would lose something
  ansible.builtin.assert:
    that: graph.problems | length == 0
    fail_msg: "{{ graph.problems }}"
'''

RETURN = r'''
storage_driver:
  description: The storage driver that was read.
  returned: always
  type: str
  sample: aufs
docker_version:
  description: The version a running daemon reports; null when no daemon answers.
  returned: always
  type: str
  sample: 1.9.1
layers_total:
  description: Layers (v1 images) under C(graph/).
  returned: always
  type: int
  sample: 120
layers_pending:
  description: Layers without valid C(.migration-diffid) and C(.migration-size) files.
  returned: always
  type: int
  sample: 118
bytes_pending:
  description: Estimated tar bytes of the pending layers.
  returned: always
  type: int
  sample: 5368709120
estimated_seconds:
  description: Estimated duration of a checksum run over the pending layers on this host.
  returned: always
  type: float
  sample: 17.9
tags:
  description: Every tag and digest reference, mapped to its v1 image id.
  returned: always
  type: dict
  sample: {"ubuntu:14.04": "0f1e7e0e6e57e5b4d6c47c1d8ee1e4c4e3bd3a0f4d5ae8b21c42b7a1a4d3e2f1"}
images:
  description: One entry per v1 image, in graph order.
  returned: always
  type: list
  elements: dict
  contains:
    v1_id:
      description: The v1 image id.
      type: str
      returned: always
    parent:
      description: The parent v1 id by Docker 1.10's rule, null for a base layer.
      type: str
      returned: always
    tags:
      description: The references (C(repo:tag) or C(repo@sha256:...)) pointing at this image.
      type: list
      elements: str
      returned: always
    layer_count:
      description: Layers in the image's chain, itself included.
      type: int
      returned: always
    checksummed:
      description: Whether every layer of the chain has valid checksum cache files.
      type: bool
      returned: always
    image_id:
      description:
        - The content-addressable ID (C(sha256:...)) Docker 1.10.3 will give this image when it migrates it,
          computed as its migration does (the image config built from the v1 json, the chain's diffIDs and
          history, serialized as Go does, then hashed).
        - Null when the chain is not checksummed, or when Docker 1.10.3 would not migrate the image.
        - After the upgrade, compare it with the C(Id) the daemon reports for the image's tags.
      type: str
      returned: always
      sample: sha256:ca406eaf9c26898414ff5b7b3a023c33310759d6203be0663dbf1b3a712f432d
    chain_id:
      description:
        - The chain ID of the image's top layer (its C(image/<driver>/layerdb/sha256/) directory in Docker 1.10).
        - Null whenever RV(images[].image_id) is null.
      type: str
      returned: always
      sample: sha256:c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f
containers:
  description: Containers of the legacy daemon.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: Container id.
      type: str
      returned: always
    name:
      description: Container name without the leading slash.
      type: str
      returned: always
    image:
      description: The v1 image id the container was created from.
      type: str
      returned: always
    running:
      description: Whether the container was running when its state was last saved.
      type: bool
      returned: always
disk_free_bytes:
  description: Free bytes on the file system of O(docker_root).
  returned: always
  type: int
  sample: 21474836480
disk_needed_bytes:
  description: Estimated bytes the migration adds (new tar-split data and Docker 1.10's layer metadata).
  returned: always
  type: int
  sample: 104857600
problems:
  description:
    - What Docker 1.10 would drop or choke on. Kinds are C(broken_parent), C(lost_with_parent),
      C(missing_layer_tree), C(unreadable_layer), C(invalid_cache), C(tag_without_image), C(rejected_tag),
      C(container_image_missing), C(container_layer_missing) and C(unreadable_container).
  returned: always
  type: list
  elements: dict
  contains:
    kind:
      description: The kind of problem.
      type: str
      returned: always
    id:
      description: The layer id, container id or reference concerned.
      type: str
      returned: always
    detail:
      description: What is wrong, in words.
      type: str
      returned: always
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._graph_inventory import inventory
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._legacy_store import StoreError
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._module_args import legacy_store_argument_spec
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.base import leftover_warnings
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.registry import DriverError, open_driver


def main():
    module = AnsibleModule(
        argument_spec=legacy_store_argument_spec(),
        supports_check_mode=True,
    )
    try:
        driver = open_driver(module.params['docker_root'], module.params['storage_driver'], module.params['storage_opts'])
        result = inventory(driver)
    except (DriverError, StoreError, OSError) as exc:
        module.fail_json(msg=str(exc))
    for warning in leftover_warnings(driver):
        module.warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == '__main__':
    main()
