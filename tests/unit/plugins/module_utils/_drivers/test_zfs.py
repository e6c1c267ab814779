"""The zfs driver against a recording command layer (this kernel has no zfs).

zfs, mount and umount are fakes first (and alone) on PATH; ``mount -t zfs`` bind-mounts the tree
of a vfs legacy graph's layer on the mount point, so the diffIDs the driver gives through its mounts
are compared with the tars' own, and its command lines and cleanup are checked exactly.
"""
import os
import signal

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers import commands
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.zfs import ZfsDriver
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.registry import DriverError, open_driver
from fake_privileged_commands.command_layer import is_private_dir, zfs_store
from migrator_helpers import by_id, migrate

FSNAME = "tank/docker"


@pytest.fixture
def zfs_graph(legacy_graph, fake):
    def build(**kwargs):
        docker_root, manifest = legacy_graph("vfs", **kwargs)
        datasets = zfs_store(docker_root, manifest, fake, fsname=FSNAME)
        return docker_root, manifest, datasets
    return build


def by_command(log, *prefix):
    return [call for call in log if call[:len(prefix)] == list(prefix)]


def assert_all_released(fake):
    assert fake.mounts_under(fake.base) == []
    assert fake.private_entries() == []


def test_whole_store_gives_exact_diffids_with_two_workers(zfs_graph, fake):
    docker_root, manifest, datasets = zfs_graph()
    outcome = migrate(docker_root, storage_driver="zfs", storage_opts=["zfs.fsname=" + FSNAME], workers=2)
    assert outcome.failure is None and outcome.warnings == []
    results = by_id(outcome)
    for layer in manifest["layers"]:
        assert (results[layer["v1id"]]["source"], results[layer["v1id"]]["diff_id"]) == ("tarsplit", layer["diff_id"])
    log = fake.log()
    assert log[:2] == [["zfs", "list", "-H", "-o", "name", "-t", "filesystem", FSNAME],
                       ["zfs", "list", "-H", "-o", "name", "-t", "filesystem", "-r", FSNAME]]
    mounts = by_command(log, "mount")
    assert sorted(call[:6] for call in mounts) == sorted(
        ["mount", "-t", "zfs", "-o", "ro", datasets[layer["v1id"]]] for layer in manifest["layers"])
    assert sorted(call[-1] for call in mounts) == sorted(call[-1] for call in by_command(log, "umount"))
    assert_all_released(fake)


def test_exact_command_lines_of_one_layer(zfs_graph, fake):
    docker_root, manifest, datasets = zfs_graph(tags={}, containers=[])
    layer = manifest["layers"][0]["v1id"]
    driver = open_driver(str(docker_root), "zfs", ["zfs.fsname=" + FSNAME])
    assert driver.has_layer(layer) and not driver.has_layer("f" * 64)
    fake.clear_log()
    with driver.mounted(layer):
        root = driver.layer_root(layer)
        assert os.path.basename(root) == "mnt" and is_private_dir(os.path.dirname(root))
        assert fake.mounts_under(fake.base) == [root]
        assert sorted(os.listdir(root)) == sorted(os.listdir(os.path.join(fake.base, "datasets", layer)))
    assert fake.log() == [["mount", "-t", "zfs", "-o", "ro", datasets[layer], root], ["umount", root]]
    assert driver.layer_root(layer) == os.path.join(str(docker_root), "zfs", "graph", layer)
    assert_all_released(fake)


def test_dataset_behind_the_docker_root(zfs_graph, fake, tmp_path, monkeypatch):
    """Without zfs.fsname: the zfs mount whose device is the docker root's, as Docker 1.9 finds it."""
    docker_root, manifest, _datasets = zfs_graph(tags={}, containers=[])
    dev = os.stat(str(docker_root)).st_dev
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "21 1 0:19 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
        "40 21 0:%d / /tank rw shared:9 - zfs tank rw,xattr,noacl\n"
        "41 21 %d:%d / /var/lib/docker rw shared:10 - zfs %s rw,xattr,noacl\n"
        % (os.minor(dev) + 1, os.major(dev), os.minor(dev), FSNAME))
    monkeypatch.setattr(ZfsDriver, "MOUNTINFO", str(mountinfo))
    outcome = migrate(docker_root, storage_driver="zfs", workers=1)
    assert outcome.failure is None
    assert {r["id"]: r["diff_id"] for r in outcome.result["layers"]} == {l["v1id"]: l["diff_id"] for l in manifest["layers"]}
    mountinfo.write_text("21 1 0:19 / / rw,relatime shared:1 - ext4 /dev/vda rw\n")
    with pytest.raises(DriverError, match=r"is not on a mounted zfs dataset; give the dataset with storage option "
                                          r"zfs.fsname=<pool/dataset>"):
        open_driver(str(docker_root), "zfs")


