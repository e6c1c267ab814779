"""graph_info's inventory and its problems: what Docker 1.10 would drop, found before any downtime."""
import http.server
import json
import os
import shutil
import socketserver
import threading

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._graph_inventory import inventory
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.registry import (
    DriverError, detect_driver_name, open_driver)
from migrator_helpers import migrate


def run(docker_root, driver="auto"):
    return inventory(open_driver(str(docker_root), driver), socket_path="/nonexistent/docker.sock")


def kinds(result):
    return sorted((problem["kind"], problem["id"]) for problem in result["problems"])


def test_clean_store(legacy_graph):
    docker_root, manifest = legacy_graph("overlay")
    result = run(docker_root)
    assert result["problems"] == []
    assert result["storage_driver"] == "overlay"
    assert result["layers_total"] == result["layers_pending"] == len(manifest["layers"])
    assert result["bytes_pending"] == sum(layer["size"] for layer in manifest["layers"])
    expected_tags = {"%s:%s" % (repo, tag): v1 for repo, tags in manifest["tags"].items() for tag, v1 in tags.items()}
    assert result["tags"] == expected_tags
    assert [c["id"] for c in result["containers"]] == sorted(c["id"] for c in manifest["containers"])
    assert {c["running"] for c in result["containers"]} == {True, False}
    images = {image["v1_id"]: image for image in result["images"]}
    last = manifest["layers"][-1]
    assert images[last["v1id"]]["layer_count"] == len(manifest["layers"])
    assert not any(image["checksummed"] for image in result["images"])
    migrate(docker_root)
    after = run(docker_root)
    assert after["layers_pending"] == 0 and all(image["checksummed"] for image in after["images"])


def test_every_problem_kind(legacy_graph):
    docker_root, manifest = legacy_graph("aufs")
    layers = manifest["layers"]
    # a layer whose parent is gone: it and its descendants would be dropped
    broken = layers[2]
    shutil.rmtree(os.path.join(str(docker_root), "graph", broken["parent"]))
    # a graph id whose tree is missing from the driver
    treeless = layers[0]
    shutil.rmtree(os.path.join(str(docker_root), treeless["layer_dir"]))
    # a cache file left empty by a killed run
    with open(os.path.join(str(docker_root), "graph", layers[-1]["v1id"], ".migration-diffid"), "w"):
        pass
    # tags Docker 1.10 rejects, and a tag pointing nowhere
    repositories_path = os.path.join(str(docker_root), "repositories-aufs")
    repositories = json.load(open(repositories_path))
    repositories["Repositories"]["Registry.Example.com/app"] = {"v1": layers[-1]["v1id"]}
    repositories["Repositories"]["ghost"] = {"latest": "f" * 64}
    json.dump(repositories, open(repositories_path, "w"))
    # a container whose read-write layer is gone
    container = manifest["containers"][0]
    shutil.rmtree(os.path.join(str(docker_root), "aufs", "diff", container["id"]))

    problems = kinds(run(docker_root))
    assert ("broken_parent", broken["v1id"]) in problems
    for descendant in layers[3:]:
        assert ("lost_with_parent", descendant["v1id"]) in problems
    assert ("missing_layer_tree", treeless["v1id"]) in problems
    assert ("invalid_cache", layers[-1]["v1id"]) in problems
    assert ("rejected_tag", "Registry.Example.com/app:v1") in problems
    assert ("tag_without_image", "ghost:latest") in problems
    assert ("container_layer_missing", container["id"]) in problems
    # containers on the lost chain would vanish too
    lost = {layer["v1id"] for layer in layers[2:]}
    for other in manifest["containers"]:
        if other["image"] in lost:
            assert ("container_image_missing", other["id"]) in problems


def test_auto_detection_lists_candidates(tmp_path):
    (tmp_path / "graph").mkdir()
    (tmp_path / "vfs").mkdir()
    (tmp_path / "btrfs").mkdir()
    with pytest.raises(DriverError, match="btrfs, vfs"):
        run(tmp_path)


class _FakeDaemon(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def fake_daemon(socket_path, answers):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = json.dumps(answers[self.path]).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def address_string(self):
            return "docker.sock"

        def log_message(self, *args):
            pass

    server = _FakeDaemon(str(socket_path), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_running_daemon_decides_the_driver(tmp_path):
    (tmp_path / "graph").mkdir()
    (tmp_path / "vfs").mkdir()
    (tmp_path / "btrfs").mkdir()
    socket_path = tmp_path / "docker.sock"
    server = fake_daemon(socket_path, {"/info": {"Driver": "btrfs", "DockerRootDir": str(tmp_path)},
                                       "/version": {"Version": "1.9.1"}})
    try:
        assert detect_driver_name(str(tmp_path), str(socket_path)) == "btrfs"
        result = inventory(open_driver(str(tmp_path), "auto", socket_path=str(socket_path)), str(socket_path))
        assert result["docker_version"] == "1.9.1"
    finally:
        server.shutdown()
        server.server_close()
