# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the callback reads from ansible-core's TaskResult and Task objects, for every supported ansible-core."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from .values import TEXT_MAX, short_text

MODULE_NAME = 'layer_checksums'


def is_layer_checksums(action):
    # Accepts fleetops.docker_upgrade.layer_checksums, the short name, and the module under any other collection
    # or in a playbook's library/ directory.
    return isinstance(action, str) and action.rsplit('.', 1)[-1] == MODULE_NAME


def is_async_status(action):
    return action.rsplit('.', 1)[-1] == 'async_status'


def task_actions(task):
    """The action as written in the play and, when ansible-core already resolved it, the resolved FQCN."""
    actions = [getattr(task, 'action', None)]
    # Read the resolved name from the instance: the ansible-core 2.19 resolved_action property emits a
    # warning when sampled for loop tasks, and 2.15 to 2.18 keep it as a plain attribute.
    state = getattr(task, '__dict__', {})
    actions.append(state.get('_resolved_action') or state.get('resolved_action'))
    return [action for action in actions if isinstance(action, str)]


def result_host(result):
    # ansible-core 2.19 added the public host/task/result properties; older versions only have the underscored ones.
    return getattr(result, 'host', None) or result._host


def is_fleet_host(host):
    """False for Ansible's implicit localhost (not in the inventory): controller-side plays such as molecule's
    create and destroy run there, and it is no host of the fleet. A localhost listed in the inventory counts."""
    return not getattr(host, 'implicit', False)


def result_parts(result):
    """(host name, task, result dict) for a TaskResult of any supported ansible-core."""
    host = result_host(result)
    task = getattr(result, 'task', None) or result._task
    data = getattr(result, 'result', None)
    if data is None:
        data = result._result
    return host.get_name(), task, data


def task_name(task):
    try:
        return short_text(task.get_name(), TEXT_MAX)
    except Exception:  # pylint: disable=broad-except
        return None


def task_uuid(task):
    return getattr(task, '_uuid', None) or id(task)


def include_chain(task):
    """(file path, task name) of the task and of every include above it, innermost first.

    Tasks of an included file hang below a Block whose parent is the include task, so walking the
    parents gives the files a task was included through (the role's phase files among them).
    """
    chain = []
    node = task
    while node is not None:
        get_path = getattr(node, 'get_path', None)
        if callable(get_path) and getattr(node, 'action', None) is not None:
            chain.append(((get_path() or '').rsplit(':', 1)[0], getattr(node, 'name', None) or ''))
        node = getattr(node, '_parent', None)
    return chain


def failure_reason(data):
    if data.get('censored'):
        return 'output hidden (no_log)'
    return short_text(data.get('msg')) or short_text(data.get('reason'))


def is_finished_checksums(item):
    # async_status of a layer_checksums job: the module's keys are there once the job finished.
    return bool(item.get('finished')) and 'layers_computed' in item and 'bytes_hashed' in item
