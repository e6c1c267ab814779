# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the migration_report callback, fed with real TaskResult, Host and Task objects."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import importlib.util
import json
import pathlib

import pytest
import yaml

from ansible.executor.stats import AggregateStats
from ansible.executor.task_result import TaskResult
from ansible.inventory.host import Host
from ansible.playbook.task import Task
from ansible.plugins.loader import callback_loader

from ansible_collections.fleetops.docker_upgrade.plugins.plugin_utils.migration_report import report_files, report_lines, text_report

PLUGIN_DIR = pathlib.Path(__file__).resolve().parents[4] / 'plugins' / 'callback'
PLUGIN_PATH = PLUGIN_DIR / 'migration_report.py'

FQCN = 'fleetops.docker_upgrade.layer_checksums'
COUNTERS = ('layers_computed', 'layers_cached', 'layers_repaired', 'layers_fallback', 'layers_failed', 'bytes_hashed')


def _load_module():
    spec = importlib.util.spec_from_file_location('fleetops_migration_report_under_test', str(PLUGIN_PATH))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mr = _load_module()


def make_task(action=FQCN, name=None, ignore_unreachable=None, check_mode=None):
    task = Task()
    task.action = action
    task.name = name or action.rsplit('.', 1)[-1]
    if ignore_unreachable is not None:
        task.ignore_unreachable = ignore_unreachable
    if check_mode is not None:
        # What --check (the attribute's default) or check_mode: on the task gives.
        task.check_mode = check_mode
    return task


def make_result(host, task, data):
    if isinstance(host, str):
        host = Host(host)
    return TaskResult(host, task, data, {})


def checksums(computed=0, cached=0, repaired=0, fallback=0, failed=0, bytes_hashed=0, elapsed=0.0, throughput=None, layers=None, **extra):
    data = {
        'changed': True,
        'storage_driver': 'aufs',
        'layers_total': computed + cached + repaired + fallback + failed,
        'layers_computed': computed,
        'layers_cached': cached,
        'layers_repaired': repaired,
        'layers_fallback': fallback,
        'layers_failed': failed,
        'bytes_hashed': bytes_hashed,
        'elapsed_seconds': elapsed,
        'throughput_mb_s': throughput if throughput is not None else (bytes_hashed / 1e6 / elapsed if elapsed else 0.0),
        'layers': layers or [],
    }
    data.update(extra)
    return data


def layer(layer_id, source='tarsplit', reason=None, error=None):
    return {'id': layer_id, 'parent': None, 'diff_id': 'sha256:' + layer_id, 'size': 10, 'tar_bytes': 12,
            'source': source, 'reason': reason, 'seconds': 0.1, 'error': error}


def role_fact(**report):
    return {'changed': False, 'ansible_facts': {'docker_upgrade_report': report}}


# -- aggregation ------------------------------------------------------------------------------------


def test_counters_add_up_over_tasks_and_serial_batches():
    report = mr.FleetReport()
    premigrate = make_task(name='pre-migrate checksums')
    catchup = make_task(name='catch-up checksums')
    # serial: 1 runs the very same Task (same _uuid) once per batch: h1, then h2; results must not overwrite.
    report.record_ok(make_result('h1', premigrate, checksums(computed=4, cached=1, repaired=1, fallback=2, bytes_hashed=4000000, elapsed=2.0)))
    report.record_ok(make_result('h2', premigrate, checksums(computed=7, bytes_hashed=7000000, elapsed=7.0)))
    report.record_ok(make_result('h1', catchup, checksums(computed=1, cached=5, failed=1, bytes_hashed=1000000, elapsed=2.0, throughput=0.5)))

    data = report.as_dict()
    h1, h2 = data['hosts']['h1'], data['hosts']['h2']
    assert [h1[key] for key in COUNTERS] == [5, 6, 1, 2, 1, 5000000]
    assert h1['elapsed_seconds'] == pytest.approx(4.0)
    assert h1['checksum_tasks'] == 2
    # Time-weighted: (2.0 MB/s * 2 s + 0.5 MB/s * 2 s) / 4 s.
    assert h1['throughput_mb_s'] == pytest.approx(1.25)
    assert [h2[key] for key in COUNTERS] == [7, 0, 0, 0, 0, 7000000]
    assert h2['throughput_mb_s'] == pytest.approx(1.0)
    assert h2['storage_driver'] == 'aufs'

    totals = data['totals']
    for key in COUNTERS:
        assert totals[key] == h1[key] + h2[key]
    assert totals['elapsed_seconds'] == pytest.approx(11.0)
    assert totals['checksum_tasks'] == 3
    assert totals['throughput_mb_s'] == pytest.approx((4.0 + 1.0 + 7.0) / 11.0, abs=1e-3)
    assert totals['hosts'] == 2 and totals['hosts_ok'] == 2


