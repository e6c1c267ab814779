# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The maintenance window as an inline SVG: one row per host on a shared time axis, one bar per phase.

Each bar's x and width are in proportion to its start and seconds (the bars carry data-phase,
data-start and data-seconds, so a test or a reader's tool can check them against the JSON report).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import html
import math

from . import formatting as fmt
from .phases import LABELS, PHASES

LABEL_WIDTH = 190
AXIS_WIDTH = 760
# Room right of the axis for the last bar's downtime label.
RIGHT_MARGIN = 110
ROW_HEIGHT = 26
BAR_HEIGHT = 16
# The extra line under a failed, rolled-back or unreachable host holds its reason.
REASON_HEIGHT = 16
TOP = 30
PROBLEM_STATUSES = ('failed', 'rolled_back', 'unreachable')
COLOURS = {
    'premigrate': '#7f9cc9', 'drain': '#9ccc65', 'record': '#4db6ac', 'stop': '#d32f2f', 'catchup': '#ef6c00',
    'package': '#f9a825', 'offline_migration': '#8d6e63', 'start': '#c2185b', 'containers': '#ba68c8',
    'verify': '#1e88e5', 'rollback': '#5e35b1',
}


def _attr(value):
    return html.escape(str(value), quote=True)


def _nice_step(span):
    """A tick step of 1, 2 or 5 times a power of ten giving about six ticks."""
    raw = max(span / 6.0, 1e-3)
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5):
        if magnitude * factor >= raw:
            return magnitude * factor
    return magnitude * 10


def _rows(report):
    """Hosts in batch order, then by when they started, hosts without phases last."""
    def key(item):
        name, entry = item
        first = entry['phases'][0]['start'] if entry['phases'] else float('inf')
        return (entry['batch'] or 0, first, name)
    return sorted(report['hosts'].items(), key=key)


def _axis(origin, span, bottom):
    step = _nice_step(span)
    parts = []
    tick = 0.0
    while tick <= span + 1e-9:
        x = LABEL_WIDTH + tick / span * AXIS_WIDTH
        parts.append('<line class="tick" x1="%.3f" y1="%d" x2="%.3f" y2="%d"/>' % (x, TOP - 6, x, bottom))
        parts.append('<text class="tick-label" x="%.3f" y="%d" text-anchor="middle">+%s</text>' % (x, TOP - 10, _offset(tick)))
        tick += step
    moment = datetime.datetime.fromtimestamp(origin, datetime.timezone.utc).strftime('%H:%M:%S UTC')
    parts.append('<text class="axis-origin" x="%d" y="%d" text-anchor="end">%s</text>' % (LABEL_WIDTH - 18, TOP - 10, moment))
    return parts


def _offset(seconds):
    text = '%g' % round(seconds % 60, 3)
    if seconds >= 60:
        return '%d:%s%s' % (seconds // 60, '0' if seconds % 60 < 10 else '', text)
    return text + 's'


def _row(name, entry, y, origin, scale):
    status = entry['status']
    problem = status in PROBLEM_STATUSES
    height = ROW_HEIGHT + (REASON_HEIGHT if problem else 0)
    parts = ['<g class="timeline-row status-%s" data-host="%s" data-status="%s" data-batch="%s">' % (
        _attr(status), _attr(name), _attr(status), _attr(entry['batch'] or ''))]
    if problem:
        parts.append('<rect class="problem-band" x="0" y="%d" width="%d" height="%d"/>' % (
            y, LABEL_WIDTH + AXIS_WIDTH + RIGHT_MARGIN, height))
    parts.append('<text class="host-label" x="4" y="%d">%s</text>' % (y + 17, html.escape(name)))
    parts.append('<text class="batch-label" x="%d" y="%d" text-anchor="end">batch %s</text>' % (
        LABEL_WIDTH - 8, y + 17, html.escape(fmt.batch(entry['batch']))))
    for phase in entry['phases']:
        x = LABEL_WIDTH + (phase['start'] - origin) * scale
        parts.append(
            '<rect class="phase phase-%s" data-phase="%s" data-start="%s" data-seconds="%s" x="%.3f" y="%d" width="%.3f" '
            'height="%d" fill="%s"><title>%s: %s: %s s</title></rect>' % (
                phase['name'], phase['name'], phase['start'], phase['seconds'], x, y + (ROW_HEIGHT - BAR_HEIGHT) // 2,
                phase['seconds'] * scale, BAR_HEIGHT, COLOURS[phase['name']], html.escape(name), LABELS[phase['name']],
                fmt.seconds(phase['seconds'])))
    if entry['phases']:
        end = LABEL_WIDTH + (max(phase['end'] for phase in entry['phases']) - origin) * scale
        parts.append('<text class="downtime-label" x="%.3f" y="%d">API down %s s</text>' % (
            end + 6, y + 17, fmt.seconds(entry['api_downtime_seconds'])))
    else:
        parts.append('<text class="no-phases" x="%d" y="%d">no phase times</text>' % (LABEL_WIDTH + 4, y + 17))
    if problem:
        reason = '%s: %s' % (status.replace('_', ' '), entry['failure_reason'] or 'no reason given')
        parts.append('<text class="reason" x="%d" y="%d">%s</text>' % (LABEL_WIDTH + 4, y + ROW_HEIGHT + 11, html.escape(reason)))
    parts.append('</g>')
    return parts, height


def _legend(y):
    parts = []
    x = 4
    for name in PHASES:
        parts.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (x, y, COLOURS[name]))
        parts.append('<text class="legend" x="%d" y="%d">%s</text>' % (x + 16, y + 10, LABELS[name]))
        x += 22 + 7 * len(LABELS[name])
    return parts


def render(report):
    """The timeline SVG as a string, or a paragraph saying why there is none."""
    starts = [phase['start'] for entry in report['hosts'].values() for phase in entry['phases']]
    ends = [phase['end'] for entry in report['hosts'].values() for phase in entry['phases']]
    if not starts:
        return '<p class="no-timeline">No phase times were reported, so there is no timeline.</p>'
    origin = min(starts)
    span = max(max(ends) - origin, 1e-3)
    scale = AXIS_WIDTH / span
    body, y = [], TOP
    for name, entry in _rows(report):
        parts, height = _row(name, entry, y, origin, scale)
        body += parts
        y += height
    parts = _axis(origin, span, y)
    parts += body
    parts += _legend(y + 12)
    width = LABEL_WIDTH + AXIS_WIDTH + RIGHT_MARGIN
    return ('<svg xmlns="http://www.w3.org/2000/svg" id="timeline-svg" width="%d" height="%d" viewBox="0 0 %d %d" '
            'data-origin="%s" data-seconds-per-px="%s" role="img" aria-label="phases per host over time">\n%s\n</svg>' % (
                width, y + 34, width, y + 34, origin, 1.0 / scale, '\n'.join(parts)))
