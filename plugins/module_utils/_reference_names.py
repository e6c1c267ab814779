# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which legacy tag names Docker 1.10's reference grammar rejects at migration (the tag is then lost).

Docker 1.9 accepted names that 1.10's distribution/reference does not, notably registry host names
with upper-case letters (moby#20056).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

_COMPONENT = r'[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*'
_HOST_COMPONENT = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
_HOST = _HOST_COMPONENT + r'(?:\.' + _HOST_COMPONENT + r')*(?::[0-9]+)?'
_NAME = re.compile(r'\A(?:' + _HOST + r'/)?' + _COMPONENT + r'(?:/' + _COMPONENT + r')*\Z')
_TAG = re.compile(r'\A[\w][\w.-]{0,127}\Z')
_DIGEST = re.compile(r'\Asha256:[0-9a-f]{64}\Z')
_NAME_MAX = 255


def _split_host(name):
    first, sep, _rest = name.partition('/')
    if sep and ('.' in first or ':' in first or first == 'localhost'):
        return first
    return None


def tag_problem(reference):
    """Why Docker 1.10 would reject reference ('repo:tag' or 'repo@sha256:...'), or None."""
    if '@' in reference:
        name, _sep, ref = reference.partition('@')
        if not _DIGEST.match(ref):
            return 'digest %r is not sha256:<64 hex>' % ref
    else:
        name, _sep, ref = reference.rpartition(':')
        if not _TAG.match(ref):
            return 'tag %r is not valid' % ref
    if len(name) > _NAME_MAX:
        return 'repository name longer than %d characters' % _NAME_MAX
    host = _split_host(name)
    if host and host != host.lower():
        return 'upper-case registry host %r (moby#20056)' % host
    if not _NAME.match(name):
        return 'repository name %r is not valid (lower-case letters, digits and separators only)' % name
    return None
