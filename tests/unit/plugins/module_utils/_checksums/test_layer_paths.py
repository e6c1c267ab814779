"""Names from layer metadata resolve inside the layer as if it were /, never to a host file."""
import os

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.layer_paths import LayerFileOpener, LayerPathError


@pytest.fixture
def layer(tmp_path):
    root = tmp_path / "layer"
    (root / "usr/lib").mkdir(parents=True)
    (root / "etc").mkdir()
    (root / "usr/lib/libx.so").write_bytes(b"layer's own lib")
    (root / "etc/passwd").write_bytes(b"layer's passwd")
    os.symlink("/usr/lib", root / "lib64")                      # absolute: the layer's usr/lib
    os.symlink("../usr/lib", root / "etc/rel")                  # relative, inside
    os.symlink("../../../../../etc/passwd", root / "climb")     # climbs: stops at the layer root
    os.symlink("/nonexistent/file", root / "dangling")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    os.mkfifo(root / "fifo")
    os.symlink("fifo", root / "to-fifo")
    return root


def read(opener, name):
    with opener.open(name) as stream:
        return stream.read()


def test_absolute_symlink_means_the_layers_own_tree(layer):
    assert read(LayerFileOpener(str(layer)), b"lib64/libx.so") == b"layer's own lib"


def test_relative_symlink_inside(layer):
    assert read(LayerFileOpener(layer), b"etc/rel/libx.so") == b"layer's own lib"


def test_link_climbing_above_root_stops_at_root_as_in_a_chroot(layer):
    # The host's /etc/passwd is never read: the layer's own etc/passwd is what a chroot shows.
    assert read(LayerFileOpener(layer), b"climb") == b"layer's passwd"


def test_name_climbing_above_root_is_refused(layer):
    with pytest.raises(LayerPathError) as info:
        LayerFileOpener(layer).open(b"../../etc/passwd")
    assert "climbs above the layer root" in str(info.value)
    assert not info.value.missing


def test_dotdot_inside_the_layer_is_fine(layer):
    assert read(LayerFileOpener(layer), b"./usr/lib/../lib/libx.so") == b"layer's own lib"


def test_dangling_link_is_missing(layer):
    with pytest.raises(LayerPathError) as info:
        LayerFileOpener(layer).open(b"dangling")
    assert info.value.missing


def test_symlink_loop_is_an_error_not_a_hang(layer):
    with pytest.raises(LayerPathError, match="too many levels"):
        LayerFileOpener(layer).open(b"loop1")


@pytest.mark.parametrize("name", [b"fifo", b"to-fifo", b"usr/lib"])
def test_fifo_or_directory_is_not_a_regular_file(layer, name):
    with pytest.raises(LayerPathError, match="not a regular file"):
        LayerFileOpener(layer).open(name)


def test_file_used_as_directory(layer):
    with pytest.raises(LayerPathError) as info:
        LayerFileOpener(layer).open(b"etc/passwd/x")
    assert info.value.missing


def test_non_utf8_name(layer):
    (layer / os.fsdecode(b"caf\xe9")).write_bytes(b"latin-1 name")
    assert read(LayerFileOpener(layer), b"caf\xe9") == b"latin-1 name"
