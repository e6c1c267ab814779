# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: migration_report
type: aggregate
author:
  - fleetops engineering (@fleetops)
short_description: Summarise a Docker 1.9 to 1.10 fleet upgrade per host and for the whole fleet
description:
  - Collects, per host, the results of every C(fleetops.docker_upgrade.layer_checksums) task (layer counters, bytes hashed, hashing
    time and throughput, and the ids of failed and regenerated layers with their reasons), the timings and engine versions that the
    C(engine_upgrade) role publishes in the C(docker_upgrade_report) fact, and a final status per host
    (C(ok), C(failed), C(unreachable), C(skipped) or C(rolled_back)).
  - Numbers add up across tasks, plays and C(serial) batches; nothing is overwritten.
  - Every inventory host that runs a task is a row. Ansible's implicit C(localhost) (a controller-side play on a C(localhost) that
    is not in the inventory) is not part of the fleet and is left out; list C(localhost) in the inventory to report it.
  - A task counts as a C(layer_checksums) task when its action, as written or as resolved, ends in C(layer_checksums)
    (for example C(fleetops.docker_upgrade.layer_checksums) or C(layer_checksums)), or when it is an C(async_status) task
    that returns a finished C(layer_checksums) result.
  - In check mode the module only plans; its C(layers_pending), C(bytes_pending) and C(estimated_seconds) are then reported as planned
    numbers (the module returns them in normal runs too, where they are not reported).
  - At the end of the run it prints a table with one row per host, slowest first, followed by fleet totals, and, when O(output_dir)
    is set, writes C(migration-report.json) and a Markdown copy C(migration-report.md) into that directory. A playbook in which
    no fleet host ran a task prints one line instead and writes nothing, so the last report stays in place.
  - The report holds only the named counters, timings, versions, layer ids and short reasons; never whole task results,
    module arguments, file contents or environments.
  - Play and host variables do not reach callback plugins; configure it with C(ansible.cfg) or environment variables.
version_added: 0.1.0
requirements:
  - enable in configuration, for example C(callbacks_enabled = fleetops.docker_upgrade.migration_report) in the C([defaults])
    section of C(ansible.cfg), or C(ANSIBLE_CALLBACKS_ENABLED=fleetops.docker_upgrade.migration_report)
