# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What Docker 1.10.3's first start would write when it migrates a legacy store, computed without
writing anything.

Follows moby v1.10.3 migrate/v1/migratev1.go ``Migrate`` step by step, on top of whatever a previous
run (ours or the daemon's) already left, with the daemon's own rules for what counts as done:

1. ``restoreMappings``: v1 ids listed in ``.migration-v1-images.json`` are migrated already.
2. ``migrateImages``: the other 64-hex names under ``graph/`` in sorted order, each after its parent
   (``migrateImage``, recursive): the parent's image gives the rootfs and history; the layer is
   registered under its chain ID unless that chain exists (then the first registration's cache-id
   stays); then the config is built (_image_ids), stored under its sha256, its parent recorded, and
   the ``checksum`` file, when it holds a valid digest, added to the v2 metadata of the diffID. A
   failure fails the image and its descendants, and a layer registered before the failure stays.
3. ``saveMappings``.
4. ``migrateContainers``: containers without ``config.v2.json`` whose image was migrated get the old
   config with ``Image`` replaced, then their read-write layer (mount-id, init-id when the driver has
   ``<id>-init``, parent chain); a config without ``Image`` ends this step and skips step 5.
5. ``migrateRefs`` unless ``.migration-v1-tags`` exists (_tag_migration), then that marker.

The result is a Plan: the outcome of every image, container and tag, the problems, and the list of
files (path, mode, bytes or a file to copy) the daemon would write.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import os
import re

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.go_json import (
    GoJSONError, Raw, encode_string, marshal, object_members, parse)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.image_ids import (
    ConfigError, GoStruct, Kind, build_image_config, chain_id, decode_struct, image_rootfs_and_history)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.image_store import (
    CONTAINER_CONFIG_LEGACY, CONTAINER_CONFIG_V2, FILE_PRIVATE, FILE_SHARED, MAPPINGS_FILE,
    StoreReadError, TAGS_MARKER, TARDATA_FILE, add_v2metadata, container_config_v2, content_file,
    diffid_by_digest_file, layer_dir, layer_files, load_layerdb, load_mounts, metadata_dir, mount_dir,
    mount_files, read_image_config, read_mappings, read_v2metadata, render_mappings, render_v2metadata,
    repositories_file, v2metadata_file, valid_digest)
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._checksums.cache_files import VALID, read_cache
from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.tags import (
    decode_repositories, migrate_refs, render_repositories)

_V1_ID = re.compile(r'[a-f0-9]{64}\Z')
_INT64 = re.compile(r'[-+]?[0-9]+\Z')
# migratev1.go getParent's struct: Parent (matched case-insensitively) and parent_id.
_PARENT_FIELDS = GoStruct('parent', [('Parent', Kind.STRING, False), ('parent_id', Kind.STRING, False)])

MIGRATED = 'migrated'
ALREADY = 'already_migrated'
FAILED = 'failed'
SKIPPED = 'skipped'
LEFT = 'left_to_daemon'


class PlanError(Exception):
    """The daemon's migration would not run at all (an unreadable file it needs)."""


class _Failed(Exception):
    """This image fails; inherited is true when the cause is an ancestor's failure."""

    def __init__(self, message, inherited=False, left=False):
        Exception.__init__(self, message)
        self.inherited = inherited
        self.left = left  # a layer of the chain has no checksum files yet: the daemon will do it


DRIVERS = ('aufs', 'overlay', 'vfs', 'btrfs', 'devicemapper')


def _devicemapper_has_device(home, layer_id):
    """devmapper DeviceSet.HasDevice: metadata/<id> decodes and its device_id is at most 0xffffff."""
    try:
        node = parse(_read(os.path.join(home, 'metadata', layer_id)))
    except (IOError, OSError, GoJSONError):
        return False
    if node.kind != 'object':
        return False  # null decodes to a nil *devInfo: no device
    for key, child in node.value:
        if key.lower() == 'device_id':
            if child.kind != 'number' or not re.match(r'-?[0-9]+\Z', child.value) or int(child.value) > 0xffffff:
                return False
    return True


def graphdriver_exists(docker_root, driver_name, layer_id):
    """The graph driver's Exists(id) in moby v1.10.3: aufs looks for aufs/layers/<id> (lstat),
    overlay for overlay/<id>, vfs for vfs/dir/<id>, btrfs for btrfs/subvolumes/<id> (stat),
    devicemapper for a readable devicemapper/metadata/<id>."""
    home = os.path.join(docker_root, driver_name)
    if driver_name == 'devicemapper':
        return _devicemapper_has_device(home, layer_id)
    if driver_name == 'aufs':
        return os.path.lexists(os.path.join(home, 'layers', layer_id))
    if driver_name == 'overlay':
        return os.path.exists(os.path.join(home, layer_id))
    if driver_name == 'vfs':
        return os.path.exists(os.path.join(home, 'dir', os.path.basename(layer_id)))
    if driver_name == 'btrfs':
        return os.path.exists(os.path.join(home, 'subvolumes', layer_id))
    return False


def _read(path):
    with open(path, 'rb') as stream:
        return stream.read()


def docker_parent(graph_dir):
    """migratev1.go getParent: json Parent, else the hex of parent_id, a non-empty parent file wins."""
    try:
        fields = decode_struct(_PARENT_FIELDS, _read(os.path.join(graph_dir, 'json')))
    except (IOError, OSError) as exc:
        raise _Failed('cannot read json: %s' % exc)
    except ConfigError as exc:
        raise _Failed('json: %s' % exc)
    parent = fields['Parent']
    if not parent and fields['parent_id']:
        if ':' not in fields['parent_id']:
            raise _Failed('parent_id %r has no algorithm (Docker 1.10.3 panics on it)' % fields['parent_id'])
        parent = fields['parent_id'].split(':', 1)[1]
    try:
        override = _read(os.path.join(graph_dir, 'parent'))
    except (IOError, OSError):
        override = b''
    if override:
        parent = override.decode('utf-8', 'replace')
    return parent


class LayerRecord(object):
    __slots__ = ('chain', 'diff_id', 'size', 'cache_id', 'parent', 'tardata')

    def __init__(self, chain, diff_id, size, cache_id, parent, tardata):
        self.chain = chain
        self.diff_id = diff_id
        self.size = size
        self.cache_id = cache_id
        self.parent = parent
        self.tardata = tardata


class ImageOutcome(object):
    __slots__ = ('v1_id', 'status', 'image_id', 'chain_id', 'diff_ids', 'error')

    def __init__(self, v1_id, status, image_id=None, chain_id=None, diff_ids=None, error=None):
        self.v1_id = v1_id
        self.status = status
        self.image_id = image_id
        self.chain_id = chain_id
        self.diff_ids = diff_ids
        self.error = error

    def as_dict(self):
        return dict(v1_id=self.v1_id, status=self.status, image_id=self.image_id, chain_id=self.chain_id,
                    error=self.error)


class ContainerOutcome(object):
    __slots__ = ('id', 'status', 'image_id', 'mount', 'error')

    def __init__(self, container_id, status, image_id=None, mount=False, error=None):
        self.id = container_id
        self.status = status
        self.image_id = image_id
        self.mount = mount
        self.error = error

    def as_dict(self):
        return dict(id=self.id, status=self.status, image_id=self.image_id, mount=self.mount, error=self.error)


class Write(object):
    """One file of the plan: path relative to the docker root, mode, and data or a file to copy."""

    __slots__ = ('path', 'mode', 'data', 'source')

    def __init__(self, path, mode, data=None, source=None):
        self.path = path
        self.mode = mode
        self.data = data
        self.source = source


class Plan(object):
    def __init__(self, docker_root, driver_name):
        self.docker_root = docker_root
        self.driver_name = driver_name
        self.mappings_before = {}
        self.mappings = {}
        self.images = []             # ImageOutcome, in graph order
        self.new_layers = []         # LayerRecord, in registration order
        self.new_content = {}        # image ID -> config bytes written this run
        self.content_order = []
        self.parents = []            # (image ID, parent image ID) in SetParent order
        self.v2metadata = {}         # diffID -> [(digest, source)] after this run
        self.digest_to_diffid = []   # (digest, diffID) in Add order
        self.containers = []         # ContainerOutcome
        self.container_configs = []  # (container id, config.v2.json bytes)
        self.new_mounts = []         # (name, mount id, init id, parent chain)
        self.tags = []               # TagOutcome
        self.tags_migrated = False   # whether migrateRefs runs (and writes the marker)
        self.tags_already = False
        self.repositories = None     # repositories.json content to write, or None to leave it
        self.problems = []
        self.pending_layers = []     # v1 ids without valid checksum files (the daemon would hash them)
        self.no_graph = False        # no graph/ at all: Migrate returns at once and writes nothing

    def problem(self, kind, item_id, detail):
        self.problems.append({'kind': kind, 'id': item_id, 'detail': detail})

    # ----------------------------------------------------------------------------------------------
    def writes(self):
        """Every file the daemon's migration writes, in a safe commit order: layers, images, v2
        metadata, mounts, references, container configs, the mappings, the tags marker."""
        driver = self.driver_name
        out = []
        if self.no_graph:
            return out
        for layer in self.new_layers:
            directory = layer_dir(driver, layer.chain)
            for name, data in layer_files(layer.diff_id, layer.size, layer.cache_id, layer.parent):
                out.append(Write(os.path.join(directory, name), FILE_SHARED, data=data))
            out.append(Write(os.path.join(directory, 'tar-split.json.gz'), FILE_SHARED, source=layer.tardata))
        for image in self.content_order:
            out.append(Write(content_file(driver, image), FILE_PRIVATE, data=self.new_content[image]))
        final_parents = {}
        for image, parent in self.parents:
            final_parents[image] = parent
        for image in sorted(final_parents):
            out.append(Write(os.path.join(metadata_dir(driver, image), 'parent'), FILE_PRIVATE,
                             data=final_parents[image].encode('ascii')))
        for diff_id in sorted(self.v2metadata):
            out.append(Write(v2metadata_file(driver, diff_id), FILE_SHARED,
                             data=render_v2metadata(self.v2metadata[diff_id])))
        final_digests = {}
        for digest, diff_id in self.digest_to_diffid:
            final_digests[digest] = diff_id
        for digest in sorted(final_digests):
            out.append(Write(diffid_by_digest_file(driver, digest), FILE_SHARED,
                             data=final_digests[digest].encode('ascii')))
        for name, mount_id, init_id, parent in self.new_mounts:
            for file_name, data in mount_files(mount_id, init_id, parent):
                out.append(Write(os.path.join(mount_dir(driver, name), file_name), FILE_SHARED, data=data))
        if self.repositories is not None:
            out.append(Write(repositories_file(driver), FILE_PRIVATE, data=self.repositories))
        for container_id, data in self.container_configs:
            out.append(Write(container_config_v2(container_id), FILE_PRIVATE, data=data))
        out.append(Write(MAPPINGS_FILE, FILE_PRIVATE, data=render_mappings(self.mappings)))
        if self.tags_migrated:
            out.append(Write(TAGS_MARKER, FILE_SHARED, data=b''))
        return out

    def summary(self):
        count = {}
        for image in self.images:
            count[image.status] = count.get(image.status, 0) + 1
        return dict(
            images_migrated=count.get(MIGRATED, 0),
            images_already_migrated=count.get(ALREADY, 0),
            images_failed=count.get(FAILED, 0),
            layers_registered=len(self.new_layers),
            containers_migrated=sum(1 for c in self.containers if c.status == MIGRATED),
            tags_migrated=sum(1 for t in self.tags if t.added),
        )


class _Planner(object):
    def __init__(self, docker_root, driver_name, fresh=False, leave_pending=False):
        self.leave_pending = leave_pending
        self.pending = set()
        self.left = set()
        self.root = docker_root
        self.driver = driver_name
        self.plan = Plan(docker_root, driver_name)
        if fresh:
            self.plan.mappings_before = {}
            self.layers = {}
            self.mounts = {}
        else:
            try:
                self.plan.mappings_before = read_mappings(docker_root)
            except StoreReadError as exc:
                raise PlanError('%s: Docker 1.10.3 would not migrate at all' % exc)
            loaded = load_layerdb(docker_root, driver_name)
            self.layers = dict((chain, (info.diff_id, info.parent)) for chain, info in loaded.items())
            self.mounts = dict((name, (m.mount_id, m.parent))
                               for name, m in load_mounts(docker_root, driver_name, loaded).items())
        self.fresh = fresh
        self.plan.mappings = dict(self.plan.mappings_before)
        self.failed = {}
        self.config_cache = {}
        self.decoded = {}

    # images ---------------------------------------------------------------------------------------
    def image_config(self, image):
        if image in self.plan.new_content:
            return self.plan.new_content[image]
        if image not in self.config_cache:
            self.config_cache[image] = None if self.fresh else read_image_config(self.root, self.driver, image)
        return self.config_cache[image]

    def rootfs_and_history(self, image):
        """image_rootfs_and_history of the image's config (not None), decoded once per image: each child
        needs its parent's, and the decode grows with the chain. Raises ConfigError."""
        if image not in self.decoded:
            self.decoded[image] = image_rootfs_and_history(self.image_config(image))
        return self.decoded[image]

    def run_images(self):
        graph = os.path.join(self.root, 'graph')
        try:
            names = sorted(name for name in os.listdir(graph) if _V1_ID.match(name))
        except OSError as exc:
            raise PlanError('cannot list %s: %s' % (graph, exc))
        outcomes = {}
        for v1_id in names:
            if v1_id in self.plan.mappings_before:
                image = self.plan.mappings_before[v1_id]
                outcomes[v1_id] = ImageOutcome(v1_id, ALREADY, image)
                config = self.image_config(image)
                try:
                    if config is not None:
                        outcomes[v1_id].diff_ids = self.rootfs_and_history(image)[1]
                        outcomes[v1_id].chain_id = chain_id(outcomes[v1_id].diff_ids)
                except ConfigError:
                    pass
            elif not self.fresh and read_cache(os.path.join(graph, v1_id)).state != VALID and self._hashable(v1_id):
                self.plan.pending_layers.append(v1_id)
        self.pending = set(self.plan.pending_layers) if self.leave_pending else set()
        for v1_id in names:
            if v1_id in outcomes:
                continue
            try:
                image = self.migrate(v1_id, ())
            except _Failed as exc:
                outcomes[v1_id] = ImageOutcome(v1_id, LEFT if exc.left else FAILED, error=str(exc))
                continue
            diff_ids = self.rootfs_and_history(image)[1]
            outcomes[v1_id] = ImageOutcome(v1_id, MIGRATED, image, chain_id(diff_ids), diff_ids)
        self.plan.images = [outcomes[v1_id] for v1_id in names]
        self.left = set(outcome.v1_id for outcome in self.plan.images if outcome.status == LEFT)

    def _hashable(self, v1_id):
        """Whether the daemon's CalculateLayerChecksums would get as far as hashing this layer: its
        json gives a parent (a layer whose json does not is skipped at once and fails to migrate)."""
        try:
            docker_parent(os.path.join(self.root, 'graph', v1_id))
        except _Failed:
            return False
        return True

    def migrate(self, v1_id, stack):
        if v1_id in self.plan.mappings:
            return self.plan.mappings[v1_id]
        if v1_id in self.failed:
            raise self.failed[v1_id]
        if v1_id in stack:
            raise _Failed('the parent chain loops back to %s (Docker 1.10.3 recurses without end)' % v1_id)
        try:
            image = self._migrate(v1_id, stack + (v1_id,))
        except _Failed as exc:
            self.failed[v1_id] = exc
            raise
        self.plan.mappings[v1_id] = image
        return image

    def _migrate(self, v1_id, stack):
        graph_dir = os.path.join(self.root, 'graph', v1_id)
        parent = docker_parent(graph_dir)
        parent_image = None
        if parent:
            try:
                parent_image = self.migrate(parent, stack)
            except _Failed as exc:
                if exc.inherited:
                    raise
                if not os.path.isdir(os.path.join(self.root, 'graph', parent)):
                    raise _Failed('parent %s is not in graph/' % parent, inherited=True)
                raise _Failed('ancestor %s failed: %s' % (parent, exc), inherited=True, left=exc.left)
        parent_info = None
        if parent_image:
            parent_config = self.image_config(parent_image)
            if parent_config is None:
                raise _Failed('parent image %s is not in the image store' % parent_image)
            try:
                parent_info = self.rootfs_and_history(parent_image)
            except ConfigError as exc:
                raise _Failed('parent image %s: %s' % (parent_image, exc))
        if v1_id in self.pending:
            raise _Failed('left to the daemon: no valid checksum files yet', left=True)
        diff_id, size = self._diff_and_size(graph_dir)
        diff_ids = list(parent_info[1]) if parent_info else []
        parent_chain = chain_id(diff_ids)
        if parent_chain and parent_chain not in self.layers:
            raise _Failed('parent layer %s is not registered' % parent_chain)
        chain = chain_id(diff_ids + [diff_id])
        if chain not in self.layers:
            tardata = os.path.join(graph_dir, TARDATA_FILE)
            if not os.path.isfile(tardata):
                raise _Failed('%s is missing' % TARDATA_FILE)
            self.layers[chain] = (diff_id, parent_chain)
            self.plan.new_layers.append(LayerRecord(chain, diff_id, size, v1_id, parent_chain, tardata))
        try:
            v1_json = _read(os.path.join(graph_dir, 'json'))
            built = build_image_config(v1_json, diff_id, parent=parent_info)
        except (IOError, OSError) as exc:
            raise _Failed('cannot read json: %s' % exc)
        except ConfigError as exc:
            raise _Failed('image config: %s' % exc)
        image = built.image_id
        # the same ID is the same config bytes, so the same decode, whether it is new or in the store already
        self.decoded.setdefault(image, built.rootfs_and_history)
        if image not in self.plan.new_content and self.image_config(image) is None:
            self.plan.new_content[image] = built.config
            self.plan.content_order.append(image)
        if parent_image:
            self.plan.parents.append((image, parent_image))
        self._add_checksum(graph_dir, diff_id)
        return image

    def _diff_and_size(self, graph_dir):
        """migrateImage reads .migration-diffid (digest.ParseDigest) and .migration-size (ParseInt)."""
        try:
            diff_id = _read(os.path.join(graph_dir, '.migration-diffid')).decode('utf-8', 'replace')
            size_text = _read(os.path.join(graph_dir, '.migration-size')).decode('utf-8', 'replace')
        except (IOError, OSError) as exc:
            raise _Failed('no checksum: %s' % exc)
        if not valid_digest(diff_id):
            raise _Failed('.migration-diffid holds %r, not a digest' % diff_id[:80])
        if not _INT64.match(size_text):
            raise _Failed('.migration-size holds %r, not a number' % size_text[:80])
        return diff_id, int(size_text)

    def _add_checksum(self, graph_dir, diff_id):
        try:
            checksum = _read(os.path.join(graph_dir, 'checksum')).decode('utf-8', 'replace')
        except (IOError, OSError):
            return
        if not valid_digest(checksum):
            return
        if diff_id not in self.plan.v2metadata:
            existing = None if self.fresh else read_v2metadata(self.root, self.driver, diff_id)
            self.plan.v2metadata[diff_id] = existing or []
        self.plan.v2metadata[diff_id] = add_v2metadata(self.plan.v2metadata[diff_id], checksum)
        self.plan.digest_to_diffid.append((checksum, diff_id))

    # containers -----------------------------------------------------------------------------------
    def run_containers(self):
        """migrateContainers; returns False when it stops early (then migrateRefs does not run)."""
        base = os.path.join(self.root, 'containers')
        try:
            names = sorted(os.listdir(base))
        except OSError:
            return True
        for name in names:
            directory = os.path.join(base, name)
            if os.path.exists(os.path.join(directory, CONTAINER_CONFIG_V2)):
                self.plan.containers.append(ContainerOutcome(name, ALREADY))
                continue
            try:
                members = object_members(_read(os.path.join(directory, CONTAINER_CONFIG_LEGACY)))
            except (IOError, OSError, GoJSONError) as exc:
                self.plan.containers.append(ContainerOutcome(name, SKIPPED, error='config.json: %s' % exc))
                continue
            if 'Image' not in members or members['Image'] is None:
                why = 'no Image' if 'Image' not in members else 'Image is null (Docker 1.10.3 panics)'
                self.plan.problem('container_config_invalid', name,
                                  '%s in config.json: Docker 1.10.3 stops migrating containers here and never '
                                  'migrates the tags' % why)
                self.plan.containers.append(ContainerOutcome(name, FAILED, error=why))
                return False
            try:
                legacy_image = parse(members['Image'].raw)
            except GoJSONError:
                legacy_image = None
            if legacy_image is None or legacy_image.kind != 'string':
                self.plan.containers.append(ContainerOutcome(name, SKIPPED, error='Image is not a string'))
                continue
            image = self.plan.mappings.get(legacy_image.value)
            if not image and legacy_image.value in self.left:
                self.plan.containers.append(ContainerOutcome(name, LEFT, error='its image is left to the daemon'))
                continue
            if not image:
                self.plan.containers.append(ContainerOutcome(name, SKIPPED, error='image %s was not migrated'
                                                             % legacy_image.value))
                self.plan.problem('container_not_migrated', name, 'image %s was not migrated' % legacy_image.value)
                continue
            members['Image'] = Raw(encode_string(image))
            config = self.image_config(image)
            try:
                if config is None:
                    raise ConfigError('image %s is not in the image store' % image)
                chain = chain_id(self.rootfs_and_history(image)[1])
            except ConfigError as exc:
                self.plan.problem('container_config_invalid', name, 'Docker 1.10.3 stops migrating containers '
                                  'here: %s' % exc)
                self.plan.containers.append(ContainerOutcome(name, FAILED, image, error=str(exc)))
                return False
            self.plan.container_configs.append((name, marshal(members)))
            outcome = ContainerOutcome(name, MIGRATED, image)
            outcome.error = self._mount(name, chain)
            outcome.mount = outcome.error is None
            if outcome.error:
                self.plan.problem('container_layer_missing', name, outcome.error)
            self.plan.containers.append(outcome)
        return True

    def _mount(self, name, chain):
        """CreateRWLayerByGraphID(name, name, chain): None when the mount exists or is planned."""
        if name in self.mounts:
            mount_id, parent = self.mounts[name]
            if parent != chain:
                return 'name conflict, mismatched parent'
            if mount_id != name:
                return 'mount already exists'
            return None
        if not graphdriver_exists(self.root, self.driver, name):
            return 'graph ID does not exist: %r' % name
        if chain and chain not in self.layers:
            return 'layer %s does not exist' % chain
        init_id = name + '-init' if graphdriver_exists(self.root, self.driver, name + '-init') else ''
        self.mounts[name] = (name, chain)
        self.plan.new_mounts.append((name, name, init_id, chain))
        return None

    # tags -----------------------------------------------------------------------------------------
    def run_tags(self, containers_done, leave_tags=False):
        existing_path = os.path.join(self.root, repositories_file(self.driver))
        existing = {}
        if os.path.exists(existing_path):
            try:
                existing = decode_repositories(_read(existing_path))
            except (IOError, OSError, GoJSONError) as exc:
                raise PlanError('%s: %s (Docker 1.10.3 would not start)' % (existing_path, exc))
        else:
            self.plan.repositories = render_repositories({})  # NewReferenceStore creates it
        if os.path.lexists(os.path.join(self.root, TAGS_MARKER)):
            self.plan.tags_already = True
            return
        if not containers_done or leave_tags:
            return
        legacy_path = os.path.join(self.root, 'repositories-%s' % self.driver)
        if not os.path.exists(legacy_path):
            return
        try:
            legacy = decode_repositories(_read(legacy_path))
        except (IOError, OSError, GoJSONError) as exc:
            self.plan.problem('tags_unreadable', legacy_path, '%s: Docker 1.10.3 migrates no tag' % exc)
            return
        repositories, self.plan.tags = migrate_refs(legacy, self.plan.mappings, existing)
        self.plan.tags_migrated = True
        if any(tag.added for tag in self.plan.tags):
            self.plan.repositories = render_repositories(repositories)
        for tag in self.plan.tags:
            if not tag.added:
                self.plan.problem('tag_not_migrated', tag.legacy, tag.reason)


def plan_migration(docker_root, driver_name, leave_pending=False):
    """The Plan of Docker 1.10.3's migration of docker_root for driver_name, given what is there
    already. Raises PlanError when the daemon's migration would not run at all.

    leave_pending: when some layers still lack checksum files (plan.pending_layers), their images are
    left for the daemon to migrate at its first start, and so are all the tags (migrated once only, they
    must wait until every image they may point at is migrated)."""
    planner = _Planner(docker_root, driver_name, leave_pending=leave_pending)
    if not os.path.lexists(os.path.join(docker_root, 'graph')):
        planner.plan.no_graph = True
        return planner.plan
    planner.run_images()
    for outcome in planner.plan.images:
        if outcome.status == FAILED:
            planner.plan.problem('image_not_migrated', outcome.v1_id, outcome.error)
    containers_done = planner.run_containers()
    planner.run_tags(containers_done, leave_tags=leave_pending and bool(planner.plan.pending_layers))
    return planner.plan


def predict_image_ids(docker_root):
    """{v1 id: (image ID, chain ID)} as Docker 1.10.3 would assign them to a store migrated from
    scratch; (None, None) for an image it would not migrate (a layer of its chain without valid
    checksum files, an unreadable json, a config Docker rejects...). Reads graph/ only."""
    planner = _Planner(docker_root, '', fresh=True)
    try:
        planner.run_images()
    except PlanError:
        return {}
    return dict((outcome.v1_id, (outcome.image_id, outcome.chain_id) if outcome.status == MIGRATED else (None, None))
                for outcome in planner.plan.images)
