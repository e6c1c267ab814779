# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report as one self-contained HTML page (migration-report.html): inline CSS and SVG, no JavaScript."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import html

from . import report_lines, timeline_svg

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #212121; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 24px 0 8px; }
.meta { color: #616161; margin: 0; }
.cards { display: flex; gap: 10px; flex-wrap: wrap; margin: 8px 0; }
.card { border: 1px solid #ddd; border-radius: 6px; padding: 6px 12px; min-width: 80px; }
.card b { display: block; font-size: 20px; }
.card.status-failed b, .card.status-unreachable b { color: #c62828; } .card.status-rolled_back b { color: #e65100; }
ul.totals { margin: 4px 0; padding-left: 20px; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border: 1px solid #ddd; padding: 3px 6px; text-align: right; white-space: nowrap; }
th { background: #f5f5f5; } td.text, th.text { text-align: left; } td.wrap { white-space: normal; min-width: 240px; max-width: 340px; }
tr.status-failed td, tr.status-unreachable td { background: #ffebee; } tr.status-rolled_back td { background: #fff3e0; }
.status-failed .status, .status-unreachable .status { color: #c62828; font-weight: bold; }
.status-rolled_back .status { color: #e65100; font-weight: bold; }
svg text { font: 12px system-ui, sans-serif; fill: #212121; }
svg .tick { stroke: #e0e0e0; } svg .tick-label, svg .axis-origin, svg .batch-label { fill: #757575; font-size: 11px; }
svg .problem-band { fill: #ffebee; } svg .status-rolled_back .problem-band { fill: #fff3e0; }
svg .reason { fill: #c62828; font-size: 11px; } svg .status-rolled_back .reason { fill: #e65100; }
svg .host-label { font-weight: bold; } svg .downtime-label { fill: #616161; font-size: 11px; } svg .no-phases { fill: #9e9e9e; font-style: italic; }
"""


def _cards(report):
    totals = report['totals']
    cards = [('hosts', totals['hosts'], 'hosts')]
    cards += [(status.replace('_', ' '), totals['hosts_' + status], 'status-' + status)
              for status in ('ok', 'failed', 'rolled_back', 'unreachable', 'skipped')]
    cards.append(('batches', totals['batches'] or '-', 'batches'))
    return '<div class="cards">%s</div>' % ''.join(
        '<div class="card %s"><b>%s</b>%s</div>' % (css, html.escape(str(value)), html.escape(label)) for label, value, css in cards)


def _list(lines, css):
    return '<ul class="%s">%s</ul>' % (css, ''.join('<li>%s</li>' % html.escape(line) for line in lines))


def _host_table(report):
    header, rows = report_lines.table(report)
    text_columns = [i for i, title in enumerate(header) if title in report_lines.TEXT_COLUMNS]
    head = ''.join('<th class="%s">%s</th>' % ('text' if i in text_columns else 'num', html.escape(title)) for i, title in enumerate(header))
    head += '<th class="text">phases</th><th class="text">reason</th>'
    body = []
    for row, (name, entry) in zip(rows, report['hosts'].items()):
        cells = []
        for i, cell in enumerate(row):
            css = 'status text' if header[i] == 'status' else ('text' if i in text_columns else 'num')
            cells.append('<td class="%s">%s</td>' % (css, html.escape(cell)))
        cells.append('<td class="text wrap phases">%s</td>' % html.escape(report_lines.phase_breakdown(entry) or '-'))
        cells.append('<td class="text wrap reason">%s</td>' % html.escape(entry['failure_reason'] or ''))
        body.append('<tr class="host status-%s" data-host="%s">%s</tr>' % (
            html.escape(entry['status']), html.escape(name, quote=True), ''.join(cells)))
    return '<table id="hosts-table"><thead><tr>%s</tr></thead><tbody>%s</tbody></table>' % (head, '\n'.join(body))


def render(report):
    problems = report_lines.problem_lines(report)
    layers = report_lines.layer_lines(report)
    sections = [
        '<h1>Docker 1.10 migration report</h1>',
        '<p class="meta">Started %s, finished %s%s</p>' % (
            html.escape(report['started'] or '-'), html.escape(report['finished'] or '-'),
            ' &middot; check mode: planned numbers only' if report['check_mode'] else ''),
        '<section id="totals"><h2>Fleet totals</h2>%s%s</section>' % (_cards(report), _list(report_lines.summary_lines(report), 'totals')),
        '<section id="timeline"><h2>Timeline</h2>%s</section>' % timeline_svg.render(report),
        '<section id="hosts"><h2>Hosts</h2>%s</section>' % _host_table(report),
    ]
    if problems:
        sections.append('<section id="problems"><h2>Problems</h2>%s</section>' % _list(problems, 'problems'))
    if layers:
        sections.append('<section id="layers"><h2>Layers</h2>%s</section>' % _list(layers, 'layers'))
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Docker 1.10 migration report</title>\n'
            '<style>%s</style>\n</head>\n<body>\n%s\n</body>\n</html>\n' % (STYLE, '\n'.join(sections)))
