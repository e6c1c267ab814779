"""Command line of the fleet: ``python -m tests.fleet --help`` (run from the checkout, as root)."""

import argparse
import json
import os
import sys
import time

from . import hosts
from .aptrepo import ensure_repo
from .common import FleetError, log, write_json
from .rootfs import ensure_rootfs
from .stores import ensure_stores


def _fleet_arg(parser):
    parser.add_argument('--fleet', default='demo', help='fleet name (default demo)')


def cmd_build(args):
    started = time.monotonic()
    ensure_rootfs(force=args.force)
    ensure_repo(force=args.force)
    ensure_stores(args.data_mb, force=args.force)
    log('everything cached (%.1f s)', time.monotonic() - started)
    return 0


def cmd_create(args):
    names = args.hosts.split(',') if args.hosts else list(hosts.DEFAULT_HOSTS)
    fleet = hosts.create_fleet(args.fleet, names, base_port=args.base_port, rate=args.hash_rate,
                               reuse=not args.recreate, data_mb=args.data_mb)
    if args.instance_config:
        write_json(args.instance_config, hosts.instance_config(fleet), 0o600)
    if args.inventory:
        write_json(args.inventory, hosts.inventory(fleet), 0o600)
    print(hosts.as_json({'fleet': fleet['name'], 'key': fleet['key'], 'instances': hosts.instance_config(fleet)}))
    return 0


def cmd_prune(args):
    """Remove cached rootfs, apt and store directories that neither the current sources nor a
    fleet still use."""
    import shutil  # pylint: disable=import-outside-toplevel
    from .aptrepo import repo_path  # pylint: disable=import-outside-toplevel
    from .rootfs import rootfs_path  # pylint: disable=import-outside-toplevel
    from .stores import stores_path  # pylint: disable=import-outside-toplevel
    keep = {rootfs_path(), repo_path(), stores_path(0), stores_path(args.data_mb)}
    fleets_dir = hosts.fleets_dir()
    for name in os.listdir(fleets_dir):
        path = os.path.join(fleets_dir, name, 'fleet.json')
        if os.path.exists(path):
            fleet = hosts.load_fleet(name)
            keep.update((fleet.get('rootfs'), fleet.get('repo'), fleet.get('stores')))
    base = os.path.dirname(fleets_dir)
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        if name.startswith(('rootfs-', 'apt-', 'stores-')) and os.path.isdir(path) and path not in keep:
            shutil.rmtree(path)
            log('removed %s', path)
    return 0


def cmd_destroy(args):
    if args.all:
        hosts.destroy_all()
    else:
        hosts.destroy_fleet(args.fleet)
    return 0


def cmd_status(args):
    fleet = hosts.load_fleet(args.fleet)
    rows = hosts.status(fleet)
    if args.json:
        print(hosts.as_json(rows))
    else:
        for row in rows:
            print('%-16s %-8s port %-5d %-8s ssh %-4s %3d processes   %s' % (
                row['name'], row['driver'], row['port'], 'running' if row['running'] else 'DOWN',
                'up' if row['ssh'] else 'DOWN', row['processes'], row['login']))
    return 0 if all(r['running'] and r['ssh'] for r in rows) else 1


def cmd_ssh(args):
    fleet = hosts.load_fleet(args.fleet)
    host = fleet['hosts'][args.host]
    command = ' '.join(args.command) if args.command else None
    os.execvp('ssh', hosts.ssh_command(fleet, host, command, tty=command is None))


def cmd_kill_sshd(args):
    fleet = hosts.load_fleet(args.fleet)
    if args.after_migrated:
        # The stand-in 1.10.3 writes this marker when its migration is done, just before it serves.
        marker = os.path.join(fleet['hosts'][args.after_migrated]['dir'], 'docker', '.migration-v1-tags')
        deadline = time.monotonic() + args.timeout
        while not os.path.exists(marker):
            if time.monotonic() > deadline:
                log('%s was not migrated within %.0f s; killing sshd of %s anyway', args.after_migrated,
                    args.timeout, args.host)
                break
            time.sleep(0.2)
    pids = hosts.kill_sshd(fleet, args.host)
    log('killed sshd of %s (pids %s)', args.host, ' '.join(str(p) for p in pids))
    print(json.dumps({'host': args.host, 'killed': pids}))
    return 0 if pids else 1


def cmd_revive_sshd(args):
    hosts.revive_sshd(hosts.load_fleet(args.fleet), args.host)
    return 0


