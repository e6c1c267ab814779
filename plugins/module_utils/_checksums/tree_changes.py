# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which paths go into a layer's tar when it has to be rebuilt from the trees on disk.

Two shapes, as Docker 1.9's drivers produced them:

* aufs keeps each layer's own files in its diff dir, deletions included as ``.wh.<name>`` files:
  the tar is the whole diff dir minus aufs's ``.wh..wh.*`` meta files (``.wh..wh..opq``, which marks
  an opaque directory, stays).
* overlay, vfs, btrfs keep every layer as a full root filesystem: the tar is the difference to the
  parent's tree, as pkg/archive ChangesDirs computes it (see layer_changes).

Paths are bytes relative to the tree root, never with a leading or trailing slash, and both lists
are sorted component by component (``a/b`` right after ``a``, before ``a b``), parents first.
Nothing here follows a symlink. OSError from reading the trees propagates.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import errno
import os
import stat

ADD = 'add'
MODIFY = 'modify'
DELETE = 'delete'

AUFS_META_PREFIX = b'.wh..wh.'
AUFS_OPAQUE_MARKER = b'.wh..wh..opq'

_CAPABILITY_XATTR = 'security.capability'
_NO_XATTR_ERRNOS = (errno.ENODATA, errno.ENOTSUP, errno.EOPNOTSUPP)


def path_key(relpath):
    """Sort key: component by component, so a directory's subtree follows it directly."""
    return relpath.split(b'/')


def _join(directory, name):
    return directory + b'/' + name if directory else name


def _sorted_children(path):
    with os.scandir(path) as listing:
        return sorted(listing, key=lambda entry: entry.name)


def walk_tree(root, skip=None, start=b''):
    """Yield the relpaths below the directory root/start, sorted, parents first.

    Directories are descended without following symlinks; skip(name) drops an entry and its
    subtree. Iterative, so deep trees cannot hit Python's recursion limit."""
    stack = [(start, iter(_sorted_children(_join(root, start))))]
    while stack:
        directory, children = stack[-1]
        entry = next(children, None)
        if entry is None:
            stack.pop()
            continue
        if skip is not None and skip(entry.name):
            continue
        relpath = _join(directory, entry.name)
        yield relpath
        if entry.is_dir(follow_symlinks=False):
            stack.append((relpath, iter(_sorted_children(_join(root, relpath)))))


def _is_aufs_meta(name):
    return name.startswith(AUFS_META_PREFIX) and name != AUFS_OPAQUE_MARKER


def diff_dir_entries(diff_root):
    """The aufs layer: every path of its diff dir as 'add', aufs's own meta files left out."""
    return [(relpath, ADD) for relpath in walk_tree(os.fsencode(diff_root), skip=_is_aufs_meta)]


def read_capability(path):
    """The security.capability xattr of path itself (never a link target's), or None."""
    try:
        return os.getxattr(path, _CAPABILITY_XATTR, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _NO_XATTR_ERRNOS:
            return None
        raise


def _same_mtime(old, new):
    # Docker's sameFsTimeSpec: tar keeps whole seconds only, so a side with 0 ns matches any ns.
    old_sec, old_nsec = divmod(old.st_mtime_ns, 10 ** 9)
    new_sec, new_nsec = divmod(new.st_mtime_ns, 10 ** 9)
    return old_sec == new_sec and (old_nsec == new_nsec or old_nsec == 0 or new_nsec == 0)


def _stat_different(old, new):
    """Docker 1.9's statDifferent: size and mtime are not compared for directories."""
    if (old.st_mode, old.st_uid, old.st_gid, old.st_rdev) != (new.st_mode, new.st_uid, new.st_gid, new.st_rdev):
        return True
    if stat.S_ISDIR(old.st_mode):
        return False
    return old.st_size != new.st_size or not _same_mtime(old, new)


def _entry_modified(old_path, new_path, old, new):
    if _stat_different(old, new):
        return True
    if read_capability(old_path) != read_capability(new_path):
        return True
    # A retargeted symlink of the same length and mtime would otherwise go unnoticed.
    return stat.S_ISLNK(new.st_mode) and os.readlink(old_path) != os.readlink(new_path)


class _ChangeWalker(object):
    """Compares a layer's full tree with its parent's, one directory pair at a time."""

    def __init__(self, layer_root, parent_root):
        self.new_root = layer_root
        self.old_root = parent_root
        self.changes = {}

    def _children(self, root, relpath):
        return dict((entry.name, entry) for entry in _sorted_children(_join(root, relpath)))

    def _add_subtree(self, relpath, entry):
        self.changes[relpath] = ADD
        if entry.is_dir(follow_symlinks=False):
            for path in walk_tree(self.new_root, start=relpath):
                self.changes[path] = ADD

    def run(self):
        pending = [(b'', True)]  # directories present in the new tree: (relpath, also a dir in the parent)
        while pending:
            relpath, old_is_dir = pending.pop()
            self._compare_directory(relpath, old_is_dir, pending)
        self._add_parent_directories()
        return sorted(self.changes.items(), key=lambda item: path_key(item[0]))

    def _compare_directory(self, directory, old_is_dir, pending):
        new_children = self._children(self.new_root, directory)
        # A directory that replaced a non-directory gets all its children as additions.
        old_children = self._children(self.old_root, directory) if old_is_dir else {}
        # As Docker's walker, the same inode on the same device is the same file: skip it unread.
        same_device = (os.lstat(_join(self.new_root, directory)).st_dev
                       == os.lstat(_join(self.old_root, directory)).st_dev) if old_is_dir else False
        for name, new_entry in new_children.items():
            relpath = _join(directory, name)
            old_entry = old_children.pop(name, None)
            if old_entry is None:
                self._add_subtree(relpath, new_entry)
                continue
            if same_device and new_entry.inode() == old_entry.inode():
                continue
            self._compare_entry(relpath, pending)
        for name in old_children:
            self.changes[_join(directory, name)] = DELETE

    def _compare_entry(self, relpath, pending):
        new_path = _join(self.new_root, relpath)
        old_path = _join(self.old_root, relpath)
        new = os.lstat(new_path)
        old = os.lstat(old_path)
        if _entry_modified(old_path, new_path, old, new):
            self.changes[relpath] = MODIFY
        if stat.S_ISDIR(new.st_mode):
            pending.append((relpath, stat.S_ISDIR(old.st_mode)))

    def _add_parent_directories(self):
        # Docker puts every directory holding a change into the tar, changed or not, so that
        # extracting the layer restores its metadata.
        done = set()
        for relpath in list(self.changes):
            parent = relpath.rpartition(b'/')[0]
            while parent and parent not in done:
                done.add(parent)
                self.changes.setdefault(parent, MODIFY)
                parent = parent.rpartition(b'/')[0]


def layer_changes(layer_root, parent_root):
    """The changes of a full-tree layer against its parent's full tree, as Docker 1.9's ChangesDirs.

    Returns sorted (relpath, kind) pairs, kind 'add', 'modify' or 'delete':

    * add: absent in the parent (an added directory brings its whole subtree);
    * modify: mode (type included), uid, gid or rdev differ, or for non-directories the size or the
      mtime (same second and either side 0 ns counts as equal, as Docker's sameFsTimeSpec), or the
      security.capability xattr, or a symlink's target; a directory is also listed as 'modify' when
      anything below it changed;
    * delete: present in the parent only, listed once at its top (the whiteout covers the subtree).

    parent_root None (a base layer) gives the whole tree as 'add'."""
    layer_root = os.fsencode(layer_root)
    if parent_root is None:
        return [(relpath, ADD) for relpath in walk_tree(layer_root)]
    return _ChangeWalker(layer_root, os.fsencode(parent_root)).run()