@pytest.mark.parametrize('action', [FQCN, 'layer_checksums', 'acme.docker.layer_checksums'])
def test_layer_checksums_actions_are_recognised(action):
    report = mr.FleetReport()
    report.record_ok(make_result('h1', make_task(action), checksums(computed=3, bytes_hashed=30)))
    assert report.as_dict()['hosts']['h1']['layers_computed'] == 3


@pytest.mark.parametrize('action', ['ansible.builtin.command', 'layer_checksums_extra', 'fleetops.docker_upgrade.layer_checksums_info'])
def test_other_actions_are_not_counted(action):
    report = mr.FleetReport()
    report.record_ok(make_result('h1', make_task(action), checksums(computed=3, bytes_hashed=30)))
    entry = report.as_dict()['hosts']['h1']
    assert entry['layers_computed'] == 0 and entry['checksum_tasks'] == 0
    assert entry['status'] == 'ok'


def test_resolved_action_is_used_without_sampling_the_property(capsys):
    task = make_task('fleetops.docker_upgrade.legacy_checksums')
    # What ansible-core stores once it resolved a redirected or templated action: 2.19 keeps it behind the
    # resolved_action property, 2.15 to 2.18 in a plain resolved_action attribute.
    if isinstance(getattr(Task, 'resolved_action', None), property):
        task._resolved_action = FQCN
    else:
        task.resolved_action = FQCN
    templated = make_task('{{ checksum_module }}')
    report = mr.FleetReport()
    report.record_ok(make_result('h1', task, checksums(computed=2)))
    report.record_ok(make_result('h2', templated, checksums(computed=9)))
    data = report.as_dict()
    assert data['hosts']['h1']['layers_computed'] == 2
    assert data['hosts']['h2']['layers_computed'] == 0
    # Reading Task.resolved_action of an unresolved templated action would print a warning.
    assert 'resolved_action' not in capsys.readouterr().err


def test_async_status_result_of_layer_checksums_is_counted():
    report = mr.FleetReport()
    polled = checksums(computed=3, bytes_hashed=300, elapsed=1.0, finished=1, ansible_job_id='j1', started=1)
    report.record_ok(make_result('h1', make_task('ansible.builtin.async_status'), polled))
    report.record_ok(make_result('h1', make_task('ansible.builtin.async_status'), {'finished': 1, 'stdout': 'other job'}))
    assert report.as_dict()['hosts']['h1']['layers_computed'] == 3


def test_loop_results_are_summed_once():
    report = mr.FleetReport()
    looped = {'changed': True, 'msg': 'All items completed', 'results': [
        dict(checksums(computed=2, bytes_hashed=200, elapsed=1.0), item='/var/lib/docker', ansible_loop_var='item'),
        dict(checksums(computed=3, bytes_hashed=300, elapsed=1.0), item='/srv/docker', ansible_loop_var='item'),
    ]}
    report.record_ok(make_result('h1', make_task(), looped))
    entry = report.as_dict()['hosts']['h1']
    assert entry['layers_computed'] == 5
    assert entry['bytes_hashed'] == 500
    assert entry['checksum_tasks'] == 2