options:
  output_dir:
    description:
      - Directory to write C(migration-report.json) and C(migration-report.md) to. It is created when missing.
      - When not set, the report is only printed on the terminal.
    type: path
    default: null
    env:
      - name: MIGRATION_REPORT_DIR
    ini:
      - section: callback_migration_report
        key: output_dir
  show_layers:
    description:
      - Whether the terminal report lists, below the table, the ids of failed and regenerated layers of each host.
      - The JSON and Markdown reports always list them (up to O(layer_id_limit)).
    type: bool
    default: true
    env:
      - name: MIGRATION_REPORT_SHOW_LAYERS
    ini:
      - section: callback_migration_report
        key: show_layers
  layer_id_limit:
    description:
      - Most layer ids kept per host in each list (failed layers, regenerated layers, id mismatches), in every output.
      - Ids beyond the limit are only counted (C(failed_layers_omitted), C(regenerated_layers_omitted), C(id_mismatches_omitted)).
      - V(0) keeps all of them.
    type: int
    default: 20
    env:
      - name: MIGRATION_REPORT_LAYER_ID_LIMIT
    ini:
      - section: callback_migration_report
        key: layer_id_limit
  sort_order:
    description:
      - Order of the host rows in the table and of the hosts in the JSON and Markdown reports.
      - V(slowest) and V(fastest) sort by C(total_seconds) as published by the role, or, for hosts without it, by the time spent hashing.
    type: str
    choices: [slowest, fastest, name]
    default: slowest
    env:
      - name: MIGRATION_REPORT_SORT_ORDER
    ini:
      - section: callback_migration_report
        key: sort_order
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = fleetops.docker_upgrade.migration_report
#
# [callback_migration_report]
# output_dir = reports/
# layer_id_limit = 50
#
# or, for one run:
# MIGRATION_REPORT_DIR=reports ANSIBLE_CALLBACKS_ENABLED=fleetops.docker_upgrade.migration_report ansible-playbook upgrade.yml
"""

import datetime
import functools
import json
import os
import tempfile
import time

from ansible.plugins.callback import CallbackBase


STATUSES = ('ok', 'failed', 'unreachable', 'skipped', 'rolled_back')
# Statuses the engine_upgrade role may publish in docker_upgrade_report.
ROLE_STATUSES = ('ok', 'skipped', 'failed', 'rolled_back')

# layer_checksums result keys that add up over several tasks (pre-migrate pass, catch-up pass, serial batches).
INT_COUNTERS = ('layers_computed', 'layers_cached', 'layers_repaired', 'layers_fallback', 'layers_failed', 'bytes_hashed')
FLOAT_COUNTERS = ('elapsed_seconds',)
# The module's plan (always returned); reported as planned numbers when the task ran in check mode.
PLANNED_INT = ('layers_pending', 'bytes_pending')
PLANNED_FLOAT = ('estimated_seconds',)
# docker_upgrade_report keys; the role computes them itself, so the latest value wins.
ROLE_SECONDS = ('premigrate_seconds', 'catchup_seconds', 'downtime_seconds', 'total_seconds')
ROLE_TEXT = ('engine_version_before', 'engine_version_after')

REPORT_FACT = 'docker_upgrade_report'
MODULE_NAME = 'layer_checksums'
JSON_NAME = 'migration-report.json'
MARKDOWN_NAME = 'migration-report.md'

# Keeps reasons short: they come from module and connection messages, which can be long.
REASON_MAX = 200
TEXT_MAX = 100


def _short(value, limit=REASON_MAX):
    """A one-line string of at most limit characters, or None."""
    if value is None:
        return None
    text = ' '.join(str(value).split())
    if len(text) > limit:
        text = text[:limit - 3] + '...'
    return text


def _as_int(value):
    """Module results may carry numbers as strings; anything unusable counts as 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def _as_float(value):
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def _maybe_float(value):
    """Like _as_float, but None and garbage stay None (unknown), so an unknown timing is not reported as 0."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _round(value, digits=3):
    return None if value is None else round(value, digits)


def _is_layer_checksums(action):
    # Accepts fleetops.docker_upgrade.layer_checksums, the short name, and the module under any other collection
    # or in a playbook's library/ directory.
    return isinstance(action, str) and action.rsplit('.', 1)[-1] == MODULE_NAME


def _task_actions(task):
    """The action as written in the play and, when ansible-core already resolved it, the resolved FQCN."""
    actions = [getattr(task, 'action', None)]
    # Read the resolved name from the instance: the ansible-core 2.19 resolved_action property emits a
    # warning when sampled for loop tasks, and 2.15 to 2.18 keep it as a plain attribute.
    state = getattr(task, '__dict__', {})
    actions.append(state.get('_resolved_action') or state.get('resolved_action'))
    return [action for action in actions if isinstance(action, str)]


def _result_host(result):
    # ansible-core 2.19 added the public host/task/result properties; older versions only have the underscored ones.
    return getattr(result, 'host', None) or result._host


def _is_fleet_host(result):
    """False for Ansible's implicit localhost (not in the inventory): controller-side plays such as molecule's
    create and destroy run there, and it is no host of the fleet. A localhost listed in the inventory counts."""
    return not getattr(_result_host(result), 'implicit', False)


def _fleet_hosts_only(record):
    """Decorates a FleetReport.record_* method: results of hosts outside the fleet are not recorded."""
    @functools.wraps(record)
    def record_fleet_host(self, result, *args, **kwargs):
        if _is_fleet_host(result):
            record(self, result, *args, **kwargs)
    return record_fleet_host


def _result_parts(result):
    """(host name, task, result dict) for a TaskResult of any supported ansible-core."""
    host = _result_host(result)
    task = getattr(result, 'task', None) or result._task
    data = getattr(result, 'result', None)
    if data is None:
        data = result._result
    return host.get_name(), task, data


def _task_name(task):
    try:
        return _short(task.get_name(), TEXT_MAX)
    except Exception:  # pylint: disable=broad-except
        return None


class HostReport:
    """Everything known about one host; only numbers, versions, ids and short reasons."""

    def __init__(self, name):
        self.name = name
        self.counters = dict((key, 0) for key in INT_COUNTERS)
        self.counters.update((key, 0.0) for key in FLOAT_COUNTERS)
        self.planned = dict((key, 0) for key in PLANNED_INT)
        self.planned.update((key, 0.0) for key in PLANNED_FLOAT)
        # sum(throughput_i * elapsed_i): divided by the summed elapsed time it gives the time-weighted
        # throughput in the module's own unit, equal to the module's value when there is one task.
        self.throughput_weight = 0.0
        self.last_throughput = None
        self.checksum_tasks = 0
        self.storage_driver = None
        # Layer id -> reason; dicts keep first-seen order and a later pass refreshes the reason.
        self.failed_layers = {}
        self.regenerated_layers = {}
        self.seconds = dict((key, None) for key in ROLE_SECONDS)
        self.text = dict((key, None) for key in ROLE_TEXT)
        self.role_status = None
        self.role_failure_reason = None
        self.id_mismatches = []
        self.ok = False
        self.skipped = False
        self.failed = False
        self.unreachable = False
        self.failed_task = None
        self.failure_reason = None

    @property
    def status(self):
        # Precedence agreed with the engine_upgrade role: unreachable stays unreachable; a rollback the role
        # reports wins over the failed task that caused it; any other non-ignored failure makes the host
        # failed; otherwise the role's own status, else skipped when nothing but skips happened.
        if self.unreachable:
            return 'unreachable'
        if self.role_status == 'rolled_back':
            return 'rolled_back'
        if self.failed:
            return 'failed'
        if self.role_status in ROLE_STATUSES:
            return self.role_status
        if self.skipped and not self.ok:
            return 'skipped'
        return 'ok'

    @property
    def throughput_mb_s(self):
        elapsed = self.counters['elapsed_seconds']
        if elapsed > 0:
            return self.throughput_weight / elapsed
        return self.last_throughput or 0.0

    @property
    def duration(self):
        """Sort key for slowest first: the role's total, else the time spent hashing."""
        if self.seconds['total_seconds'] is not None:
            return self.seconds['total_seconds']
        return self.counters['elapsed_seconds']

    def add_checksums(self, data, planned=False):
        self.checksum_tasks += 1
        for key in INT_COUNTERS:
            self.counters[key] += _as_int(data.get(key))
        for key in FLOAT_COUNTERS:
            self.counters[key] += _as_float(data.get(key))
        if planned:
            for key in PLANNED_INT:
                self.planned[key] += _as_int(data.get(key))
            for key in PLANNED_FLOAT:
                self.planned[key] += _as_float(data.get(key))
        if data.get('throughput_mb_s') is not None:
            throughput = _as_float(data.get('throughput_mb_s'))
            self.throughput_weight += throughput * _as_float(data.get('elapsed_seconds'))
            self.last_throughput = throughput
        if data.get('storage_driver'):
            self.storage_driver = _short(data['storage_driver'], TEXT_MAX)
        layers = data.get('layers')
        if isinstance(layers, list):
            for layer in layers:
                if isinstance(layer, dict) and layer.get('id'):
                    self._add_layer(layer)

    def _add_layer(self, layer):
        layer_id = _short(layer['id'], TEXT_MAX)
        if layer.get('error'):
            self.failed_layers.pop(layer_id, None)
            self.failed_layers[layer_id] = _short(layer['error']) or _short(layer.get('reason'))
        elif layer.get('source') == 'regenerated':
            self.regenerated_layers.pop(layer_id, None)
            self.regenerated_layers[layer_id] = _short(layer.get('reason'))

    def add_role_report(self, report):
        for key in ROLE_SECONDS:
            if key in report:
                self.seconds[key] = _maybe_float(report[key])
        for key in ROLE_TEXT:
            if key in report:
                self.text[key] = _short(report[key], TEXT_MAX)
        if report.get('status') in ROLE_STATUSES:
            self.role_status = report['status']
        if 'failure_reason' in report:
            self.role_failure_reason = _short(report['failure_reason'])
        if isinstance(report.get('id_mismatches'), list):
            self.id_mismatches = [_mismatch(item) for item in report['id_mismatches']]

    def as_dict(self, limit):
        """The host's JSON entry; limit caps every id list (0: no cap)."""
        entry = {'status': self.status}
        entry.update(self.counters)
        entry['elapsed_seconds'] = _round(entry['elapsed_seconds'])
        entry['throughput_mb_s'] = _round(self.throughput_mb_s)
        entry['checksum_tasks'] = self.checksum_tasks
        entry['storage_driver'] = self.storage_driver
        entry.update((key, _round(value)) for key, value in self.seconds.items())
        entry.update(self.text)
        entry['layers_pending'] = self.planned['layers_pending']
        entry['bytes_pending'] = self.planned['bytes_pending']
        entry['estimated_seconds'] = _round(self.planned['estimated_seconds'])
        for key, layers in (('failed_layers', self.failed_layers), ('regenerated_layers', self.regenerated_layers)):
            listed = [{'id': layer_id, 'reason': reason} for layer_id, reason in layers.items()]
            entry[key], entry[key + '_omitted'] = _cap(listed, limit)
        entry['id_mismatches'], entry['id_mismatches_omitted'] = _cap(self.id_mismatches, limit)
        entry['failed_task'] = self.failed_task
        entry['failure_reason'] = self.role_failure_reason or self.failure_reason
        return entry


