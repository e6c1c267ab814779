"""Start, inspect and tear down a fleet of test hosts (controller side).

A fleet is a directory ``<cache>/fleets/<name>/`` with ``fleet.json``, an ed25519 key pair
(``id_ed25519``) and per host ``hosts/<host>/``: ``upper/`` and ``work/`` (its overlayfs layers over
the cached rootfs), ``root/`` (the mount point, only mounted inside the host's namespace),
``docker/`` (its Docker store, bound on /var/lib/docker), ``manifest.json`` (what the store holds),
``host.json`` (the launcher's configuration) and ``console.log``.

Each host is ``unshare --mount --uts --pid --fork`` running ``launcher.py`` (see there); its PID 1
is ``/usr/local/lib/fleet/init``, which runs sshd on 127.0.0.1:<port> (the network namespace is
shared). Killing that PID 1 ends every process of the host and every mount it made.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import zlib

from .aptrepo import ensure_repo, package_version
from .common import FLEET_SRC, FleetError, cache_dir, log, read_json, run, write_json
from .rootfs import ensure_rootfs
from .stores import DRIVERS, copy_store, ensure_stores

DEFAULT_HOSTS = ('docker-aufs', 'docker-overlay', 'docker-vfs')
INIT_IN_HOST = '/usr/local/lib/fleet/init'
APT_IN_HOST = '/srv/fleet-apt'
DEFAULT_HASH_RATE_MB_S = 100
RUNLEVEL = ('#!/bin/sh\n# fleet test host: the fleet init (PID 1) runs the host in runlevel 2, as sysvinit would.\n'
            'echo "N 2"\n')
SSH_OPTIONS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
               '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10']


def fleets_dir():
    path = os.path.join(cache_dir(), 'fleets')
    os.makedirs(path, exist_ok=True)
    return path


def fleet_dir(name):
    if not name or '/' in name or name.startswith('.'):
        raise FleetError('bad fleet name %r' % name)
    return os.path.join(fleets_dir(), name)


def load_fleet(name):
    path = os.path.join(fleet_dir(name), 'fleet.json')
    if not os.path.exists(path):
        raise FleetError('no fleet %r (%s)' % (name, path))
    return read_json(path)


def driver_of(host_name):
    for driver in DRIVERS:
        if host_name.endswith(driver):
            return driver
    raise FleetError('host %r: its name must end in a storage driver (%s)' % (host_name, ', '.join(DRIVERS)))


# --------------------------------------------------------------------------------------------------
# Processes


def _children(pid):
    try:
        with open('/proc/%d/task/%d/children' % (pid, pid)) as stream:
            return [int(p) for p in stream.read().split()]
    except OSError:
        return []


def _pid_ns(pid):
    try:
        return os.readlink('/proc/%d/ns/pid' % pid)
    except OSError:
        return None


def _alive(pid):
    if not pid:
        return False
    try:
        with open('/proc/%d/stat' % pid) as stream:
            return stream.read().split(')')[-1].split()[0] != 'Z'
    except OSError:
        return False


def _processes_in_ns(ns):
    found = []
    for entry in os.listdir('/proc'):
        if entry.isdigit() and _pid_ns(int(entry)) == ns:
            found.append(int(entry))
    return found


def _comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as stream:
            return stream.read().strip()
    except OSError:
        return ''


def host_processes(host, comm=None):
    """Global pids of the host's processes (optionally only those named comm)."""
    ns = host.get('pid_ns')
    if not ns or not _alive(host.get('init_pid')) or _pid_ns(host['init_pid']) != ns:
        return []
    return [pid for pid in _processes_in_ns(ns) if comm is None or _comm(pid) == comm]


def port_open(port, timeout=0.5):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            return sock.recv(4).startswith(b'SSH')
    except OSError:
        return False


def _free_port(start, taken):
    port = start
    while port < 65000:
        if port not in taken:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                try:
                    sock.bind(('127.0.0.1', port))
                    return port
                except OSError:
                    pass
        port += 1
    raise FleetError('no free port from %d' % start)


# --------------------------------------------------------------------------------------------------
# ssh


