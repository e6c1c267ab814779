# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Everything known about one host over a run: layer counters, the role's timings, phases and status."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from . import phases as window
from .values import TEXT_MAX, as_float, as_int, maybe_float, rounded, short_text

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
# Downtimes the role may measure itself; without them they are derived from the phases.
DOWNTIME_KEYS = ('api_downtime_seconds', 'container_downtime_seconds')


class HostReport:
    """Only numbers, versions, ids, phase times and short reasons; never whole task results."""

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
        self.downtimes = dict((key, None) for key in DOWNTIME_KEYS)
        self.text = dict((key, None) for key in ROLE_TEXT)
        self.role_status = None
        self.role_failure_reason = None
        self.id_mismatches = []
        # Phases as the role published them (preferred), and as derived from the role's task times.
        self.role_phases = None
        self.task_phases = []
        # The role's batch number, else the serial batch of the last play the host ran a task in.
        self.role_batch = None
        self.seen_batch = None
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

    @property
    def phases(self):
        return self.role_phases if self.role_phases else self.task_phases

    @property
    def api_downtime_seconds(self):
        # The role's own measure first; its downtime_seconds is the API downtime (stop until the API answers).
        for value in (self.downtimes['api_downtime_seconds'], self.seconds['downtime_seconds']):
            if value is not None:
                return value
        return window.span_seconds(self.phases, 'stop', ('start',))

    @property
    def container_downtime_seconds(self):
        if self.downtimes['container_downtime_seconds'] is not None:
            return self.downtimes['container_downtime_seconds']
        return window.span_seconds(self.phases, 'stop', ('start', 'containers'))

    def add_checksums(self, data, planned=False):
        self.checksum_tasks += 1
        for key in INT_COUNTERS:
            self.counters[key] += as_int(data.get(key))
        for key in FLOAT_COUNTERS:
            self.counters[key] += as_float(data.get(key))
        if planned:
            for key in PLANNED_INT:
                self.planned[key] += as_int(data.get(key))
            for key in PLANNED_FLOAT:
                self.planned[key] += as_float(data.get(key))
        if data.get('throughput_mb_s') is not None:
            throughput = as_float(data.get('throughput_mb_s'))
            self.throughput_weight += throughput * as_float(data.get('elapsed_seconds'))
            self.last_throughput = throughput
        if data.get('storage_driver'):
            self.storage_driver = short_text(data['storage_driver'], TEXT_MAX)
        layers = data.get('layers')
        if isinstance(layers, list):
            for layer in layers:
                if isinstance(layer, dict) and layer.get('id'):
                    self._add_layer(layer)

    def _add_layer(self, layer):
        layer_id = short_text(layer['id'], TEXT_MAX)
        if layer.get('error'):
            self.failed_layers.pop(layer_id, None)
            self.failed_layers[layer_id] = short_text(layer['error']) or short_text(layer.get('reason'))
        elif layer.get('source') == 'regenerated':
            self.regenerated_layers.pop(layer_id, None)
            self.regenerated_layers[layer_id] = short_text(layer.get('reason'))

    def add_task_timing(self, phase, start, end):
        window.add_task_timing(self.task_phases, phase, start, end)

    def add_role_report(self, report):
        for key in ROLE_SECONDS:
            if key in report:
                self.seconds[key] = maybe_float(report[key])
        for key in DOWNTIME_KEYS:
            if key in report:
                self.downtimes[key] = maybe_float(report[key])
        for key in ROLE_TEXT:
            if key in report:
                self.text[key] = short_text(report[key], TEXT_MAX)
        if report.get('status') in ROLE_STATUSES:
            self.role_status = report['status']
        if 'failure_reason' in report:
            self.role_failure_reason = short_text(report['failure_reason'])
        if isinstance(report.get('id_mismatches'), list):
            self.id_mismatches = [_mismatch(item) for item in report['id_mismatches']]
        if 'phases' in report:
            self.role_phases = window.role_phases(report['phases'])
        if as_int(report.get('batch')) > 0:
            self.role_batch = as_int(report['batch'])

    def as_dict(self, limit):
        """The host's JSON entry; limit caps every id list (0: no cap)."""
        entry = {'status': self.status}
        entry.update(self.counters)
        entry['elapsed_seconds'] = rounded(entry['elapsed_seconds'])
        entry['throughput_mb_s'] = rounded(self.throughput_mb_s)
        entry['checksum_tasks'] = self.checksum_tasks
        entry['storage_driver'] = self.storage_driver
        entry.update((key, rounded(value)) for key, value in self.seconds.items())
        entry.update(self.text)
        entry['layers_pending'] = self.planned['layers_pending']
        entry['bytes_pending'] = self.planned['bytes_pending']
        entry['estimated_seconds'] = rounded(self.planned['estimated_seconds'])
        for key, layers in (('failed_layers', self.failed_layers), ('regenerated_layers', self.regenerated_layers)):
            listed = [{'id': layer_id, 'reason': reason} for layer_id, reason in layers.items()]
            entry[key], entry[key + '_omitted'] = _cap(listed, limit)
        entry['id_mismatches'], entry['id_mismatches_omitted'] = _cap(self.id_mismatches, limit)
        entry['failed_task'] = self.failed_task
        entry['failure_reason'] = self.role_failure_reason or self.failure_reason
        entry['batch'] = self.role_batch or self.seen_batch
        entry['api_downtime_seconds'] = rounded(self.api_downtime_seconds)
        entry['container_downtime_seconds'] = rounded(self.container_downtime_seconds)
        entry['phases'] = window.as_entries(self.phases)
        entry['phase_seconds'] = window.seconds_per_phase(self.phases)
        entry['phases_from'] = 'role' if self.role_phases else ('tasks' if self.task_phases else None)
        return entry


def _mismatch(item):
    # The role's id_mismatches entries are ids or small dicts; keep only short, known fields.
    if isinstance(item, dict):
        return dict((key, short_text(item[key], TEXT_MAX)) for key in ('id', 'image', 'expected', 'actual', 'reason') if item.get(key) is not None)
    return short_text(item, TEXT_MAX)


def _cap(items, limit):
    if limit and len(items) > limit:
        return items[:limit], len(items) - limit
    return items, 0