def _mismatch(item):
    # The role's id_mismatches entries are ids or small dicts; keep only short, known fields.
    if isinstance(item, dict):
        return dict((key, _short(item[key], TEXT_MAX)) for key in ('id', 'image', 'expected', 'actual', 'reason') if item.get(key) is not None)
    return _short(item, TEXT_MAX)


def _cap(items, limit):
    if limit and len(items) > limit:
        return items[:limit], len(items) - limit
    return items, 0


class FleetReport:
    """Aggregates task results per host over a whole ansible-playbook run and renders the report.

    State is keyed by host and only ever added to, so the same task running for other hosts in later
    serial batches, or several layer_checksums tasks for one host, accumulate instead of overwriting.
    """

    def __init__(self, layer_id_limit=20, sort_order='slowest'):
        self.hosts = {}
        self.layer_id_limit = layer_id_limit
        self.sort_order = sort_order
        self.started = None
        self.finished = None
        self._start_clock = None
        self.wall_seconds = None
        self.check_mode = False

    def host(self, name):
        if name not in self.hosts:
            self.hosts[name] = HostReport(name)
        return self.hosts[name]

    # -- timing --------------------------------------------------------------------------------

    def start(self, now=None):
        # Several playbooks on one command line each send v2_playbook_on_start; the run starts at the first.
        if self.started is None:
            self.started = now or datetime.datetime.now(datetime.timezone.utc)
            self._start_clock = time.monotonic()

    def finish(self, now=None):
        self.finished = now or datetime.datetime.now(datetime.timezone.utc)
        if self._start_clock is not None:
            self.wall_seconds = time.monotonic() - self._start_clock
        elif self.started is not None:
            self.wall_seconds = (self.finished - self.started).total_seconds()

    # -- task results ----------------------------------------------------------------------------

    @_fleet_hosts_only
    def record_ok(self, result):
        name, task, data = _result_parts(result)
        host = self.host(name)
        host.ok = True
        self._collect(host, task, data)

    @_fleet_hosts_only
    def record_failed(self, result, ignore_errors=False):
        name, task, data = _result_parts(result)
        host = self.host(name)
        if ignore_errors:
            # An ignored failure does not fail the host (ansible counts it as ok and ignored).
            host.ok = True
        else:
            host.failed = True
            host.failed_task = _task_name(task)
            host.failure_reason = _reason(data)
        # A failing layer_checksums run may still report what it hashed and which layers failed.
        self._collect(host, task, data, facts=False)

    @_fleet_hosts_only
    def record_skipped(self, result):
        name, dummy, dummy = _result_parts(result)
        self.host(name).skipped = True

    @_fleet_hosts_only
    def record_unreachable(self, result):
        name, task, data = _result_parts(result)
        host = self.host(name)
        if getattr(task, 'ignore_unreachable', False):
            host.ok = True
            return
        host.unreachable = True
        host.failed_task = _task_name(task)
        host.failure_reason = _reason(data)

    def _collect(self, host, task, data, facts=True):
        # A loop task arrives once, with one result per item in 'results'.
        items = data.get('results') if isinstance(data.get('results'), list) else [data]
        items = [item for item in items if isinstance(item, dict)]
        actions = _task_actions(task)
        checksums = any(_is_layer_checksums(action) for action in actions)
        polled = any(action.rsplit('.', 1)[-1] == 'async_status' for action in actions)
        # --check, or check_mode: true on the task; the module's plan keys alone do not tell (it always returns them).
        planned = getattr(task, 'check_mode', None) is True
        for item in items:
            if checksums or (polled and _is_finished_checksums(item)):
                self.check_mode = self.check_mode or planned
                host.add_checksums(item, planned)
            facts_dict = item.get('ansible_facts')
            if facts and isinstance(facts_dict, dict) and isinstance(facts_dict.get(REPORT_FACT), dict):
                host.add_role_report(facts_dict[REPORT_FACT])

    # -- report ----------------------------------------------------------------------------------

    def sorted_hosts(self):
        hosts = sorted(self.hosts.values(), key=lambda host: host.name)
        if self.sort_order == 'slowest':
            hosts.sort(key=lambda host: host.duration, reverse=True)
        elif self.sort_order == 'fastest':
            hosts.sort(key=lambda host: host.duration)
        return hosts

    def as_dict(self):
        hosts = dict((host.name, host.as_dict(self.layer_id_limit)) for host in self.sorted_hosts())
        totals = {}
        for key in INT_COUNTERS + PLANNED_INT + ('checksum_tasks',):
            totals[key] = sum(entry[key] for entry in hosts.values())
        for key in FLOAT_COUNTERS + PLANNED_FLOAT + ROLE_SECONDS:
            totals[key] = _round(sum(_raw_seconds(host, key) for host in self.hosts.values()))
        # Aggregate throughput: all hashing weighted by time spent, in the module's unit (see HostReport).
        elapsed = sum(host.counters['elapsed_seconds'] for host in self.hosts.values())
        weight = sum(host.throughput_weight for host in self.hosts.values())
        totals['throughput_mb_s'] = _round(weight / elapsed) if elapsed > 0 else 0.0
        totals['hosts'] = len(hosts)
        for status in STATUSES:
            totals['hosts_' + status] = sum(1 for entry in hosts.values() if entry['status'] == status)
        longest = None
        for host in self.hosts.values():
            downtime = host.seconds['downtime_seconds']
            if downtime is not None and (longest is None or downtime > longest.seconds['downtime_seconds']):
                longest = host
        totals['longest_downtime_seconds'] = _round(longest.seconds['downtime_seconds']) if longest else None
        totals['longest_downtime_host'] = longest.name if longest else None
        totals['wall_seconds'] = _round(self.wall_seconds)
        return {
            'hosts': hosts,
            'totals': totals,
            'started': _iso(self.started),
            'finished': _iso(self.finished),
            'check_mode': self.check_mode,
        }

    def table(self, report=None):
        """Header and rows (lists of strings) shared by the terminal and the Markdown table."""
        report = report or self.as_dict()
        planned = report['check_mode']
        header = ['host', 'status', 'computed', 'cached', 'repaired', 'fallback', 'failed', 'hashed', 'hash s', 'MB/s']
        if planned:
            header += ['pending', 'pending bytes', 'est. s']
        header += ['premigrate s', 'catchup s', 'downtime s', 'total s', 'engine']
        rows = []
        for name, entry in report['hosts'].items():
            row = [name, entry['status']]
            row += [str(entry[key]) for key in ('layers_computed', 'layers_cached', 'layers_repaired', 'layers_fallback', 'layers_failed')]
            row += [_bytes(entry['bytes_hashed']), _secs(entry['elapsed_seconds']), '%.1f' % entry['throughput_mb_s']]
            if planned:
                row += [str(entry['layers_pending']), _bytes(entry['bytes_pending']), _secs(entry['estimated_seconds'])]
            row += [_secs(entry[key]) for key in ROLE_SECONDS]
            row.append(_engine(entry))
            rows.append(row)
        return header, rows

    def summary_lines(self, report=None):
        """The fleet totals as plain lines."""
        report = report or self.as_dict()
        totals = report['totals']
        by_status = ', '.join('%s %d' % (status, totals['hosts_' + status]) for status in STATUSES)
        lines = [
            'hosts: %d (%s)' % (totals['hosts'], by_status),
            'layers: computed %d, cached %d, repaired %d, fallback %d, failed %d' % tuple(
                totals[key] for key in ('layers_computed', 'layers_cached', 'layers_repaired', 'layers_fallback', 'layers_failed')),
            'hashed: %s (%d bytes) in %s s of hashing, aggregate %.1f MB/s' % (
                _bytes(totals['bytes_hashed']), totals['bytes_hashed'], _secs(totals['elapsed_seconds']), totals['throughput_mb_s']),
        ]
        if report['check_mode']:
            lines.append('planned (check mode): %d layers pending, %s (%d bytes), estimated %s s' % (
                totals['layers_pending'], _bytes(totals['bytes_pending']), totals['bytes_pending'], _secs(totals['estimated_seconds'])))
        if totals['longest_downtime_host'] is not None:
            lines.append('longest downtime: %s s (%s)' % (_secs(totals['longest_downtime_seconds']), totals['longest_downtime_host']))
        else:
            lines.append('longest downtime: -')
        lines.append('wall time: %s (%s s), started %s, finished %s' % (
            _clock(totals['wall_seconds']), _secs(totals['wall_seconds']), report['started'] or '-', report['finished'] or '-'))
        return lines

    def layer_lines(self, report=None):
        """Failed and regenerated layers, then id mismatches, per host."""
        report = report or self.as_dict()
        lines = []
        for name, entry in report['hosts'].items():
            for key, label in (('failed_layers', 'failed layer'), ('regenerated_layers', 'regenerated layer')):
                for layer in entry[key]:
                    lines.append('%s: %s %s (%s)' % (name, label, layer['id'], layer['reason'] or 'no reason given'))
                if entry[key + '_omitted']:
                    lines.append('%s: ... and %d more %ss' % (name, entry[key + '_omitted'], label))
            for mismatch in entry['id_mismatches']:
                lines.append('%s: id mismatch %s' % (name, json.dumps(mismatch, sort_keys=True) if isinstance(mismatch, dict) else mismatch))
            if entry['id_mismatches_omitted']:
                lines.append('%s: ... and %d more id mismatches' % (name, entry['id_mismatches_omitted']))
        return lines

    def render_text(self, report=None, show_layers=True):
        report = report or self.as_dict()
        header, rows = self.table(report)
        widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
        # Names and words left-aligned, numbers right-aligned.
        left = (0, 1, len(header) - 1)

        def line(cells):
            return '  '.join(cell.ljust(widths[i]) if i in left else cell.rjust(widths[i]) for i, cell in enumerate(cells)).rstrip()

        lines = [line(header), line(['-' * width for width in widths])]
        lines += [line(row) for row in rows]
        lines.append('')
        lines += ['fleet ' + text for text in self.summary_lines(report)]
        if show_layers:
            layer_lines = self.layer_lines(report)
            if layer_lines:
                lines.append('')
                lines += layer_lines
        return lines

    def render_markdown(self, report=None):
        report = report or self.as_dict()
        header, rows = self.table(report)
        lines = [
            '# Docker 1.10 migration report',
            '',
            '- Started: %s' % (report['started'] or '-'),
            '- Finished: %s' % (report['finished'] or '-'),
            '- Check mode: %s' % ('yes (planned numbers only)' if report['check_mode'] else 'no'),
            '',
            '## Hosts',
            '',
            '| ' + ' | '.join(header) + ' |',
            '|' + '|'.join('---' if i in (0, 1, len(header) - 1) else '--:' for i in range(len(header))) + '|',
        ]
        lines += ['| ' + ' | '.join(_md(cell) for cell in row) + ' |' for row in rows]
        lines += ['', '## Fleet totals', '']
        lines += ['- ' + _md(text) for text in self.summary_lines(report)]
        layer_lines = self.layer_lines(report)
        if layer_lines:
            lines += ['', '## Layers', '']
            lines += ['- ' + _md(text) for text in layer_lines]
        lines.append('')
        return '\n'.join(lines)

    def write(self, directory, report=None):
        """Write the JSON and Markdown reports; returns their paths."""
        report = report or self.as_dict()
        os.makedirs(directory, exist_ok=True)
        paths = []
        for name, text in ((JSON_NAME, json.dumps(report, indent=2) + '\n'), (MARKDOWN_NAME, self.render_markdown(report))):
            path = os.path.join(directory, name)
            _write_atomically(path, text)
            paths.append(path)
        return paths


