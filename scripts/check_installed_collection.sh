#!/usr/bin/env bash
# The collection as users get it: installs the built tarball with ansible-galaxy into an empty collections
# path, checks its file list (no test-only trees), runs ansible-doc for every module, the callback and the
# role of the installed copy, and runs the installed fleetops.docker_upgrade.premigrate playbook against one
# host of the simulated fleet (tests/fleet, docs/fleet.md) with the migration report on.
#   bash scripts/check_installed_collection.sh build/fleetops-docker_upgrade-X.Y.Z.tar.gz
# shellcheck disable=SC1091,SC2154  # top and venv come from common.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$top"
export PATH="$venv/bin:$PATH"

tarball=${1:?usage: $0 build/fleetops-docker_upgrade-X.Y.Z.tar.gz}
work=$(mktemp -d "${TMPDIR:-/tmp}/fleetops-installed.XXXXXX")
fleet="${FLEET_NAME:-installed}-installed"
cleanup() {
    python -m tests.fleet destroy --fleet "$fleet" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# Only the installed copy: no checkout, no collections under the user's home or in site-packages.
export ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false ANSIBLE_ROLES_PATH="$work/roles"
export ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_NOCOLOR=1
ansible-galaxy collection install --offline -p "$work/collections" "$tarball"
installed="$work/collections/ansible_collections/fleetops/docker_upgrade"

echo "installed files:"
(cd "$installed" && find . -type f | sort | sed 's|^\./|  |')
forbidden=(tests/fleet tests/unit tests/conftest.py tests/output extensions tools requirements-dev.txt .ci scripts .venv .cache)
found=0
for path in "${forbidden[@]}"; do
    if [ -e "$installed/$path" ] || tar -tzf "$tarball" | grep -q "^$path\(/\|$\)"; then
        echo "FAIL: the tarball ships the test-only $path (galaxy.yml build_ignore)" >&2
        found=1
    fi
done
[ "$found" -eq 0 ]
for path in plugins/callback/migration_report.py plugins/plugin_utils/migration_report/html_report.py \
    roles/engine_upgrade/meta/argument_specs.yml playbooks/premigrate.yml bin/fleetops-migrator meta/runtime.yml; do
    [ -f "$installed/$path" ] || { echo "FAIL: the installed copy lacks $path" >&2; exit 1; }
done

echo "ansible-doc of the installed copy:"
for module in "$installed"/plugins/modules/*.py; do
    name=fleetops.docker_upgrade.$(basename "$module" .py)
    ansible-doc -t module "$name" | grep -q "^> MODULE .*$name" || { echo "FAIL: ansible-doc -t module $name" >&2; exit 1; }
    echo "  module $name"
done
ansible-doc -t callback fleetops.docker_upgrade.migration_report | grep -q "migration-report.html"
echo "  callback fleetops.docker_upgrade.migration_report"
ansible-doc -t role fleetops.docker_upgrade.engine_upgrade | grep -q "ENTRY POINT: .*main"
echo "  role fleetops.docker_upgrade.engine_upgrade"

echo "the installed premigrate playbook on one simulated host:"
python -m tests.fleet create --fleet "$fleet" --hosts docker-overlay --inventory "$work/inventory.json"
ANSIBLE_HOST_KEY_CHECKING=false ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 \
    ANSIBLE_CALLBACKS_ENABLED=fleetops.docker_upgrade.migration_report MIGRATION_REPORT_DIR="$work/reports" \
    ansible-playbook -i "$work/inventory.json" fleetops.docker_upgrade.premigrate
python - "$work/reports/migration-report.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1], encoding='utf-8'))
statuses = dict((name, entry['status']) for name, entry in report['hosts'].items())
computed = sum(entry['layers_computed'] + entry['layers_cached'] for entry in report['hosts'].values())
assert statuses == {'docker-overlay': 'ok'} and computed > 0, (statuses, computed)
print('  report: %s, %d layers checksummed' % (statuses, computed))
EOF
[ -s "$work/reports/migration-report.html" ]
echo "installed collection: ok"
