#!/usr/bin/env python
"""Benchmark: layer checksum throughput on a legacy store of real files, beside sha256sum.

Builds (once, cached under .cache/bench/) a Docker 1.9 store of about --total-mb of this machine's
own files in several layers with tar-split data, warms the page cache, then prints MB/s for:
sha256sum over the original layer tars (the floor any tool must hash), our migrator with integrity
checks on and off, with all workers and with one, and the CRC-64 alone. Figures only; no pass/fail.

    .venv/bin/python tools/benchmarks/checksum_throughput.py [--total-mb 1200] [--driver aufs]
"""
import argparse
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
from tools.collection_import import register_collection_namespace  # noqa: E402

register_collection_namespace()
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.run_pass import run_pass  # noqa: E402
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.crc64 import crc64_iso  # noqa: E402
from tools import layer_tars, legacy_graph  # noqa: E402


def build_store(cache, total_mb, driver):
    corpus_dir = os.path.join(cache, "corpus-%d" % total_mb)
    corpus = layer_tars.build_realistic_corpus(corpus_dir, total_mb=total_mb)
    root = os.path.join(cache, "store-%d-%s" % (total_mb, driver), "docker")
    manifest_path = os.path.join(os.path.dirname(root), "manifest.json")
    if os.path.exists(manifest_path):
        return root, legacy_graph.load_manifest(manifest_path)
    manifest = legacy_graph.build_legacy_graph(root, driver, corpus=corpus, tags={}, containers=[],
                                               manifest_path=manifest_path, force=True)
    return root, manifest


def warm(paths):
    """Read everything once so every run below sees a warm page cache."""
    for top in paths:
        for directory, _dirs, files in os.walk(top):
            for name in files:
                path = os.path.join(directory, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as stream:
                        while stream.read(1 << 20):
                            pass


def cpu_seconds():
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def timed(label, nbytes, function, results):
    """Wall-clock MB/s, and MB per CPU-second: the second does not depend on what else the machine
    runs, so it tells what an idle machine gives (times the cores the run can use)."""
    started, cpu_started = time.perf_counter(), cpu_seconds()
    function()
    seconds = time.perf_counter() - started
    cpu = cpu_seconds() - cpu_started
    rate = nbytes / 1e6 / seconds
    results.append((label, nbytes, seconds, rate))
    print("%-52s %8.1f MB %7.2f s %8.1f MB/s %8.1f MB/cpu-s" % (label, nbytes / 1e6, seconds, rate, nbytes / 1e6 / cpu),
          flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--total-mb", type=int, default=1200)
    parser.add_argument("--driver", default="aufs", choices=["aufs", "overlay", "vfs", "btrfs"])
    parser.add_argument("--cache", default=os.path.join(REPO, ".cache", "bench"))
    args = parser.parse_args(argv)

    print("building the store (cached after the first time) ...", flush=True)
    root, manifest = build_store(args.cache, args.total_mb, args.driver)
    tars = [layer["tar"] for layer in manifest["layers"]]
    tar_bytes = sum(layer["tar_bytes"] for layer in manifest["layers"])
    print("store: %s, %d layers, %.1f MB of tar streams, driver %s, %d CPUs, load average %.2f"
          % (root, len(tars), tar_bytes / 1e6, args.driver, os.cpu_count(), os.getloadavg()[0]))
    warm([root] + [os.path.dirname(tars[0])])
    results = []

    timed("sha256sum of the original tars (1 process)", tar_bytes,
          lambda: subprocess.run(["sha256sum"] + tars, check=True, stdout=subprocess.DEVNULL), results)

    def migrator(workers, verify):
        def run():
            outcome = run_pass(dict(docker_root=root, storage_driver=args.driver, workers=workers, force=True,
                                    verify_integrity=verify, io_priority="normal", progress_file=""))
            wrong = [l for l in outcome.result["layers"]
                     if l["diff_id"] != next(m["diff_id"] for m in manifest["layers"] if m["v1id"] == l["id"])]
            assert not wrong and outcome.result["layers_failed"] == 0, wrong
        return run

    cpus = os.cpu_count() or 1
    for workers in sorted({cpus, 1}, reverse=True):
        for verify in (True, False):
            timed("migrator, %d worker(s), integrity %s" % (workers, "on" if verify else "off"), tar_bytes,
                  migrator(workers, verify), results)

    sample = os.urandom(64 << 20)
    timed("CRC-64/ISO alone, 1 core (64 MiB in memory)", len(sample), lambda: crc64_iso(sample), results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
