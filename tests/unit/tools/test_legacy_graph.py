# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fixture builders themselves: the layer tars, and Docker 1.9 stores built from them.

The ground truth the migrator is measured against is that `tar-split asm`, fed a layer's
tar-data.json.gz and its tree in the driver's layout, gives back the original tar byte for byte.
"""

import hashlib
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile

import pytest

from tools import layer_tars
from tools import legacy_graph as lg

DRIVERS = lg.DRIVERS
EPOCH = layer_tars.EPOCH
DAY = layer_tars.DAY
SEC = 1000000000
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope='module')
def graph(tar_corpus, tmp_path_factory):
    """One default graph per driver, shared by the tests of this module (they only read them)."""
    if not shutil.which('tar-split'):
        pytest.skip('tar-split is not installed (Debian package tar-split)')
    corpus = layer_tars.load_corpus(tar_corpus)
    built = {}

    def get(driver):
        if driver not in built:
            base = tmp_path_factory.mktemp('graph-%s' % driver)
            manifest = lg.build_legacy_graph(str(base / 'docker'), driver, corpus=corpus,
                                             manifest_path=str(base / 'manifest.json'))
            built[driver] = (base / 'docker', manifest)
        return built[driver]

    return get


def _layer(manifest, name):
    return next(layer for layer in manifest['layers'] if layer['name'] == name)


def _tree(manifest, name):
    return os.path.join(manifest['docker_root'], _layer(manifest, name)['layer_dir'])


def _b(path):
    return os.fsencode(path)


def _members(tar_path):
    with tarfile.open(tar_path, 'r:', encoding='utf-8', errors='surrogateescape') as archive:
        return list(archive)


def _digest(path):
    with open(path, 'rb') as stream:
        return 'sha256:' + hashlib.sha256(stream.read()).hexdigest()


def _content(path):
    with open(path, 'rb') as stream:
        return stream.read()


# --------------------------------------------------------------------------------------------------
# The corpus


def test_empty_layer_is_1024_zero_bytes_with_the_known_digest(tar_corpus_info):
    record = tar_corpus_info['tars']['empty']
    assert _content(record['path']) == b'\0' * 1024
    assert record['diff_id'] == _digest(record['path']) == layer_tars.EMPTY_LAYER_DIFF_ID
    assert layer_tars.EMPTY_LAYER_DIFF_ID == \
        'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef'


def test_corpus_is_deterministic(tar_corpus_info, tmp_path):
    again = layer_tars.build_synthetic_corpus(tmp_path / 'again')
    for name, record in tar_corpus_info['tars'].items():
        assert again['tars'][name]['diff_id'] == record['diff_id'] == _digest(record['path']), name


def test_corpus_is_reused_when_present(tar_corpus):
    before = os.stat(tar_corpus / 'base-gnu.tar').st_mtime_ns
    layer_tars.build_synthetic_corpus(tar_corpus)
    assert os.stat(tar_corpus / 'base-gnu.tar').st_mtime_ns == before


def test_corpus_formats_are_what_they_claim(tar_corpus_info):
    tars = tar_corpus_info['tars']
    base = _content(tars['base-gnu']['path'])
    assert b'././@LongLink' in base and b'ustar  \0' in base  # GNU long names, GNU magic
    assert len(base) % 10240 == 0  # GNU tar's default 20-block records
    pax = _content(tars['child-pax']['path'])
    assert b'SCHILY.xattr.security.capability=' + layer_tars.CAP_NET_RAW_EP in pax
    assert b'PaxHeaders/' in pax and b'ustar\x0000' in pax
    pypax = _content(tars['child-pypax']['path'])
    assert b'././@PaxHeader' in pypax and b'hdrcharset=BINARY' in pypax and b'mtime=1451779200.5\n' in pypax
    ustar = _content(tars['child-ustar']['path'])
    assert b'././@' not in ustar and b'PaxHeaders' not in ustar and b'ustar\x0000' in ustar
    assert len(ustar) % 512 == 0 and len(ustar) % 10240 != 0  # --blocking-factor=1
    assert all(m.name.startswith('.') for m in _members(tars['child-ustar']['path']))


def test_corpus_covers_every_kind_of_entry(tar_corpus_info):
    members = []
    for name in ('base-gnu', 'child-pax', 'child-pypax', 'child-ustar'):
        members += _members(tar_corpus_info['tars'][name]['path'])
    types = set(m.type for m in members)
    assert {tarfile.REGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE,
            tarfile.BLKTYPE, tarfile.FIFOTYPE} <= types
    sizes = set(m.size for m in members if m.isreg())
    assert {0, 1, 511, 512, 513} <= sizes and max(sizes) > 3 * 1024 * 1024
    names = [m.name.encode('utf-8', 'surrogateescape') for m in members]
    assert any(len(n.rsplit(b'/', 1)[-1]) > 100 for n in names)
    assert any(len(n) > 255 for n in names)
    assert any(b'caf\xe9' in n for n in names)
    bases = [n.rsplit(b'/', 1)[-1] for n in names]
    assert b'.wh..wh..opq' in bases and b'.wh.remove-me' in bases and b'.wh.gone' in bases
    links = dict((m.name, m.linkname) for m in members if m.issym())
    assert links['lib64'] == '/usr/lib' and links['usr/share/dangling'] == '/nonexistent/target'
    assert links['bin/sh'] == 'busybox'
    modes = set(m.mode for m in members)
    assert {0o4755, 0o2775, 0o1777} <= modes
    xattrs = set(k for m in members for k in m.pax_headers if k.startswith('SCHILY.xattr.'))
    assert {'SCHILY.xattr.security.capability', 'SCHILY.xattr.user.foo', 'SCHILY.xattr.user.pyfoo'} <= xattrs


def test_expected_size_is_the_sum_of_tarsplit_file_entries(tar_corpus_info, tmp_path):
    for name, record in tar_corpus_info['tars'].items():
        metadata = lg.tarsplit_disasm(record['path'], tmp_path / (name + '.json.gz'))
        entries = list(lg.tarsplit_entries(metadata))
        assert lg.tarsplit_size(metadata) == sum(e.get('size') or 0 for e in entries if e['type'] == 1)
        assert lg.tarsplit_size(metadata) == record['regular_file_bytes'], name


# --------------------------------------------------------------------------------------------------
# The ground truth: tar-split reassembles every layer from every driver's tree


@pytest.mark.parametrize('driver', DRIVERS)
def test_tarsplit_asm_from_the_layer_tree_gives_back_the_original_tar(graph, driver, tmp_path):
    docker_root, manifest = graph(driver)
    assert len(manifest['layers']) == 6
    for layer in manifest['layers']:
        assert layer['has_tarsplit']
        metadata = docker_root / 'graph' / layer['v1id'] / 'tar-data.json.gz'
        out = lg.tarsplit_asm(metadata, docker_root / layer['layer_dir'], tmp_path / (layer['name'] + '.tar'))
        assert _digest(out) == layer['diff_id'] == _digest(layer['tar']), (driver, layer['name'])
        assert lg.tarsplit_size(metadata) == layer['size']
    for name in ('empty-1', 'empty-2'):
        assert _layer(manifest, name)['diff_id'] == layer_tars.EMPTY_LAYER_DIFF_ID
        assert _layer(manifest, name)['size'] == 0
    assert all(result['ok'] for result in lg.verify_graph(manifest))


@pytest.mark.parametrize('driver', DRIVERS)
def test_metadata_files(graph, driver):
    docker_root, manifest = graph(driver)
    for index, layer in enumerate(manifest['layers']):
        assert re.match(r'\A[0-9a-f]{64}\Z', layer['v1id'])
        graph_dir = docker_root / 'graph' / layer['v1id']
        config = json.loads(_content(graph_dir / 'json'))
        assert config['id'] == layer['v1id']
        assert config.get('parent') == layer['parent'] == (manifest['layers'][index - 1]['v1id'] if index else None)
        assert 'parent' not in config or index
        assert re.match(r'\A2016-01-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z\Z', config['created'])
        assert config['container_config']['Cmd'][:2] == ['/bin/sh', '-c']
        assert (config['docker_version'], config['architecture'], config['os']) == ('1.9.1', 'amd64', 'linux')
        assert config['Size'] == layer['size'] == int(_content(graph_dir / 'layersize'))
        assert stat.S_IMODE(os.stat(graph_dir / 'tar-data.json.gz').st_mode) == 0o600
    assert (docker_root / 'graph' / '_tmp').is_dir()
    chain = [layer['diff_id'] for layer in manifest['layers']]
    assert [layer['chain_id'] for layer in manifest['layers']] == lg.chain_ids(chain)
    repositories = json.loads(_content(docker_root / ('repositories-%s' % driver)))
    top, base = manifest['layers'][-1]['v1id'], manifest['layers'][0]['v1id']
    assert repositories == {'Repositories': {'fleetops/app': {'latest': top, '1.0': top},
                                             'fleetops/base': {'latest': base}}}
    assert manifest['tags'] == repositories['Repositories']
    by_name = dict((c['name'], c) for c in manifest['containers'])
    assert by_name['web']['running'] and not by_name['old-job']['running']
    assert by_name['web']['image'] == top and by_name['old-job']['image'] == base
    for container in manifest['containers']:
        directory = docker_root / 'containers' / container['id']
        config = json.loads(_content(directory / 'config.json'))
        assert config['ID'] == container['id'] and config['Name'] == '/' + container['name']
        assert config['Image'] == container['image'] and config['Driver'] == driver
        assert config['State']['Running'] == container['running']
        assert (config['State']['Pid'] > 0) == container['running']
        host_config = json.loads(_content(directory / 'hostconfig.json'))
        assert host_config['RestartPolicy']['Name'] in ('no', 'always')


def test_ids_are_deterministic_and_seeded(tar_corpus, legacy_graph):
    del tar_corpus
    _root, first = legacy_graph('aufs', containers=[], tags={})
    _root, second = legacy_graph('aufs', containers=[], tags={})
    _root, other = legacy_graph('aufs', containers=[], tags={}, seed='another-host')
    assert [l['v1id'] for l in first['layers']] == [l['v1id'] for l in second['layers']]
    assert not set(l['v1id'] for l in first['layers']) & set(l['v1id'] for l in other['layers'])
    assert [l['created'] for l in first['layers']] == [l['created'] for l in second['layers']]


def test_layers_without_tarsplit_data(tar_corpus, legacy_graph, tmp_path):
    del tar_corpus
    docker_root, manifest = legacy_graph('aufs', tarsplit={'child-pax': False, 'empty-2': False})
    without = dict((layer['name'], layer) for layer in manifest['layers'] if not layer['has_tarsplit'])
    assert sorted(without) == ['child-pax', 'empty-2']
    for layer in manifest['layers']:
        graph_dir = docker_root / 'graph' / layer['v1id']
        assert (graph_dir / 'tar-data.json.gz').exists() == layer['has_tarsplit']
        assert int(_content(graph_dir / 'layersize')) == layer['size']
    assert _layer(manifest, 'child-pax')['size'] == layer_tars.regular_file_bytes(_layer(manifest, 'child-pax')['tar'])
    assert not os.listdir(docker_root / 'graph' / '_tmp')
    results = lg.verify_graph(manifest)
    assert len(results) == 4 and all(result['ok'] for result in results)
    _root, none = legacy_graph('overlay', tarsplit=False, containers=[])
    assert not any(layer['has_tarsplit'] for layer in none['layers'])


# --------------------------------------------------------------------------------------------------
# Extraction fidelity


def _check_base_tree(root):
    """What base-gnu says, in a tree that holds it (aufs diff dir or a full root)."""
    root = _b(root)
    st = os.lstat(root + b'/dev/null')
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 3
    assert stat.S_IMODE(st.st_mode) == 0o666
    st = os.lstat(root + b'/dev/loop0')
    assert stat.S_ISBLK(st.st_mode) and (os.major(st.st_rdev), os.minor(st.st_rdev), st.st_gid) == (7, 0, 6)
    assert stat.S_ISFIFO(os.lstat(root + b'/run/initctl').st_mode)
    assert os.readlink(root + b'/lib64') == b'/usr/lib'
    assert os.readlink(root + b'/usr/share/dangling') == b'/nonexistent/target'
    assert os.lstat(root + b'/usr/share/dangling').st_mtime_ns == EPOCH * SEC
    assert os.readlink(root + b'/bin/sh') == b'busybox'
    assert _content(root + b'/etc/caf\xe9') == b'a non-UTF-8 (latin-1) file name\n'
    st = os.lstat(root + b'/home/user')
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 1000, 0o700)
    assert stat.S_IMODE(os.lstat(root + b'/tmp').st_mode) == 0o1777
    assert stat.S_IMODE(os.lstat(root + b'/usr/bin/passwd').st_mode) == 0o4755
    st = os.lstat(root + b'/usr/local/share/setgid-dir')
    assert (stat.S_IMODE(st.st_mode), st.st_gid) == (0o2775, 50)
    assert os.lstat(root + b'/usr/lib/sizes/3-mib-plus-7').st_size == 3 * 1024 * 1024 + 7
    deep = root + b'/var/lib/deep'
    assert os.lstat(deep).st_mtime_ns == EPOCH * SEC  # directory mtimes set after their contents
    found = [os.path.join(d, f) for d, _dirs, files in os.walk(deep) for f in files]
    assert len(found) == 1 and len(found[0]) - len(root) > 255


@pytest.mark.parametrize('driver', ('overlay', 'vfs', 'btrfs'))
def test_full_root_trees_hold_what_the_layers_say(graph, driver):
    _docker_root, manifest = graph(driver)
    base = _b(_tree(manifest, 'base-gnu'))
    _check_base_tree(base)
    assert _content(base + b'/etc/hostname') == b'base\n'
    pax = _b(_tree(manifest, 'child-pax'))
    top = _b(_tree(manifest, 'empty-2'))
    for root in (pax, top):
        _check_base_tree(root)
        assert os.getxattr(root + b'/usr/bin/ping', 'security.capability') == layer_tars.CAP_NET_RAW_EP
        assert os.getxattr(root + b'/etc/app.conf', 'user.foo') == b'bar'
        assert os.getxattr(root + b'/etc/app.conf', 'user.binary') == b'\x00\xff\x80 binary value'
        assert os.getxattr(root + b'/usr/share/xattr-dir', 'user.dir') == b'yes'
        # whiteouts applied, and not left behind
        assert not os.path.lexists(root + b'/etc/remove-me') and not os.path.lexists(root + b'/etc/.wh.remove-me')
        assert not os.path.lexists(root + b'/usr/share/doc/gone')
        assert os.listdir(root + b'/usr/share/doc') == [b'kept']
        assert sorted(os.listdir(root + b'/var/cache/app')) == [b'new']  # opaque
        assert os.lstat(root + b'/var/cache/app').st_mtime_ns == (EPOCH + DAY) * SEC
    assert _content(pax + b'/etc/hostname') == b'child-pax\n'
    assert _content(top + b'/etc/hostname') == b'child-ustar\n'
    # child-pypax: dir <-> file swaps behind whiteouts, odd names and times, owners
    assert _content(top + b'/opt/olddir') == b'was a directory\n'
    assert os.listdir(top + b'/opt/oldfile') == [b'inner']
    assert not os.path.lexists(top + b'/opt/.wh.olddir')
    st = os.lstat(top + b'/srv/pypax')
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), st.st_mtime_ns) == (4242, 4343, 0o750,
                                                                                (EPOCH + 2 * DAY) * SEC)
    assert os.lstat(top + b'/srv/pypax/fractional-mtime').st_mtime_ns == (EPOCH + 2 * DAY) * SEC + SEC // 2
    assert os.getxattr(top + b'/srv/pypax/xattrs', 'user.pyfoo') == b'py'
    assert os.getxattr(top + b'/srv/pypax/xattrs', 'security.capability') == layer_tars.CAP_NET_RAW_EP
    assert os.path.isfile(top + b'/srv/pypax/caf\xe9.bin')
    assert os.lstat(top + b'/srv/pypax/hl-link').st_ino == os.lstat(top + b'/srv/pypax/hl-target').st_ino
    assert stat.S_ISFIFO(os.lstat(top + b'/srv/pypax/fifo').st_mode)
    # child-ustar
    assert stat.S_IMODE(os.lstat(top + b'/usr/share/ustar/sticky').st_mode) == 0o1777
    assert stat.S_IMODE(os.lstat(top + b'/usr/share/ustar/setuid-dir').st_mode) == 0o4755
    st = os.lstat(top + b'/usr/share/ustar/owned')
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 1000, 0o640)


def test_aufs_diff_dirs_keep_the_tar_as_is(graph):
    docker_root, manifest = graph('aufs')
    _check_base_tree(_tree(manifest, 'base-gnu'))
    pax = _b(_tree(manifest, 'child-pax'))
    for name in (b'etc/.wh.remove-me', b'usr/share/doc/.wh.gone', b'var/cache/app/.wh..wh..opq'):
        st = os.lstat(pax + b'/' + name)
        assert stat.S_ISREG(st.st_mode) and st.st_size == 0 and stat.S_IMODE(st.st_mode) == 0o444
    # as in the tar: the whiteouts are hard links to one another
    assert os.lstat(pax + b'/etc/.wh.remove-me').st_ino == os.lstat(pax + b'/usr/share/doc/.wh.gone').st_ino
    assert not os.path.lexists(pax + b'/etc/passwd')  # only the layer's own files
    assert os.getxattr(pax + b'/usr/bin/ping', 'security.capability') == layer_tars.CAP_NET_RAW_EP
    pypax = _b(_tree(manifest, 'child-pypax'))
    assert stat.S_IMODE(os.lstat(pypax + b'/opt/.wh.olddir').st_mode) == 0
    assert os.path.isfile(pypax + b'/opt/olddir') and os.path.isdir(pypax + b'/opt/oldfile')
    for layer in manifest['layers']:
        diff = docker_root / 'aufs' / 'diff' / layer['v1id']
        assert stat.S_IMODE(os.lstat(diff / '.wh..wh.aufs').st_mode) == 0o444
        assert (diff / '.wh..wh.plnk').is_dir() and (diff / '.wh..wh.orph').is_dir()
        assert (docker_root / 'aufs' / 'mnt' / layer['v1id']).is_dir()
        assert not os.listdir(docker_root / 'aufs' / 'mnt' / layer['v1id'])
        ancestors = _content(docker_root / 'aufs' / 'layers' / layer['v1id']).decode().splitlines()
        assert ancestors == layer['ancestors']
    top = manifest['layers'][-1]
    assert top['ancestors'] == [layer['v1id'] for layer in reversed(manifest['layers'][:-1])]


def test_overlay_children_hard_link_their_parents_unchanged_files(graph):
    _docker_root, manifest = graph('overlay')
    names = [layer['name'] for layer in manifest['layers']]
    for parent_name, child_name in zip(names, names[1:]):
        parent, child = _b(_tree(manifest, parent_name)), _b(_tree(manifest, child_name))
        child_layer = _layer(manifest, child_name)
        touched, gone = set(), set()  # names the child's tar rewrites; trees its whiteouts remove
        for member in _members(child_layer['tar']):
            name = member.name.encode('utf-8', 'surrogateescape')
            name = name[2:] if name.startswith(b'./') else name
            head, _sep, base = name.rpartition(b'/')
            if base == b'.wh..wh..opq':
                gone.add(head)
            elif base.startswith(b'.wh.'):
                gone.add((head + b'/' if head else b'') + base[4:])
            else:
                touched.add(name)
        shared = changed = 0
        for dirpath, _dirs, files in os.walk(parent):
            for file_name in files:
                path = os.path.join(dirpath, file_name)
                rel = path[len(parent) + 1:]
                st = os.lstat(path)
                if not stat.S_ISREG(st.st_mode):
                    continue
                if any(rel == g or rel.startswith(g + b'/') for g in gone):
                    assert rel in touched or not os.path.lexists(child + b'/' + rel), rel
                    continue
                if rel in touched:
                    assert os.lstat(child + b'/' + rel).st_ino != st.st_ino, rel
                    changed += 1
                    continue
                assert os.lstat(child + b'/' + rel).st_ino == st.st_ino, (child_name, rel)
                shared += 1
        assert shared > 10
        if child_name in ('child-pax', 'child-ustar'):
            assert changed >= 1
    # replaced files never wrote through the link: each root keeps its own content
    base = _b(_tree(manifest, 'base-gnu'))
    pax = _b(_tree(manifest, 'child-pax'))
    assert _content(base + b'/etc/hostname') == b'base\n'
    assert _content(base + b'/usr/bin/hard-a') == _content(pax + b'/usr/bin/hard-b')
    assert os.lstat(base + b'/usr/bin/hard-a').st_ino == os.lstat(pax + b'/usr/bin/hard-b').st_ino
    assert os.lstat(pax + b'/usr/bin/hard-a').st_ino != os.lstat(pax + b'/usr/bin/hard-b').st_ino
    assert os.path.exists(base + b'/etc/remove-me') and os.path.exists(base + b'/var/cache/app/old1')
    # directories, symlinks and device nodes are copies, not links
    assert os.lstat(base + b'/etc').st_ino != os.lstat(pax + b'/etc').st_ino
    assert os.lstat(base + b'/dev/null').st_ino != os.lstat(pax + b'/dev/null').st_ino
    assert os.lstat(base + b'/lib64').st_ino != os.lstat(pax + b'/lib64').st_ino
    layer_dir = os.path.dirname(_tree(manifest, 'child-pax'))
    assert os.listdir(layer_dir) == ['root']


@pytest.mark.parametrize('driver', ('vfs', 'btrfs'))
def test_vfs_and_btrfs_trees_are_real_copies(graph, driver):
    _docker_root, manifest = graph(driver)
    base = _b(_tree(manifest, 'base-gnu'))
    nop = _b(_tree(manifest, 'empty-1'))
    base_inodes = set(os.lstat(os.path.join(d, f)).st_ino for d, _x, files in os.walk(base) for f in files)
    nop_inodes = set(os.lstat(os.path.join(d, f)).st_ino for d, _x, files in os.walk(nop) for f in files)
    assert base_inodes and not base_inodes & nop_inodes
    # hard links inside a tree stay hard links in its copy
    assert os.lstat(nop + b'/usr/bin/hard-a').st_ino == os.lstat(nop + b'/usr/bin/hard-b').st_ino


# --------------------------------------------------------------------------------------------------
# Containers


@pytest.mark.parametrize('driver', DRIVERS)
def test_container_layers(graph, driver):
    docker_root, manifest = graph(driver)
    home = docker_root / driver
    for container in manifest['containers']:
        cid, init = container['id'], container['id'] + '-init'
        rw = docker_root / container['rw_dir']
        init_dir = docker_root / container['init_dir']
        assert (init_dir / '.dockerenv').is_file() and os.readlink(init_dir / 'etc' / 'mtab') == '/proc/mounts'
        assert _content(rw / 'var' / 'log' / 'app.log') == ('started %s\n' % container['name']).encode()
        assert (rw / 'tmp' / 'work' / 'scratch.bin').stat().st_size == 4096
        deleted = container['deleted']
        if driver == 'aufs':
            assert _content(home / 'layers' / init).decode().splitlines()[0] == container['image']
            assert _content(home / 'layers' / cid).decode().splitlines()[:2] == [init, container['image']]
            assert (home / 'mnt' / cid).is_dir() and (home / 'mnt' / init).is_dir()
            for path in deleted:
                head, tail = os.path.split(path)
                whiteout = rw / head / ('.wh.' + tail)
                assert whiteout.stat().st_ino == (rw / '.wh..wh.aufs').stat().st_ino
        elif driver == 'overlay':
            for layer_id in (cid, init):
                assert sorted(os.listdir(home / layer_id)) == ['lower-id', 'merged', 'upper', 'work']
                assert _content(home / layer_id / 'lower-id').decode() == container['image']
            assert (rw / '.dockerenv').is_file()  # the init layer's files are copied up
            for path in deleted:
                st = os.lstat(rw / path)
                assert stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
        else:
            image_dir = docker_root / lg.layer_dir(driver, container['image'])
            assert (rw / '.dockerenv').is_file() and (rw / 'usr' / 'bin' / 'passwd').is_file()
            for path in deleted:
                assert os.path.lexists(image_dir / path) and not os.path.lexists(rw / path)
    assert any(c['deleted'] for c in manifest['containers'])


# --------------------------------------------------------------------------------------------------
# Safety


@pytest.mark.parametrize('driver', ('overlay', 'aufs'))
def test_symlinks_resolve_inside_the_layer_never_on_the_host(tar_corpus, legacy_graph, driver):
    del tar_corpus
    _root, manifest = legacy_graph(driver, layers=[{'name': 'escape-base', 'tar': 'escape-base'},
                                                   {'name': 'escape-child', 'tar': 'escape-child'}],
                                   containers=[], tags={})
    for host_path in ('/usr/lib/through-parent-symlink.txt', '/through-dotdot-symlink.txt',
                      '/usr/bin/through-same-layer-symlink.txt'):
        assert not os.path.lexists(host_path)
    child = _b(_tree(manifest, 'escape-child'))
    if driver == 'overlay':  # the parent's lib64 -> /usr/lib and up -> ../../../../.. are in this root
        assert os.path.isfile(child + b'/usr/lib/through-parent-symlink.txt')
        assert os.path.isfile(child + b'/through-dotdot-symlink.txt')
        assert os.path.islink(child + b'/lib64') and os.path.islink(child + b'/up')
    else:  # the diff dir holds no lib64 symlink: the names are plain directories there
        assert os.path.isfile(child + b'/lib64/through-parent-symlink.txt')
        assert os.path.isfile(child + b'/up/through-dotdot-symlink.txt')
    # a symlink made earlier in the same layer is followed inside the layer too
    assert os.readlink(child + b'/bin2') == b'/usr/bin'
    assert os.path.isfile(child + b'/usr/bin/through-same-layer-symlink.txt')


def test_names_climbing_out_of_the_layer_are_refused(tmp_path):
    tar_path = tmp_path / 'evil.tar'
    with tarfile.open(tar_path, 'w') as archive:
        info = tarfile.TarInfo('a/../../evil')
        info.size = 4
        archive.addfile(info, io.BytesIO(b'evil'))
    with pytest.raises(lg.LayerError):
        lg.extract_layer(tar_path, tmp_path / 'root', apply_whiteouts=True)
    assert not (tmp_path / 'evil').exists()


def test_refuses_to_overwrite_a_docker_root(tar_corpus_info, tmp_path):
    (tmp_path / 'docker').mkdir()
    (tmp_path / 'docker' / 'precious').write_text('x')
    with pytest.raises(lg.GraphError):
        lg.build_legacy_graph(tmp_path / 'docker', 'vfs', corpus=tar_corpus_info)
    assert (tmp_path / 'docker' / 'precious').exists()


# --------------------------------------------------------------------------------------------------
# Realistic corpus and CLI


def test_realistic_corpus_graph(realistic_tar_corpus, legacy_graph):
    corpus = layer_tars.load_corpus(realistic_tar_corpus)
    assert [link['name'] for link in corpus['chain']] == ['real-base', 'real-libs', 'real-etc', 'real-empty']
    total = sum(record['regular_file_bytes'] for record in corpus['tars'].values())
    assert 4 * 1024 * 1024 < total <= 6 * 1024 * 1024
    _root, manifest = legacy_graph('overlay', corpus='realistic')
    assert all(result['ok'] for result in lg.verify_graph(manifest))
    edits = corpus['edits']
    base, etc = _b(_tree(manifest, 'real-base')), _b(_tree(manifest, 'real-etc'))
    for path in edits['whiteouts'] + [edits['gone_dir']]:
        path = os.fsencode(path)
        assert os.path.lexists(base + b'/' + path) and not os.path.lexists(etc + b'/' + path)
    opaque = os.fsencode(edits['opaque_dir'])
    assert os.listdir(etc + b'/' + opaque) == [b'ADDED-BY-real-etc']
    modified = os.fsencode(edits['modified'])
    assert _content(etc + b'/' + modified) == _content(base + b'/' + modified) + b'\n# modified by layer real-etc\n'
    assert os.path.isfile(etc + b'/etc/hostname') or os.listdir(etc + b'/etc')


def test_cli_build_and_verify(tar_corpus, tmp_path):
    env = dict(os.environ, PYTHONPATH='')
    build = subprocess.run(
        [sys.executable, os.path.join(REPO, 'tools', 'legacy_graph.py'), 'build', '--docker-root',
         str(tmp_path / 'docker'), '--driver', 'btrfs', '--corpus-dir', str(tar_corpus),
         '--no-tarsplit', 'child-pypax', '--tag', 'demo/app:2=child-ustar',
         '--container', 'api=demo/app:2,running,pid=4321,delete=etc/hostname'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    assert build.returncode == 0, build.stderr.decode()
    manifest = lg.load_manifest(tmp_path / 'manifest.json')
    assert manifest['tags'] == {'demo/app': {'2': _layer(manifest, 'child-ustar')['v1id']}}
    assert [(c['name'], c['running'], c['pid']) for c in manifest['containers']] == [('api', True, 4321)]
    assert not _layer(manifest, 'child-pypax')['has_tarsplit']
    verify = subprocess.run([sys.executable, os.path.join(REPO, 'tools', 'legacy_graph.py'), 'verify',
                             str(tmp_path / 'manifest.json')], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, check=False)
    assert verify.returncode == 0, verify.stdout.decode() + verify.stderr.decode()
    assert verify.stdout.decode().count('ok ') == 5
    tars = subprocess.run([sys.executable, os.path.join(REPO, 'tools', 'layer_tars.py'), 'synthetic', str(tar_corpus)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    assert tars.returncode == 0 and json.loads(tars.stdout)['tars']['empty']['diff_id'] == \
        layer_tars.EMPTY_LAYER_DIFF_ID


def test_default_containers_follow_the_tags_given(tar_corpus, legacy_graph):
    del tar_corpus
    _root, manifest = legacy_graph('aufs', layers=['base-gnu', 'child-pax'], tags={})
    assert manifest['tags'] == {}
    refs = dict((c['name'], c['image_ref']) for c in manifest['containers'])
    assert refs == {'web': 'child-pax', 'old-job': 'base-gnu'}
    branch = [{'name': 'base', 'tar': 'base-gnu'}, {'name': 'left', 'tar': 'child-pax'},
              {'name': 'right', 'tar': 'child-ustar', 'parent': 'base'}]
    _root, manifest = legacy_graph('overlay', layers=branch, containers=[], tags={'x:1': 'right'})
    assert _layer(manifest, 'right')['parent'] == _layer(manifest, 'left')['parent'] == _layer(manifest, 'base')['v1id']
    assert all(result['ok'] for result in lg.verify_graph(manifest))


def test_extract_cli_keeps_whiteouts_as_aufs_does(tar_corpus, tmp_path):
    dest = tmp_path / 'diff'
    run = subprocess.run([sys.executable, os.path.join(REPO, 'tools', 'legacy_graph.py'), 'extract',
                          str(tar_corpus / 'child-pax.tar'), str(dest)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, check=False)
    assert run.returncode == 0, run.stderr.decode()
    assert (dest / 'etc' / '.wh.remove-me').is_file() and (dest / 'var' / 'cache' / 'app' / '.wh..wh..opq').is_file()
