# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Numbers and short text from task results, which may carry numbers as strings, garbage or long messages."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

# Keeps reasons short: they come from module and connection messages, which can be long.
REASON_MAX = 200
TEXT_MAX = 100


def short_text(value, limit=REASON_MAX):
    """A one-line string of at most limit characters, or None."""
    if value is None:
        return None
    text = ' '.join(str(value).split())
    if len(text) > limit:
        text = text[:limit - 3] + '...'
    return text


def as_int(value):
    """Anything unusable counts as 0."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return 0


def as_float(value):
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def maybe_float(value):
    """Like as_float, but None and garbage stay None (unknown), so an unknown timing is not reported as 0."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def rounded(value, digits=3):
    return None if value is None else round(value, digits)
