"""End to end over stores built from real tar files: our diffIDs equal the SHA-256 of the original tars."""
import os

import pytest

from migrator_helpers import DRIVERS, EMPTY_LAYER, by_id, migrate, read_text, reassemble, tar_members


@pytest.mark.parametrize("driver", DRIVERS)
def test_tarsplit_replay_is_byte_exact(legacy_graph, driver):
    docker_root, manifest = legacy_graph(driver)
    outcome = migrate(docker_root, workers=2)
    results = by_id(outcome)
    assert outcome.failure is None and outcome.warnings == []
    for layer in manifest["layers"]:
        result = results[layer["v1id"]]
        assert result["source"] == "tarsplit", result
        assert result["diff_id"] == layer["diff_id"], layer["name"]
        assert result["size"] == layer["size"], layer["name"]
        assert result["tar_bytes"] == layer["tar_bytes"], layer["name"]
        # exactly what Docker 1.10 reads
        assert read_text(docker_root, layer["v1id"], ".migration-diffid") == layer["diff_id"]
        assert read_text(docker_root, layer["v1id"], ".migration-size") == str(layer["size"])
        tardata = os.path.join(str(docker_root), "graph", layer["v1id"])
        assert os.stat(os.path.join(tardata, ".migration-tardata")).st_ino == \
            os.stat(os.path.join(tardata, "tar-data.json.gz")).st_ino
    assert outcome.result["layers_computed"] == len(manifest["layers"])
    assert outcome.result["bytes_hashed"] == sum(layer["tar_bytes"] for layer in manifest["layers"])
    assert EMPTY_LAYER in {layer["diff_id"] for layer in manifest["layers"]}


@pytest.mark.parametrize("driver", DRIVERS)
def test_symlinks_resolve_inside_the_layer(legacy_graph, tar_corpus_info, driver):
    """Entries written through lib64 -> /usr/lib and up -> ../../.. give the exact diffID (Docker 1.9's chroot)."""
    layers = [dict(link, tar=tar_corpus_info["tars"][link["tar"]]["path"])
              for link in tar_corpus_info["extra_chains"]["escape"]]
    docker_root, manifest = legacy_graph(driver, layers=layers, tags={}, containers=[])
    results = by_id(migrate(docker_root, workers=1))
    for layer in manifest["layers"]:
        assert results[layer["v1id"]]["source"] == "tarsplit"
        assert results[layer["v1id"]]["diff_id"] == layer["diff_id"]


@pytest.mark.parametrize("driver", DRIVERS)
def test_fallback_regenerates_a_stream_tar_split_reassembles(legacy_graph, tmp_path, driver):
    docker_root, manifest = legacy_graph(driver, tarsplit=False)
    outcome = migrate(docker_root, workers=2)
    results = by_id(outcome)
    assert outcome.failure is None
    for layer in manifest["layers"]:
        result = results[layer["v1id"]]
        assert (result["source"], result["reason"]) == ("regenerated", "no_tarsplit")
        assert read_text(docker_root, layer["v1id"], ".migration-diffid") == result["diff_id"]
        rebuilt = tmp_path / (layer["name"] + ".tar")
        assert reassemble(docker_root, manifest, layer, rebuilt) == result["diff_id"]
        assert_same_changes(docker_root, manifest, layer, rebuilt, driver)
    assert len(outcome.warnings) == len(manifest["layers"])
    assert all("no_tarsplit" in warning for warning in outcome.warnings)


def regular_or_link(members):
    """Non-directory members; which of a set of hard links comes first is the writer's order, so a
    hard link and a regular file count alike."""
    return {name: b"0" if kind in (b"0", b"1", b"\x00") else kind for name, kind in members.items() if kind != b"5"}


def is_whiteout(name):
    return os.path.basename(name).startswith(".wh.")


def assert_same_changes(docker_root, manifest, layer, rebuilt, driver):
    """The regenerated tar holds exactly the layer's files and links, and its whiteouts delete exactly
    what the layer deleted from its parent."""
    original = regular_or_link(tar_members(layer["tar"]))
    regenerated = regular_or_link(tar_members(rebuilt))
    if driver == "aufs":  # the diff dir is the layer as it was extracted, whiteouts included
        assert regenerated == original, layer["name"]
        return
    assert {n for n in regenerated if not is_whiteout(n)} == {n for n in original if not is_whiteout(n)}, layer["name"]
    # On a full-rootfs driver an opaque directory shows as one whiteout per entry it hid.
    parent = next((p for p in manifest["layers"] if p["v1id"] == layer["parent"]), None)
    for name in regenerated:
        if is_whiteout(name):
            deleted = os.path.join(os.path.dirname(name), os.path.basename(name)[len(".wh."):])
            assert parent and os.path.lexists(os.path.join(str(docker_root), parent["layer_dir"], deleted)), name
            assert not os.path.lexists(os.path.join(str(docker_root), layer["layer_dir"], deleted)), name


@pytest.mark.parametrize("driver", ["aufs", "overlay"])
def test_regeneration_is_deterministic(legacy_graph, driver):
    docker_root, manifest = legacy_graph(driver, tarsplit=False)
    first = {k: v["diff_id"] for k, v in by_id(migrate(docker_root)).items()}
    second = {k: v["diff_id"] for k, v in by_id(migrate(docker_root, force=True)).items()}
    assert first == second
