"""Real Docker layer tar files, made with real tools, for tests, benchmarks and the demo.

Two corpora, both deterministic (the same input files give byte-identical tars):

* ``synthetic``: small layers that between them hold every kind of tar entry a Docker 1.9 layer can
  hold: GNU tar's ``gnu``, ``pax`` and ``ustar`` formats and Python's ``tarfile`` PAX_FORMAT; hard
  links; relative, absolute and dangling symlinks; names over 100 bytes and paths over 255 bytes;
  non-UTF-8 names; xattrs (a binary ``security.capability`` and ``user.*``); aufs whiteouts
  (``.wh.<name>``, some of them hard links to one another as aufs made them) and opaque directories
  (``.wh..wh..opq``); a FIFO and device nodes; files of 0, 1, 511, 512, 513 bytes and a few MiB;
  setuid, setgid and sticky modes; and the empty layer (1024 zero bytes). Building it needs root
  (device nodes, ownership, ``security.capability``).
* ``realistic``: layers cut from the real files of this machine (a sample of /usr/share/doc and
  /usr/lib/python3*, then libraries and binaries, then /etc files plus whiteouts, an opaque
  directory and a modified file over the base), sized by ``total_mb`` (a few MiB for tests,
  ``--total-mb 1200`` for a benchmark graph).

Each corpus directory gets a ``corpus.json`` describing the tars and the layer chain to stack them
in; ``load_corpus`` reads it back with absolute paths. Stdlib only, plus the ``tar`` binary.

CLI::

    python tools/layer_tars.py synthetic OUT_DIR [--force]
    python tools/layer_tars.py realistic OUT_DIR [--total-mb 6] [--force]
"""

import argparse
import glob
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile

CORPUS_VERSION = 1
CORPUS_FILE = 'corpus.json'
EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef'
EPOCH = 1451606400  # 2016-01-01T00:00:00Z, when Docker 1.9 stores were current
DAY = 86400
MIB = 1024 * 1024
# vfs_cap_data revision 2: cap_net_raw (bit 13) permitted, effective flag set ("cap_net_raw+ep").
CAP_NET_RAW_EP = bytes.fromhex('0100000200200000000000000000000000000000')
# Deterministic pax extended headers: no PID in their names, no atime/ctime records.
_PAX_OPTION = 'exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'
_TAR_ENV = dict(os.environ, LC_ALL='C')


class CorpusError(Exception):
    """A corpus cannot be built or read."""


# --------------------------------------------------------------------------------------------------
# Small helpers


