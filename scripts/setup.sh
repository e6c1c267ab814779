#!/usr/bin/env bash
# Sets up everything the demo and the tests need on a Debian machine: Debian packages when missing,
# and the pinned controller environment in ./.venv. Safe to run again: it only installs what is missing.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

debian_packages=(tar-split debootstrap openssh-server openssh-client rsync git python3-venv)
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

# ansible-test and ansible-galaxy want the collection under ansible_collections/<namespace>/<name>.
# build/ansible_collections/fleetops/docker_upgrade mirrors the working tree (tracked and new files).
layout=build/ansible_collections/fleetops/docker_upgrade
mkdir -p "$layout"
rsync -a --delete --exclude-from=<(printf '%s\n' /.venv /build /.git /.cache '__pycache__' /tests/output) ./ "$layout/"
