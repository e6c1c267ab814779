# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs real ansible-playbook with the migration_report callback enabled over several local hosts.

The playbook uses a test-only layer_checksums module from its own library/ directory that returns the
documented keys and logs every result it returns; the report must match those logged results.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import collections
import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[4]
ANSIBLE_PLAYBOOK = pathlib.Path(sys.executable).parent / 'ansible-playbook'
COUNTERS = ('layers_computed', 'layers_cached', 'layers_repaired', 'layers_fallback', 'layers_failed', 'bytes_hashed')
PLANNED = ('layers_pending', 'bytes_pending')
SECRET = 'S3CRET-MARKER-7c1f'

TEST_MODULE = r'''#!/usr/bin/python
# Test double of fleetops.docker_upgrade.layer_checksums: returns the documented keys for the numbers it is given.
# Like the real module it always returns its plan (layers_pending, bytes_pending, estimated_seconds), and in check
# mode hashes nothing and counts layers with valid cache files as cached.
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            data=dict(type='dict', required=True),
            host=dict(type='str', required=True),
            log=dict(type='path', required=True),
            secret_marker=dict(type='str', default=''),
        ),
        supports_check_mode=True,
    )
    data = module.params['data']
    layers = [dict(id=layer_id, parent=None, diff_id='sha256:' + layer_id, size=100, tar_bytes=120, source='regenerated',
                   reason=reason, seconds=0.01, error=None) for layer_id, reason in data.get('regenerated', [])]
    layers += [dict(id=layer_id, parent=None, diff_id=None, size=100, tar_bytes=0, source='tarsplit', reason=None,
                    seconds=0.01, error=error) for layer_id, error in data.get('failed_ids', [])]
    layers.append(dict(id='ok-' + module.params['host'], parent=None, diff_id='sha256:0', size=1, tar_bytes=1, source='cached',
                       reason=None, seconds=0.0, error=None))
    result = dict(changed=not module.check_mode, storage_driver='overlay', layers=layers, layers_total=len(layers),
                  environment_dump={'DOCKER_TOKEN': module.params['secret_marker']})
    result.update(layers_pending=data['computed'] + data['fallback'], bytes_pending=data['bytes'], estimated_seconds=data['elapsed'])
    if module.check_mode:
        result.update(layers_computed=0, layers_cached=data['cached'], layers_repaired=0, layers_fallback=0, layers_failed=0,
                      bytes_hashed=0, elapsed_seconds=0.0, throughput_mb_s=0.0)
    else:
        result.update(layers_computed=data['computed'], layers_cached=data['cached'], layers_repaired=data['repaired'],
                      layers_fallback=data['fallback'], layers_failed=data['failed'], bytes_hashed=data['bytes'],
                      elapsed_seconds=data['elapsed'], throughput_mb_s=data['bytes'] / 1e6 / data['elapsed'])
    line = json.dumps(dict(host=module.params['host'], check_mode=module.check_mode, result=result)) + '\n'
    handle = os.open(module.params['log'], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(handle, line.encode('utf-8'))
    finally:
        os.close(handle)
    if data.get('fail'):
        module.fail_json(msg='%d layer(s) failed checksum verification' % data['failed'], **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
'''

# Per-host numbers for each layer_checksums pass; h3's pre-migrate pass fails, h5 is unreachable, h6 only skips.
PASSES = {
    'h1': {
        'pre': dict(computed=4, cached=2, repaired=1, fallback=1, failed=0, bytes=4000000, elapsed=2.0, regenerated=[['h1-r1', 'no_tarsplit']]),
        'catchup': dict(computed=1, cached=5, repaired=0, fallback=1, failed=0, bytes=500000, elapsed=0.5,
                        regenerated=[['h1-r2', 'integrity usr/bin/x']]),
    },
    'h2': {
        'pre': dict(computed=6, cached=0, repaired=0, fallback=2, failed=0, bytes=9000000, elapsed=3.0,
                    regenerated=[['h2-r1', 'corrupt_tarsplit'], ['h2-r2', 'missing etc/y']]),
        'catchup': dict(computed=2, cached=6, repaired=1, fallback=0, failed=0, bytes=1000000, elapsed=1.0),
    },
    'h3': {
        'pre': dict(computed=2, cached=0, repaired=0, fallback=0, failed=1, bytes=2000000, elapsed=1.0, fail=True,
                    failed_ids=[['h3-bad', 'tar-split stream ends early']]),
    },
    'h4': {
        'pre': dict(computed=3, cached=1, repaired=0, fallback=0, failed=0, bytes=3000000, elapsed=1.5),
        'catchup': dict(computed=0, cached=4, repaired=0, fallback=0, failed=0, bytes=0, elapsed=0.1),
    },
    'h5': {'pre': dict(computed=9, cached=0, repaired=0, fallback=0, failed=0, bytes=9, elapsed=9.0)},
    'h6': {'pre': dict(computed=9, cached=0, repaired=0, fallback=0, failed=0, bytes=9, elapsed=9.0)},
}

