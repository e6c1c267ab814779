"""The modules as Ansible runs them: packaged by AnsiballZ with their module_utils, on localhost."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def ansible_env(tmp_path_factory):
    layout = tmp_path_factory.mktemp("collections")
    namespace = layout / "ansible_collections" / "fleetops"
    namespace.mkdir(parents=True)
    (namespace / "docker_upgrade").symlink_to(REPO)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(layout), ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0", ANSIBLE_NOCOLOR="1")
    return env


def run_module(env, module, args, check=False):
    command = [str(Path(sys.executable).parent / "ansible"), "localhost", "-c", "local", "-m",
               "fleetops.docker_upgrade." + module, "-a", json.dumps(args)]
    if check:
        command.append("--check")
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    # the minimal callback prints "localhost | SUCCESS => {json}" (or FAILED!)
    head, _sep, body = completed.stdout.partition(" => ")
    assert body, completed.stdout + completed.stderr
    result = json.loads(body)
    result["failed"] = "FAILED" in head
    result["stderr_text"] = completed.stderr  # where ansible-core 2.19 prints warnings
    return result


def test_layer_checksums_module(ansible_env, legacy_graph):
    docker_root, manifest = legacy_graph("overlay", tarsplit={"child-ustar": False})
    args = {"docker_root": str(docker_root), "progress_file": "", "workers": 2}

    plan = run_module(ansible_env, "layer_checksums", args, check=True)
    assert plan["changed"] is False and plan["layers_pending"] == len(manifest["layers"])
    assert not list(Path(docker_root, "graph").glob("*/.migration-diffid"))

    result = run_module(ansible_env, "layer_checksums", args)
    assert result["changed"] is True and not result["failed"], result.get("msg")
    assert result["storage_driver"] == "overlay"  # found on its own: the only driver directory
    assert result["layers_fallback"] == 1 and result["layers_failed"] == 0
    assert "regenerated from its tree (no_tarsplit)" in " ".join(result["stderr_text"].split())
    diff_ids = {layer["id"]: layer["diff_id"] for layer in result["layers"]}
    for layer in manifest["layers"]:
        if layer["has_tarsplit"]:
            assert diff_ids[layer["v1id"]] == layer["diff_id"]

    again = run_module(ansible_env, "layer_checksums", args)
    assert again["changed"] is False and again["layers_cached"] == len(manifest["layers"])


def test_layer_checksums_module_fails_clearly(ansible_env, tmp_path):
    (tmp_path / "graph").mkdir()
    (tmp_path / "aufs").mkdir()
    (tmp_path / "overlay").mkdir()
    result = run_module(ansible_env, "layer_checksums", {"docker_root": str(tmp_path)})
    assert result["failed"] is True
    assert "several storage driver directories" in result["msg"] and "aufs, overlay" in result["msg"]


def test_graph_info_module(ansible_env, legacy_graph):
    docker_root, manifest = legacy_graph("aufs")
    result = run_module(ansible_env, "graph_info", {"docker_root": str(docker_root)}, check=True)
    assert result["changed"] is False
    assert result["layers_total"] == len(manifest["layers"]) == result["layers_pending"]
    assert result["problems"] == [], result["problems"]
    assert result["docker_version"] is None
    assert result["disk_free_bytes"] > 0
