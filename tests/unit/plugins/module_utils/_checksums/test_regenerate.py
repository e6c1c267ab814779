# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rebuilding a layer's tar from its tree: Debian's tar-split reassembles exactly the stream we
hashed, GNU tar and Python's tarfile read the entries we meant, and reruns give the same bytes."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import gzip
import hashlib
import io
import os
import shutil
import signal
import socket
import subprocess
import tarfile

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.regenerate import (
    REGTYPE, LayerReadError, TarHeader, encode_header, regenerate_layer_tar, whiteout_header)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.tree_changes import (
    diff_dir_entries, layer_changes)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason='the trees need chown, mknod and security xattrs')

MTIME = 1234567890
CAPABILITY = bytes.fromhex('0100000200200000ff00000000000000000000ff')  # binary: NULs and a 0xff
BIG = 3 * 1024 * 1024 + 7  # several read chunks and a partial one
GNU_TYPE_LETTERS = {tarfile.REGTYPE: '-', tarfile.LNKTYPE: 'h', tarfile.SYMTYPE: 'l', tarfile.CHRTYPE: 'c',
                    tarfile.BLKTYPE: 'b', tarfile.DIRTYPE: 'd', tarfile.FIFOTYPE: 'p'}


# ---- headers ---------------------------------------------------------------------------------

def _pax_records(data):
    """Parse PAX records strictly: every length prefix must be its record's exact length."""
    records, position = [], 0
    while position < len(data):
        length = int(data[position:data.index(b' ', position)])
        record = data[position:position + length]
        assert record.endswith(b'\n')
        records.append(record.split(b' ', 1)[1][:-1].split(b'=', 1))
        position += length
    return records


def _read_back(header_bytes):
    with tarfile.open(fileobj=io.BytesIO(header_bytes + b'\0' * 1024), encoding='utf-8',
                      errors='surrogateescape') as archive:
        return archive.getmembers()[0]


def test_short_ascii_name_is_a_single_ustar_block():
    block = encode_header(TarHeader(b'etc/hosts', REGTYPE, 0o644, 0, 0, MTIME))
    assert len(block) == 512
    assert block[:9] == b'etc/hosts' and block[100:108] == b'0000644\0' and block[156:157] == b'0'
    assert block[257:265] == b'ustar\x0000'
    assert int(block[148:154], 8) == sum(block[:148]) + 8 * 32 + sum(block[156:])
    assert block[154:156] == b'\0 '


@pytest.mark.parametrize('name, in_ustar', [
    (b'n' * 100, True), (b'n' * 101, False), (u'\u00e9'.encode('utf-8'), False), (b'caf\xe9', False)])
def test_ustar_only_for_ascii_names_that_fit(name, in_ustar):
    data = encode_header(TarHeader(name, REGTYPE, 0o644))
    assert (len(data) == 512) == in_ustar
    assert os.fsencode(_read_back(data).name) == name


@pytest.mark.parametrize('length', list(range(88, 96)) + list(range(988, 998)))
def test_pax_record_lengths_across_digit_boundaries(length):
    name = u'\u00e9'.encode('utf-8') + b'n' * (length - 2)
    data = encode_header(TarHeader(name, REGTYPE, 0o644))
    pax_size = int(data[124:135], 8)
    assert data[156:157] == b'x'
    assert _pax_records(data[512:512 + pax_size]) == [[b'path', name]]
    assert os.fsencode(_read_back(data).name) == name


def test_pax_header_is_named_as_go_names_it_and_ustar_name_is_an_ascii_placeholder():
    data = encode_header(TarHeader(b'd\xc3\xa9j\xc3\xa0/caf\xe9/', b'5', 0o755))
    assert data[:100].rstrip(b'\0') == b'dj/caf/PaxHeaders.0'
    assert data[1024:1124].rstrip(b'\0') == b'dj/caf/'


def test_whiteout_names():
    assert whiteout_header(b'etc/old').name == b'etc/.wh.old'
    assert whiteout_header(b'gone').name == b'.wh.gone'


# ---- whole trees ------------------------------------------------------------------------------

class Member(object):
    """What a tar entry should say, as the tree builder made it."""

    def __init__(self, name, type, mode, size=0, linkname=b'', uid=0, gid=0, mtime=MTIME, dev=(0, 0), cap=None):
        self.__dict__.update(name=name, type=type, mode=mode, size=size, linkname=linkname, uid=uid, gid=gid,
                             mtime=mtime, dev=dev, cap=cap)

    @property
    def tar_name(self):
        return self.name + b'/' if self.type == tarfile.DIRTYPE else self.name

    def as_tuple(self):
        return (self.name, self.type, self.mode, self.size, self.linkname, self.uid, self.gid, self.mtime,
                self.dev, self.cap)


