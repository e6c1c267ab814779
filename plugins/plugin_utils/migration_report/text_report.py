# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report as terminal lines: the host table, fleet totals, phases, problems and (optionally) layers."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from . import report_lines


def render(report, show_layers=True):
    header, rows = report_lines.table(report)
    widths = [max(len(row[i]) for row in [header] + rows) for i in range(len(header))]
    # Names and words left-aligned, numbers right-aligned.
    left = [i for i, title in enumerate(header) if title in report_lines.TEXT_COLUMNS]

    def line(cells):
        return '  '.join(cell.ljust(widths[i]) if i in left else cell.rjust(widths[i]) for i, cell in enumerate(cells)).rstrip()

    lines = [line(header), line(['-' * width for width in widths])]
    lines += [line(row) for row in rows]
    lines.append('')
    lines += ['fleet ' + text for text in report_lines.summary_lines(report)]
    for block in (report_lines.problem_lines(report), ['phases ' + text for text in report_lines.phase_lines(report)]):
        if block:
            lines.append('')
            lines += block
    if show_layers:
        layer_lines = report_lines.layer_lines(report)
        if layer_lines:
            lines.append('')
            lines += layer_lines
    return lines
