"""Runs as a whole: check mode, idempotence, repair of broken cache files, interruption and resume."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._atomic_files import TEMP_MARKER
from migrator_helpers import by_id, graph_file, migrate, read_text, snapshot

MIGRATOR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "..", "bin", "fleetops-migrator")


def test_check_mode_changes_nothing_and_returns_the_plan(legacy_graph):
    docker_root, manifest = legacy_graph("overlay")
    before = snapshot(docker_root)
    outcome = migrate(docker_root, check_mode=True)
    assert snapshot(docker_root) == before
    result = outcome.result
    assert result["changed"] is False
    assert result["layers_pending"] == len(manifest["layers"])
    assert result["bytes_pending"] == sum(layer["size"] for layer in manifest["layers"])  # from layersize
    assert result["estimated_seconds"] >= 0
    assert {layer["source"] for layer in result["layers"]} == {"pending"}


def test_second_run_changes_nothing(legacy_graph):
    docker_root, manifest = legacy_graph("aufs")
    first = migrate(docker_root, workers=2)
    assert first.result["changed"] is True
    after_first = snapshot(docker_root)
    second = migrate(docker_root, workers=2)
    assert second.result["changed"] is False
    assert second.result["layers_cached"] == len(manifest["layers"])
    assert second.result["bytes_hashed"] == 0
    assert snapshot(docker_root) == after_first
    assert [l["diff_id"] for l in second.result["layers"]] == [l["diff_id"] for l in first.result["layers"]]


@pytest.mark.parametrize("diffid", [b"", b"sha256:", b"sha256:" + b"0" * 63, b"garbage"])
def test_broken_cache_files_are_repaired(legacy_graph, diffid):
    docker_root, manifest = legacy_graph("vfs", tags={}, containers=[])
    layer = manifest["layers"][0]
    migrate(docker_root)
    with open(graph_file(docker_root, layer["v1id"], ".migration-diffid"), "wb") as stream:
        stream.write(diffid)
    check = migrate(docker_root, check_mode=True).result
    assert check["layers_pending"] == 1
    outcome = migrate(docker_root)
    result = by_id(outcome)[layer["v1id"]]
    assert outcome.result["layers_repaired"] == 1 and outcome.result["layers_computed"] == 1
    assert result["diff_id"] == layer["diff_id"]
    assert read_text(docker_root, layer["v1id"], ".migration-diffid") == layer["diff_id"]


def test_force_recomputes_cached_layers(legacy_graph):
    docker_root, manifest = legacy_graph("btrfs", tags={}, containers=[])
    migrate(docker_root)
    outcome = migrate(docker_root, force=True)
    assert outcome.result["layers_computed"] == len(manifest["layers"])
    assert {l["id"]: l["diff_id"] for l in outcome.result["layers"]} == {l["v1id"]: l["diff_id"] for l in manifest["layers"]}


def test_limit_to_some_layers(legacy_graph):
    docker_root, manifest = legacy_graph("overlay", tags={}, containers=[])
    wanted = manifest["layers"][2]["v1id"]
    outcome = migrate(docker_root, layers=[wanted])
    assert [layer["id"] for layer in outcome.result["layers"]] == [wanted]
    assert not os.path.exists(graph_file(docker_root, manifest["layers"][0]["v1id"], ".migration-diffid"))


def cache_states(docker_root, manifest):
    """Per layer: 'done' (all three files, valid) or 'pending' (no diffid); anything else is a bug."""
    states = {}
    for layer in manifest["layers"]:
        directory = os.path.dirname(graph_file(docker_root, layer["v1id"], "json"))
        names = os.listdir(directory)
        assert not [n for n in names if TEMP_MARKER in n], names
        if ".migration-diffid" in names:
            assert read_text(docker_root, layer["v1id"], ".migration-diffid") == layer["diff_id"]
            assert read_text(docker_root, layer["v1id"], ".migration-size") == str(layer["size"])
            assert ".migration-tardata" in names
            states[layer["v1id"]] = "done"
        else:
            states[layer["v1id"]] = "pending"
    return states


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("workers", ["1", "2"])
def test_interrupted_run_leaves_no_partial_file_and_resumes(legacy_graph, tmp_path, signum, workers):
    docker_root, manifest = legacy_graph("overlay", corpus="realistic", tags={}, containers=[])
    progress = tmp_path / "progress.json"
    process = subprocess.Popen([sys.executable, MIGRATOR, "checksums", "--docker-root", str(docker_root),
                                "--workers", workers, "--progress-file", str(progress), "--io-priority", "normal"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 30
    while not progress.exists() and time.time() < deadline:
        time.sleep(0.01)
    process.send_signal(signum)
    _out, err = process.communicate(timeout=60)
    states = cache_states(docker_root, manifest)
    if process.returncode == 0:
        pytest.skip("the run finished before the signal arrived; nothing to check")  # too fast a machine
    assert process.returncode == 130, err
    assert b"interrupted" in err
    assert json.loads(progress.read_text())["state"] == "interrupted"
    # resume: the rest is computed, the finished layers are not hashed again
    resumed = migrate(docker_root, workers=2)
    assert resumed.result["layers_cached"] == list(states.values()).count("done")
    assert set(cache_states(docker_root, manifest).values()) == {"done"}


def test_a_run_killed_outright_is_swept_by_the_next(legacy_graph):
    docker_root, manifest = legacy_graph("vfs", tags={}, containers=[])
    layer = manifest["layers"][0]["v1id"]
    killed = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                            capture_output=True, text=True).stdout.strip()     # a pid that no longer runs
    leftover = graph_file(docker_root, layer, ".migration-diffid" + TEMP_MARKER + killed)
    with open(leftover, "wb") as stream:
        stream.write(b"sha256:")                                              # half written when SIGKILLed
    outcome = migrate(docker_root, workers=2)
    assert by_id(outcome)[layer]["diff_id"] == manifest["layers"][0]["diff_id"]
    assert not os.path.exists(leftover)
    assert set(cache_states(docker_root, manifest).values()) == {"done"}


def test_cli_info_and_check(legacy_graph):
    docker_root, manifest = legacy_graph("aufs")
    info = json.loads(subprocess.run([sys.executable, MIGRATOR, "info", "--docker-root", str(docker_root), "--json"],
                                     check=True, capture_output=True).stdout)
    assert info["layers_total"] == len(manifest["layers"])
    plan = subprocess.run([sys.executable, MIGRATOR, "checksums", "--docker-root", str(docker_root), "--check"],
                          check=True, capture_output=True, text=True).stdout
    assert "pending" in plan
    assert not os.path.exists(graph_file(docker_root, manifest["layers"][0]["v1id"], ".migration-diffid"))
    bad = subprocess.run([sys.executable, MIGRATOR, "checksums", "--docker-root", str(docker_root / "nope")],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and "error:" in bad.stderr
