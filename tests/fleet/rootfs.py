"""The Debian root file system every test host starts from: debootstrap once, then cached.

``ensure_rootfs()`` returns ``<cache>/rootfs-<key>/``, a minbase Debian 12 with python3 (Ansible and
the stand-in engine), python3-apt (Ansible's apt module), openssh-server, tar-split (the stand-in
1.10.3 hashes layers with it), procps and iproute2. The key hashes what goes in, so a change of the
package list builds a new one. Hosts never write to it: each host mounts it as the read-only lower
layer of its own overlayfs (a copy-on-write copy per host).
"""

import os
import shutil
import time

from .common import FleetError, SUITE, cache_dir, debian_mirror, digest_of, locked, log, read_json, run, write_json

INCLUDE = ('python3', 'python3-apt', 'openssh-server', 'tar-split', 'procps', 'iproute2')
VARIANT = 'minbase'
# Bump when the post-processing below changes.
ROOTFS_FORMAT = 1
STAMP = '.fleet-rootfs.json'


def rootfs_key():
    return digest_of('rootfs', ROOTFS_FORMAT, SUITE, VARIANT, sorted(INCLUDE))


def rootfs_path():
    return os.path.join(cache_dir(), 'rootfs-%s' % rootfs_key())


def cached_rootfs():
    """The cached rootfs directory, or None when it is not built (completely) yet."""
    path = rootfs_path()
    return path if os.path.exists(os.path.join(path, STAMP)) else None


def ensure_rootfs(force=False):
    """Build the rootfs when it is not cached; returns its path."""
    with locked('rootfs'):
        path = rootfs_path()
        if cached_rootfs() and not force:
            return path
        if not shutil.which('debootstrap'):
            raise FleetError('debootstrap is not installed (apt-get install debootstrap)')
        if os.geteuid() != 0:
            raise FleetError('building the rootfs needs root')
        mirror = debian_mirror()
        tmp = path + '.building'
        for stale in (tmp, path):
            if os.path.lexists(stale):
                shutil.rmtree(stale)
        started = time.monotonic()
        log('debootstrap %s (%s, +%s) from %s: about a minute', SUITE, VARIANT, ','.join(INCLUDE), mirror)
        run(['debootstrap', '--variant=' + VARIANT, '--include=' + ','.join(INCLUDE), SUITE, tmp, mirror])
        _post_process(tmp)
        write_json(os.path.join(tmp, STAMP), {
            'suite': SUITE, 'variant': VARIANT, 'include': list(INCLUDE), 'mirror': mirror,
            'format': ROOTFS_FORMAT, 'built': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime()),
            'seconds': round(time.monotonic() - started, 1),
        })
        os.rename(tmp, path)
        log('rootfs cached at %s (%.0f s)', path, time.monotonic() - started)
        return path


def _post_process(root):
    """What no test host should share: host keys, the network apt source, downloaded packages."""
    for name in os.listdir(os.path.join(root, 'etc', 'ssh')):
        if name.startswith('ssh_host_'):
            os.unlink(os.path.join(root, 'etc', 'ssh', name))
    # Hosts install from the fleet's file: repository only.
    sources = os.path.join(root, 'etc', 'apt', 'sources.list')
    if os.path.exists(sources):
        os.unlink(sources)
    for directory in (os.path.join(root, 'var', 'cache', 'apt', 'archives'), os.path.join(root, 'var', 'lib', 'apt', 'lists')):
        for dirpath, _dirnames, filenames in os.walk(directory):
            for name in filenames:
                if name.endswith('.deb') or (dirpath == directory and name not in ('lock',)):
                    os.unlink(os.path.join(dirpath, name))
    for name in ('pkgcache.bin', 'srcpkgcache.bin'):
        path = os.path.join(root, 'var', 'cache', 'apt', name)
        if os.path.exists(path):
            os.unlink(path)
    machine_id = os.path.join(root, 'etc', 'machine-id')
    if os.path.exists(machine_id):
        with open(machine_id, 'w'):
            pass


def describe():
    path = cached_rootfs()
    return read_json(os.path.join(path, STAMP)) if path else None
