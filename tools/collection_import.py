"""Make the collection importable as ``ansible_collections.fleetops.docker_upgrade`` from this checkout.

The repository is not laid out under ansible_collections/<namespace>/<name>, so tests and tools register
the namespace packages by hand, pointing at the checkout (plugins/ and module_utils/ are namespace
packages). When the collection is already importable from a real layout (ansible-test), that one is used.
"""
import os
import sys
import types

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def register_collection_namespace():
    try:
        import ansible_collections.fleetops.docker_upgrade  # noqa: F401
        return
    except ImportError:
        pass
    paths = {
        "ansible_collections": [],
        "ansible_collections.fleetops": [],
        "ansible_collections.fleetops.docker_upgrade": [COLLECTION_ROOT],
    }
    for name, path in paths.items():
        module = sys.modules.get(name) or types.ModuleType(name)
        module.__path__ = path
        sys.modules[name] = module
