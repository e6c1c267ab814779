#!/usr/bin/env bash
# The README's first command: set everything up and run the main job.
# Main job: the simulated Docker 1.9 fleet of tests/fleet/ (three Debian hosts in namespaces, reached over
# SSH, with stand-in docker-engine packages; built once, cached under .cache/fleet/) is upgraded by the
# collection's rolling upgrade playbook with the migration_report callback on; the fleet report is printed,
# then each host's downtime with and without pre-migration on the same data. Needs root.
# shellcheck disable=SC1091,SC2154  # top, venv, layout and collections_root come from common.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$top"
bash scripts/setup.sh
export PATH="$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$collections_root"
exec python -m tests.fleet demo "$@"
