"""The devicemapper driver against a recording command layer (this kernel has no device-mapper).

dmsetup, blkid, mount and umount are fakes first (and alone) on PATH: they log every call, keep the
active devices in a state file and bind-mount a layer's tree, taken from a vfs legacy graph, on the
mount point. So the driver's command lines are checked exactly, its cleanup on every path is seen in
the log and the mount table, and the diffIDs it gives are compared with the tars' own.
"""
import collections
import gc
import os
import signal
import time

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums import worker_pool
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers import commands
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.worker_pool import Interrupted
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.devicemapper import (
    DevicemapperDriver, docker_pool_name, parse_size)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._graph_inventory import inventory
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.registry import DriverError, open_driver
from fake_privileged_commands.command_layer import (
    DEVICE_SIZE, devicemapper_pool_name, devicemapper_store, is_private_dir)
from migrator_helpers import EMPTY_LAYER, by_id, migrate


@pytest.fixture
def dm_store(legacy_graph, fake):
    """(docker_root, manifest, {v1 id: device_id}, pool name) of a devicemapper store served by fake."""
    def build(fstype="ext4", vfs_store=None, **kwargs):
        docker_root, manifest = vfs_store or legacy_graph("vfs", **kwargs)
        devices = devicemapper_store(docker_root, manifest, fake, fstype=fstype)
        return docker_root, manifest, devices, devicemapper_pool_name(str(docker_root / "devicemapper"))
    return build


def dm_migrate(docker_root, **options):
    options.setdefault("storage_driver", "devicemapper")
    return migrate(docker_root, **options)


def by_command(log, *prefix):
    return [call for call in log if call[:len(prefix)] == list(prefix)]


def assert_all_released(fake):
    """Every device created was removed, every mount unmounted, every private directory removed."""
    log = fake.log()
    created = collections.Counter(call[3] for call in by_command(log, "dmsetup", "create"))
    removed = collections.Counter(call[-1] for call in by_command(log, "dmsetup", "remove"))
    assert all(removed[name] >= count for name, count in created.items()), (created, removed)
    assert fake.active_devices() == []
    assert fake.mounts_under(fake.base) == []
    assert fake.private_entries() == []


