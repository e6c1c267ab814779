"""The README's main job: a rolling upgrade of the simulated fleet, and what pre-migration saves.

    python -m tests.fleet demo [--data-mb 1024] [--keep]

1. Boots the demo fleet (three Docker 1.9 hosts, aufs, overlay and vfs, each with the same layers as
   the molecule fleet plus a 'data' layer of --data-mb MiB; everything cached after the first run).
2. Runs ``fleetops.docker_upgrade.rolling_upgrade`` over it with the migration_report callback on and
   prints the play recap and the fleet report.
3. Boots the same fleet again (the same data, fresh copies) and upgrades it without pre-migration, as
   Docker's 2016 instructions did (tests/fleet/playbooks/plain_upgrade.yml: stop, upgrade, start,
   wait for the API).
4. Prints each host's downtime (docker stopped until the Engine API answers again) both ways, with
   the new engine's start time and the layers it hashed itself, read from the stand-in's log.

The stand-in 1.10.3 hashes at most 100 MB/s (the fleet's default --hash-rate, about what Docker 1.10
managed on real disks), so its start time is what Docker's would be for the same bytes.
"""

import datetime
import os
import re
import subprocess
import sys
import time

from . import hosts
from .common import FLEET_SRC, cache_dir, log, read_json, write_json

FLEET = 'demo'
SUMMARY = re.compile(r'migration: (\d+) layers hashed, (\d+) reused \((\d+) bytes in ([\d.]+) s')
TIME = re.compile(r'^time="([^"]+)"')


def _timestamp(line):
    match = TIME.match(line)
    if not match:
        return None
    text = match.group(1).rstrip('Z')
    head, _sep, fraction = text.partition('.')
    moment = datetime.datetime.strptime(head, '%Y-%m-%dT%H:%M:%S')
    return moment.timestamp() + float('0.' + (fraction or '0'))


def engine_starts(fleet):
    """Per host, the last start of the stand-in 1.10.3 as its log tells: seconds from its start to
    its API, layers hashed and reused, bytes hashed."""
    result = {}
    for name, host in fleet['hosts'].items():
        path = os.path.join(host['dir'], 'upper', 'var', 'log', 'docker.log')
        try:
            with open(path, encoding='utf-8', errors='replace') as stream:
                lines = stream.read().splitlines()
        except OSError:
            lines = []
        start = listen = summary = None
        for line in lines:
            if 'stand-in docker daemon 1.10.3 starting' in line:
                start, listen, summary = _timestamp(line), None, None
            elif start is not None and 'API listen on' in line and listen is None:
                listen = _timestamp(line)
            elif start is not None and SUMMARY.search(line):
                summary = SUMMARY.search(line)
        result[name] = {
            'start_seconds': round(listen - start, 2) if start and listen else None,
            'hashed': int(summary.group(1)) if summary else None,
            'reused': int(summary.group(2)) if summary else None,
            'bytes_hashed': int(summary.group(3)) if summary else None,
        }
    return result


def _store_bytes(fleet, name):
    manifest = read_json(fleet['hosts'][name]['manifest'])
    return sum(layer['tar_bytes'] for layer in manifest['layers'])


