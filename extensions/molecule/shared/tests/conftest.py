"""Fixtures of the fleet verifier (testinfra over molecule's inventory; see test_fleet.py).

What each scenario expects comes from environment variables set in its molecule.yml (verifier env):
FLEET_ROLLED_BACK, FLEET_UNREACHABLE and FLEET_DELIBERATELY_ROLLED_BACK (upgraded, then taken back to
1.9.1 by playbooks/rollback.yml), comma-separated host names (default: none). Hosts in
FLEET_UNREACHABLE get their sshd started again before the first test, through the fleet tool.
"""

import json
import os
import sys

import pytest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
if TOP not in sys.path:
    sys.path.insert(0, TOP)

from tests.fleet import hosts as fleet_hosts  # noqa: E402 pylint: disable=wrong-import-position


def _names(variable):
    return [name for name in os.environ.get(variable, '').split(',') if name]


ROLLED_BACK = _names('FLEET_ROLLED_BACK')
UNREACHABLE = _names('FLEET_UNREACHABLE')
DELIBERATE = _names('FLEET_DELIBERATELY_ROLLED_BACK')


def fleet_name():
    return os.environ.get('FLEET_NAME') or 'molecule-' + os.environ.get('MOLECULE_SCENARIO_NAME', 'default')


@pytest.fixture(scope='session')
def fleet():
    return fleet_hosts.load_fleet(fleet_name())


@pytest.fixture(scope='session', autouse=True)
def reachable_again(fleet):
    """The unreachable scenario killed a host's sshd: start it again so it can be inspected."""
    for name in UNREACHABLE:
        if not fleet_hosts.port_open(fleet['hosts'][name]['port']):
            fleet_hosts.revive_sshd(fleet, name)


@pytest.fixture()
def name(host):
    return host.backend.get_hostname()


@pytest.fixture()
def manifest(fleet, name):
    with open(fleet['hosts'][name]['manifest'], encoding='utf-8') as stream:
        return json.load(stream)


@pytest.fixture()
def expected_version(name):
    return '1.9.1' if name in ROLLED_BACK or name in UNREACHABLE or name in DELIBERATE else '1.10.3'


API_SCRIPT = r'''
import json, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(30)
sock.connect('/var/run/docker.sock')
sock.sendall(('GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' % sys.argv[1]).encode())
data = b''
while True:
    chunk = sock.recv(65536)
    if not chunk:
        break
    data += chunk
head, _sep, body = data.partition(b'\r\n\r\n')
status = int(head.split()[1])
print(json.dumps({'status': status, 'body': json.loads(body) if status == 200 else body.decode()}))
'''


@pytest.fixture()
def api(host):
    """GET an Engine API path on the host's /var/run/docker.sock; returns the decoded JSON body."""

    def get(path):
        result = host.run("python3 -c %s '%s'" % (_shell_quote(API_SCRIPT), path))
        assert result.rc == 0, result.stderr
        reply = json.loads(result.stdout)
        assert reply['status'] == 200, reply
        return reply['body']

    return get


def _shell_quote(text):
    return "'" + text.replace("'", "'\"'\"'") + "'"