def test_failed_and_regenerated_layers_are_merged_with_reasons():
    report = mr.FleetReport()
    first = checksums(computed=1, fallback=2, failed=1, layers=[
        layer('a1'), layer('r1', 'regenerated', 'no_tarsplit'), layer('r2', 'regenerated', 'corrupt_tarsplit'),
        layer('f1', reason='integrity usr/bin/x', error='checksum mismatch after regeneration'),
    ])
    second = checksums(fallback=1, failed=1, layers=[
        layer('r3', 'regenerated', 'missing etc/y'), layer('f1', error='still broken'), layer('c1', 'cached'),
    ])
    report.record_ok(make_result('h1', make_task(), first))
    report.record_ok(make_result('h1', make_task(), second))
    entry = report.as_dict()['hosts']['h1']
    assert entry['regenerated_layers'] == [
        {'id': 'r1', 'reason': 'no_tarsplit'}, {'id': 'r2', 'reason': 'corrupt_tarsplit'}, {'id': 'r3', 'reason': 'missing etc/y'}]
    # The same layer failing in both passes is listed once, with the latest error; the counters still add up.
    assert entry['failed_layers'] == [{'id': 'f1', 'reason': 'still broken'}]
    assert entry['layers_failed'] == 2 and entry['layers_fallback'] == 3
    assert entry['failed_layers_omitted'] == 0


def test_layer_id_limit_caps_lists_and_counts_the_rest():
    report = mr.FleetReport(layer_id_limit=2)
    layers = [layer('r%d' % i, 'regenerated', 'no_tarsplit') for i in range(5)]
    report.record_ok(make_result('h1', make_task(), checksums(fallback=5, layers=layers)))
    report.record_ok(make_result('h1', make_task('ansible.builtin.set_fact'), role_fact(id_mismatches=['x1', 'x2', 'x3'])))
    entry = report.as_dict()['hosts']['h1']
    assert [item['id'] for item in entry['regenerated_layers']] == ['r0', 'r1']
    assert entry['regenerated_layers_omitted'] == 3
    assert entry['id_mismatches'] == ['x1', 'x2'] and entry['id_mismatches_omitted'] == 1
    assert '... and 3 more regenerated layers' in '\n'.join(text_report.render(report.as_dict()))
    report.layer_id_limit = 0
    assert len(report.as_dict()['hosts']['h1']['regenerated_layers']) == 5


def test_check_mode_results_are_planned_numbers_and_host_stays_ok():
    report = mr.FleetReport()
    # As the module plans in check mode: nothing hashed, valid cache files counted as cached.
    planned = checksums(cached=4, layers_pending=12, bytes_pending=12000000, estimated_seconds=6.5, changed=False)
    report.record_ok(make_result('h1', make_task(check_mode=True), planned))
    report.record_ok(make_result('h1', make_task(check_mode=True), checksums(layers_pending=3, bytes_pending=1000, estimated_seconds=0.5)))
    report.record_ok(make_result('h2', make_task(check_mode=True), checksums(layers_pending=1, bytes_pending=10, estimated_seconds=1.0)))
    data = report.as_dict()
    h1 = data['hosts']['h1']
    assert data['check_mode'] is True
    assert (h1['layers_pending'], h1['bytes_pending'], h1['estimated_seconds']) == (15, 12001000, 7.0)
    assert h1['status'] == 'ok'
    assert h1['layers_computed'] == 0 and h1['bytes_hashed'] == 0 and h1['layers_cached'] == 4
    assert (data['totals']['layers_pending'], data['totals']['bytes_pending'], data['totals']['estimated_seconds']) == (16, 12001010, 8.0)
    header, rows = report_lines.table(report.as_dict())
    assert 'pending' in header
    assert 'planned (check mode): 16 layers pending' in '\n'.join(text_report.render(report.as_dict()))


def test_plan_keys_of_a_real_run_are_not_planned_numbers():
    # The module returns its plan in normal runs too; only a task run in check mode plans.
    report = mr.FleetReport()
    real = checksums(computed=5, bytes_hashed=5000, elapsed=1.0, layers_pending=5, bytes_pending=5000, estimated_seconds=0.9)
    report.record_ok(make_result('h1', make_task(check_mode=False), real))
    report.record_ok(make_result('h1', make_task(), real))
    data = report.as_dict()
    assert data['check_mode'] is False
    assert (data['hosts']['h1']['layers_pending'], data['hosts']['h1']['layers_computed']) == (0, 10)
    assert 'pending' not in report_lines.table(report.as_dict())[0]
    assert not any(line.startswith('fleet planned') for line in text_report.render(report.as_dict()))


