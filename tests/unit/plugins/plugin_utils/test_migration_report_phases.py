# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Phases, downtimes and batches of the migration report, fed with real Task objects loaded from task files
(so their paths are real) and real TaskResult objects, on a clock the test sets."""

import pytest

from ansible.executor.task_result import TaskResult
from ansible.inventory.host import Host
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.block import Block
from ansible.playbook.task import Task
from ansible.plugins.loader import init_plugin_loader

from ansible_collections.fleetops.docker_upgrade.plugins.plugin_utils.migration_report.fleet_report import FleetReport
from ansible_collections.fleetops.docker_upgrade.plugins.plugin_utils.migration_report.markdown_report import render as markdown
from ansible_collections.fleetops.docker_upgrade.plugins.plugin_utils.migration_report.text_report import render as text


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def _tasks(path, body):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding='utf-8')
    return DataLoader().load_from_file(str(path))


@pytest.fixture(scope='module', autouse=True)
def plugin_loader():
    # Task.load resolves the action's module, as ansible-playbook does once its plugin loader is set up.
    init_plugin_loader()


@pytest.fixture
def role_tasks(tmp_path):
    """Task loaders for files of a role named engine_upgrade, and for an operator's hook included by name."""
    tasks_dir = tmp_path / 'roles' / 'engine_upgrade' / 'tasks'

    def role_task(stem, name='work'):
        ds = _tasks(tasks_dir / (stem + '.yml'), '- name: %s\n  ansible.builtin.command: "true"\n' % name)
        return Task.load(ds[0])

    def included(task, path, name):
        """task, as included by an include_tasks task of the file at path (tasks of an included file hang below
        a Block whose parent is the include task)."""
        include = Task.load(_tasks(path, '- name: %s\n  ansible.builtin.include_tasks: x.yml\n' % name)[0])
        block = Block()
        block._parent = include
        task._parent = block
        return include

    def nested_task(*stems):
        """A task of the last file of stems, included through the files before it (outermost first)."""
        task = role_task(stems[-1])
        node = task
        for stem in reversed(stems[:-1]):
            node = included(node, tasks_dir / (stem + '.yml'), 'include from ' + stem)
        return task

    def hook_task():
        ds = _tasks(tmp_path / 'hooks' / 'drain.yml', '- name: drain the load balancer\n  ansible.builtin.command: "true"\n')
        task = Task.load(ds[0])
        included(task, tasks_dir / 'upgrade_host.yml', 'Run the pre-stop hook (drain)')
        return task
    role_task.nested = nested_task
    return role_task, hook_task


def _run(report, clock, host, task, seconds, failed=False):
    report.start_task(host, task)
    clock.now += seconds
    result = TaskResult(host, task, {'failed': True, 'msg': 'boom'} if failed else {'changed': False}, {})
    if failed:
        report.record_failed(result)
    else:
        report.record_ok(result)


def test_phases_come_from_the_role_task_files_and_hooks(role_tasks):
    role_task, hook_task = role_tasks
    clock = Clock()
    report = FleetReport(clock=clock)
    report.start_play('upgrade')
    host = Host('h1')
    steps = [(role_task('premigrate_wait'), 3.0), (hook_task(), 0.5), (role_task('backup'), 1.0), (role_task('stop_daemon'), 0.5),
             (role_task('stop'), 0.25), (role_task('catchup'), 1.0), (role_task('package'), 2.0), (role_task('api_state'), 0.1),
             (role_task('start_wait'), 1.5), (role_task('containers_run'), 0.75), (role_task('verify'), 0.4)]
    for task, seconds in steps:
        _run(report, clock, host, task, seconds)
    entry = report.as_dict()['hosts']['h1']
    assert [phase['name'] for phase in entry['phases']] == [
        'premigrate', 'drain', 'record', 'stop', 'catchup', 'package', 'start', 'containers', 'verify']
    # Consecutive tasks of one phase make one bar; a helper file outside every phase (api_state) opens none.
    assert entry['phase_seconds'] == {'premigrate': 3.0, 'drain': 0.5, 'record': 1.0, 'stop': 0.75, 'catchup': 1.0,
                                      'package': 2.0, 'start': 1.5, 'containers': 0.75, 'verify': 0.4}
    assert entry['phases'][0] == {'name': 'premigrate', 'start': 1000.0, 'end': 1003.0, 'seconds': 3.0}
    # stop (from 1004.5) through start (ends 1009.85); the containers run again at 1010.6.
    assert entry['api_downtime_seconds'] == pytest.approx(5.35)
    assert entry['container_downtime_seconds'] == pytest.approx(6.1)
    assert entry['batch'] == 1 and entry['phases_from'] == 'tasks'
    assert 'phases h1: pre-migrate 3.0 s, drain hook 0.5 s, record and backup 1.0 s, stop 0.8 s' in '\n'.join(text(report.as_dict()))
    assert '## Phases' in markdown(report.as_dict())