ROLE_REPORTS = {
    'h1': dict(premigrate_seconds=2.5, catchup_seconds=0.7, downtime_seconds=3.0, total_seconds=40.0, status='ok'),
    'h2': dict(premigrate_seconds=3.5, catchup_seconds=1.2, downtime_seconds=8.5, total_seconds=90.0, status='ok'),
    'h4': dict(premigrate_seconds=1.6, catchup_seconds=0.2, downtime_seconds=5.0, total_seconds=20.0, status='rolled_back',
               failure_reason='dockerd 1.10 did not start'),
}

EXPECTED_STATUS = {'h1': 'ok', 'h2': 'ok', 'h3': 'failed', 'h4': 'rolled_back', 'h5': 'unreachable', 'h6': 'skipped'}

PLAYBOOK = '''
- name: Controller-side preparation, as molecule's create does (Ansible's implicit localhost, not a fleet host)
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Prepare on the controller
      ansible.builtin.debug:
        msg: nothing to prepare

- name: Pre-migrate pass on the whole fleet
  hosts: fleet
  gather_facts: false
  tasks:
    - name: Pre-migrate layer checksums
      layer_checksums:
        data: "{{ passes.pre }}"
        host: "{{ inventory_hostname }}"
        log: "{{ returns_log }}"
        secret_marker: "{{ secret_marker }}"
      when: inventory_hostname != 'h6'

- name: Upgrade one host at a time
  hosts: fleet
  gather_facts: false
  serial: 1
  tasks:
    - name: Catch-up layer checksums (a loop of one item, as a role may loop over storage roots)
      layer_checksums:
        data: "{{ item }}"
        host: "{{ inventory_hostname }}"
        log: "{{ returns_log }}"
        secret_marker: "{{ secret_marker }}"
      loop: "{{ [passes.catchup] if passes.catchup is defined else [] }}"
      when: inventory_hostname != 'h6'

    - name: A failure that is ignored does not fail the host
      ansible.builtin.fail:
        msg: ignored on purpose
      ignore_errors: true
      when: inventory_hostname == 'h2'

    - name: Engine upgrade, rolled back on failure
      when: inventory_hostname != 'h6'
      block:
        - name: Start the new engine
          ansible.builtin.fail:
            msg: dockerd 1.10 did not start
          when: inventory_hostname == 'h4'
      rescue:
        - name: Roll back
          ansible.builtin.debug:
            msg: rolling back

    - name: Publish timings and status as the engine_upgrade role does
      ansible.builtin.set_fact:
        docker_upgrade_report: "{{ role_report | combine({'engine_version_before': '1.9.1', 'engine_version_after': '1.10.3'}) }}"
      when: role_report is defined
'''