def test_role_report_fact_latest_wins():
    report = mr.FleetReport()
    set_fact = make_task('ansible.builtin.set_fact')
    report.record_ok(make_result('h1', set_fact, role_fact(premigrate_seconds=10, engine_version_before='1.9.1', status='ok')))
    report.record_ok(make_result('h1', set_fact, role_fact(
        premigrate_seconds=12.5, catchup_seconds='1.5', downtime_seconds=4.25, total_seconds=30,
        engine_version_before='1.9.1', engine_version_after='1.10.3', status='ok')))
    entry = report.as_dict()['hosts']['h1']
    assert (entry['premigrate_seconds'], entry['catchup_seconds'], entry['downtime_seconds'], entry['total_seconds']) == (12.5, 1.5, 4.25, 30.0)
    assert (entry['engine_version_before'], entry['engine_version_after']) == ('1.9.1', '1.10.3')
    assert entry['status'] == 'ok'
    assert text_report.render(report.as_dict())[2].endswith('1.9.1 -> 1.10.3')


def test_unknown_timings_stay_null_and_totals_skip_them():
    report = mr.FleetReport()
    report.record_ok(make_result('h1', make_task('ansible.builtin.set_fact'), role_fact(downtime_seconds=3)))
    report.record_ok(make_result('h2', make_task(), checksums(computed=1)))
    data = report.as_dict()
    assert data['hosts']['h2']['downtime_seconds'] is None
    assert data['totals']['downtime_seconds'] == 3.0
    assert (data['totals']['longest_downtime_seconds'], data['totals']['longest_downtime_host']) == (3.0, 'h1')


OK = ('ok', {'changed': False})
SKIP = ('skipped', {'skipped': True, 'skip_reason': 'Conditional result was False'})
FAIL = ('failed', {'failed': True, 'msg': 'boom'})
IGNORED = ('ignored', {'failed': True, 'msg': 'ignored boom'})
DOWN = ('unreachable', {'unreachable': True, 'msg': 'Failed to connect to the host via ssh: Connection refused'})


def ROLE(status):
    return ('ok', role_fact(status=status))


@pytest.mark.parametrize('events, expected', [
    ([OK], 'ok'),
    ([SKIP, SKIP], 'skipped'),
    ([SKIP, OK], 'ok'),
    ([OK, FAIL], 'failed'),
    ([OK, IGNORED, OK], 'ok'),
    ([IGNORED], 'ok'),
    ([OK, FAIL, ROLE('rolled_back')], 'rolled_back'),
    ([OK, FAIL, ROLE('ok')], 'failed'),
    ([OK, FAIL, ROLE('skipped')], 'failed'),
    ([OK, ROLE('skipped')], 'skipped'),
    ([OK, ROLE('failed')], 'failed'),
    ([OK, ROLE('rolled_back'), ROLE('ok')], 'ok'),
    ([OK, ROLE('not-a-status')], 'ok'),
    ([ROLE('rolled_back'), DOWN], 'unreachable'),
    ([OK, DOWN], 'unreachable'),
], ids=lambda value: value if isinstance(value, str) else None)
def test_status_precedence(events, expected):
    report = mr.FleetReport()
    for kind, data in events:
        result = make_result('h1', make_task('ansible.builtin.command'), dict(data))
        if kind == 'ok':
            report.record_ok(result)
        elif kind == 'skipped':
            report.record_skipped(result)
        elif kind == 'failed':
            report.record_failed(result)
        elif kind == 'ignored':
            report.record_failed(result, ignore_errors=True)
        else:
            report.record_unreachable(result)
    assert report.as_dict()['hosts']['h1']['status'] == expected


