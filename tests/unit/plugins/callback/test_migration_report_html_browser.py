# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML report of a real ansible-playbook run, rendered by headless Chromium.

A project role named engine_upgrade with the role's phase files (premigrate.yml, record.yml, stop.yml, ...)
sleeps a known time per phase on four local hosts in serial batches of two; one host fails in verify and
rolls back, one publishes its phases itself (the docker_upgrade_report contract), one is unreachable. The
test reads the JSON report, then lets Chromium lay out the HTML report and measures the timeline's bars
in the rendered DOM. The screenshot is kept as tests/output/migration-report/migration-report.png.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from test_migration_report_playbook import _closed_port  # pylint: disable=import-error

REPO_ROOT = pathlib.Path(__file__).resolve().parents[4]
OUTPUT_DIR = REPO_ROOT / 'tests' / 'output' / 'migration-report'
ANSIBLE_PLAYBOOK = pathlib.Path(sys.executable).parent / 'ansible-playbook'
CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
                  '--disable-component-update', '--disable-sync', '--disable-quic', '--hide-scrollbars']

# Seconds each host sleeps in each phase (the sleeps are a floor for what the report measures).
SLEEPS = {
    'h1': {'premigrate': 1.2, 'drain': 0.2, 'record': 0.4, 'stop': 0.3, 'catchup': 0.6, 'package': 0.8, 'start': 0.4, 'verify': 0.2},
    'h2': {'premigrate': 0.4, 'drain': 0.1, 'record': 0.2, 'stop': 0.2, 'catchup': 0.2, 'package': 1.2, 'start': 0.8, 'verify': 0.3},
    'h3': {'premigrate': 0.6, 'drain': 0.1, 'record': 0.3, 'stop': 0.2, 'catchup': 0.3, 'package': 0.5, 'start': 0.3, 'verify': 0.2,
           'rollback': 0.9},
}
RUNBOOK = ['premigrate', 'drain', 'record', 'stop', 'catchup', 'package', 'start', 'verify']
# h4 publishes its phases as offsets (seconds before it publishes them), as the role's downtime module will.
H4_PHASES = [('premigrate', 4.0, 3.0), ('stop', 3.0, 2.6), ('catchup', 2.6, 2.2), ('package', 2.2, 1.4), ('start', 1.4, 1.0),
             ('verify', 1.0, 0.5)]

PHASE_FILE = '''- name: Work of the {phase} phase
  ansible.builtin.command: sleep {{{{ sleeps.{phase} }}}}
  changed_when: false
'''
MAIN = '''- name: Reach the host (h5 is unreachable here, outside the rescued block)
  ansible.builtin.ping:

- name: Window of a host that times its phases itself
  when: inventory_hostname == 'h4'
  ansible.builtin.set_fact:
    docker_upgrade_report:
      status: ok
      batch: 2
      api_downtime_seconds: 1.7
      container_downtime_seconds: 2.5
      phases: "{{ h4_phases | map('phase_at', now().timestamp()) | list }}"

- name: Window of a host timed by the callback
  when: inventory_hostname != 'h4'
  block:
    - name: Pre-migrate
      ansible.builtin.include_tasks: premigrate.yml
    - name: Run the pre-stop hook (drain)
      ansible.builtin.include_tasks: "{{ playbook_dir }}/hooks/drain.yml"
    - name: Record
      ansible.builtin.include_tasks: record.yml
    - name: Stop
      ansible.builtin.include_tasks: stop.yml
    - name: Catch up
      ansible.builtin.include_tasks: catchup.yml
    - name: Upgrade the package
      ansible.builtin.include_tasks: upgrade.yml
    - name: Start
      ansible.builtin.include_tasks: start.yml
    - name: Verify
      ansible.builtin.include_tasks: verify.yml
    - name: Publish
      ansible.builtin.set_fact:
        docker_upgrade_report: {status: ok, downtime_seconds: null}
  rescue:
    - name: Roll back
      ansible.builtin.include_tasks: rollback.yml
    - name: Publish the rollback
      ansible.builtin.set_fact:
        docker_upgrade_report: {status: rolled_back, failure_reason: "{{ ansible_failed_result.msg }}"}
'''
VERIFY_FAILS = '''- name: Check the served images
  ansible.builtin.fail:
    msg: image ids differ from the recorded ones
  when: inventory_hostname == 'h3'
'''
# A filter turning h4's offsets into epoch seconds, as a role's module would return them.
FILTER = '''
def phase_at(offsets, now):
    name, start, end = offsets
    return {'name': name, 'start': now - start, 'end': now - end}


class FilterModule:
    def filters(self):
        return {'phase_at': phase_at}
'''
PLAYBOOK = '''- name: Upgrade two hosts at a time
  hosts: fleet
  gather_facts: false
  serial: 2
  roles:
    - engine_upgrade
'''


