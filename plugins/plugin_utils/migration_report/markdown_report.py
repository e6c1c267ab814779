# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report as Markdown (migration-report.md)."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from . import report_lines


def _md(text):
    return str(text).replace('\\', '\\\\').replace('|', '\\|')


def _bullets(title, lines):
    if not lines:
        return []
    return ['', '## ' + title, ''] + ['- ' + _md(text) for text in lines]


def render(report):
    header, rows = report_lines.table(report)
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
        '|' + '|'.join('---' if title in report_lines.TEXT_COLUMNS else '--:' for title in header) + '|',
    ]
    lines += ['| ' + ' | '.join(_md(cell) for cell in row) + ' |' for row in rows]
    lines += _bullets('Fleet totals', report_lines.summary_lines(report))
    lines += _bullets('Problems', report_lines.problem_lines(report))
    lines += _bullets('Phases', report_lines.phase_lines(report))
    lines += _bullets('Layers', report_lines.layer_lines(report))
    lines.append('')
    return '\n'.join(lines)