def _closed_port():
    # A port nothing listens on: bind to get a free one, then close it; ssh then gets "connection refused" at once.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _inventory():
    hosts = {}
    for name, passes in PASSES.items():
        host = {'passes': passes}
        if name in ROLE_REPORTS:
            host['role_report'] = ROLE_REPORTS[name]
        if name == 'h5':
            host.update(ansible_connection='ssh', ansible_host='127.0.0.1', ansible_port=_closed_port(), ansible_user='nobody')
        hosts[name] = host
    return {'fleet': {'hosts': hosts, 'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}


def _prepare(tmp):
    # The collection, importable as fleetops.docker_upgrade without copying the repository.
    namespace = tmp / 'collections' / 'ansible_collections' / 'fleetops'
    namespace.mkdir(parents=True)
    (namespace / 'docker_upgrade').symlink_to(REPO_ROOT, target_is_directory=True)
    project = tmp / 'project'
    (project / 'library').mkdir(parents=True)
    (project / 'library' / 'layer_checksums.py').write_text(TEST_MODULE, encoding='utf-8')
    (project / 'playbook.yml').write_text(PLAYBOOK, encoding='utf-8')
    (project / 'inventory.json').write_text(json.dumps(_inventory()), encoding='utf-8')
    return project


def _run(tmp, project, returns_log, extra_args=(), extra_env=None):
    assert ANSIBLE_PLAYBOOK.exists(), 'run the tests with the venv python (bash scripts/setup.sh): %s' % ANSIBLE_PLAYBOOK
    assert shutil.which('ssh'), 'the unreachable host needs an ssh client (bash scripts/setup.sh installs openssh-client)'
    # Start from a clean environment so a developer's own ANSIBLE_* or MIGRATION_REPORT_* settings do not leak in.
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'MIGRATION_REPORT_')))
    env.update({
        'ANSIBLE_CONFIG': str(project / 'ansible.cfg'),
        'ANSIBLE_COLLECTIONS_PATH': str(tmp / 'collections'),
        'ANSIBLE_LOCAL_TEMP': str(tmp / 'ansible-local'),
        'ANSIBLE_REMOTE_TEMP': str(tmp / 'ansible-remote'),
        'ANSIBLE_HOST_KEY_CHECKING': 'False',
        'ANSIBLE_TIMEOUT': '5',
        'ANSIBLE_RETRY_FILES_ENABLED': 'False',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_FORKS': '6',
    })
    env.update(extra_env or {})
    command = [str(ANSIBLE_PLAYBOOK), '-i', 'inventory.json', 'playbook.yml',
               '-e', json.dumps({'returns_log': str(returns_log), 'secret_marker': SECRET})]
    command += list(extra_args)
    proc = subprocess.run(command, cwd=str(project), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=120, check=False)
    # h3 fails and h5 is unreachable, so ansible-playbook exits 2 (failed hosts) or 4 (unreachable hosts).
    assert proc.returncode in (2, 4), 'rc=%s\nstdout:\n%s\nstderr:\n%s' % (proc.returncode, proc.stdout, proc.stderr)
    return proc


def _returned(returns_log):
    """What the module returned, summed per host: the oracle for the report."""
    sums = collections.defaultdict(collections.Counter)
    for line in pathlib.Path(returns_log).read_text(encoding='utf-8').splitlines():
        entry = json.loads(line)
        result = entry['result']
        for key in COUNTERS + PLANNED + ('elapsed_seconds', 'estimated_seconds'):
            sums[entry['host']][key] += result.get(key, 0)
        sums[entry['host']]['tasks'] += 1
    return sums


def _report_lines(stdout):
    """The callback's terminal output: everything after its banner."""
    lines = stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith('MIGRATION REPORT'))
    return lines[start + 1:]


@pytest.fixture(scope='module')
def normal_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('migration_report_run')
    project = _prepare(tmp)
    (project / 'ansible.cfg').write_text('[defaults]\ncallbacks_enabled = fleetops.docker_upgrade.migration_report\n', encoding='utf-8')
    returns_log = tmp / 'returns.jsonl'
    report_dir = tmp / 'reports'
    proc = _run(tmp, project, returns_log, extra_env={'MIGRATION_REPORT_DIR': str(report_dir)})
    return proc, returns_log, report_dir


@pytest.fixture(scope='module')
def check_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('migration_report_check')
    project = _prepare(tmp)
    # Options from ansible.cfg this time; a relative output_dir is relative to the config file.
    (project / 'ansible.cfg').write_text(
        '[defaults]\n'
        'callbacks_enabled = fleetops.docker_upgrade.migration_report\n'
        '\n'
        '[callback_migration_report]\n'
        'output_dir = ini-reports\n'
        'sort_order = name\n'
        'show_layers = false\n'
        'layer_id_limit = 1\n', encoding='utf-8')
    returns_log = tmp / 'returns.jsonl'
    proc = _run(tmp, project, returns_log, extra_args=['--check'])
    return proc, returns_log, project / 'ini-reports'


