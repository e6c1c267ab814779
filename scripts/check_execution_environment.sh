#!/usr/bin/env bash
# The execution environment without a container engine: `ansible-builder create` writes the build context
# from docs/execution-environment/execution-environment.yml and the built tarball, and `ansible-builder
# introspect` reads meta/execution-environment.yml from an installed copy (docs/execution-environment.md).
#   bash scripts/check_execution_environment.sh build/fleetops-docker_upgrade-X.Y.Z.tar.gz
# shellcheck disable=SC1091,SC2154  # top and venv come from common.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$top"
export PATH="$venv/bin:$PATH"

tarball=${1:?usage: $0 build/fleetops-docker_upgrade-X.Y.Z.tar.gz}
work=$(mktemp -d "${TMPDIR:-/tmp}/fleetops-ee.XXXXXX")
trap 'rm -rf "$work"' EXIT

cp docs/execution-environment/execution-environment.yml "$work/"
cp "$tarball" "$work/fleetops-docker_upgrade.tar.gz"
(cd "$work" && ansible-builder create -f execution-environment.yml -c context --output-filename Containerfile)
context="$work/context"
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$context/Containerfile" ] || fail "ansible-builder create wrote no Containerfile"
cmp -s "$tarball" "$context/_build/collections/fleetops-docker_upgrade.tar.gz" || fail "the build context lacks the collection tarball"
grep -q '/build/collections/fleetops-docker_upgrade.tar.gz' "$context/_build/requirements.yml" || fail "requirements.yml does not install the tarball"
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$context/Containerfile" || fail "the Containerfile installs no collections"
grep -q 'ANSIBLE_INSTALL_REFS="ansible-core>=2.15,<2.20 ansible-runner"' "$context/Containerfile" || fail "the Containerfile does not pin ansible-core"
grep -q 'introspect' "$context/Containerfile" || fail "the Containerfile does not read the collections' dependencies"

# What the image's introspection step will find in the installed collection.
ansible-galaxy collection install --offline -p "$work/collections" "$tarball" >/dev/null
ansible-builder introspect "$work/collections" --sanitize > "$work/introspect.txt"
cat "$work/introspect.txt"
grep -q 'openssh-client \[platform:dpkg\].*fleetops.docker_upgrade' "$work/introspect.txt" || fail "introspect does not find the ssh client of meta/execution-environment.yml"
echo "execution environment: ok"
