# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host table and the lines of totals, layers and phases that the terminal, Markdown and HTML reports share."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

from . import formatting as fmt
from .host_report import ROLE_SECONDS, STATUSES
from .phases import LABELS

LAYER_COUNTERS = ('layers_computed', 'layers_cached', 'layers_repaired', 'layers_fallback', 'layers_failed')
# Column indexes left-aligned in the terminal and Markdown tables (names and words); the others are numbers.
TEXT_COLUMNS = ('host', 'status', 'engine')


def table(report):
    """Header and rows (lists of strings), hosts in the report's order."""
    planned = report['check_mode']
    header = ['host', 'status', 'computed', 'cached', 'repaired', 'fallback', 'failed', 'hashed', 'hash s', 'MB/s']
    if planned:
        header += ['pending', 'pending bytes', 'est. s']
    header += ['premigrate s', 'catchup s', 'downtime s', 'total s', 'API down s', 'ctr down s', 'batch', 'engine']
    rows = []
    for name, entry in report['hosts'].items():
        row = [name, entry['status']]
        row += [str(entry[key]) for key in LAYER_COUNTERS]
        row += [fmt.size(entry['bytes_hashed']), fmt.seconds(entry['elapsed_seconds']), '%.1f' % entry['throughput_mb_s']]
        if planned:
            row += [str(entry['layers_pending']), fmt.size(entry['bytes_pending']), fmt.seconds(entry['estimated_seconds'])]
        row += [fmt.seconds(entry[key]) for key in ROLE_SECONDS]
        row += [fmt.seconds(entry['api_downtime_seconds']), fmt.seconds(entry['container_downtime_seconds'])]
        row += [fmt.batch(entry['batch']), fmt.engine(entry)]
        rows.append(row)
    return header, rows


def summary_lines(report):
    """The fleet totals as plain lines."""
    totals = report['totals']
    by_status = ', '.join('%s %d' % (status, totals['hosts_' + status]) for status in STATUSES)
    lines = [
        'hosts: %d (%s)' % (totals['hosts'], by_status),
        'layers: computed %d, cached %d, repaired %d, fallback %d, failed %d' % tuple(totals[key] for key in LAYER_COUNTERS),
        'hashed: %s (%d bytes) in %s s of hashing, aggregate %.1f MB/s' % (
            fmt.size(totals['bytes_hashed']), totals['bytes_hashed'], fmt.seconds(totals['elapsed_seconds']), totals['throughput_mb_s']),
    ]
    if report['check_mode']:
        lines.append('planned (check mode): %d layers pending, %s (%d bytes), estimated %s s' % (
            totals['layers_pending'], fmt.size(totals['bytes_pending']), totals['bytes_pending'], fmt.seconds(totals['estimated_seconds'])))
    if totals['longest_downtime_host'] is not None:
        lines.append('longest downtime: %s s (%s)' % (fmt.seconds(totals['longest_downtime_seconds']), totals['longest_downtime_host']))
    else:
        lines.append('longest downtime: -')
    lines.append('wall time: %s (%s s), started %s, finished %s' % (
        fmt.clock(totals['wall_seconds']), fmt.seconds(totals['wall_seconds']), report['started'] or '-', report['finished'] or '-'))
    return lines


def layer_lines(report):
    """Failed and regenerated layers, then id mismatches, per host."""
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


def phase_breakdown(entry):
    """'pre-migrate 3.1 s, stop 0.4 s, ...' for one host, in runbook order, or None without phases."""
    if not entry['phase_seconds']:
        return None
    return ', '.join('%s %s s' % (LABELS[name], fmt.seconds(value)) for name, value in entry['phase_seconds'].items())


def phase_lines(report):
    """One line per host with phases: the seconds spent in each."""
    lines = []
    for name, entry in report['hosts'].items():
        breakdown = phase_breakdown(entry)
        if breakdown:
            lines.append('%s: %s' % (name, breakdown))
    return lines


def problem_lines(report):
    """Why each failed, rolled-back or unreachable host is so."""
    lines = []
    for name, entry in report['hosts'].items():
        if entry['status'] in ('failed', 'rolled_back', 'unreachable'):
            where = ' in task "%s"' % entry['failed_task'] if entry['failed_task'] else ''
            lines.append('%s: %s%s: %s' % (name, entry['status'], where, entry['failure_reason'] or 'no reason given'))
    return lines
