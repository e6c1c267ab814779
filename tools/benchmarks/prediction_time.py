#!/usr/bin/env python
"""Benchmark: how long the image-ID prediction (offline_migration in check mode) takes on a large store.

The role predicts once while the old daemon serves and, in the downtime, again only when the catch-up pass
computed layers; this prints what one prediction costs, so the second one's share of the downtime is known.
Builds (in a temporary directory) a checksummed Docker 1.9 vfs store of metadata only: --chains image chains
of --depth layers each, every layer an image, the top of each chain tagged. Layer trees are empty: the
prediction reads graph/<id>/json and the checksum files, never a tree. Figures only; no pass/fail.

    .venv/bin/python tools/benchmarks/prediction_time.py [--chains 100] [--depth 10] [--runs 3]
"""
import argparse
import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
from tools.collection_import import register_collection_namespace  # noqa: E402

register_collection_namespace()
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.offline import offline_migrate  # noqa: E402


def _hex(*parts):
    return hashlib.sha256("/".join(str(part) for part in parts).encode()).hexdigest()


def _write(path, data):
    with open(path, "wb") as stream:
        stream.write(data if isinstance(data, bytes) else data.encode())


def build_store(docker_root, chains, depth):
    """A checksummed vfs store as layer_checksums leaves it; returns the number of layers."""
    repositories = {}
    tardata = gzip.compress(b'{"type":2,"payload":"","position":0}\n')
    for chain in range(chains):
        parent = None
        for level in range(depth):
            layer_id = _hex("layer", chain, level)
            directory = os.path.join(docker_root, "graph", layer_id)
            os.makedirs(directory)
            os.makedirs(os.path.join(docker_root, "vfs", "dir", layer_id))
            config = {"id": layer_id, "created": "2016-01-%02dT10:%02d:00.123456789Z" % (1 + chain % 28, level),
                      "container_config": {"Cmd": ["/bin/sh", "-c", "step %d of chain %d" % (level, chain)]},
                      "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["sh"]},
                      "docker_version": "1.9.1", "architecture": "amd64", "os": "linux", "Size": 1024 * level}
            if parent:
                config["parent"] = parent
            _write(os.path.join(directory, "json"), json.dumps(config))
            _write(os.path.join(directory, "layersize"), str(1024 * level))
            _write(os.path.join(directory, ".migration-diffid"), "sha256:" + _hex("diff", chain, level))
            _write(os.path.join(directory, ".migration-size"), str(1024 * level))
            _write(os.path.join(directory, ".migration-tardata"), tardata)
            parent = layer_id
        repositories["bench/chain%d" % chain] = {"latest": parent}
    _write(os.path.join(docker_root, "repositories-vfs"), json.dumps({"Repositories": repositories}))
    return chains * depth


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=100)
    parser.add_argument("--depth", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    base = tempfile.mkdtemp(prefix="fleetops-bench-predict-")
    try:
        docker_root = os.path.join(base, "docker")
        layers = build_store(docker_root, args.chains, args.depth)
        absent = os.path.join(base, "absent")
        timings = []
        for _run in range(args.runs):
            started = time.perf_counter()
            result = offline_migrate(docker_root, "vfs", check_mode=True, socket_path=absent + ".sock",
                                     pid_file=absent + ".pid", allow_pending_layers=True)
            timings.append(time.perf_counter() - started)
        predicted = len(result["mappings"])
        print("store: %d layers (%d chains x %d), %d tags" % (layers, args.chains, args.depth, args.chains))
        print("predicted image IDs: %d, tags: %d" % (predicted, len(result["tags"])))
        print("prediction (check mode), best of %d: %.2f s (%.2f ms per image); worst %.2f s"
              % (args.runs, min(timings), 1000 * min(timings) / max(predicted, 1), max(timings)))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
