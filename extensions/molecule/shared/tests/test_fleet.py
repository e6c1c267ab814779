"""What every scenario asserts on every host of the simulated fleet (testinfra, over real SSH).

Upgraded hosts run docker-engine 1.10.3; hosts listed in FLEET_ROLLED_BACK were rolled back to
1.9.1 and hosts in FLEET_UNREACHABLE were never upgraded (1.9.1). On every host, every tag and
container of its legacy store is still there and the containers that ran before run again. On the
upgraded hosts the stand-in 1.10.3 hashed no layer (it took the pre-migrated .migration-diffid
files as they were), and each .migration-diffid equals the SHA-256 of the layer's original tar
(layers whose tar-split data is missing or no longer matches get a regenerated tar: a valid diffID
with its tar-split data). The fleet report of the migration_report callback lists every host with
the status it should have.
"""

import hashlib
import json
import os
import re

import pytest

ROLLED_BACK = [n for n in os.environ.get('FLEET_ROLLED_BACK', '').split(',') if n]
UNREACHABLE = [n for n in os.environ.get('FLEET_UNREACHABLE', '').split(',') if n]
DELIBERATE = [n for n in os.environ.get('FLEET_DELIBERATELY_ROLLED_BACK', '').split(',') if n]
DIGEST = re.compile(r'^sha256:[0-9a-f]{64}$')
SUMMARY = re.compile(r'migration: (\d+) layers hashed, (\d+) reused')


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, 'rb') as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b''):
            digest.update(chunk)
    return 'sha256:' + digest.hexdigest()


def _tags(manifest):
    return sorted('%s:%s' % (repo, tag) for repo, tags in manifest['tags'].items() for tag in tags)


def _daemon_runs(log_text):
    """The log split per daemon start: [(version, [lines])]."""
    runs = []
    for line in log_text.splitlines():
        match = re.search(r'stand-in docker daemon (\S+) starting', line)
        if match:
            runs.append((match.group(1), []))
        elif runs:
            runs[-1][1].append(line)
    return runs


def test_engine_version(host, api, expected_version):
    package = host.run("dpkg-query -W -f='${Version}' docker-engine")
    assert package.rc == 0
    assert package.stdout.startswith(expected_version + '-')
    assert api('/version')['Version'] == expected_version
    assert api('/v1.21/version')['Version'] == expected_version


def test_service_running(host):
    assert host.run('service docker status').rc == 0


def test_no_policy_rc_d_left(host):
    # The role forbids service starts during the package transaction and must lift that on every path.
    assert not host.file('/usr/sbin/policy-rc.d').exists
    assert not host.file('/usr/sbin/policy-rc.d.fleetops-saved').exists


def test_every_tag_is_there(api, manifest, expected_version):
    images = api('/images/json')
    found = dict((ref, image['Id']) for image in images for ref in image['RepoTags'])
    for ref in _tags(manifest):
        assert ref in found, '%s lost (have %s)' % (ref, sorted(found))
    if expected_version == '1.9.1':
        for repo, tags in manifest['tags'].items():
            for tag, v1id in tags.items():
                assert found['%s:%s' % (repo, tag)] == v1id
    else:
        assert all(DIGEST.match(found[ref]) for ref in _tags(manifest))
        # Tags of one legacy image still name one image.
        by_v1 = {}
        for repo, tags in manifest['tags'].items():
            for tag, v1id in tags.items():
                by_v1.setdefault(v1id, set()).add(found['%s:%s' % (repo, tag)])
        assert all(len(ids) == 1 for ids in by_v1.values()), by_v1


def test_every_container_is_there_and_running_ones_run(api, manifest):
    listed = dict((c['Names'][0].lstrip('/'), c) for c in api('/containers/json?all=1'))
    assert sorted(listed) == sorted(c['name'] for c in manifest['containers'])
    running = set(c['Names'][0].lstrip('/') for c in api('/containers/json'))
    for container in manifest['containers']:
        state = api('/containers/%s/json' % container['name'])['State']
        assert state['Running'] == container['running'], container['name']
        assert (container['name'] in running) == container['running']
        if container['running']:
            assert state['Pid'] > 0


