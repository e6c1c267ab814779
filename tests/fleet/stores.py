"""Docker 1.9 stores for the fleet's hosts, built from real tar layers of the cached Debian rootfs.

The layer tars are cut from the debootstrapped rootfs (real Debian files, real tar formats):

========  ==========================================================  =====================
layer     content                                                     tar
========  ==========================================================  =====================
base      /bin, /lib, /lib64, /sbin symlinks, /etc, /usr/sbin, part    GNU tar --format=gnu
          of /usr/bin
python    part of /usr/lib/python3.11                                 GNU tar pax --xattrs
config    /etc edits: two whiteouts, a whited-out directory, an        GNU tar pax
          opaque directory, a modified file, new files
app       /opt/fleetops-app: a copy of /usr/share/doc files           GNU tar ustar
empty     the empty layer (1024 zero bytes)                           -
========  ==========================================================  =====================

``tools/legacy_graph.py`` stacks them into a Docker 1.9 store per storage driver (aufs, overlay,
vfs), with tar-split data made by Debian's ``tar-split disasm`` except for ``app`` (as if pulled by
Docker < 1.8); afterwards one file that ``config`` added (``etc/fleetops/app.conf``) is appended to
in the layer tree, so it no longer matches its tar-split record. Tags: ``debian:bookworm`` (base),
``fleetops/python:3.11`` (python), ``fleetops/app:latest`` and ``fleetops/app:1.0`` (empty, the top).
Containers: ``web`` (fleetops/app:latest, running, restart policy always), ``worker``
(fleetops/python:3.11, running, restart policy no: the daemon does not restart it) and ``old-job``
(debian:bookworm, stopped, deleted etc/motd).

Pristine stores are cached per driver under ``<cache>/stores-<key>/<driver>/{docker,manifest.json}``
and copied (``cp -a``: hard links, owners, xattrs kept) into each host.
"""

import os
import shutil
import stat
import sys
import tempfile

from .common import TOP, FleetError, cache_dir, digest_of, locked, log, read_json, run, write_json
from .rootfs import ensure_rootfs, rootfs_key

if TOP not in sys.path:
    sys.path.insert(0, TOP)
from tools import layer_tars, legacy_graph  # noqa: E402 pylint: disable=wrong-import-position

STORES_FORMAT = 1
DRIVERS = ('aufs', 'overlay', 'vfs')
MIB = 1024 * 1024
BUDGETS = {'base_usr_bin': 8 * MIB, 'python': 12 * MIB, 'app': 4 * MIB}
BROKEN_FILE = 'etc/fleetops/app.conf'
NO_TARSPLIT_LAYER = 'app'
BROKEN_LAYER = 'config'
TAGS = {'debian:bookworm': 'base', 'fleetops/python:3.11': 'python', 'fleetops/app:latest': 'empty',
        'fleetops/app:1.0': 'empty'}
CONTAINERS = [
    {'name': 'web', 'image': 'fleetops/app:latest', 'running': True, 'restart_policy': 'always'},
    {'name': 'worker', 'image': 'fleetops/python:3.11', 'running': True, 'restart_policy': 'no'},
    {'name': 'old-job', 'image': 'debian:bookworm', 'running': False, 'deleted': ['etc/motd']},
]


def _tool_files():
    return [('file', os.path.join(TOP, 'tools', name)) for name in ('legacy_graph.py', 'layer_tars.py')]


def stores_key(data_mb=0):
    return digest_of('stores', STORES_FORMAT, rootfs_key(), data_mb, BUDGETS, TAGS, CONTAINERS,
                     ('file', os.path.abspath(__file__)), *_tool_files())


def stores_path(data_mb=0):
    return os.path.join(cache_dir(), 'stores-%s' % stores_key(data_mb))


def _files_under(root, rel, budget=None, skip=()):
    """Regular files and symlinks under root/rel (relative paths, sorted), up to budget bytes."""
    chosen = []
    total = 0
    for dirpath, dirnames, filenames in os.walk(os.path.join(root, rel)):
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not os.path.islink(os.path.join(dirpath, d)))
        for name in sorted(filenames) + sorted(d for d in os.listdir(dirpath)
                                               if os.path.islink(os.path.join(dirpath, d)) and
                                               os.path.isdir(os.path.join(dirpath, d))):
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            if name.endswith('.pyc') or not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                continue
            size = st.st_size if stat.S_ISREG(st.st_mode) else 0
            if budget is not None and total + size > budget:
                continue
            total += size
            chosen.append(os.path.relpath(full, root))
    return sorted(chosen)


def _with_ancestors(paths):
    names = set()
    for path in paths:
        parts = path.split('/')
        for depth in range(1, len(parts)):
            names.add('/'.join(parts[:depth]))
        names.add(path)
    return sorted(names)


def _write_list(path, names):
    with open(path, 'wb') as stream:
        for name in names:
            stream.write(os.fsencode(name) + b'\0')


