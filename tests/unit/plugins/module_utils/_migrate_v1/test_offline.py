"""Offline migration of legacy stores built from real tars, read back by a verifier of its own.

The verifier below uses only json, hashlib, the fixture's manifest and the legacy store: it checks the
new store by Docker 1.10's rules (chain IDs from diffIDs, content-addressed configs, the rootfs and
history of every image, tags, mounts, container configs, file modes), not by calling the library.
"""
import hashlib
import json
import os
import signal
import socket
import stat

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1 import offline
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._graph_inventory import inventory
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.offline import (
    STAGING_DIR, Interrupted, OfflineMigrationError, offline_migrate)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.registry import open_driver
from migrator_helpers import migrate, snapshot

NO_DAEMON = dict(socket_path="/nonexistent/docker.sock", pid_file="/nonexistent/docker.pid")
DROPPED = ("id", "parent", "Size", "parent_id", "layer_id", "throwaway")
PULLED_DIGEST = "sha256:" + "ab" * 32


def run(docker_root, driver, **kwargs):
    return offline_migrate(str(docker_root), driver, **dict(NO_DAEMON, **kwargs))


def read(path, mode="rb"):
    with open(path, mode) as stream:
        return stream.read()


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_chain(manifest, v1_id):
    """Diff IDs of a layer's chain, base first, from the fixture's manifest."""
    layers = {layer["v1id"]: layer for layer in manifest["layers"]}
    chain = []
    while v1_id:
        chain.insert(0, layers[v1_id])
        v1_id = layers[v1_id]["parent"]
    return chain


def verify_store(docker_root, manifest, expect_failed=()):
    """Docker 1.10's view of the migrated store, checked independently. Returns the mappings."""
    root = str(docker_root)
    driver = manifest["driver"]
    image_root = os.path.join(root, "image", driver)
    assert not os.path.exists(os.path.join(root, STAGING_DIR))
    for directory in ("image", os.path.join("image", driver), os.path.join("image", driver, "layerdb"),
                      os.path.join("image", driver, "imagedb", "content", "sha256"),
                      os.path.join("image", driver, "imagedb", "metadata", "sha256"),
                      os.path.join("image", driver, "distribution")):
        assert mode_of(os.path.join(root, directory)) == 0o700, directory
    layers = {layer["v1id"]: layer for layer in manifest["layers"]}

    # layerdb: every directory's name is the chain ID its diff and parent give
    layerdb = os.path.join(image_root, "layerdb", "sha256")
    assert mode_of(layerdb) == 0o755
    chains = {}
    for name in os.listdir(layerdb):
        directory = os.path.join(layerdb, name)
        assert mode_of(directory) == 0o700
        files = sorted(os.listdir(directory))
        assert set(files) - {"parent"} == {"cache-id", "diff", "size", "tar-split.json.gz"}
        for file_name in files:
            assert mode_of(os.path.join(directory, file_name)) == 0o644
        diff = read(os.path.join(directory, "diff"), "r")
        parent = read(os.path.join(directory, "parent"), "r") if "parent" in files else None
        expected = diff if parent is None else sha256(("%s %s" % (parent, diff)).encode())
        assert "sha256:" + name == expected
        if parent:
            assert os.path.isdir(os.path.join(layerdb, parent.split(":")[1]))
        cache_id = read(os.path.join(directory, "cache-id"), "r")
        assert diff == layers[cache_id]["diff_id"]
        assert int(read(os.path.join(directory, "size"), "r")) == layers[cache_id]["size"]
        assert read(os.path.join(directory, "tar-split.json.gz")) == \
            read(os.path.join(root, "graph", cache_id, ".migration-tardata"))
        chains["sha256:" + name] = (diff, parent)

    # mappings and images: content-addressed, rootfs = the chain's diffIDs, history one entry a layer
    raw_mappings = read(os.path.join(root, ".migration-v1-images.json"))
    assert raw_mappings.endswith(b"}\n") and mode_of(os.path.join(root, ".migration-v1-images.json")) == 0o600
    mappings = json.loads(raw_mappings)
    assert sorted(mappings) == sorted(set(layers) - set(expect_failed))
    content = os.path.join(image_root, "imagedb", "content", "sha256")
    for name in os.listdir(content):
        assert sha256(read(os.path.join(content, name))) == "sha256:" + name
        assert mode_of(os.path.join(content, name)) == 0o600
    for v1_id, image in mappings.items():
        config_bytes = read(os.path.join(content, image.split(":")[1]))
        config = json.loads(config_bytes.decode("utf-8"))
        chain = manifest_chain(manifest, v1_id)
        assert config["rootfs"] == {"type": "layers", "diff_ids": [layer["diff_id"] for layer in chain]}
        assert chain[-1]["chain_id"] in chains
        v1_json = json.loads(read(os.path.join(root, "graph", v1_id, "json")).decode("utf-8"))
        rest = dict((k, v) for k, v in config.items() if k not in ("rootfs", "history"))
        assert rest == dict((k, v) for k, v in v1_json.items() if k not in DROPPED)
        assert list(config) == sorted(config)
        history = config["history"]
        assert len(history) == len(chain)
        for entry, layer in zip(history, chain):
            layer_json = json.loads(read(os.path.join(root, "graph", layer["v1id"], "json")).decode("utf-8"))
            assert entry["created"] == layer_json["created"]
            assert entry["created_by"] == " ".join(layer_json["container_config"]["Cmd"])
        parent_file = os.path.join(image_root, "imagedb", "metadata", "sha256", image.split(":")[1], "parent")
        if layers[v1_id]["parent"]:
            assert read(parent_file, "r") == mappings[layers[v1_id]["parent"]]
            assert mode_of(parent_file) == 0o600
        else:
            assert not os.path.exists(parent_file)

    # tags
    repositories_path = os.path.join(image_root, "repositories.json")
    assert mode_of(repositories_path) == 0o600
    repositories = json.loads(read(repositories_path).decode("utf-8"))["Repositories"]
    for repo, tags in manifest["tags"].items():
        for tag, v1_id in tags.items():
            if v1_id in mappings:
                assert repositories[repo]["%s:%s" % (repo, tag)] == mappings[v1_id]
    assert read(os.path.join(root, ".migration-v1-tags")) == b""
    assert mode_of(os.path.join(root, ".migration-v1-tags")) == 0o644

    # containers: config.v2.json and the read-write layer
    for container in manifest["containers"]:
        cid = container["id"]
        v2_path = os.path.join(root, "containers", cid, "config.v2.json")
        if container["image"] not in mappings:
            assert not os.path.exists(v2_path)
            continue
        legacy = json.loads(read(os.path.join(root, "containers", cid, "config.json")).decode("utf-8"))
        migrated = json.loads(read(v2_path).decode("utf-8"))
        assert mode_of(v2_path) == 0o600
        assert migrated == dict(legacy, Image=mappings[container["image"]])
        mount = os.path.join(image_root, "layerdb", "mounts", cid)
        assert mode_of(mount) == 0o755 and mode_of(os.path.dirname(mount)) == 0o755
        assert read(os.path.join(mount, "mount-id"), "r") == cid
        assert read(os.path.join(mount, "init-id"), "r") == cid + "-init"
        assert read(os.path.join(mount, "parent"), "r") == manifest_chain(manifest, container["image"])[-1]["chain_id"]
        for file_name in os.listdir(mount):
            assert mode_of(os.path.join(mount, file_name)) == 0o644
    return mappings