def test_failing_mount_fails_that_layer_only(zfs_graph, fake):
    docker_root, manifest, _datasets = zfs_graph(tags={}, containers=[])
    bad = manifest["layers"][1]["v1id"]
    fake.add_fault("mount", match=bad, exit=1, stderr="filesystem '%s/%s' is already mounted" % (FSNAME, bad))
    outcome = migrate(docker_root, storage_driver="zfs", storage_opts=["zfs.fsname=" + FSNAME], workers=1)
    results = by_id(outcome)
    assert results[bad]["error"].startswith("layer %s: mount -t zfs -o ro %s/%s " % (bad, FSNAME, bad))
    assert "is already mounted" in results[bad]["error"] and outcome.result["layers_failed"] == 1
    failed_mountpoint = next(c[-1] for c in by_command(fake.log(), "mount") if bad in " ".join(c))
    assert ["umount", failed_mountpoint] not in fake.log()      # nothing was mounted there
    assert len(by_command(fake.log(), "umount")) == len(manifest["layers"]) - 1
    assert_all_released(fake)


def test_a_worker_killed_while_mounted_is_swept(zfs_graph, fake):
    docker_root, manifest, _datasets = zfs_graph(tags={}, containers=[])
    layer = manifest["layers"][0]["v1id"]
    driver = open_driver(str(docker_root), "zfs", ["zfs.fsname=" + FSNAME])
    pid = os.fork()
    if pid == 0:
        try:
            with driver.mounted(layer):
                os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    os.waitpid(pid, 0)
    leftover = fake.mounts_under(fake.base)
    assert len(leftover) == 1 and os.path.basename(os.path.dirname(leftover[0])).startswith("fleetops-mig-%d-" % pid)
    fake.clear_log()
    open_driver(str(docker_root), "zfs", ["zfs.fsname=" + FSNAME])
    assert ["umount", leftover[0]] in fake.log()
    assert fake.mounts_under(fake.base) == [] and fake.private_entries() == []


@pytest.mark.parametrize("case, message", [
    ("uid", r"zfs: needs root .*become: true"),
    ("caps", r"zfs: runs as root but without CAP_SYS_ADMIN.*--privileged -v /dev:/dev"),
    ("binary", r"zfs needs zfs, not found on PATH: install zfs: the ZFS utilities"),
    ("device", r"zfs-device is missing: in a container, run it with --privileged -v /dev:/dev"),
    ("dataset", r"zfs: dataset tank/other is not available \(cannot open 'tank/other': dataset does not exist\)"),
    ("option", r"unknown storage option dm.fs for zfs"),
])
def test_refusals_touch_nothing(zfs_graph, fake, monkeypatch, case, message):
    docker_root, _manifest, _datasets = zfs_graph(tags={}, containers=[])
    opts = ["zfs.fsname=" + FSNAME]
    if case == "uid":
        monkeypatch.setattr(commands, "effective_uid", lambda: 1000)
    elif case == "caps":
        monkeypatch.setattr(commands, "effective_capabilities", lambda: 0)
    elif case == "binary":
        fake.uninstall("zfs")
    elif case == "device":
        os.unlink(fake.zfs_device)
    elif case == "dataset":
        opts = ["zfs.fsname=tank/other"]
    elif case == "option":
        opts = ["dm.fs=xfs"]
    with pytest.raises(DriverError, match=message):
        migrate(docker_root, storage_driver="zfs", storage_opts=opts)
    assert by_command(fake.log(), "mount") == [] and fake.private_entries() == []
