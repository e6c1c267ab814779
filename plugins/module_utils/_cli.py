# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The migrator as a command, for hosts outside Ansible and for the migrator container image.

Same options and results as the layer_checksums and graph_info modules (see docs/migrator.md).
Exit status: 0 done, 1 more layers failed than allowed, 2 the store cannot be read, 130 interrupted.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import argparse
import json
import sys

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.run_pass import DEFAULTS, run_pass
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.worker_pool import Interrupted
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._graph_inventory import inventory
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._io_priority import PRIORITIES
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._legacy_store import StoreError
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.registry import DRIVER_CHOICES, DriverError, open_driver


def _parser():
    parser = argparse.ArgumentParser(prog='fleetops-migrator', description=__doc__.split('\n\n', maxsplit=1)[0])
    sub = parser.add_subparsers(dest='command')
    for name, text in (('checksums', 'precompute Docker 1.10 layer checksums (the layer_checksums module)'),
                       ('info', 'inventory the legacy store and its problems (the graph_info module)')):
        command = sub.add_parser(name, help=text, description=text)
        command.add_argument('--docker-root', default=DEFAULTS['docker_root'])
        command.add_argument('--storage-driver', default='auto', choices=DRIVER_CHOICES)
        command.add_argument('--storage-opt', dest='storage_opts', action='append', default=[])
        command.add_argument('--json', action='store_true', help='print the full result as JSON')
    checksums = sub.choices['checksums']
    checksums.add_argument('--workers', type=int)
    checksums.add_argument('--no-verify-integrity', dest='verify_integrity', action='store_false')
    checksums.add_argument('--force', action='store_true', help='recompute cached layers too')
    checksums.add_argument('--layer', dest='layers', action='append', default=[], help='limit to this v1 id (repeatable)')
    checksums.add_argument('--max-failed-layers', type=int, default=0)
    checksums.add_argument('--io-priority', default='low', choices=sorted(PRIORITIES))
    checksums.add_argument('--progress-file', default=DEFAULTS['progress_file'], help="'' to disable")
    checksums.add_argument('--check', action='store_true', help='compute and write nothing; print the plan')
    return parser


def _print_checksums(result, out):
    for layer in result['layers']:
        note = layer['error'] or layer['reason'] or ''
        out.write('%s  %-11s %-71s %s\n' % (layer['id'][:12], layer['source'] or 'FAILED', layer['diff_id'] or '-', note))
    out.write('layers: %(layers_total)d total, %(layers_computed)d computed, %(layers_cached)d cached, '
              '%(layers_repaired)d repaired, %(layers_fallback)d regenerated, %(layers_failed)d failed\n' % result)
    out.write('hashed %.1f MB in %.2f s (%.1f MB/s); pending before the run: %d layers, ~%d s\n' % (
        result['bytes_hashed'] / 1e6, result['elapsed_seconds'], result['throughput_mb_s'],
        result['layers_pending'], result['estimated_seconds']))


def _print_info(result, out):
    out.write('driver %(storage_driver)s, daemon %(docker_version)s, %(layers_total)d layers, '
              '%(layers_pending)d pending (~%(estimated_seconds)s s)\n' % result)
    for reference, v1_id in sorted(result['tags'].items()):
        out.write('tag %s -> %s\n' % (reference, v1_id[:12]))
    for problem in result['problems']:
        out.write('PROBLEM %(kind)s %(id)s: %(detail)s\n' % problem)


def main(argv=None, out=None):
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    if not args.command:
        _parser().print_help(out)
        return 2
    options = dict((key, value) for key, value in vars(args).items() if key not in ('command', 'json', 'check'))
    try:
        if args.command == 'info':
            result = inventory(open_driver(args.docker_root, args.storage_driver, args.storage_opts))
            failure = None
        else:
            outcome = run_pass(options, check_mode=args.check)
            result, failure = outcome.result, outcome.failure
            for warning in outcome.warnings:
                sys.stderr.write('warning: %s\n' % warning)
    except (DriverError, StoreError) as exc:
        sys.stderr.write('error: %s\n' % exc)
        return 2
    except (Interrupted, KeyboardInterrupt):
        sys.stderr.write('interrupted: complete layers were kept; run again to resume\n')
        return 130
    if args.json:
        json.dump(result, out, indent=2, sort_keys=True)
        out.write('\n')
    elif args.command == 'info':
        _print_info(result, out)
    else:
        _print_checksums(result, out)
    if failure:
        sys.stderr.write('error: %s\n' % failure)
        return 1
    return 0