def content_state(root):
    """Paths, kinds, modes and file hashes (not times: rolled-back renames touch directory times)."""
    return dict((path, value[:1] + value[4:]) for path, value in snapshot(root).items())


def relative_tree(root, *subpaths):
    """{relative path: (mode, bytes with the docker root's own path replaced)} of files and dirs."""
    found = {}
    for sub in subpaths:
        base = os.path.join(str(root), sub)
        if os.path.isfile(base):
            found[sub] = (mode_of(base), read(base).replace(str(root).encode(), b"<root>"))
            continue
        for directory, _dirs, files in os.walk(base):
            found[os.path.relpath(directory, str(root))] = (mode_of(directory), None)
            for name in files:
                path = os.path.join(directory, name)
                found[os.path.relpath(path, str(root))] = (mode_of(path), read(path))
    return found


@pytest.mark.parametrize("driver", ["overlay", "aufs"])
def test_offline_migration_matches_docker(legacy_graph, driver):
    docker_root, manifest = legacy_graph(driver)
    base = manifest["layers"][0]["v1id"]
    with open(os.path.join(str(docker_root), "graph", base, "checksum"), "w") as stream:
        stream.write(PULLED_DIGEST)  # a pulled layer's blob digest
    migrate(docker_root)
    before = snapshot(docker_root)

    plan = run(docker_root, driver, check_mode=True)
    assert snapshot(docker_root) == before
    assert plan["changed"] is True and plan["problems"] == []

    result = run(docker_root, driver)
    assert result["changed"] is True and result["problems"] == []
    assert result["images_migrated"] == len(manifest["layers"]) == result["layers_registered"]
    assert result["containers_migrated"] == len(manifest["containers"])
    mappings = verify_store(docker_root, manifest)
    assert result["mappings"] == mappings == plan["mappings"]
    expected_tags = dict(("%s:%s" % (repo, tag), mappings[v1]) for repo, tags in manifest["tags"].items()
                         for tag, v1 in tags.items())
    assert result["tags"] == expected_tags

    # distribution metadata from the checksum file
    diff_id = manifest["layers"][0]["diff_id"]
    distribution = os.path.join(str(docker_root), "image", driver, "distribution")
    by_diffid = os.path.join(distribution, "v2metadata-by-diffid", "sha256", diff_id.split(":")[1])
    assert json.loads(read(by_diffid)) == [{"Digest": PULLED_DIGEST, "SourceRepository": ""}]
    by_digest = os.path.join(distribution, "diffid-by-digest", "sha256", PULLED_DIGEST.split(":")[1])
    assert read(by_digest, "r") == diff_id
    assert mode_of(by_diffid) == mode_of(by_digest) == 0o644
    assert mode_of(os.path.dirname(by_diffid)) == mode_of(os.path.dirname(os.path.dirname(by_diffid))) == 0o755

    # graph_info predicted the same IDs before anything was written
    images = inventory(open_driver(str(docker_root), driver), socket_path=NO_DAEMON["socket_path"])["images"]
    by_v1 = {layer["v1id"]: layer for layer in manifest["layers"]}
    for image in images:
        assert image["image_id"] == mappings[image["v1_id"]]
        assert image["chain_id"] == by_v1[image["v1_id"]]["chain_id"]

    # idempotent: nothing at all changes the second time
    settled = snapshot(docker_root)
    again = run(docker_root, driver)
    assert again["changed"] is False and again["files_planned"] == 0
    assert again["images_already_migrated"] == len(manifest["layers"])
    assert snapshot(docker_root) == settled


