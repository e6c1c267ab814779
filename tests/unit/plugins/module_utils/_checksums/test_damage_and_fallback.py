"""Damaged stores: every kind of bad input gives its documented outcome, naming the layer and file."""
import base64
import gzip
import json
import os

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._tarsplit.crc64 import crc64_iso
from migrator_helpers import by_id, graph_file, migrate, read_text, reassemble


def tarsplit_lines(path):
    with gzip.open(path, "rb") as stream:
        return [json.loads(line) for line in stream if line.strip()]


def write_tarsplit(path, lines):
    os.chmod(path, 0o600)
    with gzip.open(path, "wb") as stream:
        for line in lines:
            stream.write(json.dumps(line).encode() + b"\n")


def biggest_file_entry(path):
    return max((line for line in tarsplit_lines(path) if line["type"] == 1 and line.get("name")),
               key=lambda line: line.get("size", 0))


@pytest.fixture(params=["aufs", "overlay"])
def store(request, legacy_graph):
    docker_root, manifest = legacy_graph(request.param, tags={}, containers=[])
    layer = next(layer for layer in manifest["layers"] if layer["name"] == "base-gnu")
    return docker_root, manifest, layer


def tree_path(docker_root, layer, name):
    return os.path.join(str(docker_root), layer["layer_dir"], name)


def assert_regenerated(docker_root, manifest, layer, tmp_path, reason):
    outcome = migrate(docker_root, workers=1)
    result = by_id(outcome)[layer["v1id"]]
    assert result["source"] == "regenerated", result
    assert result["reason"].startswith(reason), result["reason"]
    assert result["error"] is None
    assert any(layer["v1id"] in warning and reason in warning for warning in outcome.warnings)
    # still a complete, consistent answer Docker 1.10 and tar-split accept
    assert reassemble(docker_root, manifest, layer, tmp_path / "rebuilt.tar") == result["diff_id"]
    assert read_text(docker_root, layer["v1id"], ".migration-diffid") == result["diff_id"]
    # the other layers are not affected
    for other in manifest["layers"]:
        if other is not layer:
            assert by_id(outcome)[other["v1id"]]["diff_id"] == other["diff_id"]
    return result


def test_crc_mismatch(store, tmp_path):
    docker_root, manifest, layer = store
    entry = biggest_file_entry(graph_file(docker_root, layer["v1id"], "tar-data.json.gz"))
    path = tree_path(docker_root, layer, entry["name"])
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF  # same size, different content
    os.unlink(path)  # overlay children share this inode: never write through it
    with open(path, "wb") as stream:
        stream.write(data)
    result = assert_regenerated(docker_root, manifest, layer, tmp_path, "integrity " + entry["name"].lstrip("./"))
    assert result["diff_id"] != layer["diff_id"]


def test_missing_file(store, tmp_path):
    docker_root, manifest, layer = store
    entry = biggest_file_entry(graph_file(docker_root, layer["v1id"], "tar-data.json.gz"))
    os.unlink(tree_path(docker_root, layer, entry["name"]))
    assert_regenerated(docker_root, manifest, layer, tmp_path, "missing ")


def test_truncated_gzip(store, tmp_path):
    docker_root, manifest, layer = store
    path = graph_file(docker_root, layer["v1id"], "tar-data.json.gz")
    data = open(path, "rb").read()
    with open(path, "wb") as stream:
        stream.write(data[: len(data) // 2])
    assert_regenerated(docker_root, manifest, layer, tmp_path, "corrupt_tarsplit")


def test_garbage_json(store, tmp_path):
    docker_root, manifest, layer = store
    path = graph_file(docker_root, layer["v1id"], "tar-data.json.gz")
    with gzip.open(path, "wb") as stream:
        stream.write(b'{"type":2,"payload":"AAAA","position":0}\n{this is not json\n')
    assert_regenerated(docker_root, manifest, layer, tmp_path, "corrupt_tarsplit")


def test_dotdot_name_never_reads_outside(store, tmp_path):
    docker_root, manifest, layer = store
    path = graph_file(docker_root, layer["v1id"], "tar-data.json.gz")
    secret = tmp_path / "host-secret"
    secret.write_bytes(b"host data that must never be read")
    lines = tarsplit_lines(path)
    target = next(line for line in lines if line["type"] == 1 and line.get("size"))
    # a name climbing out of the layer to a host file, with that file's true size and CRC
    target["name"] = "../" * 12 + str(secret).lstrip("/")
    target["size"] = secret.stat().st_size
    target["payload"] = base64.b64encode(crc64_iso(secret.read_bytes()).to_bytes(8, "big")).decode()
    write_tarsplit(path, lines)
    assert_regenerated(docker_root, manifest, layer, tmp_path, "integrity ")


def test_symlink_out_of_the_layer_is_not_followed_to_the_host(store, tmp_path):
    docker_root, manifest, layer = store
    path = graph_file(docker_root, layer["v1id"], "tar-data.json.gz")
    secret_dir = tmp_path / "hostdir"
    secret_dir.mkdir()
    (secret_dir / "secret").write_bytes(b"host data")
    os.symlink(str(secret_dir), tree_path(docker_root, layer, "evil"))
    lines = tarsplit_lines(path)
    target = next(line for line in lines if line["type"] == 1 and line.get("size"))
    target["name"] = "evil/secret"
    target["size"] = 9
    target["payload"] = base64.b64encode(crc64_iso(b"host data").to_bytes(8, "big")).decode()
    write_tarsplit(path, lines)
    # inside the layer, /tmp/.../hostdir does not exist: the entry is missing, never the host's file
    assert_regenerated(docker_root, manifest, layer, tmp_path, "missing evil/secret")


def test_fifo_where_a_file_should_be_does_not_hang(store, tmp_path):
    docker_root, manifest, layer = store
    entry = biggest_file_entry(graph_file(docker_root, layer["v1id"], "tar-data.json.gz"))
    path = tree_path(docker_root, layer, entry["name"])
    os.unlink(path)
    os.mkfifo(path)
    outcome = migrate(docker_root, workers=1)
    result = by_id(outcome)[layer["v1id"]]
    # the tar-split path refuses the FIFO; regenerating writes it as a FIFO header, never opening it
    assert result["reason"].startswith("integrity "), result
    assert result["source"] == "regenerated"


def test_layer_without_a_tree_fails_alone_and_the_task_fails_after_the_rest(store):
    docker_root, manifest, layer = store
    victim = manifest["layers"][-1]
    os.rename(os.path.join(str(docker_root), victim["layer_dir"]), os.path.join(str(docker_root), "moved-away"))
    outcome = migrate(docker_root, workers=2)
    result = by_id(outcome)[victim["v1id"]]
    assert result["error"] and victim["v1id"] in result["error"]
    assert outcome.result["layers_failed"] == 1
    assert outcome.failure and "max_failed_layers=0" in outcome.failure
    assert outcome.result["layers_computed"] == len(manifest["layers"]) - 1
    assert not os.path.exists(graph_file(docker_root, victim["v1id"], ".migration-diffid"))
    assert migrate(docker_root, max_failed_layers=1).failure is None