def _is_finished_checksums(item):
    # async_status of a layer_checksums job: the module's keys are there once the job finished.
    return bool(item.get('finished')) and 'layers_computed' in item and 'bytes_hashed' in item


def _reason(data):
    if data.get('censored'):
        return 'output hidden (no_log)'
    return _short(data.get('msg')) or _short(data.get('reason'))


def _raw_seconds(host, key):
    if key in host.counters:
        return host.counters[key]
    if key in host.planned:
        return host.planned[key]
    return host.seconds[key] or 0.0


def _iso(moment):
    return moment.isoformat(timespec='seconds') if moment else None


def _bytes(count):
    # Decimal units, like the module's MB/s.
    value, unit = float(count), 'B'
    for bigger in ('kB', 'MB', 'GB', 'TB'):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return '%d B' % count if unit == 'B' else '%.1f %s' % (value, unit)


def _secs(value):
    return '-' if value is None else '%.1f' % value


def _clock(value):
    if value is None:
        return '-'
    seconds = int(round(value))
    return '%d:%02d:%02d' % (seconds // 3600, seconds % 3600 // 60, seconds % 60)


def _engine(entry):
    before, after = entry['engine_version_before'], entry['engine_version_after']
    if before is None and after is None:
        return '-'
    return '%s -> %s' % (before or '?', after or '?')


def _md(text):
    return str(text).replace('\\', '\\\\').replace('|', '\\|')


def _write_atomically(path, text):
    # A reader (CI artifact upload, a dashboard) never sees a half-written report.
    handle, tmp_path = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=os.path.dirname(path) or '.')
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as stream:
            stream.write(text)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise


