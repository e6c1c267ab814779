# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lower this process's CPU and I/O priority so production containers on the host are not starved.

The I/O scheduler priority has no standard-library call; ioprio_set is reached through ctypes.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import platform

_IOPRIO_SET = {'x86_64': 251, 'i686': 289, 'i386': 289, 'aarch64': 30, 'ppc64le': 273, 's390x': 282}
_IOPRIO_WHO_PROCESS = 1
_CLASS_BEST_EFFORT = 2
_CLASS_IDLE = 3
_CLASS_SHIFT = 13

# name: (nice increment, I/O class, I/O level)
PRIORITIES = {
    'normal': (0, None, None),
    'low': (10, _CLASS_BEST_EFFORT, 7),
    'idle': (19, _CLASS_IDLE, 0),
}


def _ioprio_set(io_class, level):
    import ctypes  # only when needed: some minimal Pythons lack it
    number = _IOPRIO_SET.get(platform.machine())
    if number is None:
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(number, _IOPRIO_WHO_PROCESS, 0, (io_class << _CLASS_SHIFT) | level) == 0


def apply_priority(name):
    """Apply one of PRIORITIES to the calling process (children inherit it); True if all of it took."""
    nice_increment, io_class, level = PRIORITIES[name]
    applied = True
    if nice_increment:
        try:
            os.nice(nice_increment)
        except OSError:
            applied = False
    if io_class is not None:
        try:
            applied = _ioprio_set(io_class, level) and applied
        except (ImportError, OSError, AttributeError):
            applied = False
    return applied
