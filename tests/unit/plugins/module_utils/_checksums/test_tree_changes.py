# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which paths a rebuilt layer tar holds: aufs diff dirs, and full trees against their parent."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import shutil
import subprocess

import pytest

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.tree_changes import (
    diff_dir_entries, layer_changes)

CAPABILITY = bytes.fromhex('0100000200200000000000000000000000000000')  # cap_net_bind_service+ep
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason='chown and mknod need root')


def _write(path, content=b'', mtime_ns=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as handle:
        handle.write(content)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))


def _hardlink_copy(parent, child):
    """How Docker's overlay driver made a child layer: directories copied, files hard-linked."""
    subprocess.run(['cp', '-a', '-l', str(parent), str(child)], check=True)


def _break_link(path):
    """Give a child's file its own inode with identical content and metadata."""
    shutil.copy2(path, path + '.tmp')
    os.chown(path + '.tmp', os.lstat(path).st_uid, os.lstat(path).st_gid)
    os.rename(path + '.tmp', path)


def _kinds(entries):
    return [(path.decode('utf-8', 'surrogateescape'), kind) for path, kind in entries]


def test_aufs_diff_dir_skips_meta_files_but_keeps_opaque_marker_and_whiteouts(tmp_path):
    diff = tmp_path / 'diff'
    for name in ('.wh..wh.aufs', '.wh..wh.plnk/123.456', '.wh..wh.orph/x', '.wh.gone', 'etc/.wh..wh..opq',
                 'etc/.wh..wh.stray', 'etc/hosts', 'etc/.wh.passwd'):
        _write(str(diff / name))
    assert _kinds(diff_dir_entries(str(diff))) == [
        ('.wh.gone', 'add'), ('etc', 'add'), ('etc/.wh..wh..opq', 'add'), ('etc/.wh.passwd', 'add'),
        ('etc/hosts', 'add')]


def test_order_is_by_component_and_paths_are_bytes(tmp_path):
    for name in ('a/b', 'a b', 'a-x', 'a0', 'Z'):
        _write(str(tmp_path / 'tree' / name))
    os.mkdir(os.path.join(os.fsencode(str(tmp_path / 'tree')), b'caf\xe9'))
    entries = diff_dir_entries(os.fsencode(str(tmp_path / 'tree')))
    assert [path for path, _kind in entries] == [b'Z', b'a', b'a/b', b'a b', b'a-x', b'a0', b'caf\xe9']


def test_symlinked_directory_is_not_descended(tmp_path):
    _write(str(tmp_path / 'outside' / 'secret'))
    (tmp_path / 'tree').mkdir()
    os.symlink(str(tmp_path / 'outside'), str(tmp_path / 'tree' / 'link'))
    assert _kinds(layer_changes(str(tmp_path / 'tree'), None)) == [('link', 'add')]


def test_base_layer_is_the_whole_tree(tmp_path):
    for name in ('bin/sh', 'etc/hosts', 'etc/ssl/certs/ca.pem'):
        _write(str(tmp_path / 'root' / name))
    assert _kinds(layer_changes(str(tmp_path / 'root'), None)) == [
        ('bin', 'add'), ('bin/sh', 'add'), ('etc', 'add'), ('etc/hosts', 'add'), ('etc/ssl', 'add'),
        ('etc/ssl/certs', 'add'), ('etc/ssl/certs/ca.pem', 'add')]


def _parent_tree(root):
    _write(os.path.join(root, 'bin/tool'), b'v1', mtime_ns=10 ** 18)
    _write(os.path.join(root, 'etc/keep'), b'keep')
    _write(os.path.join(root, 'etc/old'), b'old')
    _write(os.path.join(root, 'lib/gone/sub/x'), b'x')
    _write(os.path.join(root, 'usr/share/doc'), b'doc')
    _write(os.path.join(root, 'var/log/messages'))
    _write(os.path.join(root, 'cap'), b'\x7fELF')
    _write(os.path.join(root, 'same'), b'same')
    _write(os.path.join(root, 'swap'), b'file')
    _write(os.path.join(root, 'rev/child'))
    os.symlink('abc', os.path.join(root, 'link'))