def sha256_file(path):
    """'sha256:<hex>' of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, 'rb') as stream:
        for chunk in iter(lambda: stream.read(MIB), b''):
            digest.update(chunk)
    return 'sha256:' + digest.hexdigest()


def blob(seed, size):
    """size pseudo-random bytes, the same for the same seed on every machine and Python."""
    return hashlib.shake_256(seed.encode('utf-8')).digest(size) if size else b''


def regular_file_bytes(tar_path):
    """Sum of the sizes of the regular-file entries (what tar-split's type-1 entries add up to)."""
    with tarfile.open(tar_path, 'r:', encoding='utf-8', errors='surrogateescape') as archive:
        return sum(member.size for member in archive if member.isreg())


def write_empty_layer(path):
    """The empty layer as Docker wrote it: just the two zero blocks that end a tar (1024 bytes)."""
    with open(path, 'wb') as stream:
        stream.write(b'\0' * 1024)
    return path


def _b(path):
    return os.fsencode(path)


class Entry(object):
    """One file system entry of a layer, to materialize on disk or write with tarfile.

    kind: file, dir, symlink, hardlink, fifo, chr or blk. target: the symlink target, or for a hard
    link the layer path it links to. mtime may be a float (tarfile writes it as a pax record).
    """

    def __init__(self, path, kind='file', mode=None, uid=0, gid=0, data=b'', target=b'', dev=(0, 0),
                 xattrs=None, mtime=EPOCH, uname='', gname=''):
        self.path = _b(path)
        self.kind = kind
        if mode is None:
            mode = 0o755 if kind == 'dir' else 0o777 if kind == 'symlink' else 0o644
        self.mode = mode
        self.uid = uid
        self.gid = gid
        self.data = data.encode('utf-8') if isinstance(data, str) else data
        self.target = _b(target)
        self.dev = dev
        self.xattrs = dict(xattrs or {})
        self.mtime = mtime
        self.uname = uname
        self.gname = gname


def F(path, data=b'', mode=0o644, **kwargs):
    return Entry(path, 'file', mode, data=data, **kwargs)


def D(path, mode=0o755, **kwargs):
    return Entry(path, 'dir', mode, **kwargs)


def S(path, target, **kwargs):
    return Entry(path, 'symlink', target=target, **kwargs)


def H(path, target, **kwargs):
    return Entry(path, 'hardlink', target=target, **kwargs)


def _mtime_ns(mtime):
    if isinstance(mtime, float):
        return int(round(mtime * 1000000000))
    return int(mtime) * 1000000000


def materialize(root, entries):
    """Create entries under root exactly (owner, mode, xattrs, mtimes; directory mtimes last).

    Missing parent directories are created as root:root 0755 with mtime EPOCH. Needs root for
    ownership, device nodes and security.* xattrs.
    """
    root = _b(root)
    dir_times = []
    explicit = set(entry.path for entry in entries if entry.kind == 'dir')
    for entry in entries:
        parts = entry.path.split(b'/')
        for depth in range(1, len(parts)):
            parent = b'/'.join(parts[:depth])
            full = root + b'/' + parent
            if parent not in explicit and not os.path.lexists(full):
                os.mkdir(full)
                os.lchown(full, 0, 0)
                os.chmod(full, 0o755)
                dir_times.append((full, EPOCH * 1000000000))
        path = root + b'/' + entry.path
        if entry.kind == 'dir':
            if not os.path.isdir(path):
                os.mkdir(path, 0o700)
        elif entry.kind == 'file':
            with open(path, 'wb') as stream:
                stream.write(entry.data)
        elif entry.kind == 'symlink':
            os.symlink(entry.target, path)
        elif entry.kind == 'hardlink':
            os.link(root + b'/' + entry.target, path, follow_symlinks=False)
            continue  # same inode: its metadata is the target's
        elif entry.kind == 'fifo':
            os.mkfifo(path, 0o600)
        elif entry.kind in ('chr', 'blk'):
            kind = stat.S_IFCHR if entry.kind == 'chr' else stat.S_IFBLK
            os.mknod(path, kind | 0o600, os.makedev(*entry.dev))
        else:
            raise CorpusError('unknown entry kind %r' % entry.kind)
        os.lchown(path, entry.uid, entry.gid)
        if entry.kind != 'symlink':
            os.chmod(path, entry.mode)  # after chown, which clears setuid/setgid
        for name, value in sorted(entry.xattrs.items()):
            os.setxattr(path, name, value, follow_symlinks=False)  # after chown, which drops capabilities
        mtime = _mtime_ns(entry.mtime)
        if entry.kind == 'dir':
            dir_times.append((path, mtime))
        else:
            os.utime(path, ns=(mtime, mtime), follow_symlinks=False)
    for path, mtime in reversed(dir_times):
        os.utime(path, ns=(mtime, mtime), follow_symlinks=False)


def gnu_tar(source_dir, out_tar, fmt, xattrs=False, blocking_factor=None, dot=False,
            numeric_owner=True, files_from=None, allow_changed=False):
    """Archive with GNU tar, deterministically (names sorted, pax headers without PIDs or atimes).

    Archives the top-level entries of source_dir in byte order, or '.' itself when dot (names then
    start with './', as in tars made for `docker import`), or the NUL-separated list files_from
    (relative to source_dir, not recursed) as given.
    """
    cmd = ['tar', '--create', '--file', str(out_tar), '--format=%s' % fmt, '--sort=name',
           '--directory', str(source_dir)]
    if numeric_owner:
        cmd.append('--numeric-owner')
    if fmt in ('pax', 'posix'):
        cmd.append('--pax-option=' + _PAX_OPTION)
    if xattrs:
        cmd += ['--xattrs', '--xattrs-include=*']
    if blocking_factor:
        cmd.append('--blocking-factor=%d' % blocking_factor)
    if files_from is not None:
        cmd += ['--no-recursion', '--null', '--verbatim-files-from', '--files-from', str(files_from)]
    elif dot:
        cmd.append('.')
    else:
        cmd += ['--'] + sorted(os.listdir(_b(source_dir)))
    proc = subprocess.run(cmd, env=_TAR_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    # GNU tar exits 1 when a file changed while it was read: the archive is still a valid tar.
    if proc.returncode != 0 and not (allow_changed and proc.returncode == 1):
        command = ' '.join(os.fsdecode(c) for c in cmd)
        raise CorpusError('%s failed (%d): %s' % (command, proc.returncode, proc.stderr.decode('utf-8', 'replace')))
    return out_tar


def python_pax_tar(out_tar, entries):
    """Write entries, in the given order, with Python's tarfile in PAX_FORMAT (no file system).

    Entry.xattrs become SCHILY.xattr.* records (binary values force hdrcharset=BINARY, as do
    non-UTF-8 names); a float mtime becomes a fractional pax mtime record.
    """
    with tarfile.open(str(out_tar), 'w', format=tarfile.PAX_FORMAT, encoding='utf-8',
                      errors='surrogateescape') as archive:
        for entry in entries:
            info = tarfile.TarInfo(os.fsdecode(entry.path))
            info.mode = entry.mode
            info.uid, info.gid = entry.uid, entry.gid
            info.uname, info.gname = entry.uname, entry.gname
            info.mtime = entry.mtime
            if isinstance(entry.mtime, float):
                info.pax_headers['mtime'] = repr(entry.mtime)
            for name, value in sorted(entry.xattrs.items()):
                info.pax_headers['SCHILY.xattr.' + name] = value.decode('utf-8', 'surrogateescape')
            data = None
            if entry.kind == 'file':
                info.type = tarfile.REGTYPE
                info.size = len(entry.data)
                data = io.BytesIO(entry.data)
            elif entry.kind == 'dir':
                info.type = tarfile.DIRTYPE
            elif entry.kind == 'symlink':
                info.type = tarfile.SYMTYPE
                info.linkname = os.fsdecode(entry.target)
            elif entry.kind == 'hardlink':
                info.type = tarfile.LNKTYPE
                info.linkname = os.fsdecode(entry.target)
            elif entry.kind == 'fifo':
                info.type = tarfile.FIFOTYPE
            elif entry.kind in ('chr', 'blk'):
                info.type = tarfile.CHRTYPE if entry.kind == 'chr' else tarfile.BLKTYPE
                info.devmajor, info.devminor = entry.dev
            archive.addfile(info, data)
    return out_tar


# --------------------------------------------------------------------------------------------------
# The synthetic corpus

_DEEP = '/'.join(['level-%02d-' % i + 'd' * 44 for i in range(5)])  # 5 x 53 bytes: paths > 255 bytes
_LONG_NAME = 'a-file-name-longer-than-one-hundred-bytes-' + 'n' * 100 + '.txt'  # 146 bytes


def _text(label, lines=8):
    return ''.join('%s line %d: the quick brown fox jumps over the lazy dog\n' % (label, i) for i in range(lines))


def _base_entries():
    return [
        D('bin'),
        F('bin/busybox', blob('busybox', MIB + 3), 0o755),
        S('bin/sh', 'busybox'),
        S('lib64', '/usr/lib'),
        D('dev'),
        Entry('dev/null', 'chr', 0o666, dev=(1, 3)),
        Entry('dev/loop0', 'blk', 0o660, gid=6, dev=(7, 0)),
        D('etc'),
        F('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n'),
        F('etc/group', 'root:x:0:\ndisk:x:6:\nstaff:x:50:\nuser:x:1000:\n'),
        F('etc/hostname', 'base\n'),
        F('etc/remove-me', 'whited out by child-pax\n'),
        F(b'etc/caf\xe9', 'a non-UTF-8 (latin-1) file name\n'),
        D('home'),
        D('home/user', 0o700, uid=1000, gid=1000),
        F('home/user/.profile', 'export PS1="$ "\n', uid=1000, gid=1000),
        D('run'),
        Entry('run/initctl', 'fifo', 0o600),
        D('tmp', 0o1777),
        D('usr'),
        D('usr/bin'),
        F('usr/bin/passwd', blob('passwd', 4099), 0o4755),
        F('usr/bin/hard-a', _text('hard link pair'), 0o755),
        H('usr/bin/hard-b', 'usr/bin/hard-a'),
        D('usr/lib'),
        F('usr/lib/os-release', 'ID=fleetops-test\nVERSION_ID=1\n'),
        D('usr/lib/sizes'),
        F('usr/lib/sizes/0-bytes', b''),
        F('usr/lib/sizes/1-byte', b'x'),
        F('usr/lib/sizes/511-bytes', blob('511', 511)),
        F('usr/lib/sizes/512-bytes', blob('512', 512)),
        F('usr/lib/sizes/513-bytes', blob('513', 513)),
        F('usr/lib/sizes/3-mib-plus-7', blob('3mib', 3 * MIB + 7)),
        D('usr/local'),
        D('usr/local/share'),
        D('usr/local/share/setgid-dir', 0o2775, gid=50),
        F('usr/local/share/setgid-dir/file', 'group staff\n', 0o664, gid=50),
        D('usr/share'),
        D('usr/share/doc'),
        D('usr/share/doc/gone'),
        F('usr/share/doc/gone/README', 'whited out (the whole directory) by child-pax\n'),
        D('usr/share/doc/gone/sub'),
        F('usr/share/doc/gone/sub/file', 'also gone\n'),
        D('usr/share/doc/kept'),
        F('usr/share/doc/kept/README', 'stays\n'),
        S('usr/share/dangling', '/nonexistent/target'),
        S('usr/share/relative-up', '../../etc/passwd'),
        D('var'),
        D('var/cache'),
        D('var/cache/app'),
        F('var/cache/app/old1', 'hidden by the opaque directory in child-pax\n'),
        F('var/cache/app/old2', 'hidden too\n'),
        D('var/cache/app/sub'),
        F('var/cache/app/sub/old3', 'hidden too\n'),
        D('var/lib'),
        F('var/lib/' + _LONG_NAME, 'long name (GNU ././@LongLink)\n'),
        D('var/lib/deep'),
        F('var/lib/deep/' + _DEEP + '/file-at-the-bottom-of-a-path-longer-than-255-bytes', 'deep\n'),
        D('opt'),
        D('opt/olddir'),
        F('opt/olddir/a', 'a directory that child-pypax replaces with a file\n'),
        F('opt/oldfile', 'a file that child-pypax replaces with a directory\n'),
    ]


def _child_pax_entries():
    later = EPOCH + DAY
    return [
        D('etc', mtime=later),
        F('etc/.wh.remove-me', b'', 0o444, mtime=later),  # aufs whiteouts: one inode, hard-linked
        F('etc/app.conf', 'setting = 1\n', mtime=later,
          xattrs={'user.foo': b'bar', 'user.binary': b'\x00\xff\x80 binary value'}),
        F('etc/hostname', 'child-pax\n', mtime=later),
        D('usr', mtime=later),
        D('usr/bin', mtime=later),
        F('usr/bin/hard-a', _text('replaced by child-pax'), 0o755, mtime=later),
        F('usr/bin/ping', blob('ping', 66000), 0o755, mtime=later,
          xattrs={'security.capability': CAP_NET_RAW_EP}),
        D('usr/share', mtime=later),
        F(b'usr/share/caf\xe9-pax', 'non-UTF-8 name in a pax header\n', mtime=later),
        D('usr/share/doc', mtime=later),
        H('usr/share/doc/.wh.gone', 'etc/.wh.remove-me'),
        D('usr/share/xattr-dir', xattrs={'user.dir': b'yes'}, mtime=later),
        F('usr/share/xattr-dir/file', 'in a directory with an xattr\n', mtime=later),
        D('var', mtime=later),
        D('var/cache', mtime=later),
        D('var/cache/app', mtime=later),
        H('var/cache/app/.wh..wh..opq', 'etc/.wh.remove-me'),
        F('var/cache/app/new', 'the only file left in the opaque directory\n', mtime=later),
        D('var/lib', mtime=later),
        D('var/lib/pax-long', mtime=later),
        F('var/lib/pax-long/' + _DEEP + '/' + _LONG_NAME, 'pax path record\n', mtime=later),
    ]


def _child_pypax_entries():
    later = EPOCH + 2 * DAY
    deep = 'srv/pypax/' + _DEEP.replace('d' * 44, 'p' * 44) + '/' + _LONG_NAME
    return [
        D('opt', mtime=later),
        F('opt/.wh.olddir', b'', 0o000, mtime=later),  # Docker-style whiteouts: mode 0, not hard links
        F('opt/olddir', 'was a directory\n', mtime=later),
        F('opt/.wh.oldfile', b'', 0o000, mtime=later),
        D('opt/oldfile', mtime=later),
        F('opt/oldfile/inner', 'was a file\n', mtime=later),
        D('srv', mtime=later),
        D('srv/pypax', 0o750, uid=4242, gid=4343, mtime=later),
        F(b'srv/pypax/caf\xe9.bin', blob('cafe', 513), mtime=later),
        F('srv/pypax/fractional-mtime', 'mtime with a fraction\n', mtime=EPOCH + 2 * DAY + 0.5),
        F('srv/pypax/xattrs', 'xattrs written by tarfile\n', 0o755, mtime=later,
          xattrs={'user.pyfoo': b'py', 'security.capability': CAP_NET_RAW_EP}),
        F('srv/pypax/hl-target', _text('hard link written by tarfile'), mtime=later),
        H('srv/pypax/hl-link', 'srv/pypax/hl-target', mtime=later),
        S('srv/pypax/sym', '../../usr/lib/os-release', mtime=later),
        F('srv/pypax/big', blob('pypax-big', 2 * MIB + 1), mtime=later),
        F('srv/pypax/owned', 'owned by 4242:4343\n', 0o640, uid=4242, gid=4343, uname='svc', gname='svcgrp',
          mtime=later),
        Entry('srv/pypax/fifo', 'fifo', 0o644, mtime=later),
        F(deep, 'path longer than 255 bytes\n', mtime=later),
    ]


def _child_ustar_entries():
    later = EPOCH + 3 * DAY
    split = 'usr/share/ustar/' + 'p' * 60 + '/' + 'q' * 60 + '/' + 'r' * 40 + '.txt'  # ustar prefix + name
    return [
        D('etc', mtime=later),
        F('etc/hostname', 'child-ustar\n', mtime=later),
        D('usr', mtime=later),
        D('usr/share', mtime=later),
        D('usr/share/ustar', mtime=later),
        D('usr/share/ustar/sticky', 0o1777, mtime=later),
        D('usr/share/ustar/setuid-dir', 0o4755, mtime=later),
        F('usr/share/ustar/owned', 'owned by 1000:1000\n', 0o640, uid=1000, gid=1000, mtime=later),
        F('usr/share/ustar/511-bytes', blob('u511', 511), mtime=later),
        F('usr/share/ustar/513-bytes', blob('u513', 513), mtime=later),
        F(split, 'name split between the ustar prefix and name fields\n', mtime=later),
    ]


def _escape_base_entries():
    return [
        S('lib64', '/usr/lib'),
        S('up', '../../../../..'),
        D('usr'),
        D('usr/lib'),
        F('usr/lib/real-file', 'in the layer\n'),
    ]


def _escape_child_entries():
    later = EPOCH + DAY
    return [
        F('lib64/through-parent-symlink.txt', 'must land in the layer usr/lib, never the host /usr/lib\n',
          mtime=later),
        F('up/through-dotdot-symlink.txt', 'must land at the layer root\n', mtime=later),
        S('bin2', '/usr/bin', mtime=later),
        F('bin2/through-same-layer-symlink.txt', 'must land in the layer usr/bin\n', mtime=later),
    ]


# name -> (format, description)
SYNTHETIC_TARS = {
    'base-gnu': ('gnu', 'GNU tar --format=gnu (10240-byte records): devices, FIFO, hard links, symlinks '
                        '(relative, absolute lib64 -> /usr/lib, dangling), long names and paths, non-UTF-8 '
                        'name, setuid/setgid/sticky modes, sizes 0/1/511/512/513/3 MiB'),
    'empty': ('empty', 'the empty layer: 1024 zero bytes'),
    'child-pax': ('pax', 'GNU tar --format=pax --xattrs: security.capability and user.* xattrs, aufs '
                         'whiteouts hard-linked to one another, an opaque directory, replaced files'),
    'child-pypax': ('python-pax', "Python tarfile PAX_FORMAT: dir<->file replacements behind whiteouts, "
                                  "hdrcharset=BINARY names, fractional mtime, xattrs, hard link"),
    'child-ustar': ('ustar', "GNU tar --format=ustar --blocking-factor=1 of '.', names with ./, "
                             "prefix-split names, sticky and setuid directories"),
    'escape-base': ('gnu', 'adversarial, not in the default chain: lib64 -> /usr/lib and up -> ../../../../..'),
    'escape-child': ('python-pax', 'adversarial, child of escape-base: entries written through symlinks '
                                   '(of the parent and of the same layer)'),
}

SYNTHETIC_CHAIN = [
    ('base-gnu', 'base-gnu'),
    ('empty-1', 'empty'),
    ('child-pax', 'child-pax'),
    ('child-pypax', 'child-pypax'),
    ('child-ustar', 'child-ustar'),
    ('empty-2', 'empty'),
]
SYNTHETIC_EXTRA_CHAINS = {
    'escape': [('escape-base', 'escape-base'), ('escape-child', 'escape-child')],
}


def _tar_record(out_dir, name, fmt, description, path):
    return {
        'file': os.path.basename(path),
        'format': fmt,
        'description': description,
        'diff_id': sha256_file(path),
        'bytes': os.path.getsize(path),
        'regular_file_bytes': regular_file_bytes(path),
    }


def _reuse(out_dir, kind, params):
    """The existing corpus description when out_dir already holds this corpus, else None."""
    try:
        with open(os.path.join(out_dir, CORPUS_FILE), 'r', encoding='utf-8') as stream:
            corpus = json.load(stream)
    except (OSError, ValueError):
        return None
    if corpus.get('version') != CORPUS_VERSION or corpus.get('kind') != kind or \
            (params is not None and corpus.get('params') != params):
        return None
    for record in corpus.get('tars', {}).values():
        path = os.path.join(out_dir, record['file'])
        if not os.path.isfile(path) or os.path.getsize(path) != record['bytes']:
            return None
    return corpus


def _finish(out_dir, corpus):
    tmp = os.path.join(out_dir, CORPUS_FILE + '.tmp')
    with open(tmp, 'w', encoding='utf-8') as stream:
        json.dump(corpus, stream, indent=2, sort_keys=True)
        stream.write('\n')
    os.replace(tmp, os.path.join(out_dir, CORPUS_FILE))
    return load_corpus(out_dir)


def _require_root(what):
    if os.geteuid() != 0:
        raise CorpusError('%s needs root (device nodes, file ownership, security.capability)' % what)


def build_synthetic_corpus(out_dir, force=False):
    """Write the synthetic tars and corpus.json into out_dir; returns load_corpus(out_dir).

    Reuses what is there when out_dir already holds this corpus version (unless force).
    """
    out_dir = os.path.abspath(str(out_dir))
    os.makedirs(out_dir, exist_ok=True)
    if not force and _reuse(out_dir, 'synthetic', {}) is not None:
        return load_corpus(out_dir)
    _require_root('the synthetic corpus')
    tars = {}
    with tempfile.TemporaryDirectory(prefix='.staging-', dir=out_dir) as staging:
        def stage(name, entries, root_mode=0o755):
            root = os.path.join(staging, name)
            os.mkdir(root)
            materialize(root, entries)
            os.chmod(root, root_mode)
            os.utime(root, (EPOCH, EPOCH))
            return root

        def done(name, path):
            fmt, description = SYNTHETIC_TARS[name]
            tars[name] = _tar_record(out_dir, name, fmt, description, path)

        path = os.path.join(out_dir, 'base-gnu.tar')
        done('base-gnu', gnu_tar(stage('base-gnu', _base_entries()), path, 'gnu'))
        done('empty', write_empty_layer(os.path.join(out_dir, 'empty.tar')))
        path = os.path.join(out_dir, 'child-pax.tar')
        done('child-pax', gnu_tar(stage('child-pax', _child_pax_entries()), path, 'pax', xattrs=True))
        done('child-pypax', python_pax_tar(os.path.join(out_dir, 'child-pypax.tar'), _child_pypax_entries()))
        path = os.path.join(out_dir, 'child-ustar.tar')
        done('child-ustar', gnu_tar(stage('child-ustar', _child_ustar_entries()), path, 'ustar',
                                    blocking_factor=1, dot=True))
        path = os.path.join(out_dir, 'escape-base.tar')
        done('escape-base', gnu_tar(stage('escape-base', _escape_base_entries()), path, 'gnu'))
        done('escape-child', python_pax_tar(os.path.join(out_dir, 'escape-child.tar'), _escape_child_entries()))
    corpus = {
        'version': CORPUS_VERSION,
        'kind': 'synthetic',
        'params': {},
        'tars': tars,
        'chain': [{'name': name, 'tar': tar} for name, tar in SYNTHETIC_CHAIN],
        'extra_chains': dict((key, [{'name': name, 'tar': tar} for name, tar in chain])
                             for key, chain in SYNTHETIC_EXTRA_CHAINS.items()),
    }
    return _finish(out_dir, corpus)


# --------------------------------------------------------------------------------------------------
# The realistic corpus

_SECRET_NAMES = (b'shadow', b'gshadow', b'shadow-', b'gshadow-', b'.pwd.lock', b'sudoers')


class _Candidate(object):
    __slots__ = ('path', 'size', 'regular', 'inode')

    def __init__(self, path, size, regular, inode=None):
        self.path = path  # relative to /, bytes
        self.size = size
        self.regular = regular
        self.inode = inode  # (dev, ino) of a file with several hard links: its data is archived once


def _scan(source, exclude=(), max_file=None):
    """Regular files and symlinks under an absolute source dir, world-readable only, one file system."""
    source = _b(source)
    if os.path.islink(source) or not os.path.isdir(source):
        return []
    device = os.lstat(source).st_dev
    found = []
    for dirpath, dirnames, filenames in os.walk(source):
        keep = []
        for name in sorted(dirnames):
            full = os.path.join(dirpath, name)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                filenames.append(name)
            elif st.st_dev == device and st.st_mode & 0o005 == 0o005 and full not in exclude:
                keep.append(name)
        dirnames[:] = keep
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            if full in exclude or name in _SECRET_NAMES:
                continue
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                found.append(_Candidate(full[1:], 0, False))
            elif stat.S_ISREG(st.st_mode) and st.st_mode & 0o004 and (max_file is None or st.st_size <= max_file):
                inode = (st.st_dev, st.st_ino) if st.st_nlink > 1 else None
                found.append(_Candidate(full[1:], st.st_size, True, inode))
    return found


def _select(sources, budget, exclude=(), taken=()):
    """A deterministic sample of the files under sources adding up to about budget bytes.

    Sources are scanned in order until they offer 1.5 x budget; files are then taken in the order
    of the sha1 of their path (a spread-out sample, the same for the same files) while they fit.
    """
    pool = []
    offered = 0
    seen = set(taken)  # sources may overlap (/usr/share/doc, then /usr/share)
    for pattern in sources:
        for source in sorted(glob.glob(pattern)):
            for candidate in _scan(source, exclude, max_file=max(budget // 4, 64 * 1024)):
                if candidate.path not in seen:
                    seen.add(candidate.path)
                    pool.append(candidate)
                    offered += candidate.size
        if offered >= budget * 1.5:
            break
    chosen = []
    total = 0
    inodes = set()
    for candidate in sorted(pool, key=lambda c: hashlib.sha1(c.path).digest()):
        cost = 0 if candidate.inode in inodes else candidate.size
        if total + cost <= budget:
            chosen.append(candidate)
            total += cost
            if candidate.inode:
                inodes.add(candidate.inode)
    chosen.sort(key=lambda c: c.path)
    return chosen, total


def _with_ancestors(paths):
    names = set()
    for path in paths:
        parts = path.split(b'/')
        for depth in range(1, len(parts)):
            names.add(b'/'.join(parts[:depth]))
        names.add(path)
    return sorted(names)


def _write_list(path, names):
    with open(path, 'wb') as stream:
        for name in names:
            stream.write(name + b'\0')


def _copy_meta(src, dst):
    """Owner, mode, xattrs and times of src onto dst (no symlink following)."""
    st = os.lstat(src)
    os.lchown(dst, st.st_uid, st.st_gid)
    if not stat.S_ISLNK(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))
        for name in os.listxattr(src, follow_symlinks=False):
            os.setxattr(dst, name, os.getxattr(src, name, follow_symlinks=False), follow_symlinks=False)
    os.utime(dst, ns=(st.st_mtime_ns, st.st_mtime_ns), follow_symlinks=False)


def _stage_host_files(staging, names):
    """Copy host paths (relative to /, ancestors first) into staging with their metadata."""
    staging = _b(staging)
    dirs = []
    for name in names:
        src = b'/' + name
        dst = staging + b'/' + name
        st = os.lstat(src)
        if stat.S_ISDIR(st.st_mode):
            os.mkdir(dst)
            dirs.append(name)
            continue
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copyfile(src, dst)
        _copy_meta(src, dst)
    for name in reversed(dirs):
        _copy_meta(b'/' + name, staging + b'/' + name)


def _pick_edits(base_files, sizes):
    """Targets for the etc layer's whiteouts, opaque dir and modified file (at most 64 KiB), from
    base regular files."""
    by_dir = {}
    for path in base_files:
        by_dir.setdefault(os.path.dirname(path), []).append(path)
    dirs = sorted((d for d in by_dir if d.count(b'/') >= 3 and len(by_dir[d]) >= 2),
                  key=lambda d: hashlib.sha1(b'dir:' + d).digest())
    # Two unrelated directories: one whited out as a whole, one made opaque.
    gone = dirs[0] if dirs else None
    opaque = next((d for d in dirs[1:] if not d.startswith(gone + b'/') and not gone.startswith(d + b'/')), None) \
        if gone else None

    def outside(path):
        return all(not path.startswith(d + b'/') for d in (gone, opaque) if d)

    files = sorted((p for p in base_files if outside(p)), key=lambda p: hashlib.sha1(b'file:' + p).digest())
    modified = next((p for p in files[3:] if sizes[p] <= 64 * 1024), None)
    return {'whiteouts': sorted(files[:3]), 'modified': modified, 'gone_dir': gone, 'opaque_dir': opaque}


def build_realistic_corpus(out_dir, total_mb=6, force=False):
    """Layers cut from this machine's files, about total_mb MiB of file data in all.

    real-base (GNU format: /usr/share/doc and /usr/lib/python3* sample, and /'s top-level symlinks),
    real-libs (pax with xattrs: libraries and binaries not in the base), real-etc (pax: /etc files
    readable by everyone, three whiteouts, a whited-out directory, an opaque directory and a modified
    base file) and real-empty. Returns load_corpus(out_dir).
    """
    out_dir = os.path.abspath(str(out_dir))
    os.makedirs(out_dir, exist_ok=True)
    params = {'total_mb': total_mb}
    if not force and _reuse(out_dir, 'realistic', params) is not None:
        return load_corpus(out_dir)
    _require_root('the realistic corpus')
    total = int(total_mb * MIB)
    exclude = set(_b(p) for p in (out_dir, tempfile.gettempdir()))
    etc_files, etc_bytes = _select(['/etc'], max(total // 20, 64 * 1024), exclude)
    base_files, base_bytes = _select(['/usr/share/doc', '/usr/lib/python3*', '/usr/share', '/usr/local/lib/python3*',
                                      '/usr/local/share', '/usr/lib/*-linux-gnu/perl*', '/usr/lib/*-linux-gnu/gconv'],
                                     int(total * 0.55), exclude)
    taken = set(c.path for c in base_files)
    edits = _pick_edits([c.path for c in base_files if c.regular], dict((c.path, c.size) for c in base_files))
    edit_bytes = os.lstat(b'/' + edits['modified']).st_size + 64 if edits['modified'] else 0
    libs_budget = max(total - base_bytes - etc_bytes - edit_bytes, 0)
    libs_files, _libs_bytes = _select(['/usr/lib/*-linux-gnu', '/usr/bin', '/usr/sbin', '/usr/lib', '/usr/libexec',
                                       '/usr/local'], libs_budget, exclude, taken)
    tars = {}
    top_symlinks = sorted(name for name in os.listdir(b'/') if os.path.islink(b'/' + name)
                          and name in (b'bin', b'sbin', b'lib', b'lib32', b'lib64', b'libx32'))
    with tempfile.TemporaryDirectory(prefix='.staging-', dir=out_dir) as staging:
        listing = os.path.join(staging, 'list')
        path = os.path.join(out_dir, 'real-base.tar')
        _write_list(listing, top_symlinks + _with_ancestors(c.path for c in base_files))
        gnu_tar('/', path, 'gnu', numeric_owner=False, files_from=listing, allow_changed=True)
        tars['real-base'] = _tar_record(out_dir, 'real-base', 'gnu', 'GNU tar --format=gnu of host files', path)

        path = os.path.join(out_dir, 'real-libs.tar')
        _write_list(listing, _with_ancestors(c.path for c in libs_files))
        gnu_tar('/', path, 'pax', xattrs=True, numeric_owner=False, files_from=listing, allow_changed=True)
        tars['real-libs'] = _tar_record(out_dir, 'real-libs', 'pax', 'GNU tar --format=pax --xattrs of host files',
                                        path)

        tree = os.path.join(staging, 'real-etc')
        os.mkdir(tree)
        # The directories the edits go in, with their host metadata (the opaque one included).
        homes = [os.path.dirname(p) for p in edits['whiteouts'] + [edits['gone_dir'], edits['modified']] if p]
        homes += [edits['opaque_dir']] if edits['opaque_dir'] else []
        _stage_host_files(tree, _with_ancestors([c.path for c in etc_files] + homes))
        later = EPOCH + 30 * DAY
        entries = []
        for target in edits['whiteouts'] + [edits['gone_dir']] * bool(edits['gone_dir']):
            head, tail = os.path.split(target)
            entries.append(F(head + b'/.wh.' + tail, b'', 0o444, mtime=later))
        if edits['opaque_dir']:
            entries.append(F(edits['opaque_dir'] + b'/.wh..wh..opq', b'', 0o444, mtime=later))
            entries.append(F(edits['opaque_dir'] + b'/ADDED-BY-real-etc', 'the only file left here\n', mtime=later))
        if edits['modified']:
            with open(b'/' + edits['modified'], 'rb') as stream:
                data = stream.read() + b'\n# modified by layer real-etc\n'
            entries.append(F(edits['modified'], data, mtime=later))
        touched = set(os.path.dirname(e.path) for e in entries)
        times = dict((d, os.lstat(_b(tree) + b'/' + d).st_mtime_ns) for d in _with_ancestors(touched)
                     if os.path.isdir(_b(tree) + b'/' + d))
        materialize(tree, entries)
        for name, mtime in times.items():  # keep the host directories' mtimes
            os.utime(_b(tree) + b'/' + name, ns=(mtime, mtime), follow_symlinks=False)
        path = os.path.join(out_dir, 'real-etc.tar')
        gnu_tar(tree, path, 'pax', xattrs=True, numeric_owner=False)
        tars['real-etc'] = _tar_record(out_dir, 'real-etc', 'pax', 'GNU tar --format=pax of /etc files, whiteouts, '
                                       'an opaque directory and a modified base file', path)
    tars['real-empty'] = _tar_record(out_dir, 'real-empty', 'empty', 'the empty layer',
                                     write_empty_layer(os.path.join(out_dir, 'real-empty.tar')))
    corpus = {
        'version': CORPUS_VERSION,
        'kind': 'realistic',
        'params': params,
        'tars': tars,
        'chain': [{'name': name, 'tar': name} for name in ('real-base', 'real-libs', 'real-etc', 'real-empty')],
        'extra_chains': {},
        'edits': dict((key, os.fsdecode(value) if isinstance(value, bytes) else
                       [os.fsdecode(v) for v in value] if isinstance(value, list) else value)
                      for key, value in edits.items()),
    }
    return _finish(out_dir, corpus)


def load_corpus(out_dir):
    """corpus.json of out_dir, with 'dir' and an absolute 'path' added to every tar record."""
    out_dir = os.path.abspath(str(out_dir))
    try:
        with open(os.path.join(out_dir, CORPUS_FILE), 'r', encoding='utf-8') as stream:
            corpus = json.load(stream)
    except (OSError, ValueError) as exc:
        raise CorpusError('no corpus in %s: %s' % (out_dir, exc))
    corpus['dir'] = out_dir
    for record in corpus['tars'].values():
        record['path'] = os.path.join(out_dir, record['file'])
    return corpus


def build_corpus(kind, out_dir, total_mb=None, force=False):
    """build_synthetic_corpus or build_realistic_corpus by name; a realistic corpus already in out_dir
    is reused whatever its size when total_mb is None."""
    if kind == 'synthetic':
        return build_synthetic_corpus(out_dir, force=force)
    if kind == 'realistic':
        if total_mb is None and not force and _reuse(os.path.abspath(str(out_dir)), kind, None) is not None:
            return load_corpus(out_dir)  # whatever size is there
        return build_realistic_corpus(out_dir, total_mb=6 if total_mb is None else total_mb, force=force)
    raise CorpusError('unknown corpus kind %r (synthetic or realistic)' % kind)


def main(argv=None):
    parser = argparse.ArgumentParser(description='Build a corpus of real Docker layer tar files.')
    parser.add_argument('kind', choices=('synthetic', 'realistic'))
    parser.add_argument('out_dir')
    parser.add_argument('--total-mb', type=float, default=None,
                        help='realistic: MiB of file data over all layers (default 6)')
    parser.add_argument('--force', action='store_true', help='rebuild even if out_dir holds this corpus')
    args = parser.parse_args(argv)
    try:
        corpus = build_corpus(args.kind, args.out_dir, args.total_mb, args.force)
    except CorpusError as exc:
        parser.exit(1, 'layer_tars: %s\n' % exc)
    summary = dict((name, {'path': record['path'], 'format': record['format'], 'diff_id': record['diff_id'],
                           'bytes': record['bytes']}) for name, record in corpus['tars'].items())
    json.dump({'dir': corpus['dir'], 'tars': summary, 'chain': corpus['chain']}, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
