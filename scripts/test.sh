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

step "execution environment: ansible-builder create and introspect (scripts/check_execution_environment.sh)"
bash scripts/check_execution_environment.sh build/fleetops-docker_upgrade-*.tar.gz

step "antsibull-docs lint-collection-docs (plugin docs, docs/docsite/)"
(cd "$layout" && ANSIBLE_COLLECTIONS_PATH="$collections_root" antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs=all .)

step "antsibull-changelog lint (changelogs/fragments/)"
(cd "$layout" && antsibull-changelog lint)

if compgen -G "extensions/molecule/*/molecule.yml" >/dev/null; then
    step "molecule scenarios over the simulated fleet (tests/fleet, docs/fleet.md)"
    # From the collection root: molecule then takes its scenarios and their base config
    # (extensions/molecule/config.yml) from extensions/molecule/. The playbooks find the collection
    # in the layout setup.sh filled.
    FLEETOPS_COLLECTIONS_ROOT="$collections_root" ANSIBLE_COLLECTIONS_PATH="$collections_root" molecule test --all
fi

# After the molecule scenarios: the simulated host it boots reuses the fleet cache they built.
step "installed collection: tarball install, file list, ansible-doc, premigrate playbook (scripts/check_installed_collection.sh)"
bash scripts/check_installed_collection.sh build/fleetops-docker_upgrade-*.tar.gz

step "all tests passed"
