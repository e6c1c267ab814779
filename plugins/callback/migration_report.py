# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r"""
name: migration_report
type: aggregate
author:
  - fleetops engineering (@fleetops)
short_description: Summarise a Docker 1.9 to 1.10 fleet upgrade per host and for the whole fleet
description:
  - Collects, per host, the results of every C(fleetops.docker_upgrade.layer_checksums) task (layer counters, bytes hashed, hashing
    time and throughput, and the ids of failed and regenerated layers with their reasons), the timings and engine versions that the
    C(engine_upgrade) role publishes in the C(docker_upgrade_report) fact, and a final status per host
    (C(ok), C(failed), C(unreachable), C(skipped) or C(rolled_back)).
  - Numbers add up across tasks, plays and C(serial) batches; nothing is overwritten.
  - Every inventory host that runs a task is a row. Ansible's implicit C(localhost) (a controller-side play on a C(localhost) that
    is not in the inventory) is not part of the fleet and is left out; list C(localhost) in the inventory to report it.
  - A task counts as a C(layer_checksums) task when its action, as written or as resolved, ends in C(layer_checksums)
    (for example C(fleetops.docker_upgrade.layer_checksums) or C(layer_checksums)), or when it is an C(async_status) task
    that returns a finished C(layer_checksums) result.
  - In check mode the module only plans; its C(layers_pending), C(bytes_pending) and C(estimated_seconds) are then reported as planned
    numbers (the module returns them in normal runs too, where they are not reported).
  - Per host it also reports the phases of the maintenance window (pre-migrate, drain hook, record and backup, stop, catch-up,
    package, offline migration, start, containers, verify, rollback) with their start and end times, the seconds spent in each,
    the API downtime, the container downtime and the C(serial) batch. It takes them from the C(phases), C(api_downtime_seconds),
    C(container_downtime_seconds) and C(batch) keys of C(docker_upgrade_report) when the role publishes them, and otherwise
    derives them from when it saw each task of the role's task files start and end on the host and from the batches of the play.
  - At the end of the run it prints a table with one row per host, slowest first, followed by fleet totals, and, when O(output_dir)
    is set, writes C(migration-report.json), a Markdown copy C(migration-report.md) and a self-contained HTML page
    C(migration-report.html) (inline CSS and SVG, no JavaScript; fleet totals, the host table and a timeline of every host's
    phases on a shared time axis) into that directory. A playbook in which no fleet host ran a task prints one line instead
    and writes nothing, so the last report stays in place.
  - The report holds only the named counters, timings, versions, layer ids and short reasons; never whole task results,
    module arguments, file contents or environments.
  - Play and host variables do not reach callback plugins; configure it with C(ansible.cfg) or environment variables.
version_added: 0.1.0
requirements:
  - enable in configuration, for example C(callbacks_enabled = fleetops.docker_upgrade.migration_report) in the C([defaults])
    section of C(ansible.cfg), or C(ANSIBLE_CALLBACKS_ENABLED=fleetops.docker_upgrade.migration_report)
options:
  output_dir:
    description:
      - Directory to write C(migration-report.json), C(migration-report.md) and C(migration-report.html) to. It is created when missing.
      - When not set, the report is only printed on the terminal.
    type: path
    default: null
    env:
      - name: MIGRATION_REPORT_DIR
    ini:
      - section: callback_migration_report
        key: output_dir
  show_layers:
    description:
      - Whether the terminal report lists, below the table, the ids of failed and regenerated layers of each host.
      - The JSON, Markdown and HTML reports always list them (up to O(layer_id_limit)).
    type: bool
    default: true
    env:
      - name: MIGRATION_REPORT_SHOW_LAYERS
    ini:
      - section: callback_migration_report
        key: show_layers
  layer_id_limit:
    description:
      - Most layer ids kept per host in each list (failed layers, regenerated layers, id mismatches), in every output.
      - Ids beyond the limit are only counted (C(failed_layers_omitted), C(regenerated_layers_omitted), C(id_mismatches_omitted)).
      - V(0) keeps all of them.
    type: int
    default: 20
    env:
      - name: MIGRATION_REPORT_LAYER_ID_LIMIT
    ini:
      - section: callback_migration_report
        key: layer_id_limit
  sort_order:
    description:
      - Order of the host rows in the tables and of the hosts in the JSON report (the HTML timeline orders hosts by batch and start).
      - V(slowest) and V(fastest) sort by C(total_seconds) as published by the role, or, for hosts without it, by the time spent hashing.
    type: str
    choices: [slowest, fastest, name]
    default: slowest
    env:
      - name: MIGRATION_REPORT_SORT_ORDER
    ini:
      - section: callback_migration_report
        key: sort_order
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = fleetops.docker_upgrade.migration_report
#
# [callback_migration_report]
# output_dir = reports/
# layer_id_limit = 50
#
# or, for one run:
# MIGRATION_REPORT_DIR=reports ANSIBLE_CALLBACKS_ENABLED=fleetops.docker_upgrade.migration_report ansible-playbook upgrade.yml
"""

from ansible.plugins.callback import CallbackBase

from ansible_collections.fleetops.docker_upgrade.plugins.plugin_utils.migration_report import report_files, text_report
from ansible_collections.fleetops.docker_upgrade.plugins.plugin_utils.migration_report.fleet_report import FleetReport


class CallbackModule(CallbackBase):
    """Aggregate callback: feeds task events into a FleetReport and prints and writes the report at the end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'fleetops.docker_upgrade.migration_report'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super(CallbackModule, self).__init__(display=display)
        self.report = FleetReport()
        self.output_dir = None
        self.show_layers = True

    def set_options(self, task_keys=None, var_options=None, direct=None):
        super(CallbackModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self.output_dir = self.get_option('output_dir')
        self.show_layers = self.get_option('show_layers')
        self.report.layer_id_limit = max(0, int(self.get_option('layer_id_limit')))
        self.report.sort_order = self.get_option('sort_order')

    def v2_playbook_on_start(self, playbook):
        self.report.start()

    def v2_playbook_on_play_start(self, play):
        self.report.start_play(play.get_name())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.report.start_task(None, task)

    def v2_runner_on_start(self, host, task):
        self.report.start_task(host, task)

    def v2_runner_on_ok(self, result):
        self.report.record_ok(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self.report.record_failed(result, ignore_errors=ignore_errors)

    def v2_runner_on_skipped(self, result):
        self.report.record_skipped(result)

    def v2_runner_on_unreachable(self, result):
        self.report.record_unreachable(result)

    def v2_playbook_on_stats(self, stats):
        self.report.finish()
        report = self.report.as_dict()
        if not report['hosts']:
            # A controller-only playbook (molecule's create or destroy): an empty report would only replace
            # the last real one in output_dir.
            self._display.display('migration_report: no fleet host ran a task in this playbook; nothing reported')
            return
        self._display.banner('MIGRATION REPORT')
        for line in text_report.render(report, show_layers=self.show_layers):
            self._display.display(line)
        if self.output_dir:
            try:
                paths = report_files.write(self.output_dir, report)
            except (OSError, ValueError) as error:
                self._display.warning('migration_report: could not write the report to %s: %s' % (self.output_dir, error))
            else:
                self._display.display('report written to %s' % ', '.join(paths))