def _project(tmp):
    namespace = tmp / 'collections' / 'ansible_collections' / 'fleetops'
    namespace.mkdir(parents=True)
    (namespace / 'docker_upgrade').symlink_to(REPO_ROOT, target_is_directory=True)
    project = tmp / 'project'
    tasks = project / 'roles' / 'engine_upgrade' / 'tasks'
    tasks.mkdir(parents=True)
    (tasks / 'main.yml').write_text(MAIN, encoding='utf-8')
    files = {'premigrate': 'premigrate', 'record': 'record', 'stop': 'stop', 'catchup': 'catchup', 'package': 'upgrade',
             'start': 'start', 'rollback': 'rollback'}
    for phase, stem in files.items():
        (tasks / (stem + '.yml')).write_text(PHASE_FILE.format(phase=phase), encoding='utf-8')
    (tasks / 'verify.yml').write_text(PHASE_FILE.format(phase='verify') + VERIFY_FAILS, encoding='utf-8')
    (project / 'hooks').mkdir()
    (project / 'hooks' / 'drain.yml').write_text(PHASE_FILE.format(phase='drain'), encoding='utf-8')
    (project / 'filter_plugins').mkdir()
    (project / 'filter_plugins' / 'phase_at.py').write_text(FILTER, encoding='utf-8')
    (project / 'playbook.yml').write_text(PLAYBOOK, encoding='utf-8')
    hosts = dict((name, {'sleeps': sleeps}) for name, sleeps in SLEEPS.items())
    hosts['h4'] = {'h4_phases': [list(phase) for phase in H4_PHASES]}
    hosts['h5'] = {'ansible_connection': 'ssh', 'ansible_host': '127.0.0.1', 'ansible_port': _closed_port(), 'ansible_user': 'nobody'}
    inventory = {'fleet': {'hosts': hosts, 'vars': {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}}}
    (project / 'inventory.json').write_text(json.dumps(inventory), encoding='utf-8')
    (project / 'ansible.cfg').write_text('[defaults]\ncallbacks_enabled = fleetops.docker_upgrade.migration_report\n', encoding='utf-8')
    return project


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('migration_report_html')
    project = _project(tmp)
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith(('ANSIBLE_', 'MIGRATION_REPORT_')))
    env.update({'ANSIBLE_CONFIG': str(project / 'ansible.cfg'), 'ANSIBLE_COLLECTIONS_PATH': str(tmp / 'collections'),
                'ANSIBLE_LOCAL_TEMP': str(tmp / 'ansible-local'), 'ANSIBLE_REMOTE_TEMP': str(tmp / 'ansible-remote'),
                'ANSIBLE_HOST_KEY_CHECKING': 'False', 'ANSIBLE_TIMEOUT': '5', 'ANSIBLE_NOCOLOR': '1', 'ANSIBLE_FORKS': '4',
                'MIGRATION_REPORT_DIR': str(tmp / 'reports')})
    proc = subprocess.run([str(ANSIBLE_PLAYBOOK), '-i', 'inventory.json', 'playbook.yml'], cwd=str(project), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=180, check=False)
    # h5 is unreachable, so ansible-playbook exits 4.
    assert proc.returncode == 4, 'rc=%s\nstdout:\n%s\nstderr:\n%s' % (proc.returncode, proc.stdout, proc.stderr)
    report = json.loads((tmp / 'reports' / 'migration-report.json').read_text(encoding='utf-8'))
    return tmp, report, tmp / 'reports' / 'migration-report.html'


def _chromium():
    for name in ('chromium', 'chromium-browser'):
        if shutil.which(name):
            return shutil.which(name)
    if os.environ.get('CI'):
        pytest.fail('chromium is missing: bash scripts/setup.sh installs it')
    pytest.skip('chromium is not installed (bash scripts/setup.sh installs it)')
    return None


def _browse(tmp, page, *extra):
    profile = tmp / ('chromium-profile-%d' % len(list(tmp.glob('chromium-profile-*'))))
    command = [_chromium()] + CHROMIUM_FLAGS + ['--user-data-dir=%s' % profile] + list(extra) + [page.as_uri()]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


# Appended to a copy of the report (the report itself has no script): the laid-out boxes of every bar.
MEASURE = '''<script>
var rows = [];
document.querySelectorAll('#timeline-svg .timeline-row').forEach(function (row) {
  var bars = [];
  row.querySelectorAll('rect.phase').forEach(function (rect) {
    var box = rect.getBoundingClientRect();
    bars.push({phase: rect.dataset.phase, seconds: parseFloat(rect.dataset.seconds), left: box.left, width: box.width});
  });
  var reason = row.querySelector('.reason');
  rows.push({host: row.dataset.host, batch: row.dataset.batch, status: row.dataset.status, bars: bars,
             reason: reason ? reason.textContent : null, label: row.querySelector('.host-label').textContent});
});
var out = document.createElement('pre');
out.id = 'measured';
out.textContent = JSON.stringify(rows);
document.body.appendChild(out);
</script>
'''


