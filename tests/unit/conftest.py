# Copyright (c) 2026 fleetops contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures: real layer tars, and Docker 1.9 stores built from them (see docs/test-fixtures.md).

- ``tar_corpus``: session-scoped directory (pathlib.Path) of the synthetic layer tars and their
  ``corpus.json`` (tools/layer_tars.py); ``tar_corpus_info`` is that corpus.json as a dict, with
  absolute paths.
- ``realistic_tar_corpus``: session-scoped directory of layers cut from this machine's files
  (about 6 MiB), built only when a test asks for it.
- ``legacy_graph``: a factory ``legacy_graph(driver='overlay', layers=None, tags=None,
  containers=None, tarsplit=True, corpus='synthetic', **kwargs)`` returning ``(docker_root,
  manifest)``: a fresh docker root (pathlib.Path) built by tools/legacy_graph.py and its manifest
  dict (also written next to the docker root as manifest.json).
"""

import os
import shutil
import sys

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from tools import layer_tars  # noqa: E402  pylint: disable=wrong-import-position
from tools import legacy_graph as legacy_graph_tool  # noqa: E402  pylint: disable=wrong-import-position


def _require_corpus_tools():
    if os.geteuid() != 0:
        pytest.skip('building the layer tar corpus needs root (device nodes, owners, security.capability)')
    if not shutil.which('tar'):
        pytest.skip('GNU tar is not installed')


@pytest.fixture(scope='session')
def tar_corpus(tmp_path_factory):
    """Directory of the synthetic layer tars (built once per session, in well under a second)."""
    _require_corpus_tools()
    directory = tmp_path_factory.mktemp('tar-corpus')
    layer_tars.build_synthetic_corpus(directory)
    return directory


@pytest.fixture(scope='session')
def tar_corpus_info(tar_corpus):
    """corpus.json of tar_corpus: {'tars': {name: {path, diff_id, format, ...}}, 'chain': [...], ...}."""
    return layer_tars.load_corpus(tar_corpus)


@pytest.fixture(scope='session')
def realistic_tar_corpus(tmp_path_factory):
    """Directory of layers cut from this machine's files (about 6 MiB in all)."""
    _require_corpus_tools()
    directory = tmp_path_factory.mktemp('realistic-corpus')
    layer_tars.build_realistic_corpus(directory, total_mb=6)
    return directory


@pytest.fixture
def legacy_graph(request, tmp_path_factory):
    """Factory: legacy_graph(driver, layers=..., tags=..., containers=..., tarsplit=...) -> (root, manifest).

    layers default to the corpus chain; entries may also be names of corpus tars, (name, tar) pairs,
    or dicts {name, tar, parent, tarsplit}. tags and containers default to
    legacy_graph_tool.default_tags/default_containers ([] or {} for none). tarsplit is True, False
    or {layer name: bool}. corpus is 'synthetic', 'realistic' or a load_corpus dict.
    """
    if not shutil.which('tar-split'):
        pytest.skip('tar-split is not installed (Debian package tar-split)')

    def build(driver='overlay', layers=None, tags=None, containers=None, tarsplit=True, corpus='synthetic',
              **kwargs):
        if corpus == 'synthetic':
            corpus = layer_tars.load_corpus(request.getfixturevalue('tar_corpus'))
        elif corpus == 'realistic':
            corpus = layer_tars.load_corpus(request.getfixturevalue('realistic_tar_corpus'))
        base = tmp_path_factory.mktemp('legacy-%s' % driver)
        docker_root = base / 'docker'
        manifest = legacy_graph_tool.build_legacy_graph(
            str(docker_root), driver, layers=layers, tags=tags, containers=containers, tarsplit=tarsplit,
            corpus=corpus, manifest_path=str(base / 'manifest.json'), **kwargs)
        return docker_root, manifest

    return build
