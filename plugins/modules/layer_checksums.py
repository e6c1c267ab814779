#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: layer_checksums
short_description: Precompute Docker 1.10 layer checksums on a Docker 1.9 host while its daemon runs
version_added: 0.1.0
description:
  - Computes, for every legacy layer under O(docker_root)C(/graph), the content-addressable diffID (SHA-256
    of the layer's exact tar stream) and size that Docker 1.10 would compute on its first start, and
    writes them as C(.migration-diffid), C(.migration-size) and C(.migration-tardata) in each
    C(graph/<id>/), exactly as Docker 1.10 reads them. The new daemon then only registers metadata.
  - The stream is rebuilt from the layer's tar-split metadata and the storage driver's files, checking
    every file's CRC-64. When that metadata is missing or does not match, the layer's tar is regenerated
    from its tree with new tar-split metadata.
  - Layer data is only read. Every file written is written atomically; an interrupted run resumes.
  - Paths from layer metadata are resolved inside the layer as if it were C(/) (as Docker 1.9 did in its
    chroot); nothing outside the layer is ever read.
author:
  - fleetops contributors (@fleetops)
attributes:
  check_mode:
    support: full
    description: Computes and writes nothing; returns the plan (layers and bytes pending) and an estimated duration.
  diff_mode:
    support: none
    description: Nothing to show as a diff; the result lists every layer.
  idempotent:
    support: full
    description: A second run finds every layer cached and changes nothing.
extends_documentation_fragment:
  - fleetops.docker_upgrade.legacy_store
options:
  storage_driver:
    description:
      - The storage driver whose layer trees to read.
      - V(auto) asks a running daemon, else uses the only driver directory present under O(docker_root);
        several candidates give an error listing them.
      - V(devicemapper) activates each layer's thin device read-only under a name of its own
        (C(fleetops-mig-<pid>-<id>)), mounts it read-only in a private directory, reads its C(rootfs/) and
        removes the device again; the thin pool must be active (the old daemon running).
        V(zfs) mounts each layer's dataset read-only in a private directory.
        Both need root with CAP_SYS_ADMIN and their tools (C(dmsetup), C(blkid), C(mount); C(zfs), C(mount))
        and are checked before anything is touched. See docs/devicemapper.md.
    type: str
    default: auto
    choices: [auto, aufs, overlay, vfs, btrfs, devicemapper, zfs]
  workers:
    description: Worker processes hashing layers in parallel. Default the number of CPUs.
    type: int
  verify_integrity:
    description: Check every file's CRC-64 against its tar-split record (what Docker 1.10 does).
    type: bool
    default: true
  force:
    description: Recompute layers whose cache files are already valid.
    type: bool
    default: false
  layers:
    description: Limit the run to these v1 layer ids.
    type: list
    elements: str
    default: []
  max_failed_layers:
    description:
      - The task fails, after every other layer is done, when more layers than this failed.
    type: int
    default: 0
  io_priority:
    description:
      - CPU and I/O priority of the run, so production containers on the host are not starved.
      - V(low) is nice 10 and best-effort I/O level 7; V(idle) is nice 19 and the idle I/O class,
        which may make no progress on a busy disk.
    type: str
    default: low
    choices: [normal, low, idle]
  progress_file:
    description:
      - A small JSON file rewritten about every second while the run goes on, with layers done and total,
        bytes, rate and ETA. Empty string to disable.
    type: path
    default: /var/tmp/fleetops-layer-checksums.progress.json
notes:
  - Run it while the old daemon serves. Layers created afterwards are left to a later run
    (the catch-up pass of the engine_upgrade role).
  - "The devicemapper and zfs drivers need root with CAP_SYS_ADMIN (C(become: true); in a container
    C(--privileged -v /dev:/dev)). Every device and mount they make is removed on every exit path, and a
    run removes what a killed run left (its own C(fleetops-mig-*) devices and mounts only)."
seealso:
  - module: fleetops.docker_upgrade.graph_info
'''

EXAMPLES = r'''
---
- name: Precompute layer checksums at low priority
  fleetops.docker_upgrade.layer_checksums:
    docker_root: /var/lib/docker
  become: true
  register: checksums

- name: Plan only (how many layers and bytes remain, how long it will take)
  fleetops.docker_upgrade.layer_checksums:
  check_mode: true
  register: plan

