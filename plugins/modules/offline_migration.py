#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
---
module: offline_migration
short_description: Do Docker 1.10's first-start image store migration offline, with the daemon stopped
version_added: 0.1.0
description:
  - Writes, under O(docker_root), everything Docker 1.10.3 writes when its first start migrates a Docker 1.9
    store, byte for byte, so that the new daemon starts with nothing left to migrate.
  - That is C(image/<driver>/layerdb) (one directory per layer chain with C(diff), C(size), C(cache-id),
    C(parent) and C(tar-split.json.gz); C(mounts/<container>) with C(mount-id), C(init-id) and C(parent)),
    C(image/<driver>/imagedb) (image configs and their parents), C(image/<driver>/distribution) (the v2 blob
    digests of pulled layers, from their C(checksum) files), C(image/<driver>/repositories.json),
    C(containers/<id>/config.v2.json), C(.migration-v1-images.json) and C(.migration-v1-tags), with Docker's
    file modes.
  - The legacy store (C(graph/), C(repositories-<driver>), C(containers/<id>/config.json)) is only read, as by
    Docker; a later Docker 1.9 start still finds it.
  - Every layer must have valid checksum files (run M(fleetops.docker_upgrade.layer_checksums) first); a layer
    without them would be hashed by the daemon at its first start.
  - Files are written to a staging directory, fsynced, then renamed into place in an order where every
    intermediate state is one Docker 1.10 accepts and completes by itself. An error or a stop signal before
    or during the commit leaves the store as it was; a second run changes nothing.
author:
  - fleetops contributors (@fleetops)
attributes:
  check_mode:
    support: full
    description:
      - Writes nothing; returns the plan (the image IDs, tags and containers Docker 1.10 will have).
      - Check mode only reads, so it also runs while the old daemon runs (before the upgrade).
  diff_mode:
    support: none
    description: The result lists every image, container and tag instead.
  idempotent:
    support: full
    description: Files already holding the right bytes and mode are left alone; a second run changes nothing.
options:
  docker_root:
    description: The Docker root directory.
    type: path
    default: /var/lib/docker
  storage_driver:
    description:
      - The storage driver of the store. V(auto) uses the only driver directory present under O(docker_root)
        (the daemon is stopped, so it cannot be asked).
      - The driver names the C(image/<driver>) directory and tells which containers have a read-write layer.
    type: str
    default: auto
    choices: [auto, aufs, overlay, vfs, btrfs, devicemapper]
  socket_path:
    description: The module refuses to run (except in check mode) while a daemon accepts connections on this socket.
    type: path
    default: /var/run/docker.sock
  pid_file:
    description: The module refuses to run (except in check mode) while the process named in this file is alive.
    type: path
    default: /var/run/docker.pid
  allow_pending_layers:
    description:
      - By default the module refuses to run while a layer that is not migrated yet lacks valid checksum
        files (the daemon would hash it at its first start).
      - When V(true), it migrates everything else and leaves to the daemon the images of those layers (and
        of their descendants), their containers, and all the tags (Docker migrates tags only once, so they
        must wait until every image is migrated). They are listed in RV(layers_left_to_daemon).
    type: bool
    default: false
notes:
  - Run it after the old daemon is stopped and before the new one starts, for example between the package
    upgrade (with the daemon kept from starting) and the first start of Docker 1.10.
  - Images Docker 1.10 would not migrate either (a broken parent chain, a config it rejects) are listed in
    RV(problems) and left out, as Docker leaves them out; the daemon retries them at each start.
seealso:
  - module: fleetops.docker_upgrade.layer_checksums
  - module: fleetops.docker_upgrade.graph_info
'''

EXAMPLES = r'''
---
- name: Show the image IDs and tags Docker 1.10 will have (nothing is written; the old daemon may run)
  fleetops.docker_upgrade.offline_migration:
  check_mode: true
  become: true
  register: offline_plan

- name: Migrate the stopped store so the first start of Docker 1.10 has nothing left to do
  fleetops.docker_upgrade.offline_migration:
    storage_driver: overlay
  become: true
  register: offline

- name: Stop when an image or a tag would be lost
  ansible.builtin.assert:
    that: offline.problems | length == 0
    fail_msg: "{{ offline.problems }}"
'''

RETURN = r'''
storage_driver:
  description: The storage driver whose C(image/<driver>) store was written.
  returned: success
  type: str
  sample: overlay
images_migrated:
  description: Images migrated by this run.
  returned: success
  type: int
  sample: 42
