"""Make the collection importable as ``ansible_collections.fleetops.docker_upgrade`` from this checkout
(see tools/collection_import.py), and tools/ importable for the fixture builders."""
import sys
from pathlib import Path

COLLECTION_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(COLLECTION_ROOT))

from tools.collection_import import register_collection_namespace  # noqa: E402

register_collection_namespace()
