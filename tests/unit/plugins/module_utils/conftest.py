"""Fixtures shared by the privileged-driver tests (devicemapper, zfs)."""
import pytest

from fake_privileged_commands.command_layer import FakeCommands


@pytest.fixture
def fake(tmp_path, monkeypatch, tar_corpus):
    """The recording command layer (fake dmsetup, blkid, mount, umount, zfs first on PATH)."""
    commands = FakeCommands(tmp_path, monkeypatch)
    yield commands
    commands.unmount_everything()