class TreeBuilder(object):
    """Makes a tree on disk and records the tar members it should give."""

    def __init__(self, root):
        self.root = os.fsencode(str(root))
        self.members = {}
        self.fixed_times = {}
        os.makedirs(self.root, exist_ok=True)

    def path(self, name):
        return os.path.join(self.root, name)

    def _expect(self, name, type, mode, **fields):
        self.members[name] = Member(name, type, mode, **fields)

    def dir(self, name, mode=0o755):
        os.makedirs(self.path(name), exist_ok=True)
        os.chmod(self.path(name), mode)
        self._expect(name, tarfile.DIRTYPE, mode)

    def file(self, name, content=b'', mode=0o644, owner=(0, 0), cap=None, mtime=MTIME):
        with open(self.path(name), 'wb') as handle:
            handle.write(content)
        os.chown(self.path(name), *owner)
        os.chmod(self.path(name), mode)  # after chown, which clears setuid
        if cap is not None:
            os.setxattr(self.path(name), 'security.capability', cap)
        self.fixed_times[name] = mtime
        self._expect(name, tarfile.REGTYPE, mode, size=len(content), uid=owner[0], gid=owner[1], mtime=mtime, cap=cap)

    def hardlink(self, name, first):
        os.link(self.path(first), self.path(name))
        target = self.members[first]
        self._expect(name, tarfile.LNKTYPE, target.mode, linkname=first, uid=target.uid, gid=target.gid,
                     mtime=target.mtime, cap=target.cap)

    def symlink(self, name, target):
        os.symlink(target, self.path(name))
        self._expect(name, tarfile.SYMTYPE, 0o777, linkname=target)

    def node(self, name, type, major=0, minor=0):
        if type == tarfile.FIFOTYPE:
            os.mkfifo(self.path(name), 0o644)
        else:
            kind = 0o020000 if type == tarfile.CHRTYPE else 0o060000
            os.mknod(self.path(name), 0o644 | kind, os.makedev(major, minor))
        self._expect(name, type, 0o644, dev=(major, minor))

    def socket(self, name):
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(self.path(name))
        listener.close()

    def settle_times(self):
        """Give everything its recorded mtime, now that no more entries change the directories."""
        for name, member in self.members.items():
            mtime = self.fixed_times.get(name, MTIME)
            os.utime(self.path(name), ns=(0, mtime * 10 ** 9), follow_symlinks=False)

    def expected(self):
        return [self.members[name] for name in sorted(self.members, key=lambda name: name.split(b'/'))]


def build_rich_tree(root):
    tree = TreeBuilder(root)
    tree.file(b'a-long-first-' + b'q' * 110, b'linked under a long name')  # hard links to it need PAX linkpath
    tree.dir(b'bin')
    tree.file(b'bin/ping', b'\x7fELF ping', mode=0o4755, cap=CAPABILITY)
    tree.dir(b'dev')
    tree.node(b'dev/fifo', tarfile.FIFOTYPE)
    tree.node(b'dev/null', tarfile.CHRTYPE, 1, 3)
    tree.node(b'dev/sda', tarfile.BLKTYPE, 8, 0)
    tree.dir(b'files')
    tree.file(b'files/big', os.urandom(BIG))
    for size in (0, 1, 511, 512, 513):
        tree.file(b'files/b%d' % size, os.urandom(size))
    tree.file(b'files/hard1', b'h' * 100)
    tree.hardlink(b'files/hard2', b'files/hard1')
    tree.file(b'files/future', b'f', mtime=2 ** 33)   # beyond 11 octal digits: PAX mtime
    tree.file(b'files/past', b'p', mtime=-5)          # before 1970: PAX mtime
    tree.file(b'files/owned', b'o', owner=(1000, 2000))
    tree.file(b'files/huge-ids', b'i', owner=(3000000, 3000001))  # beyond 7 octal digits: PAX uid, gid
    tree.dir(b'links')
    tree.symlink(b'links/abs', b'/etc/passwd')
    tree.symlink(b'links/dangling', b'nowhere/at/all')
    tree.symlink(b'links/long-target', b't' * 150)
    tree.symlink(b'links/raw-target', b'caf\xe9')
    tree.symlink(b'links/rel', b'../files/b1')
    tree.symlink(b'links/utf8-target', u'\u00e9t\u00e9'.encode('utf-8'))
    tree.dir(b'long')
    tree.dir(b'long/' + b'd' * 120)
    tree.file(b'long/' + b'd' * 120 + b'/' + b'e' * 200, b'deep and long')
    tree.dir(b'modes')
    tree.dir(b'modes/sgid', 0o2755)
    tree.dir(b'modes/tmp', 0o1777)
    tree.file(b'modes/setgid-file', b'g', mode=0o2711)
    tree.dir(b'names')
    tree.file(b'names/caf\xe9', b'latin-1 name')
    tree.dir(b'names/dir\xff')
    tree.file(b'names/dir\xff/inner', b'inside a non-UTF-8 directory')
    tree.file(b'names/tab\there <&>', b'odd characters')
    tree.file(u'names/\u00e9t\u00e9 \u2028'.encode('utf-8'), b'utf-8 name')
    tree.socket(b'names/sock')  # no tar form: left out
    tree.hardlink(b'zz-link-to-long', b'a-long-first-' + b'q' * 110)
    tree.hardlink(b'zz-second-link', b'files/hard1')
    tree.settle_times()
    return tree


