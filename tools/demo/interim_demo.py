#!/usr/bin/env python
"""The interim main job: build a demo Docker 1.9 store from real tar layers, run the collection's
modules on it through ansible-playbook with the fleet report on, and print, per layer, the diffID
Docker 1.10 will use beside the SHA-256 of the original tar."""
import json
import os
import shutil
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
from tools import layer_tars, legacy_graph  # noqa: E402


def build(cache):
    corpus = layer_tars.build_realistic_corpus(os.path.join(cache, "corpus"), total_mb=64)
    base = os.path.join(cache, "store")
    if os.path.exists(base):
        shutil.rmtree(base)  # every demo starts from a store that was never migrated
    layers = [{"name": link["name"], "tar": corpus["tars"][link["tar"]]["path"]} for link in corpus["chain"]]
    layers[2]["tarsplit"] = False  # as for layers made by Docker < 1.8
    manifest = legacy_graph.build_legacy_graph(os.path.join(base, "docker"), "overlay", layers=layers,
                                               manifest_path=os.path.join(base, "manifest.json"))
    # a file that no longer matches its tar-split record (same size, other bytes)
    tampered = legacy_graph.tarsplit_entries(os.path.join(base, "docker", "graph", manifest["layers"][1]["v1id"],
                                                          "tar-data.json.gz"))
    name = max((e for e in tampered if e.get("type") == 1 and e.get("size")), key=lambda e: e["size"])["name"]
    name = os.fsdecode(name)
    path = os.path.join(base, "docker", manifest["layers"][1]["layer_dir"], name)
    data = bytearray(open(path, "rb").read())
    data[0] ^= 0xFF
    os.unlink(path)
    with open(path, "wb") as stream:
        stream.write(data)
    return manifest, name


def main():
    cache = os.path.join(REPO, ".cache", "demo")
    manifest, tampered = build(cache)
    root = manifest["docker_root"]
    report_dir = os.path.join(cache, "report")
    env = dict(os.environ, DEMO_DOCKER_ROOT=root, ANSIBLE_CALLBACKS_ENABLED="fleetops.docker_upgrade.migration_report",
               MIGRATION_REPORT_DIR=report_dir, ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    subprocess.run(["ansible-playbook", os.path.join(REPO, "tools", "demo", "premigrate_localhost.yml")],
                   env=env, check=True)
    print("\nPer layer: what Docker 1.10 will read (.migration-diffid) beside sha256 of the original tar")
    for layer in manifest["layers"]:
        with open(os.path.join(root, "graph", layer["v1id"], ".migration-diffid")) as stream:
            written = stream.read()
        note = "same" if written == layer["diff_id"] else "regenerated (tar-split data %s)" % (
            "missing" if not layer["has_tarsplit"] else "no longer matches: " + tampered)
        print("  %-11s %s  %-71s %s" % (layer["name"], layer["v1id"][:12], written, note))
        if note != "same":
            print("  %-11s %s  %-71s (original tar)" % ("", " " * 12, layer["diff_id"]))
    report = json.load(open(os.path.join(report_dir, "migration-report.json")))
    print("\nFleet report written to %s/migration-report.{json,md}: %d host(s), %s bytes hashed"
          % (report_dir, len(report["hosts"]), report["totals"].get("bytes_hashed")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
