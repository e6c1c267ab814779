"""Boot one fleet test host: run as PID 1 of new mount, UTS and PID namespaces (stdlib only).

    unshare --mount --uts --pid --fork --propagation private python3 launcher.py HOST.json

Mounts the host's overlayfs root (the cached rootfs as read-only lower layer, the host's own upper
directory), binds its Docker store on /var/lib/docker and the fleet's apt repository (read-only) on
/srv/fleet-apt, writes the host's files (sshd drop-in, authorized_keys, hostname, the init), makes
/proc, a small /dev (tmpfs with the usual nodes, its own devpts), /dev/shm and /run, sets the host
name, pivots into the root and execs /usr/local/lib/fleet/init (which starts sshd). Every mount
belongs to this mount namespace: when the host's PID 1 dies, they all go with it.
"""

import ctypes
import json
import os
import socket
import stat
import subprocess
import sys

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2

_libc = ctypes.CDLL(None, use_errno=True)


def _mount(source, target, fstype, flags=0, data=None):
    args = [source.encode() if source else None, target.encode(), fstype.encode() if fstype else None,
            ctypes.c_ulong(flags), data.encode() if data else None]
    if _libc.mount(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, 'mount %s on %s (%s, %s): %s' % (source, target, fstype, data, os.strerror(err)))


def _umount(target, flags=0):
    if _libc.umount2(target.encode(), flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, 'umount %s: %s' % (target, os.strerror(err)))


def _inside(root, path):
    return os.path.join(root, path.lstrip('/'))


def _mkdirs_like_lower(root, lower, directory):
    """Create directory (absolute, in the host) under root with the lower layer's owner and mode."""
    parts = [p for p in directory.strip('/').split('/') if p]
    for depth in range(1, len(parts) + 1):
        rel = '/'.join(parts[:depth])
        target = os.path.join(root, rel)
        if os.path.isdir(target):
            continue
        os.mkdir(target, 0o755)
        try:
            st = os.lstat(os.path.join(lower, rel))
            os.chown(target, st.st_uid, st.st_gid)
            os.chmod(target, stat.S_IMODE(st.st_mode))
        except FileNotFoundError:
            pass


def _make_dev(root):
    dev = _inside(root, '/dev')
    _mount('tmpfs', dev, 'tmpfs', MS_NOSUID, 'mode=755,size=4m')
    for name, major, minor in (('null', 1, 3), ('zero', 1, 5), ('full', 1, 7), ('random', 1, 8),
                               ('urandom', 1, 9), ('tty', 5, 0)):
        path = os.path.join(dev, name)
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
        os.chmod(path, 0o666)
    os.mkdir(os.path.join(dev, 'pts'), 0o755)
    _mount('devpts', os.path.join(dev, 'pts'), 'devpts', MS_NOSUID | MS_NOEXEC,
           'newinstance,ptmxmode=0666,mode=0620,gid=5')
    os.symlink('pts/ptmx', os.path.join(dev, 'ptmx'))
    os.mkdir(os.path.join(dev, 'shm'), 0o1777)
    _mount('tmpfs', os.path.join(dev, 'shm'), 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=1777,size=64m')
    for name, target in (('fd', '/proc/self/fd'), ('stdin', '/proc/self/fd/0'), ('stdout', '/proc/self/fd/1'),
                         ('stderr', '/proc/self/fd/2')):
        os.symlink(target, os.path.join(dev, name))


def boot(config):
    root = config['root']
    lower = config['lower']
    # Nothing mounted here may leak back to the controller's namespace.
    _mount(None, '/', None, MS_REC | MS_PRIVATE)
    _mount('overlay', root, 'overlay', 0,
           'lowerdir=%s,upperdir=%s,workdir=%s' % (lower, config['upper'], config['work']))
    for bind in config['binds']:
        target = _inside(root, bind['target'])
        _mkdirs_like_lower(root, lower, bind['target'])
        _mount(bind['source'], target, None, MS_BIND | MS_REC)
        if bind.get('readonly'):
            _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC)
    for item in config['files']:
        path = _inside(root, item['path'])
        _mkdirs_like_lower(root, lower, os.path.dirname(item['path']))
        if item.get('dir_mode') is not None:
            os.chmod(os.path.dirname(path), item['dir_mode'])
        if item.get('symlink'):
            if os.path.lexists(path):
                os.unlink(path)
            os.symlink(item['symlink'], path)
            continue
        tmp = path + '.fleet-tmp'
        with open(tmp, 'w', encoding='utf-8') as stream:
            stream.write(item['content'])
        os.chmod(tmp, item.get('mode', 0o644))
        os.replace(tmp, path)
    if not os.path.exists(_inside(root, '/etc/ssh/ssh_host_ed25519_key')):
        subprocess.run(['ssh-keygen', '-A', '-f', root], check=True, stdout=subprocess.DEVNULL)
    _mount('proc', _inside(root, '/proc'), 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _make_dev(root)
    _mount('tmpfs', _inside(root, '/run'), 'tmpfs', MS_NOSUID | MS_NODEV, 'mode=755,size=64m')
    socket.sethostname(config['hostname'])
    os.chdir(root)
    # pivot_root(".", "."): the old root ends up stacked on the new one, and is detached right away.
    subprocess.run(['pivot_root', '.', '.'], check=True)
    _umount('.', MNT_DETACH)
    os.chdir('/')
    env = {'PATH': '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME': '/root',
           'LANG': 'C.UTF-8', 'FLEET_HOST': config['hostname']}
    sys.stdout.flush()
    os.execve(config['init'], ['init'], env)


def main(argv):
    with open(argv[1], encoding='utf-8') as stream:
        config = json.load(stream)
    if os.getpid() != 1:
        sys.exit('launcher: must run as PID 1 of a new PID namespace (unshare --pid --fork)')
    boot(config)


if __name__ == '__main__':
    main(sys.argv)
