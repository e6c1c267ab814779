# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The image config and IDs Docker 1.10.3 gives a legacy image when it migrates it.

Reproduces, byte for byte, what moby v1.10.3 does in migrate/v1/migratev1.go ``migrateImage``:

- ``imagev1.HistoryFromConfig(json, false)`` (image/v1/imagev1.go): the v1 json decoded into the
  ``image.V1Image`` struct; the history entry is {created, author, created_by = the words of
  ``container_config.Cmd`` joined by one space, comment}; ``empty_layer`` is always false here.
- ``imagev1.MakeConfigFromV1Config(json, rootfs, history)`` (image/v1/imagev1.go): when
  ``docker_version`` is below 1.8.3 (pkg/version rules: numeric dot-separated parts, a part that is not
  a number counts 0) the json is first decoded into ``image.V1Image`` and marshalled again (struct field
  order, omitempty, unknown fields dropped); then it is decoded as ``map[string]*json.RawMessage``, the
  keys id, parent, Size, parent_id, layer_id and throwaway are deleted (exact case), ``rootfs`` and
  ``history`` are set, and the map is marshalled (keys sorted, values compacted: see _go_json).
- image ID: ``sha256:`` + SHA-256 of those bytes (image/fs.go ``Set``).
- chain IDs: layer/layer.go ``CreateChainID``: the base layer's is its diffID, each next one is the
  SHA-256 of ``"<parent chain ID> <diffID>"``.

The structs are those of moby v1.10.3: image/image.go (V1Image, Image, History), image/rootfs_unix.go
(RootFS) and the vendored engine-api types/container/config.go (Config) with types/strslice (StrSlice:
a JSON string or array of strings). Decoding follows Go 1.5's encoding/json: keys match fields exactly
first, then case-insensitively; unknown keys are skipped; null leaves strings, bools, numbers and
structs as they were and sets maps, slices and pointers to nil; any type mismatch is an error (then
Docker fails that image, and so do we).
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import re

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.go_json import (
    ARRAY, FALSE, NULL, NUMBER, OBJECT, STRING, TRUE, ZERO_TIME, GoJSONError, GoTime, Raw, Struct,
    marshal, object_members, parse)

EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef'
# image/v1/imagev1.go noFallbackMinVersion
NO_FALLBACK_MIN_VERSION = '1.8.3'
# MakeConfigFromV1Config deletes exactly these keys (case-sensitive map keys).
DROPPED_KEYS = ('id', 'parent', 'Size', 'parent_id', 'layer_id', 'throwaway')


class ConfigError(ValueError):
    """Docker 1.10.3 could not build an image config from this v1 json (it fails the image)."""


def sha256_digest(data):
    return 'sha256:' + hashlib.sha256(data).hexdigest()


def chain_ids(diff_ids):
    """Chain ID of every prefix of diff_ids (layer/layer.go createChainIDFromParent)."""
    chains = []
    for diff_id in diff_ids:
        if not chains:
            chains.append(diff_id)
        else:
            chains.append(sha256_digest(('%s %s' % (chains[-1], diff_id)).encode('utf-8')))
    return chains


def chain_id(diff_ids):
    """Chain ID of the top layer, '' for no layers."""
    chains = chain_ids(diff_ids)
    return chains[-1] if chains else ''


def image_id(config_bytes):
    return sha256_digest(config_bytes)


# --------------------------------------------------------------------------------------------------
# Go types, and decoding a parsed JSON node into them as Go 1.5's encoding/json does

class Kind(object):
    STRING = 'string'
    BOOL = 'bool'
    INT64 = 'int64'
    TIME = 'time'                  # time.Time (an Unmarshaler: only an RFC 3339 string is accepted)
    STRSLICE = 'strslice'          # *strslice.StrSlice
    STRINGS = 'strings'            # []string
    MAP_STRING = 'map_string'      # map[string]string
    MAP_EMPTY = 'map_empty'        # map[string]struct{} (and nat.PortSet)
    STRUCT = 'struct'
    PTR_STRUCT = 'ptr_struct'
    STRUCTS = 'structs'            # []SomeStruct


class GoStruct(object):
    """A struct type: fields (json name, kind, omitempty, struct type for nested kinds)."""

    def __init__(self, name, fields):
        self.name = name
        self.fields = fields

    def zero(self):
        return dict((field[0], _zero(field[1], field[3] if len(field) > 3 else None)) for field in self.fields)

    def field_for(self, key):
        """Go 1.5 decode.go object(): an exact match wins, else the first case-insensitive match."""
        folded = _fold(key)
        candidate = None
        for field in self.fields:
            if field[0] == key:
                return field
            if candidate is None and folded is not None and folded == field[0].lower():
                candidate = field
        return candidate

    def to_marshal(self, values):
        fields = []
        for field in self.fields:
            name, kind, omitempty = field[0], field[1], field[2]
            fields.append((name, _to_marshal(kind, field[3] if len(field) > 3 else None, values[name]), omitempty))
        return Struct(fields)


def _fold(key):
    """A key as Go's fold functions compare it with an ASCII field name: ASCII letters ignoring case,
    plus U+017F (long s) for s and U+212A (Kelvin sign) for k; None when it cannot match any name."""
    key = key.replace(u'\u017f', u's').replace(u'\u212a', u'k')
    try:
        key.encode('ascii')
    except UnicodeEncodeError:
        return None
    return key.lower()


def _zero(kind, struct_type=None):
    if kind == Kind.STRING:
        return ''
    if kind == Kind.BOOL:
        return False
    if kind == Kind.INT64:
        return 0
    if kind == Kind.TIME:
        return ZERO_TIME
    if kind == Kind.STRUCT:
        return struct_type.zero()
    return None  # pointers, slices, maps: nil


def _type_error(node, kind):
    return ConfigError('cannot unmarshal %s into Go value of type %s' % (node.kind, kind))


def _decode(kind, struct_type, node, current):
    """The value Go stores when decoding node into a variable of kind holding current."""
    if kind == Kind.TIME:
        # time.Time is found as an Unmarshaler for every JSON value, null included (Go 1.5's
        # UnmarshalJSON has no special case for null: time.Parse fails on it).
        try:
            return GoTime.parse_json(node.raw)
        except GoJSONError as exc:
            raise ConfigError(str(exc))
    if kind == Kind.STRSLICE:
        return _decode_strslice(node)
    if node.kind == NULL:
        if kind in (Kind.STRINGS, Kind.MAP_STRING, Kind.MAP_EMPTY, Kind.PTR_STRUCT, Kind.STRUCTS):
            return None
        return current
    if kind == Kind.STRING:
        if node.kind != STRING:
            raise _type_error(node, 'string')
        return node.value
    if kind == Kind.BOOL:
        if node.kind not in (TRUE, FALSE):
            raise _type_error(node, 'bool')
        return node.kind == TRUE
    if kind == Kind.INT64:
        if node.kind != NUMBER or not re.match(r'-?[0-9]+\Z', node.value):
            raise _type_error(node, 'int64')
        number = int(node.value)
        if not -(1 << 63) <= number < (1 << 63):
            raise _type_error(node, 'int64')
        return number
    if kind in (Kind.STRINGS, Kind.STRUCTS):
        if node.kind != ARRAY:
            raise _type_error(node, 'slice')
        old = current or []
        items = []
        for index, child in enumerate(node.value):
            if kind == Kind.STRINGS:
                items.append(_decode(Kind.STRING, None, child, old[index] if index < len(old) else ''))
            else:
                start = old[index] if index < len(old) else struct_type.zero()
                items.append(_decode(Kind.STRUCT, struct_type, child, start))
        return items
    if kind in (Kind.MAP_STRING, Kind.MAP_EMPTY):
        if node.kind != OBJECT:
            raise _type_error(node, 'map')
        result = dict(current) if current is not None else {}
        for key, child in node.value:
            if kind == Kind.MAP_STRING:
                result[key] = _decode(Kind.STRING, None, child, '')  # Go zeroes the element each time
            else:
                if child.kind not in (OBJECT, NULL):
                    raise _type_error(child, 'struct {}')
                result[key] = {}
        return result
    if kind in (Kind.STRUCT, Kind.PTR_STRUCT):
        if node.kind != OBJECT:
            raise _type_error(node, struct_type.name)
        values = dict(current) if current is not None else struct_type.zero()
        for key, child in node.value:
            field = struct_type.field_for(key)
            if field is None:
                continue
            values[field[0]] = _decode(field[1], field[3] if len(field) > 3 else None, child, values[field[0]])
        return values
    raise AssertionError(kind)


def _decode_strslice(node):
    """strslice.StrSlice.UnmarshalJSON: an array of strings (null items give ''), or one string."""
    if node.kind == NULL:
        return None
    if node.kind == STRING:
        return [node.value]
    if node.kind == ARRAY:
        items = []
        for child in node.value:
            if child.kind == NULL:
                items.append('')
            elif child.kind == STRING:
                items.append(child.value)
            else:
                raise ConfigError('cannot unmarshal %s into a string list' % child.kind)
        return items
    raise ConfigError('cannot unmarshal %s into a string list' % node.kind)


def _to_marshal(kind, struct_type, value):
    if kind == Kind.STRUCT or (kind == Kind.PTR_STRUCT and value is not None):
        return struct_type.to_marshal(value)
    if kind == Kind.STRUCTS and value is not None:
        return [struct_type.to_marshal(item) for item in value]
    return value


# engine-api types/container/config.go (vendored in moby v1.10.3), in declaration order.
CONTAINER_CONFIG = GoStruct('container.Config', [
    ('Hostname', Kind.STRING, False),
    ('Domainname', Kind.STRING, False),
    ('User', Kind.STRING, False),
    ('AttachStdin', Kind.BOOL, False),
    ('AttachStdout', Kind.BOOL, False),
    ('AttachStderr', Kind.BOOL, False),
    ('ExposedPorts', Kind.MAP_EMPTY, True),
    ('PublishService', Kind.STRING, True),
    ('Tty', Kind.BOOL, False),
    ('OpenStdin', Kind.BOOL, False),
    ('StdinOnce', Kind.BOOL, False),
    ('Env', Kind.STRINGS, False),
    ('Cmd', Kind.STRSLICE, False),
    ('ArgsEscaped', Kind.BOOL, True),
    ('Image', Kind.STRING, False),
    ('Volumes', Kind.MAP_EMPTY, False),
    ('WorkingDir', Kind.STRING, False),
    ('Entrypoint', Kind.STRSLICE, False),
    ('NetworkDisabled', Kind.BOOL, True),
    ('MacAddress', Kind.STRING, True),
    ('OnBuild', Kind.STRINGS, False),
    ('Labels', Kind.MAP_STRING, False),
    ('StopSignal', Kind.STRING, True),
])

# image/image.go V1Image (ContainerConfig is a struct value: omitempty has no effect on it).
_V1_IMAGE_FIELDS = [
    ('id', Kind.STRING, True),
    ('parent', Kind.STRING, True),
    ('comment', Kind.STRING, True),
    ('created', Kind.TIME, False),
    ('container', Kind.STRING, True),
    ('container_config', Kind.STRUCT, False, CONTAINER_CONFIG),
    ('docker_version', Kind.STRING, True),
    ('author', Kind.STRING, True),
    ('config', Kind.PTR_STRUCT, True, CONTAINER_CONFIG),
    ('architecture', Kind.STRING, True),
    ('os', Kind.STRING, True),
    ('Size', Kind.INT64, True),
]
V1_IMAGE = GoStruct('image.V1Image', _V1_IMAGE_FIELDS)

# image/image.go History; image/rootfs_unix.go RootFS.
HISTORY = GoStruct('image.History', [
    ('created', Kind.TIME, False),
    ('author', Kind.STRING, True),
    ('created_by', Kind.STRING, True),
    ('comment', Kind.STRING, True),
    ('empty_layer', Kind.BOOL, True),
])
ROOTFS = GoStruct('image.RootFS', [
    ('type', Kind.STRING, False),
    ('diff_ids', Kind.STRINGS, True),
])
# image/image.go Image: V1Image embedded (its "parent" is shadowed by Image.Parent), then Parent,
# RootFS and History. Only decoded (the image store's Get), never marshalled from the struct.
IMAGE = GoStruct('image.Image', [field for field in _V1_IMAGE_FIELDS if field[0] != 'parent'] + [
    ('parent', Kind.STRING, True),
    ('rootfs', Kind.PTR_STRUCT, True, ROOTFS),
    ('history', Kind.STRUCTS, True, HISTORY),
])


def decode_struct(struct_type, data):
    """json.Unmarshal(data, &value) for a struct type; a dict of field values. Raises ConfigError."""
    try:
        node = parse(data)
    except GoJSONError as exc:
        raise ConfigError(str(exc))
    if node.kind == NULL:
        return struct_type.zero()
    return _decode(Kind.STRUCT, struct_type, node, struct_type.zero())


# --------------------------------------------------------------------------------------------------
# pkg/version

def _version_part(text):
    """strconv.Atoi as Docker's pkg/version uses it (errors ignored): a sign and digits, else 0;
    out of range clamps, as Go's ParseInt returns the clamped value with its error."""
    if not re.match(r'[-+]?[0-9]+\Z', text):
        return 0
    return max(-(1 << 63), min((1 << 63) - 1, int(text)))


def version_less_than(version, other):
    """pkg/version Version.LessThan."""
    mine = version.split('.')
    theirs = other.split('.')
    for index in range(max(len(mine), len(theirs))):
        left = _version_part(mine[index]) if index < len(mine) else 0
        right = _version_part(theirs[index]) if index < len(theirs) else 0
        if left != right:
            return left < right
    return False


# --------------------------------------------------------------------------------------------------
# The config

def history_entry(v1_image):
    """imagev1.HistoryFromConfig(json, emptyLayer=false) from a decoded V1Image."""
    cmd = v1_image['container_config']['Cmd']
    return dict(created=v1_image['created'], author=v1_image['author'],
                created_by=' '.join(cmd) if cmd else '', comment=v1_image['comment'], empty_layer=False)


def _raw_json(value):
    """migratev1/imagev1 rawJSON: json.Marshal, or a nil *RawMessage (JSON null) when Marshal fails."""
    try:
        return Raw(marshal(value))
    except GoJSONError:
        return None


def make_config(v1_json, v1_image, rootfs_type, diff_ids, history):
    """imagev1.MakeConfigFromV1Config. v1_json: the bytes of graph/<id>/json; v1_image: its decoded
    V1Image; rootfs_type and diff_ids: the image's RootFS (the parent's plus this layer); history:
    the entries (dicts of HISTORY fields), the parent's plus this one. Returns the config bytes."""
    if version_less_than(v1_image['docker_version'], NO_FALLBACK_MIN_VERSION):
        try:
            v1_json = marshal(V1_IMAGE.to_marshal(v1_image))
        except GoJSONError as exc:
            raise ConfigError(str(exc))
    try:
        members = object_members(v1_json)
    except GoJSONError as exc:
        raise ConfigError(str(exc))
    for key in DROPPED_KEYS:
        members.pop(key, None)
    members['rootfs'] = _raw_json(ROOTFS.to_marshal({'type': rootfs_type, 'diff_ids': list(diff_ids)}))
    members['history'] = _raw_json([HISTORY.to_marshal(entry) for entry in history])
    return marshal(members)


def decode_v1_image(v1_json):
    """The v1 json as Docker 1.10.3's V1Image (raises ConfigError where its json.Unmarshal fails)."""
    try:
        node = parse(v1_json)
    except GoJSONError as exc:
        raise ConfigError(str(exc))
    if node.kind != OBJECT:
        # a JSON null decodes, but MakeConfigFromV1Config then writes into a nil map: Docker panics.
        raise ConfigError('the v1 json is not an object')
    return _decode(Kind.STRUCT, V1_IMAGE, node, V1_IMAGE.zero())


def _rootfs_and_history(image):
    rootfs = image['rootfs']
    if rootfs is None:
        raise ConfigError('Invalid image JSON, no RootFS key.')
    return rootfs['type'], list(rootfs['diff_ids'] or []), list(image['history'] or [])


def image_rootfs_and_history(config_bytes):
    """What image.Store.Get gives a child's migration from its parent's config: (rootfs type,
    diff_ids, history entries). Raises ConfigError where NewFromJSON fails."""
    return _rootfs_and_history(decode_struct(IMAGE, config_bytes))


def check_create(config_bytes):
    """image/store.go Create: the config must decode as an Image and name no more non-empty layers
    in its history than its rootfs has. Raises ConfigError; returns the decoded Image."""
    image = decode_struct(IMAGE, config_bytes)
    diff_ids = (image['rootfs'] or {}).get('diff_ids') or []
    non_empty = sum(1 for entry in (image['history'] or []) if not entry['empty_layer'])
    if non_empty > len(diff_ids):
        raise ConfigError('too many non-empty layers in History section')
    return image


class ImageConfig(object):
    """The config of one migrated image and what derives from it. rootfs_and_history: what
    image_rootfs_and_history(config) gives, decoded once (a child needs it, and the decode grows
    with the chain)."""

    __slots__ = ('config', 'image_id', 'diff_ids', 'chain_id', 'rootfs_and_history')

    def __init__(self, config, diff_ids, rootfs_and_history):
        self.config = config
        self.image_id = image_id(config)
        self.diff_ids = list(diff_ids)
        self.chain_id = chain_id(self.diff_ids)
        self.rootfs_and_history = rootfs_and_history


def build_image_config(v1_json, diff_id, parent_config=None, parent=None):
    """migrateImage's config for a layer with diff_id whose parent image has the config bytes
    parent_config, or the already decoded parent = image_rootfs_and_history(parent_config); neither
    for a base layer. Raises ConfigError where Docker fails the image."""
    if parent is None and parent_config is not None:
        parent = image_rootfs_and_history(parent_config)
    rootfs_type, diff_ids, history = parent if parent is not None else ('layers', [], [])
    v1_image = decode_v1_image(v1_json)
    history = history + [history_entry(v1_image)]
    diff_ids = diff_ids + [diff_id]
    config = make_config(v1_json, v1_image, rootfs_type, diff_ids, history)
    created = check_create(config)
    return ImageConfig(config, diff_ids, _rootfs_and_history(created))