def test_failed_checksum_task_fails_host_and_keeps_its_numbers():
    report = mr.FleetReport()
    failed = checksums(computed=2, failed=1, bytes_hashed=2000, layers=[layer('bad', error='corrupt_tarsplit')],
                       msg='1 layer failed')
    failed['failed'] = True
    report.record_failed(make_result('h3', make_task(name='pre-migrate checksums'), failed))
    entry = report.as_dict()['hosts']['h3']
    assert entry['status'] == 'failed'
    assert (entry['layers_computed'], entry['layers_failed'], entry['bytes_hashed']) == (2, 1, 2000)
    assert entry['failed_layers'] == [{'id': 'bad', 'reason': 'corrupt_tarsplit'}]
    assert (entry['failed_task'], entry['failure_reason']) == ('pre-migrate checksums', '1 layer failed')


def test_role_fact_in_a_failed_result_is_ignored():
    report = mr.FleetReport()
    data = role_fact(status='rolled_back', total_seconds=5)
    data.update(failed=True, msg='nope')
    report.record_failed(make_result('h1', make_task('ansible.builtin.set_fact'), data))
    entry = report.as_dict()['hosts']['h1']
    assert entry['status'] == 'failed' and entry['total_seconds'] is None


def test_implicit_localhost_is_no_fleet_host():
    report = mr.FleetReport()
    implicit = Host('localhost')
    implicit.implicit = True     # what the inventory gives a localhost it does not list
    listed = Host('localhost')   # a localhost the inventory lists
    report.record_ok(make_result(implicit, make_task(), checksums(computed=3, bytes_hashed=10)))
    report.record_failed(make_result(implicit, make_task('ansible.builtin.fail'), {'msg': 'controller side'}))
    report.record_skipped(make_result(implicit, make_task('ansible.builtin.debug'), {}))
    report.record_unreachable(make_result(implicit, make_task('ansible.builtin.ping'), {'msg': 'no'}))
    report.record_ok(make_result('h1', make_task(), checksums(computed=1, bytes_hashed=5)))
    assert sorted(report.as_dict()['hosts']) == ['h1']
    report.record_ok(make_result(listed, make_task(), checksums(computed=2, bytes_hashed=7)))
    summary = report.as_dict()
    assert sorted(summary['hosts']) == ['h1', 'localhost']
    assert summary['totals']['bytes_hashed'] == 12 and summary['totals']['hosts_failed'] == 0


def test_unreachable_reason_and_ignore_unreachable():
    report = mr.FleetReport()
    report.record_unreachable(make_result('h5', make_task('ansible.builtin.ping'), dict(DOWN[1])))
    report.record_unreachable(make_result('h6', make_task('ansible.builtin.ping', ignore_unreachable=True), dict(DOWN[1])))
    data = report.as_dict()
    assert data['hosts']['h5']['status'] == 'unreachable'
    assert data['hosts']['h5']['failure_reason'].startswith('Failed to connect')
    assert data['hosts']['h6']['status'] == 'ok'
    assert data['totals']['hosts_unreachable'] == 1


def test_no_log_failure_reason_is_not_revealed():
    report = mr.FleetReport()
    censored = {'censored': "the output has been hidden due to the fact that 'no_log: true' was specified for this result", 'failed': True}
    report.record_failed(make_result('h1', make_task('ansible.builtin.command'), censored))
    assert report.as_dict()['hosts']['h1']['failure_reason'] == 'output hidden (no_log)'