def test_pending_layers_and_a_running_daemon(legacy_graph, tmp_path):
    docker_root, manifest = legacy_graph("vfs")
    migrate(docker_root)
    top = manifest["layers"][-1]["v1id"]
    os.unlink(os.path.join(str(docker_root), "graph", top, ".migration-diffid"))
    before = snapshot(docker_root)
    with pytest.raises(OfflineMigrationError, match="run layer_checksums first.*%s" % top):
        run(docker_root, "vfs")
    assert snapshot(docker_root) == before

    # allowed: the rest is migrated; that image, its containers and every tag are left to the daemon
    result = run(docker_root, "vfs", allow_pending_layers=True)
    assert result["layers_left_to_daemon"] == [top] and result["problems"] == []
    statuses = dict((image["v1_id"], image["status"]) for image in result["images"])
    assert statuses.pop(top) == "left_to_daemon" and set(statuses.values()) == {"migrated"}
    assert sorted(result["mappings"]) == sorted(statuses)
    assert "left_to_daemon" in [container["status"] for container in result["containers"]]
    assert result["tags"] == {} and not os.path.exists(os.path.join(str(docker_root), ".migration-v1-tags"))
    assert read(os.path.join(str(docker_root), "image", "vfs", "repositories.json")) == b'{"Repositories":{}}'
    migrate(docker_root)  # the layer gets its checksum: a new run completes the migration
    run(docker_root, "vfs")
    verify_store(docker_root, manifest)
    os.unlink(os.path.join(str(docker_root), ".migration-v1-tags"))
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock_path = str(tmp_path / "docker.sock")
    listening.bind(sock_path)
    listening.listen(1)
    try:
        with pytest.raises(OfflineMigrationError, match="daemon runs"):
            offline_migrate(str(docker_root), "vfs", socket_path=sock_path, pid_file=None)
        # check mode only reads: it plans while the daemon runs
        planned = offline_migrate(str(docker_root), "vfs", check_mode=True, socket_path=sock_path, pid_file=None)
        assert sorted(planned["mappings"]) == sorted(layer["v1id"] for layer in manifest["layers"])
        with pytest.raises(OfflineMigrationError, match="daemon runs"):
            pid_file = tmp_path / "docker.pid"
            pid_file.write_text("%d\n" % os.getpid())
            offline_migrate(str(docker_root), "vfs", socket_path=None, pid_file=str(pid_file))
    finally:
        listening.close()
    assert not os.path.exists(os.path.join(str(docker_root), ".migration-v1-tags"))


def test_failure_in_the_middle_of_the_commit_leaves_nothing(legacy_graph, monkeypatch):
    docker_root, manifest = legacy_graph("overlay")
    migrate(docker_root)
    before = content_state(docker_root)
    calls = []

    def failing_rename(source, target):
        calls.append(target)
        if len(calls) == 3:  # image/ and one container config are in place by now
            raise OSError(5, "simulated I/O error")
        os.rename(source, target)

    monkeypatch.setattr(offline, "_rename", failing_rename)
    with pytest.raises(OfflineMigrationError, match="the store is unchanged"):
        run(docker_root, "overlay")
    assert len(calls) == 3
    assert content_state(docker_root) == before
    monkeypatch.undo()
    run(docker_root, "overlay")
    verify_store(docker_root, manifest)


