# -*- coding: utf-8 -*-
# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which legacy tags Docker 1.10.3 migrates, under which name, and the repositories.json it writes.

From moby v1.10.3: migrate/v1/migratev1.go ``migrateRefs`` (every name and tag of
``repositories-<driver>`` whose image was migrated; a tag that parses as a digest becomes a digest
reference), reference/reference.go (``WithName``: ``normalize`` drops ``docker.io/``,
``index.docker.io/`` and ``library/``, rejects upper case outside the host and 64-hex names;
``WithTag``; ``WithDigest``), the vendored distribution/reference/regexp.go and reference.go (the
grammar, 255 characters at most), distribution/digest (``ParseDigest``) and reference/store.go
(``addReference``: never overwrites an existing reference; the file is ``json.Marshal`` of the store:
``{"Repositories":{name:{reference:image ID}}}``, keys sorted).

Docker walks the legacy maps in Go's random map order; a clash (two legacy names normalising to one
reference) is therefore decided at random by Docker and in sorted order here, and reported.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import re

from ansible_collections.fleetops.docker_upgrade.plugins.module_utils._migrate_v1.go_json import (
    NULL, OBJECT, STRING, GoJSONError, marshal, parse_stream_value)

DEFAULT_HOSTNAME = 'docker.io'
LEGACY_DEFAULT_HOSTNAME = 'index.docker.io'
DEFAULT_REPO_PREFIX = 'library/'
NAME_TOTAL_LENGTH_MAX = 255

_ALNUM = r'[a-z0-9]+'
_SEPARATOR = r'(?:[._]|__|[-]*)'
_NAME_COMPONENT = _ALNUM + r'(?:' + _SEPARATOR + _ALNUM + r')*'
_HOST_COMPONENT = r'(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])'
_HOSTNAME = _HOST_COMPONENT + r'(?:\.' + _HOST_COMPONENT + r')*(?::[0-9]+)?'
_ANCHORED_NAME = re.compile(r'(?:' + _HOSTNAME + r'/)?' + _NAME_COMPONENT + r'(?:/' + _NAME_COMPONENT + r')*\Z')
_ANCHORED_TAG = re.compile(r'[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}\Z')  # Go's \w is ASCII
_ANCHORED_DIGEST_REFERENCE = re.compile(r'[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}\Z')
_DIGEST = re.compile(r'[a-zA-Z0-9_+.\-]+:[a-fA-F0-9]+\Z')
_DIGEST_HEX_LENGTH = {'sha256': 64, 'sha384': 96, 'sha512': 128}
_V1_ID = re.compile(r'[a-f0-9]{64}\Z')


class ReferenceRejected(ValueError):
    """Docker 1.10.3 rejects this name, tag or digest."""


def parse_digest(text):
    """distribution/digest ParseDigest: True when text is a digest Docker accepts."""
    if not _DIGEST.match(text):
        return False
    algorithm, _sep, hex_part = text.partition(':')
    return _DIGEST_HEX_LENGTH.get(algorithm) == len(hex_part)


def _split_hostname(name):
    slash = name.find('/')
    if slash == -1 or ('.' not in name[:slash] and ':' not in name[:slash] and name[:slash] != 'localhost'):
        hostname, remote = DEFAULT_HOSTNAME, name
    else:
        hostname, remote = name[:slash], name[slash + 1:]
    if hostname == LEGACY_DEFAULT_HOSTNAME:
        hostname = DEFAULT_HOSTNAME
    if hostname == DEFAULT_HOSTNAME and '/' not in remote:
        remote = DEFAULT_REPO_PREFIX + remote
    return hostname, remote


def normalize_name(name):
    """reference.WithName: the repository name Docker 1.10.3 stores, or ReferenceRejected."""
    hostname, remote = _split_hostname(name)
    if remote.lower() != remote:
        raise ReferenceRejected('invalid reference format: repository name must be lowercase')
    if hostname == DEFAULT_HOSTNAME:
        name = remote[len(DEFAULT_REPO_PREFIX):] if remote.startswith(DEFAULT_REPO_PREFIX) else remote
    if _V1_ID.match(name):
        raise ReferenceRejected('Invalid repository name (%s), cannot specify 64-byte hexadecimal strings' % name)
    if len(name) > NAME_TOTAL_LENGTH_MAX:
        raise ReferenceRejected('repository name must not be more than %d characters' % NAME_TOTAL_LENGTH_MAX)
    if not _ANCHORED_NAME.match(name):
        raise ReferenceRejected('invalid reference format')
    return name


