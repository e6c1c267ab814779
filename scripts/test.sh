#!/usr/bin/env bash
# Sets everything up and runs every test: unit tests, ansible-test sanity, ansible-lint, vermin,
# the collection build and the molecule scenarios. Fails on the first failure.
# shellcheck disable=SC1091,SC2154  # top, venv, layout and collections_root come from common.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$top"
bash scripts/setup.sh
export PATH="$venv/bin:$PATH"

step() { printf '\n==== %s\n' "$*"; }

step "pytest: unit tests"
# pytest exits 5 when it collects nothing, so an empty run fails here too.
python -m pytest -q tests/unit

step "vermin: managed-node code must run on Python 3.6+"
vermin -t=3.6- --no-tips --violations --eval-annotations plugins/modules plugins/module_utils

step "ansible-test sanity (local venv, no containers)"
(cd "$layout" && ansible-test sanity --venv --python 3.11 --color no)

step "ansible-lint (production profile)"
# with the collection importable, so that lint resolves (and checks the arguments of) our own modules
ANSIBLE_COLLECTIONS_PATH="$collections_root" ansible-lint --profile production --offline roles playbooks

step "ansible-galaxy collection build"
mkdir -p build
ansible-galaxy collection build --force --output-path build "$layout"
ls -l build/fleetops-docker_upgrade-*.tar.gz

if compgen -G "extensions/molecule/*/molecule.yml" >/dev/null; then
    step "molecule scenarios over the simulated fleet (tests/fleet, docs/fleet.md)"
    # From the collection root: molecule then takes its scenarios and their base config
    # (extensions/molecule/config.yml) from extensions/molecule/. The playbooks find the collection
    # in the layout setup.sh filled.
    FLEETOPS_COLLECTIONS_ROOT="$collections_root" ANSIBLE_COLLECTIONS_PATH="$collections_root" molecule test --all
fi
step "all tests passed"
