"""Reading the legacy store by Docker 1.10's rules."""
import json

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._legacy_store import (
    layer_parent, list_layer_ids, read_containers, read_tags)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._reference_names import tag_problem

A, B, C = "a" * 64, "b" * 64, "c" * 64


def make_layer(root, layer_id, config, parent_file=None):
    directory = root / "graph" / layer_id
    directory.mkdir(parents=True)
    (directory / "json").write_text(json.dumps(dict(config, id=layer_id)))
    if parent_file is not None:
        (directory / "parent").write_text(parent_file)


def test_only_64_hex_directories_are_layers(tmp_path):
    make_layer(tmp_path, A, {})
    (tmp_path / "graph" / "_tmp").mkdir()
    (tmp_path / "graph" / ("A" * 64)).mkdir()
    (tmp_path / "graph" / ("a" * 63)).mkdir()
    (tmp_path / "graph" / ("d" * 64)).write_text("a file")
    assert list_layer_ids(str(tmp_path)) == [A]


@pytest.mark.parametrize("config, parent_file, expected", [
    ({}, None, ""),
    ({"parent": B}, None, B),
    ({"parent_id": "sha256:" + C}, None, C),                  # Docker 1.9's field
    ({"parent": B, "parent_id": "sha256:" + C}, None, B),     # parent wins over parent_id
    ({"parent": B}, C, C),                                    # a non-empty parent file overrides
    ({"parent": B}, "", B),                                   # an empty one does not
    ({"Parent": B}, None, B),                                 # Go matches field names case-insensitively
])
def test_parent_rule(tmp_path, config, parent_file, expected):
    make_layer(tmp_path, A, config, parent_file)
    assert layer_parent(str(tmp_path), A) == expected


def test_tags_and_digests(tmp_path):
    (tmp_path / "repositories-aufs").write_text(json.dumps({"Repositories": {
        "ubuntu": {"14.04": A, "sha256:" + "e" * 64: A}, "busybox": {"latest": B}}}))
    assert read_tags(str(tmp_path), "aufs") == {
        "busybox:latest": B, "ubuntu:14.04": A, "ubuntu@sha256:" + "e" * 64: A}
    assert read_tags(str(tmp_path), "overlay") == {}


def test_containers(tmp_path):
    for cid, running in (("1" * 64, True), ("2" * 64, False)):
        (tmp_path / "containers" / cid).mkdir(parents=True)
        (tmp_path / "containers" / cid / "config.json").write_text(json.dumps(
            {"ID": cid, "Name": "/web" + cid[0], "Image": A, "State": {"Running": running}}))
    assert read_containers(str(tmp_path)) == [
        {"id": "1" * 64, "name": "web1", "image": A, "running": True},
        {"id": "2" * 64, "name": "web2", "image": A, "running": False},
    ]


@pytest.mark.parametrize("reference, rejected", [
    ("ubuntu:14.04", None),
    ("registry.example.com:5000/team/app:v1", None),
    ("Registry.Example.com/app:latest", "upper-case registry host"),
    ("MyApp:latest", "not valid"),
    ("app:" + "x" * 200, "tag"),
    ("app@sha256:" + "f" * 64, None),
    ("app@sha256:xyz", "digest"),
])
def test_tag_names_docker_110_rejects(reference, rejected):
    problem = tag_problem(reference)
    if rejected is None:
        assert problem is None
    else:
        assert rejected in problem
