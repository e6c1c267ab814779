# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the report files into the output directory, each atomically."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json
import os
import tempfile

from . import html_report, markdown_report

JSON_NAME = 'migration-report.json'
MARKDOWN_NAME = 'migration-report.md'
HTML_NAME = 'migration-report.html'


def write(directory, report):
    """Write the JSON, Markdown and HTML reports; returns their paths in that order."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for name, text in ((JSON_NAME, json.dumps(report, indent=2) + '\n'),
                       (MARKDOWN_NAME, markdown_report.render(report)),
                       (HTML_NAME, html_report.render(report))):
        path = os.path.join(directory, name)
        write_atomically(path, text)
        paths.append(path)
    return paths


def write_atomically(path, text):
    # A reader (CI artifact upload, a dashboard, a browser) never sees a half-written report.
    handle, tmp_path = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', dir=os.path.dirname(path) or '.')
    try:
        with os.fdopen(handle, 'w', encoding='utf-8') as stream:
            stream.write(text)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise
