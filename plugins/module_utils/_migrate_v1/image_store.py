# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker 1.10's image store on disk: where each file is, what it holds, its mode, and reading back
what a previous run (ours or the daemon's) left there, with the daemon's own acceptance rules.

From moby v1.10.3 (the daemon runs with umask 022, docker/daemon_unix.go):

- layer/filestore.go: ``image/<driver>/layerdb`` (0700), ``sha256/`` (0755), one directory per chain
  ID (0700: made by ioutil.TempDir and renamed into place) holding ``diff``, ``size``, ``cache-id``,
  ``parent`` (not for a base layer) and ``tar-split.json.gz`` (a byte copy of ``.migration-tardata``,
  layer/migration.go), all 0644; ``mounts/<name>/`` (0755) with ``mount-id``, ``init-id`` (when the
  driver has ``<id>-init``) and ``parent``, 0644 (layer/layer_store.go saveMount).
- image/fs.go: ``imagedb/content/sha256/<hex>`` (0600, directories 0700) holding the config;
  ``imagedb/metadata/sha256/<hex>/parent`` (0600) the parent image ID.
- distribution/metadata: ``distribution`` (0700), ``v2metadata-by-diffid/sha256/<hex>`` (JSON list of
  {"Digest", "SourceRepository"}) and ``diffid-by-digest/<algorithm>/<hex>`` (the diffID), 0644 in
  0755 directories.
- reference/store.go: ``repositories.json`` (0600).
- migrate/v1/migratev1.go: ``containers/<id>/config.v2.json`` (0600), ``.migration-v1-images.json``
  (0600, json.Encoder output: a trailing newline) and ``.migration-v1-tags`` (empty, os.Create: 0644).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.go_json import (
    ARRAY, NULL, OBJECT, STRING, GoJSONError, Struct, marshal, parse, parse_stream_value)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.image_ids import sha256_digest

MAPPINGS_FILE = '.migration-v1-images.json'
TAGS_MARKER = '.migration-v1-tags'
CONTAINER_CONFIG_V2 = 'config.v2.json'
CONTAINER_CONFIG_LEGACY = 'config.json'
TARDATA_FILE = '.migration-tardata'
MAX_V2_METADATA = 50  # distribution/metadata/v2_metadata_service.go maxMetadata

DIR_PRIVATE = 0o700
DIR_SHARED = 0o755
FILE_PRIVATE = 0o600
FILE_SHARED = 0o644

_DIGEST = re.compile(r'[a-zA-Z0-9_+.\-]+:[a-fA-F0-9]+\Z')
_DIGEST_HEX_LENGTH = {'sha256': 64, 'sha384': 96, 'sha512': 128}
_CACHE_ID = re.compile(r'[a-f0-9]{64}(-init)?\Z')
_INT64 = re.compile(r'[-+]?[0-9]+\Z')


def valid_digest(text):
    """distribution/digest Digest.Validate."""
    if not _DIGEST.match(text):
        return False
    algorithm, _sep, hex_part = text.partition(':')
    return _DIGEST_HEX_LENGTH.get(algorithm) == len(hex_part)


def hex_of(digest):
    return digest.split(':', 1)[1]


def algorithm_of(digest):
    return digest.split(':', 1)[0]


# --------------------------------------------------------------------------------------------------
# Paths (relative to the docker root)

def image_root(driver_name):
    return os.path.join('image', driver_name)


def layer_dir(driver_name, chain):
    return os.path.join(image_root(driver_name), 'layerdb', algorithm_of(chain), hex_of(chain))


def mount_dir(driver_name, name):
    return os.path.join(image_root(driver_name), 'layerdb', 'mounts', name)


def content_file(driver_name, image):
    return os.path.join(image_root(driver_name), 'imagedb', 'content', algorithm_of(image), hex_of(image))


def metadata_dir(driver_name, image):
    return os.path.join(image_root(driver_name), 'imagedb', 'metadata', algorithm_of(image), hex_of(image))


def v2metadata_file(driver_name, diff_id):
    return os.path.join(image_root(driver_name), 'distribution', 'v2metadata-by-diffid', algorithm_of(diff_id),
                        hex_of(diff_id))


def diffid_by_digest_file(driver_name, digest):
    return os.path.join(image_root(driver_name), 'distribution', 'diffid-by-digest', algorithm_of(digest),
                        hex_of(digest))


def repositories_file(driver_name):
    return os.path.join(image_root(driver_name), 'repositories.json')


def container_config_v2(container_id):
    return os.path.join('containers', container_id, CONTAINER_CONFIG_V2)


# Directories the daemon creates at start, whatever there is to migrate, with their modes.
def skeleton_dirs(driver_name):
    root = image_root(driver_name)
    return [
        ('image', DIR_PRIVATE),
        (root, DIR_PRIVATE),
        (os.path.join(root, 'layerdb'), DIR_PRIVATE),
        (os.path.join(root, 'imagedb'), DIR_PRIVATE),
        (os.path.join(root, 'imagedb', 'content'), DIR_PRIVATE),
        (os.path.join(root, 'imagedb', 'content', 'sha256'), DIR_PRIVATE),
        (os.path.join(root, 'imagedb', 'metadata'), DIR_PRIVATE),
        (os.path.join(root, 'imagedb', 'metadata', 'sha256'), DIR_PRIVATE),
        (os.path.join(root, 'distribution'), DIR_PRIVATE),
    ]


# Modes of the directories that appear on the way to a file, by their path under image/<driver>.
def dir_mode(relative_to_image_root):
    parts = relative_to_image_root.split(os.sep)
    if parts[0] == 'layerdb':
        if len(parts) == 1:
            return DIR_PRIVATE
        if len(parts) == 3 and parts[1] != 'mounts':
            return DIR_PRIVATE  # a layer directory (ioutil.TempDir)
        return DIR_SHARED
    if parts[0] == 'distribution':
        return DIR_PRIVATE if len(parts) == 1 else DIR_SHARED
    return DIR_PRIVATE  # imagedb/...


# --------------------------------------------------------------------------------------------------
# File contents

def layer_files(diff_id, size, cache_id, parent_chain):
    """storeLayer's files of a registered layer, except tar-split.json.gz (a copy)."""
    files = [('diff', diff_id.encode('ascii')), ('size', str(size).encode('ascii')),
             ('cache-id', cache_id.encode('ascii'))]
    if parent_chain:
        files.append(('parent', parent_chain.encode('ascii')))
    return files


def mount_files(mount_id, init_id, parent_chain):
    files = [('mount-id', mount_id.encode('ascii'))]
    if init_id:
        files.append(('init-id', init_id.encode('ascii')))
    if parent_chain:
        files.append(('parent', parent_chain.encode('ascii')))
    return files


def render_v2metadata(entries):
    """json.Marshal([]V2Metadata): [{"Digest":...,"SourceRepository":...}]."""
    return marshal([Struct([('Digest', digest, False), ('SourceRepository', source, False)])
                    for digest, source in entries])


def add_v2metadata(entries, digest):
    """V2MetadataService.Add: drop an equal entry, append, keep the newest 50."""
    new = [entry for entry in (entries or []) if entry != (digest, '')]
    new.append((digest, ''))
    return new[-MAX_V2_METADATA:]


def render_mappings(mappings):
    """saveMappings: json.NewEncoder(f).Encode(map[string]image.ID)."""
    return marshal(dict(mappings)) + b'\n'


# --------------------------------------------------------------------------------------------------
# Reading back, as the daemon does at start

def _read(path):
    with open(path, 'rb') as stream:
        return stream.read()


def _read_text(path):
    return _read(path).decode('utf-8', 'replace')


class LayerInfo(object):
    __slots__ = ('chain', 'diff_id', 'size', 'cache_id', 'parent')

    def __init__(self, chain, diff_id, size, cache_id, parent):
        self.chain = chain
        self.diff_id = diff_id
        self.size = size
        self.cache_id = cache_id
        self.parent = parent


def load_layerdb(docker_root, driver_name):
    """{chain: LayerInfo} of the layers layer_store.go loadLayer accepts (a layer whose parent
    does not load does not load either). Chains are keyed as 'sha256:<hex>'."""
    base = os.path.join(docker_root, image_root(driver_name), 'layerdb', 'sha256')
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return {}
    raw = {}
    for name in names:
        chain = 'sha256:' + name
        if name == 'mounts' or not valid_digest(chain) or not os.path.isdir(os.path.join(base, name)):
            continue
        directory = os.path.join(base, name)
        try:
            diff_id = _read_text(os.path.join(directory, 'diff')).strip()
            size_text = _read_text(os.path.join(directory, 'size'))
            cache_id = _read_text(os.path.join(directory, 'cache-id')).strip()
            parent_path = os.path.join(directory, 'parent')
            parent = _read_text(parent_path).strip() if os.path.exists(parent_path) else ''
        except (IOError, OSError):
            continue
        if not valid_digest(diff_id) or not _INT64.match(size_text) or not _CACHE_ID.match(cache_id):
            continue
        if parent and not valid_digest(parent):
            continue
        raw[chain] = LayerInfo(chain, diff_id, int(size_text), cache_id, parent)
    loaded = {}

    def loads(chain, seen):
        if chain in loaded:
            return True
        info = raw.get(chain)
        if info is None or chain in seen:
            return False
        if info.parent and not loads(info.parent, seen | {chain}):
            return False
        loaded[chain] = info
        return True

    for chain in raw:
        loads(chain, frozenset())
    return loaded


class MountInfo(object):
    __slots__ = ('name', 'mount_id', 'init_id', 'parent')

    def __init__(self, name, mount_id, init_id, parent):
        self.name = name
        self.mount_id = mount_id
        self.init_id = init_id
        self.parent = parent


def load_mounts(docker_root, driver_name, layers):
    """{name: MountInfo} of the mounts layer_store.go loadMount accepts, given the loaded layers."""
    base = os.path.join(docker_root, image_root(driver_name), 'layerdb', 'mounts')
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return {}
    mounts = {}
    for name in names:
        directory = os.path.join(base, name)
        if not os.path.isdir(directory):
            continue
        try:
            mount_id = _read_text(os.path.join(directory, 'mount-id')).strip()
            init_path = os.path.join(directory, 'init-id')
            init_id = _read_text(init_path).strip() if os.path.exists(init_path) else ''
            parent_path = os.path.join(directory, 'parent')
            parent = _read_text(parent_path).strip() if os.path.exists(parent_path) else ''
        except (IOError, OSError):
            continue
        if not _CACHE_ID.match(mount_id) or (init_id and not _CACHE_ID.match(init_id)):
            continue
        if parent and (not valid_digest(parent) or parent not in layers):
            continue
        mounts[name] = MountInfo(name, mount_id, init_id, parent)
    return mounts


class StoreReadError(Exception):
    """A file the daemon reads at start is unreadable: Docker 1.10.3 would not start or not migrate."""


def read_mappings(docker_root):
    """restoreMappings: {v1 id: image ID}; {} without the file. Raises StoreReadError where the daemon's
    migration would stop (an unreadable or undecodable file)."""
    path = os.path.join(docker_root, MAPPINGS_FILE)
    try:
        data = _read(path)
    except (IOError, OSError) as exc:
        if not os.path.lexists(path):
            return {}
        raise StoreReadError('cannot read %s: %s' % (path, exc))
    try:
        node = parse_stream_value(data)
    except GoJSONError as exc:
        raise StoreReadError('%s: %s' % (path, exc))
    if node.kind == NULL:
        return {}
    if node.kind != OBJECT:
        raise StoreReadError('%s is not a JSON object' % path)
    mappings = {}
    for key, child in node.value:
        if child.kind == STRING:
            mappings[key] = child.value
        elif child.kind == NULL:
            mappings[key] = ''
        else:
            raise StoreReadError('%s: the value of %s is not a string' % (path, key))
    return mappings


def read_v2metadata(docker_root, driver_name, diff_id):
    """V2MetadataService.GetMetadata: [(digest, source repository)], or None when unreadable."""
    try:
        node = parse(_read(os.path.join(docker_root, v2metadata_file(driver_name, diff_id))))
    except (IOError, OSError, GoJSONError):
        return None
    if node.kind == NULL:
        return None
    if node.kind != ARRAY:
        return None
    entries = []
    for item in node.value:
        if item.kind != OBJECT:
            return None
        fields = {'digest': '', 'sourcerepository': ''}
        for key, child in item.value:
            folded = key.lower()
            if folded in fields:
                if child.kind == STRING:
                    fields[folded] = child.value
                elif child.kind != NULL:
                    return None
        entries.append((fields['digest'], fields['sourcerepository']))
    return entries


def read_image_config(docker_root, driver_name, image):
    """image/fs.go get: the config bytes when the content file exists and hashes to its name."""
    try:
        data = _read(os.path.join(docker_root, content_file(driver_name, image)))
    except (IOError, OSError):
        return None
    if sha256_digest(data) != image:
        return None
    return data