images_already_migrated:
  description: Images listed in C(.migration-v1-images.json) already.
  returned: success
  type: int
  sample: 0
images_failed:
  description: Images Docker 1.10.3 would not migrate either (see RV(problems)).
  returned: success
  type: int
  sample: 0
layers_registered:
  description: Layer chains added to C(layerdb).
  returned: success
  type: int
  sample: 42
containers_migrated:
  description: Containers given a C(config.v2.json) by this run.
  returned: success
  type: int
  sample: 3
tags_migrated:
  description: References added to C(repositories.json) by this run.
  returned: success
  type: int
  sample: 5
tags_already_migrated:
  description: Whether C(.migration-v1-tags) existed, so tags were left alone (Docker migrates tags once).
  returned: success
  type: bool
  sample: false
images:
  description: Every legacy image, in graph order.
  returned: success
  type: list
  elements: dict
  contains:
    v1_id:
      description: The v1 image id.
      type: str
      returned: always
    status:
      description: C(migrated), C(already_migrated), C(failed) or C(left_to_daemon).
      type: str
      returned: always
    image_id:
      description: The content-addressable image ID (C(sha256:...)); null when the image fails.
      type: str
      returned: always
    chain_id:
      description: The chain ID of the image's top layer; null when the image fails.
      type: str
      returned: always
    error:
      description: Why the image fails, else null.
      type: str
      returned: always
containers:
  description: Every container directory, in name order.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The container id.
      type: str
      returned: always
    status:
      description:
        - C(migrated), C(already_migrated) (it has a C(config.v2.json)), C(skipped), C(failed) or
          C(left_to_daemon).
      type: str
      returned: always
    image_id:
      description: The image ID the container now points at.
      type: str
      returned: always
    mount:
      description: Whether the container's read-write layer is registered.
      type: bool
      returned: always
    error:
      description: Why the container is not migrated (or has no read-write layer), else null.
      type: str
      returned: always
tags:
  description: The references added to C(repositories.json), mapped to their image IDs.
  returned: success
  type: dict
  sample: {"ubuntu:14.04": "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}
mappings:
  description: The content of C(.migration-v1-images.json) after the run (v1 id to image ID).
  returned: success
  type: dict
  sample: {"8d5547a9f329b1d3f93198cd661fb5117e5a96b721c5cf9a2c389e7dd4877128": "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}
problems:
  description:
    - What Docker 1.10.3 drops. Kinds are C(image_not_migrated), C(container_not_migrated),
      C(container_layer_missing), C(container_config_invalid), C(tag_not_migrated) and C(tags_unreadable).
  returned: success
  type: list
  elements: dict
  contains:
    kind:
      description: The kind of problem.
      type: str
      returned: always
    id:
      description: The v1 id, container id or legacy reference concerned.
      type: str
      returned: always
    detail:
      description: What is wrong, in words.
      type: str
      returned: always
layers_left_to_daemon:
  description: Layers without valid checksum files left to the daemon (only with O(allow_pending_layers)).
  returned: success
  type: list
  elements: str
  sample: []
files_planned:
  description: Files to write (in check mode) or written.
  returned: success
  type: int
  sample: 260
bytes_written:
  description: Bytes written (0 in check mode).
  returned: success
  type: int
  sample: 1048576
'''

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.plan import DRIVERS, PlanError
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.offline import (
    Interrupted, OfflineMigrationError, offline_migrate)


def _driver_name(docker_root, name):
    if name != 'auto':
        return name
    present = [driver for driver in DRIVERS if os.path.isdir(os.path.join(docker_root, driver))]
    if len(present) != 1:
        raise OfflineMigrationError('%s storage driver directories under %s (%s); set storage_driver'
                                    % ('several' if present else 'no', docker_root, ', '.join(present or DRIVERS)))
    return present[0]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            docker_root=dict(type='path', default='/var/lib/docker'),
            storage_driver=dict(type='str', default='auto', choices=['auto'] + list(DRIVERS)),
            socket_path=dict(type='path', default='/var/run/docker.sock'),
            pid_file=dict(type='path', default='/var/run/docker.pid'),
            allow_pending_layers=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        driver = _driver_name(params['docker_root'], params['storage_driver'])
        result = offline_migrate(params['docker_root'], driver, check_mode=module.check_mode,
                                 socket_path=params['socket_path'], pid_file=params['pid_file'],
                                 allow_pending_layers=params['allow_pending_layers'])
    except Interrupted as exc:
        module.fail_json(msg='interrupted: %s' % exc)
    except (OfflineMigrationError, PlanError, OSError) as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop('warnings', []):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
