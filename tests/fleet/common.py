"""Paths, logging and small helpers shared by the fleet builders (controller side, Python 3.9+)."""

import contextlib
import fcntl
import hashlib
import json
import os
import re
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLEET_SRC = os.path.join(TOP, 'tests', 'fleet')
DEFAULT_MIRROR = 'http://deb.debian.org/debian'
SUITE = 'bookworm'


def cache_dir():
    """Where built artifacts live: $FLEET_CACHE_DIR, else <checkout>/.cache/fleet."""
    path = os.environ.get('FLEET_CACHE_DIR') or os.path.join(TOP, '.cache', 'fleet')
    os.makedirs(path, exist_ok=True)
    return path


_START = time.monotonic()


def log(message, *args):
    """Progress on stderr (stdout is kept for machine-readable output)."""
    if args:
        message = message % args
    sys.stderr.write('fleet [%6.1fs] %s\n' % (time.monotonic() - _START, message))
    sys.stderr.flush()


class FleetError(Exception):
    """The fleet cannot be built, started or stopped as asked."""


def run(cmd, check=True, quiet=False, **kwargs):
    """subprocess.run with captured output; raises FleetError with the output on failure."""
    kwargs.setdefault('stdout', subprocess.PIPE)
    kwargs.setdefault('stderr', subprocess.STDOUT)
    proc = subprocess.run(cmd, check=False, **kwargs)
    if check and proc.returncode != 0:
        output = proc.stdout.decode('utf-8', 'replace') if isinstance(proc.stdout, bytes) else (proc.stdout or '')
        raise FleetError('%s exited %d:\n%s' % (' '.join(str(c) for c in cmd), proc.returncode, output[-4000:]))
    if not quiet and proc.stdout and os.environ.get('FLEET_VERBOSE'):
        sys.stderr.write(proc.stdout.decode('utf-8', 'replace') if isinstance(proc.stdout, bytes) else proc.stdout)
    return proc


def digest_of(*parts):
    """Short stable hash of JSON-able parts and of the bytes of files named as ('file', path)."""
    sha = hashlib.sha256()
    for part in parts:
        if isinstance(part, tuple) and len(part) == 2 and part[0] == 'file':
            with open(part[1], 'rb') as stream:
                sha.update(stream.read())
        else:
            sha.update(json.dumps(part, sort_keys=True).encode('utf-8'))
        sha.update(b'\0')
    return sha.hexdigest()[:12]


def source_files(directory):
    """Every file under a source directory (sorted, no caches), for cache keys."""
    found = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d != '__pycache__')
        found.extend(os.path.join(dirpath, name) for name in sorted(filenames) if not name.endswith('.pyc'))
    return found


@contextlib.contextmanager
def locked(name):
    """An exclusive lock file in the cache dir, so two builders never write the same artifact."""
    path = os.path.join(cache_dir(), '.lock-' + name)
    with open(path, 'w') as stream:
        fcntl.flock(stream, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(stream, fcntl.LOCK_UN)


def debian_mirror():
    """$FLEET_DEBIAN_MIRROR, else the first http(s) Debian URI of this machine's apt sources."""
    if os.environ.get('FLEET_DEBIAN_MIRROR'):
        return os.environ['FLEET_DEBIAN_MIRROR']
    candidates = []
    for directory, names in (('/etc/apt', ['sources.list']), ('/etc/apt/sources.list.d', None)):
        try:
            names = names or sorted(os.listdir(directory))
        except OSError:
            continue
        for name in names:
            try:
                with open(os.path.join(directory, name), encoding='utf-8', errors='replace') as stream:
                    text = stream.read()
            except OSError:
                continue
            if name.endswith('.sources'):
                for block in re.split(r'\n\s*\n', text):
                    uris = re.search(r'^URIs:\s*(\S+)', block, re.M)
                    suites = re.search(r'^Suites:\s*(.+)$', block, re.M)
                    if uris and suites and SUITE in suites.group(1).split():
                        candidates.append(uris.group(1))
            else:
                for line in text.splitlines():
                    match = re.match(r'^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)', line.strip())
                    if match and match.group(2) == SUITE:
                        candidates.append(match.group(1))
    for uri in candidates:
        if uri.startswith(('http://', 'https://')) and 'security' not in uri:
            return uri.rstrip('/')
    return DEFAULT_MIRROR


def write_file(path, data, mode=0o644):
    """Write bytes or text atomically (temp name, rename) with a mode."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
    tmp = '%s.tmp-%d' % (path, os.getpid())
    with open(tmp, 'wb') as stream:
        stream.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)
    return path


def write_json(path, value, mode=0o644):
    return write_file(path, json.dumps(value, indent=2, sort_keys=True) + '\n', mode)


def read_json(path):
    with open(path, encoding='utf-8') as stream:
        return json.load(stream)