def test_stop_signal_while_staging_leaves_nothing(legacy_graph, monkeypatch):
    docker_root, _manifest = legacy_graph("overlay")
    migrate(docker_root)
    before = content_state(docker_root)
    stage = offline._Transaction.stage
    count = []

    def stage_then_signal(self, action):
        count.append(action)
        if len(count) == 10:
            os.kill(os.getpid(), signal.SIGTERM)
        return stage(self, action)

    monkeypatch.setattr(offline._Transaction, "stage", stage_then_signal)
    with pytest.raises(Interrupted):
        run(docker_root, "overlay")
    assert content_state(docker_root) == before


def test_stop_signal_during_the_commit_waits_for_it(legacy_graph, monkeypatch):
    docker_root, manifest = legacy_graph("overlay")
    migrate(docker_root)

    def rename_with_signal(source, target):
        os.kill(os.getpid(), signal.SIGINT)
        os.rename(source, target)

    monkeypatch.setattr(offline, "_rename", rename_with_signal)
    result = run(docker_root, "overlay")
    assert "completed first" in result["warnings"][0]
    verify_store(docker_root, manifest)


def test_killed_during_the_commit_then_rerun(legacy_graph, monkeypatch):
    """A SIGKILL in the middle of the commit (no rollback, staging left): the new run removes the
    leftovers and completes the store, which is then the same as after an uninterrupted run."""
    docker_root, manifest = legacy_graph("overlay")
    migrate(docker_root)
    calls = []

    def dying_rename(source, target):
        calls.append(target)
        if len(calls) == 3:
            raise KeyboardInterrupt  # stands for the kill
        os.rename(source, target)

    monkeypatch.setattr(offline, "_rename", dying_rename)
    monkeypatch.setattr(offline._Transaction, "rollback", lambda self: [])
    monkeypatch.setattr(offline._Transaction, "clear_staging", lambda self: None)
    with pytest.raises(OfflineMigrationError):
        run(docker_root, "overlay")
    assert os.path.isdir(os.path.join(str(docker_root), "image", "overlay", "layerdb"))
    assert not os.path.exists(os.path.join(str(docker_root), ".migration-v1-images.json"))
    assert os.path.isdir(os.path.join(str(docker_root), STAGING_DIR))
    monkeypatch.undo()
    resumed = run(docker_root, "overlay")
    assert resumed["changed"] is True
    verify_store(docker_root, manifest)

    clean_root, _clean_manifest = legacy_graph("overlay")
    migrate(clean_root)
    run(clean_root, "overlay")
    parts = ("image", ".migration-v1-images.json", ".migration-v1-tags")
    assert relative_tree(docker_root, *parts) == relative_tree(clean_root, *parts)
    for container in manifest["containers"]:
        path = os.path.join("containers", container["id"], "config.v2.json")
        assert relative_tree(docker_root, path) == relative_tree(clean_root, path)


def test_docker_failures_are_mirrored(legacy_graph):
    """A config Docker 1.10.3 rejects (created: null fails time.Time's UnmarshalJSON in Go 1.5): the
    layer is registered first and stays, the image, its children, their tags and containers are lost."""
    docker_root, manifest = legacy_graph("overlay")
    migrate(docker_root)
    broken = manifest["layers"][-2]
    json_path = os.path.join(str(docker_root), "graph", broken["v1id"], "json")
    config = json.loads(read(json_path).decode("utf-8"))
    config["created"] = None
    with open(json_path, "w") as stream:
        json.dump(config, stream)
    lost = [broken["v1id"], manifest["layers"][-1]["v1id"]]

    images = inventory(open_driver(str(docker_root), "overlay"), socket_path=NO_DAEMON["socket_path"])["images"]
    assert [image["v1_id"] for image in images if image["image_id"] is None] == sorted(lost)

    result = run(docker_root, "overlay")
    mappings = verify_store(docker_root, manifest, expect_failed=lost)
    assert sorted(mappings) == sorted(set(layer["v1id"] for layer in manifest["layers"]) - set(lost))
    kinds = sorted((problem["kind"], problem["id"]) for problem in result["problems"])
    assert ("image_not_migrated", broken["v1id"]) in kinds
    assert ("image_not_migrated", lost[1]) in kinds
    assert ("tag_not_migrated", "fleetops/app:latest") in kinds
    assert ("container_not_migrated", [c["id"] for c in manifest["containers"] if c["image"] == lost[1]][0]) in kinds
    # the broken layer's chain was registered before its config failed, as Docker does
    layerdb = os.path.join(str(docker_root), "image", "overlay", "layerdb", "sha256")
    assert broken["chain_id"].split(":")[1] in os.listdir(layerdb)
    assert manifest["layers"][-1]["chain_id"].split(":")[1] not in os.listdir(layerdb)
    assert run(docker_root, "overlay")["changed"] is False
