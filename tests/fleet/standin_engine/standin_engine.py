"""STAND-IN Docker Engine 1.9.1 / 1.10.3 for the fleetops fleet tests. This is NOT Docker.

Shipped by the fleet's test ``docker-engine`` packages as /usr/lib/docker-standin/standin_engine.py
and run as ``/usr/bin/docker`` (the version is fixed by the package). It runs no container
isolation, pulls nothing and builds nothing. What it does, for the upgrade role to be tested as it
runs on a fleet:

* ``docker daemon``: serves the host's Docker store on /var/run/docker.sock with the Engine API calls
  the role uses (``/_ping``, ``/version``, ``/info``, ``/images/json``, ``/images/<name>/json``,
  ``/containers/json``, ``/containers/<id>/json``, ``/containers/<id>/start|stop|restart``), under
  ``/v1.NN/`` or unversioned. A running "container" is a ``sleep`` process named
  ``standin-container:<name>``; containers with restart policy ``always`` are started at daemon
  start, all are stopped at daemon stop.
* 1.9.1 reads the legacy store: ``graph/<v1 id>/``, ``repositories-<driver>`` and
  ``containers/<id>/config.json``; image ids are the v1 ids.
* 1.10.3 first migrates a legacy store as Docker 1.10's migrate/v1 does: a layer whose
  ``.migration-diffid`` holds a valid ``sha256:<hex>`` (with a valid ``.migration-size``) is taken as
  is; every other layer is hashed by reassembling its tar with Debian's ``tar-split asm`` from
  ``tar-data.json.gz`` and the layer's tree (sha256 of the stream), logging ``calculated checksum
  for layer <id>: sha256:<hex>``, and its ``.migration-*`` files are written as Docker writes them.
  A layer that cannot be reassembled (no tar-split data, a file that no longer matches) gets a tar
  regenerated from its tree by this stand-in's own simple code (NOT Docker's bytes: the diffID is
  deterministic but differs from what Docker 1.10 would compute) and hashed. Hashing is throttled to
  ``hash_rate_mb_s`` of /etc/docker-standin/config (0: no limit) to emulate a disk. It then writes
  ``image/<driver>/`` (layerdb, imagedb, repositories.json), ``.migration-v1-images.json`` and
  ``.migration-v1-tags`` and ``containers/<id>/config.v2.json``, logs ``migration: N layers hashed,
  M reused`` and serves ``sha256:`` image ids: the SHA-256 of the image config Docker 1.10's
  migrate/v1 writes (the v1 json's members minus id, parent, Size, parent_id, layer_id and throwaway,
  plus rootfs and history, keys sorted, Go's compact HTML-escaped encoding), built by this stand-in's
  own code (not the collection's, so the role's ID predictions are checked against an independent
  implementation): Docker's ids for images made by Docker >= 1.8.3 (older ones, which Docker
  re-encodes first, get a warning and an id that differs). ``graph/`` and ``repositories-<driver>``
  are left in place, so 1.9.1 sees them again after a downgrade.
* Fault switch: when /etc/docker-standin/fail-start exists, 1.10.3 logs ``migration failed: ...``
  and exits 1 without serving (the rollback scenario).
* The client: ``docker version|info|images|ps|inspect|start|stop|restart`` through the same API.
"""

import datetime
import gzip
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

VERSIONS = {
    '1.9.1': {'api': '1.21', 'commit': 'a34a1d5-standin', 'go': 'go1.4.3', 'built': 'Fri Nov 20 13:12:04 UTC 2015'},
    '1.10.3': {'api': '1.22', 'commit': '20f81dd-standin', 'go': 'go1.5.3', 'built': 'Thu Mar 10 15:54:52 2016'},
}
DEFAULT_ROOT = '/var/lib/docker'
DEFAULT_SOCKET = '/var/run/docker.sock'
DEFAULT_PIDFILE = '/var/run/docker.pid'
CONFIG_DIR = '/etc/docker-standin'
FAULT_SWITCH = os.path.join(CONFIG_DIR, 'fail-start')
CONFIG_FILE = os.path.join(CONFIG_DIR, 'config')
PRIOR_DRIVERS = ('aufs', 'btrfs', 'devicemapper', 'overlay', 'vfs')
HEX64 = re.compile(r'^[0-9a-f]{64}$')
DIGEST = re.compile(r'^sha256:[0-9a-f]{64}$')
TARSPLIT_FILE = 'tar-data.json.gz'
ZERO_TIME = '0001-01-01T00:00:00Z'
CONTAINER_PREFIX = 'standin-container:'


# --------------------------------------------------------------------------------------------------
# Small helpers


def now_text():
    moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime('%Y-%m-%dT%H:%M:%S.') + '%09dZ' % (moment.microsecond * 1000)


