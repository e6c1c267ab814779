# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A whole checksum pass over a legacy store: plan, run layers in worker processes, summarise.

Layers are independent (a layer's diffID does not depend on its parent's), so they run in parallel,
largest first for balance, and one layer's failure never stops the others. SIGTERM or SIGINT stop
the workers; every cache file is written atomically, so an interrupted pass leaves complete files or
none, and the next pass resumes where it stopped.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import multiprocessing
import os
import signal
import threading

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._atomic_files import remove_stale_temps
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.layer import (
    SOURCE_CACHED, SOURCE_REGENERATED, layer_result, migrate_layer)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._legacy_store import (
    graph_dir, layer_parent, layer_size_hint, list_layer_ids, read_layer_config)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.cache_files import INVALID, VALID, read_cache
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.progress import ProgressFile

# A conservative rate for estimates before a run (measured: several hundred MB/s per worker).
ESTIMATE_BYTES_PER_SECOND_PER_WORKER = 150 * 1000 * 1000


class Interrupted(Exception):
    pass


class LayerPlan(object):
    __slots__ = ('id', 'parent', 'state', 'detail', 'bytes_hint', 'error')

    def __init__(self, layer_id, parent, state, detail, bytes_hint, error=None):
        self.id = layer_id
        self.parent = parent
        self.state = state
        self.detail = detail
        self.bytes_hint = bytes_hint
        self.error = error

    @property
    def pending(self):
        return self.state != VALID


def plan_layers(driver, only_ids=None, force=False):
    """One LayerPlan per layer in scope, in graph order (sorted ids)."""
    ids = list_layer_ids(driver.docker_root)
    if only_ids:
        wanted = set(only_ids)
        ids = [layer_id for layer_id in ids if layer_id in wanted]
    plans = []
    for layer_id in ids:
        try:
            config = read_layer_config(driver.docker_root, layer_id)
            parent = layer_parent(driver.docker_root, layer_id, config)
        except (OSError, ValueError) as exc:
            plans.append(LayerPlan(layer_id, None, INVALID, None, 0, error='layer %s: unreadable json: %s' % (layer_id, exc)))
            continue
        cache = read_cache(graph_dir(driver.docker_root, layer_id))
        state = INVALID if force and cache.state == VALID else cache.state
        plans.append(LayerPlan(layer_id, parent, state, cache.detail, layer_size_hint(driver.docker_root, layer_id, config)))
    return plans


def estimate_seconds(nbytes, workers):
    return round(nbytes / float(ESTIMATE_BYTES_PER_SECOND_PER_WORKER * max(workers, 1)), 1)


# Worker side. Globals are set once per worker process by the pool initializer.
_WORKER = {}


def _raise_system_exit(signum, _frame):
    raise SystemExit(128 + signum)


def _set_worker_state(driver, verify_integrity, force):
    _WORKER.update(driver=driver, verify_integrity=verify_integrity, force=force)


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_STOP_GRACE_SECONDS = 10


def _die_with_parent():
    """A worker never outlives its parent, even one killed with SIGKILL (Linux prctl)."""
    try:
        import ctypes  # only when needed: some minimal Pythons lack it
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (ImportError, OSError, AttributeError):
        pass


def _init_pool_worker(driver, verify_integrity, force):
    # Workers are forked with the stop signals blocked (see _run_pool): set their own handlers first.
    signal.signal(signal.SIGINT, signal.SIG_IGN)            # the parent decides on Ctrl-C
    signal.signal(signal.SIGTERM, _raise_system_exit)       # unwinds, so temp files are removed
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
    _die_with_parent()
    _set_worker_state(driver, verify_integrity, force)


def _work(plan_tuple):
    layer_id, parent = plan_tuple
    return migrate_layer(_WORKER['driver'], layer_id, parent, _WORKER['verify_integrity'], _WORKER['force'])


class _Signals(object):
    """SIGTERM and SIGINT in the parent while the pass runs.

    Working alone, the parent raises Interrupted at once (the atomic writers unwind). With a pool it
    only records the signal: raising inside the pool's own locking could leave it unable to stop, so
    the result loop checks the flag a few times a second instead.
    """

    def __init__(self, raise_at_once):
        self.raise_at_once = raise_at_once
        self.received = None

    def _handle(self, signum, _frame):
        self.received = signum
        if self.raise_at_once:
            raise Interrupted('stopped by signal %d' % signum)

    def check(self):
        if self.received:
            raise Interrupted('stopped by signal %d' % self.received)

    def __enter__(self):
        self._saved = dict((sig, signal.signal(sig, self._handle)) for sig in (signal.SIGTERM, signal.SIGINT))
        return self

    def __exit__(self, *exc_info):
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)
        return False


