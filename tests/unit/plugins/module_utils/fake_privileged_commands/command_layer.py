"""The recording command layer of the devicemapper and zfs driver tests, and the stores it serves.

``FakeCommands(tmp_path, monkeypatch)`` writes shell wrappers named dmsetup, blkid, mount, umount and
zfs into a bin directory that becomes the whole PATH (a real dmsetup or zfs can never run), points
the drivers' private mount base, /dev/mapper/control and /dev/zfs at files of the test, and reads
back the log of every call. ``devicemapper_store`` and ``zfs_store`` turn a vfs legacy graph (a full
root filesystem per layer) into what those drivers see: per-layer device metadata or datasets, with
the trees moved to where the fake ``mount`` serves them from.
"""
import json
import os
import shutil
import stat
import subprocess
import sys

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers import commands
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.devicemapper import DevicemapperDriver
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._drivers.zfs import ZfsDriver

FAKE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_commands.py")
COMMANDS = ("dmsetup", "blkid", "mount", "umount", "zfs")
POOL_TABLE = "0 209715200 thin-pool 250:1 250:2 128 32768 1 skip_block_zeroing"
DEVICE_SIZE = 10 * 1024 ** 3


class FakeCommands(object):
    def __init__(self, base, monkeypatch):
        self.base = str(base)
        self.dir = os.path.join(self.base, "fake")
        self.bin = os.path.join(self.dir, "bin")
        os.makedirs(self.bin)
        self.config = {"pools": {}, "served": {}, "fstype": {}, "datasets": {}, "zfs_roots": [], "faults": [],
                       "real_mount": shutil.which("mount"), "real_umount": shutil.which("umount")}
        for name in COMMANDS:
            self.install(name)
        self.run_base = os.path.join(self.base, "run")
        os.mkdir(self.run_base)
        self.control = os.path.join(self.dir, "mapper-control")
        self.zfs_device = os.path.join(self.dir, "zfs-device")
        for path in (self.control, self.zfs_device):
            open(path, "w").close()
        self.save()
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("FLEETOPS_FAKE_DIR", self.dir)
        monkeypatch.setattr(commands, "PRIVATE_BASES", (self.run_base,))
        monkeypatch.setattr(DevicemapperDriver, "CONTROL", self.control)
        monkeypatch.setattr(ZfsDriver, "ZFS_DEVICE", self.zfs_device)
        monkeypatch.setattr(DevicemapperDriver, "REMOVE_DELAY", 0.01)

    def activate(self):
        """From now on PATH is the fake bin directory alone (build stores before: they need tar-split)."""
        self.monkeypatch.setenv("PATH", self.bin)

    # the command layer
    def install(self, name):
        path = os.path.join(self.bin, name)
        with open(path, "w") as stream:
            stream.write("#!/bin/sh\nexec '%s' '%s' %s \"$@\"\n" % (sys.executable, FAKE_SCRIPT, name))
        os.chmod(path, 0o755)

    def uninstall(self, name):
        os.unlink(os.path.join(self.bin, name))

    def save(self):
        with open(os.path.join(self.dir, "config.json"), "w") as stream:
            json.dump(self.config, stream, indent=1)

    def add_fault(self, command, **fault):
        self.config["faults"].append(dict(fault, command=command))
        self.save()

    def clear_log(self):
        open(os.path.join(self.dir, "commands.log"), "w").close()

    def log(self):
        try:
            with open(os.path.join(self.dir, "commands.log")) as stream:
                return [json.loads(line) for line in stream if line.strip()]
        except FileNotFoundError:
            return []

    def state(self):
        try:
            with open(os.path.join(self.dir, "state.json")) as stream:
                return json.load(stream)
        except FileNotFoundError:
            return {"devices": {}}

    def active_devices(self):
        return sorted(self.state()["devices"])

    def leave_device(self, name, table):
        """A device as a killed run would have left it."""
        state = self.state()
        state.setdefault("next_minor", 10)
        state.setdefault("fault_counts", {})
        state["devices"][name] = {"table": table, "dev": "250:%d" % state["next_minor"], "readonly": True}
        state["next_minor"] += 1
        with open(os.path.join(self.dir, "state.json"), "w") as stream:
            json.dump(state, stream)

    # what is mounted
    def mounts_under(self, path):
        path = os.path.realpath(str(path)) + os.sep
        return [m[2] for m in commands.read_mounts() if m[2].startswith(path)]

    def private_entries(self):
        private = os.path.join(self.run_base, commands.PRIVATE_DIR_NAME)
        return sorted(os.listdir(private)) if os.path.isdir(private) else []

    def unmount_everything(self):
        for mountpoint in sorted(self.mounts_under(self.base), key=len, reverse=True):
            subprocess.run([self.config["real_umount"], "-l", mountpoint], check=False)

    # stores
    def add_pool(self, name):
        self.config["pools"][name] = {"dev": "250:%d" % (len(self.config["pools"]) * 100), "table": POOL_TABLE}
        self.save()