@pytest.fixture(scope='module')
def rendered(run):
    tmp, dummy, page = run
    html = page.read_text(encoding='utf-8')
    measured_page = tmp / 'measured.html'
    measured_page.write_text(html.replace('</body>', MEASURE + '</body>'), encoding='utf-8')
    dom = _browse(tmp, measured_page, '--dump-dom')
    start = dom.index('<pre id="measured">') + len('<pre id="measured">')
    rows = json.loads(dom[start:dom.index('</pre>', start)].replace('&quot;', '"').replace('&amp;', '&'))
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(str(page), str(OUTPUT_DIR / 'migration-report.html'))
    screenshot = OUTPUT_DIR / 'migration-report.png'
    if screenshot.exists():
        screenshot.unlink()
    _browse(tmp, page, '--screenshot=%s' % screenshot, '--window-size=1680,1000')
    return dict((row['host'], row) for row in rows), html, screenshot


def test_phases_measured_in_runbook_order(run):
    dummy, report, dummy = run
    hosts = report['hosts']
    assert {name: entry['status'] for name, entry in hosts.items()} == {
        'h1': 'ok', 'h2': 'ok', 'h3': 'rolled_back', 'h4': 'ok', 'h5': 'unreachable'}
    for name, sleeps in SLEEPS.items():
        entry = hosts[name]
        assert entry['phases_from'] == 'tasks'
        assert [phase['name'] for phase in entry['phases']] == RUNBOOK + (['rollback'] if name == 'h3' else [])
        for phase in entry['phases']:
            assert phase['seconds'] >= sleeps[phase['name']] - 0.01, (name, phase)
            assert phase['end'] - phase['start'] == pytest.approx(phase['seconds'], abs=0.002)
        ends = [phase['end'] for phase in entry['phases']]
        starts = [phase['start'] for phase in entry['phases']]
        assert all(start >= end - 0.002 for start, end in zip(starts[1:], ends[:-1])), 'phases overlap: %s' % entry['phases']
        assert entry['phase_seconds']['package'] == pytest.approx(entry['phases'][5]['seconds'], abs=0.002)
        # The API is down from the stop through the start.
        downtime = entry['phases'][6]['end'] - entry['phases'][3]['start']
        assert entry['api_downtime_seconds'] == pytest.approx(downtime, abs=0.01)
        assert entry['api_downtime_seconds'] >= sum(sleeps[phase] for phase in ('stop', 'catchup', 'package', 'start'))
    assert hosts['h3']['failure_reason'] == 'image ids differ from the recorded ones'
    assert hosts['h5']['phases'] == [] and 'ssh' in hosts['h5']['failure_reason'].lower()
    assert [hosts[name]['batch'] for name in ('h1', 'h2', 'h3', 'h4', 'h5')] == [1, 1, 2, 2, 3]


def test_phases_the_role_publishes_win(run):
    dummy, report, dummy = run
    entry = report['hosts']['h4']
    assert entry['phases_from'] == 'role'
    assert [phase['name'] for phase in entry['phases']] == [name for name, dummy, dummy in H4_PHASES]
    assert [phase['seconds'] for phase in entry['phases']] == pytest.approx([start - end for dummy, start, end in H4_PHASES], abs=0.002)
    assert (entry['api_downtime_seconds'], entry['container_downtime_seconds']) == (1.7, 2.5)


def test_browser_shows_every_host_and_its_phases_in_proportion(run, rendered):
    dummy, report, dummy = run
    rows, dummy, dummy = rendered
    assert sorted(rows) == sorted(report['hosts'])
    # Rows by batch, then by when the host started.
    assert [rows[name]['batch'] for name in rows] == sorted(rows[name]['batch'] for name in rows)
    px_per_second = []
    reference, reference_start = rows['h1']['bars'][0], report['hosts']['h1']['phases'][0]['start']
    reference_scale = reference['width'] / report['hosts']['h1']['phases'][0]['seconds']
    for name, entry in report['hosts'].items():
        bars = rows[name]['bars']
        assert [rect['phase'] for rect in bars] == [phase['name'] for phase in entry['phases']]
        assert [rect['seconds'] for rect in bars] == [phase['seconds'] for phase in entry['phases']]
        lefts = [rect['left'] for rect in bars]
        assert lefts == sorted(lefts), '%s: bars out of time order' % name
        px_per_second += [rect['width'] / rect['seconds'] for rect in bars if rect['seconds'] > 0.05]
        # Bars start where their phase starts on the shared axis (h1's first rect as the reference).
        for rect, phase in zip(bars, entry['phases']):
            expected = reference['left'] + (phase['start'] - reference_start) * reference_scale
            assert rect['left'] == pytest.approx(expected, abs=1.0), (name, phase['name'])
    # One scale for every rect of every host: widths are in proportion to the measured seconds.
    assert max(px_per_second) / min(px_per_second) == pytest.approx(1.0, abs=0.02)
    for name in ('h3', 'h5'):
        assert rows[name]['reason'].startswith(report['hosts'][name]['status'].replace('_', ' ') + ': ')
        assert report['hosts'][name]['failure_reason'][:40] in rows[name]['reason']
    assert rows['h1']['reason'] is None


def test_report_is_self_contained_and_screenshot_kept(rendered):
    dummy, html, screenshot = rendered
    assert '<script' not in html and 'http://' not in html.replace('http://www.w3.org/2000/svg', '')
    assert 'src=' not in html and '<link' not in html
    data = screenshot.read_bytes()
    assert data.startswith(b'\x89PNG') and len(data) > 20000
