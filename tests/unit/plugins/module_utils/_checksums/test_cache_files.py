"""The cache files are exactly what Docker 1.10 reads, written atomically, and broken ones are found."""
import os
import stat

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils import _atomic_files
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.cache_files import (
    ABSENT, INVALID, VALID, read_cache, write_cache)

DIGEST = "sha256:" + "ab" * 32


@pytest.fixture
def layer_dir(tmp_path):
    (tmp_path / "tar-data.json.gz").write_bytes(b"tar-split data")
    return tmp_path


def test_write_then_read(layer_dir):
    write_cache(str(layer_dir), DIGEST, 1234, reused_tarsplit=True)
    assert (layer_dir / ".migration-diffid").read_bytes() == DIGEST.encode()  # no newline
    assert (layer_dir / ".migration-size").read_bytes() == b"1234"
    for name in (".migration-diffid", ".migration-size"):
        assert stat.S_IMODE(os.stat(layer_dir / name).st_mode) == 0o600
    # reused tar-split data is a hard link, not a copy
    assert os.stat(layer_dir / ".migration-tardata").st_ino == os.stat(layer_dir / "tar-data.json.gz").st_ino
    state = read_cache(str(layer_dir))
    assert (state.state, state.diff_id, state.size) == (VALID, DIGEST, 1234)


def test_relink_replaces_an_old_tardata(layer_dir):
    (layer_dir / ".migration-tardata").write_bytes(b"stale")
    write_cache(str(layer_dir), DIGEST, 1, reused_tarsplit=True)
    assert (layer_dir / ".migration-tardata").read_bytes() == b"tar-split data"
    assert not [n for n in os.listdir(layer_dir) if _atomic_files.TEMP_MARKER in n]


def test_relink_of_an_existing_link_leaves_no_temp(layer_dir):
    # a run killed after linking the tar-split data but before the diffid: the resume links again,
    # and rename(2) between two names of one inode does nothing, which once left the temp link behind
    os.link(layer_dir / "tar-data.json.gz", layer_dir / ".migration-tardata")
    write_cache(str(layer_dir), DIGEST, 1, reused_tarsplit=True)
    assert sorted(os.listdir(layer_dir)) == [".migration-diffid", ".migration-size", ".migration-tardata",
                                             "tar-data.json.gz"]
    assert os.stat(layer_dir / "tar-data.json.gz").st_nlink == 2


def test_absent(layer_dir):
    assert read_cache(str(layer_dir)).state == ABSENT


@pytest.mark.parametrize("diffid, size, detail", [
    (b"", b"12", "not sha256"),                       # left by a killed Docker <= 1.10.1 (moby#20267)
    (b"sha256:abc", b"12", "not sha256"),
    (DIGEST.encode() + b"\n", b"12", "not sha256"),
    (DIGEST.encode(), b"", "not a decimal"),
    (DIGEST.encode(), None, "missing"),
])
def test_invalid(layer_dir, diffid, size, detail):
    (layer_dir / ".migration-diffid").write_bytes(diffid)
    if size is not None:
        (layer_dir / ".migration-size").write_bytes(size)
    (layer_dir / ".migration-tardata").write_bytes(b"x")
    state = read_cache(str(layer_dir))
    assert state.state == INVALID
    assert detail in state.detail


def test_atomic_writer_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "file"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with _atomic_files.atomic_writer(str(target)) as stream:
            stream.write(b"half of the new")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["file"]


def test_temps_of_live_runs_can_be_kept(tmp_path):
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    (tmp_path / (".migration-size" + _atomic_files.TEMP_MARKER + str(dead))).write_bytes(b"")
    (tmp_path / (".migration-diffid" + _atomic_files.TEMP_MARKER + "1")).write_bytes(b"")   # init: alive
    assert _atomic_files.remove_stale_temps(str(tmp_path), keep_live_runs=True) == 1
    assert os.listdir(tmp_path) == [".migration-diffid" + _atomic_files.TEMP_MARKER + "1"]


def test_stale_temps_are_swept(tmp_path):
    (tmp_path / (".migration-diffid" + _atomic_files.TEMP_MARKER + "999")).write_bytes(b"")
    (tmp_path / "json").write_bytes(b"{}")
    assert _atomic_files.remove_stale_temps(str(tmp_path)) == 1
    assert os.listdir(tmp_path) == ["json"]
