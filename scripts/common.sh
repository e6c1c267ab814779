# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this file
# Shared by the scripts: where things live. Source it, don't run it.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# ansible-test and ansible-galaxy want the collection under ansible_collections/<namespace>/<name>,
# outside this git checkout (ansible-test would otherwise list files through this repo's git and
# skip the ignored copy).
collections_root="${FLEETOPS_COLLECTIONS_ROOT:-${TMPDIR:-/tmp}/fleetops-docker_upgrade-collections}"
layout="$collections_root/ansible_collections/fleetops/docker_upgrade"
venv="$top/.venv"
