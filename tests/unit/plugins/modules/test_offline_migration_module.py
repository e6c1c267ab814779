"""The offline_migration module as Ansible runs it (AnsiballZ, its module_utils, on localhost)."""
import json
import os
import sys

from test_modules_through_ansible import ansible_env, run_module  # noqa: F401  pylint: disable=unused-import

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils"))
from migrator_helpers import migrate  # noqa: E402  pylint: disable=wrong-import-position

NO_DAEMON = {"socket_path": "/nonexistent/docker.sock", "pid_file": "/nonexistent/docker.pid"}


def test_offline_migration_module(ansible_env, legacy_graph):  # noqa: F811
    docker_root, manifest = legacy_graph("vfs")
    migrate(docker_root)  # the checksum pass, in process
    args = dict(NO_DAEMON, docker_root=str(docker_root))

    plan = run_module(ansible_env, "offline_migration", args, check=True)
    assert plan["changed"] is True and not plan["failed"], plan.get("msg")
    assert plan["storage_driver"] == "vfs"  # the only driver directory
    assert not os.path.exists(os.path.join(str(docker_root), "image"))

    result = run_module(ansible_env, "offline_migration", args)
    assert result["changed"] is True and not result["failed"], result.get("msg")
    assert result["mappings"] == plan["mappings"]
    assert result["images_migrated"] == len(manifest["layers"]) and result["problems"] == []
    with open(os.path.join(str(docker_root), ".migration-v1-images.json")) as stream:
        assert json.load(stream) == result["mappings"]
    assert sorted(result["tags"]) == sorted("%s:%s" % (repo, tag) for repo, tags in manifest["tags"].items()
                                            for tag in tags)

    again = run_module(ansible_env, "offline_migration", args)
    assert again["changed"] is False and not again["failed"]