def cmd_fault(args):
    fleet = hosts.load_fleet(args.fleet)
    host = fleet['hosts'][args.host]
    if args.state == 'on':
        hosts.ssh(fleet, host, 'mkdir -p /etc/docker-standin && echo "%s" > /etc/docker-standin/fail-start'
                  % args.reason.replace('"', ''))
    else:
        hosts.ssh(fleet, host, 'rm -f /etc/docker-standin/fail-start')
    return 0


def cmd_demo(args):
    from . import demo  # pylint: disable=import-outside-toplevel
    return demo.run(args.data_mb, args.keep)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='python -m tests.fleet',
                                     description='Simulated Docker 1.9 fleet for the molecule scenarios and the demo '
                                                 '(stand-in engine, not Docker). Needs root.')
    sub = parser.add_subparsers(dest='command', required=True)
    build = sub.add_parser('build', help='build the cached rootfs, apt repository and stores')
    build.add_argument('--force', action='store_true', help='rebuild even when cached')
    build.add_argument('--data-mb', type=int, default=0, help="add a 'data' layer of that many MiB to the stores")
    build.set_defaults(func=cmd_build)
    create = sub.add_parser('create', help='boot a fleet (reused when it is up already)')
    _fleet_arg(create)
    create.add_argument('--hosts', help='comma-separated host names ending in aufs, overlay or vfs '
                                        '(default %s)' % ','.join(hosts.DEFAULT_HOSTS))
    create.add_argument('--base-port', type=int, help='first ssh port to try (default: from the fleet name)')
    create.add_argument('--hash-rate', type=float, default=hosts.DEFAULT_HASH_RATE_MB_S,
                        help='MB/s the stand-in 1.10.3 hashes at most (emulated disk; 0: no limit)')
    create.add_argument('--recreate', action='store_true', help='destroy and create even when it is up')
    create.add_argument('--data-mb', type=int, default=0, help="add a 'data' layer of that many MiB to every store")
    create.add_argument('--inventory', help='also write an Ansible inventory (group docker_hosts) here')
    create.add_argument('--instance-config', help="also write molecule's instance config (YAML-compatible JSON) here")
    create.set_defaults(func=cmd_create)
    destroy = sub.add_parser('destroy', help='kill the hosts, unmount, remove the fleet directory')
    _fleet_arg(destroy)
    destroy.add_argument('--all', action='store_true', help='every fleet')
    destroy.set_defaults(func=cmd_destroy)
    prune = sub.add_parser('prune', help='remove cached artifacts that the current sources and fleets do not use')
    prune.add_argument('--data-mb', type=int, default=1024, help="also keep the stores with this 'data' layer")
    prune.set_defaults(func=cmd_prune)
    state = sub.add_parser('status', help='hosts, ports, processes; exit 1 when one is down')
    _fleet_arg(state)
    state.add_argument('--json', action='store_true')
    state.set_defaults(func=cmd_status)
    login = sub.add_parser('ssh', help='ssh into a host (or run a command there)')
    _fleet_arg(login)
    login.add_argument('host')
    login.add_argument('command', nargs=argparse.REMAINDER)
    login.set_defaults(func=cmd_ssh)
    kill = sub.add_parser('kill-sshd', help='make a host unreachable: kill all its sshd processes')
    _fleet_arg(kill)
    kill.add_argument('host')
    kill.add_argument('--after-migrated', metavar='HOST',
                      help="first wait until the stand-in 1.10.3 of HOST has migrated its store")
    kill.add_argument('--timeout', type=float, default=900)
    kill.set_defaults(func=cmd_kill_sshd)
    revive = sub.add_parser('revive-sshd', help="start a host's sshd again")
    _fleet_arg(revive)
    revive.add_argument('host')
    revive.set_defaults(func=cmd_revive_sshd)
    fault = sub.add_parser('fault', help='turn the stand-in 1.10.3 fault switch of a host on or off')
    _fleet_arg(fault)
    fault.add_argument('host')
    fault.add_argument('state', choices=('on', 'off'))
    fault.add_argument('--reason', default='stand-in fault switch for the rollback test')
    fault.set_defaults(func=cmd_fault)
    show = sub.add_parser('demo', help="the README's main job: rolling upgrade of the demo fleet, downtime with and "
                                       'without pre-migration')
    show.add_argument('--data-mb', type=int, default=1024, help="MiB of the extra 'data' layer per host (default 1024)")
    show.add_argument('--keep', action='store_true', help='leave the fleet running at the end')
    show.set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.exit(2, 'fleet: needs root (namespaces, mounts, debootstrap)\n')
    try:
        return args.func(args)
    except FleetError as exc:
        sys.stderr.write('fleet: %s\n' % exc)
        return 1
    except KeyError as exc:
        sys.stderr.write('fleet: unknown host %s\n' % exc)
        return 1


if __name__ == '__main__':
    sys.exit(main())