def test_json_numbers_equal_what_the_tasks_returned(normal_run):
    proc, returns_log, report_dir = normal_run
    report = json.loads((report_dir / 'migration-report.json').read_text(encoding='utf-8'))
    returned = _returned(returns_log)
    # Both passes ran on h1, h2 and h4 (the second across serial batches), one on h3; none on h5 and h6.
    assert dict((host, sums['tasks']) for host, sums in returned.items()) == {'h1': 2, 'h2': 2, 'h3': 1, 'h4': 2}
    assert set(report['hosts']) == set(EXPECTED_STATUS)
    for host, entry in report['hosts'].items():
        sums = returned.get(host, collections.Counter())
        for key in COUNTERS:
            assert entry[key] == sums[key], (host, key)
        assert entry['elapsed_seconds'] == pytest.approx(sums['elapsed_seconds']), host
        assert entry['checksum_tasks'] == sums['tasks'], host
        # The module returned its plan too, but this was no check-mode run.
        assert (entry['layers_pending'], entry['bytes_pending'], entry['estimated_seconds']) == (0, 0, 0.0), host
    assert report['check_mode'] is False
    assert returned['h1']['layers_pending'] > 0
    # The inputs are known too, so check a few against them directly.
    assert report['hosts']['h1']['layers_computed'] == 5 and report['hosts']['h1']['bytes_hashed'] == 4500000
    assert report['hosts']['h2']['throughput_mb_s'] == pytest.approx(10.0 / 4.0)
    assert report['hosts']['h3']['layers_failed'] == 1


def test_json_statuses_timings_and_layers(normal_run):
    report = json.loads((normal_run[2] / 'migration-report.json').read_text(encoding='utf-8'))
    hosts = report['hosts']
    assert dict((host, entry['status']) for host, entry in hosts.items()) == EXPECTED_STATUS
    for host, role_report in ROLE_REPORTS.items():
        for key in ('premigrate_seconds', 'catchup_seconds', 'downtime_seconds', 'total_seconds'):
            assert hosts[host][key] == role_report[key], (host, key)
        assert (hosts[host]['engine_version_before'], hosts[host]['engine_version_after']) == ('1.9.1', '1.10.3')
    assert hosts['h4']['failure_reason'] == 'dockerd 1.10 did not start'
    assert hosts['h3']['failed_task'] == 'Pre-migrate layer checksums'
    assert hosts['h3']['failure_reason'] == '1 layer(s) failed checksum verification'
    assert hosts['h3']['failed_layers'] == [{'id': 'h3-bad', 'reason': 'tar-split stream ends early'}]
    assert 'Connection refused' in hosts['h5']['failure_reason'] or 'connect' in hosts['h5']['failure_reason'].lower()
    assert hosts['h1']['regenerated_layers'] == [{'id': 'h1-r1', 'reason': 'no_tarsplit'}, {'id': 'h1-r2', 'reason': 'integrity usr/bin/x'}]
    assert [layer['id'] for layer in hosts['h2']['regenerated_layers']] == ['h2-r1', 'h2-r2']
    assert hosts['h6']['layers_computed'] == 0 and hosts['h6']['total_seconds'] is None
    # Slowest first: by the role's total_seconds, then by hashing time, then by name.
    assert list(hosts) == ['h2', 'h1', 'h4', 'h3', 'h5', 'h6']
    assert report['check_mode'] is False
    # The serial: 1 play's batches (h3 and h5 dropped out in the first play, whose only batch is 1); without
    # phases from the role, its downtime_seconds is the API downtime.
    assert dict((host, entry['batch']) for host, entry in hosts.items()) == {'h1': 1, 'h2': 2, 'h3': 1, 'h4': 4, 'h5': 1, 'h6': 6}
    assert hosts['h2']['api_downtime_seconds'] == 8.5 and hosts['h2']['phases'] == []


def test_json_totals_are_the_sums(normal_run):
    report = json.loads((normal_run[2] / 'migration-report.json').read_text(encoding='utf-8'))
    hosts, totals = report['hosts'], report['totals']
    for key in COUNTERS + PLANNED + ('checksum_tasks',):
        assert totals[key] == sum(entry[key] for entry in hosts.values()), key
    for key in ('elapsed_seconds', 'premigrate_seconds', 'catchup_seconds', 'downtime_seconds', 'total_seconds'):
        assert totals[key] == pytest.approx(sum(entry[key] or 0 for entry in hosts.values())), key
    assert totals['hosts'] == 6
    for status in ('ok', 'failed', 'unreachable', 'skipped', 'rolled_back'):
        assert totals['hosts_' + status] == list(EXPECTED_STATUS.values()).count(status), status
    assert (totals['longest_downtime_seconds'], totals['longest_downtime_host']) == (8.5, 'h2')
    bytes_hashed = sum(entry['bytes_hashed'] for entry in hosts.values())
    assert totals['throughput_mb_s'] == pytest.approx(bytes_hashed / 1e6 / totals['elapsed_seconds'], abs=1e-3)
    assert totals['wall_seconds'] > 0
    assert report['started'] <= report['finished']