class CallbackModule(CallbackBase):
    """Aggregate callback: feeds task results into a FleetReport and prints and writes it at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'fleetops.docker_upgrade.migration_report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self.report = FleetReport()
        self.output_dir = None
        self.show_layers = True

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self.output_dir = self.get_option('output_dir')
        self.show_layers = self.get_option('show_layers')
        self.report.layer_id_limit = max(0, int(self.get_option('layer_id_limit')))
        self.report.sort_order = self.get_option('sort_order')

    def v2_playbook_on_start(self, playbook):
        self.report.start()

    def v2_runner_on_ok(self, result):
        self.report.record_ok(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self.report.record_failed(result, ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self.report.record_skipped(result)

    def v2_runner_on_unreachable(self, result):
        self.report.record_unreachable(result)

    def v2_playbook_on_stats(self, stats):
        self.report.finish()
        report = self.report.as_dict()
        if not report['hosts']:
            # A controller-only playbook (molecule's create or destroy): an empty report would only replace
            # the last real one in output_dir.
            self._display.display('migration_report: no fleet host ran a task in this playbook; nothing reported')
            return
        self._display.banner('MIGRATION REPORT')
        for line in self.report.render_text(report, show_layers=self.show_layers):
            self._display.display(line)
        if self.output_dir:
            try:
                paths = self.report.write(self.output_dir, report)
            except (OSError, ValueError) as error:
                self._display.warning('migration_report: could not write the report to %s: %s' % (self.output_dir, error))
            else:
                self._display.display('report written to %s' % ', '.join(paths))
