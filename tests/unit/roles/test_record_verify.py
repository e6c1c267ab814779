# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine_upgrade role's record, backup, verify and restore steps, run in isolation (tasks_from).

A fake Engine API answers as Docker 1.9.1 while the role records and backs up, then the playbook switches it
to what a Docker 1.10.3 daemon would answer after the upgrade (and the test changes the store as Docker 1.10
would), and the role verifies: tags resolve to the ids Docker's .migration-v1-images.json names, no image or
container is missing, containers that ran run again (the role starts those without a restart policy), and no
"migration failed" line was logged since the start. On another host the role restores the backup instead: the
metadata comes back byte for byte and Docker 1.10's additions are set aside, nothing deleted. The daemon is never
stopped and no package is touched: the stop, upgrade and start steps are not run here.
"""

import json
import os

from role_helpers import AFTER_PREFLIGHT, APP_ID, BASE_ID, OLD_ID, TOOLS_ID, WEB_ID, WORKER_ID, engine_state_110, new_id

RECORD_THEN_VERIFY = '''
- name: Record on Docker 1.9, verify on Docker 1.10
  hosts: all
  gather_facts: false
  strategy: free
  tasks:
''' + AFTER_PREFLIGHT + '''

    - name: Record and back up
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: record

    - name: The daemon is Docker 1.10 now (what the stop, upgrade and start steps would have done)
      ansible.builtin.uri:
        url: http://localhost/_fake/phase/after
        method: POST
        unix_socket: "{{ docker_upgrade_socket }}"

    - name: Docker 1.10 logs its migration (start_daemon.yml notes the log's size first)
      ansible.builtin.set_fact:
        __docker_upgrade_log_offset: "{{ lookup('ansible.builtin.file', docker_upgrade_daemon_log) | length + 1 }}"

    - name: Docker 1.10 writes its migration log
      ansible.builtin.lineinfile:
        path: "{{ docker_upgrade_daemon_log }}"
        line: "{{ item }}"
      loop: "{{ new_log_lines }}"

    - name: Verify and publish
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: "{{ step }}"
      loop: [verify, report]
      loop_control:
        loop_var: step
      when: inventory_hostname != 'restore'

    - name: Restore the backup (the daemon would be stopped)
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: restore
      when: inventory_hostname == 'restore'
'''

OLD_LOG = 'time="2016-03-01T10:00:00Z" level=error msg="migration failed for 0000, err: an older attempt"\n'


def _mapping(docker_root, overrides=None):
    mapping = dict((v1, new_id(v1)) for v1 in (BASE_ID, APP_ID, TOOLS_ID))
    mapping.update(overrides or {})
    (docker_root / '.migration-v1-images.json').write_text(json.dumps(mapping) + '\n')


def _docker_110_changes(docker_root):
    """What Docker 1.10's first start adds to a store, and a damaged legacy file for the restore to repair."""
    (docker_root / 'image' / 'vfs' / 'layerdb' / 'sha256' / ('9' * 64)).mkdir(parents=True)
    (docker_root / 'image' / 'vfs' / 'repositories.json').write_text('{"Repositories": {}}')
    (docker_root / '.migration-v1-images.json').write_text('{}')
    (docker_root / '.migration-v1-tags').write_text('')
    (docker_root / 'containers' / WEB_ID / 'config.v2.json').write_text('{"v2": true}')
    (docker_root / 'containers' / WEB_ID / 'hostconfig.json').write_text('{"rewritten": "by 1.10"}')
    (docker_root / 'repositories-vfs').write_text('{"Repositories": {}}')


