# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the engine_upgrade role tests: a fake Docker Engine API on a unix socket, a hand-made Docker 1.9
store, the role variables that keep every path in tmp_path, and the result of a playbook run."""

import json
import pathlib
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlsplit, parse_qs

REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = pathlib.Path(sys.executable).parent / 'ansible-playbook'
API = '/v1.21'

# v1 ids of the hand-made store: base <- app, and a second base image.
BASE_ID = 'a1' * 32
APP_ID = 'b2' * 32
TOOLS_ID = 'c3' * 32
WEB_ID = 'd4' * 32      # container, running, no restart policy
WORKER_ID = 'e5' * 32   # container, running, restart policy always
OLD_ID = 'f6' * 32      # container, exited
# repositories-vfs with a tag pointing at an image that is not in graph/ (graph_info: tag_without_image).
LOST_TAG = {'debian': {'jessie': BASE_ID}, 'gone': {'1': 'ab' * 32}}


# The first tasks of a play that runs single steps of the role: init, then the facts the preflight would
# have set on a Docker 1.9.1 vfs host (test_preflight.py runs the preflight itself).
AFTER_PREFLIGHT = '''    - name: Start the run
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: init

    - name: What the preflight would have found
      ansible.builtin.set_fact:
        __docker_upgrade_version_before: 1.9.1
        __docker_upgrade_storage_driver: vfs
        __docker_upgrade_package_before: 1.9.1-0~jessie
        __docker_upgrade_package_held: false
        __docker_upgrade_accepted: []
        __docker_upgrade_catchup_possible: true
'''


def tree(path):
    """Every file under path with its bytes and mode: to prove a run changed nothing."""
    return dict((str(p.relative_to(path)), (p.read_bytes(), p.stat().st_mode))
                for p in sorted(path.rglob('*')) if p.is_file() and not p.is_symlink())


def new_id(v1_id):
    """The sha256 image id the fake Docker 1.10 gives a v1 image."""
    return 'sha256:' + v1_id[::-1]


# -- fake Engine API --------------------------------------------------------------------------------------------


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeEngine(object):
    """The Engine API endpoints the role uses, over a unix socket, answering from a state dict."""

    def __init__(self, socket_path, state):
        self.socket_path = str(socket_path)
        self.state = state
        self.phases = {}
        self.on_phase = {}  # phase name -> callable run when a playbook switches to it
        self.requests = []
        self.lock = threading.Lock()
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # unix sockets have no client address to log
                pass

            def do_GET(self):
                engine._handle(self, 'GET')

            def do_POST(self):
                engine._handle(self, 'POST')

        self.server = _Server(self.socket_path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _reply(self, handler, status, body=None):
        data = b'' if body is None else json.dumps(body).encode('utf-8')
        handler.send_response(status)
        if body is not None:
            handler.send_header('Content-Type', 'application/json')
        handler.send_header('Content-Length', str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _handle(self, handler, method):
        url = urlsplit(handler.path)
        query = parse_qs(url.query)
        path = url.path
        with self.lock:
            self.requests.append((method, handler.path))
            if method == 'POST' and path.startswith('/_fake/phase/'):
                phase = path.rsplit('/', 1)[1]
                if phase in self.phases:
                    self.state.clear()
                    self.state.update(json.loads(json.dumps(self.phases[phase])))
                if phase in self.on_phase:
                    self.on_phase[phase]()
                return self._reply(handler, 200, {'phase': phase})
            if not path.startswith(API):
                return self._reply(handler, 404, {'message': 'page not found'})
            path = path[len(API):]
            state = self.state
            if method == 'GET' and path == '/version':
                return self._reply(handler, 200, {'Version': state['version'], 'ApiVersion': '1.22'})
            if method == 'GET' and path == '/info':
                return self._reply(handler, 200, state['info'])
            if method == 'GET' and path == '/images/json':
                images = state['images'] if query.get('all') == ['1'] else [i for i in state['images'] if i.get('top', True)]
                return self._reply(handler, 200, [dict((k, v) for k, v in i.items() if k != 'top') for i in images])
            if method == 'GET' and path == '/containers/json':
                containers = state['containers']
                if query.get('all') != ['1']:
                    containers = [c for c in containers if c['Status'].startswith('Up')]
                return self._reply(handler, 200, containers)
            parts = path.strip('/').split('/')
            if len(parts) == 3 and parts[0] == 'containers':
                found = [c for c in state['containers'] if c['Id'] == parts[1]]
                if not found:
                    return self._reply(handler, 404, {'message': 'no such container'})
                container = found[0]
                if method == 'GET' and parts[2] == 'json':
                    return self._reply(handler, 200, {
                        'Id': container['Id'], 'Name': container['Names'][0], 'Image': container['ImageID'],
                        'State': {'Running': container['Status'].startswith('Up'), 'Pid': 4242},
                        'HostConfig': {'RestartPolicy': {'Name': container.get('policy', ''), 'MaximumRetryCount': 0}}})
                if method == 'POST' and parts[2] == 'start':
                    if container['Status'].startswith('Up'):
                        return self._reply(handler, 304)
                    container['Status'] = 'Up Less than a second'
                    return self._reply(handler, 204)
            return self._reply(handler, 404, {'message': 'page not found'})


def _container(cid, name, image, running, policy=''):
    return {'Id': cid, 'Names': ['/' + name], 'Image': image, 'ImageID': image, 'Command': 'sleep 1d',
            'Created': 1452000000, 'Status': 'Up 2 hours' if running else 'Exited (0) 3 days ago', 'policy': policy}


def engine_state_19(docker_root):
    """What a Docker 1.9.1 daemon over small_store answers."""
    return {
        'version': '1.9.1',
        'info': {'Driver': 'vfs', 'DockerRootDir': str(docker_root)},
        'images': [
            {'Id': APP_ID, 'ParentId': BASE_ID, 'RepoTags': ['shop/app:1.0', 'shop/app:latest'], 'Size': 10},
            {'Id': BASE_ID, 'ParentId': '', 'RepoTags': ['debian:jessie'], 'Size': 10},
            {'Id': TOOLS_ID, 'ParentId': '', 'RepoTags': ['<none>:<none>'], 'Size': 10},
        ],
        'containers': [
            _container(WEB_ID, 'web', APP_ID, True, ''),
            _container(WORKER_ID, 'worker', APP_ID, True, 'always'),
            _container(OLD_ID, 'old', BASE_ID, False, ''),
        ],
    }


def engine_state_110(docker_root, running=('worker',)):
    """What Docker 1.10.3 answers after a clean migration: new ids, same tags; only containers with a
    restart policy (or those named in running) run."""
    state = engine_state_19(docker_root)
    state['version'] = '1.10.3'
    for image in state['images']:
        image['Id'] = new_id(image['Id'])
        image['ParentId'] = new_id(image['ParentId']) if image['ParentId'] else ''
    for container in state['containers']:
        container['ImageID'] = new_id(container['ImageID'])
        name = container['Names'][0][1:]
        container['Status'] = 'Up 1 second' if name in running else 'Exited (0) 1 second ago'
    return state


# -- a hand-made Docker 1.9 store -------------------------------------------------------------------------------


def _write(path, text, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)


def build_small_store(docker_root, tags=None):
    """A vfs store: base (one file) <- app (adds a file), tools (a base image), three containers."""
    layers = [(BASE_ID, None, {'etc/os-release': 'jessie\n'}),
              (APP_ID, BASE_ID, {'etc/os-release': 'jessie\n', 'srv/app.sh': 'echo app\n'}),
              (TOOLS_ID, None, {'usr/bin/tool': '#!/bin/sh\n'})]
    for layer_id, parent, files in layers:
        config = {'id': layer_id, 'created': '2016-01-04T10:00:00Z', 'docker_version': '1.9.1',
                  'config': {'Cmd': ['/bin/sh']}, 'container_config': {}, 'architecture': 'amd64', 'os': 'linux'}
        if parent:
            config['parent'] = parent
        _write(docker_root / 'graph' / layer_id / 'json', json.dumps(config), 0o600)
        _write(docker_root / 'graph' / layer_id / 'layersize', '100', 0o600)
        for name, text in files.items():
            _write(docker_root / 'vfs' / 'dir' / layer_id / name, text)
    if tags is None:
        tags = {'debian': {'jessie': BASE_ID}, 'shop/app': {'1.0': APP_ID, 'latest': APP_ID}}
    _write(docker_root / 'repositories-vfs', json.dumps({'Repositories': tags}), 0o600)
    for cid, name, image, running in ((WEB_ID, 'web', APP_ID, True), (WORKER_ID, 'worker', APP_ID, True),
                                      (OLD_ID, 'old', BASE_ID, False)):
        config = {'ID': cid, 'Name': '/' + name, 'Image': image, 'State': {'Running': running, 'Pid': 4242 if running else 0}}
        _write(docker_root / 'containers' / cid / 'config.json', json.dumps(config), 0o600)
        _write(docker_root / 'containers' / cid / 'hostconfig.json', json.dumps({'RestartPolicy': {'Name': ''}}), 0o600)
        for layer in (cid, cid + '-init'):
            (docker_root / 'vfs' / 'dir' / layer).mkdir(parents=True, exist_ok=True)
    _write(docker_root / 'linkgraph.db', 'SQLite format 3\x00 (fake)', 0o644)
    return docker_root


class PlaybookRun(object):
    def __init__(self, proc, report_dir):
        self.rc = proc.returncode
        self.out = proc.stdout
        path = report_dir / 'migration-report.json'
        self.report = json.loads(path.read_text()) if path.exists() else None

    def host(self, name):
        """The migration report's entry for a host."""
        assert self.report is not None, self.out
        return self.report['hosts'][name]

    def recap(self, host):
        """The (last) PLAY RECAP counters of a host: {'ok': n, 'changed': n, 'failed': n, ...}."""
        found = None
        for line in self.out.splitlines():
            name, sep, counters = line.partition(' : ')
            if sep and name.strip() == host and 'ok=' in counters:
                found = dict((key, int(value)) for key, value in (item.split('=') for item in counters.split()))
        if found is None:
            raise AssertionError('no recap line for %s' % host)
        return found

    def task_lines(self, host):
        """Output lines that mention host (results and messages)."""
        return [line for line in self.out.splitlines() if '[%s]' % host in line]

    def __repr__(self):
        return 'PlaybookRun(rc=%d)\n%s' % (self.rc, self.out[-6000:])


def role_vars(tmp_path, **overrides):
    """Role variables that keep every path of the role inside tmp_path."""
    values = {
        'docker_upgrade_docker_root': str(tmp_path / 'docker'),
        'docker_upgrade_socket': str(tmp_path / 'docker.sock'),
        'docker_upgrade_pid_file': str(tmp_path / 'docker.pid'),
        'docker_upgrade_backup_dir': str(tmp_path / 'backups'),
        'docker_upgrade_progress_file': str(tmp_path / 'progress.json'),
        'docker_upgrade_daemon_log': str(tmp_path / 'docker.log'),
        # Any installed package stands in for docker-engine: the tests never reach the package steps.
        'docker_upgrade_package_name': 'bash',
        'docker_upgrade_min_free_disk_bytes': 1024,
        'docker_upgrade_workers': 1,
    }
    values.update(overrides)
    return values