def test_whole_store_gives_exact_diffids_with_two_workers(dm_store, fake):
    docker_root, manifest, devices, pool = dm_store()
    outcome = dm_migrate(docker_root, workers=2)
    results = by_id(outcome)
    assert outcome.failure is None and outcome.warnings == []
    for layer in manifest["layers"]:
        result = results[layer["v1id"]]
        assert (result["source"], result["diff_id"], result["size"]) == ("tarsplit", layer["diff_id"], layer["size"])
    log = fake.log()
    assert log[:2] == [["dmsetup", "status", pool], ["dmsetup", "ls"]]
    creates = by_command(log, "dmsetup", "create")
    assert sorted(call[5] for call in creates) == sorted(
        "0 %d thin /dev/mapper/%s %d" % (DEVICE_SIZE // 512, pool, devices[layer["v1id"]]) for layer in manifest["layers"])
    assert all(call[2] == "--readonly" and call[3].startswith("fleetops-mig-") for call in creates)
    assert {tuple(call[1:5]) for call in by_command(log, "mount")} == {("-t", "ext4", "-o", "ro,noload")}
    assert_all_released(fake)


def test_exact_command_lines_of_one_layer(dm_store, fake):
    docker_root, manifest, devices, pool = dm_store()
    layer = manifest["layers"][2]
    driver = open_driver(str(docker_root), "devicemapper")
    assert fake.log() == [["dmsetup", "status", pool], ["dmsetup", "ls"]]
    fake.clear_log()
    name = "fleetops-mig-%d-%s" % (os.getpid(), layer["v1id"])
    node = "/dev/mapper/" + name
    with driver.mounted(layer["v1id"]):
        root = driver.layer_root(layer["v1id"])
        mountpoint = os.path.dirname(root)
        assert root == os.path.join(mountpoint, "rootfs") and os.path.basename(mountpoint) == "mnt"
        private = os.path.dirname(mountpoint)
        assert os.path.basename(private).startswith("fleetops-mig-%d-%s-" % (os.getpid(), layer["v1id"][:12]))
        assert is_private_dir(private) and is_private_dir(os.path.dirname(private))
        assert fake.mounts_under(fake.base) == [mountpoint]
        assert sorted(os.listdir(root)) == sorted(os.listdir(os.path.join(fake.base, "thin", str(devices[layer["v1id"]]), "rootfs")))
        assert fake.active_devices() == [name] and fake.state()["devices"][name]["readonly"]
    assert fake.log() == [
        ["dmsetup", "create", "--readonly", name, "--table",
         "0 20971520 thin /dev/mapper/%s %d" % (pool, devices[layer["v1id"]])],
        ["dmsetup", "mknodes", name],
        ["blkid", "-p", "-s", "TYPE", "-o", "value", node],
        ["mount", "-t", "ext4", "-o", "ro,noload", node, mountpoint],
        ["umount", mountpoint],
        ["dmsetup", "remove", name],
    ]
    assert driver.layer_root(layer["v1id"]) == os.path.join(str(docker_root), "devicemapper", "mnt", layer["v1id"], "rootfs")
    assert_all_released(fake)


def test_pool_name_is_the_one_docker_derives(tmp_path):
    home = tmp_path / "devicemapper"
    home.mkdir()
    assert docker_pool_name(str(home)) == devicemapper_pool_name(str(home))
    assert parse_size("20G") == 20 * 1024 ** 3 and parse_size("512mb") == 512 * 1024 ** 2 and parse_size("100") == 100


def test_xfs_mount_options_and_dm_mountopt(dm_store, fake):
    docker_root, manifest, _devices, _pool = dm_store(fstype="xfs", tags={}, containers=[])
    outcome = dm_migrate(docker_root, workers=1, storage_opts=["dm.mountopt=nodiscard", "dm.mountopt=rw,nouuid"])
    assert outcome.failure is None
    assert {tuple(call[1:5]) for call in by_command(fake.log(), "mount")} == {
        ("-t", "xfs", "-o", "ro,nouuid,norecovery,nodiscard")}
    assert {r["id"]: r["diff_id"] for r in outcome.result["layers"]} == {l["v1id"]: l["diff_id"] for l in manifest["layers"]}
    assert_all_released(fake)


def test_dm_fs_when_blkid_is_missing(dm_store, fake):
    docker_root, manifest, _devices, _pool = dm_store(tags={}, containers=[])
    fake.uninstall("blkid")
    with pytest.raises(DriverError, match=r"blkid.*util-linux \(or set storage option dm.fs\)"):
        dm_migrate(docker_root)
    outcome = dm_migrate(docker_root, workers=1, storage_opts=["dm.fs=xfs"])
    assert outcome.failure is None
    assert by_command(fake.log(), "blkid") == []
    assert {tuple(call[1:5]) for call in by_command(fake.log(), "mount")} == {("-t", "xfs", "-o", "ro,nouuid,norecovery")}


def test_thinpooldev_and_basesize(dm_store, fake):
    docker_root, manifest, devices, _pool = dm_store(tags={}, containers=[])
    fake.add_pool("vg-docker--pool")
    layer = manifest["layers"][0]
    metadata = docker_root / "devicemapper" / "metadata" / layer["v1id"]
    metadata.write_text('{"device_id":%d,"size":0,"transaction_id":3,"initialized":false,"deleted":false}'
                        % devices[layer["v1id"]])
    outcome = dm_migrate(docker_root, workers=1, layers=[layer["v1id"]],
                         storage_opts=["dm.thinpooldev=/dev/mapper/vg-docker--pool", "dm.basesize=20G",
                                       "dm.loopdatasize=200G", "dm.blkdiscard=false"])
    assert outcome.failure is None
    log = fake.log()
    assert log[0] == ["dmsetup", "status", "vg-docker--pool"]
    assert [call[5] for call in by_command(log, "dmsetup", "create")] == [
        "0 %d thin /dev/mapper/vg-docker--pool %d" % (20 * 1024 ** 3 // 512, devices[layer["v1id"]])]


def test_deferred_removal_and_busy_devices(dm_store, fake):
    docker_root, manifest, _devices, _pool = dm_store(tags={}, containers=[])
    layer = manifest["layers"][0]["v1id"]
    fake.add_fault("dmsetup", match="remove fleetops-mig-", exit=1,
                   stderr="device-mapper: remove ioctl on X failed: Device or resource busy", times=2)
    assert dm_migrate(docker_root, workers=1, layers=[layer]).failure is None
    assert [call[1:-1] for call in by_command(fake.log(), "dmsetup", "remove")] == [["remove"]] * 3   # retried
    assert_all_released(fake)
    fake.clear_log()
    outcome = dm_migrate(docker_root, workers=1, force=True, layers=[layer], storage_opts=["dm.use_deferred_removal=true"])
    assert outcome.failure is None
    assert [call[1:-1] for call in by_command(fake.log(), "dmsetup", "remove")] == [["remove", "--deferred"]]
    assert_all_released(fake)


def test_failing_mount_fails_that_layer_and_removes_its_device(dm_store, fake):
    docker_root, manifest, _devices, _pool = dm_store(tags={}, containers=[])
    bad = manifest["layers"][1]["v1id"]
    fake.add_fault("mount", match=bad, exit=32, stderr="mount: wrong fs type, bad option, bad superblock")
    outcome = dm_migrate(docker_root, workers=1)
    results = by_id(outcome)
    assert results[bad]["error"].startswith("layer %s: mount -t ext4 -o ro,noload /dev/mapper/fleetops-mig-" % bad)
    assert "failed (exit 32): mount: wrong fs type" in results[bad]["error"]
    assert outcome.result["layers_failed"] == 1 and outcome.failure
    name = "fleetops-mig-%d-%s" % (os.getpid(), bad)
    assert [call[:2] for call in fake.log() if name in " ".join(call)] == [
        ["dmsetup", "create"], ["dmsetup", "mknodes"], ["blkid", "-p"], ["mount", "-t"], ["dmsetup", "remove"]]
    for layer in manifest["layers"]:
        if layer["v1id"] != bad:
            assert results[layer["v1id"]]["diff_id"] == layer["diff_id"]
    assert_all_released(fake)


def test_command_timeout_kills_it_and_cleans_up(dm_store, fake, monkeypatch):
    docker_root, manifest, _devices, _pool = dm_store(tags={}, containers=[])
    monkeypatch.setattr(commands, "COMMAND_TIMEOUT", 1)
    slow = manifest["layers"][0]["v1id"]
    fake.add_fault("mount", match=slow, when="after", sleep=30)   # mounted, then hangs
    started = time.time()
    outcome = dm_migrate(docker_root, workers=1, layers=[slow])
    assert time.time() - started < 15
    assert "timed out after 1 s (killed)" in by_id(outcome)[slow]["error"]
    log = fake.log()
    assert [call[0:2] for call in log[-2:]] == [["umount", log[-2][1]], ["dmsetup", "remove"]]
    assert_all_released(fake)


def test_a_failed_cleanup_fails_the_layer_and_the_next_run_sweeps(dm_store, fake):
    docker_root, manifest, _devices, _pool = dm_store(tags={}, containers=[])
    layer = manifest["layers"][0]
    fake.add_fault("umount", exit=32, stderr="umount: target is busy", times=8)   # every umount and umount -l
    outcome = dm_migrate(docker_root, workers=1, layers=[layer["v1id"]])
    result = by_id(outcome)[layer["v1id"]]
    assert result["error"].startswith("layer %s: cleanup: umount -l " % layer["v1id"]) and "target is busy" in result["error"]
    assert len(fake.mounts_under(fake.base)) == 1 and len(fake.private_entries()) == 1
    assert fake.active_devices() == []            # the device removal is still tried
    # the cache files are complete: the next run finds the layer cached, and its sweep unmounts. A real
    # next run is a new process; here the first run's driver (kept for its workers in _WORKER) must go,
    # and with it its shared lock on the store, for the next run to be alone.
    worker_pool._WORKER.clear()
    gc.collect()
    outcome = dm_migrate(docker_root, workers=1, layers=[layer["v1id"]])
    assert by_id(outcome)[layer["v1id"]]["source"] == "cached"
    assert by_id(outcome)[layer["v1id"]]["diff_id"] == layer["diff_id"]
    assert_all_released(fake)


def test_sigterm_during_a_run_releases_every_device(dm_store, fake):
    docker_root, _manifest, _devices, _pool = dm_store(tags={}, containers=[])
    fake.add_fault("mount", when="after", sleep=60)   # every layer stays mounted a while
    pid = os.fork()
    if pid == 0:  # the run, as the module would do it
        code = 0
        try:
            dm_migrate(docker_root, workers=2)
        except Interrupted:
            code = 3
        except BaseException:  # noqa: B902  pylint: disable=broad-except
            code = 4
        os._exit(code)
    deadline = time.time() + 30
    while len(fake.mounts_under(fake.base)) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert len(fake.mounts_under(fake.base)) == 2      # both workers inside a slow mount, their layers mounted
    os.kill(pid, signal.SIGTERM)
    _pid, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 3
    assert len(by_command(fake.log(), "umount")) == 2
    assert_all_released(fake)


def _die_inside(driver, layer_id, how):
    pid = os.fork()
    if pid == 0:
        try:
            with driver.mounted(layer_id):
                if how == "mounted":
                    os.kill(os.getpid(), signal.SIGKILL)
        finally:
            os._exit(1)
    _pid, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    return pid


@pytest.mark.parametrize("how", ["between_activate_and_mount", "mounted"])
def test_a_killed_worker_is_swept_by_the_next_run(dm_store, fake, how):
    docker_root, manifest, _devices, _pool = dm_store(tags={}, containers=[])
    layer = manifest["layers"][0]["v1id"]
    if how == "between_activate_and_mount":
        fake.add_fault("blkid", signal_parent=signal.SIGKILL)   # the worker dies right after dmsetup create
    driver = open_driver(str(docker_root), "devicemapper")
    dead = _die_inside(driver, layer, how)
    name = "fleetops-mig-%d-%s" % (dead, layer)
    assert fake.active_devices() == [name]
    assert len(fake.mounts_under(fake.base)) == (1 if how == "mounted" else 0)
    assert len(fake.private_entries()) == 1
    fake.config["faults"] = []
    fake.save()
    fake.clear_log()
    open_driver(str(docker_root), "devicemapper")   # a new run: the sweep
    log = fake.log()
    assert ["dmsetup", "table", name] in log and log[-1] == ["dmsetup", "remove", name]
    assert len(by_command(log, "umount")) == (1 if how == "mounted" else 0)
    assert_all_released(fake)


@pytest.mark.parametrize("check_mode", [False, True])
def test_what_the_sweep_cannot_remove_is_a_warning(dm_store, fake, check_mode):
    docker_root, manifest, devices, pool = dm_store(tags={}, containers=[])
    layer = manifest["layers"][0]["v1id"]
    dead_pid = os.fork()
    if dead_pid == 0:
        os._exit(0)
    os.waitpid(dead_pid, 0)
    stuck = "fleetops-mig-%d-%s" % (dead_pid, layer)
    fake.leave_device(stuck, "0 2048 thin /dev/mapper/%s %d" % (pool, devices[layer]))
    # not "busy" (that is retried, then deferred): a failure the sweep cannot work around
    fake.add_fault("dmsetup", match="remove " + stuck, exit=1, stderr="device-mapper: remove ioctl failed: Invalid argument")
    outcome = dm_migrate(docker_root, workers=1, check_mode=check_mode)
    leftovers = [warning for warning in outcome.warnings if "earlier run" in warning]
    assert len(leftovers) == 1, outcome.warnings
    assert stuck in leftovers[0] and "Invalid argument" in leftovers[0] and "remove it by hand" in leftovers[0]
    assert outcome.failure is None                       # the layers themselves are still read
    assert stuck in fake.active_devices()


def test_sweep_keeps_live_runs_and_other_devices(dm_store, fake):
    docker_root, manifest, devices, pool = dm_store(tags={}, containers=[])
    layer = manifest["layers"][0]["v1id"]
    table = "0 2048 thin /dev/mapper/%s %d" % (pool, devices[layer])
    dead_pid = os.fork()
    if dead_pid == 0:
        os._exit(0)
    os.waitpid(dead_pid, 0)
    fake.add_pool("other-pool")
    fake.leave_device("fleetops-mig-%d-%s" % (dead_pid, layer), table)                  # ours, dead: removed
    fake.leave_device("fleetops-mig-1-%s" % layer, table)                               # ours, live pid: kept
    fake.leave_device("fleetops-mig-%d-x" % dead_pid, "0 2048 thin /dev/mapper/other-pool 3")  # other pool
    fake.leave_device("docker-8:1-1234-%s" % layer, table)                              # the daemon's
    other_run = commands.StoreLock()
    assert other_run.acquire(str(docker_root))      # another run of ours holds the store
    try:
        open_driver(str(docker_root), "devicemapper")
    finally:
        other_run.release()
    assert fake.active_devices() == sorted(["fleetops-mig-1-%s" % layer, "fleetops-mig-%d-x" % dead_pid,
                                            "docker-8:1-1234-%s" % layer])
    assert [call[-1] for call in by_command(fake.log(), "dmsetup", "remove")] == ["fleetops-mig-%d-%s" % (dead_pid, layer)]
    # alone (no other run holds the store), a leftover of ours on this pool is stale whatever its pid
    open_driver(str(docker_root), "devicemapper")
    assert fake.active_devices() == sorted(["fleetops-mig-%d-x" % dead_pid, "docker-8:1-1234-%s" % layer])


def test_missing_rootfs_reads_as_an_empty_tree(dm_store, fake):
    docker_root, manifest, devices, _pool = dm_store(tags={}, containers=[])
    base = manifest["layers"][0]
    os.rename(os.path.join(fake.base, "thin", str(devices[base["v1id"]]), "rootfs"), os.path.join(fake.base, "gone"))
    outcome = dm_migrate(docker_root, workers=1, layers=[base["v1id"]])
    result = by_id(outcome)[base["v1id"]]
    assert result["source"] == "regenerated" and result["reason"].startswith("missing ")
    assert result["diff_id"] == EMPTY_LAYER
    assert_all_released(fake)


def test_regeneration_mounts_layer_and_parent_and_matches_vfs(dm_store, fake, legacy_graph):
    """Without tar-split data every layer is rebuilt from its tree against its parent's: the same
    stream as the vfs driver makes from the very same trees (before they move behind the devices)."""
    vfs_store = legacy_graph("vfs", layers=["base-gnu", "child-pax", "child-ustar"], tarsplit=False, tags={}, containers=[])
    reference = migrate(vfs_store[0], storage_driver="vfs", workers=1)
    docker_root, manifest, _devices, _pool = dm_store(vfs_store=vfs_store)
    outcome = dm_migrate(docker_root, workers=2, force=True)
    assert outcome.failure is None
    assert [r["diff_id"] for r in outcome.result["layers"]] == [r["diff_id"] for r in reference.result["layers"]]
    assert all(r["source"] == "regenerated" for r in outcome.result["layers"])
    # a child layer: in the worker that does it, its device and its parent's are active at once
    child = manifest["layers"][1]
    events = [(call[1], call[3] if call[1] == "create" else call[-1]) for call in fake.log()
              if call[:2] in (["dmsetup", "create"], ["dmsetup", "remove"])]
    workers = {name[:-64] for _kind, name in events}            # fleetops-mig-<pid>-
    patterns = [[("create", w + child["v1id"]), ("create", w + child["parent"]), ("remove", w + child["parent"]),
                 ("remove", w + child["v1id"])] for w in workers]
    mine = [[event for event in events if event[1].startswith(w)] for w in workers]
    assert any(p == e[i:i + 4] for p, e in zip(patterns, mine) for i in range(len(e))), events
    assert_all_released(fake)


def test_graph_info_sees_layers_and_containers(dm_store, fake):
    docker_root, _manifest, _devices, _pool = dm_store()
    result = inventory(open_driver(str(docker_root), "devicemapper"))
    assert result["storage_driver"] == "devicemapper"
    assert [p for p in result["problems"] if p["kind"] in ("missing_layer_tree", "container_layer_missing")] == []
    assert by_command(fake.log(), "dmsetup", "create") == []     # an inventory activates nothing


@pytest.mark.parametrize("case, message", [
    ("uid", r"needs root .*running as uid 1000.*become: true"),
    ("caps", r"without CAP_SYS_ADMIN.*--privileged -v /dev:/dev"),
    ("dmsetup", r"devicemapper needs dmsetup, not found on PATH: install dmsetup: the device-mapper tools"),
    ("control", r"control is missing.*--privileged -v /dev:/dev"),
    ("pool", r"thin pool docker-\d+:\d+-\d+-pool \(derived from .*devicemapper as Docker 1.9 does; backed by "
             r".*devicemapper/devicemapper/data and .*\) is not active: Device does not exist.*daemon is up.*"
             r"dm.thinpooldev=<name>"),
    ("option", r"unknown storage option dm.fancy for devicemapper"),
    ("fs", r"storage option dm.fs: unsupported filesystem 'btrfs'"),
])
def test_refusals_touch_nothing(dm_store, fake, monkeypatch, case, message):
    docker_root, _manifest, _devices, pool = dm_store(tags={}, containers=[])
    opts = []
    if case == "uid":
        monkeypatch.setattr(commands, "effective_uid", lambda: 1000)
    elif case == "caps":
        monkeypatch.setattr(commands, "effective_capabilities", lambda: 0x1fffeffffff & ~(1 << 21))
    elif case == "dmsetup":
        fake.uninstall("dmsetup")
    elif case == "control":
        os.unlink(fake.control)
    elif case == "pool":
        del fake.config["pools"][pool]
        fake.save()
    elif case == "option":
        opts = ["dm.fancy=1"]
    elif case == "fs":
        opts = ["dm.fs=btrfs"]
    with pytest.raises(DriverError, match=message):
        dm_migrate(docker_root, storage_opts=opts)
    assert [call for call in fake.log() if call[:2] != ["dmsetup", "status"]] == []
    assert fake.private_entries() == []


def test_datadev_must_back_the_pool(dm_store, fake, tmp_path):
    docker_root, _manifest, _devices, pool = dm_store(tags={}, containers=[])
    right = str(tmp_path / "data-dev")
    wrong = str(tmp_path / "other-dev")
    os.mknod(right, 0o600 | 0o060000, os.makedev(250, 2))   # block devices, as in the pool's table
    os.mknod(wrong, 0o600 | 0o060000, os.makedev(7, 5))
    with pytest.raises(DriverError, match=r"thin pool %s uses data device 250:2, but dm.datadev %s is 7:5"
                       % (pool, wrong)):
        open_driver(str(docker_root), "devicemapper", ["dm.datadev=" + wrong])
    fake.clear_log()
    open_driver(str(docker_root), "devicemapper", ["dm.datadev=" + right])
    assert fake.log()[:2] == [["dmsetup", "status", pool], ["dmsetup", "table", pool]]


def test_a_deleted_device_has_no_layer(dm_store, fake):
    docker_root, manifest, devices, _pool = dm_store(tags={}, containers=[])
    layer = manifest["layers"][0]["v1id"]
    (docker_root / "devicemapper" / "metadata" / layer).write_text(
        '{"device_id":%d,"size":1,"transaction_id":3,"initialized":false,"deleted":true}' % devices[layer])
    driver = DevicemapperDriver(str(docker_root))
    assert not driver.has_layer(layer) and driver.has_layer(manifest["layers"][1]["v1id"])
    outcome = dm_migrate(docker_root, workers=1, layers=[layer])
    assert "has no tree at %s" % os.path.join(str(docker_root), "devicemapper", "mnt", layer, "rootfs") in \
        by_id(outcome)[layer]["error"]
