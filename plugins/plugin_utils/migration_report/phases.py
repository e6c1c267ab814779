# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The phases of a host's maintenance window: their names and order, and where their times come from.

The engine_upgrade role publishes them in docker_upgrade_report.phases. Until a role sends them, the
callback derives them from the times it saw each of the role's tasks start and end on the host, naming
a task's phase after the role's task file the task was included from (docs/migration_report.md).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import posixpath

from .values import maybe_float, rounded

# In runbook order. The downtime is stop through start; containers is when they run again.
PHASES = ('premigrate', 'drain', 'record', 'stop', 'catchup', 'package', 'offline_migration', 'start', 'containers',
          'verify', 'rollback')
LABELS = {
    'premigrate': 'pre-migrate', 'drain': 'drain hook', 'record': 'record and backup', 'stop': 'stop',
    'catchup': 'catch-up', 'package': 'package', 'offline_migration': 'offline migration', 'start': 'start',
    'containers': 'containers', 'verify': 'verify', 'rollback': 'rollback',
}

# The role's task files (tasks/<stem>.yml, also under tasks/phases/) and the phase their tasks belong to.
# Entry points (main, premigrate_only) and shared helpers (api_state, daemon_pid, ...) are missing on purpose.
TASK_FILE_PHASES = {
    'premigrate': 'premigrate', 'premigrate_wait': 'premigrate',
    'record': 'record', 'backup': 'record',
    'stop': 'stop', 'stop_daemon': 'stop',
    'catchup': 'catchup',
    'upgrade': 'package', 'package': 'package', 'package_guard': 'package',
    'offline_migrate': 'offline_migration', 'offline_migration': 'offline_migration',
    'start': 'start', 'start_daemon': 'start', 'start_dropin': 'start', 'start_log': 'start', 'start_wait': 'start',
    'containers': 'containers', 'containers_run': 'containers', 'containers_wait': 'containers',
    'verify': 'verify',
    'rollback': 'rollback', 'restore': 'rollback', 'verify_rollback': 'rollback',
}
# A phase included from within another is part of the outer one (the stop step prepares the start and the
# package guard before stopping: that is stop time), except these, which split the outer phase.
SPLITS = {'verify': ('containers',)}
ROLE_TASKS_DIR = '/engine_upgrade/tasks/'
# The role includes the operator's hook files, which live anywhere; the include task's name tells.
HOOK_TASK_PHASES = (('pre-stop hook', 'drain'), ('post-verify hook', 'verify'))


def _phase_of_include(path, name):
    if ROLE_TASKS_DIR in path:
        stem = posixpath.splitext(posixpath.basename(path))[0]
        if stem in TASK_FILE_PHASES:
            return TASK_FILE_PHASES[stem]
    for words, phase in HOOK_TASK_PHASES:
        if words in name.lower():
            return phase
    return None


def phase_of_task(chain):
    """The phase of a task from its include chain ((path, name) innermost first, task_results.include_chain):
    the outermost phase it was included through, or an inner phase that splits that one."""
    found = None
    for path, name in reversed(chain):
        phase = _phase_of_include(path, name)
        if phase is None:
            continue
        if found is None:
            found = phase
        elif phase in SPLITS.get(found, ()):
            return phase
    return found


def add_task_timing(segments, phase, start, end):
    """Extends the last segment when the task belongs to its phase, else opens a new one (segments: list of dicts)."""
    if segments and segments[-1]['name'] == phase:
        segments[-1]['end'] = max(segments[-1]['end'], end)
    else:
        segments.append({'name': phase, 'start': start, 'end': end})


def role_phases(value):
    """The role's phases list, keeping only well-formed entries of known phases."""
    if not isinstance(value, list):
        return None
    phases = []
    for item in value:
        if not isinstance(item, dict) or item.get('name') not in PHASES:
            continue
        start, end = maybe_float(item.get('start')), maybe_float(item.get('end'))
        if start is not None and end is not None and end >= start:
            phases.append({'name': item['name'], 'start': start, 'end': end})
    return phases


def as_entries(segments):
    """The report's phases: name, start and end (epoch seconds) and seconds, in time order."""
    ordered = sorted(segments, key=lambda segment: segment['start'])
    return [{'name': segment['name'], 'start': rounded(segment['start']), 'end': rounded(segment['end']),
             'seconds': rounded(segment['end'] - segment['start'])} for segment in ordered]


def seconds_per_phase(segments):
    """Seconds spent in each phase (summed over its segments), in runbook order."""
    totals = {}
    for segment in segments:
        totals[segment['name']] = totals.get(segment['name'], 0.0) + segment['end'] - segment['start']
    return dict((name, rounded(totals[name])) for name in PHASES if name in totals)


def span_seconds(segments, first, last_names):
    """From the start of the first segment named first to the end of the last one named in last_names, or None."""
    starts = [segment['start'] for segment in segments if segment['name'] == first]
    ends = [segment['end'] for segment in segments if segment['name'] in last_names]
    if not starts or not ends or max(ends) < min(starts):
        return None
    return rounded(max(ends) - min(starts))