def test_nothing_secret_or_bulky_reaches_the_report(tmp_path):
    report = mr.FleetReport()
    secret = 'S3CRET-TOKEN-4242'
    data = checksums(computed=1, bytes_hashed=10, layers=[dict(layer('r1', 'regenerated', 'no_tarsplit'), content=secret)],
                     invocation={'module_args': {'registry_password': secret}}, environment={'DOCKER_AUTH': secret},
                     stdout='file contents ' + secret, diff={'after': secret})
    report.record_ok(make_result('h1', make_task(), data))
    fact = role_fact(status='ok', engine_version_after='1.10.3', secret_note=secret, id_mismatches=[{'id': 'x', 'blob': secret}])
    fact['ansible_facts']['other_fact'] = secret
    report.record_ok(make_result('h1', make_task('ansible.builtin.set_fact'), fact))
    # A long message is cut to a short reason.
    report.record_failed(make_result('h2', make_task('ansible.builtin.command'), {'failed': True, 'msg': 'x' * 5000}))
    report.finish()
    paths = report_files.write(str(tmp_path / 'out'), report.as_dict())
    for path in paths:
        text = pathlib.Path(path).read_text(encoding='utf-8')
        assert secret not in text
        assert 'x' * 300 not in text
    entry = report.as_dict()['hosts']['h1']
    assert entry['id_mismatches'] == [{'id': 'x'}]
    assert set(entry) == {
        'status', 'layers_computed', 'layers_cached', 'layers_repaired', 'layers_fallback', 'layers_failed', 'bytes_hashed',
        'elapsed_seconds', 'throughput_mb_s', 'checksum_tasks', 'storage_driver', 'premigrate_seconds', 'catchup_seconds',
        'downtime_seconds', 'total_seconds', 'engine_version_before', 'engine_version_after', 'layers_pending', 'bytes_pending',
        'estimated_seconds', 'failed_layers', 'failed_layers_omitted', 'regenerated_layers', 'regenerated_layers_omitted',
        'id_mismatches', 'id_mismatches_omitted', 'failed_task', 'failure_reason', 'batch', 'api_downtime_seconds',
        'container_downtime_seconds', 'phases', 'phase_seconds', 'phases_from'}


def test_garbage_numbers_count_as_zero():
    report = mr.FleetReport()
    data = checksums(layers_computed='7', bytes_hashed='lots', elapsed_seconds=None, throughput_mb_s='fast', layers='not a list')
    report.record_ok(make_result('h1', make_task(), data))
    entry = report.as_dict()['hosts']['h1']
    assert (entry['layers_computed'], entry['bytes_hashed'], entry['elapsed_seconds']) == (7, 0, 0.0)


# -- ordering and rendering ---------------------------------------------------------------------------


def _fleet(sort_order='slowest'):
    report = mr.FleetReport(sort_order=sort_order)
    set_fact = make_task('ansible.builtin.set_fact')
    report.record_ok(make_result('alpha', set_fact, role_fact(total_seconds=20, downtime_seconds=2, status='ok')))
    report.record_ok(make_result('bravo', set_fact, role_fact(total_seconds=90, downtime_seconds=9, status='ok')))
    # No total from the role: sorted by time spent hashing.
    report.record_ok(make_result('charlie', make_task(), checksums(computed=1, elapsed=45.0, bytes_hashed=45000000)))
    report.record_skipped(make_result('delta', set_fact, dict(SKIP[1])))
    return report


@pytest.mark.parametrize('sort_order, expected', [
    ('slowest', ['bravo', 'charlie', 'alpha', 'delta']),
    ('fastest', ['delta', 'alpha', 'charlie', 'bravo']),
    ('name', ['alpha', 'bravo', 'charlie', 'delta']),
])
def test_sort_order(sort_order, expected):
    report = _fleet(sort_order)
    assert list(report.as_dict()['hosts']) == expected
    assert [row[0] for row in report_lines.table(report.as_dict())[1]] == expected


def test_text_table_and_totals():
    report = _fleet()
    report.start()
    report.finish()
    lines = text_report.render(report.as_dict())
    assert lines[0].split()[:3] == ['host', 'status', 'computed']
    assert set(lines[1].replace(' ', '')) == {'-'}
    assert [line.split()[0] for line in lines[2:6]] == ['bravo', 'charlie', 'alpha', 'delta']
    assert lines[3].split()[1:3] == ['ok', '1']
    assert lines[5].split()[1] == 'skipped'
    text = '\n'.join(lines)
    assert 'fleet hosts: 4 (ok 3, failed 0, unreachable 0, skipped 1, rolled_back 0)' in text
    assert 'fleet hashed: 45.0 MB (45000000 bytes) in 45.0 s of hashing, aggregate 1.0 MB/s' in text
    assert 'fleet longest downtime: 9.0 s (bravo)' in text
    assert 'fleet wall time: 0:00:00' in text
    # Columns line up: every row is as wide as the header, up to the engine column.
    widths = {len(line) for line in lines[:2]}
    assert len(widths) == 1


