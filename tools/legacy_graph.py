"""Build a Docker 1.9 docker root ("legacy graph") from real layer tar files.

For tests, benchmarks and the demo of the migrator: the store is laid out exactly as Docker 1.9 left
it, and a manifest says what Docker 1.10 must compute for each layer.

Per layer ``graph/<v1id>/{json,layersize,tar-data.json.gz}`` (tar-data.json.gz made by running
``tar-split disasm`` on the layer's tar, as Docker >= 1.8 did; left out on request, as for layers
made by Docker < 1.8), the layer tree in the storage driver's layout, ``repositories-<driver>`` and
``containers/<id>/`` with the containers' init and read-write layers:

* aufs: ``aufs/diff/<id>`` is the tar extracted as is (whiteouts stay plain files), plus aufs's own
  ``.wh..wh.aufs``, ``.wh..wh.plnk/`` and ``.wh..wh.orph/``; ``aufs/layers/<id>`` lists the
  ancestors nearest first; ``aufs/mnt/<id>`` is empty.
* overlay: ``overlay/<id>/root`` is the full root filesystem: the parent's root copied with hard
  links (directories, symlinks and special files copied) and the tar applied on top (whiteouts
  delete, opaque directories drop what the parents had there, replaced files are unlinked first so
  the parent's inode is never written). Containers get ``upper``, ``work``, ``merged`` and
  ``lower-id``.
* vfs (``vfs/dir/<id>``) and btrfs (``btrfs/subvolumes/<id>``, a plain directory): full root
  filesystems, real copies.

Extraction keeps what the tar says: modes, owners, mtimes (directories last), symlinks (never
followed: names resolve inside the layer as in Docker's chroot, so ``lib64 -> /usr/lib`` means the
layer's usr/lib), hard links, device nodes, FIFOs and xattrs. Stdlib only, plus ``tar-split``.

CLI::

    python tools/legacy_graph.py build --docker-root DIR --driver overlay [--corpus synthetic]
    python tools/legacy_graph.py build --docker-root DIR --driver aufs --corpus realistic --total-mb 1200
    python tools/legacy_graph.py build --docker-root DIR --driver vfs --layer base=a.tar --layer app=b.tar \\
        --tag app:1=app --container web=app:1,running --no-tarsplit base
    python tools/legacy_graph.py verify MANIFEST
    python tools/legacy_graph.py extract LAYER.tar DEST [--apply-whiteouts]
"""

import argparse
import base64
import collections
import datetime
import errno
import gzip
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

if __package__:
    from . import layer_tars
else:  # run as a script: tools/ is on sys.path
    import layer_tars  # pylint: disable=import-error

DRIVERS = ('aufs', 'overlay', 'vfs', 'btrfs')
DEFAULT_SEED = 'fleetops-legacy-graph'
DOCKER_VERSION = '1.9.1'
MANIFEST_FORMAT = 'fleetops.legacy_graph/1'
TARSPLIT_FILE = 'tar-data.json.gz'
WHITEOUT_PREFIX = b'.wh.'
WHITEOUT_META_PREFIX = b'.wh..wh.'
WHITEOUT_OPAQUE = b'.wh..wh..opq'
AUFS_META_FILE = b'.wh..wh.aufs'
AUFS_META_DIRS = (b'.wh..wh.orph', b'.wh..wh.plnk')
_MAX_SYMLINK_HOPS = 40
_CHUNK = 1024 * 1024
_BASE_TIME = datetime.datetime(2016, 1, 4, 10, 0, 0, tzinfo=datetime.timezone.utc)


class GraphError(Exception):
    """The graph cannot be built as asked."""


class LayerError(GraphError):
    """A layer tar cannot be extracted (a name escaping the layer, a missing hard link target...)."""


# --------------------------------------------------------------------------------------------------
# tar-split


def tarsplit_binary():
    path = shutil.which('tar-split')
    if not path:
        raise GraphError('tar-split is not installed (Debian: apt-get install tar-split)')
    return path


