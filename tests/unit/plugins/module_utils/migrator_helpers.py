"""Shared helpers of the migrator's end-to-end tests: run a pass, read what it wrote, check streams."""
import hashlib
import os
import subprocess
import tarfile

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.run_pass import run_pass

DRIVERS = ("aufs", "overlay", "vfs", "btrfs")
# The diffID of a layer with no files: the tar stream is only its two 512-byte end-of-archive blocks.
EMPTY_LAYER = "sha256:" + hashlib.sha256(bytes(1024)).hexdigest()


def migrate(docker_root, **options):
    options.setdefault("progress_file", "")
    check_mode = options.pop("check_mode", False)
    return run_pass(dict(options, docker_root=str(docker_root)), check_mode=check_mode)


def by_id(outcome):
    return {layer["id"]: layer for layer in outcome.result["layers"]}


def graph_file(docker_root, layer_id, name):
    return os.path.join(str(docker_root), "graph", layer_id, name)


def read_text(docker_root, layer_id, name):
    with open(graph_file(docker_root, layer_id, name), "rb") as stream:
        return stream.read().decode()


def layer_tree(docker_root, manifest, layer):
    return os.path.join(str(docker_root), layer["layer_dir"])


def reassemble(docker_root, manifest, layer, out_path):
    """Rebuild a layer's stream from what we wrote, with Debian's tar-split (independent of our code)."""
    subprocess.run(["tar-split", "asm", "--input", graph_file(docker_root, layer["v1id"], ".migration-tardata"),
                    "--path", layer_tree(docker_root, manifest, layer), "--output", str(out_path)],
                   check=True, capture_output=True)
    with open(out_path, "rb") as stream:
        return "sha256:" + hashlib.sha256(stream.read()).hexdigest()


def tar_members(path):
    """{name: type} of a tar, names normalised without ./ and trailing /."""
    with tarfile.open(path, "r:") as archive:
        return {member.name.lstrip("./").rstrip("/") or ".": member.type for member in archive.getmembers()
                if member.name.strip("./")}


def snapshot(root):
    """Every path below root with what would show a change: content hash, mode, size, mtime, inode."""
    state = {}
    for directory, dirs, files in os.walk(str(root)):
        for name in dirs + files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            digest = None
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as stream:
                    digest = hashlib.sha256(stream.read()).hexdigest()
            state[path] = (st.st_mode, st.st_size, st.st_mtime_ns, st.st_ino, digest)
    return state