def _copy_with_meta(src_root, dst_root, rel):
    src = os.path.join(src_root, rel)
    dst = os.path.join(dst_root, rel)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    if os.path.islink(src):
        os.symlink(os.readlink(src), dst)
    else:
        shutil.copy2(src, dst)
    st = os.lstat(src)
    os.lchown(dst, st.st_uid, st.st_gid)


def _stamp_dirs(src_root, dst_root):
    """Directories of dst_root get the owner, mode and mtime of the same directory in src_root."""
    for dirpath, _dirnames, _filenames in os.walk(dst_root, topdown=False):
        rel = os.path.relpath(dirpath, dst_root)
        src = os.path.join(src_root, rel)
        if os.path.isdir(src) and not os.path.islink(src):
            st = os.lstat(src)
            os.lchown(dirpath, st.st_uid, st.st_gid)
            os.chmod(dirpath, stat.S_IMODE(st.st_mode))
            os.utime(dirpath, ns=(st.st_mtime_ns, st.st_mtime_ns))


def build_data_tar(out_dir, data_mb):
    """A layer of data_mb MiB of incompressible files (model shards of 64 MiB), pax format."""
    later = layer_tars.EPOCH + 40 * layer_tars.DAY
    with tempfile.TemporaryDirectory(dir=out_dir) as staging:
        shard_dir = os.path.join(staging, 'opt', 'fleetops-model')
        os.makedirs(shard_dir)
        left = int(data_mb * MIB)
        index = 0
        while left > 0:
            size = min(left, 64 * MIB)
            path = os.path.join(shard_dir, 'shard-%03d.bin' % index)
            with open(path, 'wb') as stream:
                stream.write(layer_tars.blob('fleetops-model-shard-%d' % index, size))
            os.utime(path, (later, later))
            left -= size
            index += 1
        for directory in (shard_dir, os.path.dirname(shard_dir)):
            os.utime(directory, (later, later))
        path = os.path.join(out_dir, 'data.tar')
        layer_tars.gnu_tar(staging, path, 'pax')
    return path


def build_layer_tars(rootfs, out_dir, scale=1):
    """The five layer tars of the module docstring, in out_dir; returns [(name, path)]."""
    os.makedirs(out_dir, exist_ok=True)
    layers = []
    listing = os.path.join(out_dir, 'list')
    # base: GNU format, straight from the rootfs
    base = [name for name in ('bin', 'lib', 'lib64', 'sbin') if os.path.islink(os.path.join(rootfs, name))]
    base += _files_under(rootfs, 'etc') + _files_under(rootfs, 'usr/sbin')
    base += _files_under(rootfs, 'usr/bin', BUDGETS['base_usr_bin'] * scale)
    _write_list(listing, _with_ancestors(base))
    path = os.path.join(out_dir, 'base.tar')
    layer_tars.gnu_tar(rootfs, path, 'gnu', numeric_owner=False, files_from=listing)
    layers.append(('base', path))
    # python: pax with xattrs
    python = _files_under(rootfs, 'usr/lib/python3.11', BUDGETS['python'] * scale, skip=('test', '__pycache__'))
    _write_list(listing, _with_ancestors(python))
    path = os.path.join(out_dir, 'python.tar')
    layer_tars.gnu_tar(rootfs, path, 'pax', xattrs=True, numeric_owner=False, files_from=listing)
    layers.append(('python', path))
    # config: edits of /etc over the base
    later = layer_tars.EPOCH + 30 * layer_tars.DAY
    with tempfile.TemporaryDirectory(dir=out_dir) as staging:
        for rel in ('etc/bash.bashrc',):
            _copy_with_meta(rootfs, staging, rel)
        with open(os.path.join(staging, 'etc/bash.bashrc'), 'a', encoding='utf-8') as stream:
            stream.write('\n# fleetops: modified by the config layer\nexport FLEETOPS_ENV=production\n')
        os.utime(os.path.join(staging, 'etc/bash.bashrc'), (later, later))
        entries = [
            layer_tars.F('etc/.wh.motd', b'', 0o444, mtime=later),
            layer_tars.F('etc/.wh.issue.net', b'', 0o444, mtime=later),
            layer_tars.F('etc/.wh.cron.daily', b'', 0o444, mtime=later),
            layer_tars.F('etc/logrotate.d/.wh..wh..opq', b'', 0o444, mtime=later),
            layer_tars.F('etc/logrotate.d/fleetops-app', '/var/log/fleetops/*.log {\n  daily\n  rotate 7\n}\n',
                         mtime=later),
            layer_tars.D('etc/fleetops', 0o755, mtime=later),
            layer_tars.F(BROKEN_FILE, ''.join('setting_%03d = %s\n' % (i, layer_tars.blob('conf%d' % i, 12).hex())
                                              for i in range(200)), 0o640, mtime=later),
            layer_tars.F('etc/fleetops/workers.conf', 'workers = 4\nqueue = jobs\n', mtime=later),
        ]
        for directory in ('etc', 'etc/logrotate.d'):
            os.makedirs(os.path.join(staging, directory), exist_ok=True)
        layer_tars.materialize(staging, entries)
        _stamp_dirs(rootfs, staging)
        path = os.path.join(out_dir, 'config.tar')
        layer_tars.gnu_tar(staging, path, 'pax', numeric_owner=False)
    layers.append(('config', path))
    # app: ustar, files copied from /usr/share/doc into /opt/fleetops-app
    with tempfile.TemporaryDirectory(dir=out_dir) as staging:
        for rel in _files_under(rootfs, 'usr/share/doc', BUDGETS['app'] * scale):
            if os.path.islink(os.path.join(rootfs, rel)) or len(rel) > 90:
                continue
            target = os.path.join(staging, 'opt/fleetops-app/share', os.path.relpath(rel, 'usr/share/doc'))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(rootfs, rel), target)
        run_sh = os.path.join(staging, 'opt/fleetops-app/bin/run')
        os.makedirs(os.path.dirname(run_sh))
        with open(run_sh, 'w', encoding='utf-8') as stream:
            stream.write('#!/bin/sh\nexec sleep infinity\n')
        os.chmod(run_sh, 0o755)
        for dirpath, _dirnames, filenames in os.walk(staging):
            for name in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
                os.utime(name, (later + 86400, later + 86400))
        path = os.path.join(out_dir, 'app.tar')
        layer_tars.gnu_tar(staging, path, 'ustar')
    layers.append(('app', path))
    path = layer_tars.write_empty_layer(os.path.join(out_dir, 'empty.tar'))
    layers.append(('empty', path))
    os.unlink(listing)
    return layers