def test_record_backup_verify_and_restore(make_host, run_playbook):
    good = make_host('good', new_log_lines=['level=info msg="migrated image %s to %s"' % (APP_ID, new_id(APP_ID))])
    good.engine.phases['after'] = engine_state_110(good.docker_root, running=('worker',))
    _mapping(good.docker_root)

    lost = make_host('lost', new_log_lines=['level=error msg="migration failed for %s, err: broken"' % TOOLS_ID])
    after = engine_state_110(lost.docker_root, running=('worker', 'web'))
    after['images'][0]['RepoTags'] = ['shop/app:1.0']                                # shop/app:latest lost
    after['containers'] = [c for c in after['containers'] if c['Id'] != OLD_ID]      # a container lost
    lost.engine.phases['after'] = after
    _mapping(lost.docker_root, {BASE_ID: 'sha256:' + 'ee' * 32})                     # debian:jessie moved

    keep_stopped = make_host('keep_stopped', new_log_lines=[], docker_upgrade_restart_containers=False)
    keep_stopped.engine.phases['after'] = engine_state_110(keep_stopped.docker_root, running=('worker',))
    _mapping(keep_stopped.docker_root)

    restore = make_host('restore', new_log_lines=[])
    restore.engine.on_phase['after'] = lambda: _docker_110_changes(restore.docker_root)
    originals = dict((str(p.relative_to(restore.docker_root)), p.read_bytes())
                     for p in restore.docker_root.rglob('*') if p.is_file())

    hosts = [good, lost, keep_stopped, restore]
    for host in hosts:
        (host.base / 'docker.log').write_text(OLD_LOG)

    run = run_playbook(RECORD_THEN_VERIFY, hosts)

    # Recorded state and backup, on every host.
    for host in hosts:
        latest = host.base / 'backups' / 'latest'
        assert latest.is_symlink(), run
        state = json.loads((latest / 'state.json').read_text())
        assert state['engine_version'] == '1.9.1' and state['storage_driver'] == 'vfs'
        assert state['tags'] == {'shop/app:1.0': APP_ID, 'shop/app:latest': APP_ID, 'debian:jessie': BASE_ID}
        assert sorted(state['images']) == sorted([APP_ID, BASE_ID, TOOLS_ID])
        by_id = dict((c['id'], c) for c in state['containers'])
        assert by_id[WEB_ID]['running'] and by_id[WEB_ID]['restart_policy'] == '' and by_id[WEB_ID]['name'] == 'web'
        assert by_id[WORKER_ID]['running'] and by_id[WORKER_ID]['restart_policy'] == 'always'
        assert not by_id[OLD_ID]['running']
        expected = ['repositories-vfs', 'linkgraph.db'] + sorted(
            'containers/%s/%s' % (cid, name) for cid in (WEB_ID, WORKER_ID, OLD_ID) for name in ('config.json', 'hostconfig.json'))
        assert state['files'] == expected
        for relative in expected:
            assert (latest / relative).read_bytes() == (host.docker_root / relative).read_bytes(), relative
        assert oct((latest / 'state.json').stat().st_mode & 0o777) == '0o600'
        assert oct(os.stat(os.path.realpath(str(latest))).st_mode & 0o777) == '0o700'

    # A clean migration verifies; the container without a restart policy was started by the role.
    assert run.host('good')['status'] == 'ok', run
    assert run.host('good')['id_mismatches'] == []
    assert ('POST', '/v1.21/containers/%s/start' % WEB_ID) in good.engine.requests
    assert ('POST', '/v1.21/containers/%s/start' % WORKER_ID) not in good.engine.requests
    assert 'containers running again' in run.out

    # Losses are named: a missing tag, a tag on another image, a missing container, the daemon's log line.
    # The "migration failed" line written before the start is not counted.
    entry = run.host('lost')
    assert entry['status'] == 'failed'
    out = run.out
    # ansible-core 2.19 prints the message as is, older versions inside the result's JSON.
    message = [line for line in out.splitlines() if 'verification failed: ' in line][0].replace('\\"', '"')
    for part in ('tags missing: shop/app:latest', 'tags on other images: debian:jessie',
                 'images missing: %s' % BASE_ID[:12], 'containers missing: %s' % OLD_ID[:12],
                 'daemon log: level=error msg="migration failed for %s' % TOOLS_ID):
        assert part in message, (part, message)
    assert 'an older attempt' not in message

    # Without docker_upgrade_restart_containers, containers without a restart policy stay stopped and that is fine.
    assert run.host('keep_stopped')['status'] == 'ok', run
    assert not [r for r in keep_stopped.engine.requests if r[0] == 'POST' and '/containers/' in r[1]]
    assert '1 without a restart policy left stopped' in out

    # The restore puts the legacy metadata back byte for byte and sets Docker 1.10's additions aside.
    assert run.recap('restore')['failed'] == 0, run
    now = dict((str(p.relative_to(restore.docker_root)), p.read_bytes())
               for p in restore.docker_root.rglob('*') if p.is_file())
    assert now == originals
    assert not (restore.docker_root / 'image').exists()
    backup = os.path.realpath(str(restore.base / 'backups' / 'latest'))
    aside = [name for name in os.listdir(backup) if name.startswith('set-aside-')]
    assert len(aside) == 1, os.listdir(backup)
    aside = os.path.join(backup, aside[0])
    assert os.path.isdir(os.path.join(aside, 'image', 'vfs', 'layerdb', 'sha256', '9' * 64))
    assert open(os.path.join(aside, 'containers', WEB_ID, 'config.v2.json')).read() == '{"v2": true}'
    for name in ('.migration-v1-images.json', '.migration-v1-tags', 'image/vfs/repositories.json'):
        assert os.path.exists(os.path.join(aside, name)), name