def regenerate(root, entries, tardata_path, layer_id='layer1', sink=None):
    sink = sink if sink is not None else hashlib.sha256()
    with open(str(tardata_path), 'wb') as tardata:
        size, tar_bytes = regenerate_layer_tar(root, entries, tardata, sink, layer_id)
    return size, tar_bytes, sink


def run(*args):
    # The C locale makes GNU tar's escaped listings plain ASCII.
    env = dict(os.environ, LC_ALL='C')
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def reassemble(tardata_path, root, out_path):
    """tar-split asm's stream; also checks that tar-split disasm gives back our metadata exactly."""
    run('tar-split', 'asm', '--input', str(tardata_path), '--path', os.fsdecode(root), '--output', str(out_path))
    again = str(out_path) + '.json.gz'
    run('tar-split', 'disasm', '--no-stdout', '--output', again, str(out_path))
    with gzip.open(again) as theirs, gzip.open(str(tardata_path)) as ours:
        assert ours.read() == theirs.read()
    with open(str(out_path), 'rb') as handle:
        return handle.read()


def tarfile_members(tar_path):
    members = []
    with tarfile.open(str(tar_path), encoding='utf-8', errors='surrogateescape') as archive:
        for info in archive:
            cap = info.pax_headers.get('SCHILY.xattr.security.capability')
            members.append((os.fsencode(info.name), info.type, info.mode, info.size, os.fsencode(info.linkname),
                            info.uid, info.gid, info.mtime, (info.devmajor, info.devminor),
                            None if cap is None else cap.encode('utf-8', 'surrogateescape')))
    return members


@pytest.fixture(scope='module')
def rich(tmp_path_factory):
    """The rich tree and one regeneration of it, shared by the read-only checks below."""
    if os.geteuid() != 0:
        pytest.skip('the tree needs chown, mknod and security xattrs')
    work = tmp_path_factory.mktemp('rich')
    tree = build_rich_tree(work / 'tree')
    entries = layer_changes(tree.root, None)
    size, tar_bytes, sink = regenerate(tree.root, entries, work / 'tardata.json.gz')
    stream = reassemble(work / 'tardata.json.gz', tree.root, work / 'out.tar')
    return dict(work=work, tree=tree, entries=entries, size=size, tar_bytes=tar_bytes, sink=sink, stream=stream)


def test_tar_split_reassembles_the_hashed_stream(rich):
    assert hashlib.sha256(rich['stream']).hexdigest() == rich['sink'].hexdigest()
    assert len(rich['stream']) == rich['tar_bytes']
    assert rich['size'] == sum(member.size for member in rich['tree'].expected())


def test_python_tarfile_reads_the_intended_members(rich):
    expected = [member.as_tuple() for member in rich['tree'].expected()]
    assert tarfile_members(rich['work'] / 'out.tar') == expected


def test_contents_come_through(rich):
    with tarfile.open(str(rich['work'] / 'out.tar'), encoding='utf-8', errors='surrogateescape') as archive:
        for info in archive:
            if info.isreg():
                with open(os.path.join(rich['tree'].root, os.fsencode(info.name)), 'rb') as handle:
                    assert archive.extractfile(info).read() == handle.read()