- name: Run in the background and poll the progress file
  fleetops.docker_upgrade.layer_checksums:
    storage_driver: overlay
    workers: 2
    max_failed_layers: 3
  async: 7200
  poll: 0
  register: checksum_job
'''

RETURN = r'''
storage_driver:
  description: The storage driver that was read.
  returned: always
  type: str
  sample: overlay
layers_total:
  description: Layers in scope.
  returned: always
  type: int
  sample: 42
layers_computed:
  description: Layers hashed by this run (repaired and fallback layers included).
  returned: always
  type: int
  sample: 40
layers_cached:
  description: Layers skipped because their cache files were already valid.
  returned: always
  type: int
  sample: 2
layers_repaired:
  description: Layers whose cache files were empty or invalid and were recomputed.
  returned: always
  type: int
  sample: 0
layers_fallback:
  description: Layers whose tar was regenerated from the tree because tar-split data was missing or wrong.
  returned: always
  type: int
  sample: 1
layers_failed:
  description: Layers that could not be computed.
  returned: always
  type: int
  sample: 0
layers_pending:
  description: Layers without valid cache files (what a run would compute).
  returned: always
  type: int
  sample: 40
bytes_pending:
  description: Estimated tar bytes of the pending layers (from the sizes Docker 1.9 recorded).
  returned: always
  type: int
  sample: 1073741824
estimated_seconds:
  description: Estimated duration of the pending work with O(workers) workers.
  returned: always
  type: float
  sample: 3.6
bytes_hashed:
  description: Tar-stream bytes hashed by this run.
  returned: always
  type: int
  sample: 1073741824
elapsed_seconds:
  description: Wall time of the run.
  returned: always
  type: float
  sample: 2.9
throughput_mb_s:
  description: RV(bytes_hashed) per second of RV(elapsed_seconds), in MB (10^6 bytes).
  returned: always
  type: float
  sample: 370.2
io_priority_applied:
  description: Whether the requested CPU and I/O priority could be applied.
  returned: always
  type: bool
  sample: true
layers:
  description: One entry per layer in scope, in graph order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The v1 layer id.
      type: str
      returned: always
    parent:
      description: The parent v1 id, by Docker 1.10's rule; null for a base layer.
      type: str
      returned: always
    diff_id:
      description: C(sha256:<hex>) of the layer's tar stream; null when not (yet) computed.
      type: str
      returned: always
    size:
      description: The layer size Docker records (sum of the tar entries' sizes).
      type: int
      returned: always
    tar_bytes:
      description: Length of the tar stream hashed; null for cached layers.
      type: int
      returned: always
    source:
      description: C(tarsplit), C(regenerated), C(cached), C(pending) in check mode, or null when it failed.
      type: str
      returned: always
    reason:
      description: Why the tar was regenerated (C(no_tarsplit), C(corrupt_tarsplit), C(integrity <file>), C(missing <file>)).
      type: str
      returned: always
    seconds:
      description: Time spent on the layer.
      type: float
      returned: always
    error:
      description: Why the layer failed, naming the layer and file; null when it did not.
      type: str
      returned: always
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.run_pass import DEFAULTS, run_pass
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.worker_pool import Interrupted
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._io_priority import PRIORITIES
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._legacy_store import StoreError
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._module_args import legacy_store_argument_spec
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.registry import DriverError


def argument_spec():
    return legacy_store_argument_spec(
        workers=dict(type='int'),
        verify_integrity=dict(type='bool', default=True),
        force=dict(type='bool', default=False),
        layers=dict(type='list', elements='str', default=[]),
        max_failed_layers=dict(type='int', default=0),
        io_priority=dict(type='str', default='low', choices=sorted(PRIORITIES)),
        progress_file=dict(type='path', default=DEFAULTS['progress_file']),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    if module.params['workers'] is not None and module.params['workers'] < 1:
        module.fail_json(msg='workers must be at least 1')
    try:
        outcome = run_pass(module.params, check_mode=module.check_mode)
    except (DriverError, StoreError) as exc:
        module.fail_json(msg=str(exc))
    except (Interrupted, KeyboardInterrupt):
        module.fail_json(msg='interrupted; complete layers were kept and a new run resumes from there')
    for warning in outcome.warnings:
        module.warn(warning)
    if outcome.failure:
        module.fail_json(msg=outcome.failure, **outcome.result)
    module.exit_json(**outcome.result)


if __name__ == '__main__':
    main()