def _ansible(args, log_path, env):
    started = time.monotonic()
    with open(log_path, 'w', encoding='utf-8') as out:
        proc = subprocess.run(['ansible-playbook'] + args, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
    return proc.returncode, time.monotonic() - started


def _tail_from(log_path, marker):
    with open(log_path, encoding='utf-8', errors='replace') as stream:
        text = stream.read()
    index = text.rfind(marker)
    return text[index:] if index >= 0 else text[-3000:]


def _fmt(value, unit=''):
    return '-' if value is None else '%s%s' % (value, unit)


def run(data_mb=1024, keep=False):
    out = os.path.join(cache_dir(), 'demo')
    os.makedirs(out, exist_ok=True)
    inventory = os.path.join(out, 'inventory.yml')
    report_dir = os.path.join(out, 'report')
    env = dict(os.environ, ANSIBLE_CALLBACKS_ENABLED='fleetops.docker_upgrade.migration_report',
               MIGRATION_REPORT_DIR=report_dir, ANSIBLE_HOST_KEY_CHECKING='False', ANSIBLE_PIPELINING='True',
               ANSIBLE_FORCE_COLOR='0', ANSIBLE_NOCOLOR='1', ANSIBLE_RETRY_FILES_ENABLED='False')

    print('== 1. The demo fleet: three Docker 1.9 hosts (stand-in engine, real Debian hosts over SSH)', flush=True)
    fleet = hosts.create_fleet(FLEET, data_mb=data_mb, reuse=False)
    write_json(inventory, hosts.inventory(fleet), 0o600)
    for name, host in fleet['hosts'].items():
        print('   %-15s %-8s ssh -i %s -p %d root@127.0.0.1   %.0f MB of layers' % (
            name, host['driver'], fleet['key'], host['port'], _store_bytes(fleet, name) / 1e6))

    print('\n== 2. Rolling upgrade: ansible-playbook fleetops.docker_upgrade.rolling_upgrade (migration_report on)',
          flush=True)
    upgrade_log = os.path.join(out, 'rolling-upgrade.log')
    rc, seconds = _ansible(['-i', inventory, 'fleetops.docker_upgrade.rolling_upgrade'], upgrade_log, env)
    print(_tail_from(upgrade_log, 'PLAY RECAP').rstrip())
    print('   (ansible-playbook exited %d after %.0f s; full output in %s)' % (rc, seconds, upgrade_log), flush=True)
    html_report = os.path.join(report_dir, 'migration-report.html')
    with_pre = engine_starts(fleet)
    report = read_json(os.path.join(report_dir, 'migration-report.json')) if os.path.exists(
        os.path.join(report_dir, 'migration-report.json')) else {'hosts': {}}

    print('\n== 3. The same upgrade of the same data without pre-migration (tests/fleet/playbooks/plain_upgrade.yml)',
          flush=True)
    fleet = hosts.create_fleet(FLEET, data_mb=data_mb, reuse=False)
    write_json(inventory, hosts.inventory(fleet), 0o600)
    plain_log = os.path.join(out, 'plain-upgrade.log')
    plain_json = os.path.join(out, 'plain-upgrade.json')
    plain_env = dict(env)
    plain_env.pop('ANSIBLE_CALLBACKS_ENABLED')
    plain_rc, plain_seconds = _ansible(['-i', inventory, os.path.join(FLEET_SRC, 'playbooks', 'plain_upgrade.yml'),
                                        '-e', 'plain_upgrade_report=%s' % plain_json], plain_log, plain_env)
    print('   ansible-playbook exited %d after %.0f s; full output in %s' % (plain_rc, plain_seconds, plain_log))
    without_pre = engine_starts(fleet)
    plain = read_json(plain_json) if os.path.exists(plain_json) else {}

    print('\n== 4. Downtime per host (docker stopped until its Engine API answers again), same data both ways')
    print('   stand-in 1.10.3 hashes at most %s MB/s, as Docker 1.10 did on real disks' % fleet['hash_rate_mb_s'])
    header = ('host', 'layers MB', 'downtime with', 'new engine start', 'hashed at start',
              'downtime without', 'new engine start', 'hashed at start', 'saved')
    rows = [header]
    for name in fleet['hosts']:
        ours = report['hosts'].get(name, {})
        down_with = ours.get('downtime_seconds')
        down_without = plain.get(name)
        down_without = float(down_without) if down_without not in (None, '') else None
        saved = round(down_without - down_with, 1) if down_with is not None and down_without is not None else None
        rows.append((name, '%.0f' % (_store_bytes(fleet, name) / 1e6), _fmt(down_with, ' s'),
                     _fmt(with_pre[name]['start_seconds'], ' s'), _fmt(with_pre[name]['hashed'], ' layers'),
                     _fmt(down_without, ' s'), _fmt(without_pre[name]['start_seconds'], ' s'),
                     '%s (%.0f MB)' % (_fmt(without_pre[name]['hashed'], ' layers'),
                                       (without_pre[name]['bytes_hashed'] or 0) / 1e6),
                     _fmt(saved, ' s')))
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header))]
    for row in rows:
        print('   ' + '  '.join(str(cell).rjust(widths[i]) if i else str(cell).ljust(widths[i])
                                for i, cell in enumerate(row)))
    print('   with = this collection (pre-migrated while 1.9 served); without = stop, upgrade, start, wait.')
    print('   Docker hashes ~100 MB/s: a host with 100 GB of layers waits about 17 minutes without pre-migration.')
    summary = {'rolling_upgrade_rc': rc, 'plain_upgrade_rc': plain_rc, 'with_premigration': with_pre,
               'without_premigration': without_pre, 'downtime_with': dict((n, report['hosts'].get(n, {}).get(
                   'downtime_seconds')) for n in fleet['hosts']), 'downtime_without': plain}
    write_json(os.path.join(out, 'downtime.json'), summary)
    if keep:
        print('\nThe fleet is still up (after the baseline upgrade): python -m tests.fleet status --fleet demo; '
              'remove it with python -m tests.fleet destroy --fleet demo')
    else:
        hosts.destroy_fleet(FLEET)
    if os.path.exists(html_report):
        print('\nThe fleet report with a timeline of every host\'s window (open it in a browser): %s' % html_report)
    log('demo done: %s', os.path.join(out, 'downtime.json'))
    return 0 if rc == 0 and plain_rc == 0 else 1


def main(argv=None):
    import argparse  # pylint: disable=import-outside-toplevel
    parser = argparse.ArgumentParser(prog='python -m tests.fleet demo', description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--data-mb', type=int, default=1024, help="MiB of the demo's extra 'data' layer per host")
    parser.add_argument('--keep', action='store_true', help='leave the fleet running at the end')
    args = parser.parse_args(argv)
    return run(args.data_mb, args.keep)


if __name__ == '__main__':
    sys.exit(main())