def _break_file(docker_root, driver, manifest):
    """Append to a file of the config layer's tree: it no longer matches its tar-split record."""
    layer = next(l for l in manifest['layers'] if l['name'] == BROKEN_LAYER)
    path = os.path.join(docker_root, layer['layer_dir'], BROKEN_FILE)
    with open(path, 'a', encoding='utf-8') as stream:
        stream.write('# edited in place on the host after the pull: tar-split no longer matches\n')
    return {'layer': BROKEN_LAYER, 'v1id': layer['v1id'], 'file': BROKEN_FILE, 'driver': driver}


def ensure_stores(data_mb=0, force=False):
    """Build the pristine store of every driver when not cached; returns {driver: directory}.

    data_mb > 0 adds a 'data' layer of that many MiB (child of 'app', tagged fleetops/model:2016),
    as the demo does to make hashing time visible."""
    with locked('stores'):
        base = stores_path(data_mb)
        done = os.path.join(base, 'stores.json')
        if os.path.exists(done) and not force:
            return dict((driver, os.path.join(base, driver)) for driver in DRIVERS)
        if shutil.which('tar-split') is None:
            raise FleetError('tar-split is not installed (apt-get install tar-split)')
        rootfs = ensure_rootfs()
        shutil.rmtree(base, ignore_errors=True)
        os.makedirs(base)
        layers = build_layer_tars(rootfs, os.path.join(base, 'layers'))
        specs = [{'name': n, 'tar': p} for n, p in layers]
        tags = dict(TAGS)
        if data_mb:
            data = build_data_tar(os.path.join(base, 'layers'), data_mb)
            layers.append(('data', data))
            specs.append({'name': 'data', 'tar': data, 'parent': 'app'})
            tags['fleetops/model:2016'] = 'data'
        log('layer tars: %s', ', '.join('%s %.1f MB' % (n, os.path.getsize(p) / 1e6) for n, p in layers))
        result = {}
        for driver in DRIVERS:
            home = os.path.join(base, driver)
            docker_root = os.path.join(home, 'docker')
            manifest = legacy_graph.build_legacy_graph(
                docker_root, driver, layers=specs, tags=tags,
                containers=CONTAINERS, tarsplit={NO_TARSPLIT_LAYER: False}, seed='fleetops-fleet-%s' % driver)
            manifest['fleet'] = {'broken': _break_file(docker_root, driver, manifest),
                                 'no_tarsplit': NO_TARSPLIT_LAYER, 'data_mb': data_mb}
            legacy_graph.write_manifest(manifest, os.path.join(home, 'manifest.json'))
            result[driver] = home
            log('%s store built (%s)', driver, run(['du', '-sh', docker_root]).stdout.decode().split()[0])
        write_json(done, {'drivers': list(DRIVERS), 'data_mb': data_mb})
        return result


def copy_store(pristine_home, dest_docker_root, in_host_root='/var/lib/docker'):
    """Copy a pristine store to a host; returns its manifest with paths as the host sees them."""
    if os.path.lexists(dest_docker_root):
        shutil.rmtree(dest_docker_root)
    os.makedirs(os.path.dirname(dest_docker_root), exist_ok=True)
    run(['cp', '-a', os.path.join(pristine_home, 'docker'), dest_docker_root])
    manifest = read_json(os.path.join(pristine_home, 'manifest.json'))
    manifest['docker_root'] = in_host_root
    for layer in manifest['layers']:
        layer['tar'] = os.path.join(os.path.dirname(layer['tar']), os.path.basename(layer['tar']))
    return manifest
