# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine_upgrade role's image ID predictions and its offline migration option (issue 8).

One ansible-playbook run over four hosts:

- ``equal``, ``wrong``, ``strict``: record on a fake Docker 1.9.1, the catch-up pass and the predictions
  (predict.yml: offline_migration in check mode) on the small store, then the fake engine answers as Docker
  1.10.3 with the predicted ids (``equal``), or with the base image under another id and shop/app:latest on
  another image (``wrong``, ``strict``), and the role verifies. ``wrong`` warns and stands;
  ``strict`` (docker_upgrade_fail_on_id_mismatch) fails the verification.
- ``premigrated``: as ``equal``, but every layer is checksummed before the record step, so the prediction
  made while the old daemon serves stands and the catch-up pass (downtime) does not predict again.
- ``offline``: a store built by the legacy_graph fixture, no daemon (the fake API closed, no pid file): the
  catch-up checksums, then offline_migrate.yml (docker_upgrade_offline_migration) writes Docker 1.10's
  migration, which matches what the check mode predicted.
"""

import json

from role_helpers import AFTER_PREFLIGHT, APP_ID, BASE_ID, TOOLS_ID, engine_state_110

PLAYBOOK = '''
- name: Predict, upgrade (faked), verify
  hosts: all
  gather_facts: false
  strategy: free
  tasks:
''' + AFTER_PREFLIGHT + '''

    - name: Pre-migrate (premigrated only)
      fleetops.docker_upgrade.layer_checksums:
        docker_root: "{{ docker_upgrade_docker_root }}"
        storage_driver: vfs
        workers: 1
      when: inventory_hostname == 'premigrated'

    - name: Record, catch up and predict
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: "{{ step }}"
      loop: [record, catchup]
      loop_control:
        loop_var: step
      when: inventory_hostname != 'offline'

    - name: The daemon is Docker 1.10 now
      ansible.builtin.uri:
        url: http://localhost/_fake/phase/after
        method: POST
        unix_socket: "{{ docker_upgrade_socket }}"
      when: inventory_hostname != 'offline'

    - name: The log offset start_daemon.yml would have noted
      ansible.builtin.set_fact:
        __docker_upgrade_log_offset: 0

    - name: Verify and publish
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: "{{ step }}"
      loop: [verify, report]
      loop_control:
        loop_var: step
      when: inventory_hostname != 'offline'

    - name: Checksum the offline store
      fleetops.docker_upgrade.layer_checksums:
        docker_root: "{{ docker_upgrade_docker_root }}"
        storage_driver: vfs
        workers: 1
      when: inventory_hostname == 'offline'

    - name: Predict the offline store
      fleetops.docker_upgrade.offline_migration:
        docker_root: "{{ docker_upgrade_docker_root }}"
        storage_driver: vfs
        socket_path: "{{ docker_upgrade_socket }}"
        pid_file: "{{ docker_upgrade_pid_file }}"
        allow_pending_layers: true
      check_mode: true
      register: offline_plan
      when: inventory_hostname == 'offline'

    - name: Migrate offline as the role does between the package upgrade and the start
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: offline_migrate
      when: inventory_hostname == 'offline'

    - name: Keep what was predicted and what was written
      ansible.builtin.copy:
        content: "{{ {'plan': offline_plan.mappings, 'written': __docker_upgrade_offline.mappings,
          'plan_tags': offline_plan.tags, 'written_tags': __docker_upgrade_offline.tags} | to_json }}"
        dest: "{{ docker_upgrade_docker_root }}/../offline-result.json"
        mode: "0600"
      when: inventory_hostname == 'offline'
'''


def _after_from_predictions(host, damage=False):
    """When the playbook switches to 'after': Docker 1.10 serving the ids predict.yml wrote into state.json."""
    def switch():
        state = json.loads((host.base / 'backups' / 'latest' / 'state.json').read_text())
        predicted = state['predicted']['images']
        after = engine_state_110(host.docker_root, running=('worker',))
        for image, v1 in zip(after['images'], (APP_ID, BASE_ID, TOOLS_ID)):
            image['Id'] = predicted[v1]
        for container in after['containers']:
            container['ImageID'] = predicted[{APP_ID[::-1]: APP_ID, BASE_ID[::-1]: BASE_ID}[container['ImageID'][7:]]]
        if damage:
            after['images'][1]['Id'] = 'sha256:' + 'ee' * 32             # base image under another id
            after['images'][0]['RepoTags'] = ['shop/app:1.0']             # shop/app:latest moved to tools
            after['images'][2]['RepoTags'] = ['shop/app:latest']
        host.engine.state.clear()
        host.engine.state.update(after)
    return switch


def test_predictions_compared_and_offline_migration(make_host, legacy_graph, run_playbook):
    equal = make_host('equal')
    equal.engine.on_phase['after'] = _after_from_predictions(equal)
    wrong = make_host('wrong')
    wrong.engine.on_phase['after'] = _after_from_predictions(wrong, damage=True)
    strict = make_host('strict', docker_upgrade_fail_on_id_mismatch=True)
    strict.engine.on_phase['after'] = _after_from_predictions(strict, damage=True)

    premigrated = make_host('premigrated')
    premigrated.engine.on_phase['after'] = _after_from_predictions(premigrated)

    offline_root, _manifest = legacy_graph('vfs')
    offline = make_host('offline', store=False, docker_upgrade_docker_root=str(offline_root),
                        docker_upgrade_pid_file=str(offline_root) + '/no-such.pid')
    offline.engine.close()   # no daemon answers: the module refuses otherwise

    hosts = [equal, wrong, strict, premigrated, offline]
    for host in hosts:
        (host.base / 'docker.log').write_text('')
    run = run_playbook(PLAYBOOK, hosts)

    # The predictions are in the recorded state: every image and every tag.
    state = json.loads((equal.base / 'backups' / 'latest' / 'state.json').read_text())
    predicted = state['predicted']
    assert sorted(predicted['images']) == sorted([APP_ID, BASE_ID, TOOLS_ID]), run
    assert sorted(predicted['tags']) == ['debian:jessie', 'shop/app:1.0', 'shop/app:latest']
    assert predicted['tags']['debian:jessie'] == predicted['images'][BASE_ID]
    assert predicted['error'] is None
    assert predicted['stage'] == 'catch-up'  # the catch-up pass computed every layer: predicted again

    # Checksummed before the record step: predicted while the old daemon served, not again in the downtime.
    early = json.loads((premigrated.base / 'backups' / 'latest' / 'state.json').read_text())['predicted']
    assert early['stage'] == 'serving', run
    assert early['images'] == predicted['images'] and early['tags'] == predicted['tags']
    assert run.host('premigrated')['status'] == 'ok' and run.host('premigrated')['id_mismatches'] == []

    assert run.host('equal')['status'] == 'ok', run
    assert run.host('equal')['id_mismatches'] == []

    # Default policy: listed in the report, warned about, the upgrade stands.
    entry = run.host('wrong')
    assert entry['status'] == 'ok', run
    wrong_state = json.loads((wrong.base / 'backups' / 'latest' / 'state.json').read_text())['predicted']
    mismatches = sorted(entry['id_mismatches'], key=lambda item: (item.get('image') or '', item['id']))
    assert mismatches[0] == {'id': BASE_ID, 'expected': wrong_state['images'][BASE_ID],
                             'reason': 'the daemon does not serve the predicted image ID'}
    assert mismatches[1] == {'id': BASE_ID, 'image': 'debian:jessie', 'expected': wrong_state['tags']['debian:jessie'],
                             'actual': 'sha256:' + 'ee' * 32, 'reason': 'the tag is on another image than predicted'}
    assert mismatches[2] == {'id': APP_ID, 'image': 'shop/app:latest', 'expected': wrong_state['images'][APP_ID],
                             'actual': wrong_state['images'][TOOLS_ID],
                             'reason': 'the tag is on another image than predicted'}
    assert len(mismatches) == 3
    assert 'WARNING: 3 image ID or tag mismatches with the predictions' in run.out

    # docker_upgrade_fail_on_id_mismatch: the verification fails.
    assert run.host('strict')['status'] == 'failed', run
    message = [line for line in run.out.splitlines() if 'verification failed: ' in line]
    assert message and 'image IDs other than predicted: ' in message[0], run

    # The offline migration wrote what check mode predicted.
    assert run.recap('offline')['failed'] == 0, run
    result = json.loads((offline_root.parent / 'offline-result.json').read_text())
    assert result['written'] and result['written'] == result['plan']
    assert result['written_tags'] == result['plan_tags']
    assert json.loads((offline_root / '.migration-v1-images.json').read_text()) == result['plan']
    assert (offline_root / 'image' / 'vfs' / 'imagedb').is_dir()
