"""PID 1 of a fleet test host (tests only; not a real init).

Starts sshd in the foreground mode and reaps every orphan (the stand-in Docker daemon included).
SIGUSR1 starts sshd again when it is not running (the unreachable scenario kills it, the fleet tool
revives it). SIGTERM stops the docker service, then every process, then exits.
"""

import os
import signal
import subprocess
import sys
import time

SSHD_LOG = '/var/log/fleet-sshd.log'
sshd = None


def start_sshd(*_args):
    global sshd  # pylint: disable=global-statement
    if sshd is not None and sshd.poll() is None:
        return
    os.makedirs('/run/sshd', mode=0o755, exist_ok=True)
    with open(SSHD_LOG, 'ab') as out:
        sshd = subprocess.Popen(['/usr/sbin/sshd', '-D', '-e'], stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    print('init: sshd started, pid %d' % sshd.pid, flush=True)


def shutdown(*_args):
    print('init: stopping', flush=True)
    if os.path.exists('/etc/init.d/docker'):
        subprocess.run(['/etc/init.d/docker', 'stop'], check=False, timeout=60)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(-1, sig)
        except ProcessLookupError:
            break
        time.sleep(1)
    sys.exit(0)


def main():
    os.makedirs('/run/lock', mode=0o1777, exist_ok=True)
    signal.signal(signal.SIGUSR1, start_sshd)
    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    start_sshd()
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            time.sleep(1)


if __name__ == '__main__':
    main()