def test_child_layer_changes_against_its_parent(tmp_path):
    parent, child = str(tmp_path / 'parent'), str(tmp_path / 'child')
    _parent_tree(parent)
    _hardlink_copy(parent, child)

    _write(os.path.join(child, 'etc/new'), b'new')
    os.unlink(os.path.join(child, 'bin/tool'))  # a hard link to the parent: replace, never write into
    _write(os.path.join(child, 'bin/tool'), b'v2', mtime_ns=10 ** 18 + 10 ** 9)
    os.unlink(os.path.join(child, 'etc/old'))
    shutil.rmtree(os.path.join(child, 'lib/gone'))
    os.chmod(os.path.join(child, 'var'), 0o700)
    _break_link(os.path.join(child, 'cap'))
    os.setxattr(os.path.join(child, 'cap'), 'security.capability', CAPABILITY)
    _break_link(os.path.join(child, 'same'))  # a new inode alone is no change
    os.unlink(os.path.join(child, 'swap'))
    _write(os.path.join(child, 'swap/inner'))
    shutil.rmtree(os.path.join(child, 'rev'))
    _write(os.path.join(child, 'rev'))
    link = os.path.join(child, 'link')
    mtime = os.lstat(link).st_mtime_ns
    os.unlink(link)
    os.symlink('xyz', link)  # same length, and the same mtime below: only the target tells
    os.utime(link, ns=(mtime, mtime), follow_symlinks=False)
    _write(os.path.join(child, 'opt/app/bin/x'))

    assert _kinds(layer_changes(child, parent)) == [
        ('bin', 'modify'), ('bin/tool', 'modify'), ('cap', 'modify'),
        ('etc', 'modify'), ('etc/new', 'add'), ('etc/old', 'delete'),
        ('lib', 'modify'), ('lib/gone', 'delete'),
        ('link', 'modify'),
        ('opt', 'add'), ('opt/app', 'add'), ('opt/app/bin', 'add'), ('opt/app/bin/x', 'add'),
        ('rev', 'modify'),
        ('swap', 'modify'), ('swap/inner', 'add'),
        ('var', 'modify')]


def test_unchanged_copy_has_no_changes(tmp_path):
    parent, child = str(tmp_path / 'parent'), str(tmp_path / 'child')
    _parent_tree(parent)
    _hardlink_copy(parent, child)
    os.utime(os.path.join(child, 'etc'), ns=(0, 0))  # a directory's mtime is not a change
    assert layer_changes(child, parent) == []


@pytest.mark.parametrize('parent_ns, child_ns, changed', [
    (10 ** 18 + 500, 10 ** 18, False),        # one side without nanoseconds: tar lost them
    (10 ** 18, 10 ** 18 + 500, False),
    (10 ** 18 + 500, 10 ** 18 + 700, True),
    (10 ** 18, 10 ** 18 + 10 ** 9, True),
])
def test_mtime_comparison_follows_docker(tmp_path, parent_ns, child_ns, changed):
    parent, child = str(tmp_path / 'parent'), str(tmp_path / 'child')
    _write(os.path.join(parent, 'd/f'), b'f', mtime_ns=parent_ns)
    _write(os.path.join(child, 'd/f'), b'f', mtime_ns=child_ns)
    expected = [(b'd', 'modify'), (b'd/f', 'modify')] if changed else []
    assert layer_changes(child, parent) == expected


@needs_root
def test_owner_and_device_changes(tmp_path):
    parent, child = str(tmp_path / 'parent'), str(tmp_path / 'child')
    _write(os.path.join(parent, 'owned'), b'o')
    os.mkdir(os.path.join(parent, 'dev'))
    os.mknod(os.path.join(parent, 'dev/null'), 0o666 | 0o020000, os.makedev(1, 3))
    os.mknod(os.path.join(parent, 'dev/zero'), 0o666 | 0o020000, os.makedev(1, 5))
    _hardlink_copy(parent, child)
    _break_link(os.path.join(child, 'owned'))
    os.chown(os.path.join(child, 'owned'), 1000, 1000)
    os.unlink(os.path.join(child, 'dev/null'))
    os.mknod(os.path.join(child, 'dev/null'), 0o666 | 0o020000, os.makedev(1, 7))
    os.utime(os.path.join(child, 'dev/null'), ns=(os.lstat(os.path.join(parent, 'dev/null')).st_mtime_ns,) * 2)
    assert _kinds(layer_changes(child, parent)) == [('dev', 'modify'), ('dev/null', 'modify'), ('owned', 'modify')]
