# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Aggregates task results per host over a whole ansible-playbook run into the report dict."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import functools
import time

from . import task_results
from .host_report import (FLOAT_COUNTERS, INT_COUNTERS, PLANNED_FLOAT, PLANNED_INT, ROLE_SECONDS, STATUSES,
                          HostReport)
from .phases import phase_of_task
from .values import rounded

REPORT_FACT = 'docker_upgrade_report'


def _fleet_hosts_only(record):
    """Decorates a FleetReport.record_* method: results of hosts outside the fleet are not recorded."""
    @functools.wraps(record)
    def record_fleet_host(self, result, *args, **kwargs):
        if task_results.is_fleet_host(task_results.result_host(result)):
            record(self, result, *args, **kwargs)
    return record_fleet_host


class FleetReport:
    """Aggregates task results per host over a whole ansible-playbook run.

    State is keyed by host and only ever added to, so the same task running for other hosts in later
    serial batches, or several layer_checksums tasks for one host, accumulate instead of overwriting.
    """

    def __init__(self, layer_id_limit=20, sort_order='slowest', clock=time.time):
        self.hosts = {}
        self.layer_id_limit = layer_id_limit
        self.sort_order = sort_order
        # Epoch seconds of the task events, on the controller's clock (the phase timeline's axis).
        self.clock = clock
        self.started = None
        self.finished = None
        self._start_clock = None
        self.wall_seconds = None
        self.check_mode = False
        # (host, task uuid) -> when the task started on the host; a play's serial batch number by play name.
        self._task_starts = {}
        self._play_batches = {}
        self._batch = None

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

    def start_play(self, play_name):
        # ansible-playbook announces a play once per serial batch, so counting announcements gives the batch.
        self._play_batches[play_name] = self._play_batches.get(play_name, 0) + 1
        self._batch = self._play_batches[play_name]

    def start_task(self, host, task):
        """A task starts on a host (v2_runner_on_start), or on every host of the play when host is None."""
        if host is None or task_results.is_fleet_host(host):
            self._task_starts[(host.get_name() if host else None, task_results.task_uuid(task))] = self.clock()

    def _time_task(self, host, task):
        """Adds the task's run on the host to the host's phases when the task belongs to a phase of the role."""
        uuid = task_results.task_uuid(task)
        start = self._task_starts.pop((host.name, uuid), None)
        if start is None:
            start = self._task_starts.get((None, uuid))
        phase = phase_of_task(task_results.include_chain(task))
        if start is not None and phase is not None:
            host.add_task_timing(phase, start, max(start, self.clock()))

    # -- task results ----------------------------------------------------------------------------

    def _seen(self, name):
        # A host's batch is that of the last play it ran a task in: the rolling upgrade after any pre-migrate play.
        host = self.host(name)
        host.seen_batch = self._batch or host.seen_batch
        return host

    @_fleet_hosts_only
    def record_ok(self, result):
        name, task, data = task_results.result_parts(result)
        host = self._seen(name)
        host.ok = True
        self._time_task(host, task)
        self._collect(host, task, data)

    @_fleet_hosts_only
    def record_failed(self, result, ignore_errors=False):
        name, task, data = task_results.result_parts(result)
        host = self._seen(name)
        self._time_task(host, task)
        if ignore_errors:
            # An ignored failure does not fail the host (ansible counts it as ok and ignored).
            host.ok = True
        else:
            host.failed = True
            host.failed_task = task_results.task_name(task)
            host.failure_reason = task_results.failure_reason(data)
        # A failing layer_checksums run may still report what it hashed and which layers failed.
        self._collect(host, task, data, facts=False)

    @_fleet_hosts_only
    def record_skipped(self, result):
        name, task, dummy = task_results.result_parts(result)
        # Skipped tasks take no time worth a bar; their start is dropped so it is not kept for the whole run.
        self._task_starts.pop((name, task_results.task_uuid(task)), None)
        self._seen(name).skipped = True

    @_fleet_hosts_only
    def record_unreachable(self, result):
        name, task, data = task_results.result_parts(result)
        host = self._seen(name)
        self._task_starts.pop((name, task_results.task_uuid(task)), None)
        if getattr(task, 'ignore_unreachable', False):
            host.ok = True
            return
        host.unreachable = True
        host.failed_task = task_results.task_name(task)
        host.failure_reason = task_results.failure_reason(data)

    def _collect(self, host, task, data, facts=True):
        # A loop task arrives once, with one result per item in 'results'.
        items = data.get('results') if isinstance(data.get('results'), list) else [data]
        items = [item for item in items if isinstance(item, dict)]
        actions = task_results.task_actions(task)
        checksums = any(task_results.is_layer_checksums(action) for action in actions)
        polled = any(task_results.is_async_status(action) for action in actions)
        # --check, or check_mode: true on the task; the module's plan keys alone do not tell (it always returns them).
        planned = getattr(task, 'check_mode', None) is True
        for item in items:
            if checksums or (polled and task_results.is_finished_checksums(item)):
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
            totals[key] = rounded(sum(_raw_seconds(host, key) for host in self.hosts.values()))
        # Aggregate throughput: all hashing weighted by time spent, in the module's unit (see HostReport).
        elapsed = sum(host.counters['elapsed_seconds'] for host in self.hosts.values())
        weight = sum(host.throughput_weight for host in self.hosts.values())
        totals['throughput_mb_s'] = rounded(weight / elapsed) if elapsed > 0 else 0.0
        totals['hosts'] = len(hosts)
        for status in STATUSES:
            totals['hosts_' + status] = sum(1 for entry in hosts.values() if entry['status'] == status)
        longest = None
        for host in self.hosts.values():
            downtime = host.seconds['downtime_seconds']
            if downtime is not None and (longest is None or downtime > longest.seconds['downtime_seconds']):
                longest = host
        totals['longest_downtime_seconds'] = rounded(longest.seconds['downtime_seconds']) if longest else None
        totals['longest_downtime_host'] = longest.name if longest else None
        totals['batches'] = max([entry['batch'] for entry in hosts.values() if entry['batch']] or [0])
        totals['wall_seconds'] = rounded(self.wall_seconds)
        return {
            'hosts': hosts,
            'totals': totals,
            'started': _iso(self.started),
            'finished': _iso(self.finished),
            'check_mode': self.check_mode,
        }


def _raw_seconds(host, key):
    if key in host.counters:
        return host.counters[key]
    if key in host.planned:
        return host.planned[key]
    return host.seconds[key] or 0.0


def _iso(moment):
    return moment.isoformat(timespec='seconds') if moment else None