def test_markdown_copy(tmp_path):
    report = _fleet()
    report.record_ok(make_result('alpha', make_task(), checksums(layers=[layer('r|1', 'regenerated', 'missing a|b')])))
    report.start()
    report.finish()
    json_path, md_path, html_path = report_files.write(str(tmp_path / 'new' / 'dir'), report.as_dict())
    assert json_path.endswith('migration-report.json') and md_path.endswith('migration-report.md')
    markdown = pathlib.Path(md_path).read_text(encoding='utf-8')
    assert markdown.startswith('# Docker 1.10 migration report\n')
    table = [line for line in markdown.splitlines() if line.startswith('|')]
    assert table[0].startswith('| host | status | computed |')
    assert [row.split('|')[1].strip() for row in table[2:]] == ['bravo', 'charlie', 'alpha', 'delta']
    assert '- hosts: 4 (ok 3, failed 0, unreachable 0, skipped 1, rolled_back 0)' in markdown
    # Pipes in ids and reasons are escaped so they do not break the Markdown.
    assert 'alpha: regenerated layer r\\|1 (missing a\\|b)' in markdown
    data = json.loads(pathlib.Path(json_path).read_text(encoding='utf-8'))
    assert data == json.loads(json.dumps(report.as_dict()))
    assert set(data) == {'hosts', 'totals', 'started', 'finished', 'check_mode'}


# -- the callback plugin itself ---------------------------------------------------------------------------


def test_documentation_declares_every_option_with_ini_env_and_default():
    doc = yaml.safe_load(mr.DOCUMENTATION)
    assert doc['name'] == 'migration_report' and doc['type'] == 'aggregate'
    assert str(doc['version_added']) == '0.1.0'
    assert set(doc['options']) == {'output_dir', 'show_layers', 'layer_id_limit', 'sort_order'}
    for name, option in doc['options'].items():
        assert option['ini'] == [{'section': 'callback_migration_report', 'key': name}], name
        assert option['env'] and option['env'][0]['name'].startswith('MIGRATION_REPORT_'), name
        assert 'default' in option, name
    assert doc['options']['output_dir']['env'] == [{'name': 'MIGRATION_REPORT_DIR'}]
    assert mr.CallbackModule.CALLBACK_TYPE == 'aggregate'
    assert mr.CallbackModule.CALLBACK_NAME == 'fleetops.docker_upgrade.migration_report'
    assert mr.CallbackModule.CALLBACK_NEEDS_ENABLED is True


@pytest.fixture
def callback(monkeypatch):
    for name in ('MIGRATION_REPORT_DIR', 'MIGRATION_REPORT_SHOW_LAYERS', 'MIGRATION_REPORT_LAYER_ID_LIMIT', 'MIGRATION_REPORT_SORT_ORDER'):
        monkeypatch.delenv(name, raising=False)
    # The plugin loader reads DOCUMENTATION and registers the options, as ansible-playbook does.
    callback_loader.add_directory(str(PLUGIN_DIR))
    plugin = callback_loader.get('migration_report')
    assert plugin is not None
    return plugin


def test_options_from_environment(callback, monkeypatch, tmp_path):
    callback.set_options()
    assert (callback.output_dir, callback.show_layers, callback.report.layer_id_limit, callback.report.sort_order) == (None, True, 20, 'slowest')
    monkeypatch.setenv('MIGRATION_REPORT_DIR', str(tmp_path))
    monkeypatch.setenv('MIGRATION_REPORT_SHOW_LAYERS', 'no')
    monkeypatch.setenv('MIGRATION_REPORT_LAYER_ID_LIMIT', '5')
    monkeypatch.setenv('MIGRATION_REPORT_SORT_ORDER', 'name')
    callback.set_options()
    assert (callback.output_dir, callback.show_layers, callback.report.layer_id_limit, callback.report.sort_order) == (str(tmp_path), False, 5, 'name')


