"""The fleet's local apt repository: stand-in ``docker-engine`` packages built with dpkg-deb.

``ensure_repo()`` returns ``<cache>/apt-<key>/`` holding ``docker-engine_1.9.1-0~bookworm_all.deb``,
``docker-engine_1.10.3-0~bookworm_all.deb`` and the ``Packages``, ``Packages.gz`` and ``Release``
index of a flat repository. Each host mounts it read-only on /srv/fleet-apt and lists it as
``deb [trusted=yes] file:/srv/fleet-apt ./``. The key hashes the stand-in's sources, so editing
them rebuilds the packages.

Package contents: /usr/bin/docker (client and ``docker daemon``), /usr/lib/docker-standin/,
/etc/init.d/docker and /etc/default/docker (conffiles, the same in both versions, so an upgrade
never prompts), and maintainer scripts that start the service after configure and stop it before
an upgrade or removal through invoke-rc.d (which honours /usr/sbin/policy-rc.d), as the real ones did.
"""

import gzip
import hashlib
import os
import shutil
import tempfile

from .common import FLEET_SRC, cache_dir, digest_of, locked, log, run, source_files, write_file

PACKAGE = 'docker-engine'
VERSIONS = ('1.9.1', '1.10.3')
DEB_REVISION = '-0~bookworm'
SOURCE_DIR = os.path.join(FLEET_SRC, 'standin_engine')
REPO_FORMAT = 1
SOURCE_DATE_EPOCH = '1458000000'


def package_version(version):
    return version + DEB_REVISION


def deb_name(version):
    return '%s_%s_all.deb' % (PACKAGE, package_version(version))


def repo_key():
    return digest_of('apt', REPO_FORMAT, VERSIONS, *[('file', path) for path in source_files(SOURCE_DIR)])


def repo_path():
    return os.path.join(cache_dir(), 'apt-%s' % repo_key())


def _template(name, version):
    with open(os.path.join(SOURCE_DIR, name), encoding='utf-8') as stream:
        return stream.read().replace('@VERSION@', version)


def _control(version):
    depends = 'python3 (>= 3.6), init-system-helpers, lsb-base'
    if version != '1.9.1':
        depends += ', tar-split'
    return (
        'Package: %s\n'
        'Version: %s\n'
        'Architecture: all\n'
        'Maintainer: fleetops engineering <fleetops@example.invalid>\n'
        'Depends: %s\n'
        'Conflicts: docker.io, lxc-docker\n'
        'Section: admin\n'
        'Priority: optional\n'
        'Homepage: https://github.com/fleetops/docker_upgrade\n'
        'Description: STAND-IN Docker Engine %s for the fleetops fleet tests (not Docker)\n'
        ' A Python program that serves a Docker store on /var/run/docker.sock with the\n'
        ' Engine API calls the fleetops.docker_upgrade role uses, and, as 1.10.3,\n'
        ' migrates a Docker 1.9 store as Docker 1.10 does. Runs no real containers.\n'
    ) % (PACKAGE, package_version(version), depends, version)


def build_deb(version, out_dir):
    staging = tempfile.mkdtemp(prefix='deb-', dir=out_dir)
    try:
        files = {
            'DEBIAN/control': (_control(version), 0o644),
            'DEBIAN/conffiles': ('/etc/default/docker\n/etc/init.d/docker\n', 0o644),
            'DEBIAN/postinst': (_template('postinst', version), 0o755),
            'DEBIAN/prerm': (_template('prerm', version), 0o755),
            'DEBIAN/postrm': (_template('postrm', version), 0o755),
            'usr/bin/docker': ('#!/usr/bin/python3\n' + _template('docker', version), 0o755),
            'usr/lib/docker-standin/standin_engine.py': (_template('standin_engine.py', version), 0o644),
            'etc/init.d/docker': (_template('docker.init', version), 0o755),
            'etc/default/docker': (_template('docker.default', version), 0o644),
            'usr/share/doc/docker-engine/README.standin': (
                'This docker-engine %s package is a test stand-in of the fleetops.docker_upgrade fleet\n'
                'tests. It is not Docker. See /usr/lib/docker-standin/standin_engine.py.\n' % version, 0o644),
        }
        for rel, (content, mode) in files.items():
            write_file(os.path.join(staging, rel), content, mode)
        for dirpath, dirnames, _filenames in os.walk(staging):
            for name in dirnames:
                os.chmod(os.path.join(dirpath, name), 0o755)
        os.chmod(staging, 0o755)
        out = os.path.join(out_dir, deb_name(version))
        env = dict(os.environ, SOURCE_DATE_EPOCH=SOURCE_DATE_EPOCH)
        run(['dpkg-deb', '--root-owner-group', '-Zxz', '--build', staging, out], env=env)
        return out
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _field_block(deb_path):
    control = run(['dpkg-deb', '--field', deb_path]).stdout.decode('utf-8')
    with open(deb_path, 'rb') as stream:
        data = stream.read()
    extra = 'Filename: ./%s\nSize: %d\nMD5sum: %s\nSHA256: %s\n' % (
        os.path.basename(deb_path), len(data), hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest())
    return control.rstrip('\n') + '\n' + extra


def _write_index(repo):
    debs = sorted(name for name in os.listdir(repo) if name.endswith('.deb'))
    packages = '\n'.join(_field_block(os.path.join(repo, name)) for name in debs)
    write_file(os.path.join(repo, 'Packages'), packages)
    with open(os.path.join(repo, 'Packages'), 'rb') as stream:
        raw = stream.read()
    compressed = gzip.compress(raw, mtime=0)
    write_file(os.path.join(repo, 'Packages.gz'), compressed)
    release = ['Origin: fleetops-fleet-tests', 'Label: docker-engine stand-in', 'Suite: fleet', 'Codename: fleet',
               'Architectures: all amd64', 'Date: Tue, 15 Mar 2016 00:00:00 UTC', 'MD5Sum:']
    for name, data in (('Packages', raw), ('Packages.gz', compressed)):
        release.append(' %s %d %s' % (hashlib.md5(data).hexdigest(), len(data), name))
    release.append('SHA256:')
    for name, data in (('Packages', raw), ('Packages.gz', compressed)):
        release.append(' %s %d %s' % (hashlib.sha256(data).hexdigest(), len(data), name))
    write_file(os.path.join(repo, 'Release'), '\n'.join(release) + '\n')


def ensure_repo(force=False):
    """Build the repository when it is not cached; returns its path."""
    with locked('apt'):
        path = repo_path()
        if os.path.exists(os.path.join(path, 'Release')) and not force:
            return path
        tmp = path + '.building'
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        for version in VERSIONS:
            build_deb(version, tmp)
        _write_index(tmp)
        for dirpath, dirnames, filenames in os.walk(tmp):
            os.chmod(dirpath, 0o755)
            for name in filenames:
                os.chmod(os.path.join(dirpath, name), 0o644)
        shutil.rmtree(path, ignore_errors=True)
        os.rename(tmp, path)
        log('apt repository with %s built at %s', ', '.join(deb_name(v) for v in VERSIONS), path)
        return path
