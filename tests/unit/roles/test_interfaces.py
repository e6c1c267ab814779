# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The engine_upgrade role's interfaces: version comparison, argument specs, defaults, and the playbooks.

- compare_versions.yml over a table of engine versions (numeric parts, pre-releases, vendor suffixes);
- meta/argument_specs.yml rejects wrong types and choices before the first task; it documents exactly the
  variables of defaults/main.yml, with the same defaults, all prefixed docker_upgrade_;
- the three playbooks run as ``ansible-playbook fleetops.docker_upgrade.<name>`` in check mode, with the serial
  batches and host pattern from variables; check mode changes nothing and prints each host's plan, accepted
  problem kinds pass the preflight.
"""

import json
import re

import yaml

from role_helpers import LOST_TAG, REPO_ROOT, tree

ROLE = REPO_ROOT / 'roles' / 'engine_upgrade'

# (engine version, target, at or above the target); None: not comparable, the preflight fails.
VERSION_CASES = [
    ('1.9.1', '1.10.3', False),
    ('1.10.3', '1.10.3', True),
    ('1.10.4', '1.10.3', True),
    ('1.11.0', '1.10.3', True),
    ('17.03.0-ce', '1.10.3', True),
    ('1.10.0-rc1', '1.10.0', False),
    ('1.10.0', '1.10.0-rc1', True),
    ('1.10.0-rc2', '1.10.0-rc1', True),
    ('1.10.0-rc1', '1.10.0-rc2', False),
    ('1.10.3-cs2', '1.10.3', True),
    ('1.9.1-cs2', '1.10.3', False),
    ('1.10.0-dev', '1.10.0', False),
    ('1.10', '1.10.3', False),
    ('1.10.3', '1.10', True),
    (' 1.10.3\n', '1.10.3', True),
    ('dev', '1.10.3', None),
]

CASE_TASKS = '''
- name: Compare one case
  block:
    - name: Compare
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: compare_versions
      vars:
        __docker_upgrade_compare_version: "{{ case[0] }}"
        docker_upgrade_target_version: "{{ case[1] }}"
    - name: Keep the answer
      ansible.builtin.set_fact:
        answers: "{{ answers + [__docker_upgrade_version_reached | bool] }}"
  rescue:
    - name: Keep the refusal
      ansible.builtin.set_fact:
        answers: "{{ answers + [none] }}"
'''

PLAYS = '''
- name: Version comparison table
  hosts: versions
  gather_facts: false
  vars:
    answers: []
  tasks:
    - name: Compare each case
      ansible.builtin.include_tasks: case.yml
      loop: "{{ cases }}"
      loop_control:
        loop_var: case
    - name: Write the answers
      ansible.builtin.copy:
        content: "{{ answers | to_json }}"
        dest: "{{ answers_file }}"
        mode: "0644"

- name: Wrong arguments
  hosts: bad_type:bad_choice
  gather_facts: false
  roles:
    - role: fleetops.docker_upgrade.engine_upgrade
'''


def test_version_comparison_and_argument_validation(tmp_path, run_playbook):
    answers = tmp_path / 'answers.json'
    run = run_playbook(PLAYS.replace('case.yml', str(_write(tmp_path / 'case.yml', CASE_TASKS))), {
        'versions': {'cases': [[current, target] for current, target, dummy in VERSION_CASES], 'answers_file': str(answers)},
        'bad_type': {'docker_upgrade_workers': 'many', 'docker_upgrade_socket': str(tmp_path / 'none.sock')},
        'bad_choice': {'docker_upgrade_io_priority': 'urgent', 'docker_upgrade_socket': str(tmp_path / 'none.sock')},
    })
    got = json.loads(answers.read_text())
    assert [(case[0], case[1], answer) for case, answer in zip(VERSION_CASES, got)] == VERSION_CASES, run

    # The argument specs stop both hosts at their first task, naming the variable; nothing else ran.
    out = run.out
    assert re.search(r"docker_upgrade_workers.*'many'|'many'.*docker_upgrade_workers", out) or \
        "docker_upgrade_workers" in out and "unable to convert to int" in out, out
    assert 'docker_upgrade_io_priority' in out and 'urgent' in out
    assert out.count('Validation of arguments failed') >= 2, out
    for host in ('bad_type', 'bad_choice'):
        assert run.recap(host)['ok'] == 0 and run.recap(host)['failed'] == 1, run.recap(host)


def _write(path, text):
    path.write_text(text)
    return path


def test_argument_specs_match_the_defaults():
    defaults = yaml.safe_load((ROLE / 'defaults' / 'main.yml').read_text())
    specs = yaml.safe_load((ROLE / 'meta' / 'argument_specs.yml').read_text())['argument_specs']
    assert set(specs) == {'main', 'premigrate_only', 'deliberate_rollback'}
    options = specs['main']['options']
    for entry_point in specs.values():
        assert entry_point['options'] == options
    assert sorted(options) == sorted(defaults)
    for name, spec in options.items():
        assert name.startswith('docker_upgrade_'), name
        assert spec.get('description'), name
        assert spec.get('default') == defaults[name], name
        if spec['type'] == 'list':
            assert spec.get('elements'), name
    # The variables the issue names are all there.
    for name in ('docker_root', 'storage_driver', 'target_version', 'package_name', 'package_version_spec',
                 'repository', 'socket', 'api_version', 'service', 'pid_file', 'daemon_log', 'accept_problems',
                 'min_free_disk_bytes', 'disk_margin', 'premigrate_timeout', 'premigrate_poll', 'workers',
                 'io_priority', 'max_failed_layers', 'pre_stop_hook', 'post_verify_hook', 'backup_dir',
                 'stop_timeout', 'start_timeout_min', 'start_rate_bytes', 'restart_containers', 'rollback',
                 'verify_log'):
        assert 'docker_upgrade_' + name in options, name
    assert defaults['docker_upgrade_backup_dir'] == '/var/backups/fleetops-docker-upgrade'
    assert defaults['docker_upgrade_restart_containers'] is True and defaults['docker_upgrade_rollback'] is True


def test_role_meta():
    meta = yaml.safe_load((ROLE / 'meta' / 'main.yml').read_text())
    assert meta['galaxy_info']['min_ansible_version'] == '2.15'
    assert meta['dependencies'] == []


def test_playbooks_run_from_the_collection_in_check_mode(tmp_path, make_host, run_playbook):
    """premigrate, rolling_upgrade and rollback as collection playbooks, in check mode, in one run."""
    hosts = [make_host('h%d' % index) for index in range(1, 4)]
    for host in hosts:
        host.engine.state['version'] = '1.10.3'          # upgraded: skipped by the rolling upgrade
    hosts.append(make_host('h4', tags=LOST_TAG, docker_upgrade_accept_problems=['tag_without_image']))
    hosts.append(make_host('h5'))
    before = dict((host.name, tree(host.docker_root)) for host in hosts)
    # h1 has a backup from its upgrade: the rollback playbook plans it; the others have none and fail.
    state = {'engine_version': '1.9.1', 'package_name': 'docker-engine', 'package_version': '1.9.1-0~jessie',
             'pkg_mgr': 'apt', 'backup': str(hosts[0].base / 'backups' / '20260301T100000Z'), 'files': ['linkgraph.db'],
             'tags': {}, 'containers': [], 'excused': [], 'images': []}
    (hosts[0].base / 'backups' / '20260301T100000Z').mkdir(parents=True)
    (hosts[0].base / 'backups' / '20260301T100000Z' / 'state.json').write_text(json.dumps(state))
    (hosts[0].base / 'backups' / 'latest').symlink_to('20260301T100000Z')

    run = run_playbook(None, hosts, check=True, extra_vars={
        'docker_upgrade_hosts': 'all', 'docker_upgrade_serial': [1, '50%'], 'docker_upgrade_max_fail_percentage': 100,
    }, playbooks=['fleetops.docker_upgrade.premigrate', 'fleetops.docker_upgrade.rolling_upgrade',
                  'fleetops.docker_upgrade.rollback'])
    out = run.out
    assert out.count('PLAY [Pre-migrate the Docker hosts (no downtime)]') == 1, out
    # Canary of 1, then 50% of 5 hosts (2), then the remaining 2.
    assert out.count('PLAY [Rolling upgrade of the Docker hosts]') == 3, out
    # h1 plans its rollback; the whole second batch (h2, h3) has no backup and fails, which ends the play.
    assert out.count('PLAY [Roll the Docker hosts back to their recorded engine]') == 2, out
    assert 'engine 1.10.3 -> 1.9.1 (docker-engine 1.9.1-0~jessie), restoring 1 files from' in out, out

    # The plan of the hosts still on 1.9 (printed by premigrate and by rolling_upgrade).
    assert out.count('engine 1.9.1 (bash') == 4 and '-> 1.10.3 (bash=1.10.3* via apt)' in out, out
    assert 'store %s (vfs): 3 layers, 3 pending' % hosts[4].docker_root in out, out
    assert '3 tags, 3 containers (2 running)' in out
    assert 'hooks: pre-stop none, post-verify none' in out
    assert 'problems: 1 (1 accepted: tag_without_image)' in out, out

    # Check mode changed nothing and asked the daemons only questions.
    for host in hosts:
        assert run.recap(host.name)['changed'] == 0, (host.name, run.recap(host.name))
        assert tree(host.docker_root) == before[host.name], host.name
        assert all(method == 'GET' for method, path in host.engine.requests)
        assert not (host.base / 'progress.json').exists()
    for host in hosts[1:]:
        assert not (host.base / 'backups').exists()
    # The planning pass gave the report its pending figures; a planned host is ok, not upgraded.
    assert run.report['check_mode'] is True
    for name in ('h4', 'h5'):
        entry = run.host(name)
        assert entry['layers_pending'] == 6 and entry['engine_version_after'] is None, entry  # two plays planned
        assert run.recap(name)['failed'] == 0
    # Without a backup there is nothing to roll back to: those hosts fail in the rollback playbook only.
    assert run.recap('h1')['failed'] == 0 and run.recap('h2')['failed'] == 1 and run.recap('h3')['failed'] == 1
    assert 'state.json' in run.host('h2')['failure_reason'], run.host('h2')


def test_any_errors_fatal_stops_after_the_batch(tmp_path, make_host, run_playbook):
    """docker_upgrade_any_errors_fatal: the first failed host stops the rollout after its batch, even when
    docker_upgrade_max_fail_percentage would tolerate it (Ansible's own any_errors_fatal would abandon the other
    hosts of the batch mid-upgrade, so the playbook does not use it)."""
    broken = make_host('broken', docker_upgrade_socket=str(tmp_path / 'nothing.sock'))
    upgraded = make_host('upgraded')
    upgraded.engine.state['version'] = '1.10.3'
    later = make_host('later')
    run = run_playbook(None, [broken, upgraded, later], check=True, extra_vars={
        'docker_upgrade_hosts': 'all', 'docker_upgrade_serial': 2, 'docker_upgrade_any_errors_fatal': True,
        'docker_upgrade_max_fail_percentage': 100,
    }, playbooks=['fleetops.docker_upgrade.rolling_upgrade'])
    # Half of the first batch failed: tolerated by max_fail_percentage 100, not with any_errors_fatal.
    assert run.host('broken')['status'] == 'failed'
    assert run.host('upgraded')['status'] == 'skipped'
    assert 'later' not in run.report['hosts'], run
    assert later.engine.requests == []