def reference_for(name, tag):
    """The reference string migrateRefs adds for a legacy (name, tag): 'name:tag' or
    'name@digest', with the name normalised. Raises ReferenceRejected."""
    name = normalize_name(name)
    if parse_digest(tag):
        if not _ANCHORED_DIGEST_REFERENCE.match(tag):
            raise ReferenceRejected('invalid digest format')
        separator = '@'
    else:
        if not _ANCHORED_TAG.match(tag):
            raise ReferenceRejected('invalid tag format')
        separator = ':'
    if name == 'sha256':
        raise ReferenceRejected('refusing to create an ambiguous tag using digest algorithm as name')
    return name, '%s%s%s' % (name, separator, tag)


def _string_map(node, what):
    if node.kind == NULL:
        return None
    if node.kind != OBJECT:
        raise GoJSONError('%s is not an object' % what)
    result = {}
    for key, child in node.value:
        if child.kind == NULL:
            result[key] = ''
        elif child.kind == STRING:
            result[key] = child.value
        else:
            raise GoJSONError('%s: %s is not a string' % (what, key))
    return result


def decode_repositories(data):
    """json.NewDecoder(...).Decode into {"Repositories": map[string]map[string]string}, as both
    repositories-<driver> and repositories.json are read: {name: {key: value} or None}. The key matches
    case-insensitively; a repeated name replaces the earlier one, a repeated Repositories key adds to
    the map. Raises GoJSONError where Go's decoder fails."""
    node = parse_stream_value(data)
    if node.kind == NULL:
        return {}
    if node.kind != OBJECT:
        raise GoJSONError('not a JSON object')
    repositories = {}
    for key, child in node.value:
        if _fold_key(key) != 'repositories':
            continue
        if child.kind == NULL:
            repositories = {}
            continue
        if child.kind != OBJECT:
            raise GoJSONError('Repositories is not an object')
        for name, refs in child.value:
            repositories[name] = _string_map(refs, 'repository %s' % name)
    return repositories


def _fold_key(key):
    """A key as Go's case-insensitive field match sees it (see _image_ids._fold)."""
    key = key.replace(u'\u017f', u's').replace(u'\u212a', u'k')
    try:
        key.encode('ascii')
    except UnicodeEncodeError:
        return None
    return key.lower()


def render_repositories(repositories):
    """repositories.json as reference/store.go save() writes it."""
    return marshal({'Repositories': dict((name, dict(refs or {})) for name, refs in repositories.items())})


class TagOutcome(object):
    __slots__ = ('legacy', 'reference', 'image_id', 'added', 'reason')

    def __init__(self, legacy, reference, image_id, added, reason=None):
        self.legacy = legacy
        self.reference = reference
        self.image_id = image_id
        self.added = added
        self.reason = reason

    def as_dict(self):
        return dict(legacy=self.legacy, reference=self.reference, image_id=self.image_id, added=self.added,
                    reason=self.reason)


def migrate_refs(legacy, mappings, existing):
    """migrateRefs over legacy ({name: {tag: v1 id}}) with mappings ({v1 id: image ID}) on top of the
    existing reference store ({name: {reference: image ID}}). Returns (repositories after, [TagOutcome]).
    Tags whose image was not migrated are reported with added=False and no reference."""
    repositories = dict((name, dict(refs or {})) for name, refs in existing.items())
    outcomes = []
    for name in sorted(legacy):
        for tag, v1_id in sorted((legacy[name] or {}).items()):
            label = '%s%s%s' % (name, '@' if parse_digest(tag) else ':', tag)
            image = mappings.get(v1_id)
            if not image:
                outcomes.append(TagOutcome(label, None, None, False, 'image %s was not migrated' % v1_id))
                continue
            try:
                repo, reference = reference_for(name, tag)
            except ReferenceRejected as exc:
                outcomes.append(TagOutcome(label, None, image, False, str(exc)))
                continue
            refs = repositories.setdefault(repo, {})
            if reference in refs:
                why = 'Cannot overwrite digest' if '@' in reference else 'Conflict: tag is already set to image %s' % refs[reference]
                outcomes.append(TagOutcome(label, reference, image, False, why))
                continue
            refs[reference] = image
            outcomes.append(TagOutcome(label, reference, image, True))
    return repositories, outcomes
