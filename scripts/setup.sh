#!/usr/bin/env bash
# Sets up everything the demo and the tests need on a Debian machine: Debian packages when missing,
# and the pinned controller environment in ./.venv. Safe to run again: it only installs what is missing.
# shellcheck disable=SC1091,SC2154  # top, venv, layout and collections_root come from common.sh
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$top"

# (shellcheck runs ansible-test's shellcheck sanity test, which is skipped without it; chromium renders the
# HTML migration report in tests/unit/plugins/callback/test_migration_report_html_browser.py)
debian_packages=(tar-split debootstrap openssh-server openssh-client rsync git python3-venv shellcheck chromium)
missing=()
for pkg in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The venv is rebuilt only when requirements-dev.txt changes.
stamp=.venv/.requirements-sha256
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating .venv from requirements-dev.txt"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r requirements-dev.txt
    echo "$want" > "$stamp"
fi

# The collection layout mirrors the working tree (tracked and new files), see common.sh.
mkdir -p "$layout"
rsync -a --delete --exclude-from=<(printf '%s\n' /.venv /build /.git /.cache '__pycache__' /tests/output .pytest_cache) ./ "$layout/"

# ansible-test downloads its pip bootstrap script from a host outside the package registries; give it
# ours for every pip version it may ask for (see scripts/ansible-test/get_pip_offline.py).
pip_versions=$(grep -ho "^ *pip='[0-9.]*'" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py \
    | grep -o "[0-9][0-9.]*" | sort -u)
mkdir -p "$HOME/.ansible/test/cache"
for version in $pip_versions; do
    cache="$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
    cmp -s scripts/ansible-test/get_pip_offline.py "$cache" || cp scripts/ansible-test/get_pip_offline.py "$cache"
done
