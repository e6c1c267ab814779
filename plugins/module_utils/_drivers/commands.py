# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the drivers that mount layers (devicemapper, zfs) share: one way to run a command, the
privilege checks, private mount points, and the sweep of what a killed run left behind.

Every external command goes through run_command: a list of arguments (never a shell), a timeout,
the C locale. Mount points are directories of our own, mode 0700, under /run (or /tmp):
``<base>/fleetops-migrator/fleetops-mig-<pid>-<short id>-<random>/mnt``; device-mapper devices are
named ``fleetops-mig-<pid>-<layer id>``. The pid in both names lets a later run tell leftovers of a
dead process from the work of a live one.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import errno
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile

try:
    import fcntl
except ImportError:  # not Linux: the drivers that need this refuse to run anyway
    fcntl = None

NAME_PREFIX = 'fleetops-mig-'
_LEFTOVER_NAME = re.compile(r'^%s(\d+)-' % re.escape(NAME_PREFIX))

# Seconds. Module attributes (read at each call) so tests can shorten them.
COMMAND_TIMEOUT = 120
CLEANUP_TIMEOUT = 8   # cleanup must fit in the pool's grace period (_checksum_run._STOP_GRACE_SECONDS)

PRIVATE_BASES = ('/run', '/tmp')
PRIVATE_DIR_NAME = 'fleetops-migrator'
MOUNTINFO = '/proc/self/mountinfo'
PROC_STATUS = '/proc/self/status'
CAP_SYS_ADMIN = 21

# Where each binary comes from, for the message when it is missing.
PACKAGE_HINTS = {
    'dmsetup': 'the device-mapper tools (yum install device-mapper; apt-get install dmsetup)',
    'blkid': 'util-linux (or set storage option dm.fs)',
    'mount': 'util-linux',
    'umount': 'util-linux',
    'zfs': 'the ZFS utilities (zfs / zfsutils-linux)',
}


class CommandError(OSError):
    """A command failed, timed out or could not be started. An OSError, so a layer that hits one
    fails alone with this message."""

    def __init__(self, argv, message, returncode=None, stderr=''):
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr or ''
        self.message = '%s: %s' % (format_command(argv), message)
        super(CommandError, self).__init__(self.message)

    def __str__(self):
        return self.message


def format_command(argv):
    return ' '.join(shlex.quote(arg) for arg in argv)


def run_command(argv, timeout=None, check=True):
    """Run argv (a list, found on PATH) and return the CompletedProcess with text stdout/stderr.

    Raises CommandError when it cannot start, runs longer than timeout (then it is killed) or, with
    check, exits non-zero."""
    argv = [str(arg) for arg in argv]
    env = dict(os.environ, LC_ALL='C', LANG='C')
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env=env, timeout=timeout or COMMAND_TIMEOUT, universal_newlines=True,
                              check=False)
    except subprocess.TimeoutExpired:
        raise CommandError(argv, 'timed out after %s s (killed)' % (timeout or COMMAND_TIMEOUT))
    except OSError as exc:
        raise CommandError(argv, 'cannot run: %s' % (exc.strerror or exc))
    if check and proc.returncode != 0:
        raise CommandError(argv, 'failed (exit %d): %s' % (proc.returncode, _one_line(proc.stderr or proc.stdout)),
                           proc.returncode, proc.stderr)
    return proc


def run_cleanup_command(argv, check=True):
    """run_command with the short timeout of cleanup (which must fit in the pool's grace period)."""
    return run_command(argv, timeout=CLEANUP_TIMEOUT, check=check)


def _one_line(text):
    return ' '.join((text or '').split()) or 'no message'


# Privileges -------------------------------------------------------------------------------------

def effective_uid():
    return os.geteuid()


def effective_capabilities():
    """The CapEff mask of this process, or None when /proc does not say."""
    try:
        with open(PROC_STATUS) as stream:
            for line in stream:
                if line.startswith('CapEff:'):
                    return int(line.split(':', 1)[1].strip(), 16)
    except (OSError, ValueError):
        pass
    return None


def privilege_problem():
    """None when this process may activate devices and mount, else what is missing and the fix."""
    uid = effective_uid()
    if uid != 0:
        return ('needs root to activate devices and mount layers (running as uid %d): run the task with '
                'become: true, or the command with sudo' % uid)
    caps = effective_capabilities()
    if caps is not None and not caps & (1 << CAP_SYS_ADMIN):
        return ('runs as root but without CAP_SYS_ADMIN, so it cannot mount (a container started without '
                '--privileged?): run the container with --privileged -v /dev:/dev')
    return None


def missing_binaries(names):
    return [name for name in names if not shutil.which(name)]


def missing_binaries_message(driver, missing):
    hints = '; '.join('%s: %s' % (name, PACKAGE_HINTS.get(name, 'its package')) for name in missing)
    return '%s needs %s, not found on PATH: install %s' % (driver, ', '.join(missing), hints)


# Mount table ------------------------------------------------------------------------------------

def _unescape(field):
    # /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo
    return re.sub(r'\\([0-7]{3})', lambda match: chr(int(match.group(1), 8)), field)


def read_mounts(path=None):
    """[(major, minor, mountpoint, fstype, source)] of this mount namespace."""
    mounts = []
    try:
        with open(path or MOUNTINFO) as stream:
            lines = stream.read().splitlines()
    except OSError:
        return mounts
    for line in lines:
        fields = line.split(' ')
        try:
            separator = fields.index('-', 6)
            major, minor = fields[2].split(':')
            mounts.append((int(major), int(minor), _unescape(fields[4]), fields[separator + 1],
                           _unescape(fields[separator + 2])))
        except (ValueError, IndexError):
            continue
    return mounts