@pytest.mark.parametrize('stems, phase', [
    # Preparing the start and the package guard before stopping is stop time.
    (('upgrade_host', 'stop', 'before_downtime', 'package_guard'), 'stop'),
    (('upgrade_host', 'start', 'start_daemon', 'start_wait', 'daemon_pid'), 'start'),
    # The containers started again split the verification; in a rollback they are rollback time.
    (('upgrade_host', 'verify', 'containers_run', 'containers_wait'), 'containers'),
    (('failure', 'rollback', 'verify_rollback', 'containers_run'), 'rollback'),
    (('main', 'upgrade_host', 'api_state'), None),
])
def test_the_outermost_phase_file_names_the_phase(role_tasks, stems, phase):
    role_task, dummy = role_tasks
    clock = Clock()
    report = FleetReport(clock=clock)
    _run(report, clock, Host('h1'), role_task.nested(*stems), 1.0)
    assert [entry['name'] for entry in report.as_dict()['hosts']['h1']['phases']] == ([phase] if phase else [])


def test_a_failed_task_ends_its_phase_and_rollback_follows(role_tasks):
    role_task, dummy = role_tasks
    clock = Clock()
    report = FleetReport(clock=clock)
    host = Host('h1')
    _run(report, clock, host, role_task('start_daemon'), 2.0, failed=True)
    _run(report, clock, host, role_task('restore'), 1.0)
    _run(report, clock, host, role_task('verify_rollback'), 0.5)
    entry = report.as_dict()['hosts']['h1']
    assert [(phase['name'], phase['seconds']) for phase in entry['phases']] == [('start', 2.0), ('rollback', 1.5)]
    assert entry['status'] == 'failed' and entry['failure_reason'] == 'boom'


def test_tasks_outside_the_role_and_unstarted_tasks_are_not_timed(role_tasks, tmp_path):
    role_task, dummy = role_tasks
    clock = Clock()
    report = FleetReport(clock=clock)
    other = Task.load(_tasks(tmp_path / 'roles' / 'other' / 'tasks' / 'stop.yml', '- name: x\n  ansible.builtin.command: "true"\n')[0])
    _run(report, clock, Host('h1'), other, 1.0)
    # A result without a start event (an older ansible-core sends none) takes the task's start for all hosts.
    task = role_task('catchup')
    report.start_task(None, task)
    clock.now += 2.0
    report.record_ok(TaskResult(Host('h1'), task, {'changed': False}, {}))
    assert report.as_dict()['hosts']['h1']['phases'] == [{'name': 'catchup', 'start': 1001.0, 'end': 1003.0, 'seconds': 2.0}]
    # A skipped task of a phase opens no bar.
    skipped = role_task('rollback')
    report.start_task(Host('h1'), skipped)
    clock.now += 1.0
    report.record_skipped(TaskResult(Host('h1'), skipped, {'skipped': True, 'changed': False}, {}))
    assert [phase['name'] for phase in report.as_dict()['hosts']['h1']['phases']] == ['catchup']


def test_the_role_published_phases_downtimes_and_batch_win(role_tasks):
    role_task, dummy = role_tasks
    clock = Clock()
    report = FleetReport(clock=clock)
    report.start_play('upgrade')
    report.start_play('upgrade')
    host = Host('h1')
    _run(report, clock, host, role_task('stop'), 1.0)
    fact = {'status': 'ok', 'batch': 7, 'api_downtime_seconds': 4.5, 'container_downtime_seconds': '6.0', 'phases': [
        {'name': 'stop', 'start': 10.0, 'end': 11.0}, {'name': 'bogus', 'start': 11.0, 'end': 12.0},
        {'name': 'start', 'start': 12.0, 'end': 11.5}, {'name': 'package', 'start': '11.0', 'end': 13.0}, 'garbage']}
    report.record_ok(TaskResult(host, Task(), {'ansible_facts': {'docker_upgrade_report': fact}}, {}))
    entry = report.as_dict()['hosts']['h1']
    assert entry['phases_from'] == 'role'
    assert [(phase['name'], phase['seconds']) for phase in entry['phases']] == [('stop', 1.0), ('package', 2.0)]
    assert (entry['api_downtime_seconds'], entry['container_downtime_seconds'], entry['batch']) == (4.5, 6.0, 7)


def test_without_api_downtime_the_roles_downtime_seconds_is_the_api_downtime(role_tasks):
    role_task, dummy = role_tasks
    clock = Clock()
    report = FleetReport(clock=clock)
    host = Host('h1')
    for stem, seconds in (('stop', 1.0), ('start', 1.0), ('containers_wait', 1.0)):
        _run(report, clock, host, role_task(stem), seconds)
    report.record_ok(TaskResult(host, Task(), {'ansible_facts': {'docker_upgrade_report': {'downtime_seconds': 1.8}}}, {}))
    entry = report.as_dict()['hosts']['h1']
    assert (entry['api_downtime_seconds'], entry['container_downtime_seconds']) == (1.8, 3.0)
    # Serial batches: the second announcement of the play is batch 2.
    report.start_play('upgrade')
    report.start_play('upgrade')
    report.record_ok(TaskResult(Host('h2'), role_task('verify'), {'changed': False}, {}))
    assert report.as_dict()['hosts']['h2']['batch'] == 2
