# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The migration_report callback's model, aggregation and renderers (controller side).

- task_results: what the callback reads from a TaskResult (host, task, result dict, action names)
- values: coercing numbers and shortening text taken from task results
- phases: the window's phases, from the role's docker_upgrade_report or from the role's task files
- host_report / fleet_report: the per-host and whole-run aggregation; fleet_report.as_dict() is the report
- report_lines: the host table and totals lines that the terminal and Markdown reports share
- text_report, markdown_report, html_report: one renderer each, from the report dict
- report_files: writes the JSON, Markdown and HTML files atomically
"""
