# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How numbers look in the terminal, Markdown and HTML reports."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


def size(count):
    # Decimal units, like the module's MB/s.
    value, unit = float(count), 'B'
    for bigger in ('kB', 'MB', 'GB', 'TB'):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return '%d B' % count if unit == 'B' else '%.1f %s' % (value, unit)


def seconds(value):
    return '-' if value is None else '%.1f' % value


def clock(value):
    if value is None:
        return '-'
    total = int(round(value))
    return '%d:%02d:%02d' % (total // 3600, total % 3600 // 60, total % 60)


def engine(entry):
    before, after = entry['engine_version_before'], entry['engine_version_after']
    if before is None and after is None:
        return '-'
    return '%s -> %s' % (before or '?', after or '?')


def batch(value):
    return '-' if not value else str(value)
