# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Preflight decisions of the engine_upgrade role, run for real against fake Engine APIs and small stores.

Hosts at or above the target are skipped and reported skipped, and a re-run changes nothing; store problems
fail before any downtime; the free disk check; a daemon that does not answer or runs elsewhere; a missing hook
file; the premigrate_only entry point hashes in the background with progress. (Check mode and accepted problem
kinds: test_interfaces.py.) Every scenario stops before the stop step (it fails in preflight, is skipped, or is
the premigrate_only entry point), so nothing on this machine is stopped or installed. Several scenarios share
one ansible-playbook run, one inventory host each.
"""

import json

from role_helpers import APP_ID, BASE_ID, LOST_TAG, tree

MAIN = '''
- name: Run the role
  hosts: all
  gather_facts: false
  roles:
    - role: fleetops.docker_upgrade.engine_upgrade
'''

PREMIGRATE = '''
- name: Pre-migrate only
  hosts: all
  gather_facts: false
  tasks:
    - name: Pre-migrate
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: premigrate_only
'''


def test_preflight_decisions(tmp_path, make_host, run_playbook):
    at_target = make_host('at_target')
    at_target.engine.state['version'] = '1.10.3'
    above = make_host('above')
    above.engine.state['version'] = '1.11.0'
    hook = tmp_path / 'drain.yml'
    hook.write_text('- name: Drain\n  ansible.builtin.file:\n    path: "{{ drain_marker }}"\n    state: touch\n'
                    '    mode: "0644"\n')
    problems = make_host('problems', tags=LOST_TAG, docker_upgrade_pre_stop_hook=str(hook),
                         drain_marker=str(tmp_path / 'problems' / 'drained'))
    disk = make_host('disk', docker_upgrade_min_free_disk_bytes=2 ** 62)
    elsewhere = make_host('elsewhere')
    elsewhere.engine.state['info']['DockerRootDir'] = '/srv/docker'
    silent = make_host('silent', docker_upgrade_socket=str(tmp_path / 'nothing.sock'))
    no_hook = make_host('no_hook', docker_upgrade_post_verify_hook=str(tmp_path / 'return.yml'))
    hosts = [at_target, above, problems, disk, elsewhere, silent, no_hook]
    before = dict((host.name, tree(host.docker_root)) for host in hosts)

    run = run_playbook(MAIN, hosts)

    # At or above the target: skipped, reported skipped, nothing asked beyond the version, nothing changed.
    for host in (at_target, above):
        entry = run.host(host.name)
        assert entry['status'] == 'skipped', (entry, run)
        assert entry['engine_version_before'] == entry['engine_version_after'] == host.engine.state['version']
        assert [path for method, path in host.engine.requests] == ['/v1.21/version']
        assert not (host.base / 'backups').exists()
    assert run.recap('at_target')['changed'] == 0 and run.recap('above')['changed'] == 0
    assert 'is at or above the target 1.10.3: nothing to do' in run.out

    # A problem Docker 1.10 would turn into a loss fails before the drain hook and before any change.
    reason = run.host('problems')['failure_reason']
    assert run.host('problems')['status'] == 'failed'
    assert reason.startswith('Docker 1.10 would lose or reject part of this store: tag_without_image x1 (first: gone:1'), reason
    assert 'Refuse problems Docker 1.10 would turn into losses; before the stop: nothing to roll back)' in run.out
    assert not (tmp_path / 'problems' / 'drained').exists(), 'the pre-stop hook ran although the preflight failed'

    assert run.host('disk')['status'] == 'failed'
    assert 'free; the migration needs' in run.host('disk')['failure_reason'], run.host('disk')
    assert 'the daemon runs with root /srv/docker' in run.host('elsewhere')['failure_reason']
    assert 'the Docker daemon does not answer on' in run.host('silent')['failure_reason']
    assert run.host('no_hook')['failure_reason'].startswith(
        'hook task file not found on the controller: %s' % (tmp_path / 'return.yml')), run.host('no_hook')

    for host in hosts:
        assert tree(host.docker_root) == before[host.name], host.name
        assert all(method == 'GET' for method, path in host.engine.requests), host.name
        assert not (host.base / 'backups').exists()
    assert run.rc != 0


def test_premigrate_only_hashes_in_the_background_with_progress(make_host, run_playbook):
    host = make_host('pre', docker_upgrade_premigrate_poll=1, docker_upgrade_progress_interval=1)

    run = run_playbook(PREMIGRATE, [host])

    assert run.rc == 0, run
    entry = run.host('pre')
    assert entry['status'] == 'ok'
    # The async_status result of the layer_checksums job reached the report.
    assert entry['layers_computed'] == 3 and entry['layers_failed'] == 0, entry
    assert entry['layers_fallback'] == 3  # no tar-split data in the hand-made store: tars regenerated
    assert entry['premigrate_seconds'] is not None and entry['downtime_seconds'] is None
    for layer in (BASE_ID, APP_ID):
        diff_id = (host.docker_root / 'graph' / layer / '.migration-diffid').read_text()
        assert diff_id.startswith('sha256:') and len(diff_id) == 71
    assert 'pre-migrate pass: 3 computed' in run.out, run
    progress = json.loads((host.base / 'progress.json').read_text())
    assert progress['state'] == 'finished' and progress['layers_done'] == 3
    # No downtime: the daemon was only asked questions.
    assert all(method == 'GET' for method, path in host.engine.requests)