def devicemapper_pool_name(home):
    """What Docker 1.9.1 names the pool: docker-<major>:<minor>-<inode>-pool of the devicemapper home
    (glibc's major/minor here, the driver uses deviceset.go's bit arithmetic)."""
    st = os.stat(home)
    return "docker-%d:%d-%d-pool" % (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)


def _write_json(path, value):
    with open(path, "w") as stream:
        json.dump(value, stream)
    os.chmod(path, 0o600)


def devicemapper_store(docker_root, manifest, fake, fstype="ext4", pool=True):
    """Turn a vfs legacy graph into a devicemapper one: metadata/<id> per layer and container layer,
    the trees moved to <fake base>/thin/<device_id>/rootfs (served by the fake mount), a loopback
    pool's data and metadata files. Returns {v1 id: device_id}."""
    docker_root = str(docker_root)
    home = os.path.join(docker_root, "devicemapper")
    for sub in ("metadata", "devicemapper", "mnt"):
        os.makedirs(os.path.join(home, sub), mode=0o700)
    for name in ("data", "metadata"):
        with open(os.path.join(home, "devicemapper", name), "wb") as stream:
            stream.truncate(1024 * 1024)
    _write_json(os.path.join(home, "metadata", "base"),
                {"device_id": 1, "size": DEVICE_SIZE, "transaction_id": 1, "initialized": True, "deleted": False})
    _write_json(os.path.join(home, "metadata", "deviceset-metadata"), {"next_device_id": 100, "BaseDeviceUUID": "x"})
    ids = [layer["v1id"] for layer in manifest["layers"]]
    for container in manifest["containers"]:
        ids += [container["init_layer"], container["id"]]
    vfs_dir = os.path.join(docker_root, "vfs", "dir")
    devices = {}
    for index, layer_id in enumerate(ids):
        device_id = index + 2
        served = os.path.join(fake.base, "thin", str(device_id))
        os.makedirs(served)
        os.rename(os.path.join(vfs_dir, layer_id), os.path.join(served, "rootfs"))
        with open(os.path.join(served, "id"), "w") as stream:
            stream.write(layer_id)
        fake.config["served"][str(device_id)] = served
        fake.config["fstype"][str(device_id)] = fstype
        _write_json(os.path.join(home, "metadata", layer_id),
                    {"device_id": device_id, "size": DEVICE_SIZE, "transaction_id": device_id,
                     "initialized": False, "deleted": False})
        devices[layer_id] = device_id
    shutil.rmtree(os.path.join(docker_root, "vfs"))
    os.rename(os.path.join(docker_root, "repositories-vfs"), os.path.join(docker_root, "repositories-devicemapper"))
    if pool:
        fake.add_pool(devicemapper_pool_name(home))
    fake.save()
    fake.activate()
    return devices


def zfs_store(docker_root, manifest, fake, fsname="tank/docker"):
    """Turn a vfs legacy graph into a zfs one: dataset <fsname>/<id> per layer and container layer,
    served from <fake base>/datasets/<id>. Returns {v1 id: dataset}."""
    docker_root = str(docker_root)
    os.makedirs(os.path.join(docker_root, "zfs", "graph"), mode=0o700)
    ids = [layer["v1id"] for layer in manifest["layers"]]
    for container in manifest["containers"]:
        ids += [container["init_layer"], container["id"]]
    datasets = {}
    os.makedirs(os.path.join(fake.base, "datasets"))
    for layer_id in ids:
        served = os.path.join(fake.base, "datasets", layer_id)
        os.rename(os.path.join(docker_root, "vfs", "dir", layer_id), served)
        datasets[layer_id] = "%s/%s" % (fsname, layer_id)
        fake.config["datasets"][datasets[layer_id]] = served
    fake.config["zfs_roots"] = sorted(set(fake.config["zfs_roots"]) | {fsname, fsname.split("/")[0]})
    shutil.rmtree(os.path.join(docker_root, "vfs"))
    os.rename(os.path.join(docker_root, "repositories-vfs"), os.path.join(docker_root, "repositories-zfs"))
    fake.save()
    fake.activate()
    return datasets


def is_private_dir(path):
    st = os.lstat(path)
    return stat.S_ISDIR(st.st_mode) and st.st_mode & 0o777 == 0o700