def _run_alone(driver, todo, verify_integrity, force):
    _set_worker_state(driver, verify_integrity, force)
    for plan in todo:
        yield _work((plan.id, plan.parent))


def _run_pool(driver, todo, workers, verify_integrity, force, progress, signals):
    # Fork with the stop signals blocked: a worker must not run the parent's handler (which only sets
    # a flag) before its own is installed, or a SIGTERM from pool.terminate() would be lost and the
    # parent would wait for that worker forever. A signal arriving meanwhile stays pending.
    saved_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        pool = multiprocessing.get_context('fork').Pool(
            min(workers, len(todo)), initializer=_init_pool_worker, initargs=(driver, verify_integrity, force))
    except BaseException:
        signal.pthread_sigmask(signal.SIG_SETMASK, saved_mask)
        raise
    signal.pthread_sigmask(signal.SIG_SETMASK, saved_mask)  # a pending signal lands on the flag now
    try:
        results = pool.imap_unordered(_work, [(plan.id, plan.parent) for plan in todo])
        for _index in range(len(todo)):
            while True:
                signals.check()
                try:
                    result = results.next(timeout=0.2)
                    break
                except multiprocessing.TimeoutError:
                    progress.write()
            yield result
        pool.close()
        pool.join()
    except BaseException:
        _terminate(pool)
        raise


def _terminate(pool):
    """SIGTERM to every worker (each removes its own temp files), but never wait forever: a worker
    that has not stopped after the grace period is killed, and the caller sweeps its temp files."""
    stopper = threading.Thread(target=pool.terminate)
    stopper.daemon = True
    stopper.start()
    stopper.join(_STOP_GRACE_SECONDS)
    if stopper.is_alive():
        for child in multiprocessing.active_children():
            try:
                os.kill(child.pid, signal.SIGKILL)
            except OSError:
                pass
        stopper.join(_STOP_GRACE_SECONDS)


def run_checksums(driver, plans, workers=None, verify_integrity=True, force=False, progress_path=None):
    """Compute every pending layer of plans. Returns the list of layer results in plan order.

    Workers inherit the caller's CPU and I/O priority (see _io_priority.apply_priority)."""
    workers = workers or os.cpu_count() or 1
    todo = sorted((plan for plan in plans if plan.pending and not plan.error), key=lambda p: -p.bytes_hint)
    progress = ProgressFile(progress_path, len(todo), sum(plan.bytes_hint for plan in todo))
    results = {}
    for plan in plans:
        if plan.error:
            results[plan.id] = layer_result(plan.id, plan.parent, error=plan.error)
    for plan in todo:
        # what a run killed outright (SIGKILL, a crash) left; its own interrupt path never ran
        remove_stale_temps(graph_dir(driver.docker_root, plan.id), keep_live_runs=True)
    alone = workers <= 1 or len(todo) <= 1
    # Handlers first, before anything is written: from here a stop signal always ends in a clean stop.
    with _Signals(raise_at_once=alone) as signals:
        try:
            progress.write(force=True)
            if alone:
                pending_results = _run_alone(driver, todo, verify_integrity, force)
            else:
                pending_results = _run_pool(driver, todo, workers, verify_integrity, force, progress, signals)
            for result in pending_results:
                results[result['id']] = result
                progress.advance(1, result.get('tar_bytes') or 0)
        except (Interrupted, KeyboardInterrupt):
            for plan in todo:
                remove_stale_temps(graph_dir(driver.docker_root, plan.id))
            progress.write('interrupted', force=True)
            raise
    progress.write('finished', force=True)
    for plan in plans:
        if plan.id not in results:
            results[plan.id] = migrate_layer(driver, plan.id, plan.parent, verify_integrity, False)  # cached
    return [results[plan.id] for plan in plans]


def summarise(results, elapsed):
    """The counters the module returns and the report adds up."""
    def count(predicate):
        return sum(1 for result in results if predicate(result))

    bytes_hashed = sum(result.get('tar_bytes') or 0 for result in results if result['source'] != SOURCE_CACHED)
    return {
        'layers_total': len(results),
        # computed = hashed in this pass; repaired and fallback layers are among them
        'layers_computed': count(lambda r: r['source'] not in (None, SOURCE_CACHED)),
        'layers_cached': count(lambda r: r['source'] == SOURCE_CACHED),
        'layers_repaired': count(lambda r: r['repaired'] and not r['error']),
        'layers_fallback': count(lambda r: r['source'] == SOURCE_REGENERATED),
        'layers_failed': count(lambda r: r['error']),
        'bytes_hashed': bytes_hashed,
        'elapsed_seconds': round(elapsed, 3),
        'throughput_mb_s': round(bytes_hashed / 1e6 / elapsed, 1) if elapsed > 0 else 0.0,
    }