def parse_time(text):
    """Unix seconds of a Docker timestamp ('2016-01-04T10:00:00.123Z'); 0 when unparsable."""
    if not text or text.startswith('0001-'):
        return 0
    match = re.match(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$', text)
    if not match:
        return 0
    base = datetime.datetime.strptime(match.group(1), '%Y-%m-%dT%H:%M:%S').replace(tzinfo=datetime.timezone.utc)
    return int(base.timestamp())


def human_duration(seconds):
    seconds = max(int(seconds), 0)
    if seconds < 1:
        return 'Less than a second'
    if seconds < 60:
        return '%d seconds' % seconds
    minutes = seconds // 60
    if minutes == 1:
        return 'About a minute'
    if minutes < 60:
        return '%d minutes' % minutes
    hours = minutes // 60
    if hours == 1:
        return 'About an hour'
    if hours < 48:
        return '%d hours' % hours
    if hours < 24 * 7 * 2:
        return '%d days' % (hours // 24)
    if hours < 24 * 30 * 3:
        return '%d weeks' % (hours // 24 // 7)
    if hours < 24 * 365 * 2:
        return '%d months' % (hours // 24 // 30)
    return '%d years' % (hours // 24 // 365)


def read_text(path, default=None):
    try:
        with open(path, 'r', encoding='utf-8') as stream:
            return stream.read()
    except OSError:
        return default


def read_json(path, default=None):
    text = read_text(path)
    if text is None:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def write_atomic(path, data, mode=0o600):
    if isinstance(data, str):
        data = data.encode('utf-8')
    directory = os.path.dirname(path)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.standin-', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def hex_of(digest):
    """'sha256:<hex>' -> '<hex>' (a bare hex stays as it is)."""
    return digest.rsplit(':', maxsplit=1)[-1]


def go_json(value):
    return json.dumps(value, separators=(',', ':'), sort_keys=True)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def read_config():
    """key = value lines of /etc/docker-standin/config."""
    values = {}
    for line in (read_text(CONFIG_FILE, '') or '').splitlines():
        line = line.split('#', 1)[0].strip()
        if '=' in line:
            key, value = line.split('=', 1)
            values[key.strip()] = value.strip()
    return values


class Log(object):
    """logrus-style text lines on stderr (the init script sends them to /var/log/docker.log)."""

    def __init__(self, debug=False):
        self.debug_enabled = debug
        self.lock = threading.Lock()

    def _write(self, level, message, fields=None):
        extra = ''.join(' %s=%s' % (key, json.dumps(str(value)) if ' ' in str(value) else value)
                        for key, value in (fields or {}).items())
        line = 'time="%s" level=%s msg=%s%s\n' % (now_text(), level, json.dumps(message), extra)
        with self.lock:
            sys.stderr.write(line)
            sys.stderr.flush()

    def info(self, message, **fields):
        self._write('info', message, fields)

    def warn(self, message, **fields):
        self._write('warning', message, fields)

    def error(self, message, **fields):
        self._write('error', message, fields)

    def fatal(self, message, **fields):
        self._write('fatal', message, fields)

    def debug(self, message, **fields):
        if self.debug_enabled:
            self._write('debug', message, fields)


# --------------------------------------------------------------------------------------------------
# Store layout


def layer_dir(root, driver, layer_id):
    if driver == 'aufs':
        return os.path.join(root, 'aufs', 'diff', layer_id)
    if driver == 'overlay':
        return os.path.join(root, 'overlay', layer_id, 'root')
    if driver == 'vfs':
        return os.path.join(root, 'vfs', 'dir', layer_id)
    if driver == 'btrfs':
        return os.path.join(root, 'btrfs', 'subvolumes', layer_id)
    raise ValueError('the stand-in does not support the %s storage driver' % driver)


def detect_driver(root, wanted):
    if wanted:
        return wanted
    prior = [name for name in PRIOR_DRIVERS if os.path.isdir(os.path.join(root, name))]
    if len(prior) > 1:
        raise SystemExit('%s contains several graphdrivers: %s; please cleanup or explicitly choose storage driver '
                         '(-s <DRIVER>)' % (root, ', '.join(prior)))
    return prior[0] if prior else 'vfs'


def legacy_parent(graph_dir, layer_id, config):
    """Docker 1.10's getParent: json parent, else the hex of parent_id; a non-empty parent file wins."""
    parent = config.get('parent') or ''
    if not parent and config.get('parent_id'):
        parent = hex_of(str(config['parent_id']))
    override = (read_text(os.path.join(graph_dir, layer_id, 'parent'), '') or '').strip()
    return override or parent or None


def load_graph(root):
    """{v1 id: {'id', 'parent', 'config', 'size'}} of graph/."""
    graph_dir = os.path.join(root, 'graph')
    images = {}
    try:
        names = sorted(os.listdir(graph_dir))
    except OSError:
        return images
    for name in names:
        if not HEX64.match(name):
            continue
        config = read_json(os.path.join(graph_dir, name, 'json'))
        if not isinstance(config, dict):
            continue
        size = read_text(os.path.join(graph_dir, name, 'layersize'), '') or ''
        images[name] = {
            'id': name,
            'parent': legacy_parent(graph_dir, name, config),
            'config': config,
            'size': int(size) if size.strip().isdigit() else int(config.get('Size') or 0),
        }
    return images


def ordered_ids(images):
    """Parents before children."""
    order = []
    state = {}
    for start in sorted(images):
        stack = [start]
        while stack:
            current = stack[-1]
            if state.get(current) == 2:
                stack.pop()
                continue
            parent = images[current]['parent']
            if parent in images and state.get(parent) != 2 and state.get(current) != 1:
                state[current] = 1
                stack.append(parent)
                continue
            state[current] = 2
            order.append(current)
            stack.pop()
    return order


def split_ref(ref):
    repo, sep, tag = ref.rpartition(':')
    if not sep or '/' in tag:
        return ref, 'latest'
    return repo, tag


# --------------------------------------------------------------------------------------------------
# Migration (1.10.3)


class MigrationError(Exception):
    pass


class Throttle(object):
    """Sleeps so that bytes go through no faster than rate_mb_s (0 or less: no limit)."""

    def __init__(self, rate_mb_s):
        self.rate = float(rate_mb_s or 0) * 1024 * 1024
        self.started = time.monotonic()
        self.total = 0

    def add(self, count):
        self.total += count
        if self.rate > 0:
            ahead = self.total / self.rate - (time.monotonic() - self.started)
            if ahead > 0:
                time.sleep(ahead)


def tarsplit_size(path):
    total = 0
    with gzip.open(path, 'rb') as stream:
        for line in stream:
            if line.strip():
                entry = json.loads(line)
                if entry.get('type') == 1:
                    total += entry.get('size') or 0
    return total


def asm_digest(tardata, tree, throttle, stopping):
    """sha256 of the tar that `tar-split asm` reassembles from tardata and tree."""
    proc = subprocess.Popen(['tar-split', 'asm', '--input', tardata, '--path', tree, '--output', '-'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    digest = hashlib.sha256()
    count = 0
    try:
        while True:
            chunk = proc.stdout.read(1024 * 1024)
            if not chunk:
                break
            digest.update(chunk)
            count += len(chunk)
            throttle.add(len(chunk))
            if stopping.is_set():
                proc.kill()
                raise MigrationError('interrupted')
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode('utf-8', 'replace')
        proc.stderr.close()
        proc.wait()
    if proc.returncode != 0:
        raise MigrationError('tar-split asm: %s' % (err.strip().splitlines() or ['exit %d' % proc.returncode])[-1])
    return 'sha256:' + digest.hexdigest(), count


def _entry_key(st, link):
    return (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid,
            st.st_size if stat.S_ISREG(st.st_mode) else 0, st.st_mtime_ns if not stat.S_ISDIR(st.st_mode) else 0,
            link, st.st_rdev if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode) else 0)


def _scan_tree(tree):
    """{relative path: (key, inode)} of every entry under tree (bytes paths)."""
    found = {}
    tree = os.fsencode(tree)
    if not os.path.isdir(tree):
        return found
    for dirpath, dirnames, filenames in os.walk(tree):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            link = os.readlink(full) if stat.S_ISLNK(st.st_mode) else b''
            found[os.path.relpath(full, tree)] = (_entry_key(st, link), (st.st_dev, st.st_ino))
    return found


def regenerate_tar(driver, tree, parent_tree, out_path):
    """The stand-in's own simple tar of a layer's changes (NOT Docker's bytes). aufs: the diff dir
    minus aufs meta files; others: entries new or changed against the parent's tree, their
    directories, and an empty .wh.<name> for each deleted entry (mtime 0). Sorted, PAX format."""
    tree_b = os.fsencode(tree)
    entries = _scan_tree(tree)
    names = []
    whiteouts = []
    if driver == 'aufs' or not parent_tree:
        for rel in entries:
            base = os.path.basename(rel)
            if driver == 'aufs' and base.startswith(b'.wh..wh.') and base != b'.wh..wh..opq':
                continue
            if driver == 'aufs' and any(part.startswith(b'.wh..wh.') and part != b'.wh..wh..opq'
                                        for part in rel.split(b'/')[:-1]):
                continue
            names.append(rel)
    else:
        parent = _scan_tree(parent_tree)
        changed = set()
        for rel, (key, inode) in entries.items():
            old = parent.get(rel)
            if old is None or (old[0] != key and old[1] != inode):
                changed.add(rel)
        for rel in list(changed):
            head = os.path.dirname(rel)
            while head:
                changed.add(head)
                head = os.path.dirname(head)
        for rel in sorted(parent):
            if rel in entries:
                continue
            head = os.path.dirname(rel)
            if head and head not in entries:
                continue  # a deleted directory's own whiteout covers it
            whiteouts.append(os.path.join(head, b'.wh.' + os.path.basename(rel)))
            while head:
                changed.add(head)
                head = os.path.dirname(head)
        names = sorted(changed)
    with tarfile.open(out_path, 'w', format=tarfile.PAX_FORMAT, encoding='utf-8', errors='surrogateescape') as archive:
        for rel in sorted(set(names) | set(whiteouts)):
            if rel in whiteouts and rel not in entries:
                info = tarfile.TarInfo(os.fsdecode(rel))
                info.mode = 0o644
                info.mtime = 0
                archive.addfile(info, None)
                continue
            full = os.path.join(tree_b, rel)
            info = archive.gettarinfo(full, arcname=os.fsdecode(rel))
            if info.isreg():
                with open(full, 'rb') as stream:
                    archive.addfile(info, stream)
            else:
                archive.addfile(info)
    return out_path


def hash_file(path, throttle):
    digest = hashlib.sha256()
    count = 0
    with open(path, 'rb') as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b''):
            digest.update(chunk)
            count += len(chunk)
            throttle.add(len(chunk))
    return 'sha256:' + digest.hexdigest(), count


def chain_id(parent_chain, diff_id):
    if not parent_chain:
        return diff_id
    return 'sha256:' + sha256_hex(('%s %s' % (parent_chain, diff_id)).encode('ascii'))


class Migrator(object):
    """Docker 1.10's migrate/v1 as the stand-in does it (see the module docstring)."""

    def __init__(self, root, driver, log, stopping, rate_mb_s):
        self.root = root
        self.driver = driver
        self.log = log
        self.stopping = stopping
        self.graph_dir = os.path.join(root, 'graph')
        self.image_root = os.path.join(root, 'image', driver)
        self.throttle = Throttle(rate_mb_s)
        self.hashed = 0
        self.reused = 0
        self.failed = 0
        self.bytes = 0

    def run(self):
        started = time.monotonic()
        images = load_graph(self.root)
        mapping_path = os.path.join(self.root, '.migration-v1-images.json')
        mapping = read_json(mapping_path, {}) or {}
        layers = {}   # v1 id -> (chain id, diff ids, image id)
        pending = [i for i in ordered_ids(images) if not self._migrated(mapping.get(i))]
        if pending:
            self.log.info('Migrating %d legacy images to the content-addressable store (stand-in)' % len(pending))
        for v1id in ordered_ids(images):
            if self.stopping.is_set():
                raise MigrationError('interrupted')
            image = images[v1id]
            parent = image['parent']
            if self._migrated(mapping.get(v1id)):
                layers[v1id] = self._known(mapping[v1id])
                if layers[v1id] is not None:
                    continue
            if parent and parent not in layers:
                self.log.error('migration failed for %s, err: parent %s was not migrated' % (v1id, parent))
                self.failed += 1
                continue
            try:
                parent_info = layers.get(parent) if parent else None
                diff_id, size, tardata = self.layer_checksum(v1id, parent)
                chain = chain_id(parent_info[0] if parent_info else None, diff_id)
                self.register_layer(chain, parent_info[0] if parent_info else None, diff_id, size, v1id, tardata)
                diff_ids = (parent_info[1] if parent_info else []) + [diff_id]
                image_id = self.register_image(image, diff_ids, parent_info[2] if parent_info else None)
            except (OSError, MigrationError, ValueError) as exc:
                if self.stopping.is_set():
                    raise MigrationError('interrupted')
                self.log.error('migration failed for %s, err: %s' % (v1id, exc))
                self.failed += 1
                continue
            layers[v1id] = (chain, diff_ids, image_id)
            mapping[v1id] = image_id
            write_atomic(mapping_path, go_json(mapping))
        self.migrate_tags(mapping)
        self.migrate_containers(mapping, layers)
        seconds = time.monotonic() - started
        self.log.info('migration: %d layers hashed, %d reused (%d bytes in %.2f s, %d failed)'
                      % (self.hashed, self.reused, self.bytes, seconds, self.failed))
        return mapping

    def _migrated(self, image_id):
        return bool(image_id) and os.path.exists(
            os.path.join(self.image_root, 'imagedb', 'content', 'sha256', hex_of(image_id)))

    def _known(self, image_id):
        config = read_json(os.path.join(self.image_root, 'imagedb', 'content', 'sha256', hex_of(image_id)))
        if not isinstance(config, dict):
            return None
        diff_ids = list(config.get('rootfs', {}).get('diff_ids') or [])
        chain = None
        for diff_id in diff_ids:
            chain = chain_id(chain, diff_id)
        return chain, diff_ids, image_id

    def layer_checksum(self, v1id, parent):
        directory = os.path.join(self.graph_dir, v1id)
        diffid_path = os.path.join(directory, '.migration-diffid')
        size_path = os.path.join(directory, '.migration-size')
        tardata_path = os.path.join(directory, '.migration-tardata')
        cached = read_text(diffid_path)
        size_text = (read_text(size_path, '') or '').strip()
        if cached is not None and DIGEST.match(cached) and size_text.isdigit():
            self.reused += 1
            self.log.debug('reusing checksum of layer %s: %s' % (v1id, cached))
            return cached, int(size_text), tardata_path if os.path.exists(tardata_path) else None
        if cached is not None:
            self.log.warn('ignoring invalid %s' % diffid_path)
            os.unlink(diffid_path)
        tree = layer_dir(self.root, self.driver, v1id)
        original = os.path.join(directory, TARSPLIT_FILE)
        diff_id = None
        if os.path.exists(original):
            try:
                diff_id, count = asm_digest(original, tree, self.throttle, self.stopping)
                size = tarsplit_size(original)
                if os.path.lexists(tardata_path):
                    os.unlink(tardata_path)
                os.link(original, tardata_path)
            except MigrationError as exc:
                if self.stopping.is_set():
                    raise
                self.log.debug('could not get checksum for %s with tar-split: %s' % (v1id, exc))
        if diff_id is None:
            parent_tree = layer_dir(self.root, self.driver, parent) if parent else None
            with tempfile.TemporaryDirectory(prefix='standin-regen-', dir=self.root) as tmp:
                tar_path = os.path.join(tmp, 'layer.tar')
                regenerate_tar(self.driver, tree, parent_tree, tar_path)
                diff_id, count = hash_file(tar_path, self.throttle)
                new_tardata = os.path.join(tmp, 'tar-data.json.gz')
                proc = subprocess.run(['tar-split', 'disasm', '--no-stdout', '--output', new_tardata, tar_path],
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
                if proc.returncode != 0:
                    raise MigrationError('tar-split disasm of the regenerated layer failed')
                size = tarsplit_size(new_tardata)
                shutil.copyfile(new_tardata, tardata_path)
                os.chmod(tardata_path, 0o600)
        self.hashed += 1
        self.bytes += count
        write_atomic(size_path, str(size))
        write_atomic(diffid_path, diff_id)
        self.log.info('calculated checksum for layer %s: %s' % (v1id, diff_id))
        return diff_id, size, tardata_path

    def register_layer(self, chain, parent_chain, diff_id, size, v1id, tardata):
        directory = os.path.join(self.image_root, 'layerdb', 'sha256', hex_of(chain))
        if os.path.exists(os.path.join(directory, 'diff')):
            return
        os.makedirs(directory, exist_ok=True)
        if tardata and os.path.exists(tardata):
            shutil.copyfile(tardata, os.path.join(directory, 'tar-split.json.gz'))
        write_atomic(os.path.join(directory, 'size'), str(size))
        write_atomic(os.path.join(directory, 'cache-id'), v1id)
        if parent_chain:
            write_atomic(os.path.join(directory, 'parent'), parent_chain)
        write_atomic(os.path.join(directory, 'diff'), diff_id)

    def register_image(self, image, diff_ids, parent_image):
        raw = read_text(os.path.join(self.graph_dir, image['id'], 'json'), '') or ''
        parent_history = []
        if parent_image:
            parent_config = read_json(os.path.join(self.image_root, 'imagedb', 'content', 'sha256',
                                                   hex_of(parent_image)), {}) or {}
            parent_history = list(parent_config.get('history') or [])
        if version_tuple(image['config'].get('docker_version')) < (1, 8, 3):
            self.log.warn('image %s was made by Docker %s: the stand-in skips the V1Image re-encoding Docker does '
                          'below 1.8.3, so its image id differs from Docker\'s' % (
                              image['id'], image['config'].get('docker_version')))
        data = make_image_config(raw, diff_ids, parent_history + [history_entry(image['config'])])
        image_id = 'sha256:' + sha256_hex(data)
        content = os.path.join(self.image_root, 'imagedb', 'content', 'sha256', hex_of(image_id))
        if not os.path.exists(content):
            write_atomic(content, data)
        if parent_image:
            write_atomic(os.path.join(self.image_root, 'imagedb', 'metadata', 'sha256', hex_of(image_id),
                                      'parent'), parent_image)
        return image_id

    def migrate_tags(self, mapping):
        marker = os.path.join(self.root, '.migration-v1-tags')
        if os.path.exists(marker):
            return
        legacy = read_json(os.path.join(self.root, 'repositories-%s' % self.driver), {}) or {}
        path = os.path.join(self.image_root, 'repositories.json')
        current = read_json(path, {}) or {}
        repos = current.setdefault('Repositories', {})
        for repo, tags in sorted((legacy.get('Repositories') or {}).items()):
            for tag, v1id in sorted(tags.items()):
                if v1id not in mapping:
                    self.log.error('migration failed for tag %s:%s, err: image %s was not migrated' % (repo, tag, v1id))
                    continue
                ref = '%s@%s' % (repo, tag) if tag.startswith('sha256:') else '%s:%s' % (repo, tag)
                repos.setdefault(repo, {})[ref] = mapping[v1id]
        write_atomic(path, go_json(current))
        write_atomic(marker, '')

    def migrate_containers(self, mapping, layers):
        containers_dir = os.path.join(self.root, 'containers')
        try:
            names = sorted(os.listdir(containers_dir))
        except OSError:
            return
        for cid in names:
            directory = os.path.join(containers_dir, cid)
            if os.path.exists(os.path.join(directory, 'config.v2.json')):
                continue
            config = read_json(os.path.join(directory, 'config.json'))
            if not isinstance(config, dict):
                continue
            image = config.get('Image')
            if image not in mapping:
                self.log.error('migration failed for container %s, err: image %s was not migrated' % (cid, image))
                continue
            config['Image'] = mapping[image]
            mounts = os.path.join(self.image_root, 'layerdb', 'mounts', cid)
            os.makedirs(mounts, exist_ok=True)
            write_atomic(os.path.join(mounts, 'mount-id'), cid)
            write_atomic(os.path.join(mounts, 'init-id'), cid + '-init')
            if layers.get(image):
                write_atomic(os.path.join(mounts, 'parent'), layers[image][0])
            write_atomic(os.path.join(directory, 'config.v2.json'), go_json(config))


# --------------------------------------------------------------------------------------------------
# Image configs as Docker 1.10's migrate/v1 writes them (imagev1.MakeConfigFromV1Config, for images
# made by Docker >= 1.8.3): the v1 json's top-level members kept as raw JSON, minus id, parent, Size,
# parent_id, layer_id and throwaway, plus rootfs and history; keys sorted, values compacted with
# Go's HTML escaping. Written for the stand-in from Docker's rules, not taken from the collection.

_GO_ESCAPES = {'<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029'}
_DROPPED = ('id', 'parent', 'Size', 'parent_id', 'layer_id', 'throwaway')


def go_compact(raw):
    """encoding/json compact(dst, src, escape=true): no insignificant space, <, >, &, U+2028 and
    U+2029 escaped inside strings."""
    out = []
    in_string = False
    escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
                out.append(char)
            elif char == '\\':
                escaped = True
                out.append(char)
            elif char == '"':
                in_string = False
                out.append(char)
            else:
                out.append(_GO_ESCAPES.get(char, char))
        elif char == '"':
            in_string = True
            out.append(char)
        elif char not in ' \t\r\n':
            out.append(char)
    return ''.join(out)


def go_string(value):
    """A Go encoding/json string (HTML characters escaped)."""
    return go_compact(json.dumps(value, ensure_ascii=False))


def raw_members(text):
    """{key: raw JSON text} of the top-level object in text (json.Unmarshal into map[string]*json.RawMessage)."""
    decoder = json.JSONDecoder()
    members = {}
    index = len(text) - len(text.lstrip())
    if text[index:index + 1] != '{':
        raise ValueError('the v1 json is not an object')
    index += 1
    while True:
        while text[index] in ' \t\r\n,':
            index += 1
        if text[index] == '}':
            return members
        key, index = json.decoder.scanstring(text, index + 1)
        while text[index] in ' \t\r\n:':
            index += 1
        _value, end = decoder.raw_decode(text, index)
        members[key] = text[index:end]
        index = end


def go_time(text):
    """A timestamp as Go's time.Time marshals it after parsing it (RFC 3339, fraction without trailing zeros)."""
    match = re.match(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$', text or '')
    if not match:
        return '0001-01-01T00:00:00Z'
    fraction = (match.group(2) or '')[:9].rstrip('0')
    zone = 'Z' if match.group(3) in ('Z', '+00:00') else match.group(3)
    return match.group(1) + ('.' + fraction if fraction else '') + zone


def history_entry(config):
    """imagev1.HistoryFromConfig(json, false) as a dict of the fields Docker writes."""
    container_config = config.get('container_config') or {}
    cmd = container_config.get('Cmd')
    if isinstance(cmd, str):
        cmd = [cmd]
    return {'created': go_time(config.get('created')), 'author': config.get('author') or '',
            'created_by': ' '.join(cmd or []), 'comment': config.get('comment') or ''}


def history_json(entry):
    """One image.History in Go's field order, omitempty where Docker has it."""
    parts = ['"created":' + go_string(go_time(entry.get('created')))]
    for key in ('author', 'created_by', 'comment'):
        if entry.get(key):
            parts.append('"%s":%s' % (key, go_string(entry[key])))
    if entry.get('empty_layer'):
        parts.append('"empty_layer":true')
    return '{' + ','.join(parts) + '}'


def make_image_config(raw_v1_json, diff_ids, history):
    members = raw_members(raw_v1_json)
    for key in _DROPPED:
        members.pop(key, None)
    members['rootfs'] = '{"type":"layers","diff_ids":[%s]}' % ','.join(go_string(d) for d in diff_ids)
    members['history'] = '[' + ','.join(history_json(entry) for entry in history) + ']'
    return ('{' + ','.join('%s:%s' % (go_string(key), go_compact(members[key])) for key in sorted(members))
            + '}').encode('utf-8')


def version_tuple(text):
    parts = []
    for part in str(text or '').split('.'):
        parts.append(int(part) if part.isdigit() else 0)
    return tuple(parts)


# --------------------------------------------------------------------------------------------------
# The daemon's view of images and containers


class ImageStore(object):
    """Images as the running version shows them: v1 ids (1.9.1) or sha256 ids (1.10.3)."""

    def __init__(self, root, driver, version):
        self.root = root
        self.driver = driver
        self.version = version
        self.images = {}  # id -> {'id', 'parent', 'created', 'size', 'config'}
        self.tags = {}    # 'repo:tag' -> id
        self.load()

    def load(self):
        if self.version == '1.9.1':
            for v1id, image in load_graph(self.root).items():
                self.images[v1id] = {'id': v1id, 'parent': image['parent'] or '', 'size': image['size'],
                                     'created': parse_time(image['config'].get('created')), 'config': image['config']}
            repos = read_json(os.path.join(self.root, 'repositories-%s' % self.driver), {}) or {}
            for repo, tags in (repos.get('Repositories') or {}).items():
                for tag, v1id in tags.items():
                    if v1id in self.images and not tag.startswith('sha256:'):
                        self.tags['%s:%s' % (repo, tag)] = v1id
            return
        image_root = os.path.join(self.root, 'image', self.driver)
        content = os.path.join(image_root, 'imagedb', 'content', 'sha256')
        sizes = {}
        try:
            names = sorted(os.listdir(content))
        except OSError:
            names = []
        for name in names:
            config = read_json(os.path.join(content, name))
            if not isinstance(config, dict):
                continue
            image_id = 'sha256:' + name
            parent = (read_text(os.path.join(image_root, 'imagedb', 'metadata', 'sha256', name, 'parent'), '') or '').strip()
            diff_ids = (config.get('rootfs') or {}).get('diff_ids') or []
            chain = None
            for diff_id in diff_ids:
                chain = chain_id(chain, diff_id)
            if chain and chain not in sizes:
                sizes[chain] = int((read_text(os.path.join(image_root, 'layerdb', 'sha256', hex_of(chain), 'size'),
                                              '0') or '0').strip() or 0)
            self.images[image_id] = {'id': image_id, 'parent': parent, 'size': sizes.get(chain, 0),
                                     'created': parse_time(config.get('created')), 'config': config}
        repos = read_json(os.path.join(image_root, 'repositories.json'), {}) or {}
        for _repo, refs in (repos.get('Repositories') or {}).items():
            for ref, image_id in refs.items():
                if image_id in self.images and '@' not in ref:
                    self.tags[ref] = image_id

    def virtual_size(self, image_id):
        total = 0
        seen = set()
        while image_id in self.images and image_id not in seen:
            seen.add(image_id)
            total += self.images[image_id]['size']
            image_id = self.images[image_id]['parent']
        return total

    def tags_of(self, image_id):
        return sorted(ref for ref, target in self.tags.items() if target == image_id)

    def summary(self, image_id):
        image = self.images[image_id]
        tags = self.tags_of(image_id)
        return {'Id': image_id, 'ParentId': image['parent'], 'RepoTags': tags or ['<none>:<none>'],
                'RepoDigests': [], 'Created': image['created'], 'Size': image['size'],
                'VirtualSize': self.virtual_size(image_id), 'Labels': {}}

    def listing(self, show_all):
        parents = set(image['parent'] for image in self.images.values() if image['parent'])
        shown = [i for i in self.images if self.tags_of(i) or show_all or i not in parents]
        rows = [self.summary(i) for i in shown]
        rows.sort(key=lambda row: (-row['Created'], row['Id']))
        return rows

    def resolve(self, name):
        if name in self.images:
            return name
        if name in self.tags:
            return self.tags[name]
        repo, tag = split_ref(name)
        if '%s:%s' % (repo, tag) in self.tags:
            return self.tags['%s:%s' % (repo, tag)]
        bare = hex_of(name) if name.startswith('sha256:') else name
        matches = [i for i in self.images if hex_of(i).startswith(bare)] if len(bare) >= 3 else []
        return matches[0] if len(matches) == 1 else None

    def inspect(self, image_id):
        image = self.images[image_id]
        config = image['config']
        result = {
            'Id': image_id, 'Parent': image['parent'], 'RepoTags': self.tags_of(image_id), 'RepoDigests': [],
            'Comment': config.get('comment', ''), 'Created': config.get('created', ''),
            'Container': config.get('container', ''), 'ContainerConfig': config.get('container_config') or {},
            'DockerVersion': config.get('docker_version', ''), 'Author': config.get('author', ''),
            'Config': config.get('config') or {}, 'Architecture': config.get('architecture', 'amd64'),
            'Os': config.get('os', 'linux'), 'Size': image['size'], 'VirtualSize': self.virtual_size(image_id),
            'GraphDriver': {'Name': self.driver, 'Data': None},
        }
        if 'rootfs' in config:
            result['RootFS'] = {'Type': 'layers', 'Layers': config['rootfs'].get('diff_ids') or []}
        return result


class Container(object):
    def __init__(self, directory, state_file, config, host_config):
        self.directory = directory
        self.state_file = state_file
        self.config = config
        self.host_config = host_config
        self.process = None
        self.stopping = False

    @property
    def id(self):
        return self.config.get('ID') or os.path.basename(self.directory)

    @property
    def name(self):
        return self.config.get('Name') or '/' + self.id[:12]

    @property
    def state(self):
        return self.config.setdefault('State', {})

    @property
    def running(self):
        return bool(self.state.get('Running'))

    @property
    def restart_policy(self):
        return ((self.host_config or {}).get('RestartPolicy') or {}).get('Name') or 'no'

    def save(self):
        write_atomic(os.path.join(self.directory, self.state_file), go_json(self.config))


class Daemon(object):
    def __init__(self, version, root, driver, socket_path, pidfile, log):
        self.version = version
        self.api_version = VERSIONS[version]['api']
        self.root = root
        self.driver = driver
        self.socket_path = socket_path
        self.pidfile = pidfile
        self.log = log
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.images = None
        self.containers = {}
        self.server = None
        self.started = time.time()

    # ---- lifecycle

    def write_pidfile(self):
        old = (read_text(self.pidfile, '') or '').strip()
        if old.isdigit() and int(old) != os.getpid() and os.path.exists('/proc/%s' % old):
            cmdline = (read_text('/proc/%s/cmdline' % old, '') or '').replace('\0', ' ')
            if 'daemon' in cmdline:
                self.log.fatal('pid file found, ensure docker is not running or delete %s' % self.pidfile)
                sys.exit(1)
        write_atomic(self.pidfile, str(os.getpid()), 0o644)

    def run(self):
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        self.write_pidfile()
        try:
            self.log.info('[graphdriver] using prior storage driver "%s"' % self.driver)
            if self.version == '1.10.3':
                if os.path.exists(FAULT_SWITCH):
                    reason = (read_text(FAULT_SWITCH, '') or '').strip() or 'the fault switch %s is on' % FAULT_SWITCH
                    self.log.error('migration failed: %s (stand-in fault switch)' % reason)
                    self.log.fatal('Error starting daemon: migration failed: %s' % reason)
                    return 1
                rate = read_config().get('hash_rate_mb_s', '0')
                try:
                    Migrator(self.root, self.driver, self.log, self.stopping, float(rate)).run()
                except MigrationError as exc:
                    if self.stopping.is_set():
                        self.log.info('migration interrupted by a signal; it resumes at the next start')
                        return 143
                    self.log.fatal('Error starting daemon: migration failed: %s' % exc)
                    return 1
            self.images = ImageStore(self.root, self.driver, self.version)
            self.load_containers()
            self.restore_containers()
            self.serve()
            self.log.info('Daemon has completed initialization')
            self.log.info('Docker daemon', commit=VERSIONS[self.version]['commit'], execdriver='standin-0.1',
                          graphdriver=self.driver, version=self.version)
            while not self.stopping.wait(0.5):
                pass
            self.shutdown()
            return 0
        finally:
            if (read_text(self.pidfile, '') or '').strip() == str(os.getpid()):
                os.unlink(self.pidfile)

    def on_signal(self, signum, _frame):
        self.log.info("Processing signal '%s'" % ('terminated' if signum == signal.SIGTERM else 'interrupt'))
        self.stopping.set()

    def serve(self):
        if os.path.lexists(self.socket_path):
            os.unlink(self.socket_path)
        server = UnixHTTPServer(self.socket_path, Handler)
        server.daemon = self
        os.chmod(self.socket_path, 0o660)
        self.server = server
        thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True)
        thread.start()
        self.log.info('API listen on %s' % self.socket_path)

    def shutdown(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            if os.path.lexists(self.socket_path):
                os.unlink(self.socket_path)
        with self.lock:
            running = [c for c in self.containers.values() if c.running]
        for container in running:
            self.stop_container(container, manual=False)
        self.log.info('stopped %d containers; stand-in daemon exits' % len(running))

    # ---- containers

    def load_containers(self):
        state_file = 'config.json' if self.version == '1.9.1' else 'config.v2.json'
        directory = os.path.join(self.root, 'containers')
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            names = []
        for cid in names:
            path = os.path.join(directory, cid)
            config = read_json(os.path.join(path, state_file))
            if not isinstance(config, dict):
                continue
            host_config = read_json(os.path.join(path, 'hostconfig.json'), {}) or {}
            self.containers[cid] = Container(path, state_file, config, host_config)

    def restore_containers(self):
        """What Docker does at start: nothing survived the old daemon; restart policy 'always'
        restarts a container unless it was stopped by hand."""
        for container in self.containers.values():
            if container.running:
                pid = container.state.get('Pid') or 0
                cmdline = read_text('/proc/%d/cmdline' % pid, '') if pid else ''
                if cmdline and cmdline.startswith(CONTAINER_PREFIX):
                    os.kill(pid, signal.SIGKILL)
                container.state.update({'Running': False, 'Pid': 0, 'ExitCode': 128, 'FinishedAt': now_text()})
                container.save()
        for container in sorted(self.containers.values(), key=lambda c: c.name):
            if container.restart_policy == 'always' and not container.config.get('HasBeenManuallyStopped'):
                self.start_container(container)
                self.log.info('restarted container %s (restart policy always)' % container.name)

    def start_container(self, container):
        with self.lock:
            if container.running:
                return False
            process = subprocess.Popen([CONTAINER_PREFIX + container.name.lstrip('/'), 'infinity'],
                                       executable='/bin/sleep', stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            container.process = process
            container.stopping = False
            container.state.update({'Running': True, 'Paused': False, 'Restarting': False, 'OOMKilled': False,
                                    'Dead': False, 'Pid': process.pid, 'ExitCode': 0, 'Error': '',
                                    'StartedAt': now_text(), 'FinishedAt': ZERO_TIME})
            if self.version != '1.9.1':
                container.state['Status'] = 'running'
            container.config['HasBeenStartedBefore'] = True
            container.config['HasBeenManuallyStopped'] = False
            container.save()
        threading.Thread(target=self.watch, args=(container, process), daemon=True).start()
        return True

    def watch(self, container, process):
        code = process.wait()
        with self.lock:
            if container.process is not process:
                return
            container.process = None
            container.state.update({'Running': False, 'Pid': 0, 'ExitCode': code if code >= 0 else 128 - code,
                                    'FinishedAt': now_text()})
            if self.version != '1.9.1':
                container.state['Status'] = 'exited'
            container.save()

    def stop_container(self, container, manual=True):
        with self.lock:
            if not container.running:
                return False
            process = container.process
            container.config['HasBeenManuallyStopped'] = manual
            container.save()
        if process is not None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            # watch() records the exit
            for _attempt in range(50):
                if not container.running:
                    break
                time.sleep(0.02)
        with self.lock:
            if container.running:
                container.state.update({'Running': False, 'Pid': 0, 'FinishedAt': now_text()})
                container.save()
        return True

    def find_container(self, name):
        name = urllib.parse.unquote(name)
        with self.lock:
            if name in self.containers:
                return self.containers[name]
            for container in self.containers.values():
                if container.name == '/' + name.lstrip('/'):
                    return container
            matches = [c for cid, c in self.containers.items() if cid.startswith(name)] if len(name) >= 3 else []
            return matches[0] if len(matches) == 1 else None

    def container_image(self, container):
        return container.config.get('Image') or ''

    def status_text(self, container):
        state = container.state
        if state.get('Running'):
            return 'Up %s' % human_duration(time.time() - parse_time(state.get('StartedAt')))
        if not parse_time(state.get('FinishedAt')) and not container.config.get('HasBeenStartedBefore'):
            return 'Created'
        return 'Exited (%d) %s ago' % (state.get('ExitCode') or 0,
                                       human_duration(time.time() - parse_time(state.get('FinishedAt'))))

    def container_summary(self, container):
        config = container.config.get('Config') or {}
        return {
            'Id': container.id, 'Names': [container.name], 'Image': config.get('Image') or self.container_image(container),
            'ImageID': self.container_image(container),
            'Command': ' '.join([container.config.get('Path', '')] + list(container.config.get('Args') or [])).strip(),
            'Created': parse_time(container.config.get('Created')), 'Ports': [], 'Labels': config.get('Labels') or {},
            'Status': self.status_text(container), 'HostConfig': {'NetworkMode': 'default'},
        }

    def container_inspect(self, container):
        result = dict((key, value) for key, value in container.config.items()
                      if key not in ('HasBeenManuallyStopped', 'HasBeenStartedBefore', 'MountPoints', 'ID'))
        result['Id'] = container.id
        result['Name'] = container.name
        result['Image'] = self.container_image(container)
        result['State'] = dict(container.state)
        if self.version != '1.9.1':
            result['State'].setdefault('Status', 'running' if container.running else 'exited')
        result['HostConfig'] = container.host_config
        result['GraphDriver'] = {'Name': self.driver, 'Data': None}
        result['Mounts'] = []
        return result

    # ---- info

    def version_info(self):
        info = VERSIONS[self.version]
        return {'Version': self.version, 'ApiVersion': self.api_version, 'GitCommit': info['commit'],
                'GoVersion': info['go'], 'Os': 'linux', 'Arch': 'amd64', 'KernelVersion': os.uname().release,
                'BuildTime': info['built'], 'Experimental': False,
                'StandIn': 'fleetops test stand-in, not Docker'}

    def info(self):
        with self.lock:
            containers = list(self.containers.values())
        running = sum(1 for c in containers if c.running)
        result = {
            'ID': 'STAN:DIN0:%s' % socket.gethostname().upper()[:8], 'Containers': len(containers),
            'Images': len(self.images.images), 'Driver': self.driver,
            'DriverStatus': [['Root Dir', os.path.join(self.root, self.driver)],
                             ['Backing Filesystem', 'extfs']],
            'DockerRootDir': self.root, 'ExecutionDriver': 'standin-0.1', 'LoggingDriver': 'json-file',
            'KernelVersion': os.uname().release, 'OperatingSystem': 'Debian GNU/Linux 12 (bookworm)', 'OSType': 'linux',
            'Architecture': 'x86_64', 'Name': socket.gethostname(), 'NCPU': os.cpu_count() or 1, 'MemTotal': 0,
            'Debug': self.log.debug_enabled, 'IndexServerAddress': 'https://index.docker.io/v1/', 'Labels': None,
        }
        if self.version != '1.9.1':
            result.update({'ContainersRunning': running, 'ContainersPaused': 0,
                           'ContainersStopped': len(containers) - running, 'ServerVersion': self.version})
        return result


# --------------------------------------------------------------------------------------------------
# HTTP over the unix socket


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    daemon = None


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def version_string(self):
        return 'Docker/%s (linux)' % self.server.daemon.version

    def address_string(self):
        return 'unix'

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        self.server.daemon.log.debug(format % args)

    def do_GET(self):
        self.route('GET')

    def do_HEAD(self):
        self.route('HEAD')

    def do_POST(self):
        self.route('POST')

    def do_DELETE(self):
        self.route('DELETE')

    def send(self, code, body=None, content_type='application/json'):
        if body is None:
            data = b''
        elif isinstance(body, (dict, list)):
            data = (json.dumps(body) + '\n').encode('utf-8')
        else:
            data = body.encode('utf-8') if isinstance(body, str) else body
            content_type = 'text/plain; charset=utf-8'
        self.send_response(code)
        if data or code not in (204, 304):
            self.send_header('Content-Type', content_type)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('Connection', 'close')
        self.end_headers()
        if data and self.command != 'HEAD':
            self.wfile.write(data)
        self.close_connection = True

    def route(self, method):
        daemon = self.server.daemon
        length = int(self.headers.get('Content-Length') or 0)
        if length:
            self.rfile.read(length)
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parsed.query)
        path = parsed.path
        match = re.match(r'^/v(\d+)\.(\d+)(/.*)$', path)
        if match:
            path = match.group(3)
            wanted = (int(match.group(1)), int(match.group(2)))
            have = tuple(int(p) for p in daemon.api_version.split('.'))
            if wanted > have:
                self.send(400, 'client is newer than server (client API version: %d.%d, server API version: %s)'
                          % (wanted[0], wanted[1], daemon.api_version))
                return
        daemon.log.debug('Calling %s %s' % (method, self.path))

        def flag(name):
            return (query.get(name) or ['0'])[0].lower() in ('1', 'true', 'yes')

        if method in ('GET', 'HEAD'):
            if path == '/_ping':
                return self.send(200, 'OK')
            if path == '/version':
                return self.send(200, daemon.version_info())
            if path == '/info':
                return self.send(200, daemon.info())
            if path == '/images/json':
                return self.send(200, daemon.images.listing(flag('all')))
            match = re.match(r'^/images/(.+)/json$', path)
            if match:
                image_id = daemon.images.resolve(urllib.parse.unquote(match.group(1)))
                if image_id is None:
                    return self.send(404, 'No such image: %s' % match.group(1))
                return self.send(200, daemon.images.inspect(image_id))
            if path == '/containers/json':
                with daemon.lock:
                    containers = [c for c in daemon.containers.values() if flag('all') or c.running]
                    rows = [daemon.container_summary(c) for c in containers]
                rows.sort(key=lambda row: (-row['Created'], row['Id']))
                return self.send(200, rows)
            match = re.match(r'^/containers/([^/]+)/json$', path)
            if match:
                container = daemon.find_container(match.group(1))
                if container is None:
                    return self.send(404, 'No such container: %s' % match.group(1))
                with daemon.lock:
                    return self.send(200, daemon.container_inspect(container))
        if method == 'POST':
            match = re.match(r'^/containers/([^/]+)/(start|stop|restart)$', path)
            if match:
                container = daemon.find_container(match.group(1))
                if container is None:
                    return self.send(404, 'No such container: %s' % match.group(1))
                action = match.group(2)
                if action == 'start':
                    changed = daemon.start_container(container)
                    daemon.log.info('container %s: start%s' % (container.name, '' if changed else ' (already running)'))
                    return self.send(204 if changed else 304)
                if action == 'stop':
                    changed = daemon.stop_container(container)
                    return self.send(204 if changed else 304)
                daemon.stop_container(container)
                daemon.start_container(container)
                return self.send(204)
        return self.send(404, '404 page not found')


# --------------------------------------------------------------------------------------------------
# Command line


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__('localhost', timeout=timeout)
        self.socket_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def api(socket_path, method, path, api_version):
    connection = UnixHTTPConnection(socket_path)
    try:
        connection.request(method, '/v%s%s' % (api_version, path))
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    if response.status >= 400:
        raise SystemExit('Error response from daemon: %s' % data.decode('utf-8', 'replace').strip())
    if response.getheader('Content-Type', '').startswith('application/json') and data:
        return response.status, json.loads(data)
    return response.status, data.decode('utf-8', 'replace')


def parse_daemon_args(args):
    options = {'root': DEFAULT_ROOT, 'pidfile': DEFAULT_PIDFILE, 'driver': None, 'debug': False,
               'socket': DEFAULT_SOCKET, 'ignored': []}
    with_value = {'-g': 'root', '--graph': 'root', '-p': 'pidfile', '--pidfile': 'pidfile',
                  '-s': 'driver', '--storage-driver': 'driver', '-H': 'host', '--host': 'host'}
    index = 0
    while index < len(args):
        arg = args[index]
        name, eq, value = arg.partition('=')
        if name in with_value:
            if not eq:
                index += 1
                value = args[index] if index < len(args) else ''
            key = with_value[name]
            if key == 'host':
                if value.startswith('unix://'):
                    options['socket'] = value[len('unix://'):]
                else:
                    options['ignored'].append(arg)
            else:
                options[key] = value
        elif arg in ('-D', '--debug', '--debug=true'):
            options['debug'] = True
        else:
            options['ignored'].append(arg)
        index += 1
    return options


def daemon_main(version, args):
    options = parse_daemon_args(args)
    log = Log(options['debug'])
    for arg in options['ignored']:
        log.warn('stand-in daemon: option %s ignored' % arg)
    if os.geteuid() != 0:
        log.fatal('docker daemon needs to be run as root')
        return 1
    root = os.path.abspath(options['root'])
    os.makedirs(root, mode=0o700, exist_ok=True)
    try:
        driver = detect_driver(root, options['driver'])
    except SystemExit as exc:
        log.fatal('Error starting daemon: error initializing graphdriver: %s' % exc)
        return 1
    log.info('stand-in docker daemon %s starting (fleetops tests; not Docker)' % version, root=root)
    return Daemon(version, root, driver, options['socket'], options['pidfile'], log).run()


def print_table(rows):
    if not rows:
        return
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print('   '.join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip())


def print_listing(items, quiet, full, header, rows_of):
    """`docker images` / `docker ps`: the ids alone with -q, else a table of rows_of(item) rows."""
    if quiet:
        for item in items:
            print(short_id(item['Id'], full))
        return 0
    print_table([header] + [row for item in items for row in rows_of(item)])
    return 0


def short_id(value, full):
    value = hex_of(value)
    return value if full else value[:12]


def ago(seconds):
    return human_duration(time.time() - seconds) + ' ago'


def client_main(version, argv):
    socket_path = DEFAULT_SOCKET
    args = list(argv)
    while args and args[0] in ('-H', '--host') or (args and args[0].startswith(('-H=', '--host='))):
        value = args[0].split('=', 1)[1] if '=' in args[0] else args[1]
        args = args[1:] if '=' in args[0] else args[2:]
        socket_path = value[len('unix://'):] if value.startswith('unix://') else value
    api_version = VERSIONS[version]['api']
    if not args or args[0] in ('-h', '--help', 'help'):
        print('Usage: docker [OPTIONS] COMMAND [arg...]\n\nStand-in Docker %s client (fleetops tests, not Docker).\n\n'
              'Commands:\n    daemon    Run the stand-in daemon\n    images    List images\n    info      Display '
              'system-wide information\n    inspect   Return low-level information on a container or image\n    ps        '
              'List containers\n    restart   Restart a container\n    start     Start one or more stopped containers\n'
              '    stop      Stop a running container\n    version   Show the Docker version information' % version)
        return 0
    if args[0] in ('-v', '--version'):
        print('Docker version %s, build %s (stand-in, not Docker)' % (version, VERSIONS[version]['commit']))
        return 0
    command, rest = args[0], args[1:]
    if command == 'daemon':
        return daemon_main(version, rest)
    flags = set(a for a in rest if a.startswith('-'))
    names = [a for a in rest if not a.startswith('-')]
    full = '--no-trunc' in flags
    quiet = '-q' in flags or '--quiet' in flags
    show_all = bool(flags & {'-a', '--all', '-aq', '-qa'})
    quiet = quiet or bool(flags & {'-aq', '-qa'})
    try:
        if command == 'version':
            info = VERSIONS[version]
            print('Client:\n Version:      %s\n API version:  %s\n Go version:   %s\n Git commit:   %s\n Built:        %s\n'
                  ' OS/Arch:      linux/amd64' % (version, info['api'], info['go'], info['commit'], info['built']))
            _status, server = api(socket_path, 'GET', '/version', api_version)
            fields = (server['Version'], server['ApiVersion'], server.get('GoVersion', ''), server.get('GitCommit', ''),
                      server.get('BuildTime', ''), server['Os'], server['Arch'])
            print('\nServer:\n Version:      %s\n API version:  %s\n Go version:   %s\n Git commit:   %s\n Built:        %s\n'
                  ' OS/Arch:      %s/%s' % fields)
            return 0
        if command == 'info':
            _status, info = api(socket_path, 'GET', '/info', api_version)
            print('Containers: %d\nImages: %d\nServer Version: %s\nStorage Driver: %s\n Root Dir: %s\n'
                  'Execution Driver: %s\nName: %s\nDocker Root Dir: %s\nStand-in: fleetops tests, not Docker'
                  % (info['Containers'], info['Images'], info.get('ServerVersion', version), info['Driver'],
                     info['DriverStatus'][0][1], info.get('ExecutionDriver', ''), info['Name'], info['DockerRootDir']))
            return 0
        if command == 'images':
            def image_rows(image):
                for ref in image['RepoTags']:
                    repo, tag = ref.rsplit(':', 1)
                    yield (repo, tag, short_id(image['Id'], full), ago(image['Created']),
                           '%.1f MB' % (image['VirtualSize'] / 1e6))
            header = ('REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'VIRTUAL SIZE' if version == '1.9.1' else 'SIZE')
            return print_listing(api(socket_path, 'GET', '/images/json' + ('?all=1' if show_all else ''), api_version)[1],
                                 quiet, full, header, image_rows)
        if command == 'ps':
            def container_rows(container):
                command_text = container['Command'] if full else '"%s"' % container['Command'][:20]
                yield (short_id(container['Id'], full), container['Image'], command_text, ago(container['Created']),
                       container['Status'], '', ','.join(n.lstrip('/') for n in container['Names']))
            header = ('CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES')
            return print_listing(api(socket_path, 'GET', '/containers/json' + ('?all=1' if show_all else ''), api_version)[1],
                                 quiet, full, header, container_rows)
        if command == 'inspect':
            results = []
            for name in names:
                connection = UnixHTTPConnection(socket_path)
                found = None
                for path in ('/containers/%s/json', '/images/%s/json'):
                    connection = UnixHTTPConnection(socket_path)
                    connection.request('GET', '/v%s%s' % (api_version, path % urllib.parse.quote(name, safe='')))
                    response = connection.getresponse()
                    data = response.read()
                    connection.close()
                    if response.status == 200:
                        found = json.loads(data)
                        break
                if found is None:
                    sys.stderr.write('Error: No such image or container: %s\n' % name)
                    print(json.dumps(results, indent=4))
                    return 1
                results.append(found)
            print(json.dumps(results, indent=4))
            return 0
        if command in ('start', 'stop', 'restart'):
            if not names:
                sys.stderr.write('docker: "%s" requires a minimum of 1 argument.\n' % command)
                return 1
            for name in names:
                api(socket_path, 'POST', '/containers/%s/%s' % (urllib.parse.quote(name, safe=''), command), api_version)
                print(name)
            return 0
    except (OSError, http.client.HTTPException) as exc:
        sys.stderr.write('Cannot connect to the Docker daemon. Is the docker daemon running on this host? (%s)\n' % exc)
        return 1
    sys.stderr.write("docker: '%s' is not a docker command (stand-in: version, info, images, ps, inspect, start, "
                     'stop, restart, daemon).\n' % command)
    return 1


def main(version, argv=None):
    if version not in VERSIONS:
        raise SystemExit('unknown stand-in version %s' % version)
    return client_main(version, sys.argv[1:] if argv is None else argv)