def is_mounted(path):
    path = os.path.realpath(path)
    return any(mountpoint == path for _major, _minor, mountpoint, _fstype, _source in read_mounts())


def unmount(path):
    """Unmount everything mounted at path (stacked mounts too); a plain umount first, a lazy one
    when that fails. Raises CommandError when something is still mounted there."""
    last_error = None
    for _attempt in range(4):
        if not is_mounted(path):
            return
        try:
            run_cleanup_command(['umount', path])
        except CommandError as exc:
            last_error = exc
            if not is_mounted(path):
                return
            try:
                run_cleanup_command(['umount', '-l', path])
            except CommandError as lazy_exc:
                last_error = lazy_exc
    if is_mounted(path):
        raise last_error or CommandError(['umount', path], 'still mounted')


# Signals ----------------------------------------------------------------------------------------

@contextlib.contextmanager
def stop_signals_blocked():
    """SIGTERM and SIGINT wait while cleanup runs; a pending one acts right after."""
    try:
        saved = signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGTERM, signal.SIGINT))
    except (AttributeError, ValueError, OSError):
        saved = None
    try:
        yield
    finally:
        if saved is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, saved)


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True


def leftover_pid(name):
    """The pid in one of our names (device or private directory), or None for a name not ours."""
    match = _LEFTOVER_NAME.match(name)
    return int(match.group(1)) if match else None


# Private mount points ---------------------------------------------------------------------------

def private_base():
    """<run or tmp>/fleetops-migrator, created mode 0700, refused unless it is our own private directory."""
    parent = next((base for base in PRIVATE_BASES if os.path.isdir(base) and os.access(base, os.W_OK)), None)
    if parent is None:
        raise OSError(errno.ENOENT, 'no writable directory for private mount points among %s' % ', '.join(PRIVATE_BASES))
    path = os.path.join(os.path.realpath(parent), PRIVATE_DIR_NAME)
    try:
        os.mkdir(path, 0o700)
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise OSError(errno.EPERM, '%s is not a private directory of ours (a directory owned by us, mode 0700)' % path)
    return path


class PrivateMount(object):
    """A private directory holding one mount point, for one layer.

    release() undoes whatever is there, whatever got done: it unmounts when the mount table shows a
    mount (a mount command killed half-way may have mounted) and removes the directories with rmdir
    only (never a recursive delete, which could reach into a mounted tree)."""

    def __init__(self, layer_id):
        self.directory = os.path.realpath(tempfile.mkdtemp(
            prefix='%s%d-%s-' % (NAME_PREFIX, os.getpid(), layer_id[:12]), dir=private_base()))
        self.mountpoint = os.path.join(self.directory, 'mnt')
        os.mkdir(self.mountpoint, 0o700)

    def mount(self, argv):
        run_command(list(argv) + [self.mountpoint])

    def tree(self, subdir=None):
        """The directory to read: the mount point, or subdir of it; an empty directory of ours when
        subdir is missing (or is not a real directory, e.g. a symlink)."""
        if not subdir:
            return self.mountpoint
        path = os.path.join(self.mountpoint, subdir)
        try:
            if stat.S_ISDIR(os.lstat(path).st_mode):
                return path
        except OSError:
            pass
        empty = os.path.join(self.directory, 'empty')
        if not os.path.isdir(empty):
            os.mkdir(empty, 0o700)
        return empty

    def release(self):
        unmount(self.mountpoint)
        remove_private_directory(self.directory)


def remove_private_directory(directory):
    for path in (os.path.join(directory, 'empty'), os.path.join(directory, 'mnt'), directory):
        try:
            os.rmdir(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise


def sweep_private_mounts(alone):
    """Unmount and remove the private directories left by dead runs (all of them when alone: no
    other run of ours uses this store). Returns the problems it could not fix, as strings."""
    problems = []
    try:
        base = private_base()
    except OSError as exc:
        return [str(exc)]
    prefix = base + os.sep
    stale = set()
    for _major, _minor, mountpoint, _fstype, _source in read_mounts():
        if mountpoint.startswith(prefix):
            stale.add(mountpoint[len(prefix):].split(os.sep, 1)[0])
    try:
        stale.update(os.listdir(base))
    except OSError as exc:
        problems.append(str(exc))
    for name in sorted(stale):
        pid = leftover_pid(name)
        if pid is None or (not alone and pid_alive(pid)):
            continue
        directory = os.path.join(base, name)
        try:
            for _major, _minor, mountpoint, _fstype, _source in sorted(read_mounts(), key=lambda m: -len(m[2])):
                if mountpoint.startswith(directory + os.sep):
                    unmount(mountpoint)
            remove_private_directory(directory)
        except OSError as exc:
            problems.append('%s: %s' % (directory, exc))
    return problems


class StoreLock(object):
    """A flock on the docker root directory, shared by every run of ours on that store (also one in a
    container: the lock follows the inode). A run that can take it exclusively is alone, so every
    leftover of ours is stale, whatever pid (or pid namespace) it names."""

    def __init__(self):
        self.fd = None

    def acquire(self, docker_root):
        """Hold a shared lock from now on; return whether no other run held one."""
        if fcntl is None or self.fd is not None:
            return False
        self.fd = os.open(docker_root, os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | getattr(os, 'O_CLOEXEC', 0))
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            alone = True
        except OSError:
            alone = False
        fcntl.flock(self.fd, fcntl.LOCK_SH)
        return alone

    def release(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __del__(self):
        self.release()
