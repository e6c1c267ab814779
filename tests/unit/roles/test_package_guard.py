# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The policy-rc.d guard of the package transaction (package_guard.yml, package_unguard.yml).

stop.yml places it before the downtime and package.yml lifts it after the install (main.yml after any
failure), so it must come off cleanly whatever was there before: nothing, an operator's own policy-rc.d
(put back as it was), or one left by an interrupted run of this role (not kept). The guard's path is pointed
into each host's directory with an extra var, so nothing under /usr/sbin of this machine is touched.
"""

import os
import stat

PLAYBOOK = '''
- name: Guard, then lift the guard
  hosts: all
  gather_facts: false
  tasks:
    - name: Start the run
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: init

    - name: Place the guard
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: package_guard

    - name: Keep what the package transaction would see
      ansible.builtin.copy:
        src: "{{ policy_rc }}"
        dest: "{{ policy_rc }}.during"
        mode: preserve

    - name: Lift the guard
      ansible.builtin.include_role:
        name: fleetops.docker_upgrade.engine_upgrade
        tasks_from: package_unguard

    - name: The role's note of the guard
      ansible.builtin.copy:
        content: "{{ __docker_upgrade_package_guarded }}"
        dest: "{{ policy_rc }}.guarded"
        mode: "0600"
'''

OPERATORS = '#!/bin/sh\n# the operator\'s own: no starts in this container image\nexit 101\n'
LEFT_BY_US = '#!/bin/sh\n# fleetops.docker_upgrade: no service starts inside the engine package transaction\nexit 101\n'


def test_guard_is_lifted_whatever_was_there(tmp_path, run_playbook):
    hosts = {}
    for name, before in (('none', None), ('operator', OPERATORS), ('stale', LEFT_BY_US)):
        base = tmp_path / name
        base.mkdir()
        path = base / 'policy-rc.d'
        if before is not None:
            path.write_text(before)
            os.chmod(path, 0o750)
        hosts[name] = {'policy_rc': str(path)}
    run = run_playbook(PLAYBOOK, hosts, extra_vars={'__docker_upgrade_policy_rc_path': '{{ policy_rc }}'})
    assert run.rc == 0, run

    for name in hosts:
        base = tmp_path / name
        during = base / 'policy-rc.d.during'
        assert 'fleetops.docker_upgrade' in during.read_text() and 'exit 101' in during.read_text(), name
        assert stat.S_IMODE(os.stat(during).st_mode) == 0o755, name
        assert not (base / 'policy-rc.d.fleetops-saved').exists(), name
        assert (base / 'policy-rc.d.guarded').read_text() == 'False', name

    assert not (tmp_path / 'none' / 'policy-rc.d').exists()
    kept = tmp_path / 'operator' / 'policy-rc.d'
    assert kept.read_text() == OPERATORS and stat.S_IMODE(os.stat(kept).st_mode) == 0o750
    assert not (tmp_path / 'stale' / 'policy-rc.d').exists()   # ours, from an interrupted run: not kept