def tarsplit_disasm(tar_path, out_path):
    """Write tar-split metadata of tar_path to out_path, as Docker >= 1.8 stored it."""
    proc = subprocess.run([tarsplit_binary(), 'disasm', '--no-stdout', '--output', str(out_path), str(tar_path)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise GraphError('tar-split disasm %s failed: %s' % (tar_path, proc.stderr.decode('utf-8', 'replace')))
    return out_path


def tarsplit_asm(tarsplit_path, tree, out_path):
    """Reassemble a tar from tar-split metadata and the files under tree (tar-split's own lookup:
    plain path joins, so host symlinks are followed)."""
    proc = subprocess.run([tarsplit_binary(), 'asm', '--input', str(tarsplit_path), '--path', str(tree),
                           '--output', str(out_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        raise GraphError('tar-split asm %s --path %s failed: %s'
                         % (tarsplit_path, tree, proc.stderr.decode('utf-8', 'replace')))
    return out_path


def tarsplit_entries(tarsplit_path):
    """The metadata entries (dicts) of a tar-data.json.gz, with 'name' decoded to bytes for type 1."""
    with gzip.open(str(tarsplit_path), 'rb') as stream:
        for line in stream:
            if not line.strip():
                continue
            entry = json.loads(line)
            if entry.get('type') == 1:
                if entry.get('name_raw'):
                    entry['name'] = base64.b64decode(entry['name_raw'])
                else:
                    entry['name'] = (entry.get('name') or '').encode('utf-8')
            yield entry


def tarsplit_size(tarsplit_path):
    """Sum of the sizes of the file (type 1) entries: the layer size Docker 1.10 reports."""
    return sum(entry.get('size') or 0 for entry in tarsplit_entries(tarsplit_path) if entry.get('type') == 1)


def sha256_file(path):
    return layer_tars.sha256_file(path)


def chain_ids(diff_ids):
    """Docker 1.10 chain IDs: the first is the diff ID, then sha256 of '<parent chain> <diff>'."""
    chain = []
    for diff_id in diff_ids:
        if not chain:
            chain.append(diff_id)
        else:
            chain.append('sha256:' + hashlib.sha256(('%s %s' % (chain[-1], diff_id)).encode('ascii')).hexdigest())
    return chain


# --------------------------------------------------------------------------------------------------
# Extraction, the way Docker 1.9 did it in a chroot


def _name_parts(name):
    """Components of a tar member name, cleaned like Go's filepath.Clean; refuses names above the root."""
    raw = name.encode('utf-8', 'surrogateescape') if isinstance(name, str) else name
    parts = []
    for part in raw.split(b'/'):
        if part in (b'', b'.'):
            continue
        if part == b'..':
            if not parts:
                raise LayerError('%r climbs out of the layer' % raw)
            parts.pop()
        else:
            parts.append(part)
    return parts


def _pax_ns(value):
    """Nanoseconds of a pax time record such as '1451606400.5'."""
    seconds, _dot, fraction = value.partition('.')
    return int(seconds) * 1000000000 + int((fraction + '000000000')[:9] or 0)


def _member_times(member):
    mtime = _pax_ns(member.pax_headers['mtime']) if 'mtime' in member.pax_headers else int(member.mtime) * 1000000000
    atime = _pax_ns(member.pax_headers['atime']) if 'atime' in member.pax_headers else mtime
    return atime, mtime


def _member_xattrs(member):
    found = []
    for key, value in sorted(member.pax_headers.items()):
        if key.startswith('SCHILY.xattr.'):
            found.append((key[len('SCHILY.xattr.'):], value.encode('utf-8', 'surrogateescape')))
        elif key.startswith('LIBARCHIVE.xattr.'):
            from urllib.parse import unquote  # pylint: disable=import-outside-toplevel
            found.append((unquote(key[len('LIBARCHIVE.xattr.'):]), base64.b64decode(value + '===')))
    return found


def _remove_all(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


class _Tree(object):
    """A directory treated as '/': names resolve inside it, symlinks included, as in a chroot."""

    def __init__(self, root, strict, warnings):
        self.root = os.fsencode(os.path.abspath(root))
        self.strict = strict
        self.warnings = warnings

    def warn(self, message):
        if message not in self.warnings:
            self.warnings.append(message)

    def resolve_dir(self, parts, create):
        """Real path under root of the directory that parts name; missing directories are created
        (root:root 0755) when create, else None is returned."""
        pending = list(reversed(parts))
        resolved = []
        hops = 0
        while pending:
            part = pending.pop()
            if part in (b'', b'.'):
                continue
            if part == b'..':
                if resolved:
                    resolved.pop()
                continue
            candidate = self.root + b'/' + b'/'.join(resolved + [part])
            try:
                st = os.lstat(candidate)
            except FileNotFoundError:
                if not create:
                    return None
                os.mkdir(candidate, 0o755)
                resolved.append(part)
                continue
            if stat.S_ISLNK(st.st_mode):
                hops += 1
                if hops > _MAX_SYMLINK_HOPS:
                    raise LayerError('too many symlinks resolving %r' % b'/'.join(parts))
                target = os.readlink(candidate)
                if target.startswith(b'/'):
                    resolved = []
                pending.extend(reversed([p for p in target.split(b'/') if p]))
                continue
            if not stat.S_ISDIR(st.st_mode):
                if not create:
                    return None
                raise LayerError('%r: %r is not a directory' % (b'/'.join(parts), candidate))
            resolved.append(part)
        return self.root + (b'/' + b'/'.join(resolved) if resolved else b'')

    def path_of(self, parts, create_parents):
        """Host path of parts: parent resolved inside the root, last component never followed."""
        parent = self.resolve_dir(parts[:-1], create_parents)
        if parent is None:
            return None
        return parent + b'/' + parts[-1]

    def set_owner(self, path, uid, gid):
        try:
            os.lchown(path, uid, gid)
        except PermissionError:
            if self.strict:
                raise
            self.warn('not root: file owners not kept')

    def set_xattr(self, path, name, value, is_link):
        try:
            os.setxattr(path, name, value, follow_symlinks=False)
        except OSError as exc:
            if is_link and exc.errno in (errno.EPERM, errno.ENOTSUP):
                return  # Linux allows no user.* xattrs on symlinks
            if self.strict:
                raise LayerError('cannot set xattr %s on %r: %s' % (name, path, exc))
            self.warn('xattr %s not kept: %s' % (name, exc))

    def make_node(self, path, kind, mode, rdev):
        """A FIFO, device node or socket (an empty file when not root and not strict)."""
        try:
            if kind == stat.S_IFIFO:
                os.mkfifo(path, 0o600)
            else:
                os.mknod(path, kind | 0o600, rdev)
        except PermissionError:
            if self.strict:
                raise
            self.warn('not root: device nodes replaced by empty files')
            with open(path, 'wb'):
                pass
        os.chmod(path, mode)


def extract_layer(tar_path, dest, apply_whiteouts, strict=None, warnings=None):
    """Extract a layer tar into dest as Docker 1.9 did; returns the list of warnings.

    apply_whiteouts False (aufs): whiteout and aufs meta entries are extracted as the plain files
    they are. True (overlay, vfs, btrfs): ``.wh.<name>`` deletes name, ``.wh..wh..opq`` empties its
    directory of everything this layer did not put there, other ``.wh..wh.*`` entries are skipped.
    An existing entry is always unlinked (or removed) before it is replaced, unless both it and the
    new entry are directories, so a hard link into a parent layer is never written through.
    strict (default: running as root) makes owner, device node and xattr failures errors.
    """
    if strict is None:
        strict = os.geteuid() == 0
    warnings = [] if warnings is None else warnings
    tree = _Tree(dest, strict, warnings)
    os.makedirs(tree.root, exist_ok=True)
    unpacked = set()
    dirs = []
    with tarfile.open(str(tar_path), 'r:', encoding='utf-8', errors='surrogateescape') as archive:
        for member in archive:
            parts = _name_parts(member.name)
            if not parts:
                continue  # the layer root itself ('./'): Docker skips it
            base = parts[-1]
            if apply_whiteouts and base.startswith(WHITEOUT_PREFIX):
                _apply_whiteout(tree, parts, unpacked)
                continue
            path = tree.path_of(parts, create_parents=True)
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                st = None
            if st is not None and not (stat.S_ISDIR(st.st_mode) and member.isdir()):
                _remove_all(path)
                st = None
            _create(tree, archive, member, path, st, dirs)
            unpacked.add(path)
    for path, mode, atime, mtime in reversed(dirs):
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode):
            os.chmod(path, mode)
            os.utime(path, ns=(atime, mtime), follow_symlinks=False)
    return warnings


def _apply_whiteout(tree, parts, unpacked):
    base = parts[-1]
    if base == WHITEOUT_OPAQUE:
        directory = tree.path_of(parts[:-1], create_parents=False) if len(parts) > 1 else tree.root
        if directory is None:
            return
        try:
            st = os.lstat(directory)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(st.st_mode):
            _empty_opaque(directory, unpacked)
        return
    if base.startswith(WHITEOUT_META_PREFIX):
        return  # aufs meta (.wh..wh.plnk, .wh..wh.orph, .wh..wh.aufs): not layer content
    victim = tree.path_of(parts[:-1] + [base[len(WHITEOUT_PREFIX):]], create_parents=False)
    if victim is not None:
        _remove_all(victim)


def _empty_opaque(directory, unpacked):
    """Remove everything under directory that this layer did not unpack (Docker's applyLayer)."""
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        path = entry.path
        if path not in unpacked:
            _remove_all(path)
        elif entry.is_dir(follow_symlinks=False):
            _empty_opaque(path, unpacked)


def _create(tree, archive, member, path, existing, dirs):
    atime, mtime = _member_times(member)
    mode = member.mode & 0o7777
    if member.isdir():
        if existing is None:
            os.mkdir(path, 0o700)
    elif member.isreg():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, 'wb') as out:
            source = archive.extractfile(member)
            shutil.copyfileobj(source, out, _CHUNK)
    elif member.issym():
        os.symlink(member.linkname.encode('utf-8', 'surrogateescape'), path)
    elif member.islnk():
        target_parts = _name_parts(member.linkname)
        target = tree.path_of(target_parts, create_parents=False) if target_parts else None
        if target is None or not os.path.lexists(target):
            raise LayerError('hard link %r: target %r is not in the layer' % (member.name, member.linkname))
        os.link(target, path, follow_symlinks=False)
        return  # the target's inode: its metadata is the target entry's
    elif member.ischr() or member.isblk() or member.isfifo():
        kind = stat.S_IFCHR if member.ischr() else stat.S_IFBLK if member.isblk() else stat.S_IFIFO
        tree.make_node(path, kind, mode, os.makedev(member.devmajor, member.devminor))
    else:
        tree.warn('skipped tar entry %r of type %r' % (member.name, member.type))
        return
    tree.set_owner(path, member.uid, member.gid)
    if member.isdir():
        dirs.append((path, mode, atime, mtime))
    elif not member.issym():
        os.chmod(path, mode)  # after chown, which clears setuid and setgid
    for name, value in _member_xattrs(member):
        tree.set_xattr(path, name, value, member.issym())  # after chown, which drops capabilities
    if not member.isdir():
        os.utime(path, ns=(atime, mtime), follow_symlinks=False)


# --------------------------------------------------------------------------------------------------
# Copies of layer trees


def _copy_metadata(tree, src, dst, st):
    tree.set_owner(dst, st.st_uid, st.st_gid)
    is_link = stat.S_ISLNK(st.st_mode)
    if not is_link and not stat.S_ISDIR(st.st_mode):
        os.chmod(dst, stat.S_IMODE(st.st_mode))
    try:
        names = os.listxattr(src, follow_symlinks=False)
    except OSError:
        names = []
    for name in names:
        tree.set_xattr(dst, name, os.getxattr(src, name, follow_symlinks=False), is_link)
    if not stat.S_ISDIR(st.st_mode):
        os.utime(dst, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def copy_tree(src, dst, hardlink, strict=None, warnings=None):
    """Copy the tree src to dst (created; may exist empty) keeping owners, modes, xattrs and times.

    hardlink True: regular files are hard-linked to src's (Docker 1.9 overlay's copyDir, like
    ``cp -al`` except that symlinks and special files are copied); False: real copies, hard links
    inside src kept as hard links inside dst (vfs's tar copy).
    """
    if strict is None:
        strict = os.geteuid() == 0
    warnings = [] if warnings is None else warnings
    tree = _Tree(dst, strict, warnings)
    src = os.fsencode(os.path.abspath(src))
    dst = tree.root
    root_st = os.lstat(src)
    os.makedirs(dst, exist_ok=True)
    _copy_metadata(tree, src, dst, root_st)
    dirs = [(dst, root_st)]
    copied = {}
    stack = [(src, dst)]
    while stack:
        src_dir, dst_dir = stack.pop()
        for entry in sorted(os.scandir(src_dir), key=lambda e: e.name):
            source = entry.path
            target = dst_dir + b'/' + entry.name
            st = entry.stat(follow_symlinks=False)
            fmt = stat.S_IFMT(st.st_mode)
            if fmt == stat.S_IFDIR:
                os.mkdir(target, 0o700)
                dirs.append((target, st))
                stack.append((source, target))
            elif fmt == stat.S_IFREG:
                if hardlink:
                    os.link(source, target, follow_symlinks=False)
                    continue
                if st.st_nlink > 1:
                    key = (st.st_dev, st.st_ino)
                    if key in copied:
                        os.link(copied[key], target, follow_symlinks=False)
                        continue
                    copied[key] = target
                shutil.copyfile(source, target, follow_symlinks=False)
            elif fmt == stat.S_IFLNK:
                os.symlink(os.readlink(source), target)
            elif fmt in (stat.S_IFIFO, stat.S_IFCHR, stat.S_IFBLK, stat.S_IFSOCK):
                tree.make_node(target, fmt, stat.S_IMODE(st.st_mode), st.st_rdev)
            else:
                tree.warn('skipped %r: unknown file type' % source)
                continue
            _copy_metadata(tree, source, target, st)
    for target, st in reversed(dirs):
        os.chmod(target, stat.S_IMODE(st.st_mode))
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)
    return warnings


# --------------------------------------------------------------------------------------------------
# Specs


class LayerSpec(object):
    """One image layer: a name (unique in the graph), its tar, its parent's name (None: a base
    layer; PREVIOUS: the layer listed before it) and whether it keeps tar-split data."""

    PREVIOUS = object()

    def __init__(self, name, tar, parent=PREVIOUS, tarsplit=None, v1id=None, created=None, cmd=None):
        self.name = name
        self.tar = os.path.abspath(str(tar))
        self.parent = parent
        self.tarsplit = tarsplit
        self.v1id = v1id
        self.created = created
        self.cmd = cmd

    @classmethod
    def coerce(cls, value, corpus=None):
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            if corpus is None or value not in corpus['tars']:
                raise GraphError('layer %r: not a tar of the corpus (give a dict or (name, tar))' % value)
            return cls(value, corpus['tars'][value]['path'])
        if isinstance(value, (tuple, list)):
            return cls(*value)
        if isinstance(value, dict):
            value = dict(value)
            tar = value.pop('tar')
            if corpus is not None and tar in corpus['tars'] and not os.path.exists(str(tar)):
                tar = corpus['tars'][tar]['path']
            if 'parent' not in value:
                value['parent'] = cls.PREVIOUS
            return cls(tar=tar, **value)
        raise GraphError('cannot make a layer of %r' % (value,))


class ContainerSpec(object):
    """A container of a layer (name, v1 id or 'repo:tag'), running or not, with a few files in its
    read-write layer and paths it deleted from the image."""

    def __init__(self, name, image, running=False, pid=None, files=None, deleted=(), restart_policy='no', cid=None):
        self.name = name
        self.image = image
        self.running = running
        self.pid = pid
        self.files = dict(files) if files is not None else {
            'var/log/app.log': 'started %s\n' % name,
            'tmp/work/scratch.bin': layer_tars.blob('scratch:' + name, 4096),
        }
        self.deleted = list(deleted)
        self.restart_policy = restart_policy
        self.cid = cid

    @classmethod
    def coerce(cls, value):
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls(**value)
        raise GraphError('cannot make a container of %r' % (value,))


def default_tags(layer_names):
    """Two tags on the top layer and one on the base."""
    if not layer_names:
        return {}
    return {'fleetops/app:latest': layer_names[-1], 'fleetops/app:1.0': layer_names[-1],
            'fleetops/base:latest': layer_names[0]}


def default_containers(layer_names, tags=None):
    """A running container of the top layer (by its tag 'fleetops/app:latest' when tags has it) and
    a stopped one of the base layer that deleted etc/passwd."""
    if not layer_names:
        return []
    top = 'fleetops/app:latest' if (tags or {}).get('fleetops/app:latest') == layer_names[-1] else layer_names[-1]
    return [
        {'name': 'web', 'image': top, 'running': True, 'restart_policy': 'always'},
        {'name': 'old-job', 'image': layer_names[0], 'running': False, 'deleted': ['etc/passwd']},
    ]


def _hex_id(seed, kind, name):
    return hashlib.sha256(('%s\0%s\0%s' % (seed, kind, name)).encode('utf-8')).hexdigest()


def _timestamp(index, v1id):
    moment = _BASE_TIME + datetime.timedelta(minutes=7 * index)
    nanos = int(v1id[:8], 16) % 1000000000
    fraction = ('%09d' % nanos).rstrip('0')
    return moment.strftime('%Y-%m-%dT%H:%M:%S') + ('.' + fraction if fraction else '') + 'Z'


def _split_ref(ref):
    """'repo:tag' -> (repo, tag); a tagless reference means 'latest'."""
    repo, sep, tag = ref.rpartition(':')
    if not sep or '/' in tag:
        return ref, 'latest'
    return repo, tag


def _write(path, data, mode=0o600):
    if isinstance(data, str):
        data = data.encode('utf-8')
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, mode)
    with os.fdopen(fd, 'wb') as stream:
        stream.write(data)
    os.chmod(path, mode)


def _go_json(value):
    """Compact JSON the way Go's encoding/json writes it (no spaces, HTML characters escaped)."""
    text = json.dumps(value, separators=(',', ':'), ensure_ascii=False)
    return text.replace('<', '\\u003c').replace('>', '\\u003e').replace('&', '\\u0026')


# --------------------------------------------------------------------------------------------------
# Driver layouts


def layer_dir(driver, layer_id):
    """Where a layer's files are, relative to the docker root (what tar-split asm --path needs)."""
    if driver == 'aufs':
        return os.path.join('aufs', 'diff', layer_id)
    if driver == 'overlay':
        return os.path.join('overlay', layer_id, 'root')
    if driver == 'vfs':
        return os.path.join('vfs', 'dir', layer_id)
    if driver == 'btrfs':
        return os.path.join('btrfs', 'subvolumes', layer_id)
    raise GraphError('unknown storage driver %r (one of %s)' % (driver, ', '.join(DRIVERS)))


def _driver_home(docker_root, driver):
    home = os.path.join(docker_root, driver)
    subdirs = {'aufs': ('diff', 'layers', 'mnt'), 'overlay': (), 'vfs': ('dir',), 'btrfs': ('subvolumes',)}[driver]
    os.makedirs(home, exist_ok=True)
    os.chmod(home, 0o755 if driver == 'aufs' else 0o700)
    for sub in subdirs:
        os.makedirs(os.path.join(home, sub), exist_ok=True)
        os.chmod(os.path.join(home, sub), 0o755 if driver == 'aufs' else 0o700)
    return home


def _aufs_meta(diff):
    meta = os.path.join(diff, os.fsdecode(AUFS_META_FILE))
    if not os.path.lexists(meta):
        _write(meta, b'', 0o444)
    for name in AUFS_META_DIRS:
        path = os.path.join(diff, os.fsdecode(name))
        if not os.path.lexists(path):
            os.mkdir(path, 0o700)
            os.chmod(path, 0o700)


def _new_layer_dir(path, mode=0o755):
    os.mkdir(path, mode)
    os.chmod(path, mode)


def _apply_image_layer(docker_root, driver, layer_id, parent_id, ancestors, tar_path, warnings):
    """Create the driver's tree for one image layer from its tar."""
    home = os.path.join(docker_root, driver)
    if driver == 'aufs':
        diff = os.path.join(home, 'diff', layer_id)
        _new_layer_dir(diff)
        extract_layer(tar_path, diff, apply_whiteouts=False, warnings=warnings)
        _aufs_meta(diff)
        _write(os.path.join(home, 'layers', layer_id), ''.join(a + '\n' for a in ancestors), 0o644)
        _new_layer_dir(os.path.join(home, 'mnt', layer_id))
        return
    target = os.path.join(docker_root, layer_dir(driver, layer_id))
    if driver == 'overlay':
        _new_layer_dir(os.path.join(home, layer_id), 0o700)
    if parent_id is None:
        _new_layer_dir(target)
    else:
        copy_tree(os.path.join(docker_root, layer_dir(driver, parent_id)), target, hardlink=driver == 'overlay',
                  warnings=warnings)
    extract_layer(tar_path, target, apply_whiteouts=True, warnings=warnings)


def _init_layer_tar(created_ns):
    """Docker 1.9's container init layer (setupInitLayer) as a tar."""
    buf = io.BytesIO()
    entries = [('.dockerenv', 'file'), ('.dockerinit', 'file'), ('dev', 'dir'), ('dev/console', 'file'),
               ('dev/pts', 'dir'), ('dev/shm', 'dir'), ('etc', 'dir'), ('etc/hostname', 'file'),
               ('etc/hosts', 'file'), ('etc/mtab', '/proc/mounts'), ('etc/resolv.conf', 'file'),
               ('proc', 'dir'), ('sys', 'dir')]
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as archive:
        for name, kind in entries:
            info = tarfile.TarInfo(name)
            info.mtime = created_ns // 1000000000
            info.mode = 0o755
            if kind == 'dir':
                info.type = tarfile.DIRTYPE
            elif kind == 'file':
                info.type = tarfile.REGTYPE
            else:
                info.type = tarfile.SYMTYPE
                info.linkname = kind
                info.mode = 0o777
            archive.addfile(info, io.BytesIO(b'') if kind == 'file' else None)
    return buf.getvalue()


def _rw_layer_tar(spec, created_ns):
    """A container's changes as a tar with aufs whiteouts for its deletions."""
    buf = io.BytesIO()
    seen_dirs = set()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT, encoding='utf-8',
                      errors='surrogateescape') as archive:
        def add_dirs(path):
            parts = path.split('/')[:-1]
            for depth in range(1, len(parts) + 1):
                name = '/'.join(parts[:depth])
                if name not in seen_dirs:
                    seen_dirs.add(name)
                    info = tarfile.TarInfo(name)
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    info.mtime = created_ns // 1000000000
                    archive.addfile(info)

        for path in sorted(spec.deleted):
            path = path.strip('/')
            add_dirs(path)
            head, _sep, tail = path.rpartition('/')
            info = tarfile.TarInfo((head + '/' if head else '') + '.wh.' + tail)
            info.mode = 0o444
            info.mtime = created_ns // 1000000000 + 60
            archive.addfile(info, io.BytesIO(b''))
        for path, data in sorted(spec.files.items()):
            path = path.strip('/')
            data = data.encode('utf-8') if isinstance(data, str) else data
            add_dirs(path)
            info = tarfile.TarInfo(path)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = created_ns // 1000000000 + 60
            archive.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _whiteouts_under(root):
    """Paths (bytes) of the .wh.<name> files under root, not the aufs meta entries."""
    found = []
    for dirpath, dirnames, filenames in os.walk(os.fsencode(root)):
        dirnames[:] = [d for d in dirnames if not d.startswith(WHITEOUT_META_PREFIX)]
        for name in filenames:
            if name.startswith(WHITEOUT_PREFIX) and not name.startswith(WHITEOUT_META_PREFIX):
                found.append(os.path.join(dirpath, name))
    return found


def _apply_container_layers(docker_root, driver, cid, image_id, ancestors, spec, created_ns, warnings):
    """Create <cid>-init and <cid> in the driver's layout; returns their directories (relative)."""
    home = os.path.join(docker_root, driver)
    init_id = cid + '-init'
    with tempfile.TemporaryDirectory(dir=os.path.join(docker_root, 'tmp')) as tmp:
        init_tar = os.path.join(tmp, 'init.tar')
        rw_tar = os.path.join(tmp, 'rw.tar')
        _write(init_tar, _init_layer_tar(created_ns))
        _write(rw_tar, _rw_layer_tar(spec, created_ns))
        if driver == 'aufs':
            for layer_id, tar_path, chain in ((init_id, init_tar, [image_id] + ancestors),
                                              (cid, rw_tar, [init_id, image_id] + ancestors)):
                diff = os.path.join(home, 'diff', layer_id)
                _new_layer_dir(diff)
                extract_layer(tar_path, diff, apply_whiteouts=False, warnings=warnings)
                _aufs_meta(diff)
                _write(os.path.join(home, 'layers', layer_id), ''.join(a + '\n' for a in chain), 0o644)
                _new_layer_dir(os.path.join(home, 'mnt', layer_id))
            # Whiteouts aufs makes itself are hard links to the branch's .wh..wh.aufs.
            diff = os.fsencode(os.path.join(home, 'diff', cid))
            for path in _whiteouts_under(diff):
                os.unlink(path)
                os.link(diff + b'/' + AUFS_META_FILE, path)
            return {'init': os.path.join('aufs', 'diff', init_id), 'rw': os.path.join('aufs', 'diff', cid)}
        if driver == 'overlay':
            for layer_id in (init_id, cid):
                layer = os.path.join(home, layer_id)
                _new_layer_dir(layer, 0o700)
                for sub in ('upper', 'work', 'merged'):
                    _new_layer_dir(os.path.join(layer, sub))
                _write(os.path.join(layer, 'lower-id'), image_id, 0o644)
            extract_layer(init_tar, os.path.join(home, init_id, 'upper'), apply_whiteouts=False, warnings=warnings)
            upper = os.path.join(home, cid, 'upper')
            os.rmdir(upper)
            copy_tree(os.path.join(home, init_id, 'upper'), upper, hardlink=False, warnings=warnings)
            extract_layer(rw_tar, upper, apply_whiteouts=False, warnings=warnings)
            # overlayfs marks a deletion in the upper dir with a 0:0 character device.
            for path in _whiteouts_under(upper):
                head, tail = os.path.split(path)
                os.unlink(path)
                victim = os.path.join(head, tail[len(WHITEOUT_PREFIX):])
                _remove_all(victim)
                _Tree(upper, os.geteuid() == 0, warnings).make_node(victim, stat.S_IFCHR, 0, os.makedev(0, 0))
            return {'init': os.path.join('overlay', init_id, 'upper'), 'rw': os.path.join('overlay', cid, 'upper')}
        image_dir = os.path.join(docker_root, layer_dir(driver, image_id))
        init_dir = os.path.join(docker_root, layer_dir(driver, init_id))
        rw_dir = os.path.join(docker_root, layer_dir(driver, cid))
        copy_tree(image_dir, init_dir, hardlink=False, warnings=warnings)
        extract_layer(init_tar, init_dir, apply_whiteouts=True, warnings=warnings)
        copy_tree(init_dir, rw_dir, hardlink=False, warnings=warnings)
        extract_layer(rw_tar, rw_dir, apply_whiteouts=True, warnings=warnings)
        return {'init': layer_dir(driver, init_id), 'rw': layer_dir(driver, cid)}


# --------------------------------------------------------------------------------------------------
# The graph


def _v1_json(v1id, parent_id, created, container_id, cmd, size):
    config = collections.OrderedDict()
    config['id'] = v1id
    if parent_id:
        config['parent'] = parent_id
    config['created'] = created
    config['container'] = container_id
    config['container_config'] = collections.OrderedDict([
        ('Hostname', container_id[:12]), ('Domainname', ''), ('User', ''), ('AttachStdin', False),
        ('AttachStdout', False), ('AttachStderr', False), ('Tty', False), ('OpenStdin', False),
        ('StdinOnce', False), ('Env', ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']),
        ('Cmd', cmd), ('Image', parent_id or ''), ('Volumes', None), ('WorkingDir', ''),
        ('Entrypoint', None), ('OnBuild', None), ('Labels', {})])
    config['docker_version'] = DOCKER_VERSION
    config['config'] = collections.OrderedDict([
        ('Hostname', container_id[:12]), ('Domainname', ''), ('User', ''), ('AttachStdin', False),
        ('AttachStdout', False), ('AttachStderr', False), ('Tty', False), ('OpenStdin', False),
        ('StdinOnce', False), ('Env', ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']),
        ('Cmd', ['/bin/sh']), ('Image', parent_id or ''), ('Volumes', None), ('WorkingDir', ''),
        ('Entrypoint', None), ('OnBuild', None), ('Labels', {})])
    config['architecture'] = 'amd64'
    config['os'] = 'linux'
    config['Size'] = size
    return _go_json(config)


def _tarsplit_wanted(spec, tarsplit):
    if spec.tarsplit is not None:
        return bool(spec.tarsplit)
    if isinstance(tarsplit, dict):
        return bool(tarsplit.get(spec.name, True))
    return bool(tarsplit)


def _prepare_root(docker_root, force):
    docker_root = os.path.abspath(str(docker_root))
    if docker_root in ('/', os.path.expanduser('~')):
        raise GraphError('refusing to build a graph in %s' % docker_root)
    if os.path.lexists(docker_root):
        if os.listdir(docker_root) and not force:
            raise GraphError('%s is not empty (use force to replace it)' % docker_root)
        shutil.rmtree(docker_root)
    os.makedirs(docker_root)
    os.chmod(docker_root, 0o700)
    for sub in ('graph', os.path.join('graph', '_tmp'), 'containers', 'tmp', 'trust', 'volumes'):
        os.makedirs(os.path.join(docker_root, sub))
        os.chmod(os.path.join(docker_root, sub), 0o700)
    return docker_root


def build_legacy_graph(docker_root, driver, layers=None, tags=None, containers=None, tarsplit=True,
                       corpus=None, seed=DEFAULT_SEED, manifest_path=None, force=False):
    """Build a Docker 1.9 docker root at docker_root for driver; returns the manifest (a dict).

    layers: LayerSpecs, dicts {name, tar, parent?, tarsplit?, v1id?, created?, cmd?}, (name, tar)
    tuples or names of corpus tars; parents must come before their children; default: the corpus
    chain. tags: {'repo:tag': layer name or v1 id}; default: default_tags. containers:
    ContainerSpecs or dicts (name, image, running, pid, files, deleted, restart_policy); default:
    default_containers; [] for none. tarsplit: True, False or {layer name: bool} (a layer's own
    tarsplit wins). corpus: a layer_tars.load_corpus dict. The manifest is also written to
    manifest_path when given. force replaces an existing non-empty docker_root.
    """
    if driver not in DRIVERS:
        raise GraphError('unknown storage driver %r (one of %s)' % (driver, ', '.join(DRIVERS)))
    if layers is None:
        if corpus is None:
            raise GraphError('give layers or a corpus')
        layers = [{'name': link['name'], 'tar': corpus['tars'][link['tar']]['path']} for link in corpus['chain']]
    specs = [LayerSpec.coerce(layer, corpus) for layer in layers]
    names = [spec.name for spec in specs]
    if len(set(names)) != len(names):
        raise GraphError('layer names must be unique: %s' % names)
    if tags is None:
        tags = default_tags(names)
    if containers is None:
        containers = default_containers(names, tags)
    containers = [ContainerSpec.coerce(c) for c in containers]

    docker_root = _prepare_root(docker_root, force)
    _driver_home(docker_root, driver)
    warnings = []
    by_name = {}
    records = []
    for index, spec in enumerate(specs):
        parent_name = spec.parent
        if parent_name is LayerSpec.PREVIOUS:
            parent_name = specs[index - 1].name if index else None
        if parent_name is not None and parent_name not in by_name:
            raise GraphError('layer %r: parent %r must be listed before it' % (spec.name, parent_name))
        parent = by_name.get(parent_name)
        v1id = spec.v1id or _hex_id(seed, 'layer', spec.name)
        if v1id in set(r['v1id'] for r in records):
            raise GraphError('layer %r: v1 id %s is used twice' % (spec.name, v1id))
        ancestors = [parent['v1id']] + parent['ancestors'] if parent else []
        has_tarsplit = _tarsplit_wanted(spec, tarsplit)
        graph = os.path.join(docker_root, 'graph', v1id)
        os.mkdir(graph, 0o700)
        metadata = os.path.join(graph, TARSPLIT_FILE) if has_tarsplit else \
            os.path.join(docker_root, 'graph', '_tmp', v1id + '-' + TARSPLIT_FILE)
        if shutil.which('tar-split') or has_tarsplit:
            tarsplit_disasm(spec.tar, metadata)
            size = tarsplit_size(metadata)
            os.chmod(metadata, 0o600)
            if not has_tarsplit:
                os.unlink(metadata)
        else:
            size = layer_tars.regular_file_bytes(spec.tar)
        diff_id = sha256_file(spec.tar)
        created = spec.created or _timestamp(index, v1id)
        cmd = spec.cmd or ['/bin/sh', '-c', '#(nop) ADD file:%s in /' % diff_id[len('sha256:'):]]
        _write(os.path.join(graph, 'json'),
               _v1_json(v1id, parent['v1id'] if parent else None, created, _hex_id(seed, 'build', spec.name), cmd, size))
        _write(os.path.join(graph, 'layersize'), str(size))
        _apply_image_layer(docker_root, driver, v1id, parent['v1id'] if parent else None, ancestors, spec.tar,
                           warnings)
        record = {
            'name': spec.name,
            'v1id': v1id,
            'parent': parent['v1id'] if parent else None,
            'parent_name': parent_name,
            'tar': spec.tar,
            'tar_bytes': os.path.getsize(spec.tar),
            'diff_id': diff_id,
            'size': size,
            'has_tarsplit': has_tarsplit,
            'chain_id': chain_ids([parent['chain_id'], diff_id])[-1] if parent else diff_id,
            'created': created,
            'layer_dir': layer_dir(driver, v1id),
            'ancestors': ancestors,
        }
        by_name[spec.name] = record
        records.append(record)

    by_id = dict((r['v1id'], r) for r in records)

    def image_of(ref):
        if ref in by_name:
            return by_name[ref]['v1id']
        if ref in by_id:
            return ref
        repo, tag = _split_ref(ref)
        target = repositories.get(repo, {}).get(tag)
        if target:
            return target
        raise GraphError('%r is neither a layer name, a v1 id nor a tag' % ref)

    repositories = {}
    for ref, layer in sorted(tags.items()):
        repo, tag = _split_ref(ref)
        repositories.setdefault(repo, {})[tag] = by_name[layer]['v1id'] if layer in by_name else image_of(layer)
    _write(os.path.join(docker_root, 'repositories-%s' % driver), _go_json({'Repositories': repositories}))

    container_records = []
    for index, spec in enumerate(containers):
        cid = spec.cid or _hex_id(seed, 'container', spec.name)
        image_id = image_of(spec.image)
        created_ns = int((_BASE_TIME + datetime.timedelta(days=3, minutes=index)).timestamp()) * 1000000000
        pid = (spec.pid or 31000 + index) if spec.running else 0
        dirs = _apply_container_layers(docker_root, driver, cid, image_id, by_id[image_id]['ancestors'], spec,
                                       created_ns, warnings)
        _write_container(docker_root, driver, cid, spec, image_id, pid, created_ns)
        container_records.append({
            'id': cid, 'name': spec.name, 'image': image_id, 'image_ref': spec.image, 'running': bool(spec.running),
            'pid': pid, 'init_layer': cid + '-init', 'init_dir': dirs['init'], 'rw_dir': dirs['rw'],
            'files': sorted(p.strip('/') for p in spec.files), 'deleted': sorted(p.strip('/') for p in spec.deleted),
        })

    manifest = {
        'format': MANIFEST_FORMAT,
        'docker_root': docker_root,
        'driver': driver,
        'docker_version': DOCKER_VERSION,
        'seed': seed,
        'layers': records,
        'tags': repositories,
        'containers': container_records,
        'warnings': warnings,
    }
    if manifest_path:
        write_manifest(manifest, manifest_path)
    return manifest


def _write_container(docker_root, driver, cid, spec, image_id, pid, created_ns):
    directory = os.path.join(docker_root, 'containers', cid)
    os.mkdir(directory, 0o700)
    created = datetime.datetime.fromtimestamp(created_ns // 1000000000, datetime.timezone.utc)
    started = created.strftime('%Y-%m-%dT%H:%M:%S.123456789Z') if spec.running or spec.pid else '0001-01-01T00:00:00Z'
    finished = '0001-01-01T00:00:00Z' if spec.running else \
        (created + datetime.timedelta(hours=1)).strftime('%Y-%m-%dT%H:%M:%S.987654321Z')
    config = collections.OrderedDict([
        ('State', collections.OrderedDict([
            ('Running', bool(spec.running)), ('Paused', False), ('Restarting', False), ('OOMKilled', False),
            ('Dead', False), ('Pid', pid), ('ExitCode', 0), ('Error', ''), ('StartedAt', started),
            ('FinishedAt', finished)])),
        ('ID', cid),
        ('Created', created.strftime('%Y-%m-%dT%H:%M:%S.000000001Z')),
        ('Path', '/bin/sh'),
        ('Args', ['-c', 'sleep 1000000']),
        ('Config', collections.OrderedDict([
            ('Hostname', cid[:12]), ('Domainname', ''), ('User', ''), ('AttachStdin', False),
            ('AttachStdout', False), ('AttachStderr', False), ('Tty', False), ('OpenStdin', False),
            ('StdinOnce', False), ('Env', ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']),
            ('Cmd', ['/bin/sh', '-c', 'sleep 1000000']), ('Image', spec.image), ('Volumes', None),
            ('WorkingDir', ''), ('Entrypoint', None), ('OnBuild', None), ('Labels', {})])),
        ('Image', image_id),
        ('NetworkSettings', collections.OrderedDict([('Bridge', ''), ('SandboxID', ''), ('Ports', None)])),
        ('ResolvConfPath', os.path.join(directory, 'resolv.conf')),
        ('HostnamePath', os.path.join(directory, 'hostname')),
        ('HostsPath', os.path.join(directory, 'hosts')),
        ('LogPath', os.path.join(directory, cid + '-json.log')),
        ('Name', '/' + spec.name),
        ('RestartCount', 0),
        ('Driver', driver),
        ('ExecDriver', 'native-0.2'),
        ('MountLabel', ''),
        ('ProcessLabel', ''),
        ('AppArmorProfile', ''),
        ('ExecIDs', None),
        ('HasBeenStartedBefore', bool(spec.running or spec.pid)),
        ('MountPoints', {}),
        ('Volumes', None),
        ('VolumesRW', None),
    ])
    host_config = collections.OrderedDict([
        ('Binds', None), ('ContainerIDFile', ''), ('LxcConf', []), ('Memory', 0), ('MemorySwap', 0),
        ('CpuShares', 0), ('Privileged', False), ('PortBindings', {}), ('Links', None), ('PublishAllPorts', False),
        ('Dns', None), ('DnsOptions', None), ('DnsSearch', None), ('ExtraHosts', None), ('VolumesFrom', None),
        ('Devices', []), ('NetworkMode', 'default'), ('IpcMode', ''), ('PidMode', ''), ('UTSMode', ''),
        ('CapAdd', None), ('CapDrop', None), ('GroupAdd', None),
        ('RestartPolicy', collections.OrderedDict([('Name', spec.restart_policy), ('MaximumRetryCount', 0)])),
        ('SecurityOpt', None), ('ReadonlyRootfs', False), ('LogConfig', {'Type': 'json-file', 'Config': {}}),
        ('CgroupParent', ''), ('ConsoleSize', [0, 0]), ('VolumeDriver', ''),
    ])
    _write(os.path.join(directory, 'config.json'), _go_json(config))
    _write(os.path.join(directory, 'hostconfig.json'), _go_json(host_config))
    _write(os.path.join(directory, 'hostname'), cid[:12] + '\n', 0o644)
    _write(os.path.join(directory, 'hosts'), '127.0.0.1\tlocalhost\n172.17.0.2\t%s\n' % cid[:12], 0o644)
    _write(os.path.join(directory, 'resolv.conf'), 'nameserver 8.8.8.8\n', 0o644)
    _write(os.path.join(directory, cid + '-json.log'),
           '{"log":"started\\n","stream":"stdout","time":"2016-01-07T10:00:01.000000001Z"}\n', 0o600)


def write_manifest(manifest, path):
    path = str(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + '.tmp'
    with open(tmp, 'w', encoding='utf-8') as stream:
        json.dump(manifest, stream, indent=2, sort_keys=True)
        stream.write('\n')
    os.replace(tmp, path)
    return path


def load_manifest(path):
    with open(str(path), 'r', encoding='utf-8') as stream:
        return json.load(stream)


def verify_graph(manifest, work_dir=None):
    """Reassemble every layer that has tar-split data with `tar-split asm` from its layer tree and
    compare with the manifest's diff_id. Returns [{name, v1id, expected, actual, ok, error}]."""
    results = []
    with tempfile.TemporaryDirectory(dir=work_dir) as tmp:
        for layer in manifest['layers']:
            if not layer['has_tarsplit']:
                continue
            out = os.path.join(tmp, layer['v1id'] + '.tar')
            result = {'name': layer['name'], 'v1id': layer['v1id'], 'expected': layer['diff_id'], 'actual': None,
                      'ok': False, 'error': None}
            try:
                tarsplit_asm(os.path.join(manifest['docker_root'], 'graph', layer['v1id'], TARSPLIT_FILE),
                             os.path.join(manifest['docker_root'], layer['layer_dir']), out)
                result['actual'] = sha256_file(out)
                result['ok'] = result['actual'] == layer['diff_id']
            except GraphError as exc:
                result['error'] = str(exc)
            finally:
                if os.path.exists(out):
                    os.unlink(out)
            results.append(result)
    return results


# --------------------------------------------------------------------------------------------------
# CLI


def _parse_container(text):
    name, sep, rest = text.partition('=')
    if not sep or not rest:
        raise argparse.ArgumentTypeError('--container NAME=IMAGE[,running][,pid=N]')
    fields = rest.split(',')
    spec = {'name': name, 'image': fields[0]}
    for field in fields[1:]:
        if field == 'running':
            spec['running'] = True
        elif field.startswith('pid='):
            spec['pid'] = int(field[4:])
        elif field.startswith('delete='):
            spec.setdefault('deleted', []).append(field[7:])
        else:
            raise argparse.ArgumentTypeError('unknown container field %r' % field)
    return spec


def _pair(text, first=False):
    key, sep, value = text.partition('=') if first else text.rpartition('=')
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError('expected KEY=VALUE, got %r' % text)
    return key, value


def _build_command(args):
    corpus = None
    if args.spec:
        with open(args.spec, 'r', encoding='utf-8') as stream:
            spec = json.load(stream)
    else:
        spec = {}
    if args.layer:
        spec['layers'] = [{'name': name, 'tar': tar} for name, tar in (_pair(text, first=True) for text in args.layer)]
    if 'layers' not in spec or args.corpus_dir:
        corpus_dir = args.corpus_dir or os.path.join(os.path.dirname(os.path.abspath(args.docker_root)),
                                                     'corpus-' + args.corpus)
        corpus = layer_tars.build_corpus(args.corpus, corpus_dir, args.total_mb)
    if args.tag:
        spec['tags'] = dict(_pair(text) for text in args.tag)
    elif args.no_default_tags:
        spec['tags'] = {}
    if args.container:
        spec['containers'] = args.container
    elif args.no_default_containers:
        spec['containers'] = []
    tarsplit = spec.get('tarsplit', not args.no_tarsplit_at_all)
    if args.no_tarsplit:
        tarsplit = dict((name, False) for name in args.no_tarsplit)
    manifest_path = args.manifest or os.path.join(os.path.dirname(os.path.abspath(args.docker_root)), 'manifest.json')
    manifest = build_legacy_graph(args.docker_root, args.driver, layers=spec.get('layers'), tags=spec.get('tags'),
                                  containers=spec.get('containers'), tarsplit=tarsplit, corpus=corpus,
                                  seed=args.seed, manifest_path=manifest_path, force=args.force)
    for layer in manifest['layers']:
        tarsplit_state = 'yes' if layer['has_tarsplit'] else 'no'
        print('%s  %-14s %s size=%d tarsplit=%s' % (
            layer['v1id'][:12], layer['name'], layer['diff_id'], layer['size'], tarsplit_state))
    for container in manifest['containers']:
        print('container %s %s image=%s running=%s' % (container['id'][:12], container['name'],
                                                       container['image'][:12], container['running']))
    for warning in manifest['warnings']:
        print('warning: %s' % warning, file=sys.stderr)
    print('manifest: %s' % manifest_path)
    return 0


def _verify_command(args):
    failed = 0
    for result in verify_graph(load_manifest(args.manifest)):
        status = 'ok' if result['ok'] else 'FAILED'
        print('%-6s %-14s %s %s' % (status, result['name'], result['expected'], result['error'] or ''))
        failed += not result['ok']
    return 1 if failed else 0


def _extract_command(args):
    for warning in extract_layer(args.tar, args.dest, apply_whiteouts=args.apply_whiteouts):
        print('warning: %s' % warning, file=sys.stderr)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description='Build a Docker 1.9 docker root from real layer tars.')
    commands = parser.add_subparsers(dest='command', required=True)
    build = commands.add_parser('build', help='build a docker root and its manifest')
    build.add_argument('--docker-root', required=True)
    build.add_argument('--driver', required=True, choices=DRIVERS)
    build.add_argument('--corpus', choices=('synthetic', 'realistic'), default='synthetic',
                       help='layers from this corpus when no --layer/--spec layers are given (default synthetic)')
    build.add_argument('--corpus-dir', help='where the corpus is built or reused (default: next to the docker root)')
    build.add_argument('--total-mb', type=float, help='realistic corpus size in MiB (default 6)')
    build.add_argument('--layer', action='append', metavar='NAME=TAR', help='a layer, child of the one before')
    build.add_argument('--spec', help='JSON file: {"layers": [...], "tags": {...}, "containers": [...], "tarsplit"}')
    build.add_argument('--tag', action='append', metavar='REPO:TAG=LAYER')
    build.add_argument('--no-default-tags', action='store_true')
    build.add_argument('--container', action='append', type=_parse_container,
                       metavar='NAME=IMAGE[,running][,pid=N][,delete=PATH]')
    build.add_argument('--no-default-containers', action='store_true')
    build.add_argument('--no-tarsplit', action='append', metavar='LAYER', help='leave out tar-data.json.gz')
    build.add_argument('--no-tarsplit-at-all', action='store_true', help='no layer gets tar-data.json.gz')
    build.add_argument('--seed', default=DEFAULT_SEED, help='ids are sha256 of the seed and the names')
    build.add_argument('--manifest', help='default: manifest.json next to the docker root')
    build.add_argument('--force', action='store_true', help='replace an existing docker root')
    verify = commands.add_parser('verify', help='reassemble every layer with tar-split and check its diff id')
    verify.add_argument('manifest')
    extract = commands.add_parser('extract', help='extract one layer tar the way Docker 1.9 did')
    extract.add_argument('tar')
    extract.add_argument('dest')
    extract.add_argument('--apply-whiteouts', action='store_true', help='as overlay/vfs/btrfs (default: as aufs)')
    args = parser.parse_args(argv)
    try:
        return {'build': _build_command, 'verify': _verify_command, 'extract': _extract_command}[args.command](args)
    except (GraphError, layer_tars.CorpusError) as exc:
        parser.exit(1, 'legacy_graph: %s\n' % exc)


if __name__ == '__main__':
    sys.exit(main())
