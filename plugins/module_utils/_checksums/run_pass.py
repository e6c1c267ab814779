# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One checksum pass with the options of the layer_checksums module, shared by the module and the
standalone command so both behave the same."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import time

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.worker_pool import estimate_seconds, plan_layers, run_checksums, summarise
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._io_priority import apply_priority
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.progress import DEFAULT_PROGRESS_FILE
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.base import leftover_warnings
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.registry import open_driver

DEFAULTS = dict(docker_root='/var/lib/docker', storage_driver='auto', storage_opts=[], workers=None,
                verify_integrity=True, force=False, layers=[], max_failed_layers=0, io_priority='low',
                progress_file=DEFAULT_PROGRESS_FILE)


class PassOutcome(object):
    def __init__(self, result, warnings, failure=None):
        self.result = result
        self.warnings = warnings
        self.failure = failure  # a message when the pass as a whole failed


def _plan_fields(plans, workers):
    pending = [plan for plan in plans if plan.pending]
    bytes_pending = sum(plan.bytes_hint for plan in pending)
    return dict(layers_pending=len(pending), bytes_pending=bytes_pending,
                estimated_seconds=estimate_seconds(bytes_pending, workers))


def _planned_layers(plans):
    return [dict(id=plan.id, parent=plan.parent or None, diff_id=None, size=None, tar_bytes=None,
                 source='pending' if plan.pending else 'cached', reason=plan.detail,
                 seconds=0.0, error=plan.error) for plan in plans]


def _warnings(layers):
    warnings = []
    for layer in layers:
        if layer['error']:
            warnings.append('layer %s failed: %s' % (layer['id'], layer['error']))
        elif layer['source'] == 'regenerated':
            warnings.append('layer %s regenerated from its tree (%s)' % (layer['id'], layer['reason']))
    return warnings


def run_pass(options, check_mode=False):
    """options: a dict with the keys of DEFAULTS. Raises DriverError or StoreError for a store that
    cannot be read at all, Interrupted on SIGTERM/SIGINT."""
    opts = dict(DEFAULTS)
    opts.update((key, value) for key, value in options.items() if value is not None)
    workers = opts['workers'] or os.cpu_count() or 1
    driver = open_driver(opts['docker_root'], opts['storage_driver'], opts['storage_opts'])
    leftovers = leftover_warnings(driver)
    plans = plan_layers(driver, opts['layers'], opts['force'])
    result = dict(changed=False, storage_driver=driver.name, io_priority_applied=False)
    result.update(_plan_fields(plans, workers))
    if check_mode:
        result.update(summarise([], 0.0))
        result.update(layers_total=len(plans), layers_cached=len(plans) - result['layers_pending'],
                      layers_failed=sum(1 for plan in plans if plan.error), layers=_planned_layers(plans))
        return PassOutcome(result, leftovers)

    started = time.time()
    # Set once here: the worker processes inherit both the nice value and the I/O priority.
    result['io_priority_applied'] = apply_priority(opts['io_priority'])
    layers = run_checksums(driver, plans, workers, opts['verify_integrity'], opts['force'], opts['progress_file'] or None)
    result.update(summarise(layers, time.time() - started))
    result['layers'] = [dict((k, v) for k, v in layer.items() if k != 'repaired') for layer in layers]
    result['changed'] = result['layers_computed'] > 0
    failure = None
    if result['layers_failed'] > opts['max_failed_layers']:
        failure = '%d layer(s) failed, more than max_failed_layers=%d' % (result['layers_failed'], opts['max_failed_layers'])
    return PassOutcome(result, leftovers + _warnings(layers), failure)
