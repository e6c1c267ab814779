# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the engine_upgrade role tests: real ansible-playbook runs against localhost.

- ``collections_path``: a directory with ``ansible_collections/fleetops/docker_upgrade`` linked to this checkout.
- ``make_host``: a scenario host: a small Docker 1.9 store built by hand (role_helpers.build_small_store), a
  fake Engine API on a unix socket (role_helpers.FakeEngine: ``state`` is a dict the test edits, ``phases``
  other states a playbook switches to with ``POST /_fake/phase/<name>``, ``requests`` what was asked), a pid
  file, and role variables keeping every path in tmp_path.
- ``run_playbook``: runs a playbook over several such hosts at once (connection local) with the
  migration_report callback on; the result carries the callback's per-host entries.

Nothing here touches the machine's Docker, services or packages: every path is in tmp_path.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from role_helpers import (ANSIBLE_PLAYBOOK, REPO_ROOT, FakeEngine, PlaybookRun, build_small_store,
                          engine_state_19, role_vars)


class Host(object):
    """One scenario host of a playbook run: its directory, fake engine and role variables."""

    def __init__(self, name, base, engine, role_variables):
        self.name = name
        self.base = base
        self.engine = engine
        self.vars = role_variables

    @property
    def docker_root(self):
        return self.base / 'docker'


@pytest.fixture
def make_host(tmp_path):
    """make_host(name, store=True, tags=None, **role_variable_overrides) -> Host.

    The host's files live in tmp_path/<name>: a small store (docker/), a pid file naming this live test
    process, backups/, progress.json, docker.log. Its fake engine answers as Docker 1.9.1 on a socket in a short
    directory (unix socket paths are limited to 107 bytes)."""
    engines = []
    sockets = tempfile.mkdtemp(prefix='fo-sock-', dir='/tmp')

    def make(name, store=True, tags=None, **overrides):
        base = tmp_path / name
        base.mkdir()
        if store:
            build_small_store(base / 'docker', tags=tags)
        (base / 'docker.pid').write_text('%d\n' % os.getpid())
        socket_path = os.path.join(sockets, name + '.sock')
        engine = FakeEngine(socket_path, engine_state_19(base / 'docker'))
        engines.append(engine)
        overrides.setdefault('docker_upgrade_socket', socket_path)
        return Host(name, base, engine, role_vars(base, **overrides))

    yield make
    for engine in engines:
        engine.close()
    shutil.rmtree(sockets, ignore_errors=True)


@pytest.fixture(scope='session')
def collections_path(tmp_path_factory):
    base = tmp_path_factory.mktemp('collections')
    namespace = base / 'ansible_collections' / 'fleetops'
    namespace.mkdir(parents=True)
    (namespace / 'docker_upgrade').symlink_to(REPO_ROOT, target_is_directory=True)
    return base


@pytest.fixture
def run_playbook(tmp_path, collections_path):
    """run_playbook(text, hosts, check=False, extra_vars=None, playbooks=None) -> PlaybookRun.

    hosts: Host objects (or {name: variables}); each becomes an inventory host with connection local and its
    role variables as host variables, so one run covers several scenarios. playbooks: names to run instead of
    text (collection playbooks such as fleetops.docker_upgrade.rolling_upgrade)."""
    counter = [0]

    def run(text, hosts, check=False, extra_vars=None, playbooks=None, timeout=300):
        counter[0] += 1
        work = tmp_path / ('run%d' % counter[0])
        work.mkdir()
        if not isinstance(hosts, dict):
            hosts = dict((host.name, host.vars) for host in hosts)
        inventory = {'all': {'hosts': dict(
            (name, dict(variables, ansible_connection='local', ansible_python_interpreter=sys.executable))
            for name, variables in hosts.items())}}
        if text is not None:
            (work / 'playbook.yml').write_text(text)
        (work / 'inventory.json').write_text(json.dumps(inventory))
        (work / 'vars.json').write_text(json.dumps(extra_vars or {}))
        report_dir = work / 'report'
        env = dict(os.environ)
        env.update({
            'ANSIBLE_COLLECTIONS_PATH': str(collections_path),
            'ANSIBLE_CALLBACKS_ENABLED': 'fleetops.docker_upgrade.migration_report',
            'MIGRATION_REPORT_DIR': str(report_dir),
            'ANSIBLE_NOCOLOR': '1',
            'ANSIBLE_FORCE_COLOR': '0',
            'ANSIBLE_RETRY_FILES_ENABLED': '0',
            'ANSIBLE_LOCAL_TEMP': str(work / 'tmp'),
            'ANSIBLE_REMOTE_TEMP': str(work / 'remote-tmp'),
            'ANSIBLE_ASYNC_DIR': str(work / 'async'),
            'ANSIBLE_DEPRECATION_WARNINGS': '0',
            'ANSIBLE_FORKS': '10',
        })
        cmd = [str(ANSIBLE_PLAYBOOK), '-i', str(work / 'inventory.json'), '-e', '@' + str(work / 'vars.json')]
        cmd += playbooks or [str(work / 'playbook.yml')]
        if check:
            cmd.append('--check')
        proc = subprocess.run(cmd, cwd=str(work), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=timeout, check=False)
        return PlaybookRun(proc, report_dir)

    return run