def test_callback_events_print_table_and_write_files(callback, tmp_path, capsys):
    callback.set_options(direct={'output_dir': str(tmp_path / 'reports'), 'layer_id_limit': 1})
    callback.v2_playbook_on_start(None)
    task = make_task(name='pre-migrate checksums')
    h1, h2, h3, h4 = Host('h1'), Host('h2'), Host('h3'), Host('h4')
    callback.v2_runner_on_ok(make_result(h1, task, checksums(computed=3, bytes_hashed=3000, elapsed=1.0, layers=[
        layer('r1', 'regenerated', 'no_tarsplit'), layer('r2', 'regenerated', 'no_tarsplit')])))
    failed = checksums(computed=1, failed=1, layers=[layer('bad', error='corrupt_tarsplit')], msg='layer bad failed')
    failed['failed'] = True
    callback.v2_runner_on_failed(make_result(h2, task, failed))
    callback.v2_runner_on_unreachable(make_result(h3, task, dict(DOWN[1])))
    callback.v2_runner_on_skipped(make_result(h4, task, dict(SKIP[1])))
    callback.v2_runner_on_failed(make_result(h1, make_task('ansible.builtin.command'), dict(IGNORED[1])), ignore_errors=True)
    callback.v2_playbook_on_stats(AggregateStats())

    out = capsys.readouterr().out
    assert 'MIGRATION REPORT' in out
    rows = dict((line.split()[0], line.split()) for line in out.splitlines() if line.split() and line.split()[0] in ('h1', 'h2', 'h3', 'h4'))
    assert (rows['h1'][1], rows['h2'][1], rows['h3'][1], rows['h4'][1]) == ('ok', 'failed', 'unreachable', 'skipped')
    assert 'fleet hosts: 4 (ok 1, failed 1, unreachable 1, skipped 1, rolled_back 0)' in out
    assert 'h1: regenerated layer r1 (no_tarsplit)' in out
    assert 'h1: ... and 1 more regenerated layers' in out
    assert 'h2: failed layer bad (corrupt_tarsplit)' in out

    data = json.loads((tmp_path / 'reports' / 'migration-report.json').read_text(encoding='utf-8'))
    assert data['hosts']['h2']['layers_failed'] == 1
    assert data['totals']['layers_computed'] == 4
    assert data['started'] <= data['finished']
    assert (tmp_path / 'reports' / 'migration-report.md').is_file()


def test_a_playbook_without_fleet_hosts_keeps_the_last_report(callback, tmp_path, capsys):
    reports = tmp_path / 'reports'
    reports.mkdir()
    (reports / 'migration-report.json').write_text('{"hosts": {"h1": {}}}', encoding='utf-8')
    callback.set_options(direct={'output_dir': str(reports)})
    callback.v2_playbook_on_start(None)
    controller = Host('localhost')
    controller.implicit = True
    callback.v2_runner_on_ok(make_result(controller, make_task('ansible.builtin.command'), {'changed': True}))
    callback.v2_playbook_on_stats(AggregateStats())
    out = capsys.readouterr().out
    assert 'no fleet host ran a task' in out and 'MIGRATION REPORT' not in out
    assert (reports / 'migration-report.json').read_text(encoding='utf-8') == '{"hosts": {"h1": {}}}'
    assert not (reports / 'migration-report.md').exists()


def test_unwritable_output_dir_warns_instead_of_failing(callback, tmp_path, capsys):
    blocker = tmp_path / 'file'
    blocker.write_text('not a directory', encoding='utf-8')
    callback.set_options(direct={'output_dir': str(blocker / 'reports'), 'show_layers': False})
    callback.v2_playbook_on_start(None)
    callback.v2_runner_on_ok(make_result('h1', make_task(), checksums(computed=1, layers=[layer('r1', 'regenerated', 'no_tarsplit')])))
    callback.v2_playbook_on_stats(AggregateStats())
    captured = capsys.readouterr()
    assert 'could not write the report' in captured.err
    assert 'h1: regenerated layer' not in captured.out