def ssh_command(fleet, host, command=None, tty=False):
    cmd = ['ssh', '-i', fleet['key'], '-p', str(host['port'])] + SSH_OPTIONS + (['-tt'] if tty else [])
    cmd.append('root@127.0.0.1')
    if command is not None:
        cmd.append(command)
    return cmd


def ssh(fleet, host, command, check=True, timeout=600):
    proc = subprocess.run(ssh_command(fleet, host, command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    output = proc.stdout.decode('utf-8', 'replace')
    if check and proc.returncode != 0:
        raise FleetError('%s: `%s` exited %d:\n%s' % (host['name'], command, proc.returncode, output[-4000:]))
    return proc.returncode, output


# --------------------------------------------------------------------------------------------------
# Start and stop one host


def _host_config(fleet, host, lower, repo):
    with open(fleet['key'] + '.pub', encoding='utf-8') as stream:
        public_key = stream.read()
    with open(os.path.join(FLEET_SRC, 'guest', 'fleet_init.py'), encoding='utf-8') as stream:
        init = '#!/usr/bin/python3\n' + stream.read()
    sshd = ('# fleet test host %s: sshd on its own loopback port (tests only)\n'
            'Port %d\nListenAddress 127.0.0.1\nPermitRootLogin prohibit-password\nPasswordAuthentication no\n'
            'KbdInteractiveAuthentication no\nUsePAM no\nPidFile /run/sshd.pid\nMaxStartups 50\nMaxSessions 50\n'
            'UseDNS no\n' % (host['name'], host['port']))
    hosts_file = '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' % host['name']
    return {
        'hostname': host['name'],
        'root': os.path.join(host['dir'], 'root'),
        'lower': lower,
        'upper': os.path.join(host['dir'], 'upper'),
        'work': os.path.join(host['dir'], 'work'),
        'init': INIT_IN_HOST,
        'binds': [
            {'source': os.path.join(host['dir'], 'docker'), 'target': '/var/lib/docker'},
            {'source': repo, 'target': APT_IN_HOST, 'readonly': True},
        ],
        'files': [
            {'path': INIT_IN_HOST, 'content': init, 'mode': 0o755},
            # A sysvinit host as invoke-rc.d sees it: an init, in runlevel 2.
            {'path': '/sbin/init', 'symlink': INIT_IN_HOST},
            {'path': '/sbin/runlevel', 'content': RUNLEVEL, 'mode': 0o755},
            {'path': '/etc/ssh/sshd_config.d/fleet.conf', 'content': sshd},
            {'path': '/root/.ssh/authorized_keys', 'content': public_key, 'mode': 0o600, 'dir_mode': 0o700},
            {'path': '/etc/hostname', 'content': host['name'] + '\n'},
            {'path': '/etc/hosts', 'content': hosts_file},
            {'path': '/etc/apt/sources.list.d/fleet-standin.list',
             'content': '# stand-in docker-engine packages of the fleetops fleet tests\n'
                        'deb [trusted=yes] file:%s ./\n' % APT_IN_HOST},
        ],
    }


def start_host(fleet, host, lower, repo):
    """Boot the host (its dirs must exist); waits for its sshd."""
    config_path = os.path.join(host['dir'], 'host.json')
    write_json(config_path, _host_config(fleet, host, lower, repo))
    os.makedirs(os.path.join(host['dir'], 'root'), exist_ok=True)
    console = open(os.path.join(host['dir'], 'console.log'), 'ab')
    launcher = os.path.join(FLEET_SRC, 'launcher.py')
    proc = subprocess.Popen(['unshare', '--mount', '--uts', '--pid', '--fork', '--propagation', 'private',
                             sys.executable, launcher, config_path],
                            stdin=subprocess.DEVNULL, stdout=console, stderr=console, start_new_session=True)
    console.close()
    host['unshare_pid'] = proc.pid
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = _children(proc.pid)
        if children:
            host['init_pid'] = children[0]
            host['pid_ns'] = _pid_ns(children[0])
        if host.get('init_pid') and port_open(host['port']):
            return host
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    with open(os.path.join(host['dir'], 'console.log'), encoding='utf-8', errors='replace') as stream:
        tail = stream.read()[-3000:]
    raise FleetError('host %s did not come up on port %d:\n%s' % (host['name'], host['port'], tail))


def stop_host(host):
    """Kill the host's PID 1 (the kernel then kills all its processes); wait for them to go."""
    init_pid = host.get('init_pid')
    ns = host.get('pid_ns')
    if init_pid and _alive(init_pid) and _pid_ns(init_pid) == ns:
        os.kill(init_pid, signal.SIGKILL)
    unshare_pid = host.get('unshare_pid')
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        left = _processes_in_ns(ns) if ns else []
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)
    if unshare_pid:
        try:
            os.waitpid(unshare_pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if _alive(unshare_pid) and _comm(unshare_pid) == 'unshare':
            os.kill(unshare_pid, signal.SIGKILL)


def kill_sshd(fleet, host_name):
    """Kill every sshd of the host (listener and sessions): it becomes unreachable."""
    host = fleet['hosts'][host_name]
    pids = host_processes(host, 'sshd')
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while port_open(host['port']) and time.monotonic() < deadline:
        time.sleep(0.1)
    return pids


def revive_sshd(fleet, host_name):
    host = fleet['hosts'][host_name]
    os.kill(host['init_pid'], signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while not port_open(host['port']):
        if time.monotonic() > deadline:
            raise FleetError('sshd of %s did not come back' % host_name)
        time.sleep(0.1)


# --------------------------------------------------------------------------------------------------
# Fleets


def _provision_script(driver, rate):
    version = package_version('1.9.1')
    return '''set -e
mkdir -p /etc/docker-standin
printf '# stand-in engine settings (fleetops fleet tests)\\nhash_rate_mb_s = %(rate)s\\n' > /etc/docker-standin/config
printf 'DOCKER_OPTS="--storage-driver=%(driver)s"\\n' > /etc/default/docker
apt-get update -qq -o APT::Update::Error-Mode=any
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold docker-engine=%(version)s \\
    >/var/log/fleet-provision.log 2>&1 || { cat /var/log/fleet-provision.log; exit 1; }
for i in $(seq 100); do docker version >/dev/null 2>&1 && break; sleep 0.1; done
docker start worker >/dev/null
docker version | sed -n 's/^ Version: *//p' | tail -1
''' % {'driver': driver, 'rate': rate, 'version': version}


def fleet_healthy(fleet):
    return all(_alive(h.get('init_pid')) and _pid_ns(h['init_pid']) == h.get('pid_ns') and port_open(h['port'])
               for h in fleet['hosts'].values())


def create_fleet(name, host_names=DEFAULT_HOSTS, base_port=None, rate=DEFAULT_HASH_RATE_MB_S, reuse=True, data_mb=0):
    """Build (cached) and boot a fleet; returns its description (also in fleet.json)."""
    directory = fleet_dir(name)
    if reuse and os.path.exists(os.path.join(directory, 'fleet.json')):
        fleet = load_fleet(name)
        if fleet.get('created_seconds') and list(fleet['hosts']) == list(host_names) and \
                fleet.get('data_mb', 0) == data_mb and fleet_healthy(fleet):
            log('fleet %s is up already', name)
            return fleet
    destroy_fleet(name)
    started = time.monotonic()
    lower = ensure_rootfs()
    repo = ensure_repo()
    pristine = ensure_stores(data_mb)
    os.makedirs(directory)
    key = os.path.join(directory, 'id_ed25519')
    run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'fleet-%s' % name, '-f', key])
    if base_port is None:
        base_port = 22000 + (zlib.crc32(name.encode('utf-8')) % 1500) * 4
    fleet = {'name': name, 'dir': directory, 'key': key, 'hosts': {}, 'rootfs': lower, 'repo': repo,
             'stores': os.path.dirname(pristine[DRIVERS[0]]), 'hash_rate_mb_s': rate, 'data_mb': data_mb}
    taken = set()
    for host_name in host_names:
        driver = driver_of(host_name)
        port = _free_port(base_port, taken)
        taken.add(port)
        host_dir = os.path.join(directory, 'hosts', host_name)
        for sub in ('upper', 'work', 'root'):
            os.makedirs(os.path.join(host_dir, sub))
        manifest = copy_store(pristine[driver], os.path.join(host_dir, 'docker'))
        write_json(os.path.join(host_dir, 'manifest.json'), manifest)
        fleet['hosts'][host_name] = {'name': host_name, 'driver': driver, 'port': port, 'dir': host_dir,
                                     'manifest': os.path.join(host_dir, 'manifest.json')}
    write_json(os.path.join(directory, 'fleet.json'), fleet)
    try:
        for host in fleet['hosts'].values():
            start_host(fleet, host, lower, repo)
            write_json(os.path.join(directory, 'fleet.json'), fleet)
        log('%d hosts up (%.1f s); installing docker-engine %s', len(fleet['hosts']), time.monotonic() - started,
            package_version('1.9.1'))
        procs = {}
        for host in fleet['hosts'].values():
            procs[host['name']] = subprocess.Popen(
                ssh_command(fleet, host, _provision_script(host['driver'], rate)), stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for host_name, proc in procs.items():
            output = proc.communicate(timeout=600)[0].decode('utf-8', 'replace')
            if proc.returncode != 0 or not output.strip().endswith('1.9.1'):
                raise FleetError('provisioning %s failed (%d):\n%s' % (host_name, proc.returncode, output[-3000:]))
    except BaseException:
        write_json(os.path.join(directory, 'fleet.json'), fleet)
        raise
    # Write the copied stores out now, so that their writeback does not slow the first fsyncs (dpkg's)
    # of whatever runs next on the fleet and skew its timings.
    os.sync()
    fleet['created_seconds'] = round(time.monotonic() - started, 1)
    write_json(os.path.join(directory, 'fleet.json'), fleet)
    log('fleet %s ready in %.1f s: %s', name, fleet['created_seconds'],
        ', '.join('%s 127.0.0.1:%d' % (h['name'], h['port']) for h in fleet['hosts'].values()))
    return fleet


def _mounts_under(path):
    found = []
    with open('/proc/self/mountinfo', encoding='utf-8') as stream:
        for line in stream:
            mount_point = line.split()[4].replace('\\040', ' ')
            if mount_point == path or mount_point.startswith(path + '/'):
                found.append(mount_point)
    return found


def destroy_fleet(name):
    """Kill every host of the fleet, unmount anything left under its directory, remove it."""
    directory = fleet_dir(name)
    if not os.path.exists(directory):
        return False
    fleet = read_json(os.path.join(directory, 'fleet.json')) if os.path.exists(
        os.path.join(directory, 'fleet.json')) else {'hosts': {}}
    for host in fleet.get('hosts', {}).values():
        stop_host(host)
    for mount_point in sorted(_mounts_under(directory), key=len, reverse=True):
        subprocess.run(['umount', '-l', mount_point], check=False)
    shutil.rmtree(directory)
    log('fleet %s destroyed', name)
    return True


def destroy_all():
    for name in sorted(os.listdir(fleets_dir())):
        destroy_fleet(name)


def instance_config(fleet):
    """Molecule's instance config entries of the fleet's hosts."""
    return [{'instance': h['name'], 'address': '127.0.0.1', 'user': 'root', 'port': h['port'],
             'identity_file': fleet['key'], 'driver': h['driver'], 'manifest': h['manifest']}
            for h in fleet['hosts'].values()]


def inventory(fleet, group='docker_hosts'):
    """An Ansible YAML inventory (written as JSON, which YAML reads) of the fleet."""
    hosts = {}
    for host in fleet['hosts'].values():
        hosts[host['name']] = {
            'ansible_host': '127.0.0.1', 'ansible_port': host['port'], 'ansible_user': 'root',
            'ansible_ssh_private_key_file': fleet['key'],
            'ansible_ssh_common_args': '-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR',
            'ansible_python_interpreter': '/usr/bin/python3',
        }
    return {'all': {'children': {group: {'hosts': hosts}}}}


def status(fleet):
    rows = []
    for host in fleet['hosts'].values():
        rows.append({'name': host['name'], 'driver': host['driver'], 'port': host['port'],
                     'running': _alive(host.get('init_pid')), 'ssh': port_open(host['port']),
                     'processes': len(host_processes(host)), 'login': ' '.join(ssh_command(fleet, host))})
    return rows


def as_json(value):
    return json.dumps(value, indent=2, sort_keys=True)