def test_gnu_tar_lists_the_same_names_without_warnings(rich):
    listing = run('tar', '--quoting-style=literal', '-tf', str(rich['work'] / 'out.tar'))
    assert listing.stderr == b''
    assert listing.stdout.split(b'\n')[:-1] == [member.tar_name for member in rich['tree'].expected()]


def gnu_escape(name):
    """A name as GNU tar's escape quoting style prints it in the C locale."""
    special = {0x5c: '\\\\', 0x09: '\\t', 0x0a: '\\n'}
    return ''.join(special.get(byte) or (chr(byte) if 0x20 <= byte < 0x7f else '\\%03o' % byte) for byte in name)


def gnu_listing_name(member):
    arrow = {tarfile.SYMTYPE: ' -> ', tarfile.LNKTYPE: ' link to '}.get(member.type)
    return gnu_escape(member.tar_name) + (arrow + gnu_escape(member.linkname) if arrow else '')


def test_gnu_tar_sees_types_owners_links_and_capabilities(rich):
    listing = run('tar', '--quoting-style=escape', '--numeric-owner', '--xattrs', '--xattrs-include=*',
                  '-tvvf', str(rich['work'] / 'out.tar'))
    assert listing.stderr == b''
    lines = listing.stdout.decode('ascii').splitlines()
    entries = [line.split(None, 5) for line in lines if not line.startswith('  ')]
    expected = rich['tree'].expected()
    assert [fields[0][0] for fields in entries] == [GNU_TYPE_LETTERS[member.type] for member in expected]
    assert [fields[1] for fields in entries] == ['%d/%d' % (member.uid, member.gid) for member in expected]
    assert [fields[5] for fields in entries] == [gnu_listing_name(member) for member in expected]
    with_cap = [member.name for member in expected if member.cap is not None]
    assert [line.strip() for line in lines if line.startswith('  x:')] == ['x: 20 security.capability'] * len(with_cap)


def test_rerun_and_atime_changes_give_identical_bytes(rich, tmp_path):
    tree = rich['tree']
    for member in tree.expected():
        st = os.lstat(tree.path(member.name))
        os.utime(tree.path(member.name), ns=(st.st_atime_ns + 10 ** 9, st.st_mtime_ns), follow_symlinks=False)
    for attempt in range(2):
        path = tmp_path / ('again%d.json.gz' % attempt)
        _size, _tar_bytes, sink = regenerate(tree.root, layer_changes(tree.root, None), path)
        assert sink.hexdigest() == rich['sink'].hexdigest()
        assert path.read_bytes() == (rich['work'] / 'tardata.json.gz').read_bytes()


@needs_root
def test_aufs_diff_dir_keeps_whiteouts_and_opaque_marker_only(tmp_path):
    tree = TreeBuilder(tmp_path / 'diff')
    tree.file(b'.wh..wh.aufs')
    tree.dir(b'.wh..wh.plnk')
    tree.dir(b'.wh..wh.orph')
    tree.hardlink(b'.wh.gone', b'.wh..wh.aufs')  # aufs makes whiteouts as links to its base file
    tree.dir(b'etc')
    tree.file(b'etc/.wh..wh..opq')
    tree.file(b'etc/hosts', b'127.0.0.1 localhost\n')
    tree.hardlink(b'etc/.wh.passwd', b'.wh..wh.aufs')
    tree.settle_times()
    entries = diff_dir_entries(tree.root)
    _size, _tar_bytes, sink = regenerate(tree.root, entries, tmp_path / 'td.json.gz')
    stream = reassemble(tmp_path / 'td.json.gz', tree.root, tmp_path / 'out.tar')
    assert hashlib.sha256(stream).hexdigest() == sink.hexdigest()
    members = tarfile_members(tmp_path / 'out.tar')
    assert [(name, kind, link) for name, kind, _m, _s, link, _u, _g, _t, _d, _c in members] == [
        (b'.wh.gone', tarfile.REGTYPE, b''),  # first path of the base file's inode inside the tar
        (b'etc', tarfile.DIRTYPE, b''),
        (b'etc/.wh..wh..opq', tarfile.REGTYPE, b''),
        (b'etc/.wh.passwd', tarfile.LNKTYPE, b'.wh.gone'),
        (b'etc/hosts', tarfile.REGTYPE, b'')]