def test_terminal_table(normal_run):
    proc = normal_run[0]
    lines = _report_lines(proc.stdout)
    header = lines[0].split()
    assert header[:3] == ['host', 'status', 'computed']
    rows = [line.split() for line in lines[2:8]]
    assert [row[0] for row in rows] == ['h2', 'h1', 'h4', 'h3', 'h5', 'h6']
    assert dict((row[0], row[1]) for row in rows) == EXPECTED_STATUS
    # computed, cached, repaired, fallback and failed columns.
    assert dict((row[0], row[2:7]) for row in rows)['h1'] == ['5', '7', '1', '2', '0']
    assert dict((row[0], row[-1]) for row in rows)['h2'] == '1.10.3'
    text = '\n'.join(lines)
    assert 'fleet hosts: 6 (ok 2, failed 1, unreachable 1, skipped 1, rolled_back 1)' in text
    assert 'fleet layers: computed 18, cached 18, repaired 2, fallback 4, failed 1' in text
    assert 'fleet hashed: 19.5 MB (19500000 bytes)' in text
    assert 'fleet longest downtime: 8.5 s (h2)' in text
    assert 'fleet wall time: ' in text
    assert 'h3: failed layer h3-bad (tar-split stream ends early)' in text
    assert 'h2: regenerated layer h2-r2 (missing etc/y)' in text
    assert 'migration-report.json' in text


def test_markdown_copy_and_nothing_secret(normal_run):
    report_dir = normal_run[2]
    markdown = (report_dir / 'migration-report.md').read_text(encoding='utf-8')
    cells = [line.split('|')[1].strip() for line in markdown.splitlines() if line.startswith('|')]
    assert cells == ['host', '---', 'h2', 'h1', 'h4', 'h3', 'h5', 'h6']
    assert '- hosts: 6 (ok 2, failed 1, unreachable 1, skipped 1, rolled_back 1)' in markdown
    for name in ('migration-report.json', 'migration-report.md'):
        text = (report_dir / name).read_text(encoding='utf-8')
        # Module arguments, returned environments and per-layer details never reach the report.
        assert SECRET not in text and 'environment_dump' not in text and 'tar_bytes' not in text and 'module_args' not in text
    # The secret was really there to leak: the module returned it.
    assert SECRET in pathlib.Path(normal_run[1]).read_text(encoding='utf-8')


def test_check_mode_reports_planned_numbers(check_run):
    proc, returns_log, report_dir = check_run
    report = json.loads((report_dir / 'migration-report.json').read_text(encoding='utf-8'))
    returned = _returned(returns_log)
    hosts = report['hosts']
    assert report['check_mode'] is True
    # sort_order = name from ansible.cfg.
    assert list(hosts) == ['h1', 'h2', 'h3', 'h4', 'h5', 'h6']
    assert dict((host, entry['status']) for host, entry in hosts.items()) == EXPECTED_STATUS
    for host, entry in hosts.items():
        sums = returned.get(host, collections.Counter())
        for key in PLANNED + COUNTERS:
            assert entry[key] == sums[key], (host, key)
        assert entry['estimated_seconds'] == pytest.approx(sums['estimated_seconds']), host
        assert entry['layers_computed'] == 0 and entry['bytes_hashed'] == 0
    assert hosts['h1']['layers_cached'] == 2 + 5
    assert hosts['h1']['layers_pending'] == (4 + 1) + (1 + 1)
    assert report['totals']['layers_pending'] == sum(entry['layers_pending'] for entry in hosts.values())
    # layer_id_limit = 1 from ansible.cfg.
    assert len(hosts['h2']['regenerated_layers']) == 1 and hosts['h2']['regenerated_layers_omitted'] == 1

    lines = _report_lines(proc.stdout)
    assert 'pending' in lines[0].split()
    text = '\n'.join(lines)
    assert 'fleet planned (check mode): %d layers pending' % report['totals']['layers_pending'] in text
    # show_layers = false from ansible.cfg.
    assert 'regenerated layer' not in text
    assert (report_dir / 'migration-report.md').is_file()