def test_standin_hashed_no_layer_on_premigrated_hosts(host, name, manifest, expected_version):
    runs = _daemon_runs(host.file('/var/log/docker.log').content_string)
    assert runs, 'the stand-in never started'
    if name in UNREACHABLE:
        assert [version for version, _lines in runs] == ['1.9.1']
        return
    new_runs = [lines for version, lines in runs if version == '1.10.3']
    assert new_runs, 'docker-engine 1.10.3 never started'
    if name in ROLLED_BACK:
        assert any('migration failed' in line for lines in new_runs for line in lines)
        assert runs[-1][0] == '1.9.1'
        return
    summaries = [SUMMARY.search(line) for lines in new_runs for line in lines if SUMMARY.search(line)]
    assert summaries, 'no migration summary logged'
    assert [int(m.group(1)) for m in summaries] == [0] * len(summaries), 'the stand-in hashed layers itself'
    assert int(summaries[0].group(2)) == len(manifest['layers'])
    assert not [line for lines in new_runs for line in lines if 'calculated checksum for layer' in line]
    assert not [line for lines in new_runs for line in lines if 'migration failed' in line]
    if name in DELIBERATE:
        assert runs[-1][0] == '1.9.1', 'the rollback playbook did not bring 1.9.1 back'


def test_migration_diffids_are_the_original_tars(host, name, manifest, fleet):
    if name in UNREACHABLE:
        pytest.skip('never reached by the upgrade')
    broken = manifest['fleet']['broken']['v1id']
    regenerated = []
    for layer in manifest['layers']:
        directory = '/var/lib/docker/graph/%s/' % layer['v1id']
        diffid = host.file(directory + '.migration-diffid')
        assert diffid.exists, layer['name']
        value = diffid.content_string
        assert host.file(directory + '.migration-size').exists
        assert host.file(directory + '.migration-tardata').exists
        if layer['has_tarsplit'] and layer['v1id'] != broken:
            assert value == sha256_of(layer['tar']), layer['name']
        else:
            assert DIGEST.match(value), layer['name']
            regenerated.append(layer['name'])
    assert sorted(regenerated) == sorted([manifest['fleet']['no_tarsplit'], manifest['fleet']['broken']['layer']])


def test_new_engine_registered_the_premigrated_diffids(host, name, manifest, expected_version):
    if expected_version != '1.10.3':
        pytest.skip('not upgraded')
    driver = manifest['driver']
    premigrated = set(host.file('/var/lib/docker/graph/%s/.migration-diffid' % layer['v1id']).content_string
                      for layer in manifest['layers'])
    registered = set(host.check_output(
        'for f in /var/lib/docker/image/%s/layerdb/sha256/*/diff; do cat "$f"; echo; done' % driver).split())
    assert registered == premigrated
    # 1.10 keeps the legacy store for a downgrade.
    assert host.file('/var/lib/docker/repositories-%s' % driver).exists
    assert host.file('/var/lib/docker/graph/%s/json' % manifest['layers'][0]['v1id']).exists


def test_deliberate_rollback_report(fleet):
    if not DELIBERATE:
        pytest.skip('no deliberate rollback in this scenario')
    with open(os.environ['FLEET_DELIBERATE_REPORT_JSON'], encoding='utf-8') as stream:
        report = json.load(stream)
    # Only the hosts it was given, each reported rolled back (hosts already at the recorded engine: skipped).
    assert dict((name, data['status']) for name, data in report['hosts'].items()) == \
        dict((name, 'rolled_back') for name in DELIBERATE)


def test_report_lists_every_host_with_its_status(fleet):
    path = os.environ.get('FLEET_REPORT_JSON') or \
        os.path.join(os.environ['MIGRATION_REPORT_DIR'], 'migration-report.json')
    with open(path, encoding='utf-8') as stream:
        report = json.load(stream)
    statuses = dict((name, data['status']) for name, data in report['hosts'].items() if name != 'localhost')
    expected = {}
    for name in fleet['hosts']:
        expected[name] = 'rolled_back' if name in ROLLED_BACK else 'unreachable' if name in UNREACHABLE else 'ok'
    assert statuses == expected
    for name, status in expected.items():
        if status == 'ok':
            data = report['hosts'][name]
            assert data['engine_version_after'] == '1.10.3'
            assert data['downtime_seconds'] is not None and data['downtime_seconds'] > 0
            # The role's predicted image IDs (the collection's code) against the ones the stand-in
            # served (its own code): two implementations of Docker 1.10's rules must agree.
            assert not data.get('id_mismatches'), data.get('id_mismatches')
