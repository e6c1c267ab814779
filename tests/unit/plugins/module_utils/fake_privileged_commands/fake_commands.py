"""A recording stand-in for dmsetup, blkid, mount, umount and zfs (this kernel has neither
device-mapper nor zfs).

Called as ``fake_commands.py <command> <args...>`` by the small shell wrappers that command_layer.py
puts first on PATH. Every call is appended to ``$FLEETOPS_FAKE_DIR/commands.log`` (one JSON list a
line: the command name and its arguments) before anything else. ``config.json`` in that directory
says what exists:

* ``pools``: {pool name: {"dev": "250:0", "table": "<dmsetup table line>"}}
* ``served``: {device_id (str): directory}: what a thin device holds; ``fstype``: {device_id: "ext4"}
* ``datasets``: {zfs dataset: directory}; ``zfs_roots``: [datasets that hold no layer]
* ``faults``: [{"command", "match" (substring of the joined arguments), "when" ("before"/"after"),
  "sleep", "signal_parent", "exit", "stderr", "times"}]
* ``real_mount``, ``real_umount``: the real binaries, used for bind mounts.

``state.json`` holds the active devices (``dmsetup create``/``remove``), under a lock: two workers
call at once. ``mount`` bind-mounts the served directory (read-only) on the mount point, so what the
driver reads is a real mounted tree and ``umount`` has something to undo.
"""
import fcntl
import json
import os
import subprocess
import sys
import time

DIR = os.environ["FLEETOPS_FAKE_DIR"]


def load(name, default):
    try:
        with open(os.path.join(DIR, name)) as stream:
            return json.load(stream)
    except FileNotFoundError:
        return default


class State(object):
    """state.json under an exclusive lock for the whole command."""

    def __enter__(self):
        self.lock = open(os.path.join(DIR, "state.lock"), "a")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.data = load("state.json", {"devices": {}, "next_minor": 10, "fault_counts": {}})
        return self.data

    def __exit__(self, *exc):
        tmp = os.path.join(DIR, "state.json.tmp")
        with open(tmp, "w") as stream:
            json.dump(self.data, stream)
        os.replace(tmp, os.path.join(DIR, "state.json"))
        self.lock.close()
        return False


def fail(code, message):
    sys.stderr.write(message + "\n")
    sys.exit(code)


def apply_fault(fault):
    if fault.get("sleep"):
        time.sleep(fault["sleep"])
    if fault.get("signal_parent"):
        os.kill(os.getppid(), fault["signal_parent"])
        time.sleep(5)  # the parent dies meanwhile; so does this command's chance to report
    if "exit" in fault:
        fail(fault["exit"], fault.get("stderr", "injected failure"))


def find_fault(config, command, args):
    joined = " ".join(args)
    with State() as state:
        for index, fault in enumerate(config.get("faults", [])):
            if fault["command"] != command or fault.get("match", "") not in joined:
                continue
            used = state["fault_counts"].get(str(index), 0)
            if fault.get("times") is not None and used >= fault["times"]:
                continue
            state["fault_counts"][str(index)] = used + 1
            return fault
    return None


def device_of(state, name):
    return state["devices"].get(name)


def dmsetup(config, args):
    options = [a for a in args if a.startswith("--") and a != "--table"]
    words = [a for a in args if not a.startswith("--")]
    action = words[0]
    pools = config.get("pools", {})
    with State() as state:
        devices = state["devices"]
        if action == "status":
            name = words[1]
            if name in pools:
                print("0 20971520 thin-pool 7 183/4096 2048/163840 - rw discard_passdown queue_if_no_space -")
            elif name in devices:
                print("0 %s thin 0 -" % devices[name]["table"].split()[1])
            else:
                fail(1, "Device does not exist.\nCommand failed")
        elif action == "table":
            name = words[1]
            if name in pools:
                print(pools[name]["table"])
            elif name in devices:
                fields = devices[name]["table"].split()
                pool = os.path.basename(fields[3])
                fields[3] = pools[pool]["dev"] if pool in pools else fields[3]
                print(" ".join(fields))
            else:
                fail(1, "Device does not exist.\nCommand failed")
        elif action == "ls":
            listed = [(name, pool["dev"]) for name, pool in pools.items()]
            listed += [(name, device["dev"]) for name, device in devices.items()]
            if not listed:
                print("No devices found")
            for name, dev in sorted(listed):
                print("%s\t(%s)" % (name, dev))
        elif action == "create":
            name = words[1]
            table = args[args.index("--table") + 1]
            if name in devices or name in pools:
                fail(1, "device-mapper: create ioctl on %s  failed: Device or resource busy\nCommand failed" % name)
            fields = table.split()
            if len(fields) != 5 or fields[2] != "thin" or os.path.basename(fields[3]) not in pools:
                fail(1, "device-mapper: reload ioctl on %s  failed: No such device or address\nCommand failed" % name)
            devices[name] = {"table": table, "dev": "250:%d" % state["next_minor"],
                             "readonly": "--readonly" in options}
            state["next_minor"] += 1
        elif action == "mknodes":
            pass
        elif action == "remove":
            name = words[1]
            if name not in devices:
                fail(1, "Device %s not found\nCommand failed" % name)
            del devices[name]
        else:
            fail(1, "fake dmsetup: unknown action %s" % action)


def served_device(config, name):
    with State() as state:
        device = device_of(state, name)
    if device is None:
        return None, None
    device_id = device["table"].split()[4]
    return config.get("served", {}).get(device_id), config.get("fstype", {}).get(device_id, "ext4")


def blkid(config, args):
    served, fstype = served_device(config, os.path.basename(args[-1]))
    if served is None:
        sys.exit(2)
    print(fstype)


def mount(config, args):
    fstype = args[args.index("-t") + 1]
    source, mountpoint = args[-2], args[-1]
    if fstype == "zfs":
        served = config.get("datasets", {}).get(source)
        if served is None:
            fail(1, "filesystem '%s' cannot be mounted, unable to open the dataset" % source)
    else:
        served, _fstype = served_device(config, os.path.basename(source))
        if served is None:
            fail(32, "mount: special device %s does not exist" % source)
    subprocess.run([config["real_mount"], "--bind", "-o", "ro", served, mountpoint], check=True)


def umount(config, args):
    result = subprocess.run([config["real_umount"]] + args, stderr=subprocess.PIPE, universal_newlines=True,
                            check=False)
    if result.returncode:
        fail(result.returncode, result.stderr.strip())


def zfs(config, args):
    if args[0] != "list":
        fail(2, "fake zfs: only list")
    name = args[-1]
    known = sorted(set(config.get("datasets", {})) | set(config.get("zfs_roots", [])))
    if name not in known:
        fail(1, "cannot open '%s': dataset does not exist" % name)
    for dataset in known:
        if dataset == name or ("-r" in args and dataset.startswith(name + "/")):
            print(dataset)


def main():
    command, args = sys.argv[1], sys.argv[2:]
    with open(os.path.join(DIR, "commands.log"), "a") as log:
        log.write(json.dumps([command] + args) + "\n")
    config = load("config.json", {})
    fault = find_fault(config, command, args)
    if fault and fault.get("when", "before") == "before":
        apply_fault(fault)
    {"dmsetup": dmsetup, "blkid": blkid, "mount": mount, "umount": umount, "zfs": zfs}[command](config, args)
    if fault and fault.get("when") == "after":
        apply_fault(fault)


if __name__ == "__main__":
    main()