@needs_root
def test_changes_layer_has_whiteouts_and_parent_directories(tmp_path):
    parent = TreeBuilder(tmp_path / 'parent')
    parent.dir(b'etc')
    parent.file(b'etc/keep', b'kept')
    parent.file(b'etc/old', b'old')
    parent.dir(b'lib')
    parent.dir(b'lib/gone')
    parent.file(b'lib/gone/x', b'x')
    parent.dir(b'usr')
    parent.file(b'usr/untouched', b'u')
    parent.settle_times()
    child_root = tmp_path / 'child'
    run('cp', '-a', '-l', os.fsdecode(parent.root), str(child_root))
    child = os.fsencode(str(child_root))
    os.unlink(os.path.join(child, b'etc/old'))
    shutil.rmtree(os.path.join(child, b'lib/gone'))
    os.link(os.path.join(child, b'etc/keep'), os.path.join(child, b'etc/alias'))  # the parent's inode

    entries = layer_changes(child, parent.root)
    size, _tar_bytes, sink = regenerate(child, entries, tmp_path / 'td.json.gz')
    stream = reassemble(tmp_path / 'td.json.gz', child, tmp_path / 'out.tar')
    assert hashlib.sha256(stream).hexdigest() == sink.hexdigest()
    assert size == 4
    members = [(name, kind, mode, size, uid, mtime) for name, kind, mode, size, _l, uid, _g, mtime, _d, _c
               in tarfile_members(tmp_path / 'out.tar')]
    dir_mtime = os.lstat(os.path.join(child, b'etc')).st_mtime_ns // 10 ** 9
    lib_mtime = os.lstat(os.path.join(child, b'lib')).st_mtime_ns // 10 ** 9
    assert members == [
        (b'etc', tarfile.DIRTYPE, 0o755, 0, 0, dir_mtime),
        (b'etc/alias', tarfile.REGTYPE, 0o644, 4, 0, MTIME),  # only path of its inode in this tar
        (b'etc/.wh.old', tarfile.REGTYPE, 0, 0, 0, 0),       # whiteouts: fixed mode, owner, mtime
        (b'lib', tarfile.DIRTYPE, 0o755, 0, 0, lib_mtime),
        (b'lib/.wh.gone', tarfile.REGTYPE, 0, 0, 0, 0),
    ]


# ---- a tree that does not hold still ---------------------------------------------------------

class HookSink(object):
    """A sha256 sink that runs hooks[n] right after the n-th piece of the stream reached it."""

    def __init__(self, hooks):
        self.hash = hashlib.sha256()
        self.hooks = dict(hooks)
        self.calls = 0

    def update(self, data):
        self.hash.update(data)
        hook = self.hooks.pop(self.calls, None)
        self.calls += 1
        if hook is not None:
            hook()


@pytest.fixture
def no_hang():
    def alarm(_signum, _frame):
        raise AssertionError('regeneration hung')
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _replace_with_fifo(path):
    os.unlink(path)
    os.mkfifo(path)


def _replace_with_symlink(path):
    os.unlink(path)
    os.symlink('/etc/hostname', path)


def _append(path):
    with open(path, 'ab') as handle:
        handle.write(b'more')


def _truncate(path):
    os.truncate(path, 10)


@pytest.mark.parametrize('hook_call, change, reason', [
    (0, _replace_with_fifo, 'no longer a regular file'),   # after its header, before the open
    (0, os.unlink, 'No such file'),
    (0, _replace_with_symlink, 'symbolic links'),
    (0, _append, 'size changed'),
    (1, _truncate, 'shrank'),                               # while its content is being read
    (1, _append, 'grew'),
])
def test_file_changing_under_us_is_a_layer_read_error(tmp_path, no_hang, hook_call, change, reason):
    root = tmp_path / 'tree'
    root.mkdir()
    victim = str(root / 'victim')
    with open(victim, 'wb') as handle:
        handle.write(os.urandom(BIG))
    sink = HookSink({hook_call: lambda: change(victim)})
    with pytest.raises(LayerReadError) as caught:
        regenerate(str(root), [(b'victim', 'add')], tmp_path / 'td.json.gz', layer_id='abc123', sink=sink)
    assert caught.value.layer_id == 'abc123'
    assert caught.value.path == victim
    assert 'abc123' in str(caught.value) and victim in str(caught.value) and reason in str(caught.value)


def test_listed_path_that_is_gone_is_a_layer_read_error(tmp_path):
    (tmp_path / 'tree').mkdir()
    with pytest.raises(LayerReadError, match='layer abc123: .*/tree/caf\\\\xe9: No such file'):
        regenerate(str(tmp_path / 'tree'), [(b'caf\xe9', 'add')], tmp_path / 'td.json.gz', layer_id='abc123')
